//! CleanupService over real files: small CommitLog segments, a fake clock and a fake disk.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use ferric_store::MappedFileQueue;
use ferric_store::cleanup::{CleanupConfig, CleanupService, Clock, DeleteWhen, DiskUsage};
use ferric_store::consume_queue::ConsumeQueueTable;
use ferric_store::index_file::{IndexConfig, IndexService};
use parking_lot::Mutex;

const SEGMENT: usize = 1024;
const HOUR: i64 = 3_600_000;
/// 2026-11-22T04:00:00Z.
const AT_FOUR: i64 = 1_795_320_000_000;

#[derive(Debug)]
struct FakeClock(Mutex<i64>);

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        *self.0.lock()
    }
}

#[derive(Debug)]
struct FakeDisk(Mutex<f64>);

impl DiskUsage for FakeDisk {
    fn used_ratio(&self, _path: &Path) -> Option<f64> {
        Some(*self.0.lock())
    }
}

struct Store {
    _tmp: tempfile::TempDir,
    commit_log: MappedFileQueue,
    queues: ConsumeQueueTable,
    index: IndexService,
    clock: Arc<FakeClock>,
    disk: Arc<FakeDisk>,
    service: CleanupService,
}

/// Five segments (the last one active), two messages per segment, each in the consume queue
/// (4 units per file) and the index (2 entries per file).
fn store(ages_hours: [i64; 5]) -> Store {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let commit_log = MappedFileQueue::new(root.join("commitlog"), SEGMENT).unwrap();
    let queues = ConsumeQueueTable::open(root.join("consumequeue"), 4 * 20).unwrap();
    let index = IndexService::open(
        root.join("index"),
        IndexConfig {
            max_hash_slot_num: 8,
            max_index_num: 3,
            max_msgs_num_batch: 64,
        },
    )
    .unwrap();
    let queue = queues.get_or_create("T", 0).unwrap();
    let mut cq_offset = 0;
    for segment in 0..5u64 {
        let file = commit_log.last_or_create(segment * SEGMENT as u64).unwrap();
        let fill = if segment == 4 { SEGMENT / 2 } else { SEGMENT };
        file.append(&vec![7u8; fill]).unwrap();
        for half in 0..2i64 {
            let phy = segment as i64 * SEGMENT as i64 + half * 512;
            if segment == 4 && half == 1 {
                break;
            }
            queue.put_unit(cq_offset, phy, 512, 0).unwrap();
            index
                .build_index("T", Some(&format!("k{phy}")), None, phy, AT_FOUR - HOUR)
                .unwrap();
            cq_offset += 1;
        }
    }
    for (file, age) in commit_log.files().iter().zip(ages_hours) {
        let modified = UNIX_EPOCH + Duration::from_millis((AT_FOUR - age * HOUR) as u64);
        std::fs::File::options()
            .write(true)
            .open(file.path())
            .unwrap()
            .set_modified(modified)
            .unwrap();
    }
    let clock = Arc::new(FakeClock(Mutex::new(AT_FOUR + HOUR)));
    let disk = Arc::new(FakeDisk(Mutex::new(0.5)));
    let watched: Vec<PathBuf> = vec![root.join("commitlog"), root.join("consumequeue")];
    let service = CleanupService::new(
        CleanupConfig {
            file_reserved_time_hours: 48,
            delete_when: DeleteWhen::parse("04").unwrap(),
            ..CleanupConfig::default()
        },
        clock.clone(),
        disk.clone(),
        watched,
    );
    Store {
        _tmp: tmp,
        commit_log,
        queues,
        index,
        clock,
        disk,
        service,
    }
}

fn run(s: &Store) -> ferric_store::cleanup::CleanupReport {
    s.service
        .run_cleanup(&s.commit_log, &s.queues, Some(&s.index))
        .unwrap()
}

