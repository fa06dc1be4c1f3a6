//! Consumers: the explicit [`pull::PullConsumer`], the [`push::PushConsumer`] and the
//! [`lite_pull::LitePullConsumer`], plus what they share — subscriptions, pull-response
//! decoding, queue allocation, offset stores and [`MessageSelector`] (tag or SQL92 filters).

pub mod allocate;
pub mod lite_pull;
pub mod offset_store;
pub mod pull;
pub mod pull_result;
pub mod push;
pub mod selector;

use std::time::{SystemTime, UNIX_EPOCH};

use ferric_common::java_hash;
use ferric_protocol::body::SubscriptionData;

pub use selector::MessageSelector;

/// Expression type of tag subscriptions.
pub const EXPRESSION_TYPE_TAG: &str = "TAG";
/// Subscribe-all expression.
pub const SUB_ALL: &str = "*";

/// How a group shares messages among its consumers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageModel {
    /// Each message goes to one consumer of the group; offsets live on the broker.
    #[default]
    Clustering,
    /// Each message goes to every consumer; offsets live in a local file.
    Broadcasting,
}

impl MessageModel {
    /// The Java enum name used in heartbeats.
    pub fn name(self) -> &'static str {
        match self {
            Self::Clustering => "CLUSTERING",
            Self::Broadcasting => "BROADCASTING",
        }
    }
}

/// Where a group with no committed offset starts.
///
/// As with Java's client and broker, this only applies when the broker has no offset for the
/// group: a broker answers QUERY_CONSUMER_OFFSET for an unknown group with 0 as long as the
/// queue still starts at offset 0, so a new group reads a never-trimmed queue from its start
/// whatever is chosen here. Once old files were cleaned up (min offset > 0) the choice decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsumeFromWhere {
    /// From the queue's max offset (retry topics: from 0).
    #[default]
    LastOffset,
    /// From offset 0.
    FirstOffset,
    /// From the first message stored at or after this time (ms since the epoch).
    Timestamp(i64),
}

impl ConsumeFromWhere {
    /// The Java enum name used in heartbeats.
    pub fn name(self) -> &'static str {
        match self {
            Self::LastOffset => "CONSUME_FROM_LAST_OFFSET",
            Self::FirstOffset => "CONSUME_FROM_FIRST_OFFSET",
            Self::Timestamp(_) => "CONSUME_FROM_TIMESTAMP",
        }
    }
}

/// CHECK_CLIENT_CONFIG for every SQL92 subscription (Java's `checkClientInBroker`): a broker
/// without `enablePropertyFilter`, or one that cannot compile the expression, fails the start.
pub(crate) async fn check_client_in_broker(
    instance: &crate::ClientInstance,
    group: &str,
    subscriptions: &[SubscriptionData],
) -> crate::Result<()> {
    let timeout = instance.config().mq_client_api_timeout;
    for sub in subscriptions
        .iter()
        .filter(|s| s.expression_type != EXPRESSION_TYPE_TAG)
    {
        let Ok(addr) = instance.any_broker_addr_of(&sub.topic).await else {
            continue;
        };
        instance
            .api()
            .check_client_config(&addr, group, instance.client_id(), sub, timeout)
            .await?;
    }
    Ok(())
}

/// Clustering allocation (Java's `RebalanceImpl.rebalanceByTopic`): the group's consumer ids,
/// asked from any broker serving `topic` and sorted, share `all_queues` by `strategy`; returns
/// the queues of this client.
pub(crate) async fn allocate_in_group(
    instance: &crate::ClientInstance,
    strategy: &dyn allocate::AllocateStrategy,
    group: &str,
    topic: &str,
    all_queues: &[ferric_common::MessageQueue],
) -> crate::Result<Vec<ferric_common::MessageQueue>> {
    let addr = instance.any_broker_addr_of(topic).await?;
    let timeout = instance.config().mq_client_api_timeout;
    let mut ids = instance
        .api()
        .consumer_id_list(&addr, group, timeout)
        .await?;
    ids.sort();
    Ok(strategy.allocate(instance.client_id(), all_queues, &ids))
}

/// Runs `work` on the consumer behind `weak` every `period`, on `tasks`, until `token` is
/// cancelled or the consumer is dropped.
pub(crate) fn spawn_periodic<T, F, Fut>(
    tasks: &tokio_util::task::TaskTracker,
    token: tokio_util::sync::CancellationToken,
    period: std::time::Duration,
    weak: std::sync::Weak<T>,
    work: F,
) where
    T: Send + Sync + 'static,
    F: Fn(std::sync::Arc<T>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tasks.spawn(async move {
        loop {
            tokio::select! {
                () = token.cancelled() => return,
                () = tokio::time::sleep(period) => {}
            }
            let Some(inner) = weak.upgrade() else { return };
            work(inner).await;
        }
    });
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A tag subscription as the broker parses it (`FilterAPI`): `*` or empty subscribes to all;
/// otherwise tags split on `||`, trimmed, empties dropped, each with its Java hash code.
///
/// ```
/// use ferric_client::consumer::build_subscription;
/// let sub = build_subscription("TopicTest", "TagA || TagB", 1);
/// assert_eq!(sub.tags_set, vec!["TagA", "TagB"]);
/// assert_eq!(sub.code_set, vec![2598919, 2598920]);
/// ```
pub fn build_subscription(topic: &str, expression: &str, sub_version: i64) -> SubscriptionData {
    let trimmed = expression.trim();
    let mut sub = SubscriptionData {
        class_filter_mode: false,
        topic: topic.to_owned(),
        sub_string: if trimmed.is_empty() {
            SUB_ALL.to_owned()
        } else {
            expression.to_owned()
        },
        tags_set: Vec::new(),
        code_set: Vec::new(),
        sub_version,
        expression_type: EXPRESSION_TYPE_TAG.to_owned(),
    };
    if trimmed.is_empty() || trimmed == SUB_ALL {
        return sub;
    }
    for tag in expression
        .split("||")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if !sub.tags_set.iter().any(|known| known == tag) {
            sub.tags_set.push(tag.to_owned());
            sub.code_set.push(java_hash(tag));
        }
    }
    sub
}

/// True when `tags` passes the subscription's exact tag filter (the broker matched hashes only).
pub fn tag_matches(sub: &SubscriptionData, tags: Option<&str>) -> bool {
    if sub.tags_set.is_empty() || sub.class_filter_mode {
        return true;
    }
    tags.is_some_and(|tag| sub.tags_set.iter().any(|t| t == tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_parsing() {
        let all = build_subscription("T", "*", 5);
        assert!(all.tags_set.is_empty() && all.code_set.is_empty());
        assert_eq!(all.sub_string, "*");
        let empty = build_subscription("T", "  ", 5);
        assert_eq!(empty.sub_string, "*");
        let tags = build_subscription("T", "TagA||TagB|| ||TagA", 5);
        assert_eq!(tags.tags_set, vec!["TagA", "TagB"]);
        assert_eq!(tags.sub_string, "TagA||TagB|| ||TagA");
        assert!(tag_matches(&tags, Some("TagB")));
        assert!(!tag_matches(&tags, Some("TagC")));
        assert!(!tag_matches(&tags, None));
        assert!(tag_matches(&all, None));
    }
}
