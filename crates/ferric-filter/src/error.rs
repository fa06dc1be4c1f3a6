//! Typed errors of the filter crate.
//!
//! Compile errors carry the byte offset into the expression text where the
//! problem was found, so a broker can answer `SUBSCRIPTION_PARSE_FAILED` with a
//! remark that points at the bad spot.

use thiserror::Error;

/// Why a tag or SQL92 subscription expression could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    /// A character sequence that is no token of the grammar (an unknown
    /// character, an unterminated string literal or block comment).
    #[error("invalid character sequence at byte {position}: {message}")]
    Lexical { position: usize, message: String },
    /// The tokens do not form an expression of the grammar.
    #[error("syntax error at byte {position}: {message}")]
    Syntax { position: usize, message: String },
    /// The expression is grammatical but RocketMQ refuses it when it builds the
    /// expression tree (for example `a > 'x'`, `x IN (...)` on a literal,
    /// `NOT 5`, or a numeric literal out of range).
    #[error("invalid expression at byte {position}: {message}")]
    Semantic { position: usize, message: String },
    /// The expression text is longer than [`crate::MAX_EXPRESSION_LEN`].
    #[error("expression is {len} bytes long; at most {max} are accepted")]
    TooLong { len: usize, max: usize },
    /// The expression tree is deeper than [`crate::MAX_TREE_DEPTH`], or
    /// parentheses and prefix operators nest deeper than [`crate::MAX_NESTING`];
    /// `max` is the limit that was hit.
    #[error("expression nests deeper than {max} levels at byte {position}")]
    TooDeep { position: usize, max: usize },
    /// A tag expression made only of `||` separators (Java's `split` then
    /// yields no element and `FilterAPI` throws "subString split error").
    #[error("tag expression {0:?} has no element between its `||` separators")]
    EmptyTagSplit(String),
    /// An SQL92 subscription with an empty expression.
    #[error("an SQL92 subscription needs a non-empty expression")]
    EmptySql92,
    /// An expression type other than `TAG` (or empty) and `SQL92`.
    #[error("unsupported expression type {0:?}")]
    UnsupportedExpressionType(String),
}

impl FilterError {
    /// Byte offset into the expression text, when the error has one.
    pub fn position(&self) -> Option<usize> {
        match self {
            FilterError::Lexical { position, .. }
            | FilterError::Syntax { position, .. }
            | FilterError::Semantic { position, .. }
            | FilterError::TooDeep { position, .. } => Some(*position),
            _ => None,
        }
    }
}

/// Why evaluating a compiled SQL92 expression against one message failed.
///
/// RocketMQ's broker treats every evaluation failure as "not matched"; this
/// type exists so callers can log the reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalError {
    /// A property value could not be converted to the number type of the
    /// other operand (Java `NumberFormatException`), e.g. `fxNum > 1` with
    /// `fxNum = "abc"` or `"5.5"`.
    #[error("cannot convert {value:?} to {target}")]
    NotANumber { value: String, target: &'static str },
    /// Operands of types Java cannot compare this way (Java
    /// `ClassCastException`), e.g. a boolean compared with a string.
    #[error("cannot compare {left} with {right}")]
    Incomparable {
        left: &'static str,
        right: &'static str,
    },
}
