//! The read side of [`MessageStore`]: pulls by queue offset, key queries, lookups by offset
//! and time.

use std::sync::atomic::Ordering;

use std::sync::OnceLock;

use bytes::{Bytes, BytesMut};
use ferric_common::message::MessageExt;
use ferric_common::record::{Parsed, parse_record_with_limit};

use crate::consume_queue::ConsumeQueue;
use crate::mapped_file::MappedFileRef;
use crate::mapped_file_queue::MappedFileQueue;
use crate::result::{GetMessageResult, GetMessageStatus, MessageFilter, QueryMessageResult};
use crate::store::MessageStore;

impl MessageStore {
    /// Reads up to `max_count` messages (and about `max_bytes`, at least one) of
    /// `(topic, queue_id)` from logical `offset`, skipping units `filter` rejects. Limits of
    /// `maxTransferCountOnMessageInMemory` / `maxTransferBytesOnMessageInMemory` apply too.
    /// Each record is copied into its own [`Bytes`] in `messages`.
    ///
    /// `next_begin_offset` follows RocketMQ 4.9.8: the queue min for `OffsetTooSmall`, the
    /// offset itself for `OffsetOverflowOne`, the max (or the min when it is 0) for
    /// `OffsetOverflowBadly`, 0 for a missing or empty queue, else the unit after the last one
    /// examined.
    pub fn get_message(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_count: usize,
        max_bytes: usize,
        filter: Option<&dyn MessageFilter>,
    ) -> GetMessageResult {
        let mut messages = Vec::new();
        let mut reader = CommitLogReader::new(self.commit_log.files());
        let mut result = self.get_message_inner(
            topic,
            queue_id,
            offset,
            max_count,
            max_bytes,
            filter,
            |phy, size| {
                let record = reader.read_with(phy, size, Bytes::copy_from_slice)?;
                if filter.is_some_and(|f| !f.matches_record(&record)) {
                    return Some(Take::Rejected);
                }
                messages.push(record);
                Some(Take::Taken(size))
            },
        );
        result.messages = messages;
        self.count_get_message(&result);
        result
    }

    /// Like [`Self::get_message`], but appends the accepted records, in order, to `body` (the
    /// layout of a pull response body) instead of copying each into its own [`Bytes`]: one copy
    /// per record, straight out of the mapped CommitLog. `messages` of the result stays empty;
    /// `queue_offsets` and `buffer_total_size` describe what was appended.
    #[allow(clippy::too_many_arguments)]
    pub fn get_message_into(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_count: usize,
        max_bytes: usize,
        filter: Option<&dyn MessageFilter>,
        body: &mut BytesMut,
    ) -> GetMessageResult {
        let mut reader = CommitLogReader::new(self.commit_log.files());
        let reserve_limit = max_bytes
            .min(self.config.max_transfer_bytes_on_message_in_memory)
            .min(MAX_BODY_RESERVE);
        let count_limit = max_count
            .max(1)
            .min(self.config.max_transfer_count_on_message_in_memory);
        let mut reserved = false;
        let result = self.get_message_inner(
            topic,
            queue_id,
            offset,
            max_count,
            max_bytes,
            filter,
            |phy, size| {
                if !reserved {
                    // The first record's size times the count limit is a good guess for a
                    // backlog of similar messages; it saves the doublings of a growing buffer.
                    body.reserve(
                        count_limit
                            .saturating_mul(size)
                            .min(reserve_limit)
                            .max(size),
                    );
                    reserved = true;
                }
                reader.read_with(phy, size, |record| {
                    // Filter on the mapped bytes: a rejected record is never copied.
                    if filter.is_some_and(|f| !f.matches_record(record)) {
                        return Take::Rejected;
                    }
                    body.extend_from_slice(record);
                    Take::Taken(size)
                })
            },
        );
        self.count_get_message(&result);
        result
    }

