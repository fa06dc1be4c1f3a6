//! The CommitLog: every message of every topic, appended back to back into fixed-size files.
//!
//! One writer at a time (an internal mutex). A batch is appended under one lock acquisition,
//! into one file, with consecutive queue offsets. When a record (or a batch) plus 8 bytes does
//! not fit in the rest of the current file, an end-of-file filler (`TOTALSIZE` = remaining
//! bytes, `MAGICCODE` = `BLANK_MAGIC_CODE`) closes the file and the data goes to the next one.
//!
//! The queue offset of each `(topic, queueId)` is assigned under the append lock from the
//! topic-queue offset table. PREPARED and ROLLBACK records get queue offset 0 and do not advance
//! the table (as in RocketMQ), because they never reach a ConsumeQueue.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ferric_common::message::MessageExt;
use ferric_common::message_id::create_offset_msg_id;
use ferric_common::record::{
    BLANK_MAGIC_CODE, Parsed, RecordEncodeOptions, RecordError, RecordPlan, StoredFields,
    parse_record_with_limit,
};
use ferric_common::sysflag::is_dispatched_to_consume_queue;
use parking_lot::Mutex;

use crate::dispatch::{DispatchRequest, RecordFields};
use crate::mapped_file_queue::MappedFileQueue;

/// Bytes that must stay free after a record for the end-of-file filler.
pub const END_FILE_MIN_BLANK_LENGTH: usize = 8;

/// Capacity of the reused encode buffer kept between appends; a larger buffer (after a big
/// message or batch) is released.
const SCRATCH_KEEP_BYTES: usize = 1 << 20;

/// Where and how one record was appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendedRecord {
    /// CommitLog offset of the record.
    pub wrote_offset: i64,
    /// TOTALSIZE of the record.
    pub wrote_bytes: i32,
    /// Offset message id (store host + physical offset, upper-case hex).
    pub msg_id: String,
    /// Assigned queue offset.
    pub queue_offset: i64,
    /// Assigned store timestamp (ms).
    pub store_timestamp: i64,
}

