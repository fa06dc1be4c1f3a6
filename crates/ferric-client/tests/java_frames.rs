//! Frames built by the client compared with the frames the Java 4.9.8 client sent
//! (`shared/fixtures/java-4.9.8/captures`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use ferric_client::consumer::build_subscription;
use ferric_client::producer::batch::prepare_batch;
use ferric_client::producer::send::PreparedSend;
use ferric_common::{Message, MessageQueue, Properties};
use ferric_protocol::body::{ConsumerData, HeartbeatData, ProducerData};
use ferric_protocol::fastjson::{self, JsonStyle};
use serde_json::Value;

fn capture(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/java-4.9.8/captures")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn body(frame: &Value) -> Vec<u8> {
    let bytes = hex::decode(frame["hex"].as_str().unwrap_or_default()).unwrap_or_default();
    let header_len = frame["header_len"].as_u64().unwrap_or(0) as usize;
    bytes[8 + header_len..].to_vec()
}

fn first(frames: &[Value], code: i64, kind: &str) -> Value {
    frames
        .iter()
        .find(|f| f["code"] == code && f["kind"] == kind && f["dir"] == "c2s")
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} frame with code {code}"))
}

fn ext(frame: &Value) -> BTreeMap<String, String> {
    frame["ext_fields"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn push_consumer_heartbeat_is_byte_identical() {
    let frames = capture("b-push-consumer.jsonl");
    let java = body(&first(&frames, 34, "request"));
    let topic = build_subscription("FxTopicA", "TagA||TagB", 1795307716395);
    let retry = build_subscription("%RETRY%CID_fx_push", "*", 1795307716417);
    let data = HeartbeatData {
        client_id: "192.0.2.2@fx-concurrent-consumer".into(),
        producer_data_set: vec![ProducerData {
            group_name: "CLIENT_INNER_PRODUCER".into(),
        }],
        consumer_data_set: vec![ConsumerData {
            group_name: "CID_fx_push".into(),
            consume_type: "CONSUME_PASSIVELY".into(),
            message_model: "CLUSTERING".into(),
            consume_from_where: "CONSUME_FROM_FIRST_OFFSET".into(),
            subscription_data_set: vec![topic, retry],
            unit_mode: false,
        }],
        heartbeat_fingerprint: None,
        without_sub: None,
    };
    let ours = fastjson::to_vec(&data, JsonStyle::Fastjson).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&java)
    );
}

#[test]
fn sync_send_header_has_the_java_fields() {
    let frames = capture("a-producer.jsonl");
    let frame = first(&frames, 310, "request");
    let java = ext(&frame);
    let java_props = Properties::decode(java["i"].as_bytes());
    let mut msg = Message::new("FxTopicA", body(&frame));
    for (key, value) in java_props.iter() {
        msg.properties.insert(key, value);
    }
    let prepared = PreparedSend::single(&msg, || unreachable!("UNIQ_KEY already set"), 4096)
        .unwrap_or_else(|e| panic!("{e}"));
    let mq = MessageQueue::new("FxTopicA", "broker-a", java["e"].parse().unwrap_or(0));
    let request = prepared.request("PID_fx_basic", &mq, 4, java["g"].parse().unwrap_or(0));
    assert_eq!(request.code, 310);
    let ours: BTreeMap<String, String> = request
        .ext_fields
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        java.keys().collect::<Vec<_>>()
    );
    for (key, value) in &java {
        if key == "i" {
            let ours_props: BTreeMap<_, _> = Properties::decode(ours[key].as_bytes())
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            let java_props: BTreeMap<_, _> = java_props
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            assert_eq!(ours_props, java_props);
        } else {
            assert_eq!(&ours[key], value, "key {key}");
        }
    }
}

#[test]
fn batch_send_matches_java_header_and_body() {
    let frames = capture("a-producer.jsonl");
    let frame = first(&frames, 320, "request");
    let java = ext(&frame);
    let java_body = body(&frame);
    let messages = ferric_common::batch::decode_batch(&java_body, "FxTopicA")
        .unwrap_or_else(|e| panic!("{e}"));
    let prepared =
        prepare_batch(messages, || unreachable!("ids present")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(prepared.body.as_ref(), java_body.as_slice());
    let mq = MessageQueue::new("FxTopicA", "broker-a", java["e"].parse().unwrap_or(0));
    let request = prepared.request("PID_fx_basic", &mq, 4, java["g"].parse().unwrap_or(0));
    assert_eq!(request.code, 320);
    let ours: BTreeMap<String, String> = request
        .ext_fields
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    assert_eq!(ours, java);
}

#[test]
fn transactional_half_message_sets_sysflag_4() {
    let frames = capture("a-producer-transaction.jsonl");
    let java = ext(&first(&frames, 310, "request"));
    assert_eq!(java["f"], "4");
    let mut msg = Message::new("FxTopicTxn", "x");
    msg.properties.insert("TRAN_MSG", "true");
    let prepared =
        PreparedSend::single(&msg, || "ID".into(), 4096).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(prepared.sys_flag.to_string(), java["f"]);
}
