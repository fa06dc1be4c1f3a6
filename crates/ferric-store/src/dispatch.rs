//! [`DispatchRequest`]: what the ConsumeQueue and the index need to know about one stored
//! record, derived from the record alone (so recovery can rebuild both from the CommitLog).

use std::borrow::Cow;

use ferric_common::hash::tags_code;
use ferric_common::message_const::{
    KEY_SEPARATOR, PROPERTY_DELAY_TIME_LEVEL, PROPERTY_KEYS, PROPERTY_TAGS,
    PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX,
};
use ferric_common::properties::raw_entries;
use ferric_common::record::RecordView;
use ferric_common::sysflag::{TRANSACTION_ROLLBACK_TYPE, transaction_type};

/// The topic of scheduled (delayed) messages; its tag code is the delivery time.
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";

/// One record as seen by the dispatcher, borrowing the record's topic and properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchRequest<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Queue id.
    pub queue_id: i32,
    /// CommitLog offset of the record.
    pub commit_log_offset: i64,
    /// TOTALSIZE.
    pub msg_size: i32,
    /// Consume-queue tag code (Java `hashCode` of TAGS, or the delivery time for
    /// `SCHEDULE_TOPIC_XXXX`).
    pub tags_code: i64,
    /// STORETIMESTAMP.
    pub store_timestamp: i64,
    /// QUEUEOFFSET.
    pub consume_queue_offset: i64,
    /// The `KEYS` property as stored (values separated by spaces; see [`Self::keys`]).
    pub keys: Option<Cow<'a, str>>,
    /// The `UNIQ_KEY` property.
    pub uniq_key: Option<Cow<'a, str>>,
    /// SYSFLAG.
    pub sys_flag: i32,
    /// PreparedTransactionOffset.
    pub prepared_transaction_offset: i64,
}

/// The fixed fields of a record that the dispatcher needs (everything but the properties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFields<'a> {
    /// Topic.
    pub topic: &'a str,
    /// QUEUEID.
    pub queue_id: i32,
    /// PHYSICALOFFSET.
    pub commit_log_offset: i64,
    /// TOTALSIZE.
    pub msg_size: i32,
    /// STORETIMESTAMP.
    pub store_timestamp: i64,
    /// QUEUEOFFSET.
    pub queue_offset: i64,
    /// SYSFLAG.
    pub sys_flag: i32,
    /// PreparedTransactionOffset.
    pub prepared_transaction_offset: i64,
}

/// The properties the dispatcher reads, found in one pass over a stored properties string with
/// the record parser's rules (segments Java drops are skipped, the last occurrence wins,
/// invalid UTF-8 is decoded lossily).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct DispatchProperties<'a> {
    tags: Option<&'a [u8]>,
    keys: Option<&'a [u8]>,
    uniq_key: Option<&'a [u8]>,
    delay: Option<&'a [u8]>,
}

impl<'a> DispatchProperties<'a> {
    fn scan(raw: &'a [u8]) -> Self {
        let mut found = Self::default();
        for (key, value) in raw_entries(raw) {
            let slot = match key {
                k if k == PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX.as_bytes() => &mut found.uniq_key,
                k if k == PROPERTY_TAGS.as_bytes() => &mut found.tags,
                k if k == PROPERTY_KEYS.as_bytes() => &mut found.keys,
                k if k == PROPERTY_DELAY_TIME_LEVEL.as_bytes() => &mut found.delay,
                _ => continue,
            };
            *slot = Some(value);
        }
        found
    }
}

impl<'a> DispatchRequest<'a> {
    /// Builds the request for a parsed record. `delay_level_millis[level - 1]` is the delay of
    /// each level (see `MessageStoreConfig::delay_level_millis`).
    pub fn from_view(view: &RecordView<'a>, delay_level_millis: &[i64]) -> Self {
        let fields = RecordFields {
            topic: view.topic,
            queue_id: view.queue_id,
            commit_log_offset: view.commit_log_offset,
            msg_size: view.total_size,
            store_timestamp: view.store_timestamp,
            queue_offset: view.queue_offset,
            sys_flag: view.sys_flag,
            prepared_transaction_offset: view.prepared_transaction_offset,
        };
        Self::new(&fields, view.properties, delay_level_millis)
    }

