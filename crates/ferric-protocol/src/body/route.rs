//! Route and cluster bodies (§3.2, §3.4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fastjson::{self, FastjsonError, IntKeyMap, JsonStyle};

/// First request version (V4_9_4) that gets standard-JSON route data.
pub const STANDARD_JSON_ROUTE_VERSION: i32 = 401;

/// One broker's queues of a topic.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueData {
    pub broker_name: String,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    pub perm: i32,
    /// Spelled `topicSynFlag` before 4.9.0; both spellings are read.
    #[serde(alias = "topicSynFlag")]
    pub topic_sys_flag: i32,
}

/// One broker set: name, cluster and addresses by broker id (0 = master).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerData {
    pub cluster: String,
    pub broker_name: String,
    pub broker_addrs: IntKeyMap<i64, String>,
    /// Always written (5.x field; 4.x peers ignore it).
    pub enable_acting_master: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_name: Option<String>,
}

/// GET_ROUTEINFO_BY_TOPIC body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicRouteData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_topic_conf: Option<String>,
    pub queue_datas: Vec<QueueData>,
    pub broker_datas: Vec<BrokerData>,
    pub filter_server_table: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_queue_mapping_by_broker: Option<serde_json::Value>,
}

impl TopicRouteData {
    /// The style the Java NameServer uses for a request of `version` (§3.1 item 6).
    pub fn style_for(version: i32, accept_standard_json_only: bool) -> JsonStyle {
        if version >= STANDARD_JSON_ROUTE_VERSION || accept_standard_json_only {
            JsonStyle::Standard
        } else {
            JsonStyle::Fastjson
        }
    }

    /// Encodes the body as the Java NameServer would answer a request of `version`.
    pub fn to_json_for(
        &self,
        version: i32,
        accept_standard_json_only: bool,
    ) -> Result<Vec<u8>, FastjsonError> {
        fastjson::to_vec(self, Self::style_for(version, accept_standard_json_only))
    }
}

/// GET_BROKER_CLUSTER_INFO body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterInfo {
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    pub cluster_addr_table: BTreeMap<String, Vec<String>>,
}
