//! Unit tests of the record codec's edge cases.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};

use super::*;
use crate::message::MessageExt;
use crate::properties::Properties;

fn sample() -> MessageExt {
    let mut properties = Properties::new();
    properties.insert("TAGS", "TagA");
    properties.insert("KEYS", "k1 k2");
    properties.insert("UNIQ_KEY", "C0000202387130946E096C4594CA0000");
    MessageExt {
        queue_id: 1,
        queue_offset: 7,
        commit_log_offset: 306,
        born_timestamp: 1,
        born_host: "127.0.0.1:52138".parse().unwrap(),
        store_timestamp: 2,
        store_host: "127.0.0.1:20911".parse().unwrap(),
        body: Bytes::from_static(b"hello"),
        topic: "FxTopicA".to_owned(),
        properties,
        ..MessageExt::default()
    }
}

fn encoded(msg: &MessageExt) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode_record(msg, &mut buf).unwrap();
    buf.to_vec()
}

fn view(buf: &[u8]) -> RecordView<'_> {
    match parse_record(buf).unwrap() {
        Parsed::Message(view) => view,
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn positions() {
    assert_eq!(store_timestamp_position(0), 56);
    assert_eq!(
        store_timestamp_position(crate::sysflag::BORNHOST_V6_FLAG),
        68
    );
    assert_eq!(store_host_position(0), 64);
    assert_eq!(MAGIC_CODE_V1, -626843481);
    assert_eq!(MAGIC_CODE_V2, -626843477);
    let msg = MessageExt::default();
    assert_eq!(encoded_record_len(&msg).unwrap(), MIN_RECORD_SIZE);
}

#[test]
fn helpers_on_a_view() {
    let buf = encoded(&sample());
    let v = view(&buf);
    assert_eq!(v.tags().as_deref(), Some("TagA"));
    assert_eq!(v.tags_code(), 2598919);
    assert_eq!(v.keys(), vec!["k1".to_owned(), "k2".to_owned()]);
    assert_eq!(
        v.uniq_key().as_deref(),
        Some("C0000202387130946E096C4594CA0000")
    );
    assert_eq!(v.offset_msg_id(), "7F000001000051AF0000000000000132");
    assert_eq!(v.magic_code, MAGIC_CODE_V1);
    assert!(v.verify_body_crc());
    let owned = v.to_message_ext();
    assert_eq!(owned.store_size as usize, buf.len());
    assert_eq!(owned.tags_code(), 2598919);
}

#[test]
fn ipv6_hosts_set_flags_and_move_fields() {
    let mut msg = sample();
    msg.born_host = "[fd00::2]:1234".parse().unwrap();
    let buf = encoded(&msg);
    let v = view(&buf);
    assert_eq!(v.sys_flag, crate::sysflag::BORNHOST_V6_FLAG);
    assert_eq!(v.born_host, msg.born_host);
    assert_eq!(v.store_timestamp, 2);
    assert_eq!(buf.len(), encoded(&sample()).len() + 12);
}

#[test]
fn crc_can_be_passed_through() {
    let mut msg = sample();
    msg.body_crc = 42;
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        compute_body_crc: false,
        ..RecordEncodeOptions::default()
    };
    encode_record_with_options(&msg, &mut buf, &options).unwrap();
    let v = view(&buf);
    assert_eq!(v.body_crc, 42);
    assert!(!v.verify_body_crc());
}

#[test]
fn encode_limits() {
    let mut msg = sample();
    msg.topic = "t".repeat(256);
    let mut buf = BytesMut::new();
    assert_eq!(
        encode_record(&msg, &mut buf),
        Err(RecordError::TopicTooLong { len: 256 })
    );
    assert!(buf.is_empty());
    msg.topic = "t".repeat(255);
    encode_record(&msg, &mut buf).unwrap();
    assert_eq!(view(&buf).magic_code, MAGIC_CODE_V2);

    let mut msg = sample();
    msg.properties.insert("big", "x".repeat(MAX_PROPERTIES_LEN));
    assert!(matches!(
        encode_record(&msg, &mut BytesMut::new()),
        Err(RecordError::PropertiesTooLong { .. })
    ));
    let msg = sample();
    assert_eq!(
        encode_record_with_limit(&msg, &mut BytesMut::new(), 4),
        Err(RecordError::BodyTooLong { len: 5, max: 4 })
    );
}

