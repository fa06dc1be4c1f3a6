//! Evaluation of an [`Expression`] against message properties, with the
//! three-valued logic of RocketMQ's expression classes:
//!
//! * a missing property is `NULL` (unknown);
//! * `x = y`: unknown if only the left side is `NULL`, false if only the right
//!   side is, true if both are; otherwise Java `equals`, then `__compare`;
//! * `>`, `>=`, `<`, `<=`: unknown if a side is `NULL`; two strings are both
//!   read as doubles; otherwise `__compare`;
//! * `<>` and `IS NOT NULL` are `NOT` of `=` and `IS NULL`;
//! * `x BETWEEN a AND b` is `x >= a AND x <= b`; `NOT BETWEEN` is
//!   `x < a OR x > b`;
//! * `IN`: unknown for a missing property;
//! * `CONTAINS`/`STARTSWITH`/`ENDSWITH` and their `NOT` forms are false for a
//!   missing property or an empty pattern;
//! * `AND`/`OR` short-circuit from the left on false/true; `NOT` keeps unknown;
//! * a property used as a boolean is unknown when missing and false otherwise
//!   (a property value is a string, never a Java `Boolean`);
//! * unary minus of a non-number is unknown.
//!
//! A failed number conversion aborts the whole evaluation, as the Java
//! exception does; the broker then treats the message as not matched.

use std::cmp::Ordering;

use super::ast::{CompareOp, Expression, Literal, StringOp};
use super::value::{Value, java_compare, java_double_cmp, java_parse_double};
use crate::{EvalError, PropertySource};

type Outcome<'a> = Result<Value<'a>, EvalError>;
type Truth = Result<Option<bool>, EvalError>;

fn truth(value: Option<bool>) -> Value<'static> {
    value.map_or(Value::Null, Value::Bool)
}

fn not3(value: Option<bool>) -> Option<bool> {
    value.map(|b| !b)
}

/// Evaluates `expr` as a selector: `Some(true)`, `Some(false)` or unknown.
pub(crate) fn evaluate_truth<'a, P: PropertySource + ?Sized>(
    expr: &'a Expression,
    props: &'a P,
) -> Truth {
    Evaluator { props }.boolean(expr)
}

struct Evaluator<'p, P: ?Sized> {
    props: &'p P,
}

