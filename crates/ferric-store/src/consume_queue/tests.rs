use super::*;

const SMALL: usize = 10 * CQ_UNIT_SIZE;

fn open(dir: &Path) -> ConsumeQueue {
    ConsumeQueue::open(dir.join("T").join("0"), "T", 0, SMALL).unwrap()
}

#[test]
fn unit_round_trips_and_is_big_endian() {
    let unit = CqUnit {
        phy_offset: 0x0102_0304_0506_0708,
        size: 0x0A0B_0C0D,
        tags_code: -2,
    };
    let bytes = unit.encode();
    assert_eq!(&bytes[0..8], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&bytes[8..12], &[0x0A, 0x0B, 0x0C, 0x0D]);
    assert_eq!(
        &bytes[12..20],
        &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]
    );
    assert_eq!(CqUnit::decode(&bytes), Some(unit));
    assert_eq!(CqUnit::decode(&bytes[..19]), None);
}

#[test]
fn blank_and_validity_rules() {
    assert!(CqUnit::BLANK.is_written());
    assert!(CqUnit::BLANK.is_blank());
    assert!(!CqUnit::BLANK.is_message());
    let zero = CqUnit::decode(&[0u8; 20]).unwrap();
    assert!(!zero.is_written());
    let negative = CqUnit {
        phy_offset: -1,
        size: 10,
        tags_code: 0,
    };
    assert!(!negative.is_written());
}

#[test]
fn rejects_file_size_not_multiple_of_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let err = ConsumeQueue::open(tmp.path().join("q"), "T", 0, 30).unwrap_err();
    assert!(
        err.to_string().contains("mappedFileSizeConsumeQueue"),
        "{err}"
    );
}

#[test]
fn put_get_and_roll_files() {
    let tmp = tempfile::tempdir().unwrap();
    let cq = open(tmp.path());
    assert_eq!((cq.min_offset(), cq.max_offset()), (0, 0));
    for i in 0..25i64 {
        assert!(cq.put_unit(i, i * 100, 100, i + 7).unwrap());
    }
    assert_eq!(cq.file_count(), 3);
    assert_eq!((cq.min_offset(), cq.max_offset()), (0, 25));
    assert_eq!(cq.max_phy_offset(), 2500);
    assert_eq!(
        cq.get_unit(13),
        Some(CqUnit {
            phy_offset: 1300,
            size: 100,
            tags_code: 20
        })
    );
    assert_eq!(cq.get_unit(25), None);
    let got: Vec<i64> = cq.units(8, 5).map(|e| e.queue_offset).collect();
    assert_eq!(got, vec![8, 9, 10, 11, 12]);
    // Re-dispatch of a present unit is skipped and changes nothing.
    assert!(!cq.put_unit(3, 999, 1, 1).unwrap());
    assert_eq!(cq.get_unit(3).unwrap().phy_offset, 300);
}

#[test]
fn queue_starting_mid_file_gets_blank_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let cq = open(tmp.path());
    cq.put_unit(23, 5000, 50, 1).unwrap();
    assert_eq!(cq.min_offset(), 23);
    assert_eq!(cq.max_offset(), 24);
    assert_eq!(cq.get_unit(20), Some(CqUnit::BLANK));
    assert_eq!(cq.get_unit(22), Some(CqUnit::BLANK));
    assert_eq!(cq.get_unit(23).unwrap().phy_offset, 5000);
    assert_eq!(cq.file_count(), 1);
    assert!(cq.dir().join("00000000000000000400").exists());
    let all: Vec<CqEntry> = cq.units(0, 100).collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].queue_offset, 23);
}

#[test]
fn gap_in_queue_is_filled_with_blanks_across_files() {
    let tmp = tempfile::tempdir().unwrap();
    let cq = open(tmp.path());
    cq.put_unit(0, 0, 10, 0).unwrap();
    cq.put_unit(15, 10, 10, 0).unwrap();
    assert_eq!(cq.max_offset(), 16);
    assert_eq!(cq.get_unit(9), Some(CqUnit::BLANK));
    assert_eq!(cq.get_unit(14), Some(CqUnit::BLANK));
    assert_eq!(cq.get_unit(15).unwrap().phy_offset, 10);
}

#[test]
fn recover_finds_end_and_truncates() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let cq = open(tmp.path());
        for i in 0..14i64 {
            cq.put_unit(i, i * 10, 10, 0).unwrap();
        }
        cq.flush().unwrap();
    }
    let cq = open(tmp.path());
    // Freshly loaded files count as full until recovery.
    assert_eq!(cq.max_offset(), 20);
    assert_eq!(cq.recover().unwrap(), 14);
    assert_eq!(cq.max_offset(), 14);
    assert_eq!(cq.max_phy_offset(), 140);
    cq.put_unit(14, 140, 10, 0).unwrap();
    assert_eq!(cq.get_unit(14).unwrap().phy_offset, 140);
}

#[test]
fn recover_skips_leading_blanks_for_min_offset() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let cq = open(tmp.path());
        cq.put_unit(4, 40, 10, 0).unwrap();
        cq.put_unit(5, 50, 10, 0).unwrap();
    }
    let cq = open(tmp.path());
    cq.recover().unwrap();
    assert_eq!((cq.min_offset(), cq.max_offset()), (4, 6));
}