    /// Whether the first message a pull of `(topic, queue_id)` from logical `offset` would
    /// return is assumed to be in the page cache: RocketMQ's `checkInDiskByCommitOffset` rule,
    /// true when it lies within the newest `accessMessageInMemoryMaxRatio` (40 %) of physical
    /// memory's worth of CommitLog bytes. False when the unit cannot be read, and on systems
    /// where the physical memory size is unknown.
    ///
    /// Reading the unit touches the ConsumeQueue mapping (20 bytes; one page covers 204 units).
    pub fn pull_is_in_memory(&self, topic: &str, queue_id: i32, offset: i64) -> bool {
        let Some(queue) = self.consume_queues.get(topic, queue_id) else {
            // Nothing to read: the answer comes from the queue's offsets alone.
            return true;
        };
        let offset = offset.max(queue.min_offset());
        if offset >= queue.max_offset() {
            return true;
        }
        let Some(unit) = queue.get_unit(offset) else {
            return false;
        };
        let behind = self.commit_log.max_offset().saturating_sub(unit.phy_offset);
        u64::try_from(behind).is_ok_and(|behind| behind <= in_memory_window())
    }

    fn count_get_message(&self, result: &GetMessageResult) {
        let counter = if result.status == GetMessageStatus::Found {
            &self.stats.get_message_times_total_found
        } else {
            &self.stats.get_message_times_total_miss
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.stats
            .get_message_transferred_msg_count
            .fetch_add(result.queue_offsets.len() as u64, Ordering::Relaxed);
    }

    /// The read loop of [`Self::get_message`]: walks the ConsumeQueue units, applies the limits
    /// and the tag-code filter, and hands each remaining unit's CommitLog `(offset, size)` to
    /// `take`, which reads (and may still reject) the record; `None` from `take` means the
    /// record is gone.
    #[allow(clippy::too_many_arguments)]
    fn get_message_inner(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_count: usize,
        max_bytes: usize,
        filter: Option<&dyn MessageFilter>,
        mut take: impl FnMut(i64, usize) -> Option<Take>,
    ) -> GetMessageResult {
        use GetMessageStatus::*;
        let Some(queue) = self.consume_queues.get(topic, queue_id) else {
            return GetMessageResult::empty(NoMatchedLogicQueue, 0, 0, 0);
        };
        let (min, max) = (queue.min_offset(), queue.max_offset());
        if max == 0 {
            return GetMessageResult::empty(NoMessageInQueue, 0, min, max);
        }
        if offset < min {
            return GetMessageResult::empty(OffsetTooSmall, min, min, max);
        }
        if offset == max {
            return GetMessageResult::empty(OffsetOverflowOne, offset, min, max);
        }
        if offset > max {
            let next = if min == 0 { min } else { max };
            return GetMessageResult::empty(OffsetOverflowBadly, next, min, max);
        }
        let max_count = max_count.max(1);
        let count_limit = max_count.min(self.config.max_transfer_count_on_message_in_memory);
        let byte_limit = max_bytes.min(self.config.max_transfer_bytes_on_message_in_memory);
        let examine_limit = (max_count * 20).max(800);
        let commit_log_min = self.commit_log.min_offset();
        let mut result = GetMessageResult::empty(OffsetFoundNull, offset, min, max);
        let mut examined_any = false;
        for entry in queue.units(offset, examine_limit) {
            let unit = entry.unit;
            let size = usize::try_from(unit.size).unwrap_or(0);
            let taken = result.queue_offsets.len();
            if taken > 0 && (taken >= count_limit || result.buffer_total_size + size > byte_limit) {
                break;
            }
            examined_any = true;
            result.next_begin_offset = entry.queue_offset + 1;
            if unit.phy_offset < commit_log_min {
                if taken == 0 {
                    result.status = MessageWasRemoving;
                }
                continue;
            }
            if filter.is_some_and(|f| !f.matches_tags_code(unit.tags_code)) {
                if taken == 0 {
                    result.status = NoMatchedMessage;
                }
                continue;
            }
            match take(unit.phy_offset, size) {
                Some(Take::Taken(len)) => {
                    result.buffer_total_size += len;
                    result.queue_offsets.push(entry.queue_offset);
                    result.status = Found;
                }
                Some(Take::Rejected) => {
                    if taken == 0 {
                        result.status = NoMatchedMessage;
                    }
                }
                None => {
                    if taken == 0 {
                        result.status = MessageWasRemoving;
                    }
                }
            }
        }
        if !examined_any {
            result.next_begin_offset = offset;
        }
        result
    }

    /// The queue of `(topic, queue_id)`, if it exists.
    pub fn consume_queue(
        &self,
        topic: &str,
        queue_id: i32,
    ) -> Option<std::sync::Arc<ConsumeQueue>> {
        self.consume_queues.get(topic, queue_id)
    }

    /// Next logical offset of the queue (0 if it does not exist).
    pub fn get_max_offset_in_queue(&self, topic: &str, queue_id: i32) -> i64 {
        self.consume_queues
            .get(topic, queue_id)
            .map_or(0, |q| q.max_offset())
    }

    /// First logical offset of the queue (-1 if it does not exist, as in RocketMQ).
    pub fn get_min_offset_in_queue(&self, topic: &str, queue_id: i32) -> i64 {
        self.consume_queues
            .get(topic, queue_id)
            .map_or(-1, |q| q.min_offset())
    }

    /// Logical offset of the first message stored at or after `timestamp` (0 if no queue).
    pub fn get_offset_in_queue_by_time(&self, topic: &str, queue_id: i32, timestamp: i64) -> i64 {
        let Some(queue) = self.consume_queues.get(topic, queue_id) else {
            return 0;
        };
        queue.offset_by_time(timestamp, |phy, size| {
            self.commit_log
                .store_timestamp_at(phy, usize::try_from(size).ok()?)
        })
    }

    /// CommitLog offset of the message at logical `offset` (`None` if absent).
    pub fn get_commit_log_offset_in_queue(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
    ) -> Option<i64> {
        let unit = self.consume_queues.get(topic, queue_id)?.get_unit(offset)?;
        unit.is_message().then_some(unit.phy_offset)
    }

    /// Store time of the message at logical `offset` (`None` if absent).
    pub fn get_message_store_timestamp(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
    ) -> Option<i64> {
        let unit = self.consume_queues.get(topic, queue_id)?.get_unit(offset)?;
        if !unit.is_message() {
            return None;
        }
        self.commit_log
            .store_timestamp_at(unit.phy_offset, usize::try_from(unit.size).ok()?)
    }

    /// Store time of the queue's first message (`None` if the queue is empty or missing).
    pub fn get_earliest_message_time(&self, topic: &str, queue_id: i32) -> Option<i64> {
        let min = self.consume_queues.get(topic, queue_id)?.min_offset();
        self.get_message_store_timestamp(topic, queue_id, min)
    }

    /// Store time of the oldest message in the CommitLog.
    pub fn get_earliest_commit_log_time(&self) -> Option<i64> {
        let record = self.commit_log.read_record(self.commit_log.min_offset())?;
        match parse_record_with_limit(&record, self.commit_log.max_record_size()) {
            Ok(Parsed::Message(view)) => Some(view.store_timestamp),
            _ => None,
        }
    }

    /// Messages indexed under `topic#key` stored within `[begin, end]` (ms), at most `max`.
    /// Hash collisions are possible: callers compare keys (as RocketMQ's client does).
    pub fn query_message(
        &self,
        topic: &str,
        key: &str,
        max: usize,
        begin: i64,
        end: i64,
    ) -> QueryMessageResult {
        let Some(index) = &self.index else {
            return QueryMessageResult::default();
        };
        let found = index.query_offsets(topic, key, max, begin, end);
        let mut result = QueryMessageResult {
            index_last_update_timestamp: found.index_last_update_timestamp,
            index_last_update_phy_offset: found.index_last_update_phy_offset,
            ..QueryMessageResult::default()
        };
        for phy in found.phy_offsets {
            if let Some(record) = self.select_one_message_by_offset(phy) {
                result.messages.push(record);
                result.phy_offsets.push(phy);
            }
        }
        result
    }

    /// The raw record at CommitLog offset `phy` (`None` if it is not a readable message).
    pub fn select_one_message_by_offset(&self, phy: i64) -> Option<Bytes> {
        let record = self.commit_log.read_record(phy)?;
        match parse_record_with_limit(&record, self.commit_log.max_record_size()) {
            Ok(Parsed::Message(view)) if view.commit_log_offset == phy => Some(record.clone()),
            _ => None,
        }
    }

    /// The decoded message at CommitLog offset `phy`.
    pub fn look_message_by_offset(&self, phy: i64) -> Option<MessageExt> {
        let record = self.select_one_message_by_offset(phy)?;
        match parse_record_with_limit(&record, self.commit_log.max_record_size()) {
            Ok(Parsed::Message(view)) => Some(view.to_message_ext()),
            _ => None,
        }
    }

    /// First CommitLog offset still stored.
    pub fn commit_log_min_offset(&self) -> i64 {
        self.commit_log.min_offset()
    }

    /// CommitLog offset just after the last record.
    pub fn commit_log_max_offset(&self) -> i64 {
        self.commit_log.max_offset()
    }

    /// All (topic, queueId) pairs that have a ConsumeQueue.
    pub fn queues(&self) -> Vec<(String, i32)> {
        self.consume_queues
            .queues()
            .iter()
            .map(|q| (q.topic().to_owned(), q.queue_id()))
            .collect()
    }
}

/// What the read loop's `take` did with one record.
enum Take {
    /// Accepted; this many bytes were taken.
    Taken(usize),
    /// Read, but the record filter rejected it.
    Rejected,
}

/// Upper bound of the buffer [`MessageStore::get_message_into`] reserves up front (it still
/// grows past it if the records need more).
const MAX_BODY_RESERVE: usize = 1 << 20;

/// RocketMQ's `accessMessageInMemoryMaxRatio` default: the newest 40 % of physical memory's
/// worth of CommitLog bytes counts as resident in the page cache.
const ACCESS_MESSAGE_IN_MEMORY_MAX_RATIO: u64 = 40;

/// CommitLog bytes behind the write position that count as resident (0 when the physical
/// memory size is unknown, so nothing counts as resident).
fn in_memory_window() -> u64 {
    static WINDOW: OnceLock<u64> = OnceLock::new();
    *WINDOW.get_or_init(|| {
        total_physical_memory().map_or(0, |total| total / 100 * ACCESS_MESSAGE_IN_MEMORY_MAX_RATIO)
    })
}

/// `MemTotal` of `/proc/meminfo` in bytes (Linux only; `None` elsewhere or when unreadable).
fn total_physical_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_total(&meminfo)
}

