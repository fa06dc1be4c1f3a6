//! Opens the stores recorded from Java RocketMQ 4.9.8 (copied to a temp dir) and reads back
//! exactly the manifest's messages by queue offset, by key and by time.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ferric_common::record::{Parsed, parse_record};
use ferric_store::{GetMessageStatus, MessageStore, MessageStoreConfig};
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/java-4.9.8")
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    fs::set_permissions(to, fs::Permissions::from_mode(0o755)).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
            fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
}

fn fixture_config(root: &Path) -> MessageStoreConfig {
    let mut config = MessageStoreConfig::with_root(root);
    config.mapped_file_size_commit_log = 1_048_576;
    config.mapped_file_size_consume_queue = 120_000;
    config.max_hash_slot_num = 1000;
    config.max_index_num = 4000;
    config
}

fn open_fixture(name: &str) -> (tempfile::TempDir, MessageStore, Value) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture_dir().join(name), dir.path());
    let manifest: Value = serde_json::from_slice(
        &fs::read(fixture_dir().join(format!("{name}.manifest.json"))).unwrap(),
    )
    .unwrap();
    let store = MessageStore::open(fixture_config(dir.path())).unwrap();
    (dir, store, manifest)
}

fn records(manifest: &Value) -> Vec<&Value> {
    manifest["commitlog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "commitlog_record")
        .collect()
}

fn check_against_manifest(store: &MessageStore, manifest: &Value) {
    let broker = &manifest["broker"];
    assert_eq!(
        store.commit_log_min_offset(),
        broker["commitLogMinOffset"].as_i64().unwrap()
    );
    assert_eq!(
        store.commit_log_max_offset(),
        broker["commitLogMaxOffset"].as_i64().unwrap()
    );

    let mut store_time_by_offset = HashMap::new();
    for record in records(manifest) {
        let offset = record["commitLogOffset"].as_i64().unwrap();
        let message = store.look_message_by_offset(offset).unwrap();
        assert_eq!(message.topic, record["topic"].as_str().unwrap());
        assert_eq!(
            i64::from(message.queue_id),
            record["queueId"].as_i64().unwrap()
        );
        assert_eq!(
            message.queue_offset,
            record["queueOffset"].as_i64().unwrap()
        );
        assert_eq!(
            i64::from(message.store_size),
            record["storeSize"].as_i64().unwrap()
        );
        assert_eq!(
            i64::from(message.body_crc),
            record["bodyCRC"].as_i64().unwrap()
        );
        assert_eq!(
            message.store_timestamp,
            record["storeTimestamp"].as_i64().unwrap()
        );
        store_time_by_offset.insert(offset, message.store_timestamp);
    }

    for queue in manifest["consume_queues"].as_array().unwrap() {
        let topic = queue["topic"].as_str().unwrap();
        let queue_id = queue["queueId"].as_i64().unwrap() as i32;
        assert_eq!(
            store.get_min_offset_in_queue(topic, queue_id),
            queue["minOffset"].as_i64().unwrap()
        );
        assert_eq!(
            store.get_max_offset_in_queue(topic, queue_id),
            queue["maxOffset"].as_i64().unwrap()
        );
        for entry in queue["entries"].as_array().unwrap() {
            let queue_offset = entry["queueOffset"].as_i64().unwrap();
            let phy = entry["physicOffset"].as_i64().unwrap();
            let got = store.get_message(topic, queue_id, queue_offset, 1, 1 << 20, None);
            assert_eq!(
                got.status,
                GetMessageStatus::Found,
                "{topic}/{queue_id}@{queue_offset}"
            );
            assert_eq!(got.next_begin_offset, queue_offset + 1);
            assert_eq!(got.messages.len(), 1);
            let raw = &got.messages[0];
            assert_eq!(raw.len() as i64, entry["physicSize"].as_i64().unwrap());
            let Ok(Parsed::Message(view)) = parse_record(raw) else {
                panic!("record at {phy} does not parse");
            };
            assert_eq!(view.commit_log_offset, phy);
            assert!(view.verify_body_crc());
            // By time: the first message not older than this one's store time is at or before it.
            if let Some(&time) = store_time_by_offset.get(&phy) {
                let by_time = store.get_offset_in_queue_by_time(topic, queue_id, time);
                assert!(
                    by_time <= queue_offset,
                    "{topic}/{queue_id}: {by_time} > {queue_offset}"
                );
                let found_time = store
                    .get_message_store_timestamp(topic, queue_id, by_time)
                    .unwrap();
                assert_eq!(found_time, time);
            }
        }
    }

    for query in manifest["index_queries"].as_array().unwrap() {
        let topic = query["topic"].as_str().unwrap();
        let key = query["key"].as_str().unwrap();
        let found = store.query_message(topic, key, 64, 0, i64::MAX);
        for expected in query["foundCommitLogOffsets"].as_array().unwrap() {
            let expected = expected.as_i64().unwrap();
            assert!(
                found.phy_offsets.contains(&expected),
                "{topic}#{key} misses {expected}"
            );
        }
    }
}

#[test]
fn clean_java_store_reads_back_the_manifest() {
    let (_dir, store, manifest) = open_fixture("store-clean");
    let (_, abnormal) = store.recovery_outcome();
    assert!(!abnormal);
    assert_eq!(records(&manifest).len(), 35);
    check_against_manifest(&store, &manifest);
}

#[test]
fn crashed_java_store_recovers_exactly_300_messages() {
    let (dir, mut store, manifest) = open_fixture("store-crashed");
    let (outcome, abnormal) = store.recovery_outcome();
    assert!(abnormal);
    assert_eq!(outcome.records_scanned, 300);
    assert_eq!(outcome.end_offset, 1_088_484);
    assert!(!dir.path().join("commitlog/00000000000002097152").exists());
    assert_eq!(records(&manifest).len(), 300);
    check_against_manifest(&store, &manifest);
    let total: i64 = (0..4)
        .map(|q| store.get_max_offset_in_queue("FxTopicCrash", q))
        .sum();
    assert_eq!(total, 300);

    // A clean shutdown removes the abort file; the next open is a normal one with the same data.
    store.shutdown().unwrap();
    drop(store);
    assert!(!dir.path().join("abort").exists());
    let store = MessageStore::open(fixture_config(dir.path())).unwrap();
    assert!(!store.recovery_outcome().1);
    check_against_manifest(&store, &manifest);
}
