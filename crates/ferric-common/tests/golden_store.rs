//! Golden tests: decode the CommitLog files recorded from Java RocketMQ 4.9.8
//! and compare every record with the manifest read back through the Java broker.

use std::net::SocketAddr;
use std::path::PathBuf;

use bytes::BytesMut;
use ferric_common::record::{self, Parsed, RecordView};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/java-4.9.8")
}

fn manifest(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    value["commitlog"].as_array().unwrap().clone()
}

/// Walk one CommitLog file; returns (global offset, outcome) until zeros.
enum Item<'a> {
    Record(u64, RecordView<'a>),
    Blank(u64, usize),
}

fn walk(data: &[u8], base: u64) -> Vec<Item<'_>> {
    let mut items = Vec::new();
    let mut pos = 0usize;
    loop {
        match record::parse_record(&data[pos..]) {
            Ok(Parsed::Message(view)) => {
                let len = view.len();
                items.push(Item::Record(base + pos as u64, view));
                pos += len;
            }
            Ok(Parsed::Blank { size }) => {
                items.push(Item::Blank(base + pos as u64, size));
                assert_eq!(
                    pos + size,
                    data.len(),
                    "blank filler must reach the end of file"
                );
                break;
            }
            Ok(Parsed::Incomplete { needed }) => panic!("incomplete at {pos}: needs {needed}"),
            Err(error) => {
                assert!(error.is_zero_filled(), "unexpected error at {pos}: {error}");
                assert!(
                    data[pos..].iter().all(|b| *b == 0),
                    "non-zero bytes after the last record"
                );
                break;
            }
        }
    }
    items
}

fn opt_str(value: &Value) -> Option<&str> {
    value.as_str()
}

fn check_record(view: &RecordView<'_>, offset: u64, expected: &Value) {
    let e = expected;
    let ctx = format!("record at {offset}");
    assert_eq!(e["kind"], "commitlog_record", "{ctx}");
    assert_eq!(e["commitLogOffset"].as_u64().unwrap(), offset, "{ctx}");
    assert_eq!(view.commit_log_offset as u64, offset, "{ctx}");
    assert_eq!(view.topic, e["topic"].as_str().unwrap(), "{ctx}");
    assert_eq!(
        i64::from(view.queue_id),
        e["queueId"].as_i64().unwrap(),
        "{ctx}"
    );
    assert_eq!(
        view.queue_offset,
        e["queueOffset"].as_i64().unwrap(),
        "{ctx}"
    );
    assert_eq!(
        i64::from(view.total_size),
        e["storeSize"].as_i64().unwrap(),
        "{ctx}"
    );
    assert_eq!(
        i64::from(view.sys_flag),
        e["sysFlag"].as_i64().unwrap(),
        "{ctx}"
    );
    assert_eq!(i64::from(view.flag), e["flag"].as_i64().unwrap(), "{ctx}");
    assert_eq!(
        i64::from(view.body_crc),
        e["bodyCRC"].as_i64().unwrap(),
        "{ctx}"
    );
    assert!(view.verify_body_crc(), "{ctx}: body CRC");
    assert_eq!(
        view.born_timestamp,
        e["bornTimestamp"].as_i64().unwrap(),
        "{ctx}"
    );
    let born: SocketAddr = e["bornHost"].as_str().unwrap().parse().unwrap();
    assert_eq!(view.born_host, born, "{ctx}");
    assert_eq!(
        view.store_timestamp,
        e["storeTimestamp"].as_i64().unwrap(),
        "{ctx}"
    );
    let store: SocketAddr = e["storeHost"].as_str().unwrap().parse().unwrap();
    assert_eq!(view.store_host, store, "{ctx}");
    assert_eq!(
        i64::from(view.reconsume_times),
        e["reconsumeTimes"].as_i64().unwrap(),
        "{ctx}"
    );
    assert_eq!(
        view.prepared_transaction_offset,
        e["preparedTransactionOffset"].as_i64().unwrap(),
        "{ctx}"
    );
    assert_eq!(
        view.offset_msg_id(),
        e["offsetMsgId"].as_str().unwrap(),
        "{ctx}"
    );
    assert_eq!(view.uniq_key().as_deref(), opt_str(&e["uniqKey"]), "{ctx}");
    assert_eq!(view.tags().as_deref(), opt_str(&e["tags"]), "{ctx}");
    let expected_keys: Vec<String> = opt_str(&e["keys"])
        .map(|k| k.split(' ').map(str::to_owned).collect())
        .unwrap_or_default();
    assert_eq!(view.keys(), expected_keys, "{ctx}");
    let expected_code = opt_str(&e["tags"]).map_or(0, |t| i64::from(ferric_common::java_hash(t)));
    assert_eq!(view.tags_code(), expected_code, "{ctx}");

    let properties = view.decode_properties();
    let expected_properties = e["properties"].as_object().unwrap();
    let mut distinct: Vec<&str> = properties.iter().map(|(k, _)| k).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        expected_properties.len(),
        "{ctx}: property count"
    );
    for (key, value) in expected_properties {
        assert_eq!(properties.get(key), value.as_str(), "{ctx}: property {key}");
    }

    let body = view
        .decompressed_body(record::DEFAULT_MAX_MESSAGE_SIZE)
        .unwrap();
    assert_eq!(
        body.len() as u64,
        e["bodyLength"].as_u64().unwrap(),
        "{ctx}"
    );
    assert_eq!(
        &body[..],
        e["body"].as_str().unwrap().as_bytes(),
        "{ctx}: body"
    );
    let compressed = e["bodyCompressedInStore"].as_bool().unwrap();
    assert_eq!(
        ferric_common::sysflag::is_compressed(view.sys_flag),
        compressed,
        "{ctx}"
    );

    // The owned form re-encodes to the very same bytes.
    let owned = view.to_message_ext();
    assert_eq!(
        record::encoded_record_len(&owned).unwrap(),
        view.len(),
        "{ctx}"
    );
    let mut out = BytesMut::new();
    let written = record::encode_record(&owned, &mut out).unwrap();
    assert_eq!(written, view.len(), "{ctx}");
    assert_eq!(&out[..], view.raw, "{ctx}: re-encoded bytes differ");
}

