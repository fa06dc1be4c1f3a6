//! Pull responses (remoting.md §9.3): status mapping, record decoding, decompression, the exact
//! tag re-filter and the `MIN_OFFSET` / `MAX_OFFSET` properties.

use ferric_common::MessageExt;
use ferric_common::message_const::{
    PROPERTY_MAX_OFFSET, PROPERTY_MIN_OFFSET, PROPERTY_RETRY_TOPIC,
};
use ferric_common::record::RecordIter;
use ferric_protocol::body::SubscriptionData;
use ferric_protocol::header::PullMessageResponseHeader;
use ferric_protocol::{RemotingCommand, ResponseCode};

use super::tag_matches;
use crate::error::{ClientError, Result};

/// Largest decompressed body accepted from a pull.
pub const MAX_PULLED_BODY: usize = 64 * 1024 * 1024;

/// How a pull ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    /// Messages were found.
    Found,
    /// Nothing new at the offset.
    NoNewMsg,
    /// Messages exist, but none matched the filter.
    NoMatchedMsg,
    /// The offset is outside the queue; continue from `next_begin_offset`.
    OffsetIllegal,
}

/// The result of one pull.
#[derive(Debug, Clone)]
pub struct PullResult {
    /// How the pull ended.
    pub status: PullStatus,
    /// Offset to pull from next.
    pub next_begin_offset: i64,
    /// Smallest offset of the queue.
    pub min_offset: i64,
    /// Largest offset of the queue (next to be written).
    pub max_offset: i64,
    /// Broker id the broker suggests pulling from next.
    pub suggest_which_broker_id: i64,
    /// Decoded messages (empty unless `Found`; may be empty after tag filtering).
    pub messages: Vec<MessageExt>,
}

/// Maps a pull response; anything but the four pull codes is a broker error.
pub fn process_pull_response(
    addr: &str,
    response: &RemotingCommand,
    subscription: &SubscriptionData,
) -> Result<PullResult> {
    let status = match ResponseCode(response.code) {
        ResponseCode::SUCCESS => PullStatus::Found,
        ResponseCode::PULL_NOT_FOUND => PullStatus::NoNewMsg,
        ResponseCode::PULL_RETRY_IMMEDIATELY => PullStatus::NoMatchedMsg,
        ResponseCode::PULL_OFFSET_MOVED => PullStatus::OffsetIllegal,
        _ => {
            return Err(ClientError::broker(
                addr,
                response.code,
                response.remark.as_deref(),
            ));
        }
    };
    let header: PullMessageResponseHeader = response.decode_header()?;
    let mut messages = Vec::new();
    if status == PullStatus::Found {
        messages = decode_messages(&response.body, subscription, &header)?;
    }
    Ok(PullResult {
        status,
        next_begin_offset: header.next_begin_offset,
        min_offset: header.min_offset,
        max_offset: header.max_offset,
        suggest_which_broker_id: header.suggest_which_broker_id,
        messages,
    })
}

fn decode_messages(
    body: &[u8],
    subscription: &SubscriptionData,
    header: &PullMessageResponseHeader,
) -> Result<Vec<MessageExt>> {
    let mut messages = Vec::new();
    for record in RecordIter::new(body) {
        let view = record?;
        let tags = view.tags();
        if !tag_matches(subscription, tags.as_deref()) {
            continue;
        }
        let mut msg = view.to_message_ext();
        msg.decompress_body_in_place(MAX_PULLED_BODY)?;
        if let Some(delta) = header.offset_delta {
            msg.queue_offset += delta;
        }
        msg.properties
            .insert(PROPERTY_MIN_OFFSET, header.min_offset.to_string());
        msg.properties
            .insert(PROPERTY_MAX_OFFSET, header.max_offset.to_string());
        messages.push(msg);
    }
    Ok(messages)
}

/// Push-consumer step: a message pulled from `%RETRY%<group>` gets its original topic back from
/// `RETRY_TOPIC`.
pub fn reset_retry_topic(msg: &mut MessageExt, retry_topic: &str) {
    if msg.topic == retry_topic
        && let Some(original) = msg.properties.get(PROPERTY_RETRY_TOPIC)
    {
        msg.topic = original.to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::build_subscription;
    use bytes::BytesMut;
    use ferric_common::record::{ZLIB_COMPRESSED_SYS_FLAG, compress_zlib, encode_record};

    fn record(offset: i64, tag: &str, body: &[u8], sys_flag: i32) -> MessageExt {
        let mut msg = MessageExt {
            topic: "T".into(),
            queue_offset: offset,
            commit_log_offset: offset * 100,
            sys_flag,
            body: bytes::Bytes::copy_from_slice(body),
            ..MessageExt::default()
        };
        msg.properties.insert("TAGS", tag);
        msg
    }

    fn response(code: ResponseCode, body: BytesMut) -> RemotingCommand {
        let header = PullMessageResponseHeader {
            suggest_which_broker_id: 0,
            next_begin_offset: 3,
            min_offset: 0,
            max_offset: 3,
            ..Default::default()
        };
        RemotingCommand::response(code.value(), None)
            .with_header(&header)
            .with_body(body.freeze())
    }

    #[test]
    fn found_messages_are_decoded_filtered_and_inflated() {
        let mut body = BytesMut::new();
        let big = vec![b'z'; 5000];
        let packed = compress_zlib(&big, 5).unwrap_or_else(|e| panic!("{e}"));
        for msg in [
            record(0, "TagA", b"a", 0),
            record(1, "TagC", b"c", 0),
            record(2, "TagB", &packed, ZLIB_COMPRESSED_SYS_FLAG),
        ] {
            encode_record(&msg, &mut body).unwrap_or_else(|e| panic!("{e}"));
        }
        let sub = build_subscription("T", "TagA || TagB", 1);
        let result = process_pull_response("b", &response(ResponseCode::SUCCESS, body), &sub)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(result.status, PullStatus::Found);
        assert_eq!(result.messages.len(), 2);
        assert_eq!(result.messages[1].body.len(), 5000);
        assert_eq!(result.messages[1].sys_flag & 1, 0);
        assert_eq!(result.messages[0].properties.get("MAX_OFFSET"), Some("3"));
        assert_eq!(result.next_begin_offset, 3);
    }

    #[test]
    fn status_codes() {
        let sub = build_subscription("T", "*", 1);
        for (code, status) in [
            (ResponseCode::PULL_NOT_FOUND, PullStatus::NoNewMsg),
            (
                ResponseCode::PULL_RETRY_IMMEDIATELY,
                PullStatus::NoMatchedMsg,
            ),
            (ResponseCode::PULL_OFFSET_MOVED, PullStatus::OffsetIllegal),
        ] {
            let result = process_pull_response("b", &response(code, BytesMut::new()), &sub);
            assert_eq!(result.map(|r| r.status).ok(), Some(status));
        }
        let error = process_pull_response(
            "b",
            &response(ResponseCode::SYSTEM_ERROR, BytesMut::new()),
            &sub,
        );
        assert!(matches!(error, Err(ClientError::Broker { code: 1, .. })));
    }

    #[test]
    fn retry_topic_is_restored() {
        let mut msg = record(0, "x", b"x", 0);
        msg.topic = "%RETRY%g".into();
        msg.properties.insert("RETRY_TOPIC", "T");
        reset_retry_topic(&mut msg, "%RETRY%g");
        assert_eq!(msg.topic, "T");
    }
}
