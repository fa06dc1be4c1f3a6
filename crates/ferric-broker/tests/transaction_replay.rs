//! Replays the Java 4.9.8 transactional producer of `captures/a-producer-transaction.jsonl`
//! against a fresh Ferric broker and compares with what the Java broker answered and stored.
//!
//! The client's requests are sent in recorded order on one connection. Two-way requests must
//! get the recorded response code and header names (`transactionId` may be extra, as in
//! `replay.rs`). END_TRANSACTION is oneway and names offsets of the Java store, so its
//! `commitLogOffset` / `tranStateTableOffset` are replaced the way the Java client computes
//! them: from our send response (matched by `msgId` = UNIQ_KEY), or, for the answer to the
//! check-back, from our CHECK_TRANSACTION_STATE, whose header names and `msgId` must match
//! the recorded check. The end state must match the recorded store: FX-TXN-008 and FX-TXN-010
//! committed (SYSFLAG 8, all half-message properties kept, the second with
//! `TRANSACTION_CHECK_TIMES=1`), FX-TXN-009 not, op records `0`, `1`, `3` (in any order).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use common::capture::{decode_hex, header_names, java_fixture, read_capture};
use common::*;
use ferric_common::message::MessageExt;
use ferric_protocol::header::SendMessageResponseHeader;
use ferric_protocol::{RemotingCommand, RequestCode};
use ferric_remoting::processor_fn;
use serde_json::Value;
use tokio::sync::mpsc;

async fn stored(broker: &TestBroker, topic: &str, queue_id: i32) -> Vec<MessageExt> {
    let ctx = broker.handle.context();
    let topic = topic.to_owned();
    let result = ctx
        .with_store(move |s| s.get_message(&topic, queue_id, 0, 32, usize::MAX, None))
        .await
        .expect("store open");
    result.messages.iter().map(|r| decode(r)).collect()
}

fn body_text(message: &MessageExt) -> String {
    String::from_utf8_lossy(&message.body).into_owned()
}