/// Why an append failed.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The record could not be encoded (too long topic, properties or body).
    #[error("message cannot be encoded: {0}")]
    Encode(#[from] RecordError),
    /// The record or batch is larger than the record limit or than a CommitLog file.
    #[error("message of {size} bytes exceeds the limit {limit}")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The batch was empty.
    #[error("empty batch")]
    EmptyBatch,
    /// Creating or writing a CommitLog file failed.
    #[error("commit log i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Everything the append lock guards.
#[derive(Debug, Default)]
struct WriterState {
    /// Next queue offset by topic, then queue id (looked up by `&str`: no allocation per put).
    topic_queue_table: HashMap<String, HashMap<i32, i64>>,
    last_store_timestamp: i64,
    /// The batch's records, encoded with their final offsets and store time, then copied into
    /// the CommitLog file in one append. Reused across appends.
    scratch: Vec<u8>,
    /// Per-record sizes of the batch being appended. Reused across appends.
    plans: Vec<RecordPlan>,
    /// Per-record queue offsets of the batch being appended. Reused across appends.
    queue_offsets: Vec<i64>,
}

/// The CommitLog.
#[derive(Debug)]
pub struct CommitLog {
    files: Arc<MappedFileQueue>,
    file_size: usize,
    max_message_size: usize,
    max_record_size: usize,
    delay_level_millis: Vec<i64>,
    writer: Mutex<WriterState>,
}

impl CommitLog {
    /// Wraps loaded CommitLog files (positions already recovered).
    pub fn new(
        files: Arc<MappedFileQueue>,
        max_message_size: usize,
        delay_level_millis: Vec<i64>,
    ) -> Self {
        let file_size = files.file_size();
        Self {
            files,
            file_size,
            max_message_size,
            max_record_size: max_message_size + 64 * 1024,
            delay_level_millis,
            writer: Mutex::new(WriterState::default()),
        }
    }

    /// The file queue (for the flusher and recovery).
    pub fn files(&self) -> &Arc<MappedFileQueue> {
        &self.files
    }

    /// Largest record accepted (`maxMessageSize` + 64 KiB).
    pub fn max_record_size(&self) -> usize {
        self.max_record_size
    }

    /// Delay-level table used for `SCHEDULE_TOPIC_XXXX` tag codes.
    pub fn delay_level_millis(&self) -> &[i64] {
        &self.delay_level_millis
    }

    /// Offset of the first byte still stored (0 when empty).
    pub fn min_offset(&self) -> i64 {
        self.files.min_offset().unwrap_or(0) as i64
    }

    /// Offset just after the last written byte.
    pub fn max_offset(&self) -> i64 {
        self.files.max_offset() as i64
    }

    /// Replaces the topic-queue offset table (after recovery: each queue's max offset).
    pub fn set_topic_queue_table(&self, table: HashMap<(String, i32), i64>) {
        let mut nested: HashMap<String, HashMap<i32, i64>> = HashMap::new();
        for ((topic, queue_id), offset) in table {
            nested.entry(topic).or_default().insert(queue_id, offset);
        }
        self.writer.lock().topic_queue_table = nested;
    }

    /// Store timestamp of the newest record (0 when none was seen since open).
    pub fn last_store_timestamp(&self) -> i64 {
        self.writer.lock().last_store_timestamp
    }

    /// Sets the newest record's store timestamp (from recovery).
    pub fn set_last_store_timestamp(&self, timestamp: i64) {
        let mut state = self.writer.lock();
        state.last_store_timestamp = state.last_store_timestamp.max(timestamp);
    }

    /// Next queue offset of `(topic, queue_id)`.
    pub fn next_queue_offset(&self, topic: &str, queue_id: i32) -> i64 {
        let state = self.writer.lock();
        state
            .topic_queue_table
            .get(topic)
            .and_then(|queues| queues.get(&queue_id))
            .copied()
            .unwrap_or(0)
    }

    /// Forgets a topic's queue offsets (when the topic is deleted).
    pub fn remove_topic(&self, topic: &str) {
        self.writer.lock().topic_queue_table.remove(topic);
    }

    /// Encodes and appends `messages` as one batch (all in one file, one lock acquisition),
    /// then calls `dispatch` for every record while still holding the lock, so readers see the
    /// records only after they are in the ConsumeQueue and index. The messages' own
    /// queue offset, physical offset, store timestamp and CRC are ignored and assigned here.
    ///
    /// Each record is encoded once, with its final offsets and store time, into a buffer reused
    /// across appends; the dispatch requests are built from the messages and the written
    /// properties strings rather than by parsing the records back.
    pub fn append<E>(
        &self,
        messages: &[MessageExt],
        mut dispatch: impl FnMut(&DispatchRequest<'_>) -> Result<(), E>,
    ) -> Result<Result<Vec<AppendedRecord>, E>, AppendError> {
        if messages.is_empty() {
            return Err(AppendError::EmptyBatch);
        }
        let options = RecordEncodeOptions {
            max_body_len: self.max_message_size,
            compute_body_crc: true,
        };
        let mut guard = self.writer.lock();
        let WriterState {
            topic_queue_table,
            last_store_timestamp,
            scratch,
            plans,
            queue_offsets,
        } = &mut *guard;
        plans.clear();
        let mut total = 0usize;
        for message in messages {
            let plan = RecordPlan::new(message, &options)?;
            let len = plan.len();
            if len > self.max_record_size {
                return Err(AppendError::TooLarge {
                    size: len,
                    limit: self.max_record_size,
                });
            }
            total += len;
            plans.push(plan);
        }
        if total + END_FILE_MIN_BLANK_LENGTH > self.file_size {
            return Err(AppendError::TooLarge {
                size: total,
                limit: self.file_size - END_FILE_MIN_BLANK_LENGTH,
            });
        }

        let now = now_millis().max(*last_store_timestamp);
        *last_store_timestamp = now;
        let file = loop {
            let file = self.files.last_or_create(0)?;
            let remaining = file.remaining();
            if total + END_FILE_MIN_BLANK_LENGTH <= remaining {
                break file;
            }
            let mut filler = [0u8; END_FILE_MIN_BLANK_LENGTH];
            filler[..4].copy_from_slice(&(remaining as i32).to_be_bytes());
            filler[4..].copy_from_slice(&BLANK_MAGIC_CODE.to_be_bytes());
            if remaining >= END_FILE_MIN_BLANK_LENGTH {
                file.append_padded(&filler, remaining);
            } else {
                // Only a file that is exactly full can get here (never after our own appends).
                file.append_padded(&[], remaining);
            }
            self.files.create_next(0)?;
        };
        let base = file.file_from_offset() as i64 + file.wrote_position() as i64;
        scratch.clear();
        queue_offsets.clear();
        for (message, plan) in messages.iter().zip(plans.iter()) {
            let queue_offset = if is_dispatched_to_consume_queue(message.sys_flag) {
                next_queue_offset(topic_queue_table, &message.topic, message.queue_id)
            } else {
                0
            };
            let stored = StoredFields {
                queue_offset,
                commit_log_offset: base + scratch.len() as i64,
                store_timestamp: now,
            };
            plan.write(message, &stored, scratch);
            queue_offsets.push(queue_offset);
        }
        debug_assert_eq!(scratch.len(), total);
        let Some(position) = file.append(scratch) else {
            return Err(AppendError::Io(std::io::Error::other(
                "commit log file has no room after the space check",
            )));
        };
        debug_assert_eq!(file.file_from_offset() as i64 + position as i64, base);
        let mut appended = Vec::with_capacity(messages.len());
        let mut start = 0usize;
        for ((message, plan), &queue_offset) in
            messages.iter().zip(plans.iter()).zip(queue_offsets.iter())
        {
            let len = plan.len();
            let record = &scratch[start..start + len];
            let physical = base + start as i64;
            start += len;
            let fields = RecordFields {
                topic: &message.topic,
                queue_id: message.queue_id,
                commit_log_offset: physical,
                msg_size: len as i32,
                store_timestamp: now,
                queue_offset,
                sys_flag: plan.sys_flag(),
                prepared_transaction_offset: message.prepared_transaction_offset,
            };
            let properties = &record[plan.properties_range()];
            let request = DispatchRequest::new(&fields, properties, &self.delay_level_millis);
            if let Err(error) = dispatch(&request) {
                release_scratch(scratch);
                return Ok(Err(error));
            }
            appended.push(AppendedRecord {
                wrote_offset: physical,
                wrote_bytes: len as i32,
                msg_id: create_offset_msg_id(message.store_host, physical),
                queue_offset,
                store_timestamp: now,
            });
        }
        release_scratch(scratch);
        drop(guard);
        Ok(Ok(appended))
    }

    /// Copies `size` bytes at CommitLog offset `offset` (one record), or `None` if they are not
    /// (all) in one written file.
    pub fn read(&self, offset: i64, size: usize) -> Option<Bytes> {
        let offset = u64::try_from(offset).ok()?;
        let file = self.files.find_by_offset(offset)?;
        let position = (offset - file.file_from_offset()) as usize;
        file.read(position, size)
    }

    /// Reads the record starting at `offset` (its size read from the first 4 bytes), bounded by
    /// the record limit. `None` when the offset is not a written record start.
    pub fn read_record(&self, offset: i64) -> Option<Bytes> {
        let head = self.read(offset, 4)?;
        let size = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let size = usize::try_from(size)
            .ok()
            .filter(|s| *s >= 8 && *s <= self.max_record_size)?;
        self.read(offset, size)
    }

    /// Store timestamp of the record at `offset` (`None` if it is not readable).
    pub fn store_timestamp_at(&self, offset: i64, size: usize) -> Option<i64> {
        let record = self.read(offset, size)?;
        match parse_record_with_limit(&record, self.max_record_size) {
            Ok(Parsed::Message(view)) => Some(view.store_timestamp),
            _ => None,
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Takes the next queue offset of `(topic, queue_id)` and advances it; allocates only for a
/// topic seen for the first time.
fn next_queue_offset(
    table: &mut HashMap<String, HashMap<i32, i64>>,
    topic: &str,
    queue_id: i32,
) -> i64 {
    let queues = match table.get_mut(topic) {
        Some(queues) => queues,
        None => table.entry(topic.to_owned()).or_default(),
    };
    let slot = queues.entry(queue_id).or_insert(0);
    let offset = *slot;
    *slot += 1;
    offset
}

/// Drops the encode buffer when a large batch grew it beyond what is worth keeping.
fn release_scratch(scratch: &mut Vec<u8>) {
    if scratch.capacity() > SCRATCH_KEEP_BYTES {
        *scratch = Vec::new();
    }
}