fn parse_mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// Reads records of the CommitLog in the order a pull visits them, keeping the file of the
/// previous record: consecutive records of one pull are nearly always in the same file, so
/// the file list is looked up once per pull rather than once per record.
struct CommitLogReader<'a> {
    files: &'a MappedFileQueue,
    current: Option<MappedFileRef>,
}

impl<'a> CommitLogReader<'a> {
    fn new(files: &'a MappedFileQueue) -> Self {
        Self {
            files,
            current: None,
        }
    }

    /// Lends the `size` bytes at CommitLog offset `phy` to `f` (`None` when they are not all
    /// written in one file, or the file is gone).
    fn read_with<R>(&mut self, phy: i64, size: usize, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let phy = u64::try_from(phy).ok()?;
        let cached = self.current.as_ref().filter(|file| {
            phy.checked_sub(file.file_from_offset())
                .is_some_and(|position| position < file.file_size() as u64)
        });
        let file = match cached {
            Some(file) => file,
            None => self.current.insert(self.files.find_by_offset(phy)?),
        };
        let position = usize::try_from(phy - file.file_from_offset()).ok()?;
        file.read_with(position, size, f)
    }
}

#[cfg(test)]
mod reader_tests {
    use super::parse_mem_total;

    #[test]
    fn mem_total_parses_kib_lines() {
        let meminfo = "MemFree:  1 kB\nMemTotal:       24506788 kB\nCached: 3 kB\n";
        assert_eq!(parse_mem_total(meminfo), Some(24_506_788 * 1024));
        assert_eq!(parse_mem_total("MemFree: 1 kB\n"), None);
        assert_eq!(parse_mem_total("MemTotal: lots kB\n"), None);
    }
}
