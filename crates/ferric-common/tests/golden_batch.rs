//! Golden test: the SEND_BATCH_MESSAGE body recorded from the Java 4.9.8
//! producer decodes into its three messages and re-encodes to the same bytes.

use std::path::PathBuf;

use bytes::BytesMut;
use ferric_common::batch;
use serde_json::Value;

fn batch_body() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/java-4.9.8/captures/a-producer.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let frames: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|frame: &Value| frame["code"] == 320 && frame["kind"] != "response")
        .collect();
    assert_eq!(frames.len(), 1);
    let frame = hex::decode(frames[0]["hex"].as_str().unwrap()).unwrap();
    let header_len = frames[0]["header_len"].as_u64().unwrap() as usize;
    let body = frame[8 + header_len..].to_vec();
    assert_eq!(body.len() as u64, frames[0]["body_len"].as_u64().unwrap());
    body
}

#[test]
fn recorded_batch_body_decodes_into_three_messages() {
    let body = batch_body();
    let messages = batch::decode_batch(&body, "FxTopicA").unwrap();
    assert_eq!(messages.len(), 3);
    let expected = [
        (
            "FX-BATCH-004a",
            "TagA",
            "FX-KEY-BATCH-A",
            "C0000202387130946E096C45967D0003",
        ),
        (
            "FX-BATCH-004b",
            "TagB",
            "FX-KEY-BATCH-B",
            "C0000202387130946E096C45967D0004",
        ),
        (
            "FX-BATCH-004c",
            "TagA",
            "FX-KEY-BATCH-C",
            "C0000202387130946E096C45967D0005",
        ),
    ];
    for (msg, (prefix, tag, key, uniq)) in messages.iter().zip(expected) {
        assert!(msg.body.starts_with(prefix.as_bytes()), "{:?}", msg.body);
        assert_eq!(msg.topic, "FxTopicA");
        assert_eq!(msg.flag, 0);
        assert_eq!(msg.tags(), Some(tag));
        assert_eq!(msg.keys(), vec![key]);
        assert_eq!(msg.uniq_key(), Some(uniq));
        assert_eq!(msg.properties.get("WAIT"), Some("true"));
    }
    assert_eq!(
        &messages[0].body[..],
        b"FX-BATCH-004a first of a batch of 3"
    );

    let mut out = BytesMut::new();
    batch::encode_batch(&messages, &mut out).unwrap();
    assert_eq!(&out[..], &body[..], "re-encoded batch body differs");
}
