//! Property tests: every codec round-trips, prefixes are "need more", and
//! arbitrary bytes never panic a decoder.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use bytes::{Bytes, BytesMut};
use ferric_common::batch;
use ferric_common::message_id::{self, UniqIdParts};
use ferric_common::record::{self, Parsed};
use ferric_common::sysflag::with_host_flags;
use ferric_common::{Message, MessageExt, Properties, crc32_masked};
use proptest::prelude::*;

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    ]
}

fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    (ip(), any::<u16>()).prop_map(|(ip, port)| match ip {
        IpAddr::V4(v4) => SocketAddr::V4(SocketAddrV4::new(v4, port)),
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, 0)),
    })
}

/// Properties with distinct, non-empty keys and values free of separators.
fn properties() -> impl Strategy<Value = Properties> {
    prop::collection::vec(("[A-Za-z0-9_#.]{1,12}", "[^\u{1}\u{2}]{1,24}"), 0..8).prop_map(|pairs| {
        let mut p = Properties::new();
        for (k, v) in pairs {
            if !p.contains_key(&k) {
                p.insert(k, v);
            }
        }
        p
    })
}

fn topic() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9%|_-]{0,127}",
        // Longer than 127 bytes: written with the v2 magic code.
        "[A-Za-z0-9%|_-]{128,255}",
    ]
}

fn message_ext() -> impl Strategy<Value = MessageExt> {
    (
        (
            any::<i32>(),
            any::<i32>(),
            any::<i64>(),
            any::<i64>(),
            any::<i32>(),
        ),
        (any::<i64>(), socket_addr(), any::<i64>(), socket_addr()),
        (any::<i32>(), any::<i64>()),
        (
            prop::collection::vec(any::<u8>(), 0..600),
            topic(),
            properties(),
        ),
    )
        .prop_map(|(a, b, c, d)| {
            let (queue_id, flag, queue_offset, commit_log_offset, sys_flag) = a;
            let (born_timestamp, born_host, store_timestamp, store_host) = b;
            let (reconsume_times, prepared_transaction_offset) = c;
            let (body, topic, properties) = d;
            let mut msg = MessageExt {
                store_size: 0,
                body_crc: crc32_masked(&body),
                queue_id,
                flag,
                queue_offset,
                commit_log_offset,
                sys_flag: with_host_flags(sys_flag, born_host.is_ipv6(), store_host.is_ipv6()),
                born_timestamp,
                born_host,
                store_timestamp,
                store_host,
                reconsume_times,
                prepared_transaction_offset,
                body: Bytes::from(body),
                topic,
                properties,
            };
            msg.store_size = record::encoded_record_len(&msg).unwrap() as i32;
            msg
        })
}

