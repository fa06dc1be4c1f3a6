//! Topic configuration (`TopicConfig`) and well-known topic and group names
//! (`TopicValidator`, `MixAll`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::perm::{PERM_READ, PERM_WRITE};

/// Default read/write queue count of a `TopicConfig`.
pub const DEFAULT_QUEUE_NUMS: i32 = 16;

/// How tags are matched for a topic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TopicFilterType {
    /// One tag per message (default).
    #[default]
    SingleTag,
    /// Several tags; stored records get MULTI_TAGS_FLAG.
    MultiTag,
}

impl TopicFilterType {
    /// The Java enum name (`SINGLE_TAG` / `MULTI_TAG`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SingleTag => "SINGLE_TAG",
            Self::MultiTag => "MULTI_TAG",
        }
    }
}

impl fmt::Display for TopicFilterType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown topic filter type name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown topic filter type {0:?}")]
pub struct UnknownTopicFilterType(pub String);

impl FromStr for TopicFilterType {
    type Err = UnknownTopicFilterType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "SINGLE_TAG" => Ok(Self::SingleTag),
            "MULTI_TAG" => Ok(Self::MultiTag),
            other => Err(UnknownTopicFilterType(other.to_owned())),
        }
    }
}

/// `TopicSysFlag` bit 0: unit topic.
pub const TOPIC_SYS_FLAG_UNIT: i32 = 0x1;
/// `TopicSysFlag` bit 1: has unit subscription.
pub const TOPIC_SYS_FLAG_UNIT_SUB: i32 = 0x2;

/// Configuration of one topic on a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    /// Topic name.
    pub topic_name: String,
    /// Readable queues (default 16).
    pub read_queue_nums: i32,
    /// Writable queues (default 16).
    pub write_queue_nums: i32,
    /// Permission bits (default 6 = read | write).
    pub perm: i32,
    /// Tag filter type (default SINGLE_TAG).
    pub topic_filter_type: TopicFilterType,
    /// Topic sys flag (default 0).
    pub topic_sys_flag: i32,
    /// Ordered topic (default false).
    pub order: bool,
    /// 5.x attributes (default empty).
    pub attributes: BTreeMap<String, String>,
}

impl TopicConfig {
    /// A topic with the class defaults.
    pub fn new(topic_name: impl Into<String>) -> Self {
        Self {
            topic_name: topic_name.into(),
            ..Self::default()
        }
    }

    /// A topic with the given queue counts and permission.
    pub fn with_queues(topic_name: impl Into<String>, read: i32, write: i32, perm: i32) -> Self {
        Self {
            topic_name: topic_name.into(),
            read_queue_nums: read,
            write_queue_nums: write,
            perm,
            ..Self::default()
        }
    }
}

impl Default for TopicConfig {
    fn default() -> Self {
        Self {
            topic_name: String::new(),
            read_queue_nums: DEFAULT_QUEUE_NUMS,
            write_queue_nums: DEFAULT_QUEUE_NUMS,
            perm: PERM_READ | PERM_WRITE,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_sys_flag: 0,
            order: false,
            attributes: BTreeMap::new(),
        }
    }
}

/// Well-known topic and group names.
pub mod names {
    /// Auto-create template topic.
    pub const AUTO_CREATE_TOPIC_KEY_TOPIC: &str = "TBW102";
    /// Delay-level staging topic.
    pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";
    /// Half (prepared) transaction messages.
    pub const TRANS_HALF_TOPIC: &str = "RMQ_SYS_TRANS_HALF_TOPIC";
    /// Transaction op log.
    pub const TRANS_OP_HALF_TOPIC: &str = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
    /// Half messages discarded after too many checks.
    pub const TRANS_CHECK_MAX_TIME_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";
    /// Self-test topic.
    pub const SELF_TEST_TOPIC: &str = "SELF_TEST_TOPIC";
    /// Benchmark topic.
    pub const BENCHMARK_TOPIC: &str = "BenchmarkTest";
    /// Offset-moved event topic.
    pub const OFFSET_MOVED_EVENT: &str = "OFFSET_MOVED_EVENT";
    /// Default trace topic.
    pub const RMQ_SYS_TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";
    /// 5.x timer-wheel topic.
    pub const TIMER_TOPIC: &str = "rmq_sys_wheel_timer";
    /// 5.x RocksDB offset topic.
    pub const CHECKPOINT_TOPIC: &str = "CHECKPOINT_TOPIC";
    /// System topic prefix (5.x).
    pub const SYSTEM_TOPIC_PREFIX: &str = "rmq_sys_";
    /// 5.x pop revive topic prefix (`rmq_sys_REVIVE_LOG_<cluster>`).
    pub const REVIVE_LOG_TOPIC_PREFIX: &str = "rmq_sys_REVIVE_LOG_";
    /// 5.x broker-member topic prefix (`rmq_sys_SYNC_BROKER_MEMBER_<broker>`).
    pub const SYNC_BROKER_MEMBER_TOPIC_PREFIX: &str = "rmq_sys_SYNC_BROKER_MEMBER_";
    /// Retry topic prefix (`%RETRY%<group>`).
    pub const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";
    /// Dead-letter topic prefix (`%DLQ%<group>`).
    pub const DLQ_GROUP_TOPIC_PREFIX: &str = "%DLQ%";
    /// Light message queue prefix (5.x).
    pub const LMQ_PREFIX: &str = "%LMQ%";
    /// Reply topic suffix (`<cluster>_REPLY_TOPIC`).
    pub const REPLY_TOPIC_POSTFIX: &str = "_REPLY_TOPIC";

