//! ConsumeQueue: the per-(topic, queueId) index of CommitLog positions.
//!
//! # Layout
//!
//! Files live in `consumequeue/<topic>/<queueId>/` and are named by their starting **byte**
//! offset within the queue, zero-padded to 20 digits. Every file is `mappedFileSizeConsumeQueue`
//! bytes (default 300 000 × 20 = 6 000 000; always a multiple of 20) of 20-byte units:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | CommitLog physical offset (i64, big-endian) |
//! | 8 | 4 | message size (i32) |
//! | 12 | 8 | tag hash code (i64); the delivery time for `SCHEDULE_TOPIC_XXXX` |
//!
//! The logical (queue) offset of a unit is its byte position / 20. A queue that starts mid-file
//! has its leading units filled with *blank* units `(0, i32::MAX, 0)`; they are never returned
//! as messages and never count as the minimum offset.
//!
//! # Concurrency
//!
//! One writer (the dispatcher) and any number of readers may share a [`ConsumeQueue`] through an
//! `Arc`: every method takes `&self`; writes are serialised by an internal mutex and readers only
//! see units below the published write position.
//!
//! # What it does not do
//!
//! No consume-queue-ext, no 5.x batch consume queue; it never reads the CommitLog itself (callers
//! pass closures where a store time is needed).

mod table;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};

use parking_lot::Mutex;

use crate::error::{StoreError, StoreResult};
use crate::mapped_file::MappedFileRef;
use crate::mapped_file_queue::MappedFileQueue;

pub use table::ConsumeQueueTable;

/// Size of one consume-queue unit in bytes.
pub const CQ_UNIT_SIZE: usize = 20;

/// RocketMQ's default `mappedFileSizeConsumeQueue`: 300 000 units.
pub const DEFAULT_CQ_FILE_SIZE: usize = 300_000 * CQ_UNIT_SIZE;

/// How many of the newest files [`ConsumeQueue::recover`] scans (as RocketMQ does).
const RECOVER_LAST_FILES: usize = 3;

/// Largest run of blank units written with one append.
const BLANK_CHUNK_UNITS: usize = 4096;

/// One 20-byte consume-queue unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CqUnit {
    /// CommitLog physical offset of the message.
    pub phy_offset: i64,
    /// Stored size (TOTALSIZE) of the message.
    pub size: i32,
    /// Tag hash code (or delivery timestamp for the schedule topic).
    pub tags_code: i64,
}

impl CqUnit {
    /// The filler unit written before the first real unit of a queue that starts mid-file.
    pub const BLANK: CqUnit = CqUnit {
        phy_offset: 0,
        size: i32::MAX,
        tags_code: 0,
    };

    /// Encodes the unit in its on-disk layout.
    pub fn encode(&self) -> [u8; CQ_UNIT_SIZE] {
        let mut out = [0u8; CQ_UNIT_SIZE];
        out[0..8].copy_from_slice(&self.phy_offset.to_be_bytes());
        out[8..12].copy_from_slice(&self.size.to_be_bytes());
        out[12..20].copy_from_slice(&self.tags_code.to_be_bytes());
        out
    }

    /// Decodes the first 20 bytes of `bytes`; `None` when fewer are given.
    pub fn decode(bytes: &[u8]) -> Option<CqUnit> {
        let phy: [u8; 8] = bytes.get(0..8)?.try_into().ok()?;
        let size: [u8; 4] = bytes.get(8..12)?.try_into().ok()?;
        let tags: [u8; 8] = bytes.get(12..20)?.try_into().ok()?;
        Some(CqUnit {
            phy_offset: i64::from_be_bytes(phy),
            size: i32::from_be_bytes(size),
            tags_code: i64::from_be_bytes(tags),
        })
    }

    /// True for a unit written by a dispatcher: RocketMQ's recovery rule (`phy >= 0 && size > 0`).
    /// Blank filler units are valid by this rule too (they mark written positions).
    pub fn is_written(&self) -> bool {
        self.phy_offset >= 0 && self.size > 0
    }

