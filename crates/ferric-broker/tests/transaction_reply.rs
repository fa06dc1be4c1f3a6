//! Transactions and request/reply over real TCP against an in-process broker: half messages,
//! END_TRANSACTION commit/rollback/unknown, CHECK_TRANSACTION_STATE check-backs answered by a
//! client-side processor, the check limit, restarts, and SEND_REPLY_MESSAGE(_V2) pushed to the
//! requester with PUSH_REPLY_MESSAGE_TO_CLIENT.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use ferric_broker::BrokerConfig;
use ferric_common::message::MessageExt;
use ferric_common::message_id::decode_offset_msg_id;
use ferric_common::topic::names::{CID_RMQ_SYS_TRANS, TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC};
use ferric_protocol::header::{
    CheckTransactionStateRequestHeader, EndTransactionRequestHeader, SendMessageRequestHeader,
    SendMessageResponseHeader,
};
use ferric_protocol::{RemotingCommand, RequestCode};
use ferric_remoting::{ClientConfig, RemotingClient, processor_fn};
use tokio::sync::mpsc;

const GROUP: &str = "PID_txn";

fn props(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}\u{1}{v}"))
        .collect::<Vec<_>>()
        .join("\u{2}")
}

fn half_send(topic: &str, body: &str, uniq: &str) -> RemotingCommand {
    let properties = props(&[
        ("TRAN_MSG", "true"),
        ("PGROUP", GROUP),
        ("UNIQ_KEY", uniq),
        ("WAIT", "true"),
        ("TAGS", "TagT"),
    ]);
    let mut request = send_v2(topic, 0, body.as_bytes(), &properties);
    request.set_ext("a", GROUP);
    request.set_ext("f", "4");
    request.set_ext("g", ferric_broker::persist::now_ms().to_string());
    request
}

fn end_transaction(sent: &SendMessageResponseHeader, uniq: &str, state: i32) -> RemotingCommand {
    let offset = decode_offset_msg_id(&sent.msg_id).expect("offset msg id");
    RemotingCommand::request(RequestCode::END_TRANSACTION.0).with_header(
        &EndTransactionRequestHeader {
            producer_group: GROUP.to_owned(),
            tran_state_table_offset: sent.queue_offset,
            commit_log_offset: offset.commit_log_offset,
            commit_or_rollback: state,
            from_transaction_check: Some(false),
            msg_id: uniq.to_owned(),
            ..EndTransactionRequestHeader::default()
        },
    )
}

fn heartbeat(client_id: &str, producer_group: &str) -> RemotingCommand {
    let body = serde_json::json!({
        "clientID": client_id,
        "producerDataSet": [{"groupName": producer_group}],
        "consumerDataSet": [],
    });
    RemotingCommand::request(RequestCode::HEART_BEAT.0)
        .with_body(Bytes::from(serde_json::to_vec(&body).expect("json")))
}

/// A producer connection registered in `GROUP` whose processor for CHECK_TRANSACTION_STATE
/// forwards each check and, if `answer` is set, answers it with END_TRANSACTION
/// (`fromTransactionCheck=true`).
struct Producer {
    client: RemotingClient,
    checks: mpsc::UnboundedReceiver<RemotingCommand>,
    count: Arc<AtomicUsize>,
}

async fn connect_producer(addr: &str, answer: Option<i32>) -> anyhow::Result<Producer> {
    let client = RemotingClient::new(ClientConfig::default());
    let (tx, checks) = mpsc::unbounded_channel();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    client.register_processor(
        RequestCode::CHECK_TRANSACTION_STATE.0,
        processor_fn(move |channel, request: RemotingCommand| {
            let tx = tx.clone();
            seen.fetch_add(1, Ordering::SeqCst);
            async move {
                if let Some(state) = answer {
                    let check: CheckTransactionStateRequestHeader =
                        request.decode_header().expect("check header");
                    let reply = RemotingCommand::request(RequestCode::END_TRANSACTION.0)
                        .with_header(&EndTransactionRequestHeader {
                            producer_group: GROUP.to_owned(),
                            tran_state_table_offset: check.tran_state_table_offset,
                            commit_log_offset: check.commit_log_offset,
                            commit_or_rollback: state,
                            from_transaction_check: Some(true),
                            msg_id: check.msg_id.clone().unwrap_or_default(),
                            transaction_id: check.transaction_id.clone(),
                            ..EndTransactionRequestHeader::default()
                        });
                    channel.send_oneway(reply).await.expect("answer sent");
                }
                let _ = tx.send(request);
                Ok(None)
            }
        }),
    );
    let registered = client
        .invoke(addr, heartbeat("127.0.0.1@txn-producer", GROUP), TIMEOUT)
        .await?;
    assert_eq!(registered.code, 0, "{:?}", registered.remark);
    Ok(Producer {
        client,
        checks,
        count,
    })
}