    /// Client's internal producer group.
    pub const CLIENT_INNER_PRODUCER_GROUP: &str = "CLIENT_INNER_PRODUCER";
    /// Default producer group.
    pub const DEFAULT_PRODUCER_GROUP: &str = "DEFAULT_PRODUCER";
    /// Default consumer group.
    pub const DEFAULT_CONSUMER_GROUP: &str = "DEFAULT_CONSUMER";
    /// Admin tools consumer group.
    pub const TOOLS_CONSUMER_GROUP: &str = "TOOLS_CONSUMER";
    /// Schedule service consumer group.
    pub const SCHEDULE_CONSUMER_GROUP: &str = "SCHEDULE_CONSUMER";
    /// Filter server consumer group.
    pub const FILTERSRV_CONSUMER_GROUP: &str = "FILTERSRV_CONSUMER";
    /// Monitor consumer group.
    pub const MONITOR_CONSUMER_GROUP: &str = "__MONITOR_CONSUMER";
    /// Self-test producer group.
    pub const SELF_TEST_PRODUCER_GROUP: &str = "SELF_TEST_P_GROUP";
    /// Self-test consumer group.
    pub const SELF_TEST_CONSUMER_GROUP: &str = "SELF_TEST_C_GROUP";
    /// Transaction-check internal group.
    pub const CID_RMQ_SYS_TRANS: &str = "CID_RMQ_SYS_TRANS";
    /// ONS API group prefix.
    pub const CID_ONSAPI_PREFIX: &str = "CID_ONSAPI_";
    /// System consumer group prefix.
    pub const CID_SYS_RMQ_PREFIX: &str = "CID_RMQ_SYS_";

    /// Longest ordinary topic name.
    pub const TOPIC_MAX_LENGTH: usize = 127;
    /// Longest retry / DLQ topic name.
    pub const RETRY_OR_DLQ_TOPIC_MAX_LENGTH: usize = 255;
}

/// `%RETRY%<group>`.
pub fn retry_topic(group: &str) -> String {
    format!("{}{group}", names::RETRY_GROUP_TOPIC_PREFIX)
}

/// `%DLQ%<group>`.
pub fn dlq_topic(group: &str) -> String {
    format!("{}{group}", names::DLQ_GROUP_TOPIC_PREFIX)
}

/// `<cluster>_REPLY_TOPIC`.
pub fn reply_topic(cluster: &str) -> String {
    format!("{cluster}{}", names::REPLY_TOPIC_POSTFIX)
}

/// True for a `%RETRY%` topic.
pub fn is_retry_topic(topic: &str) -> bool {
    topic.starts_with(names::RETRY_GROUP_TOPIC_PREFIX)
}

/// True for a `%DLQ%` topic.
pub fn is_dlq_topic(topic: &str) -> bool {
    topic.starts_with(names::DLQ_GROUP_TOPIC_PREFIX)
}

/// Topics a producer may not send to (the broker answers NO_PERMISSION).
pub fn is_not_allowed_send_topic(topic: &str) -> bool {
    [
        names::SCHEDULE_TOPIC,
        names::TRANS_HALF_TOPIC,
        names::TRANS_OP_HALF_TOPIC,
        names::TRANS_CHECK_MAX_TIME_TOPIC,
        names::SELF_TEST_TOPIC,
        names::OFFSET_MOVED_EVENT,
    ]
    .contains(&topic)
}

/// True if every character is in `[%|a-zA-Z0-9_-]` (topic and group names).
pub fn has_only_valid_name_chars(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'%' | b'|' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_java() {
        let config = TopicConfig::new("T");
        assert_eq!(config.read_queue_nums, 16);
        assert_eq!(config.write_queue_nums, 16);
        assert_eq!(config.perm, 6);
        assert_eq!(config.topic_filter_type, TopicFilterType::SingleTag);
        assert_eq!(config.topic_sys_flag, 0);
        assert!(!config.order);
        assert!(config.attributes.is_empty());
        assert_eq!(TopicConfig::with_queues("TBW102", 8, 8, 7).perm, 7);
    }

    #[test]
    fn filter_type_names() {
        assert_eq!(
            "MULTI_TAG".parse::<TopicFilterType>(),
            Ok(TopicFilterType::MultiTag)
        );
        assert_eq!(TopicFilterType::SingleTag.to_string(), "SINGLE_TAG");
        assert!("x".parse::<TopicFilterType>().is_err());
    }

    #[test]
    fn name_helpers() {
        assert_eq!(retry_topic("g"), "%RETRY%g");
        assert_eq!(dlq_topic("g"), "%DLQ%g");
        assert_eq!(reply_topic("DefaultCluster"), "DefaultCluster_REPLY_TOPIC");
        assert!(is_retry_topic("%RETRY%g"));
        assert!(is_dlq_topic("%DLQ%g"));
        assert!(is_not_allowed_send_topic("SCHEDULE_TOPIC_XXXX"));
        assert!(!is_not_allowed_send_topic("FxTopicA"));
        assert!(has_only_valid_name_chars("%RETRY%CID_fx-push|1"));
        assert!(!has_only_valid_name_chars("a b"));
    }
}