#[test]
fn expired_segments_go_at_delete_when_with_their_queue_and_index_files() {
    let s = store([100, 90, 10, 5, 0]);
    assert_eq!(s.commit_log.len(), 5);
    assert_eq!(s.queues.get("T", 0).unwrap().file_count(), 3);
    assert_eq!(s.index.files().len(), 5);

    // 05:00: not a deleteWhen hour, disk calm: nothing happens.
    let report = run(&s);
    assert_eq!(report.commit_log_files_deleted, 0);
    assert_eq!(s.commit_log.len(), 5);

    // 04:00: the two expired segments go; the walk stops at the first unexpired one.
    *s.clock.0.lock() = AT_FOUR + 60_000;
    let report = run(&s);
    assert_eq!(report.commit_log_files_deleted, 2);
    assert!(!report.forced);
    assert_eq!(report.commit_log_min_offset, 2 * SEGMENT as i64);
    assert_eq!(s.commit_log.min_offset(), Some(2 * SEGMENT as u64));
    // CQ file 0 (units at 0, 512, 1024, 1536) pointed only below 2048.
    let queue = s.queues.get("T", 0).unwrap();
    assert_eq!(report.consume_queue_files_deleted, 1);
    assert_eq!(queue.file_count(), 2);
    assert_eq!(queue.min_offset(), 4);
    assert_eq!(queue.units(0, 1).next().unwrap().unit.phy_offset, 2048);
    // Index files 0 and 1 ended below 2048.
    assert_eq!(report.index_files_deleted, 2);
    assert_eq!(s.index.files().len(), 3);
    assert!(
        s.index
            .query_offsets("T", "k0", 64, 0, i64::MAX)
            .phy_offsets
            .is_empty()
    );
    assert_eq!(
        s.index
            .query_offsets("T", "k2048", 64, 0, i64::MAX)
            .phy_offsets,
        vec![2048]
    );

    // Running again at 04:00 deletes nothing more.
    let report = run(&s);
    assert_eq!(report.commit_log_files_deleted, 0);
    assert_eq!(s.commit_log.len(), 3);
}

#[test]
fn disk_pressure_forces_deletion_but_never_of_the_active_segment() {
    let s = store([3, 2, 2, 1, 0]);
    // 0.80 > diskMaxUsedSpaceRatio: only expired files would go, and none is expired.
    *s.disk.0.lock() = 0.80;
    assert_eq!(run(&s).commit_log_files_deleted, 0);
    // 0.87 > diskSpaceCleanForciblyRatio: everything but the active segment goes.
    *s.disk.0.lock() = 0.87;
    let report = run(&s);
    assert!(report.forced);
    assert!(!report.disk.disk_full);
    assert_eq!(report.commit_log_files_deleted, 4);
    assert_eq!(s.commit_log.len(), 1);
    assert_eq!(s.commit_log.min_offset(), Some(4 * SEGMENT as u64));
    let queue = s.queues.get("T", 0).unwrap();
    assert_eq!(queue.min_offset(), 8);
    assert_eq!(queue.units(0, 10).count(), 1);
    assert_eq!(s.index.files().len(), 1);
    // Still forced, but the active segment is never deleted.
    assert_eq!(run(&s).commit_log_files_deleted, 0);
    assert_eq!(s.commit_log.len(), 1);
}

#[test]
fn writes_are_refused_above_the_warning_level_until_space_returns() {
    let s = store([1, 1, 1, 1, 0]);
    let flags = s.service.flags();
    assert!(!flags.is_disk_full());
    *s.disk.0.lock() = 0.95;
    let report = run(&s);
    assert!(report.disk.disk_full);
    assert!(s.service.is_disk_full());
    assert!(flags.is_disk_full());
    assert_eq!(report.commit_log_files_deleted, 4);
    *s.disk.0.lock() = 0.89;
    run(&s);
    assert!(!flags.is_disk_full());
    *s.disk.0.lock() = 0.5;
    run(&s);
    assert!(!s.service.is_disk_full());
}
