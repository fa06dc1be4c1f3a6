use super::*;

fn small(dir: &Path, slots: u32, max: u32) -> IndexFile {
    IndexFile::open(&dir.join("20260101000000000"), slots, max, None).unwrap()
}

#[test]
fn header_and_entry_round_trip() {
    let header = IndexHeader {
        begin_timestamp: 1,
        end_timestamp: -2,
        begin_phy_offset: 3,
        end_phy_offset: i64::MAX,
        hash_slot_count: 5,
        index_count: 6,
    };
    let bytes = header.encode();
    assert_eq!(&bytes[36..40], &[0, 0, 0, 6]);
    assert_eq!(IndexHeader::decode(&bytes), Some(header));
    assert_eq!(IndexHeader::decode(&bytes[..39]), None);
    let entry = IndexEntry {
        key_hash: 7,
        phy_offset: 0x0102_0304_0506_0708,
        time_diff: 9,
        prev_index: 10,
    };
    let bytes = entry.encode();
    assert_eq!(&bytes[4..12], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(IndexEntry::decode(&bytes), Some(entry));
    assert_eq!(IndexEntry::decode(&bytes[..19]), None);
}

#[test]
fn key_hash_is_absolute_java_hash() {
    assert_eq!(index_key_hash("TopicTest#key1"), 1_655_984_460);
    // "polygenelubricants".hashCode() is Integer.MIN_VALUE in Java.
    assert_eq!(ferric_common::java_hash("polygenelubricants"), i32::MIN);
    assert_eq!(index_key_hash("polygenelubricants"), 0);
}

#[test]
fn time_diff_rules() {
    assert_eq!(time_diff_seconds(0, 5_000_000), 0);
    assert_eq!(time_diff_seconds(1000, 4999), 3);
    assert_eq!(time_diff_seconds(10_000, 5000), 0);
    assert_eq!(time_diff_seconds(1, i64::MAX), i32::MAX);
}

#[test]
fn file_size_matches_rocketmq() {
    assert_eq!(
        index_file_size(DEFAULT_MAX_HASH_SLOT_NUM, DEFAULT_MAX_INDEX_NUM),
        420_000_040
    );
    assert_eq!(index_file_size(1000, 4000), 84_040);
}

#[test]
fn full_size_file_is_sparse() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let file = IndexFile::open(
        &tmp.path().join("20260101000000000"),
        DEFAULT_MAX_HASH_SLOT_NUM,
        DEFAULT_MAX_INDEX_NUM,
        None,
    )
    .unwrap();
    file.put_key("T#k", 0, 1000).unwrap();
    file.flush().unwrap();
    let meta = std::fs::metadata(file.path()).unwrap();
    assert_eq!(meta.len(), 420_000_040);
    // A few pages at most, nowhere near 420 MB.
    assert!(
        meta.blocks() * 512 < 1024 * 1024,
        "{} blocks",
        meta.blocks()
    );
}

#[test]
fn put_select_and_chain_with_collisions() {
    let tmp = tempfile::tempdir().unwrap();
    // One slot: every key shares one chain.
    let file = small(tmp.path(), 1, 10);
    assert_eq!(file.header().index_count, 1);
    assert!(file.put_key("T#a", 100, 10_000).unwrap());
    assert!(file.put_key("T#b", 200, 11_000).unwrap());
    assert!(file.put_key("T#a", 300, 12_500).unwrap());
    let header = file.header();
    assert_eq!(header.index_count, 4);
    assert_eq!(header.hash_slot_count, 1);
    assert_eq!(
        (header.begin_timestamp, header.end_timestamp),
        (10_000, 12_500)
    );
    assert_eq!((header.begin_phy_offset, header.end_phy_offset), (100, 300));
    assert_eq!(file.slot(0), 3);
    assert_eq!(file.entry(3).unwrap().prev_index, 2);
    assert_eq!(file.entry(3).unwrap().time_diff, 2);
    let mut out = Vec::new();
    file.select_phy_offsets("T#a", 10, 0, i64::MAX, &mut out);
    assert_eq!(out, vec![300, 100]);
    out.clear();
    file.select_phy_offsets("T#a", 1, 0, i64::MAX, &mut out);
    assert_eq!(out, vec![300]);
    out.clear();
    // Times are stored in whole seconds from the begin timestamp.
    file.select_phy_offsets("T#a", 10, 11_000, 20_000, &mut out);
    assert_eq!(out, vec![300]);
    out.clear();
    file.select_phy_offsets("T#zzz", 10, 0, i64::MAX, &mut out);
    assert!(out.is_empty());
}

