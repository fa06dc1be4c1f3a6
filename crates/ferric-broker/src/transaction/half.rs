//! Building the records of the transaction protocol: half messages, their check copies, the
//! committed message, op records; and reading op bodies. Pure functions plus one blocking
//! store write ([`write_op_record`]).

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use ferric_common::Properties;
use ferric_common::message::MessageExt;
use ferric_common::message_const::{
    PROPERTY_PRODUCER_GROUP, PROPERTY_REAL_QUEUE_ID, PROPERTY_REAL_TOPIC, PROPERTY_TAGS,
    PROPERTY_TRANSACTION_CHECK_TIMES, PROPERTY_TRANSACTION_PREPARED, PROPERTY_WAIT_STORE_MSG_OK,
};
use ferric_common::record::encode_record;
use ferric_common::sysflag::{
    TRANSACTION_COMMIT_TYPE, TRANSACTION_NOT_TYPE, TRANSACTION_TYPE_MASK,
};
use ferric_common::topic::names::{TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC};
use ferric_protocol::ResponseCode;
use ferric_store::{MessageStore, PutMessageStatus};

use super::{HALF_QUEUE_ID, LOG_TARGET, REMOVE_TAG};
use crate::error::BrokerError;

/// True when a send's properties mark it as a half message (`TRAN_MSG` parses as true,
/// case-insensitively, like Java's `Boolean.parseBoolean`).
pub fn is_transaction_prepared(properties: &Properties) -> bool {
    properties
        .get(PROPERTY_TRANSACTION_PREPARED)
        .is_some_and(|value| value.eq_ignore_ascii_case("true"))
}

/// Turns a message bound for its real topic into the half message that is stored instead:
/// `REAL_TOPIC` / `REAL_QID` added, transaction bits reset to NOT_TYPE, topic
/// `RMQ_SYS_TRANS_HALF_TOPIC`, queue 0.
pub fn to_half_message(mut message: MessageExt) -> MessageExt {
    let real_topic = std::mem::take(&mut message.topic);
    message
        .properties
        .insert(PROPERTY_REAL_TOPIC, real_topic.as_str());
    message
        .properties
        .insert(PROPERTY_REAL_QUEUE_ID, message.queue_id.to_string());
    message.sys_flag = reset_transaction_type(message.sys_flag, TRANSACTION_NOT_TYPE);
    message.topic = TRANS_HALF_TOPIC.to_owned();
    message.queue_id = HALF_QUEUE_ID;
    message
}

/// Applies the send-path rules to the messages of one send: unless `TRAN_MSG` is set they
/// are returned unchanged (`false`); otherwise the single message becomes a half message
/// (`true`), or the send is refused with NO_PERMISSION when `rejectTransactionMessage`.
pub fn prepare_send(
    reject_transaction_message: bool,
    broker_ip: &str,
    header_properties: &Properties,
    batch: bool,
    messages: Vec<MessageExt>,
) -> Result<(Vec<MessageExt>, bool), BrokerError> {
    let prepared = !batch && is_transaction_prepared(header_properties);
    prepare_send_if(reject_transaction_message, broker_ip, prepared, messages)
}

/// [`prepare_send`] once the caller knows whether the send is a single message with `TRAN_MSG`
/// set (`prepared`), so its header properties need not outlive the stored message.
pub fn prepare_send_if(
    reject_transaction_message: bool,
    broker_ip: &str,
    prepared: bool,
    messages: Vec<MessageExt>,
) -> Result<(Vec<MessageExt>, bool), BrokerError> {
    if !prepared {
        return Ok((messages, false));
    }
    if reject_transaction_message {
        return Err(BrokerError::refused(
            ResponseCode::NO_PERMISSION,
            format!("the broker[{broker_ip}] sending transaction message is forbidden"),
        ));
    }
    Ok((messages.into_iter().map(to_half_message).collect(), true))
}

/// `sys_flag` with its transaction bits replaced by `transaction_type`.
pub fn reset_transaction_type(sys_flag: i32, transaction_type: i32) -> i32 {
    (sys_flag & !TRANSACTION_TYPE_MASK) | (transaction_type & TRANSACTION_TYPE_MASK)
}

/// The real topic and queue id recorded in a half message.
pub fn real_destination(half: &MessageExt) -> Option<(String, i32)> {
    let topic = half.properties.get(PROPERTY_REAL_TOPIC)?;
    let queue_id = half.properties.get(PROPERTY_REAL_QUEUE_ID)?.parse().ok()?;
    Some((topic.to_owned(), queue_id))
}