fn fast_checks(dir: &std::path::Path, timeout_ms: i64, interval_ms: i64) -> BrokerConfig {
    let mut config = test_config(dir);
    config.transaction_time_out = timeout_ms;
    config.transaction_check_interval = interval_ms;
    config
}

async fn pulled(broker: &TestBroker, topic: &str, queue_id: i32) -> Vec<MessageExt> {
    let response = broker
        .call(pull("CG_txn_check", topic, queue_id, 0, "*", None))
        .await
        .expect("pull answered");
    if response.code != 0 {
        return Vec::new();
    }
    split_records(&response.body)
        .iter()
        .map(|r| decode(r))
        .collect()
}

fn bodies(messages: &[MessageExt]) -> Vec<String> {
    messages
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect()
}

/// Polls `probe` every 50 ms until it returns true (at most 15 s).
async fn eventually<F, Fut>(what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if probe().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn sent_half(
    client: &RemotingClient,
    addr: &str,
    body: &str,
    uniq: &str,
) -> SendMessageResponseHeader {
    let response = client
        .invoke(addr, half_send("TXN_T", body, uniq), TIMEOUT)
        .await
        .expect("send answered");
    assert_eq!(response.code, 0, "{:?}", response.remark);
    response.decode_header().expect("send header")
}

#[tokio::test]
async fn commit_rollback_unknown_and_check_back_commit() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(fast_checks(dir.path(), 400, 100)).await?;
    let mut producer = connect_producer(&broker.addr, Some(8)).await?;
    let client = &producer.client;

    let commit = sent_half(client, &broker.addr, "commit", "U-COMMIT").await;
    let rollback = sent_half(client, &broker.addr, "rollback", "U-ROLLBACK").await;
    let unknown = sent_half(client, &broker.addr, "unknown", "U-UNKNOWN").await;
    // Half-queue offsets, the requested queue id, the UNIQ_KEY as transactionId.
    assert_eq!(
        [
            commit.queue_offset,
            rollback.queue_offset,
            unknown.queue_offset
        ],
        [0, 1, 2]
    );
    assert_eq!(commit.queue_id, 0);
    assert_eq!(commit.transaction_id.as_deref(), Some("U-COMMIT"));
    // Nothing is visible on the real topic before an outcome.
    assert!(pulled(&broker, "TXN_T", 0).await.is_empty());

    for (sent, uniq, state) in [
        (&commit, "U-COMMIT", 8),
        (&rollback, "U-ROLLBACK", 12),
        (&unknown, "U-UNKNOWN", 0),
    ] {
        client
            .invoke_oneway(&broker.addr, end_transaction(sent, uniq, state))
            .await?;
    }
    let b = &broker;
    eventually("the committed message", || async move {
        !pulled(b, "TXN_T", 0).await.is_empty()
    })
    .await;
    let visible = pulled(&broker, "TXN_T", 0).await;
    assert_eq!(bodies(&visible), ["commit"]);
    let committed = &visible[0];
    assert_eq!(committed.sys_flag & 0xC, 8);
    let half_offset = decode_offset_msg_id(&commit.msg_id)?.commit_log_offset;
    assert_eq!(committed.prepared_transaction_offset, half_offset);
    assert_eq!(committed.properties.get("REAL_TOPIC"), Some("TXN_T"));

    // The unknown one is checked once its age passes transactionTimeOut: the check names the
    // re-appended copy (half offset 3) and carries it, real topic restored, check count 1.
    let check = tokio::time::timeout(Duration::from_secs(15), producer.checks.recv())
        .await?
        .expect("a check arrived");
    let header: CheckTransactionStateRequestHeader = check.decode_header()?;
    assert_eq!(header.tran_state_table_offset, 3);
    assert_eq!(header.msg_id.as_deref(), Some("U-UNKNOWN"));
    assert_eq!(header.transaction_id.as_deref(), Some("U-UNKNOWN"));
    let body = decode(&check.body);
    assert_eq!((body.topic.as_str(), body.queue_id), ("TXN_T", 0));
    assert_eq!(body.commit_log_offset, header.commit_log_offset);
    assert_eq!(body.properties.get("TRANSACTION_CHECK_TIMES"), Some("1"));
    assert_eq!(
        header.offset_msg_id.as_deref(),
        Some(body.offset_msg_id().as_str())
    );

    eventually("the checked message", || async move {
        pulled(b, "TXN_T", 0).await.len() == 2
    })
    .await;
    // Several more check intervals: the answered message is not checked again and appears once.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let visible = pulled(&broker, "TXN_T", 0).await;
    assert_eq!(bodies(&visible), ["commit", "unknown"]);
    assert_eq!(
        visible[1].prepared_transaction_offset,
        header.commit_log_offset
    );
    assert_eq!(producer.count.load(Ordering::SeqCst), 1);

    // Progress of the check service is committed under CID_RMQ_SYS_TRANS.
    let ctx = broker.handle.context();
    assert_eq!(
        ctx.offsets.query(CID_RMQ_SYS_TRANS, TRANS_HALF_TOPIC, 0),
        Some(4)
    );
    assert_eq!(
        ctx.offsets.query(CID_RMQ_SYS_TRANS, TRANS_OP_HALF_TOPIC, 0),
        Some(3)
    );
    producer.client.shutdown().await;
    broker.stop().await
}

