use super::*;
use ferric_protocol::header::SendMessageResponseHeader;
use ferric_protocol::{RemotingCommand, ResponseCode};

#[test]
fn hash_selector_matches_java() {
    // "order-1".hashCode() = -1_207_070_950 in Java; % 4 = -2 → 2.
    assert_eq!(java_hash("order-1") % 4, -2);
    assert_eq!(select_queue_by_hash(4, "order-1"), 2);
    assert_eq!(select_queue_by_hash(0, "x"), 0);
    for key in ["a", "bb", "order-99", ""] {
        assert!(select_queue_by_hash(8, key) < 8);
        assert_eq!(select_queue_by_hash(8, key), select_queue_by_hash(8, key));
    }
}

fn response(code: ResponseCode) -> RemotingCommand {
    let header = SendMessageResponseHeader {
        msg_id: "7F000001000051AF0000000000000000".into(),
        queue_id: 1,
        queue_offset: 7,
        ..Default::default()
    };
    let mut response = RemotingCommand::response(code.value(), None).with_header(&header);
    response.set_ext("MSG_REGION", "DefaultRegion");
    response.set_ext("TRACE_ON", "true");
    response
}

#[test]
fn send_response_statuses() {
    let mq = MessageQueue::new("T", "broker-a", 3);
    let ok = send::process_send_response("b", &response(ResponseCode::SUCCESS), &mq, "U1")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.status, SendStatus::SendOk);
    assert_eq!(ok.message_queue, MessageQueue::new("T", "broker-a", 1));
    assert_eq!(ok.queue_offset, 7);
    assert_eq!(ok.msg_id, "U1");
    assert_eq!(ok.region_id.as_deref(), Some("DefaultRegion"));
    for (code, status) in [
        (
            ResponseCode::FLUSH_DISK_TIMEOUT,
            SendStatus::FlushDiskTimeout,
        ),
        (
            ResponseCode::FLUSH_SLAVE_TIMEOUT,
            SendStatus::FlushSlaveTimeout,
        ),
        (
            ResponseCode::SLAVE_NOT_AVAILABLE,
            SendStatus::SlaveNotAvailable,
        ),
    ] {
        let result = send::process_send_response("b", &response(code), &mq, "U1");
        assert_eq!(result.map(|r| r.status).ok(), Some(status));
    }
    let err = send::process_send_response("b", &response(ResponseCode::SYSTEM_BUSY), &mq, "U1");
    assert!(matches!(err, Err(ClientError::Broker { code: 2, .. })));
    assert!(send::is_retryable_code(ResponseCode::SYSTEM_BUSY.value()));
    assert!(!send::is_retryable_code(13));
}

#[test]
fn compression_and_transaction_flags() {
    let mut msg = Message::new("T", vec![b'a'; 5000]);
    msg.properties.insert("TRAN_MSG", "true");
    let prepared =
        send::PreparedSend::single(&msg, || "ID".into(), 4096).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(prepared.sys_flag, 0x301 | 0x4);
    assert!(prepared.body.len() < 5000);
    assert_eq!(prepared.properties.get("UNIQ_KEY"), Some("ID"));
    let small = send::PreparedSend::single(&Message::new("T", "x"), || "ID".into(), 4096)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(small.sys_flag, 0);
}

#[test]
fn retry_topic_moves_bookkeeping_into_header() {
    let mut msg = Message::new("%RETRY%g", "x");
    msg.properties.insert("RECONSUME_TIME", "3");
    msg.properties.insert("MAX_RECONSUME_TIMES", "16");
    let prepared =
        send::PreparedSend::single(&msg, || "ID".into(), 4096).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(prepared.reconsume_times, 3);
    assert_eq!(prepared.max_reconsume_times, Some(16));
    assert!(prepared.properties.get("RECONSUME_TIME").is_none());
    let mut reply = Message::new("C_REPLY_TOPIC", "x");
    reply.properties.insert("MSG_TYPE", "reply");
    let prepared =
        send::PreparedSend::single(&reply, || "ID".into(), 4096).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(prepared.request_code().value(), 325);
}