#[test]
fn truncate_dirty_drops_units_at_or_after_commit_log_end() {
    let tmp = tempfile::tempdir().unwrap();
    let cq = open(tmp.path());
    for i in 0..25i64 {
        cq.put_unit(i, i * 100, 100, 0).unwrap();
    }
    assert_eq!(cq.truncate_dirty(1250).unwrap(), 13);
    assert_eq!(cq.max_offset(), 13);
    assert_eq!(cq.max_phy_offset(), 1300);
    assert_eq!(cq.file_count(), 2);
    assert_eq!(cq.get_unit(13), None);
    // Nothing to cut.
    assert_eq!(cq.truncate_dirty(1_000_000).unwrap(), 13);
    assert!(cq.put_unit(13, 1300, 100, 0).unwrap());
}

#[test]
fn delete_expired_and_min_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let cq = open(tmp.path());
    for i in 0..25i64 {
        cq.put_unit(i, i * 100, 100, 0).unwrap();
    }
    // CommitLog now starts at 1050: file 0 (units 0..10, last phy 900) goes; file 1 stays.
    assert_eq!(cq.delete_expired(1050).unwrap(), 1);
    assert_eq!(cq.file_count(), 2);
    assert_eq!(cq.min_offset(), 11);
    assert_eq!(cq.get_unit(5), None);
    // Never the newest file, even if everything is expired.
    assert_eq!(cq.delete_expired(1_000_000).unwrap(), 1);
    assert_eq!(cq.file_count(), 1);
    assert_eq!(cq.min_offset(), 25);
    assert_eq!(cq.units(0, 10).count(), 0);
}

#[test]
fn offset_by_time_finds_first_not_older() {
    let tmp = tempfile::tempdir().unwrap();
    let cq = open(tmp.path());
    // Message i stored at time 1000 + 10*i, two messages share each time step.
    for i in 0..30i64 {
        cq.put_unit(i, i * 100, 100, 0).unwrap();
    }
    let time_of = |phy: i64, _size: i32| Some(1000 + (phy / 100 / 2) * 10);
    assert_eq!(cq.offset_by_time(0, time_of), 0);
    assert_eq!(cq.offset_by_time(1000, time_of), 0);
    assert_eq!(cq.offset_by_time(1001, time_of), 2);
    assert_eq!(cq.offset_by_time(1050, time_of), 10);
    assert_eq!(cq.offset_by_time(1140, time_of), 28);
    assert_eq!(cq.offset_by_time(1141, time_of), 30);
    // Messages no longer in the CommitLog count as older.
    let partial = |phy: i64, size: i32| if phy < 500 { None } else { time_of(phy, size) };
    assert_eq!(cq.offset_by_time(0, partial), 5);
}

#[test]
fn table_creates_loads_and_removes_queues() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("consumequeue");
    {
        let table = ConsumeQueueTable::open(&root, SMALL).unwrap();
        assert!(table.queues().is_empty());
        let q = table.get_or_create("A", 1).unwrap();
        q.put_unit(0, 0, 10, 0).unwrap();
        table
            .get_or_create("A", 0)
            .unwrap()
            .put_unit(0, 10, 10, 0)
            .unwrap();
        table
            .get_or_create("%RETRY%g", 0)
            .unwrap()
            .put_unit(0, 20, 10, 0)
            .unwrap();
        assert!(std::sync::Arc::ptr_eq(
            &q,
            &table.get_or_create("A", 1).unwrap()
        ));
        assert!(table.get_or_create("../escape", 0).is_err());
        assert!(table.get_or_create("", 0).is_err());
        table.flush_all().unwrap();
    }
    std::fs::create_dir_all(root.join("A").join("not-a-queue")).unwrap();
    let table = ConsumeQueueTable::open(&root, SMALL).unwrap();
    table.recover_all().unwrap();
    assert_eq!(table.topics(), vec!["%RETRY%g".to_owned(), "A".to_owned()]);
    let ids: Vec<i32> = table.queues_of("A").iter().map(|q| q.queue_id()).collect();
    assert_eq!(ids, vec![0, 1]);
    assert_eq!(table.max_phy_offset(), 30);
    assert_eq!(table.get("A", 1).unwrap().max_offset(), 1);
    assert!(table.remove_topic("A").unwrap());
    assert!(!table.remove_topic("A").unwrap());
    assert!(table.get("A", 0).is_none());
    assert!(!root.join("A").exists());
}

#[test]
fn correct_min_offset_skips_blanks_and_never_moves_back() {
    let tmp = tempfile::tempdir().unwrap();
    let cq = open(tmp.path());
    cq.put_unit(2, 100, 10, 0).unwrap();
    cq.put_unit(3, 200, 10, 0).unwrap();
    cq.put_unit(4, 300, 10, 0).unwrap();
    assert_eq!(cq.correct_min_offset(0), 2);
    assert_eq!(cq.correct_min_offset(150), 3);
    assert_eq!(cq.correct_min_offset(0), 3);
    assert_eq!(cq.correct_min_offset(10_000), 5);
    assert_eq!(cq.units(0, 10).count(), 0);
}