    /// True for the blank filler unit.
    pub fn is_blank(&self) -> bool {
        *self == Self::BLANK
    }

    /// True for a unit that points at a message (written and not blank).
    pub fn is_message(&self) -> bool {
        self.is_written() && !self.is_blank()
    }
}

/// A unit together with its logical offset in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CqEntry {
    /// Logical queue offset.
    pub queue_offset: i64,
    /// The unit stored there.
    pub unit: CqUnit,
}

/// The consume queue of one (topic, queueId).
#[derive(Debug)]
pub struct ConsumeQueue {
    topic: String,
    queue_id: i32,
    files: MappedFileQueue,
    /// Logical offset of the first message unit.
    min_offset: AtomicI64,
    /// CommitLog offset just past the last message this queue points at (0 when empty).
    max_phy_end: AtomicI64,
    writer: Mutex<()>,
}

impl ConsumeQueue {
    /// Opens the queue stored in `dir` (created if missing) and maps its files. The files count
    /// as full until [`Self::recover`] finds where the data ends.
    pub fn open(
        dir: impl Into<PathBuf>,
        topic: &str,
        queue_id: i32,
        file_size: usize,
    ) -> StoreResult<Self> {
        if file_size == 0 || !file_size.is_multiple_of(CQ_UNIT_SIZE) {
            return Err(StoreError::Config {
                key: "mappedFileSizeConsumeQueue",
                reason: format!("{file_size} is not a positive multiple of {CQ_UNIT_SIZE}"),
            });
        }
        let files = MappedFileQueue::new(dir, file_size)?;
        files.load()?;
        let queue = ConsumeQueue {
            topic: topic.to_owned(),
            queue_id,
            files,
            min_offset: AtomicI64::new(0),
            max_phy_end: AtomicI64::new(0),
            writer: Mutex::new(()),
        };
        let first = queue.files.min_offset().map_or(0, bytes_to_units);
        queue.min_offset.store(first, Ordering::Release);
        Ok(queue)
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The queue id.
    pub fn queue_id(&self) -> i32 {
        self.queue_id
    }

    /// The directory holding this queue's files.
    pub fn dir(&self) -> &Path {
        self.files.dir()
    }

    /// Size of each file in bytes.
    pub fn file_size(&self) -> usize {
        self.files.file_size()
    }

    /// Number of files.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Logical offset of the first unit that points at a message.
    pub fn min_offset(&self) -> i64 {
        self.min_offset.load(Ordering::Acquire)
    }

    /// Logical offset the next unit will get (number of units written, blanks included).
    pub fn max_offset(&self) -> i64 {
        bytes_to_units(self.files.max_offset())
    }

    /// CommitLog offset just past the last message this queue points at (0 when empty).
    pub fn max_phy_offset(&self) -> i64 {
        self.max_phy_end.load(Ordering::Acquire)
    }

    /// Reads the unit at logical `offset`, blanks included; `None` outside `[first file, max)`.
    pub fn get_unit(&self, offset: i64) -> Option<CqUnit> {
        let byte = units_to_bytes(offset)?;
        let file = self.files.find_by_offset(byte)?;
        let position = usize::try_from(byte - file.file_from_offset()).ok()?;
        file.read_with(position, CQ_UNIT_SIZE, CqUnit::decode)?
    }

    /// Iterates over up to `max` message units from logical offset `from` (clamped up to the
    /// minimum offset), skipping blank units.
    pub fn units(&self, from: i64, max: usize) -> impl Iterator<Item = CqEntry> + '_ {
        let start = from.max(self.min_offset());
        let end = self.max_offset();
        (start..end)
            .map_while(move |offset| {
                self.get_unit(offset).map(|unit| CqEntry {
                    queue_offset: offset,
                    unit,
                })
            })
            .filter(|entry| entry.unit.is_message())
            .take(max)
    }

