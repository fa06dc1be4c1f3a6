//! Ferric's message store: a byte-compatible implementation of Apache RocketMQ 4.9.x's on-disk
//! store (CommitLog, ConsumeQueue, IndexFile, checkpoint, abort and lock files).
//!
//! The store is a **synchronous** library: calls that read or write the disk block, and callers
//! from an async runtime must use `spawn_blocking` or dedicated threads for them. The exception
//! is [`put_async`]: its appends only copy into mapped memory and report the `SYNC_FLUSH` group
//! commit through a callback, so they may run on a request task. It knows nothing about the
//! network or the remoting protocol.
//!
//! # Byte layouts (all integers big-endian)
//!
//! * `commitlog/<20-digit start offset>`: fixed-size files (`mappedFileSizeCommitLog`, 1 GiB by
//!   default) of stored-message records back to back (layout in `ferric_common::record`). When a
//!   record plus 8 bytes does not fit in the rest of a file, an end-of-file filler is written:
//!   `TOTALSIZE` = remaining bytes, `MAGICCODE` = `0xCBD43194`; the next record starts the next
//!   file.
//! * `consumequeue/<topic>/<queueId>/<20-digit start byte offset>`: 20-byte units
//!   `physical offset (8) | size (4) | tag hash code (8)`.
//! * `index/<yyyyMMddHHmmssSSS>`: 40-byte header, `maxHashSlotNum` int32 slots, `maxIndexNum`
//!   20-byte entries `keyHash (4) | physical offset (8) | timeDiff s (4) | prev index (4)`.
//! * `checkpoint`: 4096 bytes; int64 physicMsgTimestamp at 0, logicsMsgTimestamp at 8,
//!   indexMsgTimestamp at 16 (the 5.x fields at 24 and 32 stay 0).
//! * `abort`: present while the store is open; found at start it means the last run crashed.
//! * `lock`: holds an exclusive `flock` while the store is open.
//!
//! # What it does not do
//!
//! No networking, no HA replication, no transient store pool, no DLedger, no 5.x timer or batch
//! consume queues.

#![deny(unsafe_code)]

pub mod checkpoint;
pub mod cleanup;
pub mod commit_log;
pub mod config;
pub mod consume_queue;
pub mod dispatch;
pub mod error;
pub mod flush;
pub mod index_file;
#[allow(unsafe_code)]
pub mod mapped_file;
pub mod mapped_file_queue;
pub mod put_async;
pub mod recovery;
pub mod result;
pub mod store;
mod store_read;
pub mod warm;

pub use config::MessageStoreConfig;
pub use error::{StoreError, StoreResult};
pub use flush::FlushDiskType;
pub use mapped_file::{MappedFile, MappedFileRef, OS_PAGE_SIZE};
pub use mapped_file_queue::MappedFileQueue;
pub use result::{
    AppendMessageResult, GetMessageResult, GetMessageStatus, MessageFilter, PutMessageResult,
    PutMessageStatus, QueryMessageResult,
};
pub use store::{MessageStore, StoreStats};