#[tokio::test]
async fn unanswered_half_message_is_checked_at_most_check_max_times() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = fast_checks(dir.path(), 200, 100);
    config.transaction_check_max = 3;
    let broker = TestBroker::start(config).await?;
    let producer = connect_producer(&broker.addr, None).await?;
    sent_half(&producer.client, &broker.addr, "never", "U-NEVER").await;

    // Offsets 1..=3 are the copies of the three checks; the fourth visit discards offset 3.
    let ctx = Arc::clone(broker.handle.context());
    eventually("the discard op record", || {
        let ctx = Arc::clone(&ctx);
        async move {
            ctx.with_store(|s| s.get_max_offset_in_queue(TRANS_OP_HALF_TOPIC, 0))
                .await
                .unwrap_or(0)
                > 0
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(producer.count.load(Ordering::SeqCst), 3);
    let op = ctx
        .with_store(|s| s.get_message(TRANS_OP_HALF_TOPIC, 0, 0, 32, usize::MAX, None))
        .await?;
    let ops: Vec<MessageExt> = op.messages.iter().map(|r| decode(r)).collect();
    assert_eq!(bodies(&ops), ["3"]);
    assert_eq!(ops[0].properties.get("TAGS"), Some("d"));
    assert_eq!(
        ctx.offsets.query(CID_RMQ_SYS_TRANS, TRANS_HALF_TOPIC, 0),
        Some(4)
    );
    assert!(pulled(&broker, "TXN_T", 0).await.is_empty());
    producer.client.shutdown().await;
    broker.stop().await
}

#[tokio::test]
async fn half_messages_and_check_progress_survive_a_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // First run: checks effectively off (default interval, long timeout).
    let mut quiet = test_config(dir.path());
    quiet.transaction_time_out = 3_600_000;
    let broker = TestBroker::start(quiet.clone()).await?;
    let first = sent_half(&broker.client, &broker.addr, "after-restart", "U-R1").await;
    let second = sent_half(&broker.client, &broker.addr, "checked", "U-R2").await;
    broker.stop().await?;

    // Second run: END_TRANSACTION for a half message stored before the restart still works.
    // (The first round comes after one interval, once that commit is done.)
    let broker = TestBroker::start(fast_checks(dir.path(), 300, 1000)).await?;
    let mut producer = connect_producer(&broker.addr, Some(8)).await?;
    let answer = producer
        .client
        .invoke(&broker.addr, end_transaction(&first, "U-R1", 8), TIMEOUT)
        .await?;
    assert_eq!(answer.code, 0, "{:?}", answer.remark);
    // The other one is checked back after the restart.
    let check = tokio::time::timeout(Duration::from_secs(15), producer.checks.recv())
        .await?
        .expect("a check arrived");
    let header: CheckTransactionStateRequestHeader = check.decode_header()?;
    assert_eq!(header.msg_id.as_deref(), Some("U-R2"));
    assert!(header.tran_state_table_offset > second.queue_offset);
    let b = &broker;
    eventually("both committed", || async move {
        pulled(b, "TXN_T", 0).await.len() == 2
    })
    .await;
    eventually("progress committed", || async move {
        b.handle
            .context()
            .offsets
            .query(CID_RMQ_SYS_TRANS, TRANS_OP_HALF_TOPIC, 0)
            == Some(2)
    })
    .await;
    producer.client.shutdown().await;
    broker.stop().await?;
    let offsets = std::fs::read_to_string(dir.path().join("config/consumerOffset.json"))?;
    assert!(offsets.contains("RMQ_SYS_TRANS_HALF_TOPIC@CID_RMQ_SYS_TRANS"));

    // Third run: the persisted progress means nothing is checked again.
    let broker = TestBroker::start(fast_checks(dir.path(), 300, 100)).await?;
    let producer = connect_producer(&broker.addr, Some(8)).await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(producer.count.load(Ordering::SeqCst), 0);
    assert_eq!(
        bodies(&pulled(&broker, "TXN_T", 0).await),
        ["after-restart", "checked"]
    );
    producer.client.shutdown().await;
    broker.stop().await
}

#[tokio::test]
async fn end_transaction_refusals() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(test_config(dir.path())).await?;
    let sent = sent_half(&broker.client, &broker.addr, "x", "U-X").await;

    let mut wrong_group = end_transaction(&sent, "U-X", 8);
    wrong_group.set_ext("producerGroup", "PID_other");
    let mut wrong_offset = end_transaction(&sent, "U-X", 8);
    wrong_offset.set_ext("tranStateTableOffset", "5");
    let mut wrong_commit_log = end_transaction(&sent, "U-X", 12);
    wrong_commit_log.set_ext("commitLogOffset", "1");
    for (request, remark) in [
        (wrong_group, "The producer group wrong"),
        (wrong_offset, "The transaction state table offset wrong"),
        (wrong_commit_log, "Find prepared transaction message failed"),
    ] {
        let response = broker.call(request).await?;
        assert_eq!(response.code, 1);
        assert_eq!(response.remark.as_deref(), Some(remark));
    }
    // A normal message is not a half message, even with matching offsets.
    let plain = broker
        .call(send_v2("PLAIN_T", 0, b"p", &props(&[("PGROUP", GROUP)])))
        .await?;
    let plain: SendMessageResponseHeader = plain.decode_header()?;
    let response = broker.call(end_transaction(&plain, "U-P", 8)).await?;
    assert_eq!(response.code, 1);
    // Unknown state: no answer at all.
    let silent = broker
        .client
        .invoke(
            &broker.addr,
            end_transaction(&sent, "U-X", 0),
            Duration::from_millis(300),
        )
        .await;
    assert!(silent.is_err(), "unexpected answer {silent:?}");
    assert!(pulled(&broker, "TXN_T", 0).await.is_empty());
    broker.stop().await?;

    // rejectTransactionMessage refuses half messages; a slave refuses END_TRANSACTION.
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.reject_transaction_message = true;
    let broker = TestBroker::start(config).await?;
    let refused = broker.call(half_send("TXN_T", "r", "U-R")).await?;
    assert_eq!(refused.code, 16, "{:?}", refused.remark);
    broker.stop().await?;
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.broker_role = ferric_broker::config::BrokerRole::Slave;
    config.broker_id = 1;
    config.finish()?;
    let broker = TestBroker::start(config).await?;
    let response = broker.call(end_transaction(&sent, "U-X", 8)).await?;
    assert_eq!(response.code, 11);
    broker.stop().await
}

