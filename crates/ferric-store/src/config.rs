//! [`MessageStoreConfig`]: the store's settings, named after RocketMQ's `MessageStoreConfig`
//! keys (given in each field's docs) with RocketMQ's defaults.

use std::path::PathBuf;
use std::time::Duration;

use crate::flush::{FlushConfig, FlushDiskType};

/// Store settings. `Default` gives RocketMQ 4.9.x's defaults with the root at `./store`.
#[derive(Debug, Clone)]
pub struct MessageStoreConfig {
    /// `storePathRootDir`: root of the store.
    pub store_path_root_dir: PathBuf,
    /// `storePathCommitLog`: CommitLog directory; `None` means `<root>/commitlog`.
    pub store_path_commit_log: Option<PathBuf>,
    /// `mappedFileSizeCommitLog`: bytes per CommitLog file (1 GiB).
    pub mapped_file_size_commit_log: usize,
    /// `mappedFileSizeConsumeQueue`: bytes per ConsumeQueue file (300 000 × 20).
    pub mapped_file_size_consume_queue: usize,
    /// `maxHashSlotNum`: hash slots per index file (5 000 000).
    pub max_hash_slot_num: usize,
    /// `maxIndexNum`: entries per index file (20 000 000).
    pub max_index_num: usize,
    /// `messageIndexEnable`: build the key index.
    pub message_index_enable: bool,
    /// `flushDiskType`.
    pub flush_disk_type: FlushDiskType,
    /// `syncFlushTimeout` (ms): how long a SYNC_FLUSH append waits for its group commit.
    pub sync_flush_timeout: Duration,
    /// `flushIntervalCommitLog` (ms).
    pub flush_interval_commit_log: Duration,
    /// `flushCommitLogLeastPages`.
    pub flush_commit_log_least_pages: usize,
    /// `flushCommitLogThoroughInterval` (ms).
    pub flush_commit_log_thorough_interval: Duration,
    /// `fileReservedTime` (hours) before a CommitLog file may be deleted.
    pub file_reserved_time_hours: u64,
    /// `deleteWhen`: hours of day (`;`-separated) when expired files are deleted.
    pub delete_when: String,
    /// `diskMaxUsedSpaceRatio` (%).
    pub disk_max_used_space_ratio: u32,
    /// `diskSpaceWarningLevelRatio` (%): above it appends are refused.
    pub disk_space_warning_level_ratio: u32,
    /// `diskSpaceCleanForciblyRatio` (%).
    pub disk_space_clean_forcibly_ratio: u32,
    /// `maxMessageSize`: largest body (4 MiB). Records may be 64 KiB larger.
    pub max_message_size: usize,
    /// `checkCRCOnRecover`: verify body CRCs during recovery.
    pub check_crc_on_recover: bool,
    /// `maxRecoveryCommitlogFiles`-like bound for normal recovery: newest files checked.
    pub normal_recovery_files: usize,
    /// `messageDelayLevel`: used to compute the consume-queue tag code (delivery time) of
    /// `SCHEDULE_TOPIC_XXXX` messages.
    pub message_delay_level: String,
    /// `maxTransferBytesOnMessageInMemory`.
    pub max_transfer_bytes_on_message_in_memory: usize,
    /// `maxTransferCountOnMessageInMemory`.
    pub max_transfer_count_on_message_in_memory: usize,
    /// `defaultQueryMaxNum`.
    pub default_query_max_num: usize,
}

impl Default for MessageStoreConfig {
    fn default() -> Self {
        Self {
            store_path_root_dir: PathBuf::from("store"),
            store_path_commit_log: None,
            mapped_file_size_commit_log: 1024 * 1024 * 1024,
            mapped_file_size_consume_queue: 300_000 * 20,
            max_hash_slot_num: 5_000_000,
            max_index_num: 20_000_000,
            message_index_enable: true,
            flush_disk_type: FlushDiskType::AsyncFlush,
            sync_flush_timeout: Duration::from_millis(5000),
            flush_interval_commit_log: Duration::from_millis(500),
            flush_commit_log_least_pages: 4,
            flush_commit_log_thorough_interval: Duration::from_millis(10_000),
            file_reserved_time_hours: 72,
            delete_when: "04".into(),
            disk_max_used_space_ratio: 75,
            disk_space_warning_level_ratio: 90,
            disk_space_clean_forcibly_ratio: 85,
            max_message_size: 4 * 1024 * 1024,
            check_crc_on_recover: true,
            normal_recovery_files: 3,
            message_delay_level: "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"
                .into(),
            max_transfer_bytes_on_message_in_memory: 256 * 1024,
            max_transfer_count_on_message_in_memory: 32,
            default_query_max_num: 32,
        }
    }
}

impl MessageStoreConfig {
    /// Default settings with the store rooted at `root`.
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        Self {
            store_path_root_dir: root.into(),
            ..Self::default()
        }
    }

    /// The CommitLog directory.
    pub fn commit_log_dir(&self) -> PathBuf {
        self.store_path_commit_log
            .clone()
            .unwrap_or_else(|| self.store_path_root_dir.join("commitlog"))
    }

    /// `<root>/consumequeue`.
    pub fn consume_queue_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("consumequeue")
    }

    /// `<root>/index`.
    pub fn index_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("index")
    }

    /// Largest accepted record: `maxMessageSize` + 64 KiB.
    pub fn max_record_size(&self) -> usize {
        self.max_message_size + 64 * 1024
    }

    /// The flusher's part of the settings.
    pub fn flush_config(&self) -> FlushConfig {
        FlushConfig {
            flush_disk_type: self.flush_disk_type,
            flush_interval: self.flush_interval_commit_log,
            flush_least_pages: self.flush_commit_log_least_pages,
            thorough_interval: self.flush_commit_log_thorough_interval,
        }
    }

    /// Delay of each level (1-based index into the result + 1) in ms, parsed from
    /// `messageDelayLevel` (`1s 5m 2h 1d` units). Unparsable entries are skipped.
    pub fn delay_level_millis(&self) -> Vec<i64> {
        self.message_delay_level
            .split_whitespace()
            .filter_map(|part| {
                let unit_at = part.len().checked_sub(1)?;
                let (number, unit) = part.split_at(unit_at);
                let number: i64 = number.parse().ok()?;
                let scale = match unit {
                    "s" => 1000,
                    "m" => 60_000,
                    "h" => 3_600_000,
                    "d" => 86_400_000,
                    _ => return None,
                };
                number.checked_mul(scale)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_levels_parse() {
        let config = MessageStoreConfig::default();
        let levels = config.delay_level_millis();
        assert_eq!(levels.len(), 18);
        assert_eq!(levels[2], 10_000);
        assert_eq!(levels[17], 7_200_000);
        assert_eq!(config.commit_log_dir(), PathBuf::from("store/commitlog"));
    }
}
