//! Expiry and disk watermarks: when CommitLog segments are deleted, when writes are refused,
//! and the follow-up cleanup of ConsumeQueue and index files.
//!
//! The decisions are a pure [`CleanupPolicy`] (given the time, the hour of day and disk usage
//! ratios); [`CleanupService`] measures, updates the shared [`DiskFlags`] and executes. Rules,
//! as RocketMQ 4.9's `CleanCommitLogService`:
//!
//! * Disk usage is the larger used ratio (`(blocks - free) / blocks`, as Java's
//!   `getTotalSpace`/`getFreeSpace`) of the CommitLog and ConsumeQueue directories' file
//!   systems. An unmeasurable path counts as "space to delete".
//! * usage > `diskSpaceWarningLevelRatio` (0.90): the disk is **full**; the store must refuse
//!   writes ([`DiskFlags::is_disk_full`]) until a later check finds it below again, and files
//!   are deleted immediately. usage > `diskSpaceCleanForciblyRatio` (0.85): delete immediately.
//! * Segments are considered at a `deleteWhen` hour (`"04"` or `"04;10"`), or at any time when
//!   usage > `diskMaxUsedSpaceRatio` (75 %). Then, from the oldest, a segment whose last
//!   modification is at least `fileReservedTime` hours old is deleted; with immediate cleanup
//!   (and `cleanFileForciblyEnable`) segments go oldest first even if not expired. The walk
//!   stops at the first segment that stays, deletes at most `deleteFilesBatchMax` (10) per run,
//!   and **never** the newest segment (the one being written).
//! * Afterwards ConsumeQueue files whose last unit points below the new CommitLog minimum are
//!   deleted and each queue's minimum offset moves forward; index files whose `endPhyOffset` is
//!   below it are deleted (never the newest of either).
//!
//! Hours of day are UTC unless the [`Clock`] says otherwise. RocketMQ's pauses between
//! deletions (`deleteCommitLogFilesInterval`, `destroyMapedFileIntervalForcibly`) are not needed:
//! a deleted file's mapping lives on until its last reader drops it.

mod service;

use std::fmt::Debug;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{StoreError, StoreResult};

pub use service::{CleanupReport, CleanupService};

/// Most segments deleted per run (RocketMQ's `DELETE_FILES_BATCH_MAX`).
pub const DEFAULT_DELETE_FILES_BATCH_MAX: usize = 10;

const HOUR_MS: i64 = 3_600_000;

/// The time source.
pub trait Clock: Send + Sync + Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;

    /// Hour of day (0..24) used for `deleteWhen`; UTC by default.
    fn hour_of_day(&self) -> u32 {
        u32::try_from(self.now_ms().div_euclid(HOUR_MS).rem_euclid(24)).unwrap_or(0)
    }
}

/// The system clock (UTC hours).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// Disk usage of the file system holding a path.
pub trait DiskUsage: Send + Sync + Debug {
    /// Used fraction in `[0, 1]`, or `None` when it cannot be measured.
    fn used_ratio(&self, path: &Path) -> Option<f64>;
}

/// [`DiskUsage`] from `statvfs(2)`: `(f_blocks - f_bfree) / f_blocks`. A path that does not
/// exist yet is measured at its nearest existing ancestor.
#[derive(Debug, Default, Clone, Copy)]
pub struct StatvfsDiskUsage;

impl DiskUsage for StatvfsDiskUsage {
    fn used_ratio(&self, path: &Path) -> Option<f64> {
        let mut existing = path;
        while !existing.exists() {
            existing = existing.parent()?;
        }
        let stat = rustix::fs::statvfs(existing).ok()?;
        if stat.f_blocks == 0 {
            return None;
        }
        let used = stat.f_blocks.saturating_sub(stat.f_bfree);
        Some(used as f64 / stat.f_blocks as f64)
    }
}

/// The `deleteWhen` hours: `"04"` or `"04;10"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteWhen {
    hours: Vec<u32>,
}

impl DeleteWhen {
    /// Parses a `;`-separated list of hours 0..=23 (empty entries are ignored).
    pub fn parse(value: &str) -> StoreResult<DeleteWhen> {
        let mut hours = Vec::new();
        for part in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            match part.parse::<u32>() {
                Ok(hour) if hour < 24 => hours.push(hour),
                _ => {
                    return Err(StoreError::Config {
                        key: "deleteWhen",
                        reason: format!("{value:?}: {part:?} is not an hour 0..23"),
                    });
                }
            }
        }
        Ok(DeleteWhen { hours })
    }

    /// True when `hour` is one of the hours.
    pub fn matches(&self, hour: u32) -> bool {
        self.hours.contains(&hour)
    }

    /// The hours.
    pub fn hours(&self) -> &[u32] {
        &self.hours
    }
}

impl Default for DeleteWhen {
    fn default() -> Self {
        DeleteWhen { hours: vec![4] }
    }
}