    /// Writes the unit for logical offset `cq_offset`.
    ///
    /// * A unit already present (`cq_offset < max_offset`) is left alone: re-dispatching the
    ///   same message is harmless. Returns `Ok(false)` then.
    /// * A queue whose first unit is not at offset 0 gets blank units from the start of its
    ///   first file up to `cq_offset`; a gap in a non-empty queue is filled with blanks too.
    pub fn put_unit(
        &self,
        cq_offset: i64,
        phy_offset: i64,
        size: i32,
        tags_code: i64,
    ) -> StoreResult<bool> {
        let _writer = self.writer.lock();
        let expected = units_to_bytes(cq_offset)
            .ok_or_else(|| corrupt(self.dir(), format!("negative queue offset {cq_offset}")))?;
        let unit = CqUnit {
            phy_offset,
            size,
            tags_code,
        };
        let last = self.files.last();
        let was_empty = last.is_none();
        let current = last
            .as_ref()
            .map_or(0, |f| f.file_from_offset() + f.wrote_position() as u64);
        if !was_empty && expected < current {
            tracing::debug!(topic = %self.topic, queue_id = self.queue_id, cq_offset, "unit already present");
            return Ok(false);
        }
        // The usual case: the next unit of the newest file, which has room.
        if let Some(file) = last.filter(|f| expected == current && !f.is_full())
            && file.append(&unit.encode()).is_some()
        {
            self.max_phy_end
                .fetch_max(phy_offset.saturating_add(i64::from(size)), Ordering::AcqRel);
            return Ok(true);
        }
        let mut position = if was_empty {
            let file = self.files.last_or_create(expected)?;
            self.min_offset.store(cq_offset, Ordering::Release);
            file.file_from_offset()
        } else {
            current
        };
        if position < expected {
            if !was_empty {
                tracing::warn!(topic = %self.topic, queue_id = self.queue_id, cq_offset,
                    max_offset = bytes_to_units(current), "gap in consume queue filled with blank units");
            }
            position = self.fill_blanks(position, expected)?;
        }
        debug_assert_eq!(position, expected);
        self.append_at(position, &unit.encode())?;
        self.max_phy_end
            .fetch_max(phy_offset.saturating_add(i64::from(size)), Ordering::AcqRel);
        Ok(true)
    }

    /// Appends blank units from byte `from` up to byte `to`; returns `to`.
    fn fill_blanks(&self, mut from: u64, to: u64) -> StoreResult<u64> {
        let blank = CqUnit::BLANK.encode();
        while from < to {
            let file = self.writable_file(from)?;
            let room = file.remaining() as u64;
            let count = ((to - from).min(room) / CQ_UNIT_SIZE as u64).min(BLANK_CHUNK_UNITS as u64);
            let bytes: Vec<u8> = blank
                .iter()
                .copied()
                .cycle()
                .take(count as usize * CQ_UNIT_SIZE)
                .collect();
            self.append_at(from, &bytes)?;
            from += bytes.len() as u64;
        }
        Ok(to)
    }

    /// The file to append to at byte `position` (rolling to a new file when the last is full).
    fn writable_file(&self, position: u64) -> StoreResult<MappedFileRef> {
        let file = self.files.last_or_create(position)?;
        let at = file.file_from_offset() + file.wrote_position() as u64;
        if at != position {
            return Err(corrupt(
                self.dir(),
                format!("write position {at} does not match expected {position}"),
            ));
        }
        Ok(file)
    }

    fn append_at(&self, position: u64, bytes: &[u8]) -> StoreResult<()> {
        let file = self.writable_file(position)?;
        match file.append(bytes) {
            Some(_) => Ok(()),
            None => Err(corrupt(
                file.path(),
                format!("no room for {} bytes at {position}", bytes.len()),
            )),
        }
    }