fn message() -> impl Strategy<Value = Message> {
    (
        any::<i32>(),
        prop::collection::vec(any::<u8>(), 0..300),
        properties(),
    )
        .prop_map(|(flag, body, properties)| Message {
            topic: "BatchTopic".to_owned(),
            flag,
            body: Bytes::from(body),
            properties,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn record_roundtrip(msg in message_ext()) {
        let mut buf = BytesMut::new();
        let written = record::encode_record(&msg, &mut buf).unwrap();
        prop_assert_eq!(written, buf.len());
        prop_assert_eq!(written, msg.store_size as usize);
        let expected_magic = if msg.topic.len() > 127 {
            record::MAGIC_CODE_V2
        } else {
            record::MAGIC_CODE_V1
        };
        let parsed = record::parse_record(&buf).unwrap();
        let Parsed::Message(view) = parsed else {
            panic!("expected a message, got {parsed:?}");
        };
        prop_assert_eq!(view.magic_code, expected_magic);
        prop_assert!(view.verify_body_crc());
        prop_assert_eq!(view.len(), written);
        prop_assert_eq!(view.to_message_ext(), msg.clone());
        prop_assert_eq!(
            view.store_timestamp,
            i64::from_be_bytes(
                buf[record::store_timestamp_position(msg.sys_flag)..][..8].try_into().unwrap()
            )
        );
    }

    #[test]
    fn record_patches_land_on_their_fields(msg in message_ext(), q in any::<i64>(), p in any::<i64>(), t in any::<i64>()) {
        let mut buf = BytesMut::new();
        record::encode_record(&msg, &mut buf).unwrap();
        record::patch_queue_offset(&mut buf, q).unwrap();
        record::patch_physical_offset(&mut buf, p).unwrap();
        record::patch_store_timestamp(&mut buf, msg.sys_flag, t).unwrap();
        let Parsed::Message(view) = record::parse_record(&buf).unwrap() else {
            panic!("expected a message");
        };
        let mut expected = msg.clone();
        expected.queue_offset = q;
        expected.commit_log_offset = p;
        expected.store_timestamp = t;
        prop_assert_eq!(view.to_message_ext(), expected);
    }

    #[test]
    fn record_plan_writes_the_patched_encoding(msg in message_ext(), q in any::<i64>(), p in any::<i64>(), t in any::<i64>(), prefix in 0usize..8) {
        let mut expected = BytesMut::new();
        record::encode_record(&msg, &mut expected).unwrap();
        record::patch_queue_offset(&mut expected, q).unwrap();
        record::patch_physical_offset(&mut expected, p).unwrap();
        record::patch_store_timestamp(&mut expected, msg.sys_flag, t).unwrap();
        let plan = record::RecordPlan::new(&msg, &record::RecordEncodeOptions::default()).unwrap();
        prop_assert_eq!(plan.len(), expected.len());
        prop_assert_eq!(plan.sys_flag(), msg.sys_flag);
        let stored = record::StoredFields { queue_offset: q, commit_log_offset: p, store_timestamp: t };
        let mut out = vec![7u8; prefix];
        plan.write(&msg, &stored, &mut out);
        prop_assert_eq!(&out[prefix..], &expected[..]);
        let written = &out[prefix..];
        prop_assert_eq!(&written[plan.properties_range()], &msg.properties.encode()[..]);
    }

    #[test]
    fn every_strict_prefix_is_incomplete(msg in message_ext()) {
        let mut buf = BytesMut::new();
        record::encode_record(&msg, &mut buf).unwrap();
        for cut in 0..buf.len() {
            let parsed = record::parse_record(&buf[..cut]);
            prop_assert!(
                matches!(parsed, Ok(Parsed::Incomplete { .. })),
                "prefix {} of {} gave {:?}", cut, buf.len(), parsed
            );
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = record::parse_record(&bytes);
        let _ = record::parse_record_with_limit(&bytes, 200);
        prop_assert!(record::RecordIter::new(&bytes).count() <= bytes.len());
        let _ = batch::parse_batch_entry(&bytes, 100);
        let _ = batch::decode_batch(&bytes, "T");
        let _ = Properties::decode(&bytes);
    }

    #[test]
    fn corrupted_records_never_panic(msg in message_ext(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut buf = BytesMut::new();
        record::encode_record(&msg, &mut buf).unwrap();
        let mut bytes = buf.to_vec();
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        if let Ok(Parsed::Message(view)) = record::parse_record(&bytes) {
            let _ = view.to_message_ext();
            let _ = view.decompressed_body(1 << 20);
            let _ = view.tags_code();
        }
    }

    #[test]
    fn batch_roundtrip(messages in prop::collection::vec(message(), 1..6)) {
        let mut buf = BytesMut::new();
        let written = batch::encode_batch(&messages, &mut buf).unwrap();
        prop_assert_eq!(written, buf.len());
        prop_assert_eq!(batch::decode_batch(&buf, "BatchTopic").unwrap(), messages.clone());
        let first = batch::batch_entry_len(&messages[0]);
        for cut in 0..first {
            prop_assert_eq!(batch::parse_batch_entry(&buf[..cut], 1 << 20), Ok(None));
        }
    }

    #[test]
    fn properties_roundtrip(p in properties()) {
        let encoded = p.encode();
        prop_assert_eq!(encoded.len(), p.encoded_len());
        prop_assert_eq!(Properties::decode(&encoded), p.clone());
        // A trailing separator (as the 4.x spec describes) decodes the same.
        let mut trailing = encoded.clone();
        trailing.push(0x02);
        prop_assert_eq!(Properties::decode(&trailing), p);
    }

    #[test]
    fn offset_msg_id_roundtrip(host in socket_addr(), offset in any::<i64>()) {
        let id = message_id::create_offset_msg_id(host, offset);
        prop_assert_eq!(id.len(), if host.is_ipv6() { 56 } else { 32 });
        prop_assert!(id.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        let decoded = message_id::decode_offset_msg_id(&id).unwrap();
        prop_assert_eq!(decoded.store_host, host);
        prop_assert_eq!(decoded.commit_log_offset, offset);
    }

    #[test]
    fn uniq_id_roundtrip(ip in ip(), pid in any::<u16>(), random in any::<i32>(), ms in any::<i32>(), counter in any::<u16>()) {
        let parts = UniqIdParts { ip, pid, random, ms_since_month_start: ms, counter };
        let id = parts.to_hex();
        prop_assert_eq!(id.len(), if ip.is_ipv6() { 56 } else { 32 });
        prop_assert_eq!(message_id::decode_uniq_id(&id).unwrap(), parts);
    }

    #[test]
    fn id_decoders_never_panic(s in "\\PC{0,60}") {
        let _ = message_id::decode_offset_msg_id(&s);
        let _ = message_id::decode_uniq_id(&s);
    }
}