#[test]
fn full_file_refuses_keys_and_reopens_with_same_header() {
    let tmp = tempfile::tempdir().unwrap();
    let path = {
        let file = small(tmp.path(), 4, 3);
        assert!(file.put_key("T#a", 1, 5000).unwrap());
        assert!(file.put_key("T#b", 2, 6000).unwrap());
        assert!(file.is_full());
        assert!(!file.put_key("T#c", 3, 7000).unwrap());
        file.flush().unwrap();
        file.path().to_path_buf()
    };
    let file = IndexFile::open(&path, 4, 3, None).unwrap();
    assert_eq!(file.header().index_count, 3);
    assert_eq!(file.entries().count(), 2);
    let mut out = Vec::new();
    file.select_phy_offsets("T#b", 10, 0, i64::MAX, &mut out);
    assert_eq!(out, vec![2]);
}

#[test]
fn wrong_size_file_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("20260101000000000");
    std::fs::write(&path, [1u8; 100]).unwrap();
    let err = IndexFile::open(&path, 4, 3, None).unwrap_err();
    assert!(err.to_string().contains("20260101000000000"), "{err}");
}

#[test]
fn file_names_are_utc_timestamps() {
    assert_eq!(format_file_name(1_795_307_699_462), "20261122003459462");
    assert_eq!(format_file_name(0), "19700101000000000");
    assert_eq!(format_file_name(951_782_400_000), "20000229000000000");
}

#[test]
fn service_rolls_queries_truncates_and_expires() {
    let tmp = tempfile::tempdir().unwrap();
    let config = IndexConfig {
        max_hash_slot_num: 3,
        max_index_num: 4,
        max_msgs_num_batch: 64,
    };
    let service = IndexService::open(tmp.path().join("index"), config).unwrap();
    // Each message adds two keys; a file holds three entries.
    for i in 0..6i64 {
        let added = service
            .build_index(
                "T",
                Some(&format!("k{i} shared")),
                None,
                i * 100,
                1_000_000 + i * 1000,
            )
            .unwrap();
        assert_eq!(added, 2);
    }
    assert_eq!(service.files().len(), 4);
    // Re-dispatch below the newest end offset is skipped.
    assert_eq!(
        service
            .build_index("T", Some("k0"), None, 0, 1_000_000)
            .unwrap(),
        0
    );
    let found = service.query_offsets("T", "shared", 64, 0, i64::MAX);
    assert_eq!(found.phy_offsets, vec![500, 400, 300, 200, 100, 0]);
    assert_eq!(found.index_last_update_phy_offset, 500);
    assert_eq!(found.index_last_update_timestamp, 1_005_000);
    assert_eq!(
        service
            .query_offsets("T", "k3", 64, 0, i64::MAX)
            .phy_offsets,
        vec![300]
    );
    assert_eq!(
        service
            .query_offsets("T", "shared", 2, 0, i64::MAX)
            .phy_offsets
            .len(),
        2
    );

    // Reopen: same answers.
    drop(service);
    let service = IndexService::open(tmp.path().join("index"), config).unwrap();
    assert_eq!(
        service
            .query_offsets("T", "k5", 64, 0, i64::MAX)
            .phy_offsets,
        vec![500]
    );

    // The CommitLog now ends at 450: files indexing 500 go, re-index from their begin.
    let from = service.truncate_beyond(450).unwrap();
    assert_eq!(from, Some(400));
    assert!(
        service
            .query_offsets("T", "k5", 64, 0, i64::MAX)
            .phy_offsets
            .is_empty()
    );
    assert_eq!(
        service
            .query_offsets("T", "k3", 64, 0, i64::MAX)
            .phy_offsets,
        vec![300]
    );

    // CommitLog min moved to 250: files whose last message is below it are deleted.
    let before = service.files().len();
    let deleted = service.delete_expired(250).unwrap();
    assert!(deleted >= 1);
    assert_eq!(service.files().len(), before - deleted);
    assert!(
        service
            .query_offsets("T", "k0", 64, 0, i64::MAX)
            .phy_offsets
            .is_empty()
    );
    // Never the newest file.
    service.delete_expired(i64::MAX).unwrap();
    assert_eq!(service.files().len(), 1);
}

#[test]
fn topic_key_hash_is_the_hash_of_the_joined_key() {
    for (topic, key) in [
        ("TopicTest", "key1"),
        ("T", ""),
        ("", "k"),
        ("Tópico", "clé-✓"),
        ("T", "\u{1F600}"),
        ("polygenelubr", "icants"),
    ] {
        assert_eq!(
            topic_key_hash(topic, key),
            index_key_hash(&format!("{topic}#{key}")),
            "{topic}#{key}"
        );
    }
}