#[test]
fn blank_zero_and_bad_magic() {
    let mut blank = vec![0u8; 192];
    blank[..4].copy_from_slice(&192i32.to_be_bytes());
    blank[4..8].copy_from_slice(&BLANK_MAGIC_CODE.to_be_bytes());
    assert_eq!(parse_record(&blank[..8]), Ok(Parsed::Blank { size: 192 }));
    assert_eq!(
        parse_record(&blank[..7]),
        Ok(Parsed::Incomplete { needed: 8 })
    );
    let mut tiny_blank = blank.clone();
    tiny_blank[..4].copy_from_slice(&4i32.to_be_bytes());
    assert!(matches!(
        parse_record(&tiny_blank),
        Err(RecordError::SizeOutOfBounds { size: 4, .. })
    ));
    assert_eq!(parse_record(&[0u8; 16]), Err(RecordError::ZeroFilled));
    let mut bad = encoded(&sample());
    bad[4] = 0x11;
    assert!(matches!(
        parse_record(&bad),
        Err(RecordError::BadMagic { .. })
    ));
}

#[test]
fn size_bounds() {
    let mut buf = encoded(&sample());
    buf[..4].copy_from_slice(&90i32.to_be_bytes());
    assert!(matches!(
        parse_record(&buf),
        Err(RecordError::SizeOutOfBounds { size: 90, .. })
    ));
    buf[..4].copy_from_slice(&(-1i32).to_be_bytes());
    assert!(matches!(
        parse_record(&buf),
        Err(RecordError::SizeOutOfBounds { size: -1, .. })
    ));
    buf[..4].copy_from_slice(&i32::MAX.to_be_bytes());
    assert!(matches!(
        parse_record(&buf),
        Err(RecordError::SizeOutOfBounds { .. })
    ));
    let good = encoded(&sample());
    assert!(matches!(
        parse_record_with_limit(&good, good.len() - 1),
        Err(RecordError::SizeOutOfBounds { .. })
    ));
}

#[test]
fn field_errors() {
    let good = encoded(&sample());
    // Body length larger than the record.
    let mut buf = good.clone();
    buf[84..88].copy_from_slice(&1000i32.to_be_bytes());
    assert!(matches!(
        parse_record(&buf),
        Err(RecordError::FieldOverrun { field: "BODY", .. })
    ));
    // Negative body length.
    buf[84..88].copy_from_slice(&(-5i32).to_be_bytes());
    assert!(matches!(
        parse_record(&buf),
        Err(RecordError::NegativeLength {
            field: "BODY",
            len: -5
        })
    ));
    // Topic not UTF-8.
    let mut buf = good.clone();
    buf[88 + 5 + 1] = 0xFF;
    assert_eq!(parse_record(&buf), Err(RecordError::TopicNotUtf8));
    // Shorter properties than the record leaves room for.
    let mut buf = good.clone();
    let props_len_at = 88 + 5 + 1 + 8;
    let len = i16::from_be_bytes([buf[props_len_at], buf[props_len_at + 1]]);
    buf[props_len_at..props_len_at + 2].copy_from_slice(&(len - 1).to_be_bytes());
    assert!(matches!(
        parse_record(&buf),
        Err(RecordError::SizeMismatch { .. })
    ));
    // Port outside u16.
    let mut buf = good.clone();
    buf[52..56].copy_from_slice(&70000i32.to_be_bytes());
    assert_eq!(
        parse_record(&buf),
        Err(RecordError::InvalidPort {
            field: "BORNHOST",
            port: 70000
        })
    );
    // SYSFLAG claims an IPv6 store host: the fields no longer fit.
    let mut buf = good;
    buf[39] |= crate::sysflag::STOREHOSTADDRESS_V6_FLAG as u8;
    assert!(parse_record(&buf).is_err());
}

#[test]
fn iter_reports_truncation_and_skips_blanks() {
    let one = encoded(&sample());
    let mut buf = one.clone();
    let mut blank = vec![0u8; 16];
    blank[..4].copy_from_slice(&16i32.to_be_bytes());
    blank[4..8].copy_from_slice(&BLANK_MAGIC_CODE.to_be_bytes());
    buf.extend_from_slice(&blank);
    buf.extend_from_slice(&one);
    buf.extend_from_slice(&one[..10]);
    let items: Vec<_> = RecordIter::new(&buf).collect();
    assert_eq!(items.len(), 3);
    assert!(items[0].is_ok());
    assert!(items[1].is_ok());
    assert_eq!(
        items[2],
        Err(RecordError::Truncated {
            available: 10,
            needed: one.len()
        })
    );
}

#[test]
fn patch_helpers_check_length() {
    let mut short = [0u8; 30];
    assert_eq!(
        patch_physical_offset(&mut short, 1),
        Err(RecordError::BufferTooShort {
            needed: 36,
            available: 30
        })
    );
    assert_eq!(patch_queue_offset(&mut short, 9), Ok(()));
    assert_eq!(short[27], 9);
    let host: SocketAddr = "[::1]:1".parse().unwrap();
    assert!(host.is_ipv6());
}
