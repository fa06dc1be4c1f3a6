//! Well-known message property names (`MessageConst`).
//!
//! Properties travel in the properties string of a record (see
//! [`crate::properties`]). Names starting with [`TRANSIENT_PREFIX`] are never
//! stored.

/// Separator between several keys in `KEYS`.
pub const KEY_SEPARATOR: &str = " ";
/// Prefix of properties that are never stored.
pub const TRANSIENT_PREFIX: &str = "__RMQ.TRANSIENT.";
/// Transient topic sys flag property.
pub const PROPERTY_TRANSIENT_TOPIC_CONFIG: &str = "__RMQ.TRANSIENT.TOPIC_SYS_FLAG";
/// Transient group sys flag property.
pub const PROPERTY_TRANSIENT_GROUP_CONFIG: &str = "__RMQ.TRANSIENT.GROUP_SYS_FLAG";
/// Length of the reserved CRC32 property: `__CRC32#` + 0x01 + 10 digits + 0x02.
pub const CRC32_RESERVED_LEN: usize = 20;
/// User keys, space-separated; indexed.
pub const PROPERTY_KEYS: &str = "KEYS";
/// Tag; its Java hash goes to the consume queue.
pub const PROPERTY_TAGS: &str = "TAGS";
/// `"true"`/`"false"`; absent means true.
pub const PROPERTY_WAIT_STORE_MSG_OK: &str = "WAIT";
/// Delay level 1..18.
pub const PROPERTY_DELAY_TIME_LEVEL: &str = "DELAY";
/// Original topic of a retried message.
pub const PROPERTY_RETRY_TOPIC: &str = "RETRY_TOPIC";
/// Original topic while parked in schedule/half/timer topics.
pub const PROPERTY_REAL_TOPIC: &str = "REAL_TOPIC";
/// Original queue id while parked.
pub const PROPERTY_REAL_QUEUE_ID: &str = "REAL_QID";
/// `"true"` on half messages.
pub const PROPERTY_TRANSACTION_PREPARED: &str = "TRAN_MSG";
/// Producer group of a transactional message.
pub const PROPERTY_PRODUCER_GROUP: &str = "PGROUP";
/// Client-side, from the pull response.
pub const PROPERTY_MIN_OFFSET: &str = "MIN_OFFSET";
/// Client-side, from the pull response.
pub const PROPERTY_MAX_OFFSET: &str = "MAX_OFFSET";
/// Legacy.
pub const PROPERTY_BUYER_ID: &str = "BUYER_ID";
/// Message id of the first delivery of a retried message.
pub const PROPERTY_ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
/// Legacy.
pub const PROPERTY_TRANSFER_FLAG: &str = "TRANSFER_FLAG";
/// Legacy.
pub const PROPERTY_CORRECTION_FLAG: &str = "CORRECTION_FLAG";
/// Legacy.
pub const PROPERTY_MQ2_FLAG: &str = "MQ2_FLAG";
/// Client fallback retry: moved into the header by the producer.
pub const PROPERTY_RECONSUME_TIME: &str = "RECONSUME_TIME";
/// Broker region id.
pub const PROPERTY_MSG_REGION: &str = "MSG_REGION";
/// Broker trace switch.
pub const PROPERTY_TRACE_SWITCH: &str = "TRACE_ON";
/// Client unique id.
pub const PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX: &str = "UNIQ_KEY";
/// Extended unique info.
pub const PROPERTY_EXTEND_UNIQ_INFO: &str = "EXTEND_UNIQ_INFO";
/// Moved into header `maxReconsumeTimes` by the producer.
pub const PROPERTY_MAX_RECONSUME_TIMES: &str = "MAX_RECONSUME_TIMES";
/// Client-side consume start time.
pub const PROPERTY_CONSUME_START_TIMESTAMP: &str = "CONSUME_START_TIME";
/// 5.x inner batch: number of messages.
pub const PROPERTY_INNER_NUM: &str = "INNER_NUM";
/// 5.x inner batch: base offset.
pub const PROPERTY_INNER_BASE: &str = "INNER_BASE";
/// Duplicate info.
pub const DUP_INFO: &str = "DUP_INFO";
/// First transaction check delay.
pub const PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS: &str = "CHECK_IMMUNITY_TIME_IN_SECONDS";
/// Original half queue offset on re-put half messages.
pub const PROPERTY_TRANSACTION_PREPARED_QUEUE_OFFSET: &str = "TRAN_PREPARED_QUEUE_OFFSET";
/// Transaction id (= UNIQ_KEY) on half messages.
pub const PROPERTY_TRANSACTION_ID: &str = "__transactionId__";
/// Number of transaction checks so far.
pub const PROPERTY_TRANSACTION_CHECK_TIMES: &str = "TRANSACTION_CHECK_TIMES";
/// Client namespace.
pub const PROPERTY_INSTANCE_ID: &str = "INSTANCE_ID";
/// Request/reply correlation id.
pub const PROPERTY_CORRELATION_ID: &str = "CORRELATION_ID";
/// Client id of the requester.
pub const PROPERTY_MESSAGE_REPLY_TO_CLIENT: &str = "REPLY_TO_CLIENT";
/// Request timeout in ms.
pub const PROPERTY_MESSAGE_TTL: &str = "TTL";
/// Reply arrival time.
pub const PROPERTY_REPLY_MESSAGE_ARRIVE_TIME: &str = "ARRIVE_TIME";
/// Set by the broker when pushing a reply.
pub const PROPERTY_PUSH_REPLY_TIME: &str = "PUSH_REPLY_TIME";
/// Set by the broker on every stored message.
pub const PROPERTY_CLUSTER: &str = "CLUSTER";
/// `"reply"` for reply messages.
pub const PROPERTY_MESSAGE_TYPE: &str = "MSG_TYPE";
/// 5.x pop checkpoint.
pub const PROPERTY_POP_CK: &str = "POP_CK";
/// 5.x pop checkpoint offset.
pub const PROPERTY_POP_CK_OFFSET: &str = "POP_CK_OFFSET";
/// 5.x first pop time.
pub const PROPERTY_FIRST_POP_TIME: &str = "1ST_POP_TIME";
/// Marks ordered messages (metrics only).
pub const PROPERTY_SHARDING_KEY: &str = "__SHARDINGKEY";
/// ONS-compatible delivery time (classification only).
pub const PROPERTY_STARTDELIVERTIME: &str = "__STARTDELIVERTIME";
/// Forward queue id.
pub const PROPERTY_FORWARD_QUEUE_ID: &str = "PROPERTY_FORWARD_QUEUE_ID";
/// Redirect marker.
pub const PROPERTY_REDIRECT: &str = "REDIRECT";
/// LMQ multi-dispatch queues.
pub const PROPERTY_INNER_MULTI_DISPATCH: &str = "INNER_MULTI_DISPATCH";
/// LMQ multi-dispatch offsets.
pub const PROPERTY_INNER_MULTI_QUEUE_OFFSET: &str = "INNER_MULTI_QUEUE_OFFSET";
/// Trace context.
pub const PROPERTY_TRACE_CONTEXT: &str = "TRACE_CONTEXT";
/// 5.x timer: deliver after N seconds.
pub const PROPERTY_TIMER_DELAY_SEC: &str = "TIMER_DELAY_SEC";
/// 5.x timer: deliver after N ms.
pub const PROPERTY_TIMER_DELAY_MS: &str = "TIMER_DELAY_MS";
/// 5.x timer: absolute delivery time in ms.
pub const PROPERTY_TIMER_DELIVER_MS: &str = "TIMER_DELIVER_MS";
/// 5.x timer internal.
pub const PROPERTY_TIMER_ENQUEUE_MS: &str = "TIMER_ENQUEUE_MS";
/// 5.x timer internal.
pub const PROPERTY_TIMER_DEQUEUE_MS: &str = "TIMER_DEQUEUE_MS";
/// 5.x timer internal.
pub const PROPERTY_TIMER_ROLL_TIMES: &str = "TIMER_ROLL_TIMES";
/// 5.x timer: scheduled time.
pub const PROPERTY_TIMER_OUT_MS: &str = "TIMER_OUT_MS";
/// 5.x timer internal.
pub const PROPERTY_TIMER_DEL_UNIQKEY: &str = "TIMER_DEL_UNIQKEY";
/// 5.x timer internal.
pub const PROPERTY_TIMER_DELAY_LEVEL: &str = "TIMER_DELAY_LEVEL";
/// Born host.
pub const PROPERTY_BORN_HOST: &str = "__BORNHOST";
/// Born timestamp.
pub const PROPERTY_BORN_TIMESTAMP: &str = "BORN_TIMESTAMP";
/// Reserved CRC32 property (`enabledAppendPropCRC`).
pub const PROPERTY_CRC32: &str = "__CRC32#";
/// Original topic of a dead-lettered message.
pub const PROPERTY_DLQ_ORIGIN_TOPIC: &str = "DLQ_ORIGIN_TOPIC";
/// Original message id of a dead-lettered message.
pub const PROPERTY_DLQ_ORIGIN_MESSAGE_ID: &str = "DLQ_ORIGIN_MESSAGE_ID";