/// Cleanup settings (RocketMQ's `MessageStoreConfig` keys).
#[derive(Debug, Clone, PartialEq)]
pub struct CleanupConfig {
    /// `fileReservedTime`: hours a CommitLog segment is kept after its last modification.
    pub file_reserved_time_hours: u64,
    /// `deleteWhen`.
    pub delete_when: DeleteWhen,
    /// `diskMaxUsedSpaceRatio` in percent (clamped to 10..=95).
    pub disk_max_used_space_ratio: u32,
    /// `diskSpaceWarningLevelRatio`: above it writes are refused.
    pub disk_space_warning_level_ratio: f64,
    /// `diskSpaceCleanForciblyRatio`: above it files are deleted even if not expired.
    pub disk_space_clean_forcibly_ratio: f64,
    /// `cleanFileForciblyEnable`.
    pub clean_file_forcibly_enable: bool,
    /// Most segments deleted per run.
    pub delete_files_batch_max: usize,
}

impl Default for CleanupConfig {
    fn default() -> Self {
        CleanupConfig {
            file_reserved_time_hours: 72,
            delete_when: DeleteWhen::default(),
            disk_max_used_space_ratio: 75,
            disk_space_warning_level_ratio: 0.90,
            disk_space_clean_forcibly_ratio: 0.85,
            clean_file_forcibly_enable: true,
            delete_files_batch_max: DEFAULT_DELETE_FILES_BATCH_MAX,
        }
    }
}

/// What the disk measurement means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiskAssessment {
    /// The largest measured ratio (`None` if nothing could be measured).
    pub used_ratio: Option<f64>,
    /// Above the warning level: refuse writes.
    pub disk_full: bool,
    /// Above the forcible-clean level (or full): delete without waiting for expiry.
    pub clean_immediately: bool,
    /// Above `diskMaxUsedSpaceRatio` (or unmeasurable): delete expired files now.
    pub space_to_delete: bool,
}

/// One CommitLog segment as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Global offset of its first byte.
    pub start_offset: i64,
    /// Last modification time (ms since the epoch).
    pub last_modified_ms: i64,
}

/// What to do with the CommitLog now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitLogPlan {
    /// How many of the oldest segments to delete.
    pub delete_count: usize,
    /// True when segments were chosen without being expired.
    pub forced: bool,
}

/// The pure cleanup decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanupPolicy {
    config: CleanupConfig,
}

impl CleanupPolicy {
    /// A policy with these settings.
    pub fn new(config: CleanupConfig) -> CleanupPolicy {
        CleanupPolicy { config }
    }

    /// The settings.
    pub fn config(&self) -> &CleanupConfig {
        &self.config
    }

    /// Interprets the used ratios of the watched paths (`None` = unmeasurable).
    pub fn assess_disk(&self, ratios: &[Option<f64>]) -> DiskAssessment {
        let max_used = f64::from(self.config.disk_max_used_space_ratio.clamp(10, 95)) / 100.0;
        let mut assessment = DiskAssessment {
            used_ratio: None,
            disk_full: false,
            clean_immediately: false,
            space_to_delete: false,
        };
        for ratio in ratios {
            let Some(ratio) = *ratio else {
                assessment.space_to_delete = true;
                continue;
            };
            assessment.used_ratio = Some(assessment.used_ratio.map_or(ratio, |r| r.max(ratio)));
            if ratio > self.config.disk_space_warning_level_ratio {
                assessment.disk_full = true;
                assessment.clean_immediately = true;
            } else if ratio > self.config.disk_space_clean_forcibly_ratio {
                assessment.clean_immediately = true;
            }
            if ratio > max_used {
                assessment.space_to_delete = true;
            }
        }
        assessment
    }

    /// True when `hour` is a `deleteWhen` hour.
    pub fn is_time_to_delete(&self, hour: u32) -> bool {
        self.config.delete_when.matches(hour)
    }

    /// Chooses the segments to delete. `segments` are oldest first; the last one is being
    /// written and is never chosen.
    pub fn plan_commit_log(
        &self,
        now_ms: i64,
        hour: u32,
        disk: &DiskAssessment,
        segments: &[SegmentInfo],
    ) -> CommitLogPlan {
        if !self.is_time_to_delete(hour) && !disk.space_to_delete && !disk.clean_immediately {
            return CommitLogPlan::default();
        }
        let force = self.config.clean_file_forcibly_enable && disk.clean_immediately;
        let reserved_ms = i64::try_from(self.config.file_reserved_time_hours)
            .unwrap_or(i64::MAX / HOUR_MS)
            .saturating_mul(HOUR_MS);
        let candidates = segments.len().saturating_sub(1);
        let mut plan = CommitLogPlan::default();
        for segment in &segments[..candidates] {
            if plan.delete_count >= self.config.delete_files_batch_max {
                break;
            }
            let expired = now_ms >= segment.last_modified_ms.saturating_add(reserved_ms);
            if !expired && !force {
                break;
            }
            plan.forced |= !expired;
            plan.delete_count += 1;
        }
        plan
    }
}

/// The disk-full flag shared with the writing side of the store.
#[derive(Debug, Default)]
pub struct DiskFlags {
    full: AtomicBool,
}

impl DiskFlags {
    /// True while the disk is above the warning level: appends must be refused (the broker
    /// answers "service not available, disk full").
    pub fn is_disk_full(&self) -> bool {
        self.full.load(Ordering::Acquire)
    }

    /// Sets the flag and returns its previous value.
    pub fn set_disk_full(&self, full: bool) -> bool {
        self.full.swap(full, Ordering::AcqRel)
    }
}

#[cfg(test)]
#[path = "cleanup/tests.rs"]
mod tests;
