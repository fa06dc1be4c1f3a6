//! The SQL92 expression tree and its printer.
//!
//! The tree mirrors what RocketMQ's parser builds, with three simplifications
//! that do not change meaning:
//! * parentheses and unary `+` leave no node;
//! * a chain `a AND b AND c` is one [`Expression::And`] with three operands
//!   (three-valued AND/OR with left-to-right short-circuit is associative), but
//!   a parenthesised operand stays a nested node;
//! * a property used where a boolean is required (`NOT a`, `a AND b`, a bare
//!   `a`) is a plain [`Expression::Property`]; the evaluator applies RocketMQ's
//!   boolean cast there.
//!
//! [`Display`](std::fmt::Display) prints an expression that parses back to the
//! same tree: every operand that is not a literal or a property is wrapped in
//! parentheses.

use std::fmt;

/// A literal as RocketMQ types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'`, with `''` standing for one quote.
    String(String),
    /// A decimal literal that fits a Java `int` (never negative: `-` is
    /// [`Expression::Negate`]).
    Int(i32),
    /// A decimal literal above `i32::MAX`, up to `i64::MAX` (`L` suffix allowed).
    Long(i64),
    /// A floating-point literal (`1.5`, `5.`, `.5`, `5E10`); finite and at least
    /// `f64` `MIN_VALUE` (4.9E-324), so `0.0` is refused like in Java.
    Double(f64),
    /// `TRUE` / `FALSE`.
    Bool(bool),
    /// `NULL`.
    Null,
}

/// `=`, `<>`, `>`, `>=`, `<`, `<=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// The operator as written in an expression.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
        }
    }

    /// True for the ordering operators, which RocketMQ only allows on numbers.
    pub fn is_ordering(self) -> bool {
        !matches!(self, CompareOp::Eq | CompareOp::Ne)
    }
}

/// `CONTAINS`, `STARTSWITH`, `ENDSWITH` (RocketMQ 5.x keywords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringOp {
    Contains,
    StartsWith,
    EndsWith,
}

impl StringOp {
    /// The keyword as written in an expression.
    pub fn keyword(self) -> &'static str {
        match self {
            StringOp::Contains => "CONTAINS",
            StringOp::StartsWith => "STARTSWITH",
            StringOp::EndsWith => "ENDSWITH",
        }
    }
}

/// A node of an SQL92 filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    Literal(Literal),
    /// A message property by name (`[A-Za-z_$][A-Za-z0-9_$]*`, not a keyword).
    Property(String),
    /// Unary minus.
    Negate(Box<Expression>),
    /// `NOT x`; note that `NOT` binds tighter than comparisons, so
    /// `NOT a = 'x'` is `(NOT a) = 'x'` as in RocketMQ.
    Not(Box<Expression>),
    /// Two or more operands joined by `AND`.
    And(Vec<Expression>),
    /// Two or more operands joined by `OR`.
    Or(Vec<Expression>),
    Compare {
        op: CompareOp,
        left: Box<Expression>,
        right: Box<Expression>,
    },
    /// `x IS NULL` / `x IS NOT NULL`.
    IsNull {
        operand: Box<Expression>,
        negated: bool,
    },
    /// `x [NOT] BETWEEN low AND high`.
    Between {
        operand: Box<Expression>,
        low: Box<Expression>,
        high: Box<Expression>,
        negated: bool,
    },
    /// `property [NOT] IN ('a', 'b', ...)`: only a property on the left, only
    /// string literals in the list.
    In {
        property: String,
        values: Vec<String>,
        negated: bool,
    },
    /// `x [NOT] CONTAINS|STARTSWITH|ENDSWITH 'text'`.
    StringMatch {
        op: StringOp,
        operand: Box<Expression>,
        pattern: String,
        negated: bool,
    },
}

impl Expression {
    /// True for nodes RocketMQ treats as boolean expressions (the ones allowed
    /// as operands of `AND`, `OR`, `NOT` and as a whole selector, besides a
    /// property).
    pub fn is_boolean(&self) -> bool {
        match self {
            Expression::Literal(literal) => matches!(literal, Literal::Bool(_) | Literal::Null),
            Expression::Property(_) | Expression::Negate(_) => false,
            _ => true,
        }
    }

    fn is_atomic(&self) -> bool {
        matches!(self, Expression::Literal(_) | Expression::Property(_))
    }
}

/// Writes `s` as a single-quoted literal, doubling quotes.
pub(crate) fn write_string_literal(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for (i, piece) in s.split('\'').enumerate() {
        if i > 0 {
            f.write_str("''")?;
        }
        f.write_str(piece)?;
    }
    f.write_str("'")
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::String(s) => write_string_literal(f, s),
            Literal::Int(v) => write!(f, "{v}"),
            Literal::Long(v) => write!(f, "{v}"),
            // `{:?}` is the shortest text that reads back to the same value and
            // always has a `.` or an exponent, so it lexes as a float literal.
            Literal::Double(v) => write!(f, "{v:?}"),
            Literal::Bool(true) => f.write_str("TRUE"),
            Literal::Bool(false) => f.write_str("FALSE"),
            Literal::Null => f.write_str("NULL"),
        }
    }
}

/// Prints an operand, in parentheses unless it is a literal or a property.
struct Operand<'a>(&'a Expression);

impl fmt::Display for Operand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_atomic() {
            write!(f, "{}", self.0)
        } else {
            write!(f, "({})", self.0)
        }
    }
}

fn write_joined(f: &mut fmt::Formatter<'_>, operands: &[Expression], keyword: &str) -> fmt::Result {
    for (i, operand) in operands.iter().enumerate() {
        if i > 0 {
            write!(f, " {keyword} ")?;
        }
        write!(f, "{}", Operand(operand))?;
    }
    Ok(())
}

fn not_keyword(negated: bool) -> &'static str {
    if negated { "NOT " } else { "" }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expression::Literal(literal) => write!(f, "{literal}"),
            Expression::Property(name) => f.write_str(name),
            Expression::Negate(inner) => write!(f, "-{}", Operand(inner)),
            Expression::Not(inner) => write!(f, "NOT {}", Operand(inner)),
            Expression::And(operands) => write_joined(f, operands, "AND"),
            Expression::Or(operands) => write_joined(f, operands, "OR"),
            Expression::Compare { op, left, right } => {
                write!(f, "{} {} {}", Operand(left), op.symbol(), Operand(right))
            }
            Expression::IsNull { operand, negated } => {
                write!(f, "{} IS {}NULL", Operand(operand), not_keyword(*negated))
            }
            Expression::Between {
                operand,
                low,
                high,
                negated,
            } => write!(
                f,
                "{} {}BETWEEN {} AND {}",
                Operand(operand),
                not_keyword(*negated),
                Operand(low),
                Operand(high)
            ),
            Expression::In {
                property,
                values,
                negated,
            } => {
                write!(f, "{property} {}IN (", not_keyword(*negated))?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_string_literal(f, value)?;
                }
                f.write_str(")")
            }
            Expression::StringMatch {
                op,
                operand,
                pattern,
                negated,
            } => {
                write!(
                    f,
                    "{} {}{} ",
                    Operand(operand),
                    not_keyword(*negated),
                    op.keyword()
                )?;
                write_string_literal(f, pattern)
            }
        }
    }
}
