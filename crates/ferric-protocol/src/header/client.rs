//! Client ↔ broker headers other than send and pull.

use super::{BoundaryType, command_header};

command_header! {
    /// QUERY_MESSAGE (12).
    QueryMessageRequestHeader {
        req topic: String => "topic",
        req key: String => "key",
        req max_num: i32 => "maxNum",
        req begin_timestamp: i64 => "beginTimestamp",
        req end_timestamp: i64 => "endTimestamp",
    }
}

/// QUERY_MESSAGE extField: `"true"` makes the broker use its default max number.
pub const UNIQUE_KEY_QUERY_KEY: &str = "_UNIQUE_KEY_QUERY";

command_header! {
    /// QUERY_MESSAGE response.
    QueryMessageResponseHeader {
        req index_last_update_timestamp: i64 => "indexLastUpdateTimestamp",
        req index_last_update_phyoffset: i64 => "indexLastUpdatePhyoffset",
    }
}

command_header! {
    /// VIEW_MESSAGE_BY_ID (33).
    ViewMessageRequestHeader {
        opt topic: String => "topic",
        /// CommitLog physical offset.
        req offset: i64 => "offset",
    }
}

command_header! {
    /// UNREGISTER_CLIENT (35).
    UnregisterClientRequestHeader {
        req client_id: String => "clientID",
        opt producer_group: String => "producerGroup",
        opt consumer_group: String => "consumerGroup",
    }
}

command_header! {
    /// GET_CONSUMER_LIST_BY_GROUP (38).
    GetConsumerListByGroupRequestHeader {
        req consumer_group: String => "consumerGroup",
    }
}

command_header! {
    /// UPDATE_CONSUMER_OFFSET (15).
    UpdateConsumerOffsetRequestHeader {
        req consumer_group: String => "consumerGroup",
        req topic: String => "topic",
        req queue_id: i32 => "queueId",
        req commit_offset: i64 => "commitOffset",
    }
}

command_header! {
    /// QUERY_CONSUMER_OFFSET (14).
    QueryConsumerOffsetRequestHeader {
        req consumer_group: String => "consumerGroup",
        req topic: String => "topic",
        req queue_id: i32 => "queueId",
        opt set_zero_if_not_found: bool => "setZeroIfNotFound",
    }
}

command_header! {
    /// Response carrying one offset: QUERY_CONSUMER_OFFSET, GET_MAX_OFFSET, GET_MIN_OFFSET,
    /// SEARCH_OFFSET_BY_TIMESTAMP.
    OffsetResponseHeader {
        req offset: i64 => "offset",
    }
}

/// QUERY_CONSUMER_OFFSET response.
pub type QueryConsumerOffsetResponseHeader = OffsetResponseHeader;
/// GET_MAX_OFFSET response.
pub type GetMaxOffsetResponseHeader = OffsetResponseHeader;
/// GET_MIN_OFFSET response.
pub type GetMinOffsetResponseHeader = OffsetResponseHeader;
/// SEARCH_OFFSET_BY_TIMESTAMP response.
pub type SearchOffsetResponseHeader = OffsetResponseHeader;

command_header! {
    /// GET_MAX_OFFSET (30).
    GetMaxOffsetRequestHeader {
        req topic: String => "topic",
        req queue_id: i32 => "queueId",
        opt committed: bool => "committed",
    }
}

command_header! {
    /// A topic and queue: GET_MIN_OFFSET (31), GET_EARLIEST_MSG_STORETIME (32).
    TopicQueueRequestHeader {
        req topic: String => "topic",
        req queue_id: i32 => "queueId",
    }
}

/// GET_MIN_OFFSET request.
pub type GetMinOffsetRequestHeader = TopicQueueRequestHeader;
/// GET_EARLIEST_MSG_STORETIME request.
pub type GetEarliestMsgStoretimeRequestHeader = TopicQueueRequestHeader;

command_header! {
    /// GET_EARLIEST_MSG_STORETIME response.
    GetEarliestMsgStoretimeResponseHeader {
        req timestamp: i64 => "timestamp",
    }
}

command_header! {
    /// SEARCH_OFFSET_BY_TIMESTAMP (29).
    SearchOffsetRequestHeader {
        req topic: String => "topic",
        req queue_id: i32 => "queueId",
        req timestamp: i64 => "timestamp",
        opt boundary_type: BoundaryType => "boundaryType",
    }
}

