//! Send and pull headers: the four headers that Java encodes on a fast path.

use super::command_header;

command_header! {
    /// SEND_MESSAGE (10) and SEND_REPLY_MESSAGE (324): `SendMessageRequestHeader`, long keys.
    SendMessageRequestHeader {
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
        opt batch: bool => "batch",
        opt max_reconsume_times: i32 => "maxReconsumeTimes",
        /// RPC field carrying the target broker name.
        opt broker_name: String => "bname",
    }
}

command_header! {
    /// SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320), SEND_REPLY_MESSAGE_V2 (325):
    /// `SendMessageRequestHeaderV2`, the same fields under one-letter keys.
    SendMessageRequestHeaderV2 {
        /// producerGroup
        req a: String => "a",
        /// topic
        req b: String => "b",
        /// defaultTopic
        req c: String => "c",
        /// defaultTopicQueueNums
        req d: i32 => "d",
        /// queueId
        req e: i32 => "e",
        /// sysFlag
        req f: i32 => "f",
        /// bornTimestamp
        req g: i64 => "g",
        /// flag
        req h: i32 => "h",
        /// properties
        opt i: String => "i",
        /// reconsumeTimes
        opt j: i32 => "j",
        /// unitMode
        opt k: bool => "k",
        /// maxReconsumeTimes
        opt l: i32 => "l",
        /// batch
        opt m: bool => "m",
        /// brokerName
        opt n: String => "n",
    }
}

impl From<SendMessageRequestHeader> for SendMessageRequestHeaderV2 {
    fn from(v1: SendMessageRequestHeader) -> Self {
        Self {
            a: v1.producer_group,
            b: v1.topic,
            c: v1.default_topic,
            d: v1.default_topic_queue_nums,
            e: v1.queue_id,
            f: v1.sys_flag,
            g: v1.born_timestamp,
            h: v1.flag,
            i: v1.properties,
            j: v1.reconsume_times,
            k: v1.unit_mode,
            l: v1.max_reconsume_times,
            m: v1.batch,
            n: v1.broker_name,
        }
    }
}

impl From<SendMessageRequestHeaderV2> for SendMessageRequestHeader {
    fn from(v2: SendMessageRequestHeaderV2) -> Self {
        Self {
            producer_group: v2.a,
            topic: v2.b,
            default_topic: v2.c,
            default_topic_queue_nums: v2.d,
            queue_id: v2.e,
            sys_flag: v2.f,
            born_timestamp: v2.g,
            flag: v2.h,
            properties: v2.i,
            reconsume_times: v2.j,
            unit_mode: v2.k,
            batch: v2.m,
            max_reconsume_times: v2.l,
            broker_name: v2.n,
        }
    }
}

/// Extra send-response key the broker always adds: the broker's region id.
pub const MSG_REGION_KEY: &str = "MSG_REGION";
/// Extra send-response key the broker always adds: `"true"`/`"false"`.
pub const TRACE_ON_KEY: &str = "TRACE_ON";

command_header! {
    /// Response to every send code: `SendMessageResponseHeader`. The broker also adds
    /// [`MSG_REGION_KEY`] and [`TRACE_ON_KEY`], and must always send an `extFields` map.
    SendMessageResponseHeader {
        /// Offset message id(s); comma-separated for a batch.
        req msg_id: String => "msgId",
        req queue_id: i32 => "queueId",
        req queue_offset: i64 => "queueOffset",
        opt transaction_id: String => "transactionId",
        opt batch_uniq_id: String => "batchUniqId",
        opt recall_handle: String => "recallHandle",
    }
}

command_header! {
    /// PULL_MESSAGE (11) and LITE_PULL_MESSAGE (361): `PullMessageRequestHeader`.
    PullMessageRequestHeader {
        req consumer_group: String => "consumerGroup",
        req topic: String => "topic",
        req queue_id: i32 => "queueId",
        req queue_offset: i64 => "queueOffset",
        req max_msg_nums: i32 => "maxMsgNums",
        /// PullSysFlag bits.
        req sys_flag: i32 => "sysFlag",
        req commit_offset: i64 => "commitOffset",
        req suspend_timeout_millis: i64 => "suspendTimeoutMillis",
        opt subscription: String => "subscription",
        req sub_version: i64 => "subVersion",
        opt expression_type: String => "expressionType",
        opt broker_name: String => "bname",
        opt max_msg_bytes: i32 => "maxMsgBytes",
        opt request_source: i32 => "requestSource",
        /// Spelled so in Java.
        opt proxy_froward_client_id: String => "proxyFrowardClientId",
    }
}

command_header! {
    /// Pull response: `PullMessageResponseHeader`. Always send the four required fields.
    PullMessageResponseHeader {
        req suggest_which_broker_id: i64 => "suggestWhichBrokerId",
        req next_begin_offset: i64 => "nextBeginOffset",
        req min_offset: i64 => "minOffset",
        req max_offset: i64 => "maxOffset",
        opt offset_delta: i64 => "offsetDelta",
        opt topic_sys_flag: i32 => "topicSysFlag",
        opt group_sys_flag: i32 => "groupSysFlag",
        opt forbidden_type: i32 => "forbiddenType",
    }
}

/// PullSysFlag bit: store `commitOffset`.
pub const PULL_FLAG_COMMIT_OFFSET: i32 = 0x1;
/// PullSysFlag bit: the broker may hold the request (long polling).
pub const PULL_FLAG_SUSPEND: i32 = 0x2;
/// PullSysFlag bit: use the request's subscription.
pub const PULL_FLAG_SUBSCRIPTION: i32 = 0x4;
/// PullSysFlag bit: legacy class filter.
pub const PULL_FLAG_CLASS_FILTER: i32 = 0x8;
/// PullSysFlag bit: lite pull consumer.
pub const PULL_FLAG_LITE_PULL_MESSAGE: i32 = 0x10;
