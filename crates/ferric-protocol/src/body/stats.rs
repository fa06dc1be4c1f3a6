//! Stats and offset bodies (§3.8, §2.4 reset offset, §7.6 offset files).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fastjson::{IntKeyMap, MessageQueueBody, MqKeyMap};

/// Offsets of one queue for one group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OffsetWrapper {
    pub broker_offset: i64,
    pub consumer_offset: i64,
    /// 5.x.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_offset: Option<i64>,
    pub last_timestamp: i64,
}

/// GET_CONSUME_STATS body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumeStats {
    pub offset_table: MqKeyMap<OffsetWrapper>,
    pub consume_tps: f64,
}

/// Offsets of one queue of a topic.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicOffset {
    pub min_offset: i64,
    pub max_offset: i64,
    pub last_update_timestamp: i64,
}

/// GET_TOPIC_STATS_INFO body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicStatsTable {
    pub offset_table: MqKeyMap<TopicOffset>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_put_tps: Option<f64>,
}

/// RESET_CONSUMER_CLIENT_OFFSET request / INVOKE_BROKER_TO_RESET_OFFSET response body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResetOffsetBody {
    pub offset_table: MqKeyMap<i64>,
}

/// One entry of [`ResetOffsetBodyForC`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageQueueForC {
    pub broker_name: String,
    pub offset: i64,
    pub queue_id: i32,
    pub topic: String,
}

/// The reset-offset body sent when the admin request's language is CPP.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResetOffsetBodyForC {
    pub offset_table: Vec<MessageQueueForC>,
}

/// `consumerOffset.json` / GET_ALL_CONSUMER_OFFSET: `topic@group` → queueId → offset.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerOffsetWrapper {
    pub offset_table: BTreeMap<String, IntKeyMap<i32, i64>>,
}

/// `delayOffset.json` / GET_ALL_DELAY_OFFSET: delay level → offset.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DelayOffsetWrapper {
    pub offset_table: IntKeyMap<i32, i64>,
}

impl ResetOffsetBody {
    /// One entry per queue.
    pub fn from_offsets(offsets: impl IntoIterator<Item = (MessageQueueBody, i64)>) -> Self {
        Self {
            offset_table: MqKeyMap(offsets.into_iter().collect()),
        }
    }
}