/// The producer group recorded in a half message.
pub fn producer_group(half: &MessageExt) -> Option<&str> {
    half.properties.get(PROPERTY_PRODUCER_GROUP)
}

/// The message a commit stores: the half message under its real topic and queue, SYSFLAG
/// transaction bits COMMIT, `preparedTransactionOffset` = the half record's CommitLog offset.
/// Every property is kept as stored (Java 4.9.8 does the same).
pub fn committed_message(half: &MessageExt) -> Result<MessageExt, BrokerError> {
    let Some((topic, queue_id)) = real_destination(half) else {
        return Err(BrokerError::refused(
            ResponseCode::SYSTEM_ERROR,
            "The half message has no REAL_TOPIC/REAL_QID",
        ));
    };
    Ok(MessageExt {
        topic,
        queue_id,
        sys_flag: reset_transaction_type(half.sys_flag, TRANSACTION_COMMIT_TYPE),
        prepared_transaction_offset: half.commit_log_offset,
        queue_offset: 0,
        commit_log_offset: 0,
        store_timestamp: 0,
        ..half.clone()
    })
}

/// The copy of a half message that a check appends to the half queue, with
/// `TRANSACTION_CHECK_TIMES` = `check_times`.
pub fn check_copy(half: &MessageExt, check_times: i32) -> MessageExt {
    let mut copy = MessageExt {
        queue_offset: 0,
        commit_log_offset: 0,
        store_timestamp: 0,
        ..half.clone()
    };
    copy.properties
        .insert(PROPERTY_TRANSACTION_CHECK_TIMES, check_times.to_string());
    copy
}

/// `TRANSACTION_CHECK_TIMES` of a half message (0 when absent or malformed).
pub fn check_times(half: &MessageExt) -> i32 {
    half.properties
        .get(PROPERTY_TRANSACTION_CHECK_TIMES)
        .and_then(|times| times.parse().ok())
        .unwrap_or(0)
}

/// The CHECK_TRANSACTION_STATE body: the half message (as stored at `queue_offset` /
/// `commit_log_offset`) re-encoded in the stored layout with topic and queue id reset to
/// `REAL_TOPIC` / `REAL_QID`.
pub fn check_body(half: &MessageExt) -> Result<Bytes, BrokerError> {
    let mut message = half.clone();
    if let Some((topic, queue_id)) = real_destination(half) {
        message.topic = topic;
        message.queue_id = queue_id;
    }
    let mut out = BytesMut::new();
    encode_record(&message, &mut out).map_err(|error| {
        BrokerError::refused(
            ResponseCode::SYSTEM_ERROR,
            format!("half message not encodable: {error}"),
        )
    })?;
    Ok(out.freeze())
}

/// An op record marking half-queue offset `half_queue_offset` as resolved: tag `d`, body the
/// offset in ASCII decimal, born and stored by the broker itself.
pub fn op_message(half_queue_offset: i64, store_host: SocketAddr, now_ms: i64) -> MessageExt {
    let mut properties = Properties::new();
    properties.insert(PROPERTY_WAIT_STORE_MSG_OK, "true");
    properties.insert(PROPERTY_TAGS, REMOVE_TAG);
    MessageExt {
        topic: TRANS_OP_HALF_TOPIC.to_owned(),
        queue_id: HALF_QUEUE_ID,
        body: Bytes::from(half_queue_offset.to_string()),
        born_timestamp: now_ms,
        born_host: store_host,
        store_host,
        properties,
        ..MessageExt::default()
    }
}

/// The half-queue offsets named by an op record body: one decimal number (4.x) or a
/// comma-terminated list (5.x). Malformed parts are skipped.
pub fn parse_op_body(body: &[u8]) -> Vec<i64> {
    String::from_utf8_lossy(body)
        .split(',')
        .filter_map(|part| part.trim().parse().ok())
        .collect()
}

