//! The `index/` directory: a list of [`IndexFile`]s, oldest first, with rolling, multi-file
//! queries, recovery truncation and expiry.
//!
//! Files are named by their creation time as `yyyyMMddHHmmssSSS` in **UTC** (RocketMQ uses the
//! JVM's local time zone; the name is informational only, files are ordered by name). When the
//! clock would give a name not greater than the newest file's, the newest name plus one is used,
//! so names stay unique and ordered.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};

use super::{
    DEFAULT_MAX_HASH_SLOT_NUM, DEFAULT_MAX_INDEX_NUM, IndexFile, index_key_hash, topic_key_hash,
};
use crate::error::StoreResult;

/// RocketMQ's `maxMsgsNumBatch`: the most offsets one query returns.
pub const DEFAULT_MAX_MSGS_NUM_BATCH: usize = 64;

/// Width of an index file name.
const FILE_NAME_DIGITS: usize = 17;

/// Index limits (`maxHashSlotNum`, `maxIndexNum`, `maxMsgsNumBatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexConfig {
    /// Hash slots per file.
    pub max_hash_slot_num: u32,
    /// Entry numbers per file (a file holds one less entry, since number 0 is unused).
    pub max_index_num: u32,
    /// Upper bound on the offsets one query returns.
    pub max_msgs_num_batch: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            max_hash_slot_num: DEFAULT_MAX_HASH_SLOT_NUM,
            max_index_num: DEFAULT_MAX_INDEX_NUM,
            max_msgs_num_batch: DEFAULT_MAX_MSGS_NUM_BATCH,
        }
    }
}

/// What a key query found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryOffsetResult {
    /// CommitLog offsets of hash matches, newest first, without duplicates.
    pub phy_offsets: Vec<i64>,
    /// `endTimestamp` of the newest index file (0 without files).
    pub index_last_update_timestamp: i64,
    /// `endPhyOffset` of the newest index file (0 without files).
    pub index_last_update_phy_offset: i64,
}

/// The index files of a store.
#[derive(Debug)]
pub struct IndexService {
    dir: PathBuf,
    config: IndexConfig,
    files: RwLock<Vec<Arc<IndexFile>>>,
    writer: Mutex<()>,
}

