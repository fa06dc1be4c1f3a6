//! The cleanup executor: measures the disk, updates the disk-full flag, deletes CommitLog
//! segments as the policy decides, then the ConsumeQueue and index files they made obsolete.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use super::{
    CleanupConfig, CleanupPolicy, Clock, DiskAssessment, DiskFlags, DiskUsage, SegmentInfo,
    StatvfsDiskUsage, SystemClock,
};
use crate::consume_queue::ConsumeQueueTable;
use crate::error::StoreResult;
use crate::index_file::IndexService;
use crate::mapped_file_queue::MappedFileQueue;

/// What one cleanup run did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CleanupReport {
    /// The disk measurement of this run.
    pub disk: DiskAssessment,
    /// CommitLog segments deleted.
    pub commit_log_files_deleted: usize,
    /// True when segments were deleted before they expired (disk pressure).
    pub forced: bool,
    /// CommitLog minimum offset after the run.
    pub commit_log_min_offset: i64,
    /// ConsumeQueue files deleted.
    pub consume_queue_files_deleted: usize,
    /// Index files deleted.
    pub index_files_deleted: usize,
}

/// Runs the cleanup periodically called by the store (RocketMQ runs it every 10 s).
#[derive(Debug)]
pub struct CleanupService {
    policy: CleanupPolicy,
    clock: Arc<dyn Clock>,
    disk: Arc<dyn DiskUsage>,
    watched: Vec<PathBuf>,
    flags: Arc<DiskFlags>,
    /// CommitLog minimum offset the derived files were last cleaned for (-1 = never).
    derived_cleaned_for: AtomicI64,
}

impl CleanupService {
    /// A service watching the file systems of `watched` (the CommitLog and ConsumeQueue
    /// directories) with an injected clock and disk-usage source.
    pub fn new(
        config: CleanupConfig,
        clock: Arc<dyn Clock>,
        disk: Arc<dyn DiskUsage>,
        watched: Vec<PathBuf>,
    ) -> CleanupService {
        CleanupService {
            policy: CleanupPolicy::new(config),
            clock,
            disk,
            watched,
            flags: Arc::new(DiskFlags::default()),
            derived_cleaned_for: AtomicI64::new(-1),
        }
    }

    /// A service on the system clock and `statvfs`.
    pub fn with_system(config: CleanupConfig, watched: Vec<PathBuf>) -> CleanupService {
        Self::new(
            config,
            Arc::new(SystemClock),
            Arc::new(StatvfsDiskUsage),
            watched,
        )
    }

    /// The policy.
    pub fn policy(&self) -> &CleanupPolicy {
        &self.policy
    }

    /// The disk-full flag, to share with the writing side.
    pub fn flags(&self) -> Arc<DiskFlags> {
        self.flags.clone()
    }

    /// True while writes must be refused because the disk is above the warning level.
    pub fn is_disk_full(&self) -> bool {
        self.flags.is_disk_full()
    }

    /// Measures the watched paths and updates the disk-full flag (logging transitions).
    pub fn check_disk(&self) -> DiskAssessment {
        let ratios: Vec<Option<f64>> = self
            .watched
            .iter()
            .map(|path| {
                let ratio = self.disk.used_ratio(path);
                if ratio.is_none() {
                    tracing::warn!(path = %path.display(), "disk usage cannot be measured");
                }
                ratio
            })
            .collect();
        let assessment = self.policy.assess_disk(&ratios);
        let was_full = self.flags.set_disk_full(assessment.disk_full);
        if assessment.disk_full && !was_full {
            tracing::error!(used_ratio = ?assessment.used_ratio, "disk full: refusing writes");
        } else if !assessment.disk_full && was_full {
            tracing::info!(used_ratio = ?assessment.used_ratio, "disk space back to normal: accepting writes");
        }
        assessment
    }

    /// Deletes the CommitLog segments the policy chooses for `disk`; returns how many and
    /// whether they were deleted before expiry.
    pub fn clean_commit_log(
        &self,
        commit_log: &MappedFileQueue,
        disk: &DiskAssessment,
    ) -> StoreResult<(usize, bool)> {
        let segments: Vec<SegmentInfo> = commit_log
            .files()
            .iter()
            .map(|file| SegmentInfo {
                start_offset: i64::try_from(file.file_from_offset()).unwrap_or(i64::MAX),
                last_modified_ms: i64::try_from(file.last_modified_ms()).unwrap_or(i64::MAX),
            })
            .collect();
        let plan = self.policy.plan_commit_log(
            self.clock.now_ms(),
            self.clock.hour_of_day(),
            disk,
            &segments,
        );
        if plan.delete_count == 0 {
            return Ok((0, false));
        }
        let deleted = commit_log.delete_files_while(plan.delete_count, |_| true)?;
        tracing::info!(
            deleted,
            forced = plan.forced,
            min_offset = commit_log.min_offset().unwrap_or(0),
            used_ratio = ?disk.used_ratio,
            "commit log segments deleted"
        );
        Ok((deleted, plan.forced))
    }

    /// Deletes ConsumeQueue and index files that only point below `commit_log_min_offset` and
    /// moves queue minimum offsets forward (`index` is `None` when indexing is off). Skipped
    /// when nothing changed since the last call. Returns (consume queue files, index files)
    /// deleted.
    pub fn clean_derived(
        &self,
        commit_log_min_offset: i64,
        consume_queues: &ConsumeQueueTable,
        index: Option<&IndexService>,
    ) -> StoreResult<(usize, usize)> {
        let previous = self.derived_cleaned_for.load(Ordering::Acquire);
        if commit_log_min_offset <= previous {
            return Ok((0, 0));
        }
        let cq_deleted = consume_queues.delete_expired_all(commit_log_min_offset)?;
        let index_deleted = match index {
            Some(index) => index.delete_expired(commit_log_min_offset)?,
            None => 0,
        };
        self.derived_cleaned_for
            .store(commit_log_min_offset, Ordering::Release);
        if cq_deleted > 0 || index_deleted > 0 {
            tracing::info!(
                commit_log_min_offset,
                cq_deleted,
                index_deleted,
                "consume queue and index files deleted"
            );
        }
        Ok((cq_deleted, index_deleted))
    }

    /// One full run: check the disk, delete CommitLog segments, then derived files. The store
    /// calls it periodically (RocketMQ: every 10 s) with the CommitLog's file queue.
    pub fn run_cleanup(
        &self,
        commit_log: &MappedFileQueue,
        consume_queues: &ConsumeQueueTable,
        index: Option<&IndexService>,
    ) -> StoreResult<CleanupReport> {
        let disk = self.check_disk();
        let (deleted, forced) = self.clean_commit_log(commit_log, &disk)?;
        let min_offset = commit_log
            .min_offset()
            .map_or(0, |m| i64::try_from(m).unwrap_or(i64::MAX));
        let (cq_deleted, index_deleted) = self.clean_derived(min_offset, consume_queues, index)?;
        Ok(CleanupReport {
            disk,
            commit_log_files_deleted: deleted,
            forced,
            commit_log_min_offset: min_offset,
            consume_queue_files_deleted: cq_deleted,
            index_files_deleted: index_deleted,
        })
    }
}