    /// Finds the end of the valid data after a restart: scans the newest files from their start
    /// while units are written (`phy >= 0 && size > 0`), then cuts everything after the last
    /// valid unit. Returns the new maximum logical offset.
    pub fn recover(&self) -> StoreResult<i64> {
        let _writer = self.writer.lock();
        let files = self.files.files();
        let start = files.len().saturating_sub(RECOVER_LAST_FILES);
        let mut end = files.get(start).map_or(0, |f| f.file_from_offset());
        let mut max_phy_end = 0i64;
        for file in &files[start..] {
            let (valid, last_end) = scan_written_units(file);
            if let Some(last_end) = last_end {
                max_phy_end = max_phy_end.max(last_end);
            }
            end = file.file_from_offset() + valid as u64;
            if valid < file.file_size() {
                break;
            }
        }
        self.files.truncate_dirty_files(end)?;
        self.files.set_end_offset(end);
        self.max_phy_end.store(max_phy_end, Ordering::Release);
        let max = bytes_to_units(end);
        if self.min_offset() > max {
            self.min_offset.store(max, Ordering::Release);
        }
        // Leading blank units never count as the minimum.
        self.correct_min_offset(0);
        tracing::debug!(topic = %self.topic, queue_id = self.queue_id, max_offset = max, "consume queue recovered");
        Ok(max)
    }

    /// Drops every unit pointing at or after `commit_log_max_offset` (the CommitLog end after
    /// recovery). Units are ordered by physical offset, so this cuts a suffix.
    pub fn truncate_dirty(&self, commit_log_max_offset: i64) -> StoreResult<i64> {
        let _writer = self.writer.lock();
        let mut end = self.max_offset();
        let floor = self.files.min_offset().map_or(0, bytes_to_units);
        let mut max_phy_end = 0i64;
        while end > floor {
            match self.get_unit(end - 1) {
                Some(unit) if unit.is_message() && unit.phy_offset >= commit_log_max_offset => {
                    end -= 1
                }
                Some(unit) => {
                    if unit.is_message() {
                        max_phy_end = unit.phy_offset.saturating_add(i64::from(unit.size));
                    }
                    break;
                }
                None => break,
            }
        }
        if end < self.max_offset() {
            let byte = units_to_bytes(end).unwrap_or(0);
            self.files.truncate_dirty_files(byte)?;
            tracing::info!(topic = %self.topic, queue_id = self.queue_id, max_offset = end, "consume queue truncated");
        }
        let max_phy_end = if max_phy_end == 0 {
            self.last_message_end(end)
        } else {
            max_phy_end
        };
        self.max_phy_end.store(max_phy_end, Ordering::Release);
        if self.min_offset() > end {
            self.min_offset.store(end, Ordering::Release);
        }
        Ok(end)
    }

    fn last_message_end(&self, end: i64) -> i64 {
        let floor = self.min_offset();
        (floor..end)
            .rev()
            .filter_map(|offset| self.get_unit(offset))
            .find(|unit| unit.is_message())
            .map_or(0, |unit| {
                unit.phy_offset.saturating_add(i64::from(unit.size))
            })
    }

    /// Moves the minimum offset to the first message unit at or after `commit_log_min_offset`
    /// (never backwards). When every unit points below it, the minimum becomes the maximum.
    pub fn correct_min_offset(&self, commit_log_min_offset: i64) -> i64 {
        let max = self.max_offset();
        let mut offset = self
            .min_offset()
            .max(self.files.min_offset().map_or(0, bytes_to_units));
        while offset < max {
            match self.get_unit(offset) {
                Some(unit) if unit.is_message() && unit.phy_offset >= commit_log_min_offset => {
                    break;
                }
                Some(_) => offset += 1,
                None => break,
            }
        }
        let previous = self.min_offset.fetch_max(offset, Ordering::AcqRel);
        if offset > previous {
            tracing::debug!(topic = %self.topic, queue_id = self.queue_id, min_offset = offset, "consume queue min offset moved");
        }
        offset.max(previous)
    }

