//! Result types of the [`crate::MessageStore`] API, named after RocketMQ's
//! `PutMessageStatus` / `GetMessageStatus` so the broker can map them to response codes.

use bytes::Bytes;

use crate::commit_log::AppendedRecord;

/// Outcome of a put (RocketMQ `PutMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMessageStatus {
    /// Stored (and, in SYNC_FLUSH with `WAIT=true`, on disk).
    PutOk,
    /// Stored, but the group commit did not confirm durability within `syncFlushTimeout`
    /// (or the flush failed and the store is now poisoned).
    FlushDiskTimeout,
    /// The store refuses writes: shut down, poisoned by a failed flush, or the disk is full.
    ServiceNotAvailable,
    /// Topic too long, body too large, empty batch, or an unencodable record.
    MessageIllegal,
    /// Properties longer than 32767 bytes.
    PropertiesSizeExceeded,
    /// The writer was busy for too long (never produced by Ferric's store; kept for mapping).
    OsPageCacheBusy,
    /// An I/O error while appending or dispatching.
    UnknownError,
}

impl PutMessageStatus {
    /// RocketMQ's enum constant name (used in logs and remarks).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PutOk => "PUT_OK",
            Self::FlushDiskTimeout => "FLUSH_DISK_TIMEOUT",
            Self::ServiceNotAvailable => "SERVICE_NOT_AVAILABLE",
            Self::MessageIllegal => "MESSAGE_ILLEGAL",
            Self::PropertiesSizeExceeded => "PROPERTIES_SIZE_EXCEEDED",
            Self::OsPageCacheBusy => "OS_PAGECACHE_BUSY",
            Self::UnknownError => "UNKNOWN_ERROR",
        }
    }
}

/// Where a put landed (RocketMQ `AppendMessageResult`). For a batch: the first record's offset
/// and queue offset, the total bytes, and the comma-joined offset message ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessageResult {
    /// CommitLog offset of the first record.
    pub wrote_offset: i64,
    /// Total bytes written.
    pub wrote_bytes: i64,
    /// Offset message id(s), comma-joined for a batch.
    pub msg_id: String,
    /// Queue offset of the first record.
    pub logics_offset: i64,
    /// Store timestamp (ms).
    pub store_timestamp: i64,
    /// Number of records.
    pub msg_num: usize,
    /// Every record of the put.
    pub records: Vec<AppendedRecord>,
}

/// Result of `put_message` / `put_messages`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutMessageResult {
    /// Status.
    pub status: PutMessageStatus,
    /// Present whenever the records were appended (also with `FlushDiskTimeout`).
    pub append: Option<AppendMessageResult>,
}

impl PutMessageResult {
    /// A failure without appended data.
    pub fn failed(status: PutMessageStatus) -> Self {
        Self {
            status,
            append: None,
        }
    }

    /// True for `PutOk`.
    pub fn is_ok(&self) -> bool {
        self.status == PutMessageStatus::PutOk
    }
}

/// Outcome of a read (RocketMQ `GetMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetMessageStatus {
    /// At least one message returned.
    Found,
    /// Units were examined but none matched the filter.
    NoMatchedMessage,
    /// The referenced CommitLog data was already deleted.
    MessageWasRemoving,
    /// No unit could be read at the offset.
    OffsetFoundNull,
    /// offset > max offset.
    OffsetOverflowBadly,
    /// offset == max offset.
    OffsetOverflowOne,
    /// offset < min offset.
    OffsetTooSmall,
    /// The queue does not exist.
    NoMatchedLogicQueue,
    /// The queue is empty (max offset 0).
    NoMessageInQueue,
}

impl GetMessageStatus {
    /// RocketMQ's enum constant name (the pull response remark).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Found => "FOUND",
            Self::NoMatchedMessage => "NO_MATCHED_MESSAGE",
            Self::MessageWasRemoving => "MESSAGE_WAS_REMOVING",
            Self::OffsetFoundNull => "OFFSET_FOUND_NULL",
            Self::OffsetOverflowBadly => "OFFSET_OVERFLOW_BADLY",
            Self::OffsetOverflowOne => "OFFSET_OVERFLOW_ONE",
            Self::OffsetTooSmall => "OFFSET_TOO_SMALL",
            Self::NoMatchedLogicQueue => "NO_MATCHED_LOGIC_QUEUE",
            Self::NoMessageInQueue => "NO_MESSAGE_IN_QUEUE",
        }
    }
}

/// Result of `get_message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetMessageResult {
    /// Status.
    pub status: GetMessageStatus,
    /// Where the consumer should read next.
    pub next_begin_offset: i64,
    /// Queue min offset.
    pub min_offset: i64,
    /// Queue max offset.
    pub max_offset: i64,
    /// Raw records (stored layout), ready to concatenate into a pull response body.
    pub messages: Vec<Bytes>,
    /// Queue offset of each returned record.
    pub queue_offsets: Vec<i64>,
    /// Sum of the records' sizes.
    pub buffer_total_size: usize,
}

impl GetMessageResult {
    pub(crate) fn empty(status: GetMessageStatus, next: i64, min: i64, max: i64) -> Self {
        Self {
            status,
            next_begin_offset: next,
            min_offset: min,
            max_offset: max,
            messages: Vec::new(),
            queue_offsets: Vec::new(),
            buffer_total_size: 0,
        }
    }
}

/// Result of `query_message`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryMessageResult {
    /// Raw records found (hash matches: callers re-check the key).
    pub messages: Vec<Bytes>,
    /// CommitLog offsets of the records.
    pub phy_offsets: Vec<i64>,
    /// `endTimestamp` of the newest index file.
    pub index_last_update_timestamp: i64,
    /// `endPhyOffset` of the newest index file.
    pub index_last_update_phy_offset: i64,
}

/// Server-side message filter for `get_message`: the tag code from the ConsumeQueue, and
/// optionally the whole record (for property/SQL92 filters).
pub trait MessageFilter {
    /// Whether a unit with this tag code may match.
    fn matches_tags_code(&self, tags_code: i64) -> bool;
    /// Whether the record itself matches (called only after the tag code matched).
    fn matches_record(&self, _record: &[u8]) -> bool {
        true
    }
}

impl<F: Fn(i64) -> bool> MessageFilter for F {
    fn matches_tags_code(&self, tags_code: i64) -> bool {
        self(tags_code)
    }
}