    /// Builds the request from a record's fields and its raw properties string, exactly as
    /// [`Self::from_view`] would from the parsed record.
    pub fn new(
        fields: &RecordFields<'a>,
        properties: &'a [u8],
        delay_level_millis: &[i64],
    ) -> Self {
        let found = DispatchProperties::scan(properties);
        let mut code = tags_code(found.tags.map(String::from_utf8_lossy).as_deref());
        if fields.topic == SCHEDULE_TOPIC {
            let level = found
                .delay
                .map(String::from_utf8_lossy)
                .and_then(|level| level.parse::<usize>().ok())
                .filter(|level| *level > 0)
                .map(|level| level.min(delay_level_millis.len()));
            if let Some(level) = level
                && let Some(delay) = delay_level_millis.get(level.wrapping_sub(1))
            {
                code = fields.store_timestamp.saturating_add(*delay);
            }
        }
        Self {
            topic: fields.topic,
            queue_id: fields.queue_id,
            commit_log_offset: fields.commit_log_offset,
            msg_size: fields.msg_size,
            tags_code: code,
            store_timestamp: fields.store_timestamp,
            consume_queue_offset: fields.queue_offset,
            keys: found.keys.map(String::from_utf8_lossy),
            uniq_key: found.uniq_key.map(String::from_utf8_lossy),
            sys_flag: fields.sys_flag,
            prepared_transaction_offset: fields.prepared_transaction_offset,
        }
    }

    /// The `KEYS` values (split on spaces, empty parts dropped).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys
            .as_deref()
            .unwrap_or_default()
            .split(KEY_SEPARATOR)
            .filter(|k| !k.is_empty())
    }

    /// NOT_TYPE and COMMIT records go to the ConsumeQueue; PREPARED and ROLLBACK do not.
    pub fn goes_to_consume_queue(&self) -> bool {
        ferric_common::sysflag::is_dispatched_to_consume_queue(self.sys_flag)
    }

    /// Every record except ROLLBACK is indexed.
    pub fn goes_to_index(&self) -> bool {
        transaction_type(self.sys_flag) != TRANSACTION_ROLLBACK_TYPE
    }

    /// CommitLog offset just past this record.
    pub fn end_offset(&self) -> i64 {
        self.commit_log_offset + i64::from(self.msg_size)
    }
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};
    use ferric_common::message::MessageExt;
    use ferric_common::record::{Parsed, encode_record, parse_record};

    use super::*;

    fn view_of(buf: &[u8]) -> RecordView<'_> {
        match parse_record(buf) {
            Ok(Parsed::Message(view)) => view,
            other => panic!("expected a record, got {other:?}"),
        }
    }

    fn message(topic: &str, raw_properties: &[u8]) -> MessageExt {
        MessageExt {
            topic: topic.to_owned(),
            body: Bytes::from_static(b"body"),
            store_timestamp: 1_000_000,
            properties: ferric_common::Properties::decode(raw_properties),
            ..MessageExt::default()
        }
    }

    #[test]
    fn one_pass_scan_matches_the_view_helpers() {
        let cases: [&[u8]; 6] = [
            b"TAGS\x01TagA\x02KEYS\x01 k1  k2 \x02UNIQ_KEY\x01ABC",
            b"KEYS\x01a\x02KEYS\x01b c\x02TAGS\x01x\x02TAGS\x01y",
            b"TAGS\x01\x02KEYS\x01\x02UNIQ_KEY\x01",
            b"",
            b"WAIT\x01true\x02TAGS\x01\xff\xfe",
            b"DELAY\x013\x02TAGS\x01t",
        ];
        for raw in cases {
            let mut buf = BytesMut::new();
            let msg = message("T", raw);
            encode_record(&msg, &mut buf).unwrap();
            let view = view_of(&buf);
            let request = DispatchRequest::from_view(&view, &[1000, 5000, 10_000]);
            assert_eq!(request.tags_code, view.tags_code(), "{raw:?}");
            assert_eq!(
                request.keys().map(str::to_owned).collect::<Vec<_>>(),
                view.keys()
            );
            assert_eq!(request.uniq_key, view.uniq_key());
        }
    }

    #[test]
    fn schedule_topic_tag_code_is_the_delivery_time() {
        let mut buf = BytesMut::new();
        encode_record(
            &message(SCHEDULE_TOPIC, b"DELAY\x012\x02TAGS\x01t"),
            &mut buf,
        )
        .unwrap();
        let view = view_of(&buf);
        let request = DispatchRequest::from_view(&view, &[1000, 5000]);
        assert_eq!(request.tags_code, 1_005_000);
        let mut buf = BytesMut::new();
        encode_record(
            &message(SCHEDULE_TOPIC, b"DELAY\x019\x02TAGS\x01t"),
            &mut buf,
        )
        .unwrap();
        let request = DispatchRequest::from_view(&view_of(&buf), &[1000, 5000]);
        assert_eq!(request.tags_code, 1_005_000);
    }
}
