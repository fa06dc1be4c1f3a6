//! Topic and subscription-group configuration bodies (§3.9, §3.10) and DataVersion.

use std::collections::BTreeMap;

use ferric_common::{TopicConfig, TopicFilterType};
use serde::{Deserialize, Serialize};

/// `DataVersion`: ordering compares stateVersion, then counter, then timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DataVersion {
    /// 5.x; absent from 4.x peers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_version: Option<i64>,
    pub timestamp: i64,
    pub counter: i64,
}

/// JSON form of a [`TopicConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfigBody {
    pub topic_name: String,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    pub perm: i32,
    pub topic_filter_type: String,
    pub topic_sys_flag: i32,
    pub order: bool,
    /// 5.x; omitted when absent (4.x shape).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
}

impl Default for TopicConfigBody {
    fn default() -> Self {
        TopicConfigBody::from(&TopicConfig::default())
    }
}

impl From<&TopicConfig> for TopicConfigBody {
    fn from(config: &TopicConfig) -> Self {
        Self {
            topic_name: config.topic_name.clone(),
            read_queue_nums: config.read_queue_nums,
            write_queue_nums: config.write_queue_nums,
            perm: config.perm,
            topic_filter_type: config.topic_filter_type.as_str().to_owned(),
            topic_sys_flag: config.topic_sys_flag,
            order: config.order,
            attributes: (!config.attributes.is_empty()).then(|| config.attributes.clone()),
        }
    }
}

impl From<&TopicConfigBody> for TopicConfig {
    /// An unknown filter type reads as SINGLE_TAG, like a Java default.
    fn from(body: &TopicConfigBody) -> Self {
        TopicConfig {
            topic_name: body.topic_name.clone(),
            read_queue_nums: body.read_queue_nums,
            write_queue_nums: body.write_queue_nums,
            perm: body.perm,
            topic_filter_type: body
                .topic_filter_type
                .parse()
                .unwrap_or(TopicFilterType::SingleTag),
            topic_sys_flag: body.topic_sys_flag,
            order: body.order,
            attributes: body.attributes.clone().unwrap_or_default(),
        }
    }
}

/// `topics.json`, GET_ALL_TOPIC_CONFIG and the REGISTER_BROKER wrapper.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfigSerializeWrapper {
    pub topic_config_table: BTreeMap<String, TopicConfigBody>,
    pub data_version: DataVersion,
    /// 5.x mapping sections, kept verbatim when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping_data_version: Option<DataVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_queue_mapping_info_map: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_queue_mapping_detail_map: Option<serde_json::Value>,
}

/// `SubscriptionGroupConfig` (4.x fields plus optional 5.x ones).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroupConfig {
    pub group_name: String,
    pub consume_enable: bool,
    pub consume_from_min_enable: bool,
    pub consume_broadcast_enable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consume_message_orderly: Option<bool>,
    pub retry_queue_nums: i32,
    pub retry_max_times: i32,
    pub broker_id: i64,
    pub which_broker_when_consume_slowly: i64,
    pub notify_consumer_ids_changed_enable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_sys_flag: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consume_timeout_minute: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_retry_policy: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_data_set: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
}

impl Default for SubscriptionGroupConfig {
    fn default() -> Self {
        Self {
            group_name: String::new(),
            consume_enable: true,
            consume_from_min_enable: true,
            consume_broadcast_enable: true,
            consume_message_orderly: None,
            retry_queue_nums: 1,
            retry_max_times: 16,
            broker_id: 0,
            which_broker_when_consume_slowly: 1,
            notify_consumer_ids_changed_enable: true,
            group_sys_flag: None,
            consume_timeout_minute: None,
            group_retry_policy: None,
            subscription_data_set: None,
            attributes: None,
        }
    }
}

/// `subscriptionGroup.json` and GET_ALL_SUBSCRIPTIONGROUP_CONFIG.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroupWrapper {
    pub subscription_group_table: BTreeMap<String, SubscriptionGroupConfig>,
    pub data_version: DataVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forbidden_table: Option<serde_json::Value>,
}