    /// Deletes files (never the newest) whose last unit points below `commit_log_min_offset`,
    /// then corrects the minimum offset. Returns the number of deleted files.
    pub fn delete_expired(&self, commit_log_min_offset: i64) -> StoreResult<usize> {
        let deleted = {
            let _writer = self.writer.lock();
            let last_unit_pos = self.files.file_size() - CQ_UNIT_SIZE;
            self.files.delete_files_while(usize::MAX, |file| {
                file.read_with(last_unit_pos, CQ_UNIT_SIZE, CqUnit::decode)
                    .flatten()
                    .is_some_and(|unit| unit.phy_offset < commit_log_min_offset)
            })?
        };
        if deleted > 0 {
            tracing::info!(topic = %self.topic, queue_id = self.queue_id, deleted, "expired consume queue files deleted");
        }
        self.correct_min_offset(commit_log_min_offset);
        Ok(deleted)
    }

    /// Logical offset of the first message stored at or after `timestamp` (ms), clamped to
    /// `[min_offset, max_offset]`: `max_offset` when every message is older, `min_offset` when
    /// none is. `store_time_of(phy, size)` returns a message's store time, or `None` when the
    /// CommitLog no longer has it (such units count as older than any timestamp).
    ///
    /// RocketMQ's `getOffsetInQueueByTime` binary-searches one file and returns the *nearest*
    /// unit; Ferric searches the whole queue and returns the first unit not older than the time.
    pub fn offset_by_time(
        &self,
        timestamp: i64,
        store_time_of: impl Fn(i64, i32) -> Option<i64>,
    ) -> i64 {
        let mut low = self.min_offset();
        let mut high = self.max_offset();
        while low < high {
            let mid = low + (high - low) / 2;
            let older = match self.get_unit(mid) {
                Some(unit) if unit.is_message() => {
                    store_time_of(unit.phy_offset, unit.size).is_none_or(|t| t < timestamp)
                }
                _ => true,
            };
            if older {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }

    /// Flushes written units to disk.
    pub fn flush(&self) -> StoreResult<()> {
        self.files.flush()?;
        Ok(())
    }

    /// Deletes every file of this queue (e.g. when its topic is deleted).
    pub fn destroy(&self) -> StoreResult<()> {
        let _writer = self.writer.lock();
        self.files.destroy_all()?;
        self.min_offset.store(0, Ordering::Release);
        self.max_phy_end.store(0, Ordering::Release);
        Ok(())
    }
}

/// Counts the bytes of consecutive written units from the start of `file` and returns them with
/// the CommitLog end of the last message unit among them.
fn scan_written_units(file: &MappedFileRef) -> (usize, Option<i64>) {
    file.read_with(0, file.file_size(), |bytes| {
        let mut valid = 0;
        let mut last_end = None;
        for chunk in bytes.chunks_exact(CQ_UNIT_SIZE) {
            let Some(unit) = CqUnit::decode(chunk) else {
                break;
            };
            if !unit.is_written() {
                break;
            }
            if !unit.is_blank() {
                last_end = Some(unit.phy_offset.saturating_add(i64::from(unit.size)));
            }
            valid += CQ_UNIT_SIZE;
        }
        (valid, last_end)
    })
    .unwrap_or((0, None))
}

fn bytes_to_units(bytes: u64) -> i64 {
    i64::try_from(bytes / CQ_UNIT_SIZE as u64).unwrap_or(i64::MAX)
}

fn units_to_bytes(units: i64) -> Option<u64> {
    u64::try_from(units).ok()?.checked_mul(CQ_UNIT_SIZE as u64)
}

fn corrupt(path: &Path, reason: String) -> StoreError {
    StoreError::Corrupt {
        path: path.display().to_string(),
        reason,
    }
}

#[cfg(test)]
#[path = "consume_queue/tests.rs"]
mod tests;