command_header! {
    /// CONSUMER_SEND_MSG_BACK (36).
    ConsumerSendMsgBackRequestHeader {
        /// CommitLog offset of the failed message.
        req offset: i64 => "offset",
        req group: String => "group",
        req delay_level: i32 => "delayLevel",
        opt origin_msg_id: String => "originMsgId",
        opt origin_topic: String => "originTopic",
        opt unit_mode: bool => "unitMode",
        opt max_reconsume_times: i32 => "maxReconsumeTimes",
    }
}

command_header! {
    /// END_TRANSACTION (37).
    EndTransactionRequestHeader {
        opt topic: String => "topic",
        req producer_group: String => "producerGroup",
        req tran_state_table_offset: i64 => "tranStateTableOffset",
        req commit_log_offset: i64 => "commitLogOffset",
        /// 0 unknown, 8 commit, 12 rollback.
        req commit_or_rollback: i32 => "commitOrRollback",
        opt from_transaction_check: bool => "fromTransactionCheck",
        req msg_id: String => "msgId",
        opt transaction_id: String => "transactionId",
    }
}

/// `commitOrRollback`: state unknown.
pub const TRANSACTION_NOT_TYPE: i32 = 0;
/// `commitOrRollback`: commit.
pub const TRANSACTION_COMMIT_TYPE: i32 = 8;
/// `commitOrRollback`: rollback.
pub const TRANSACTION_ROLLBACK_TYPE: i32 = 12;

command_header! {
    /// CHECK_TRANSACTION_STATE (39), broker → producer.
    CheckTransactionStateRequestHeader {
        opt topic: String => "topic",
        req tran_state_table_offset: i64 => "tranStateTableOffset",
        req commit_log_offset: i64 => "commitLogOffset",
        opt msg_id: String => "msgId",
        opt transaction_id: String => "transactionId",
        opt offset_msg_id: String => "offsetMsgId",
        opt broker_name: String => "bname",
    }
}

command_header! {
    /// `CheckTransactionStateResponseHeader` (defined by Java, unused by its client).
    CheckTransactionStateResponseHeader {
        req producer_group: String => "producerGroup",
        req tran_state_table_offset: i64 => "tranStateTableOffset",
        req commit_log_offset: i64 => "commitLogOffset",
        req commit_or_rollback: i32 => "commitOrRollback",
    }
}

command_header! {
    /// NOTIFY_CONSUMER_IDS_CHANGED (40), broker → consumer.
    NotifyConsumerIdsChangedRequestHeader {
        req consumer_group: String => "consumerGroup",
    }
}

command_header! {
    /// PUSH_REPLY_MESSAGE_TO_CLIENT (326), broker → requesting producer.
    ReplyMessageRequestHeader {
        req producer_group: String => "producerGroup",
        req topic: String => "topic",
        req default_topic: String => "defaultTopic",
        req default_topic_queue_nums: i32 => "defaultTopicQueueNums",
        req queue_id: i32 => "queueId",
        req sys_flag: i32 => "sysFlag",
        req born_timestamp: i64 => "bornTimestamp",
        req flag: i32 => "flag",
        opt properties: String => "properties",
        opt reconsume_times: i32 => "reconsumeTimes",
        opt unit_mode: bool => "unitMode",
        /// `ip:port`.
        req born_host: String => "bornHost",
        /// `ip:port`.
        req store_host: String => "storeHost",
        req store_timestamp: i64 => "storeTimestamp",
    }
}

command_header! {
    /// GET_CONSUMER_RUNNING_INFO (307).
    GetConsumerRunningInfoRequestHeader {
        req consumer_group: String => "consumerGroup",
        req client_id: String => "clientId",
        opt jstack_enable: bool => "jstackEnable",
    }
}

command_header! {
    /// CONSUME_MESSAGE_DIRECTLY (309): `ConsumeMessageDirectlyResultRequestHeader`.
    ConsumeMessageDirectlyResultRequestHeader {
        req consumer_group: String => "consumerGroup",
        opt client_id: String => "clientId",
        /// Offset message id.
        opt msg_id: String => "msgId",
        opt broker_name: String => "brokerName",
        opt topic: String => "topic",
        opt topic_sys_flag: i32 => "topicSysFlag",
        opt group_sys_flag: i32 => "groupSysFlag",
    }
}

command_header! {
    /// RESET_CONSUMER_CLIENT_OFFSET (220) and INVOKE_BROKER_TO_RESET_OFFSET (222).
    ResetOffsetRequestHeader {
        req group: String => "group",
        req topic: String => "topic",
        /// 5.x; -1 = all queues.
        opt queue_id: i32 => "queueId",
        opt offset: i64 => "offset",
        /// Target time; -1 means the max offset.
        req timestamp: i64 => "timestamp",
        /// The key is literally `isForce`.
        req is_force: bool => "isForce",
    }
}