/// Every property name above (Java `MessageConst.STRING_HASH_SET`-like list of
/// system property names).
pub const SYSTEM_PROPERTY_NAMES: &[&str] = &[
    PROPERTY_KEYS,
    PROPERTY_TAGS,
    PROPERTY_WAIT_STORE_MSG_OK,
    PROPERTY_DELAY_TIME_LEVEL,
    PROPERTY_RETRY_TOPIC,
    PROPERTY_REAL_TOPIC,
    PROPERTY_REAL_QUEUE_ID,
    PROPERTY_TRANSACTION_PREPARED,
    PROPERTY_PRODUCER_GROUP,
    PROPERTY_MIN_OFFSET,
    PROPERTY_MAX_OFFSET,
    PROPERTY_BUYER_ID,
    PROPERTY_ORIGIN_MESSAGE_ID,
    PROPERTY_TRANSFER_FLAG,
    PROPERTY_CORRECTION_FLAG,
    PROPERTY_MQ2_FLAG,
    PROPERTY_RECONSUME_TIME,
    PROPERTY_MSG_REGION,
    PROPERTY_TRACE_SWITCH,
    PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX,
    PROPERTY_EXTEND_UNIQ_INFO,
    PROPERTY_MAX_RECONSUME_TIMES,
    PROPERTY_CONSUME_START_TIMESTAMP,
    PROPERTY_INNER_NUM,
    PROPERTY_INNER_BASE,
    DUP_INFO,
    PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS,
    PROPERTY_TRANSACTION_PREPARED_QUEUE_OFFSET,
    PROPERTY_TRANSACTION_ID,
    PROPERTY_TRANSACTION_CHECK_TIMES,
    PROPERTY_INSTANCE_ID,
    PROPERTY_CORRELATION_ID,
    PROPERTY_MESSAGE_REPLY_TO_CLIENT,
    PROPERTY_MESSAGE_TTL,
    PROPERTY_REPLY_MESSAGE_ARRIVE_TIME,
    PROPERTY_PUSH_REPLY_TIME,
    PROPERTY_CLUSTER,
    PROPERTY_MESSAGE_TYPE,
    PROPERTY_POP_CK,
    PROPERTY_POP_CK_OFFSET,
    PROPERTY_FIRST_POP_TIME,
    PROPERTY_SHARDING_KEY,
    PROPERTY_STARTDELIVERTIME,
    PROPERTY_FORWARD_QUEUE_ID,
    PROPERTY_REDIRECT,
    PROPERTY_INNER_MULTI_DISPATCH,
    PROPERTY_INNER_MULTI_QUEUE_OFFSET,
    PROPERTY_TRACE_CONTEXT,
    PROPERTY_TIMER_DELAY_SEC,
    PROPERTY_TIMER_DELAY_MS,
    PROPERTY_TIMER_DELIVER_MS,
    PROPERTY_TIMER_ENQUEUE_MS,
    PROPERTY_TIMER_DEQUEUE_MS,
    PROPERTY_TIMER_ROLL_TIMES,
    PROPERTY_TIMER_OUT_MS,
    PROPERTY_TIMER_DEL_UNIQKEY,
    PROPERTY_TIMER_DELAY_LEVEL,
    PROPERTY_BORN_HOST,
    PROPERTY_BORN_TIMESTAMP,
    PROPERTY_CRC32,
    PROPERTY_DLQ_ORIGIN_TOPIC,
    PROPERTY_DLQ_ORIGIN_MESSAGE_ID,
];

/// True for a system property name (user properties may not use these).
pub fn is_system_property(name: &str) -> bool {
    SYSTEM_PROPERTY_NAMES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct() {
        let mut names = SYSTEM_PROPERTY_NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SYSTEM_PROPERTY_NAMES.len());
        assert!(is_system_property("UNIQ_KEY"));
        assert!(!is_system_property("fxColor"));
        assert_eq!(PROPERTY_TRANSACTION_ID, "__transactionId__");
    }
}
