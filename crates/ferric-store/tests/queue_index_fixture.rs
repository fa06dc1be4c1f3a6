//! ConsumeQueue and IndexFile against the store written by Java RocketMQ 4.9.8
//! (`shared/fixtures/java-4.9.8/store-clean`), on a copy in a temporary directory.

use std::path::{Path, PathBuf};

use ferric_store::consume_queue::{ConsumeQueueTable, CqUnit};
use ferric_store::index_file::{IndexConfig, IndexService};
use serde_json::Value;

const CQ_FILE_SIZE: usize = 120_000;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/java-4.9.8")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            let mut perms = std::fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&target, perms).unwrap();
        }
    }
}

fn store_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    copy_dir(&fixture_dir().join("store-clean"), &root);
    (tmp, root)
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(fixture_dir().join("store-clean.manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn index_config() -> IndexConfig {
    IndexConfig {
        max_hash_slot_num: 1000,
        max_index_num: 4000,
        ..IndexConfig::default()
    }
}

#[test]
fn every_consume_queue_unit_matches_the_manifest() {
    let (_tmp, root) = store_copy();
    let table = ConsumeQueueTable::open(root.join("consumequeue"), CQ_FILE_SIZE).unwrap();
    table.recover_all().unwrap();
    let manifest = manifest();
    let queues = manifest["consume_queues"].as_array().unwrap();
    assert_eq!(queues.len(), 16);
    assert_eq!(table.queues().len(), 16);
    let mut units_checked = 0;
    for expected in queues {
        let topic = expected["topic"].as_str().unwrap();
        let queue_id = i32::try_from(expected["queueId"].as_i64().unwrap()).unwrap();
        let queue = table
            .get(topic, queue_id)
            .unwrap_or_else(|| panic!("missing queue {topic}/{queue_id}"));
        assert_eq!(
            queue.min_offset(),
            expected["minOffset"].as_i64().unwrap(),
            "{topic}/{queue_id}"
        );
        assert_eq!(
            queue.max_offset(),
            expected["maxOffset"].as_i64().unwrap(),
            "{topic}/{queue_id}"
        );
        let entries = expected["entries"].as_array().unwrap();
        let actual: Vec<_> = queue.units(0, usize::MAX).collect();
        assert_eq!(actual.len(), entries.len(), "{topic}/{queue_id}");
        for (got, want) in actual.iter().zip(entries) {
            assert_eq!(got.queue_offset, want["queueOffset"].as_i64().unwrap());
            let unit = CqUnit {
                phy_offset: want["physicOffset"].as_i64().unwrap(),
                size: i32::try_from(want["physicSize"].as_i64().unwrap()).unwrap(),
                tags_code: want["tagsCode"].as_i64().unwrap(),
            };
            assert_eq!(got.unit, unit, "{topic}/{queue_id} @ {}", got.queue_offset);
            assert_eq!(queue.get_unit(got.queue_offset), Some(unit));
            units_checked += 1;
        }
    }
    assert!(units_checked >= 30, "only {units_checked} units");
    // The largest CommitLog end any queue points at is the end of the last dispatched record.
    assert_eq!(table.max_phy_offset(), 11_218);
}

#[test]
fn every_index_query_of_the_manifest_is_found() {
    let (_tmp, root) = store_copy();
    let service = IndexService::open(root.join("index"), index_config()).unwrap();
    let manifest = manifest();
    let queries = manifest["index_queries"].as_array().unwrap();
    assert_eq!(queries.len(), 58);
    for query in queries {
        let topic = query["topic"].as_str().unwrap();
        let key = query["key"].as_str().unwrap();
        let mut expected: Vec<i64> = query["foundCommitLogOffsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let result = service.query_offsets(topic, key, 64, 0, i64::MAX);
        let mut found = result.phy_offsets.clone();
        found.sort_unstable();
        expected.sort_unstable();
        if query["type"] == "uniq" {
            // The Java client keeps one message per unique key; the broker's index lists every
            // record carrying it (a transaction check re-puts the half message with its key).
            assert!(
                expected.iter().all(|offset| found.contains(offset)),
                "{topic}#{key}: {found:?} lacks {expected:?}"
            );
            let mut carrying: Vec<i64> = manifest["commitlog"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["topic"] == topic && r["uniqKey"] == key)
                .map(|r| r["commitLogOffset"].as_i64().unwrap())
                .collect();
            carrying.sort_unstable();
            assert_eq!(found, carrying, "{topic}#{key}");
        } else {
            assert_eq!(found, expected, "{topic}#{key}");
        }
        assert_eq!(result.index_last_update_phy_offset, 10_919);
        assert_eq!(result.index_last_update_timestamp, 1_795_308_065_262);
    }
}

#[test]
fn index_header_matches_the_readme() {
    let (_tmp, root) = store_copy();
    let service = IndexService::open(root.join("index"), index_config()).unwrap();
    let files = service.files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].name(), "20261122003459462");
    let header = files[0].header();
    assert_eq!(header.begin_timestamp, 1_795_307_699_454);
    assert_eq!(header.end_timestamp, 1_795_308_065_262);
    assert_eq!(header.begin_phy_offset, 0);
    assert_eq!(header.end_phy_offset, 10_919);
    assert_eq!(header.hash_slot_count, 56);
    assert_eq!(header.index_count, 63);
    assert_eq!(files[0].entries().count(), 62);
    // Opening the index did not change a byte of it.
    let original =
        std::fs::read(fixture_dir().join("store-clean/index/20261122003459462")).unwrap();
    let copy = std::fs::read(files[0].path()).unwrap();
    assert!(original == copy, "opening the index rewrote the file");
}