fn check_store(dir: &str, manifest_name: &str, expected_records: usize) {
    let expected = manifest(manifest_name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join(dir).join("commitlog"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let mut index = 0;
    let mut records = 0;
    for file in files {
        let base: u64 = file.file_name().unwrap().to_str().unwrap().parse().unwrap();
        let data = std::fs::read(&file).unwrap();
        for item in walk(&data, base) {
            let e = &expected[index];
            index += 1;
            match item {
                Item::Record(offset, view) => {
                    check_record(&view, offset, e);
                    records += 1;
                }
                Item::Blank(offset, size) => {
                    assert_eq!(e["kind"], "commitlog_end_of_file");
                    assert_eq!(e["commitLogOffset"].as_u64().unwrap(), offset);
                    assert_eq!(e["bytesToNextFile"].as_u64().unwrap(), size as u64);
                }
            }
        }
    }
    assert_eq!(index, expected.len(), "every manifest entry was matched");
    assert_eq!(records, expected_records);
}

#[test]
fn store_clean_commitlog_matches_manifest() {
    check_store("store-clean", "store-clean.manifest.json", 35);
}

#[test]
fn store_crashed_commitlog_matches_manifest() {
    check_store("store-crashed", "store-crashed.manifest.json", 300);
}

#[test]
fn record_iter_reads_a_whole_file() {
    let data =
        std::fs::read(fixtures().join("store-clean/commitlog/00000000000000000000")).unwrap();
    let mut iter = record::RecordIter::new(&data[..11218]);
    let mut count = 0;
    for item in &mut iter {
        let view = item.unwrap();
        assert!(view.verify_body_crc());
        count += 1;
    }
    assert_eq!(count, 35);
    assert!(iter.remaining().is_empty());
}
