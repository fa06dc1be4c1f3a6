//! Every frame recorded from Java RocketMQ 4.9.8 decodes to the recorded fields and re-encodes
//! to the same bytes.

mod support;

use std::collections::HashMap;

use bytes::BytesMut;
use ferric_protocol::java_order::has_bucket_collision;
use ferric_protocol::{
    DEFAULT_MAX_FRAME_LENGTH, ExtFields, SerializeType, decode_frame, encode_frame,
};
use serde_json::Value;

#[test]
fn every_captured_frame_decodes_to_the_recorded_fields() {
    let frames = support::all_frames();
    let mut by_type: HashMap<&str, usize> = HashMap::new();
    for frame in &frames {
        let at = format!("{}:{}", frame.file, frame.line);
        let record = &frame.record;
        let cmd = &frame.command;
        let serialize_type = record["serialize_type"].as_str().unwrap_or_default();
        *by_type
            .entry(if serialize_type == "JSON" {
                "JSON"
            } else {
                "ROCKETMQ"
            })
            .or_default() += 1;
        assert_eq!(cmd.serialize_type.name(), serialize_type, "{at}");
        assert_eq!(Some(i64::from(cmd.code)), record["code"].as_i64(), "{at}");
        assert_eq!(Some(i64::from(cmd.flag)), record["flag"].as_i64(), "{at}");
        assert_eq!(
            Some(i64::from(cmd.opaque)),
            record["opaque"].as_i64(),
            "{at}"
        );
        assert_eq!(
            Some(i64::from(cmd.version)),
            record["version"].as_i64(),
            "{at}"
        );
        assert_eq!(
            Some(cmd.language.name()),
            record["language"].as_str(),
            "{at}"
        );
        assert_eq!(cmd.remark.as_deref(), record["remark"].as_str(), "{at}");
        let expected_ext: Option<ExtFields> = match &record["ext_fields"] {
            Value::Object(map) => Some(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect(),
            ),
            _ => None,
        };
        assert_eq!(cmd.ext_fields, expected_ext, "{at}");
        assert_eq!(
            Some(cmd.body.len() as u64),
            record["body_len"].as_u64(),
            "{at}"
        );
        let kind = record["kind"].as_str().unwrap_or_default();
        assert_eq!(cmd.is_response(), kind == "response", "{at}");
        assert_eq!(cmd.is_oneway(), kind == "oneway", "{at}");
    }
    assert!(
        by_type.get("JSON").copied().unwrap_or(0) >= 900,
        "{by_type:?}"
    );
    assert!(
        by_type.get("ROCKETMQ").copied().unwrap_or(0) >= 50,
        "{by_type:?}"
    );
}

#[test]
fn every_captured_frame_re_encodes_identically() {
    let frames = support::all_frames();
    let mut byte_identical = 0usize;
    let mut with_ties = 0usize;
    for frame in &frames {
        let at = format!("{}:{}", frame.file, frame.line);
        let mut out = BytesMut::new();
        let encoded = encode_frame(&frame.command, &mut out);
        assert!(encoded.is_ok(), "{at}: {encoded:?}");
        let mut again = out.clone();
        let decoded = decode_frame(&mut again, DEFAULT_MAX_FRAME_LENGTH)
            .ok()
            .flatten();
        assert_eq!(decoded.as_ref(), Some(&frame.command), "{at}");
        assert_eq!(out.len(), frame.bytes.len(), "{at}");
        // Entries sharing a Java HashMap bucket come out in the sender's insertion order, which
        // the decoded map no longer knows; that is the only difference allowed.
        if out[..] == frame.bytes[..] {
            byte_identical += 1;
        } else {
            let ties = frame
                .command
                .ext_fields
                .as_ref()
                .is_some_and(has_bucket_collision);
            assert!(ties, "{at}: {}", String::from_utf8_lossy(&out));
            with_ties += 1;
        }
        if frame.command.serialize_type == SerializeType::RocketMq {
            // The recorded binary headers are all reproduced exactly.
            assert_eq!(hex::encode(&out), hex::encode(&frame.bytes), "{at}");
        }
    }
    assert_eq!(byte_identical + with_ties, frames.len());
    println!("{byte_identical} byte-identical, {with_ties} differ only in same-bucket order");
    assert!(
        with_ties * 6 < frames.len(),
        "{with_ties} of {} frames had ties",
        frames.len()
    );
}
