//! Puts that never block their caller on the disk.
//!
//! [`MessageStore::append_messages`] appends on the calling thread (under the CommitLog's
//! writer lock, dispatching to the ConsumeQueue and index) and returns [`PutProgress`]: the
//! final result at once in `ASYNC_FLUSH` (or when the producer does not wait), or in
//! `SYNC_FLUSH` an [`AwaitingFlush`] that [`MessageStore::when_flushed`] turns into a callback
//! from the flush thread once the group commit covering the records is done. So many
//! producers append back to back while earlier appends wait for their sync, like RocketMQ's
//! `GroupCommitService` completing `GroupCommitRequest`s, and no thread is blocked per put.
//! [`MessageStore::put_messages_with`] is both steps with one callback.
//!
//! The append itself copies into mapped memory that is already in the page cache, which is
//! what RocketMQ's `SendMessageProcessor` does on its request threads, so a server may call
//! these from its request tasks. The slowest append is the one that starts a new CommitLog,
//! ConsumeQueue or index file: open, `set_len` (sparse, no zeros written) and `mmap`, a few
//! tens of microseconds on ext4 (10–30 µs measured for a 1 GiB CommitLog file on the benchmark
//! machine), once per file. The first touch of every page costs a page fault wherever the
//! append runs: a minor one, as the warming thread ([`crate::warm`]) has read the pages ahead
//! into the page cache. Neither writes to or waits for the disk: only the flush thread does.

use ferric_common::MessageExt;

use crate::flush::FlushDiskType;
use crate::result::{AppendMessageResult, PutMessageResult, PutMessageStatus};
use crate::store::{MessageStore, flush_status};

/// Receives the final result of a put. Called exactly once, possibly on another thread; it
/// must not block (hand the result to a channel).
pub type PutCallback = Box<dyn FnOnce(PutMessageResult) + Send + 'static>;

/// Where a put stands once [`MessageStore::append_messages`] returns.
#[derive(Debug)]
#[must_use]
pub enum PutProgress {
    /// The final result: refused, or appended and not waiting for the disk.
    Done(PutMessageResult),
    /// Appended; the producer waits for the `SYNC_FLUSH` group commit covering the records.
    /// Hand it to [`MessageStore::when_flushed`].
    AwaitingFlush(AwaitingFlush),
}

/// An append whose result is final only once the CommitLog is on disk up to its end.
#[derive(Debug)]
#[must_use]
pub struct AwaitingFlush {
    append: AppendMessageResult,
    end: u64,
}

impl MessageStore {
    /// Appends `messages` (one record, or a batch in one CommitLog file) on this thread without
    /// waiting for the disk. The result is final at once unless the store is `SYNC_FLUSH` and
    /// the producer waits (`WAIT` is not `false`).
    pub fn append_messages(&self, messages: &[MessageExt]) -> PutProgress {
        let (append, end, wait) = match self.append_stage(messages) {
            Ok(appended) => appended,
            Err(failed) => return PutProgress::Done(failed),
        };
        if self.flusher.flush_disk_type() == FlushDiskType::SyncFlush && wait {
            return PutProgress::AwaitingFlush(AwaitingFlush { append, end });
        }
        self.flusher.wake_after_append(end);
        PutProgress::Done(PutMessageResult {
            status: PutMessageStatus::PutOk,
            append: Some(append),
        })
    }

    /// Calls `done` with the result of `pending` once the group commit covers it (or with
    /// `FlushDiskTimeout` after `syncFlushTimeout`, or an error status if the store is poisoned
    /// or stopping): from the flush thread, or on this thread if that is already known.
    pub fn when_flushed(&self, pending: AwaitingFlush, done: PutCallback) {
        let AwaitingFlush { append, end } = pending;
        self.flusher.on_flushed(
            end,
            self.config.sync_flush_timeout,
            Box::new(move |outcome| {
                done(PutMessageResult {
                    status: flush_status(outcome),
                    append: Some(append),
                });
            }),
        );
    }

    /// [`MessageStore::append_messages`], then `done` with the final result: at once, or via
    /// [`MessageStore::when_flushed`].
    pub fn put_messages_with(&self, messages: &[MessageExt], done: PutCallback) {
        match self.append_messages(messages) {
            PutProgress::Done(result) => done(result),
            PutProgress::AwaitingFlush(pending) => self.when_flushed(pending, done),
        }
    }
}