fn reply_request(code: RequestCode, properties: &str, body: &[u8]) -> RemotingCommand {
    let mut request = send_v2("DefaultCluster_REPLY_TOPIC", 0, body, properties);
    request.set_ext("a", "PID_replier");
    if code == RequestCode::SEND_REPLY_MESSAGE {
        let header = SendMessageRequestHeader {
            producer_group: "PID_replier".into(),
            topic: "DefaultCluster_REPLY_TOPIC".into(),
            default_topic: "TBW102".into(),
            default_topic_queue_nums: 4,
            queue_id: 0,
            born_timestamp: 1,
            properties: Some(properties.to_owned()),
            ..SendMessageRequestHeader::default()
        };
        request = RemotingCommand::request(code.0)
            .with_header(&header)
            .with_body(Bytes::copy_from_slice(body));
    } else {
        request.code = code.0;
    }
    request
}

#[tokio::test]
async fn request_reply_is_pushed_to_the_requester_and_stored() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(test_config(dir.path())).await?;
    let requester_id = "127.0.0.1@requester";
    let requester = RemotingClient::new(ClientConfig::default());
    let (tx, mut replies) = mpsc::unbounded_channel();
    requester.register_processor(
        RequestCode::PUSH_REPLY_MESSAGE_TO_CLIENT.0,
        processor_fn(move |_channel, request: RemotingCommand| {
            let tx = tx.clone();
            async move {
                let response = request.response_to(0, None);
                let _ = tx.send(request);
                Ok(Some(response))
            }
        }),
    );
    let registered = requester
        .invoke(
            &broker.addr,
            heartbeat(requester_id, "PID_requester"),
            TIMEOUT,
        )
        .await?;
    assert_eq!(registered.code, 0);

    // The requester sends a request message; the replier pulls it.
    let request_props = props(&[
        ("CORRELATION_ID", "corr-1"),
        ("REPLY_TO_CLIENT", requester_id),
        ("TTL", "3000"),
        ("UNIQ_KEY", "U-REQ"),
    ]);
    let sent = requester
        .invoke(
            &broker.addr,
            send_v2("RR_T", 0, b"question", &request_props),
            TIMEOUT,
        )
        .await?;
    assert_eq!(sent.code, 0);
    let request = pulled(&broker, "RR_T", 0).await.remove(0);
    let correlation = request
        .properties
        .get("CORRELATION_ID")
        .expect("correlation");
    let reply_to = request.properties.get("REPLY_TO_CLIENT").expect("reply to");
    let reply_props = props(&[
        ("MSG_TYPE", "reply"),
        ("CORRELATION_ID", correlation),
        ("REPLY_TO_CLIENT", reply_to),
        ("TTL", "3000"),
    ]);

    for (code, body) in [
        (RequestCode::SEND_REPLY_MESSAGE_V2, b"answer-v2".as_slice()),
        (RequestCode::SEND_REPLY_MESSAGE, b"answer-v1".as_slice()),
    ] {
        let response = broker.call(reply_request(code, &reply_props, body)).await?;
        assert_eq!(response.code, 0, "{:?}", response.remark);
        assert!(response.ext("MSG_REGION").is_some() && response.ext("TRACE_ON").is_some());
        let header: SendMessageResponseHeader = response.decode_header()?;
        assert_eq!(header.msg_id.len(), 32);
        let pushed = tokio::time::timeout(Duration::from_secs(5), replies.recv())
            .await?
            .expect("reply pushed");
        assert_eq!(pushed.body.as_ref(), body);
        assert_eq!(pushed.ext("topic"), Some("DefaultCluster_REPLY_TOPIC"));
        assert_eq!(pushed.ext("producerGroup"), Some("PID_replier"));
        assert_eq!(pushed.ext("storeHost"), Some("127.0.0.1:10911"));
        assert!(
            pushed
                .ext("bornHost")
                .is_some_and(|h| h.starts_with("127.0.0.1:"))
        );
        assert!(pushed.ext("storeTimestamp").is_some());
        let pushed_props = ferric_common::Properties::decode(
            pushed.ext("properties").unwrap_or_default().as_bytes(),
        );
        assert_eq!(pushed_props.get("CORRELATION_ID"), Some("corr-1"));
        assert!(pushed_props.get("PUSH_REPLY_TIME").is_some());
    }

    // The requester is gone: SYSTEM_ERROR, but the reply is stored all the same.
    let offline_props = props(&[
        ("MSG_TYPE", "reply"),
        ("CORRELATION_ID", "corr-2"),
        ("REPLY_TO_CLIENT", "127.0.0.1@gone"),
    ]);
    let response = broker
        .call(reply_request(
            RequestCode::SEND_REPLY_MESSAGE_V2,
            &offline_props,
            b"late",
        ))
        .await?;
    assert_eq!(response.code, 1);
    assert!(
        response
            .remark
            .as_deref()
            .is_some_and(|r| r.contains("not found"))
    );

    let stored = pulled(&broker, "DefaultCluster_REPLY_TOPIC", 0).await;
    assert_eq!(bodies(&stored), ["answer-v2", "answer-v1", "late"]);
    assert_eq!(stored[0].properties.get("MSG_TYPE"), Some("reply"));
    assert_eq!(stored[0].properties.get("CORRELATION_ID"), Some("corr-1"));
    assert!(stored[0].properties.get("PUSH_REPLY_TIME").is_none());
    requester.shutdown().await;
    broker.stop().await
}
