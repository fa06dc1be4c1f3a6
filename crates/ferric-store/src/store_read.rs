//! The read side of [`MessageStore`]: pulls by queue offset, key queries, lookups by offset
//! and time.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use ferric_common::message::MessageExt;
use ferric_common::record::{Parsed, parse_record_with_limit};

use crate::consume_queue::ConsumeQueue;
use crate::result::{GetMessageResult, GetMessageStatus, MessageFilter, QueryMessageResult};
use crate::store::MessageStore;

impl MessageStore {
    /// Reads up to `max_count` messages (and about `max_bytes`, at least one) of
    /// `(topic, queue_id)` from logical `offset`, skipping units `filter` rejects. Limits of
    /// `maxTransferCountOnMessageInMemory` / `maxTransferBytesOnMessageInMemory` apply too.
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
        let result = self.get_message_inner(topic, queue_id, offset, max_count, max_bytes, filter);
        let counter = if result.status == GetMessageStatus::Found {
            &self.stats.get_message_times_total_found
        } else {
            &self.stats.get_message_times_total_miss
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.stats
            .get_message_transferred_msg_count
            .fetch_add(result.messages.len() as u64, Ordering::Relaxed);
        result
    }

    fn get_message_inner(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_count: usize,
        max_bytes: usize,
        filter: Option<&dyn MessageFilter>,
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
            let taken = result.messages.len();
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
            let Some(record) = self.commit_log.read(unit.phy_offset, size) else {
                if taken == 0 {
                    result.status = MessageWasRemoving;
                }
                continue;
            };
            if filter.is_some_and(|f| !f.matches_record(&record)) {
                if taken == 0 {
                    result.status = NoMatchedMessage;
                }
                continue;
            }
            result.buffer_total_size += record.len();
            result.messages.push(record);
            result.queue_offsets.push(entry.queue_offset);
            result.status = Found;
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