/// Writes the op record for `half_queue_offset` (blocking). Failures are logged: the half
/// message is then checked again later, which the producer answers idempotently.
pub fn write_op_record(
    store: &MessageStore,
    half_queue_offset: i64,
    store_host: SocketAddr,
    now_ms: i64,
) -> bool {
    let result = store.put_message(op_message(half_queue_offset, store_host, now_ms));
    let written = matches!(
        result.status,
        PutMessageStatus::PutOk | PutMessageStatus::FlushDiskTimeout
    );
    if !written {
        tracing::error!(target: LOG_TARGET, half_queue_offset, status = result.status.as_str(), "transaction op record not written");
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferric_common::sysflag::{MULTI_TAGS_FLAG, TRANSACTION_PREPARED_TYPE};

    fn sent(topic: &str, queue_id: i32) -> MessageExt {
        let mut properties = Properties::new();
        properties.insert("TRAN_MSG", "true");
        properties.insert("PGROUP", "PID_txn");
        properties.insert("UNIQ_KEY", "U1");
        MessageExt {
            topic: topic.to_owned(),
            queue_id,
            sys_flag: TRANSACTION_PREPARED_TYPE | MULTI_TAGS_FLAG,
            body: Bytes::from_static(b"payload"),
            properties,
            ..MessageExt::default()
        }
    }

    #[test]
    fn half_message_parks_the_real_destination_and_clears_the_prepared_bits() {
        let half = to_half_message(sent("TxnTopic", 3));
        assert_eq!(half.topic, TRANS_HALF_TOPIC);
        assert_eq!(half.queue_id, 0);
        assert_eq!(half.sys_flag, MULTI_TAGS_FLAG);
        assert_eq!(real_destination(&half), Some(("TxnTopic".to_owned(), 3)));
        assert_eq!(producer_group(&half), Some("PID_txn"));
    }

    #[test]
    fn prepare_send_only_touches_single_transactional_sends() {
        let props = Properties::decode(b"TRAN_MSG\x01TRUE");
        let (out, half) =
            prepare_send(false, "1.2.3.4", &props, false, vec![sent("T", 1)]).expect("accepted");
        assert!(half);
        assert_eq!(out[0].topic, TRANS_HALF_TOPIC);
        let (out, half) =
            prepare_send(false, "1.2.3.4", &props, true, vec![sent("T", 1)]).expect("batch");
        assert!(!half);
        assert_eq!(out[0].topic, "T");
        let plain = Properties::decode(b"TRAN_MSG\x01false");
        assert!(
            !prepare_send(false, "x", &plain, false, vec![])
                .expect("plain")
                .1
        );
        let refused = prepare_send(true, "1.2.3.4", &props, false, vec![sent("T", 1)]);
        match refused {
            Err(error) => assert_eq!(error.response_code(), ResponseCode::NO_PERMISSION),
            Ok(_) => panic!("rejectTransactionMessage must refuse"),
        }
    }

    #[test]
    fn commit_restores_topic_and_marks_commit() {
        let mut half = to_half_message(sent("TxnTopic", 2));
        half.commit_log_offset = 2809;
        half.queue_offset = 7;
        let committed = committed_message(&half).expect("has destination");
        assert_eq!(
            (committed.topic.as_str(), committed.queue_id),
            ("TxnTopic", 2)
        );
        assert_eq!(
            committed.sys_flag,
            MULTI_TAGS_FLAG | TRANSACTION_COMMIT_TYPE
        );
        assert_eq!(committed.prepared_transaction_offset, 2809);
        assert_eq!(committed.properties.get("REAL_TOPIC"), Some("TxnTopic"));
        assert_eq!(committed.properties.get("TRAN_MSG"), Some("true"));
        let mut broken = half.clone();
        broken.properties.remove("REAL_QID");
        assert!(committed_message(&broken).is_err());
    }

    #[test]
    fn copies_count_checks_and_op_bodies_parse_both_layouts() {
        let half = to_half_message(sent("TxnTopic", 2));
        assert_eq!(check_times(&half), 0);
        let copy = check_copy(&half, 1);
        assert_eq!(check_times(&copy), 1);
        assert_eq!(check_times(&check_copy(&copy, 2)), 2);
        assert_eq!(parse_op_body(b"3"), vec![3]);
        assert_eq!(parse_op_body(b"12,13,17,"), vec![12, 13, 17]);
        assert!(parse_op_body(b"x").is_empty());
        let op = op_message(5, "127.0.0.1:10911".parse().expect("addr"), 1);
        assert_eq!(op.body.as_ref(), b"5");
        assert_eq!(
            op.properties.encode(),
            b"WAIT\x01true\x02TAGS\x01d".to_vec()
        );
        assert_eq!(op.topic, TRANS_OP_HALF_TOPIC);
    }

    #[test]
    fn check_body_carries_the_real_destination() {
        let mut half = to_half_message(sent("TxnTopic", 2));
        half.queue_offset = 3;
        half.commit_log_offset = 4523;
        let body = check_body(&half).expect("encodes");
        let view = match ferric_common::record::parse_record(&body).expect("parses") {
            ferric_common::record::Parsed::Message(view) => view.to_message_ext(),
            other => panic!("{other:?}"),
        };
        assert_eq!((view.topic.as_str(), view.queue_id), ("TxnTopic", 2));
        assert_eq!((view.queue_offset, view.commit_log_offset), (3, 4523));
    }
}
