//! Admin → broker headers.

use super::command_header;

command_header! {
    /// UPDATE_AND_CREATE_TOPIC (17).
    CreateTopicRequestHeader {
        req topic: String => "topic",
        req default_topic: String => "defaultTopic",
        req read_queue_nums: i32 => "readQueueNums",
        req write_queue_nums: i32 => "writeQueueNums",
        req perm: i32 => "perm",
        /// `SINGLE_TAG` or `MULTI_TAG`.
        req topic_filter_type: String => "topicFilterType",
        opt topic_sys_flag: i32 => "topicSysFlag",
        req order: bool => "order",
        /// 5.x: `+key=value,-key`.
        opt attributes: String => "attributes",
        opt force: bool => "force",
    }
}

command_header! {
    /// A topic: DELETE_TOPIC_IN_BROKER (215), GET_TOPIC_STATS_INFO (202),
    /// QUERY_TOPIC_CONSUME_BY_WHO (300), GET_TOPIC_CONFIG (351).
    TopicRequestHeader {
        req topic: String => "topic",
    }
}

/// DELETE_TOPIC_IN_BROKER request.
pub type DeleteTopicRequestHeader = TopicRequestHeader;
/// GET_TOPIC_STATS_INFO request.
pub type GetTopicStatsInfoRequestHeader = TopicRequestHeader;
/// QUERY_TOPIC_CONSUME_BY_WHO request.
pub type QueryTopicConsumeByWhoRequestHeader = TopicRequestHeader;
/// GET_TOPIC_CONFIG request.
pub type GetTopicConfigRequestHeader = TopicRequestHeader;

command_header! {
    /// GET_ALL_TOPIC_CONFIG (21); 5.x paging fields, all optional.
    GetAllTopicConfigRequestHeader {
        opt topic_seq: i32 => "topicSeq",
        opt data_version: String => "dataVersion",
        opt max_topic_num: i32 => "maxTopicNum",
    }
}

command_header! {
    /// GET_ALL_TOPIC_CONFIG response (5.x).
    GetAllTopicConfigResponseHeader {
        opt total_topic_num: i32 => "totalTopicNum",
    }
}

command_header! {
    /// DELETE_SUBSCRIPTIONGROUP (207). 4.x sends `removeOffset`, 5.x `cleanOffset`.
    DeleteSubscriptionGroupRequestHeader {
        req group_name: String => "groupName",
        opt clean_offset: bool => "cleanOffset",
        opt remove_offset: bool => "removeOffset",
    }
}

impl DeleteSubscriptionGroupRequestHeader {
    /// Whether offsets should be removed, whichever spelling the sender used.
    pub fn should_clean_offset(&self) -> bool {
        self.clean_offset.or(self.remove_offset).unwrap_or(false)
    }
}

command_header! {
    /// GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201); 5.x paging fields, all optional.
    GetAllSubscriptionGroupConfigRequestHeader {
        opt group_seq: i32 => "groupSeq",
        opt data_version: String => "dataVersion",
        opt max_group_num: i32 => "maxGroupNum",
    }
}

command_header! {
    /// GET_ALL_SUBSCRIPTIONGROUP_CONFIG response (5.x).
    GetAllSubscriptionGroupConfigResponseHeader {
        opt total_group_num: i32 => "totalGroupNum",
    }
}

command_header! {
    /// GET_CONSUME_STATS (208).
    GetConsumeStatsRequestHeader {
        req consumer_group: String => "consumerGroup",
        opt topic: String => "topic",
        /// 5.x, `;`-separated.
        opt topic_list: String => "topicList",
    }
}

command_header! {
    /// GET_CONSUMER_CONNECTION_LIST (203).
    GetConsumerConnectionListRequestHeader {
        req consumer_group: String => "consumerGroup",
    }
}

command_header! {
    /// GET_PRODUCER_CONNECTION_LIST (204).
    GetProducerConnectionListRequestHeader {
        req producer_group: String => "producerGroup",
    }
}

command_header! {
    /// GET_BROKER_CONFIG (26) response.
    GetBrokerConfigResponseHeader {
        /// DataVersion JSON of the configuration.
        req version: String => "version",
    }
}

command_header! {
    /// QUERY_CONSUME_QUEUE (321).
    QueryConsumeQueueRequestHeader {
        req topic: String => "topic",
        req queue_id: i32 => "queueId",
        req index: i64 => "index",
        req count: i32 => "count",
        opt consumer_group: String => "consumerGroup",
    }
}

command_header! {
    /// GET_SUBSCRIPTIONGROUP_CONFIG (352).
    GetSubscriptionGroupConfigRequestHeader {
        req group: String => "group",
    }
}

command_header! {
    /// QUERY_CONSUME_TIME_SPAN (303).
    QueryConsumeTimeSpanRequestHeader {
        req topic: String => "topic",
        req group: String => "group",
    }
}

command_header! {
    /// INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223) and GET_CONSUMER_STATUS_FROM_CLIENT (221).
    GetConsumerStatusRequestHeader {
        req topic: String => "topic",
        req group: String => "group",
        opt client_addr: String => "clientAddr",
    }
}

command_header! {
    /// CLONE_GROUP_OFFSET (314).
    CloneGroupOffsetRequestHeader {
        req src_group: String => "srcGroup",
        req dest_group: String => "destGroup",
        opt topic: String => "topic",
        opt offline: bool => "offline",
    }
}

command_header! {
    /// QUERY_CORRECTION_OFFSET (308).
    QueryCorrectionOffsetHeader {
        /// `,`-separated.
        opt filter_groups: String => "filterGroups",
        req compare_group: String => "compareGroup",
        req topic: String => "topic",
    }
}

command_header! {
    /// VIEW_BROKER_STATS_DATA (315).
    ViewBrokerStatsDataRequestHeader {
        req stats_name: String => "statsName",
        req stats_key: String => "statsKey",
    }
}

command_header! {
    /// GET_BROKER_CONSUME_STATS (317).
    GetConsumeStatsInBrokerHeader {
        /// The key is literally `isOrder`.
        req is_order: bool => "isOrder",
    }
}

command_header! {
    /// RESUME_CHECK_HALF_MESSAGE (323).
    ResumeCheckHalfMessageRequestHeader {
        opt topic: String => "topic",
        opt msg_id: String => "msgId",
    }
}