fn manifest_property_names(commit_log_offset: i64) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(java_fixture("store-clean.manifest.json")).expect("manifest");
    let manifest: Value = serde_json::from_str(&text).expect("manifest json");
    let record = manifest["commitlog"]
        .as_array()
        .and_then(|records| {
            records
                .iter()
                .find(|r| r["commitLogOffset"].as_i64() == Some(commit_log_offset))
        })
        .expect("record in manifest");
    record["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn java_transactional_producer_replay() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.broker_name = "broker-a".to_owned();
    config.listen_port = 20911;
    // The recorded born timestamps are hours or weeks old, so every half message is due at once;
    // the first check round comes after one interval, when the replayed outcomes are in. Half
    // messages older than `fileReservedTime` are discarded unchecked, so it covers the capture's
    // age however long ago it was recorded.
    config.transaction_time_out = 300;
    config.transaction_check_interval = 1500;
    config.file_reserved_time = 10 * 365 * 24;
    config.finish()?;
    let broker = TestBroker::start(config).await?;
    let (tx, mut checks) = mpsc::unbounded_channel();
    broker.client.register_processor(
        RequestCode::CHECK_TRANSACTION_STATE.0,
        processor_fn(move |_channel, request: RemotingCommand| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(request);
                Ok(None)
            }
        }),
    );

    let lines = read_capture("captures/a-producer-transaction.jsonl")?;
    let broker_lines: Vec<&Value> = lines.iter().filter(|l| l["peer"] == "broker").collect();
    let mut recorded_responses: HashMap<i64, RemotingCommand> = HashMap::new();
    let mut recorded_check = None;
    for line in &broker_lines {
        let frame = decode_hex(line["hex"].as_str().unwrap_or(""));
        if line["dir"] == "s2c" && line["kind"] == "response" {
            recorded_responses.insert(line["opaque"].as_i64().unwrap_or(0), frame);
        } else if line["dir"] == "s2c" && frame.code == RequestCode::CHECK_TRANSACTION_STATE.0 {
            recorded_check = Some(frame);
        }
    }
    let recorded_check = recorded_check.expect("the capture has a check-back");

    let mut sends: HashMap<String, SendMessageResponseHeader> = HashMap::new();
    let mut compared = 0;
    for line in &broker_lines {
        if line["dir"] != "c2s" {
            continue;
        }
        let mut request = decode_hex(line["hex"].as_str().unwrap_or(""));
        if request.code == RequestCode::END_TRANSACTION.0 {
            let msg_id = request.ext("msgId").unwrap_or("").to_owned();
            let (queue_offset, commit_log_offset) =
                if request.ext("fromTransactionCheck") == Some("true") {
                    let ours = tokio::time::timeout(Duration::from_secs(15), checks.recv())
                        .await?
                        .expect("our check-back");
                    assert_eq!(header_names(&ours), header_names(&recorded_check));
                    assert_eq!(ours.ext("msgId"), recorded_check.ext("msgId"));
                    assert_eq!(
                        ours.ext("transactionId"),
                        recorded_check.ext("transactionId")
                    );
                    let body = decode(&ours.body);
                    assert_eq!(body_text(&body), body_text(&decode(&recorded_check.body)));
                    (
                        ours.ext("tranStateTableOffset").unwrap_or("").to_owned(),
                        ours.ext("commitLogOffset").unwrap_or("").to_owned(),
                    )
                } else {
                    let sent = sends.get(&msg_id).expect("END_TRANSACTION after its send");
                    let offset = ferric_common::message_id::decode_offset_msg_id(&sent.msg_id)?;
                    (
                        sent.queue_offset.to_string(),
                        offset.commit_log_offset.to_string(),
                    )
                };
            request.set_ext("tranStateTableOffset", queue_offset);
            request.set_ext("commitLogOffset", commit_log_offset);
        }
        if request.is_oneway() {
            broker.client.invoke_oneway(&broker.addr, request).await?;
            continue;
        }
        let uniq = ferric_common::Properties::decode(request.ext("i").unwrap_or("").as_bytes())
            .get("UNIQ_KEY")
            .map(str::to_owned);
        let opaque = i64::from(request.opaque);
        let ours = broker.call(request).await?;
        let recorded = recorded_responses.get(&opaque).expect("recorded response");
        assert_eq!(ours.code, recorded.code, "{:?}", ours.remark);
        let mut ours_names = header_names(&ours);
        if !header_names(recorded).contains("transactionId") {
            ours_names.remove("transactionId");
        }
        assert_eq!(ours_names, header_names(recorded));
        if let Some(uniq) = uniq {
            sends.insert(uniq, ours.decode_header()?);
        }
        compared += 1;
    }
    assert!(compared >= 6, "only {compared} responses compared");

    // FX-TXN-008 went to queue 3, FX-TXN-010 to queue 1 (their REAL_QID); wait for the latter.
    let mut committed = Vec::new();
    for _ in 0..300 {
        committed = stored(&broker, "FxTopicTxn", 1).await;
        if !committed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first = stored(&broker, "FxTopicTxn", 3).await;
    assert!(
        stored(&broker, "FxTopicTxn", 0).await.is_empty(),
        "rollback stored"
    );
    assert_eq!(first.len(), 1);
    assert_eq!(committed.len(), 1);
    let (first, checked) = (&first[0], &committed[0]);
    assert!(body_text(first).starts_with("FX-TXN-008"));
    assert!(body_text(checked).starts_with("FX-TXN-010"));
    let halves = stored(&broker, "RMQ_SYS_TRANS_HALF_TOPIC", 0).await;
    assert_eq!(halves.len(), 4);
    for (message, half, manifest_offset) in [(first, &halves[0], 3166), (checked, &halves[3], 4932)]
    {
        assert_eq!(message.sys_flag, 8);
        assert_eq!(message.prepared_transaction_offset, half.commit_log_offset);
        let keys: BTreeSet<String> = message
            .properties
            .iter()
            .map(|(k, _)| k.to_owned())
            .collect();
        assert_eq!(keys, manifest_property_names(manifest_offset));
    }
    assert_eq!(checked.properties.get("TRANSACTION_CHECK_TIMES"), Some("1"));
    // The op records of concurrent oneway END_TRANSACTION requests may be stored in either
    // order (the Java broker also processes requests concurrently): compare them as a set.
    let mut ops = stored(&broker, "RMQ_SYS_TRANS_OP_HALF_TOPIC", 0).await;
    for _ in 0..300 {
        if ops.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        ops = stored(&broker, "RMQ_SYS_TRANS_OP_HALF_TOPIC", 0).await;
    }
    let mut op_bodies: Vec<String> = ops.iter().map(body_text).collect();
    op_bodies.sort();
    assert_eq!(op_bodies, ["0", "1", "3"]);
    for op in &ops {
        let keys: BTreeSet<String> = op.properties.iter().map(|(k, _)| k.to_owned()).collect();
        assert_eq!(keys, manifest_property_names(3509));
    }
    broker.stop().await
}