#[test]
fn a_narrow_time_window_selects_by_store_time() {
    let (_tmp, root) = store_copy();
    let service = IndexService::open(root.join("index"), index_config()).unwrap();
    // FX-KEY-REQUEST-1 was sent twice; the second copy (8907) is newer. A window that starts
    // after the first store time finds only the newer one.
    let both = service.query_offsets("FxTopicRR", "FX-KEY-REQUEST-1", 64, 0, i64::MAX);
    assert_eq!(both.phy_offsets, vec![8907, 7490]);
    let first_time = 1_795_307_699_454;
    let none = service.query_offsets("FxTopicRR", "FX-KEY-REQUEST-1", 64, 0, first_time - 1);
    assert!(none.phy_offsets.is_empty());
    let limited = service.query_offsets("FxTopicRR", "FX-KEY-REQUEST-1", 1, 0, i64::MAX);
    assert_eq!(limited.phy_offsets, vec![8907]);
}

#[test]
fn new_units_and_keys_append_after_the_java_data() {
    let (_tmp, root) = store_copy();
    let table = ConsumeQueueTable::open(root.join("consumequeue"), CQ_FILE_SIZE).unwrap();
    table.recover_all().unwrap();
    let queue = table.get("FxTopicA", 0).unwrap();
    let next = queue.max_offset();
    assert!(queue.put_unit(next, 11_218, 300, 7).unwrap());
    assert_eq!(queue.max_offset(), next + 1);
    // Re-dispatch of an existing unit changes nothing.
    assert!(!queue.put_unit(0, 1, 1, 1).unwrap());
    assert_eq!(queue.get_unit(0).unwrap().phy_offset, 5462);

    let service = IndexService::open(root.join("index"), index_config()).unwrap();
    service
        .build_index(
            "FxTopicA",
            Some("NEW-KEY"),
            Some("NEWUNIQ"),
            11_218,
            1_795_308_070_000,
        )
        .unwrap();
    assert_eq!(
        service
            .query_offsets("FxTopicA", "NEW-KEY", 64, 0, i64::MAX)
            .phy_offsets,
        vec![11_218]
    );
    assert_eq!(
        service
            .query_offsets("FxTopicA", "NEWUNIQ", 64, 0, i64::MAX)
            .phy_offsets,
        vec![11_218]
    );
    assert_eq!(service.files()[0].header().index_count, 65);
    assert_eq!(
        service
            .query_offsets("FxTopicA", "FX-KEY-SYNC-1", 64, 0, i64::MAX)
            .phy_offsets,
        vec![0]
    );
}
