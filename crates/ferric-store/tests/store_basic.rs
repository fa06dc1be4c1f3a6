//! Put/get behaviour of the store, file rolling, filters, statuses and corruption handling.

mod common;

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};

use common::{body_of, message, small_config};
use ferric_store::{FlushDiskType, GetMessageStatus, MessageStore, PutMessageStatus};

#[test]
fn put_get_roll_files_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(dir.path(), FlushDiskType::SyncFlush);
    let mut store = MessageStore::open(config.clone()).unwrap();
    let mut offsets = Vec::new();
    for i in 0..100u32 {
        let result = store.put_message(message(
            "T",
            (i % 2) as i32,
            vec![i as u8; 1500],
            &format!("k{i}"),
        ));
        assert_eq!(result.status, PutMessageStatus::PutOk);
        let append = result.append.unwrap();
        assert_eq!(append.logics_offset, i64::from(i / 2));
        offsets.push(append.wrote_offset);
    }
    // 100 × ~1.6 KiB does not fit one 64 KiB file: records never span files.
    assert!(offsets.iter().any(|o| *o >= 64 * 1024));
    for pair in offsets.windows(2) {
        assert!(pair[1] > pair[0]);
    }
    let got = store.get_message("T", 1, 3, 5, 1 << 20, None);
    assert_eq!(got.status, GetMessageStatus::Found);
    assert_eq!(got.messages.len(), 5);
    assert_eq!(got.next_begin_offset, 8);
    assert_eq!(body_of(&got.messages[0]), vec![7u8; 1500]);

    let found = store.query_message("T", "k42", 10, 0, i64::MAX);
    assert_eq!(found.phy_offsets, vec![offsets[42]]);

    let batch: Vec<_> = (0..16)
        .map(|i| message("B", 0, vec![i; 100], "b"))
        .collect();
    let result = store.put_messages(batch);
    assert_eq!(result.status, PutMessageStatus::PutOk);
    let append = result.append.unwrap();
    assert_eq!(append.msg_num, 16);
    assert_eq!(append.msg_id.split(',').count(), 16);
    assert_eq!(store.get_max_offset_in_queue("B", 0), 16);

    store.shutdown().unwrap();
    drop(store);
    let store = MessageStore::open(config).unwrap();
    assert!(!store.recovery_outcome().1);
    assert_eq!(store.get_max_offset_in_queue("T", 0), 50);
    assert_eq!(store.get_max_offset_in_queue("B", 0), 16);
    let next = store
        .put_message(message("T", 0, vec![1], "x"))
        .append
        .unwrap();
    assert_eq!(next.logics_offset, 50);
}

