//! Golden test against Apache RocketMQ 4.9.8: the SQL92 subscription recorded
//! in `d-sql92-consumer.jsonl`, evaluated over the `FxTopicA` messages of the
//! `store-clean` manifest that existed while that scenario ran, selects exactly
//! the messages the Java broker delivered in its pull responses.

use std::collections::BTreeSet;
use std::path::PathBuf;

use ferric_common::record::RecordIter;
use ferric_filter::MessageFilter;
use serde_json::Value;

const TOPIC: &str = "FxTopicA";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/java-4.9.8")
}

fn read_json(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn capture() -> Vec<Value> {
    let path = fixtures().join("captures/d-sql92-consumer.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// The body of a captured frame: after the length prefix, the header-length
/// field and the header.
fn frame_body(frame: &Value) -> Vec<u8> {
    let bytes = unhex(frame["hex"].as_str().unwrap());
    let header_len = frame["header_len"].as_u64().unwrap() as usize;
    let body_len = frame["body_len"].as_u64().unwrap() as usize;
    bytes[8 + header_len..8 + header_len + body_len].to_vec()
}

/// `(expressionType, subString)` of the consumer's subscription to the topic,
/// from its first HEART_BEAT.
fn recorded_subscription(frames: &[Value]) -> (String, String) {
    let heartbeat = frames
        .iter()
        .find(|f| f["name"] == "HEART_BEAT" && f["kind"] == "request")
        .expect("a heartbeat in the capture");
    let body: Value = serde_json::from_slice(&frame_body(heartbeat)).unwrap();
    for consumer in body["consumerDataSet"].as_array().unwrap() {
        for sub in consumer["subscriptionDataSet"].as_array().unwrap() {
            if sub["topic"] == TOPIC {
                let kind = sub["expressionType"].as_str().unwrap().to_owned();
                return (kind, sub["subString"].as_str().unwrap().to_owned());
            }
        }
    }
    panic!("no subscription to {TOPIC} in the heartbeat");
}

/// UNIQ_KEYs of the topic's messages in successful PULL_MESSAGE responses.
fn delivered(frames: &[Value]) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for frame in frames {
        if frame["kind"] != "response"
            || frame["request_name"] != "PULL_MESSAGE"
            || frame["code"] != 0
        {
            continue;
        }
        let body = frame_body(frame);
        for record in RecordIter::new(&body) {
            let record = record.unwrap();
            if record.topic == TOPIC {
                keys.insert(record.uniq_key().unwrap().into_owned());
            }
        }
    }
    keys
}

struct StoredMessage {
    uniq_key: String,
    store_timestamp: i64,
    label: String,
    properties: Vec<(String, String)>,
}

fn stored_messages() -> Vec<StoredMessage> {
    let manifest = read_json(fixtures().join("store-clean.manifest.json"));
    manifest["commitlog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"] == "commitlog_record" && entry["topic"] == TOPIC)
        .map(|entry| StoredMessage {
            uniq_key: entry["uniqKey"].as_str().unwrap().to_owned(),
            store_timestamp: entry["storeTimestamp"].as_i64().unwrap(),
            label: entry["body"]
                .as_str()
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_owned(),
            properties: entry["properties"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect(),
        })
        .collect()
}

fn matches(filter: &MessageFilter, message: &StoredMessage) -> bool {
    let props: Vec<(&str, &str)> = message
        .properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    filter.matches_properties(&props[..])
}

#[test]
fn sql92_selection_matches_the_java_broker() {
    let frames = capture();
    let (expression_type, sub_string) = recorded_subscription(&frames);
    assert_eq!(expression_type, "SQL92");
    assert_eq!(sub_string, "fxColor = 'red' AND fxNum > 1");
    let filter = MessageFilter::build(Some(&expression_type), &sub_string).unwrap();

    // Messages stored before the scenario's last frame existed when it ran.
    let scenario_end = frames
        .iter()
        .map(|f| f["t_ms"].as_i64().unwrap())
        .max()
        .unwrap();
    let messages = stored_messages();
    assert_eq!(messages.len(), 14, "FxTopicA messages in store-clean");
    let (present, later): (Vec<_>, Vec<_>) = messages
        .iter()
        .partition(|m| m.store_timestamp <= scenario_end);
    assert_eq!(present.len(), 11);

    let selected: Vec<&StoredMessage> = present
        .iter()
        .copied()
        .filter(|m| matches(&filter, m))
        .collect();
    let selected_keys: BTreeSet<String> = selected.iter().map(|m| m.uniq_key.clone()).collect();
    assert_eq!(
        selected_keys,
        delivered(&frames),
        "broker-delivered UNIQ_KEYs"
    );

    let labels: Vec<&str> = selected.iter().map(|m| m.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "FX-ONEWAY-003",
            "FX-BATCH-004b",
            "FX-ORDER-005",
            "FX-BIG-007",
            "FX-LIVE-014-1"
        ]
    );

    // The two red messages stored later would match too; they were not there yet.
    let later_labels: Vec<&str> = later
        .iter()
        .filter(|m| matches(&filter, m))
        .map(|m| m.label.as_str())
        .collect();
    assert_eq!(later_labels, ["FX-BINHDR-015-1", "FX-IPV6-016-1"]);
}
