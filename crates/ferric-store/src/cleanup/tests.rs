use super::*;

const H: i64 = HOUR_MS;

fn policy() -> CleanupPolicy {
    CleanupPolicy::new(CleanupConfig {
        file_reserved_time_hours: 48,
        delete_when: DeleteWhen::parse("04;10").unwrap(),
        ..CleanupConfig::default()
    })
}

fn calm() -> DiskAssessment {
    policy().assess_disk(&[Some(0.5)])
}

fn segments(ages_hours: &[i64], now: i64) -> Vec<SegmentInfo> {
    ages_hours
        .iter()
        .enumerate()
        .map(|(i, age)| SegmentInfo {
            start_offset: i as i64 * 1024,
            last_modified_ms: now - age * H,
        })
        .collect()
}

#[test]
fn delete_when_parses_hours() {
    assert_eq!(DeleteWhen::parse("04").unwrap().hours(), &[4]);
    assert_eq!(DeleteWhen::parse("04;10").unwrap().hours(), &[4, 10]);
    assert!(DeleteWhen::parse("04;10").unwrap().matches(10));
    assert!(!DeleteWhen::parse("04").unwrap().matches(5));
    let err = DeleteWhen::parse("4;25").unwrap_err();
    assert!(err.to_string().contains("deleteWhen"), "{err}");
    assert!(DeleteWhen::parse("x").is_err());
}

#[test]
fn disk_thresholds() {
    let p = policy();
    let a = p.assess_disk(&[Some(0.5)]);
    assert!(!a.disk_full && !a.clean_immediately && !a.space_to_delete);
    let a = p.assess_disk(&[Some(0.80)]);
    assert!(!a.disk_full && !a.clean_immediately && a.space_to_delete);
    let a = p.assess_disk(&[Some(0.86)]);
    assert!(!a.disk_full && a.clean_immediately && a.space_to_delete);
    let a = p.assess_disk(&[Some(0.5), Some(0.91)]);
    assert!(a.disk_full && a.clean_immediately);
    assert_eq!(a.used_ratio, Some(0.91));
    let a = p.assess_disk(&[None]);
    assert!(a.space_to_delete && !a.disk_full);
}

#[test]
fn expired_segments_go_only_at_delete_when() {
    let p = policy();
    let now = 1_000 * H;
    let segs = segments(&[100, 60, 10, 0], now);
    assert_eq!(p.plan_commit_log(now, 3, &calm(), &segs).delete_count, 0);
    let plan = p.plan_commit_log(now, 4, &calm(), &segs);
    assert_eq!(
        plan,
        CommitLogPlan {
            delete_count: 2,
            forced: false
        }
    );
    assert_eq!(p.plan_commit_log(now, 10, &calm(), &segs).delete_count, 2);
}

#[test]
fn walk_stops_at_first_unexpired_segment() {
    let p = policy();
    let now = 1_000 * H;
    let segs = segments(&[100, 10, 100, 0], now);
    assert_eq!(p.plan_commit_log(now, 4, &calm(), &segs).delete_count, 1);
}

#[test]
fn space_above_max_used_deletes_expired_outside_delete_when() {
    let p = policy();
    let now = 1_000 * H;
    let disk = p.assess_disk(&[Some(0.8)]);
    let segs = segments(&[100, 60, 10, 0], now);
    assert_eq!(p.plan_commit_log(now, 15, &disk, &segs).delete_count, 2);
}

#[test]
fn forced_cleanup_deletes_unexpired_but_never_the_active_segment() {
    let p = policy();
    let now = 1_000 * H;
    let disk = p.assess_disk(&[Some(0.87)]);
    let segs = segments(&[1, 1, 1, 0], now);
    let plan = p.plan_commit_log(now, 15, &disk, &segs);
    assert_eq!(
        plan,
        CommitLogPlan {
            delete_count: 3,
            forced: true
        }
    );
    let one = segments(&[1000], now);
    assert_eq!(p.plan_commit_log(now, 4, &disk, &one).delete_count, 0);
}

#[test]
fn forced_cleanup_respects_switch_and_batch_limit() {
    let now = 1_000 * H;
    let off = CleanupPolicy::new(CleanupConfig {
        clean_file_forcibly_enable: false,
        ..CleanupConfig::default()
    });
    let disk = off.assess_disk(&[Some(0.95)]);
    assert!(disk.disk_full);
    assert_eq!(
        off.plan_commit_log(now, 15, &disk, &segments(&[1, 1, 0], now))
            .delete_count,
        0
    );
    let batch = CleanupPolicy::new(CleanupConfig {
        delete_files_batch_max: 2,
        ..CleanupConfig::default()
    });
    let disk = batch.assess_disk(&[Some(0.95)]);
    let plan = batch.plan_commit_log(now, 15, &disk, &segments(&[1, 1, 1, 1, 0], now));
    assert_eq!(plan.delete_count, 2);
}

#[test]
fn disk_flags_report_previous_value() {
    let flags = DiskFlags::default();
    assert!(!flags.is_disk_full());
    assert!(!flags.set_disk_full(true));
    assert!(flags.is_disk_full());
    assert!(flags.set_disk_full(false));
}

#[test]
fn statvfs_measures_a_real_path() {
    let tmp = tempfile::tempdir().unwrap();
    let ratio = StatvfsDiskUsage
        .used_ratio(&tmp.path().join("not/yet/there"))
        .unwrap();
    assert!((0.0..=1.0).contains(&ratio), "{ratio}");
}

#[test]
fn default_clock_hour_is_utc() {
    #[derive(Debug)]
    struct Fixed(i64);
    impl Clock for Fixed {
        fn now_ms(&self) -> i64 {
            self.0
        }
    }
    // 2026-11-22T00:34:59Z and 04:00:00Z.
    assert_eq!(Fixed(1_795_307_699_462).hour_of_day(), 0);
    assert_eq!(Fixed(1_795_320_000_000).hour_of_day(), 4);
}