#[test]
fn statuses_for_edge_offsets_filters_and_illegal_messages() {
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(small_config(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    assert_eq!(
        store.get_message("none", 0, 0, 1, 1000, None).status,
        GetMessageStatus::NoMatchedLogicQueue
    );
    for i in 0..4 {
        assert!(store.put_message(message("T", 0, vec![i; 10], "k")).is_ok());
    }
    assert_eq!(
        store.get_message("T", 0, 4, 1, 1000, None).status,
        GetMessageStatus::OffsetOverflowOne
    );
    let badly = store.get_message("T", 0, 9, 1, 1000, None);
    assert_eq!(badly.status, GetMessageStatus::OffsetOverflowBadly);
    assert_eq!(badly.next_begin_offset, 0);
    let reject_all = |_: i64| false;
    let filtered = store.get_message("T", 0, 0, 2, 1000, Some(&reject_all));
    assert_eq!(filtered.status, GetMessageStatus::NoMatchedMessage);
    assert!(filtered.messages.is_empty());
    let tag_a = ferric_common::java_hash("TagA") as i64;
    let only_a = move |code: i64| code == tag_a;
    let matched = store.get_message("T", 0, 0, 32, 1 << 20, Some(&only_a));
    assert_eq!(matched.messages.len(), 4);

    let long_topic = "x".repeat(128);
    assert_eq!(
        store
            .put_message(message(&long_topic, 0, vec![], "k"))
            .status,
        PutMessageStatus::MessageIllegal
    );
    assert_eq!(
        store
            .put_message(message("T", 0, vec![0; 16 * 1024 + 1], "k"))
            .status,
        PutMessageStatus::MessageIllegal
    );
    let mut big_props = message("T", 0, vec![], "k");
    big_props.properties.insert("p", "v".repeat(40_000));
    assert_eq!(
        store.put_message(big_props).status,
        PutMessageStatus::PropertiesSizeExceeded
    );
    assert_eq!(
        store.put_messages(Vec::new()).status,
        PutMessageStatus::MessageIllegal
    );
}

fn corrupt(path: &std::path::Path, at: u64, bytes: &[u8]) {
    let mut file = OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(bytes).unwrap();
    file.sync_all().unwrap();
}

#[test]
fn flipped_byte_inside_a_record_cuts_the_log_there_on_abnormal_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(dir.path(), FlushDiskType::SyncFlush);
    let store = MessageStore::open(config.clone()).unwrap();
    let mut offsets = Vec::new();
    for i in 0..20u8 {
        offsets.push(
            store
                .put_message(message("T", 0, vec![i; 200], "k"))
                .append
                .unwrap()
                .wrote_offset,
        );
    }
    store.simulate_crash();
    // Flip a body byte of message 10 (its body ends 2 + props bytes before the next record).
    let file = dir.path().join("commitlog/00000000000000000000");
    corrupt(&file, offsets[10] as u64 + 120, &[0xFF]);
    let store = MessageStore::open(config).unwrap();
    assert!(store.recovery_outcome().1);
    assert_eq!(store.commit_log_max_offset(), offsets[10]);
    assert_eq!(store.get_max_offset_in_queue("T", 0), 10);
    assert!(store.look_message_by_offset(offsets[11]).is_none());
    let got = store.get_message("T", 0, 0, 32, 1 << 20, None);
    assert_eq!(got.messages.len(), 10);
    for (i, raw) in got.messages.iter().enumerate() {
        assert_eq!(body_of(raw), vec![i as u8; 200]);
    }
}

#[test]
fn garbage_tail_is_cut_and_never_served_and_never_resurrected() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(dir.path(), FlushDiskType::SyncFlush);
    let store = MessageStore::open(config.clone()).unwrap();
    for i in 0..5u8 {
        assert!(
            store
                .put_message(message("T", 0, vec![i; 100], "k"))
                .is_ok()
        );
    }
    let end = store.commit_log_max_offset();
    // Keep a copy of a valid record to plant as a "stale" one behind garbage.
    let stale = store.get_message("T", 0, 4, 1, 1 << 20, None).messages[0].clone();
    store.simulate_crash();
    let file = dir.path().join("commitlog/00000000000000000000");
    corrupt(&file, end as u64, &[0xAB; 37]);
    corrupt(&file, end as u64 + 37, &stale);
    let mut store = MessageStore::open(config.clone()).unwrap();
    assert_eq!(store.commit_log_max_offset(), end);
    assert_eq!(store.get_max_offset_in_queue("T", 0), 5);
    assert!(store.put_message(message("T", 0, vec![9; 10], "k")).is_ok());
    store.shutdown().unwrap();
    drop(store);
    let store = MessageStore::open(config).unwrap();
    assert_eq!(store.get_max_offset_in_queue("T", 0), 6);
    let got = store.get_message("T", 0, 5, 32, 1 << 20, None);
    assert_eq!(got.messages.len(), 1);
    assert_eq!(body_of(&got.messages[0]), vec![9; 10]);
}

#[test]
fn second_open_of_a_locked_store_fails() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(dir.path(), FlushDiskType::AsyncFlush);
    let _store = MessageStore::open(config.clone()).unwrap();
    let second = MessageStore::open(config);
    assert!(
        matches!(second, Err(ferric_store::StoreError::Locked(_))),
        "{second:?}"
    );
}
