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

use bytes::{Bytes, BytesMut};
use ferric_common::message::MessageExt;
use ferric_common::record::{
    BLANK_MAGIC_CODE, Parsed, RecordEncodeOptions, RecordError, SYSFLAG_POSITION,
    encode_record_with_options, parse_record_with_limit, patch_physical_offset, patch_queue_offset,
    patch_store_timestamp,
};
use ferric_common::sysflag::is_dispatched_to_consume_queue;
use parking_lot::Mutex;

use crate::dispatch::DispatchRequest;
use crate::mapped_file_queue::MappedFileQueue;

/// Bytes that must stay free after a record for the end-of-file filler.
pub const END_FILE_MIN_BLANK_LENGTH: usize = 8;

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

#[derive(Debug, Default)]
struct WriterState {
    topic_queue_table: HashMap<(String, i32), i64>,
    last_store_timestamp: i64,
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
        self.writer.lock().topic_queue_table = table;
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
            .get(&(topic.to_owned(), queue_id))
            .copied()
            .unwrap_or(0)
    }

    /// Forgets a topic's queue offsets (when the topic is deleted).
    pub fn remove_topic(&self, topic: &str) {
        self.writer
            .lock()
            .topic_queue_table
            .retain(|(t, _), _| t != topic);
    }

    /// Encodes and appends `messages` as one batch (all in one file, one lock acquisition),
    /// then calls `dispatch` for every record while still holding the lock, so readers see the
    /// records only after they are in the ConsumeQueue and index. The messages' own
    /// queue offset, physical offset, store timestamp and CRC are ignored and assigned here.
    pub fn append<E>(
        &self,
        messages: &[MessageExt],
        mut dispatch: impl FnMut(&DispatchRequest) -> Result<(), E>,
    ) -> Result<Result<Vec<AppendedRecord>, E>, AppendError> {
        if messages.is_empty() {
            return Err(AppendError::EmptyBatch);
        }
        let options = RecordEncodeOptions {
            max_body_len: self.max_message_size,
            compute_body_crc: true,
        };
        let mut buf = BytesMut::new();
        let mut spans = Vec::with_capacity(messages.len());
        for message in messages {
            let start = buf.len();
            let len = encode_record_with_options(message, &mut buf, &options)?;
            if len > self.max_record_size {
                return Err(AppendError::TooLarge {
                    size: len,
                    limit: self.max_record_size,
                });
            }
            spans.push((start, len));
        }
        let total = buf.len();
        if total + END_FILE_MIN_BLANK_LENGTH > self.file_size {
            return Err(AppendError::TooLarge {
                size: total,
                limit: self.file_size - END_FILE_MIN_BLANK_LENGTH,
            });
        }

        let mut state = self.writer.lock();
        let now = now_millis().max(state.last_store_timestamp);
        state.last_store_timestamp = now;
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
        let mut appended = Vec::with_capacity(messages.len());
        let mut offsets = Vec::with_capacity(messages.len());
        for (message, &(start, len)) in messages.iter().zip(&spans) {
            let record = &mut buf[start..start + len];
            let sys_flag = read_sys_flag(record);
            let queue_offset = if is_dispatched_to_consume_queue(message.sys_flag) {
                let slot = state
                    .topic_queue_table
                    .entry((message.topic.clone(), message.queue_id))
                    .or_insert(0);
                let offset = *slot;
                *slot += 1;
                offset
            } else {
                0
            };
            let physical = base + start as i64;
            patch_queue_offset(record, queue_offset)?;
            patch_physical_offset(record, physical)?;
            patch_store_timestamp(record, sys_flag, now)?;
            offsets.push((physical, len as i32, queue_offset));
        }
        let Some(position) = file.append(&buf) else {
            return Err(AppendError::Io(std::io::Error::other(
                "commit log file has no room after the space check",
            )));
        };
        debug_assert_eq!(file.file_from_offset() as i64 + position as i64, base);
        for ((physical, size, queue_offset), &(start, len)) in offsets.into_iter().zip(&spans) {
            let record = &buf[start..start + len];
            let view = match parse_record_with_limit(record, self.max_record_size)? {
                Parsed::Message(view) => view,
                Parsed::Blank { .. } | Parsed::Incomplete { .. } => {
                    return Err(AppendError::Io(std::io::Error::other(
                        "encoded record does not parse back",
                    )));
                }
            };
            let request = DispatchRequest::from_view(&view, &self.delay_level_millis);
            if let Err(error) = dispatch(&request) {
                return Ok(Err(error));
            }
            appended.push(AppendedRecord {
                wrote_offset: physical,
                wrote_bytes: size,
                msg_id: view.offset_msg_id(),
                queue_offset,
                store_timestamp: now,
            });
        }
        drop(state);
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

/// SYSFLAG of an encoded record (the encoder may add the IPv6 host bits).
fn read_sys_flag(record: &[u8]) -> i32 {
    record
        .get(SYSFLAG_POSITION..SYSFLAG_POSITION + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, i32::from_be_bytes)
}