impl IndexService {
    /// Opens the `index` directory `dir` (created if missing) and maps every file whose name is
    /// 17 digits, ordered by name. A file of the wrong size is an error naming it.
    pub fn open(dir: impl Into<PathBuf>, config: IndexConfig) -> StoreResult<IndexService> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        let mut names: Vec<String> = Vec::new();
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            if let Some(name) = entry.file_name().to_str()
                && is_index_file_name(name)
            {
                names.push(name.to_owned());
            }
        }
        names.sort();
        let mut files = Vec::with_capacity(names.len());
        for name in names {
            let file = IndexFile::open(
                &dir.join(&name),
                config.max_hash_slot_num,
                config.max_index_num,
                None,
            )?;
            files.push(Arc::new(file));
        }
        Ok(IndexService {
            dir,
            config,
            files: RwLock::new(files),
            writer: Mutex::new(()),
        })
    }

    /// The `index` directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The limits in use.
    pub fn config(&self) -> IndexConfig {
        self.config
    }

    /// A snapshot of the files, oldest first.
    pub fn files(&self) -> Vec<Arc<IndexFile>> {
        self.files.read().clone()
    }

    /// Indexes one message: `topic#uniq_key` and `topic#k` for every space-separated value of
    /// `keys`. Messages below the newest file's `endPhyOffset` were indexed already and are
    /// skipped (so re-dispatch is harmless). Callers skip ROLLBACK messages. Returns how many
    /// keys were added.
    pub fn build_index(
        &self,
        topic: &str,
        keys: Option<&str>,
        uniq_key: Option<&str>,
        phy_offset: i64,
        store_timestamp: i64,
    ) -> StoreResult<usize> {
        let _writer = self.writer.lock();
        if let Some(last) = self.files.read().last()
            && phy_offset < last.header().end_phy_offset
        {
            return Ok(0);
        }
        let mut added = 0;
        if let Some(uniq) = uniq_key.filter(|u| !u.is_empty()) {
            self.put_hash_locked(topic_key_hash(topic, uniq), phy_offset, store_timestamp)?;
            added += 1;
        }
        for key in keys
            .unwrap_or_default()
            .split(' ')
            .filter(|k| !k.is_empty())
        {
            self.put_hash_locked(topic_key_hash(topic, key), phy_offset, store_timestamp)?;
            added += 1;
        }
        Ok(added)
    }

    /// Adds one full key (already `topic#key`), rolling to a new file when the newest is full.
    pub fn put_key(&self, key: &str, phy_offset: i64, store_timestamp: i64) -> StoreResult<()> {
        let _writer = self.writer.lock();
        self.put_hash_locked(index_key_hash(key), phy_offset, store_timestamp)
    }

    /// Adds one key given by its [`index_key_hash`].
    fn put_hash_locked(
        &self,
        key_hash: i32,
        phy_offset: i64,
        store_timestamp: i64,
    ) -> StoreResult<()> {
        let last = self.files.read().last().cloned();
        let file = match last {
            Some(file) if !file.is_full() => file,
            previous => self.roll(previous.as_deref())?,
        };
        if file.put_key_hash(key_hash, phy_offset, store_timestamp)? {
            return Ok(());
        }
        let next = self.roll(Some(&file))?;
        if !next.put_key_hash(key_hash, phy_offset, store_timestamp)? {
            return Err(crate::error::StoreError::Corrupt {
                path: next.path().display().to_string(),
                reason: "a new index file refused its first key".to_owned(),
            });
        }
        Ok(())
    }

    /// Creates the next file, inheriting the end values of `previous` (which is flushed).
    fn roll(&self, previous: Option<&IndexFile>) -> StoreResult<Arc<IndexFile>> {
        let previous_end = match previous {
            Some(file) => {
                file.flush()?;
                let header = file.header();
                Some((header.end_phy_offset, header.end_timestamp))
            }
            None => None,
        };
        let mut files = self.files.write();
        let mut name = format_file_name(now_ms());
        if let Some(last) = files.last() {
            let last_name = last.name();
            if name <= last_name {
                name = next_name(&last_name);
            }
        }
        let file = Arc::new(IndexFile::open(
            &self.dir.join(&name),
            self.config.max_hash_slot_num,
            self.config.max_index_num,
            previous_end,
        )?);
        tracing::info!(file = %name, "index file created");
        files.push(file.clone());
        Ok(file)
    }

    /// Finds the CommitLog offsets indexed under `topic#key` with a time in `[begin, end]`,
    /// searching files newest first, at most `min(max, maxMsgsNumBatch)` offsets.
    pub fn query_offsets(
        &self,
        topic: &str,
        key: &str,
        max: usize,
        begin: i64,
        end: i64,
    ) -> QueryOffsetResult {
        let max = max.min(self.config.max_msgs_num_batch);
        let full_key = format!("{topic}#{key}");
        let files = self.files();
        let mut result = QueryOffsetResult::default();
        if let Some(last) = files.last() {
            let header = last.header();
            result.index_last_update_timestamp = header.end_timestamp;
            result.index_last_update_phy_offset = header.end_phy_offset;
        }
        let mut found = Vec::new();
        for file in files.iter().rev() {
            if file.is_time_matched(begin, end) {
                file.select_phy_offsets(&full_key, max, begin, end, &mut found);
            }
            if file.header().begin_timestamp < begin || found.len() >= max {
                break;
            }
        }
        let mut seen = std::collections::HashSet::new();
        found.retain(|offset| seen.insert(*offset));
        result.phy_offsets = found;
        result
    }

    /// After CommitLog recovery ended at `commit_log_max_offset`: deletes the newest files whose
    /// `endPhyOffset` is at or beyond it (they index messages that no longer exist). Returns the
    /// CommitLog offset dispatch must re-index from (the smallest `beginPhyOffset` deleted), or
    /// `None` when nothing was deleted. Deleting whole files is simple and always correct,
    /// because the index is rebuilt from the CommitLog.
    pub fn truncate_beyond(&self, commit_log_max_offset: i64) -> StoreResult<Option<i64>> {
        let _writer = self.writer.lock();
        let mut files = self.files.write();
        let mut redispatch_from: Option<i64> = None;
        while let Some(last) = files.last() {
            let header = last.header();
            let has_data = header.entry_count() > 0 || header.end_phy_offset > 0;
            if !has_data || header.end_phy_offset < commit_log_max_offset {
                break;
            }
            last.destroy()?;
            tracing::warn!(file = %last.name(), end_phy_offset = header.end_phy_offset,
                commit_log_max_offset, "index file beyond the commit log end deleted");
            let from = header.begin_phy_offset;
            redispatch_from = Some(redispatch_from.map_or(from, |r| r.min(from)));
            files.pop();
        }
        Ok(redispatch_from)
    }

    /// Deletes files (oldest first, never the newest) whose `endPhyOffset` is below
    /// `commit_log_min_offset`. Returns how many were deleted.
    pub fn delete_expired(&self, commit_log_min_offset: i64) -> StoreResult<usize> {
        let _writer = self.writer.lock();
        let mut files = self.files.write();
        let mut deleted = 0;
        while files.len() > 1 && files[0].header().end_phy_offset < commit_log_min_offset {
            files[0].destroy()?;
            tracing::info!(file = %files[0].name(), "expired index file deleted");
            files.remove(0);
            deleted += 1;
        }
        Ok(deleted)
    }

    /// Flushes the newest file (older files were flushed when they filled up).
    pub fn flush(&self) -> StoreResult<()> {
        let last = self.files.read().last().cloned();
        if let Some(file) = last {
            file.flush()?;
        }
        Ok(())
    }

    /// Deletes every index file.
    pub fn destroy(&self) -> StoreResult<()> {
        let _writer = self.writer.lock();
        let mut files = self.files.write();
        for file in files.drain(..) {
            file.destroy()?;
        }
        Ok(())
    }
}

/// Formats a time in ms since the epoch as `yyyyMMddHHmmssSSS` in UTC.
pub fn format_file_name(epoch_ms: i64) -> String {
    let ms = epoch_ms.rem_euclid(1000);
    let secs = epoch_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let day_secs = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}{ms:03}",
        day_secs / 3600,
        day_secs % 3600 / 60,
        day_secs % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_index_file_name(name: &str) -> bool {
    name.len() == FILE_NAME_DIGITS && name.bytes().all(|b| b.is_ascii_digit())
}

/// The 17-digit name following `name` numerically.
fn next_name(name: &str) -> String {
    let value: u64 = name.parse().unwrap_or(0);
    format!("{:017}", value.saturating_add(1))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
