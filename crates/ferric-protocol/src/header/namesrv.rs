//! NameServer request and response headers.

use super::command_header;

command_header! {
    /// REGISTER_BROKER (103).
    RegisterBrokerRequestHeader {
        req broker_name: String => "brokerName",
        /// `ip:port`.
        req broker_addr: String => "brokerAddr",
        req cluster_name: String => "clusterName",
        /// `ip:haPort`.
        req ha_server_addr: String => "haServerAddr",
        req broker_id: i64 => "brokerId",
        opt heartbeat_timeout_millis: i64 => "heartbeatTimeoutMillis",
        opt enable_acting_master: bool => "enableActingMaster",
        /// True when the body is the zlib form (§3.3).
        opt compressed: bool => "compressed",
        /// Masked CRC32 of the body; 0 = not checked.
        opt body_crc32: i32 => "bodyCrc32",
    }
}

/// REGISTER_BROKER extField with the broker's zone (5.x).
pub const ZONE_NAME_KEY: &str = "__ZONE_NAME";

command_header! {
    /// REGISTER_BROKER response.
    RegisterBrokerResponseHeader {
        opt ha_server_addr: String => "haServerAddr",
        opt master_addr: String => "masterAddr",
    }
}

command_header! {
    /// Identifies one broker: UNREGISTER_BROKER (104), QUERY_DATA_VERSION (322).
    BrokerIdentityRequestHeader {
        req broker_name: String => "brokerName",
        req broker_addr: String => "brokerAddr",
        req cluster_name: String => "clusterName",
        req broker_id: i64 => "brokerId",
    }
}

/// UNREGISTER_BROKER request.
pub type UnRegisterBrokerRequestHeader = BrokerIdentityRequestHeader;
/// QUERY_DATA_VERSION request.
pub type QueryDataVersionRequestHeader = BrokerIdentityRequestHeader;

command_header! {
    /// QUERY_DATA_VERSION response.
    QueryDataVersionResponseHeader {
        req changed: bool => "changed",
    }
}

command_header! {
    /// GET_ROUTEINFO_BY_TOPIC (105).
    GetRouteInfoRequestHeader {
        req topic: String => "topic",
        opt accept_standard_json_only: bool => "acceptStandardJsonOnly",
    }
}

command_header! {
    /// DELETE_TOPIC_IN_NAMESRV (216).
    DeleteTopicFromNamesrvRequestHeader {
        req topic: String => "topic",
        opt cluster_name: String => "clusterName",
    }
}

command_header! {
    /// PUT_KV_CONFIG (100).
    PutKvConfigRequestHeader {
        req namespace: String => "namespace",
        req key: String => "key",
        req value: String => "value",
    }
}

command_header! {
    /// A namespace and key: GET_KV_CONFIG (101), DELETE_KV_CONFIG (102).
    KvConfigKeyRequestHeader {
        req namespace: String => "namespace",
        req key: String => "key",
    }
}

/// GET_KV_CONFIG request.
pub type GetKvConfigRequestHeader = KvConfigKeyRequestHeader;
/// DELETE_KV_CONFIG request.
pub type DeleteKvConfigRequestHeader = KvConfigKeyRequestHeader;

command_header! {
    /// GET_KV_CONFIG response.
    GetKvConfigResponseHeader {
        opt value: String => "value",
    }
}

command_header! {
    /// GET_KVLIST_BY_NAMESPACE (219).
    GetKvListByNamespaceRequestHeader {
        req namespace: String => "namespace",
    }
}

command_header! {
    /// A broker name: WIPE_WRITE_PERM_OF_BROKER (205), ADD_WRITE_PERM_OF_BROKER (327).
    BrokerNameRequestHeader {
        req broker_name: String => "brokerName",
    }
}

/// WIPE_WRITE_PERM_OF_BROKER request.
pub type WipeWritePermOfBrokerRequestHeader = BrokerNameRequestHeader;
/// ADD_WRITE_PERM_OF_BROKER request.
pub type AddWritePermOfBrokerRequestHeader = BrokerNameRequestHeader;

command_header! {
    /// WIPE_WRITE_PERM_OF_BROKER response.
    WipeWritePermOfBrokerResponseHeader {
        req wipe_topic_count: i32 => "wipeTopicCount",
    }
}

command_header! {
    /// ADD_WRITE_PERM_OF_BROKER response.
    AddWritePermOfBrokerResponseHeader {
        req add_topic_count: i32 => "addTopicCount",
    }
}

command_header! {
    /// GET_TOPICS_BY_CLUSTER (224).
    GetTopicsByClusterRequestHeader {
        req cluster: String => "cluster",
    }
}

command_header! {
    /// REGISTER_TOPIC_IN_NAMESRV (217).
    RegisterTopicRequestHeader {
        req topic: String => "topic",
    }
}

command_header! {
    /// BROKER_HEARTBEAT (904, 5.x).
    BrokerHeartbeatRequestHeader {
        req cluster_name: String => "clusterName",
        req broker_addr: String => "brokerAddr",
        req broker_name: String => "brokerName",
        opt broker_id: i64 => "brokerId",
        opt epoch: i32 => "epoch",
        opt max_offset: i64 => "maxOffset",
        opt confirm_offset: i64 => "confirmOffset",
        /// Spelled so in Java.
        opt heartbeat_timeout_mills: i64 => "heartbeatTimeoutMills",
        opt election_priority: i32 => "electionPriority",
    }
}
