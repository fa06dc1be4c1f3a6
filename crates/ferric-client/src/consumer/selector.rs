//! [`MessageSelector`]: what a subscription filters on — a tag expression (`TagA || TagB`) or
//! an SQL92 expression over message properties (Java's `MessageSelector.byTag` / `bySql`).
//!
//! SQL92 subscriptions are compiled with `ferric-filter` when a consumer starts, so a typo is
//! reported before anything reaches a broker. The broker does the filtering (it needs
//! `enablePropertyFilter=true`); the client, like Java's, re-checks only tag subscriptions.

use ferric_filter::{ExpressionType, FilterError, Sql92Filter};
use ferric_protocol::body::SubscriptionData;

use super::build_subscription;
use crate::error::{ClientError, Result};

/// Expression type of SQL92 subscriptions.
pub const EXPRESSION_TYPE_SQL92: &str = "SQL92";

/// The filter of one subscription.
///
/// ```
/// use ferric_client::consumer::MessageSelector;
/// let tags = MessageSelector::by_tag("TagA || TagB");
/// let sql = MessageSelector::by_sql("region = 'eu' AND amount > 100");
/// assert_eq!(tags.expression_type(), "TAG");
/// assert_eq!(sql.expression_type(), "SQL92");
/// // A plain string is a tag expression.
/// assert_eq!(MessageSelector::from("*"), MessageSelector::by_tag("*"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageSelector {
    /// A tag expression: `*` (everything) or tags joined by `||`.
    Tag(String),
    /// An SQL92 expression evaluated by the broker over each message's properties (the tag is
    /// the `TAGS` property).
    Sql92(String),
}

impl MessageSelector {
    /// Selects by tag expression (`*`, `TagA || TagB`).
    pub fn by_tag(expression: impl Into<String>) -> Self {
        Self::Tag(expression.into())
    }

    /// Selects by SQL92 expression (`a > 5 AND color = 'red'`).
    pub fn by_sql(expression: impl Into<String>) -> Self {
        Self::Sql92(expression.into())
    }

    /// The wire `expressionType`: `TAG` or `SQL92`.
    pub fn expression_type(&self) -> &'static str {
        match self {
            Self::Tag(_) => ExpressionType::Tag.as_str(),
            Self::Sql92(_) => ExpressionType::Sql92.as_str(),
        }
    }

    /// The expression text.
    pub fn expression(&self) -> &str {
        match self {
            Self::Tag(expression) | Self::Sql92(expression) => expression,
        }
    }

    /// True for SQL92 selectors.
    pub fn is_sql92(&self) -> bool {
        matches!(self, Self::Sql92(_))
    }

    /// The `SubscriptionData` a consumer sends in heartbeats and pulls; an SQL92 expression
    /// that does not compile is a [`ClientError::Config`].
    ///
    /// ```
    /// use ferric_client::consumer::MessageSelector;
    /// let sub = MessageSelector::by_sql("a > 1").subscription("T", 7).unwrap();
    /// assert_eq!((sub.expression_type.as_str(), sub.sub_string.as_str()), ("SQL92", "a > 1"));
    /// assert!(sub.tags_set.is_empty());
    /// assert!(MessageSelector::by_sql("a >").subscription("T", 7).is_err());
    /// ```
    pub fn subscription(&self, topic: &str, sub_version: i64) -> Result<SubscriptionData> {
        match self {
            Self::Tag(expression) => Ok(build_subscription(topic, expression, sub_version)),
            Self::Sql92(expression) => {
                compile_sql92(expression).map_err(|error| {
                    ClientError::Config(format!(
                        "SQL92 expression {expression:?} of topic {topic} does not compile: {error}"
                    ))
                })?;
                Ok(SubscriptionData {
                    class_filter_mode: false,
                    topic: topic.to_owned(),
                    sub_string: expression.clone(),
                    tags_set: Vec::new(),
                    code_set: Vec::new(),
                    sub_version,
                    expression_type: EXPRESSION_TYPE_SQL92.to_owned(),
                })
            }
        }
    }
}

fn compile_sql92(expression: &str) -> std::result::Result<Sql92Filter, FilterError> {
    if expression.trim().is_empty() {
        return Err(FilterError::EmptySql92);
    }
    Sql92Filter::compile(expression)
}

impl From<&str> for MessageSelector {
    fn from(expression: &str) -> Self {
        Self::by_tag(expression)
    }
}

impl From<String> for MessageSelector {
    fn from(expression: String) -> Self {
        Self::Tag(expression)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_selector_builds_the_tag_subscription() -> Result<()> {
        let sub = MessageSelector::by_tag("TagA || TagB").subscription("T", 3)?;
        assert_eq!(sub, build_subscription("T", "TagA || TagB", 3));
        assert_eq!(sub.expression_type, "TAG");
        Ok(())
    }

    #[test]
    fn bad_or_empty_sql_is_refused_locally() {
        for bad in ["", "   ", "a >", "a = 'x"] {
            let error = MessageSelector::by_sql(bad).subscription("T", 1);
            assert!(
                matches!(error, Err(ClientError::Config(_))),
                "{bad:?}: {error:?}"
            );
        }
    }
}
