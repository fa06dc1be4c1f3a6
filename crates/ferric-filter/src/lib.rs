//! Message filtering for Ferric: RocketMQ tag subscriptions and the SQL92
//! selector language, as pure functions over strings.
//!
//! # What it does
//! * [`TagExpression`] parses a tag sub string like `FilterAPI` does
//!   (`*`, `TagA || TagB`) and matches consume-queue tag codes (broker) and tag
//!   strings (client).
//! * [`Sql92Filter`] compiles an SQL92 selector (`fxColor = 'red' AND fxNum >
//!   1`) with the grammar of RocketMQ's `SelectorParser.jj` and evaluates it
//!   against a message's properties with RocketMQ's three-valued semantics
//!   (see [`sql92`] for the operators and the exact rules).
//! * [`MessageFilter`] builds either one from a subscription's expression type
//!   and sub string, like the broker does for `SubscriptionData`.
//!
//! # What it does not do
//! No I/O, no async, no bloom-filter bitmaps (`ConsumeQueueExt`), no parse
//! cache, no `LIKE` or arithmetic (RocketMQ removed both from the grammar).
//!
//! # Properties
//! A message's properties are strings; RocketMQ stores the tag as the `TAGS`
//! property, so `TAGS = 'TagA'` works when the caller passes the stored
//! properties. Anything implementing [`PropertySource`] can be evaluated.
//!
//! # Limits
//! Expressions are at most [`MAX_EXPRESSION_LEN`] bytes, their trees at most
//! [`MAX_TREE_DEPTH`] levels deep, and parentheses and prefix operators nest
//! at most [`MAX_NESTING`] levels; anything beyond is refused with a typed
//! error instead of recursing without bound. `AND`/`OR` chains are flat and
//! add a single level.
#![deny(unsafe_code)]

mod error;
mod properties;
pub mod sql92;
mod tag;

pub use error::{EvalError, FilterError};
pub use properties::{PropertyFn, PropertySource};
pub use sql92::{Expression, Sql92Filter};
pub use tag::{SUB_ALL, TagExpression};

/// Longest accepted SQL92 expression, in bytes.
pub const MAX_EXPRESSION_LEN: usize = 16 * 1024;

/// Deepest accepted SQL92 expression tree (chained `=`, `IS NULL`, `NOT`,
/// unary minus and parenthesised sub-expressions each add a level).
pub const MAX_TREE_DEPTH: usize = 64;

/// Deepest accepted nesting of parentheses and prefix operators in the text.
/// It is twice [`MAX_TREE_DEPTH`] so that the printed form of every accepted
/// tree (which may need a parenthesis and a prefix operator per level) is
/// accepted too.
pub const MAX_NESTING: usize = 2 * MAX_TREE_DEPTH;

/// RocketMQ's `ExpressionType` of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpressionType {
    /// `TAG`; also what an absent or empty type means.
    Tag,
    /// `SQL92`.
    Sql92,
}

impl ExpressionType {
    /// Reads the wire value: `None`, `""` and `"TAG"` are tag filtering,
    /// `"SQL92"` is SQL92 (case-sensitive, as in Java).
    pub fn parse(value: Option<&str>) -> Result<Self, FilterError> {
        match value {
            None | Some("") | Some("TAG") => Ok(ExpressionType::Tag),
            Some("SQL92") => Ok(ExpressionType::Sql92),
            Some(other) => Err(FilterError::UnsupportedExpressionType(other.to_owned())),
        }
    }

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpressionType::Tag => "TAG",
            ExpressionType::Sql92 => "SQL92",
        }
    }
}

/// The filter of one subscription (`SubscriptionData`): tags or SQL92.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageFilter {
    Tag(TagExpression),
    Sql92(Sql92Filter),
}

impl MessageFilter {
    /// Builds the filter from a subscription's `expressionType` and
    /// `subString`. An SQL92 subscription needs a non-empty expression.
    pub fn build(expression_type: Option<&str>, sub_string: &str) -> Result<Self, FilterError> {
        match ExpressionType::parse(expression_type)? {
            ExpressionType::Tag => TagExpression::parse(sub_string).map(MessageFilter::Tag),
            ExpressionType::Sql92 if sub_string.is_empty() => Err(FilterError::EmptySql92),
            ExpressionType::Sql92 => Sql92Filter::compile(sub_string).map(MessageFilter::Sql92),
        }
    }

    /// The expression type of this filter.
    pub fn expression_type(&self) -> ExpressionType {
        match self {
            MessageFilter::Tag(_) => ExpressionType::Tag,
            MessageFilter::Sql92(_) => ExpressionType::Sql92,
        }
    }

    /// Broker check on a consume-queue unit's tag code. SQL92 filters pass
    /// every unit here (Ferric keeps no bloom-filter bitmaps) and decide in
    /// [`MessageFilter::matches_properties`].
    pub fn matches_tag_code(&self, tags_code: i64) -> bool {
        match self {
            MessageFilter::Tag(tags) => tags.matches_tag_code(tags_code),
            MessageFilter::Sql92(_) => true,
        }
    }

    /// Broker check on the stored message's properties. Tag filters pass
    /// (they decided on the tag code).
    pub fn matches_properties<P: PropertySource + ?Sized>(&self, properties: &P) -> bool {
        match self {
            MessageFilter::Tag(_) => true,
            MessageFilter::Sql92(filter) => filter.evaluate(properties),
        }
    }
}