impl<'a, P: PropertySource + ?Sized> Evaluator<'a, P> {
    /// Evaluates an operand of `AND`, `OR`, `NOT` or the whole selector.
    fn boolean(&self, expr: &'a Expression) -> Truth {
        if let Expression::Property(name) = expr {
            // RocketMQ's boolean cast of a property.
            return Ok(self.props.property(name).map(|_| false));
        }
        match self.value(expr)? {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(b)),
            other => Err(EvalError::Incomparable {
                left: other.type_name(),
                right: "Boolean",
            }),
        }
    }

    fn value(&self, expr: &'a Expression) -> Outcome<'a> {
        match expr {
            Expression::Literal(literal) => Ok(literal_value(literal)),
            Expression::Property(name) => {
                Ok(self.props.property(name).map_or(Value::Null, Value::Str))
            }
            Expression::Negate(inner) => Ok(negate(self.value(inner)?)),
            Expression::Not(inner) => Ok(truth(not3(self.boolean(inner)?))),
            Expression::And(operands) => self.and(operands),
            Expression::Or(operands) => self.or(operands),
            Expression::Compare { op, left, right } => Ok(truth(self.compare(*op, left, right)?)),
            Expression::IsNull { operand, negated } => {
                let is_null = matches!(self.value(operand)?, Value::Null);
                Ok(Value::Bool(is_null != *negated))
            }
            Expression::Between {
                operand,
                low,
                high,
                negated: false,
            } => {
                let above_low = self.compare(CompareOp::Ge, operand, low)?;
                if above_low == Some(false) {
                    return Ok(Value::Bool(false));
                }
                let below_high = self.compare(CompareOp::Le, operand, high)?;
                Ok(truth(and3(above_low, below_high)))
            }
            Expression::Between {
                operand,
                low,
                high,
                negated: true,
            } => {
                let under_low = self.compare(CompareOp::Lt, operand, low)?;
                if under_low == Some(true) {
                    return Ok(Value::Bool(true));
                }
                let over_high = self.compare(CompareOp::Gt, operand, high)?;
                Ok(truth(or3(under_low, over_high)))
            }
            Expression::In {
                property,
                values,
                negated,
            } => Ok(match self.props.property(property) {
                None => Value::Null,
                Some(value) => Value::Bool(values.iter().any(|v| v == value) != *negated),
            }),
            Expression::StringMatch {
                op,
                operand,
                pattern,
                negated,
            } => {
                if pattern.is_empty() {
                    return Ok(Value::Bool(false));
                }
                let Value::Str(text) = self.value(operand)? else {
                    return Ok(Value::Bool(false));
                };
                let found = match op {
                    StringOp::Contains => text.contains(pattern.as_str()),
                    StringOp::StartsWith => text.starts_with(pattern.as_str()),
                    StringOp::EndsWith => text.ends_with(pattern.as_str()),
                };
                Ok(Value::Bool(found != *negated))
            }
        }
    }

    fn and(&self, operands: &'a [Expression]) -> Outcome<'a> {
        let mut unknown = false;
        for operand in operands {
            match self.boolean(operand)? {
                Some(false) => return Ok(Value::Bool(false)),
                Some(true) => {}
                None => unknown = true,
            }
        }
        Ok(if unknown {
            Value::Null
        } else {
            Value::Bool(true)
        })
    }

    fn or(&self, operands: &'a [Expression]) -> Outcome<'a> {
        let mut unknown = false;
        for operand in operands {
            match self.boolean(operand)? {
                Some(true) => return Ok(Value::Bool(true)),
                Some(false) => {}
                None => unknown = true,
            }
        }
        Ok(if unknown {
            Value::Null
        } else {
            Value::Bool(false)
        })
    }

    fn compare(&self, op: CompareOp, left: &'a Expression, right: &'a Expression) -> Truth {
        match op {
            CompareOp::Eq => self.equal(left, right),
            CompareOp::Ne => Ok(not3(self.equal(left, right)?)),
            _ => {
                let lv = self.value(left)?;
                if lv == Value::Null {
                    return Ok(None);
                }
                let rv = self.value(right)?;
                if rv == Value::Null {
                    return Ok(None);
                }
                let ordering = match (lv, rv) {
                    (Value::Str(a), Value::Str(b)) => {
                        java_double_cmp(java_parse_double(a)?, java_parse_double(b)?)
                    }
                    _ => java_compare(lv, rv)?,
                };
                Ok(Some(match op {
                    CompareOp::Gt => ordering == Ordering::Greater,
                    CompareOp::Ge => ordering != Ordering::Less,
                    CompareOp::Lt => ordering == Ordering::Less,
                    _ => ordering != Ordering::Greater,
                }))
            }
        }
    }

    fn equal(&self, left: &'a Expression, right: &'a Expression) -> Truth {
        let lv = self.value(left)?;
        let rv = self.value(right)?;
        match (lv, rv) {
            (Value::Null, Value::Null) => Ok(Some(true)),
            (Value::Null, _) => Ok(None),
            (_, Value::Null) => Ok(Some(false)),
            _ if lv.java_equals(&rv) => Ok(Some(true)),
            _ => Ok(Some(java_compare(lv, rv)? == Ordering::Equal)),
        }
    }
}

fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

fn literal_value(literal: &Literal) -> Value<'_> {
    match literal {
        Literal::String(s) => Value::Str(s),
        Literal::Int(v) => Value::Int(*v),
        Literal::Long(v) => Value::Long(*v),
        Literal::Double(v) => Value::Double(*v),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Null => Value::Null,
    }
}

/// `UnaryExpression.createNegate`: numbers negate (with Java wraparound),
/// anything else is unknown.
fn negate(value: Value<'_>) -> Value<'_> {
    match value {
        Value::Int(v) => Value::Int(v.wrapping_neg()),
        Value::Long(v) => Value::Long(v.wrapping_neg()),
        Value::Double(v) => Value::Double(-v),
        _ => Value::Null,
    }
}
