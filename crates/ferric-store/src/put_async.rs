//! Puts that never block their caller on the disk.
//!
//! [`MessageStore::put_messages_with`] appends on the calling thread and reports through a
//! callback: at once in `ASYNC_FLUSH` (or when the producer does not wait), and in
//! `SYNC_FLUSH` from the flush thread once the group commit covering the records is done. So
//! one thread can append for many producers while earlier appends wait for their sync, like
//! RocketMQ's `GroupCommitService` completing `GroupCommitRequest`s.
//!
//! [`MessageStore::submit_put`] runs that on the store's own put thread ([`SerialExecutor`]):
//! a server thread hands the messages over and awaits the callback, appends are serialised
//! on one thread (no lock convoy, no thread per request), and the disk is never touched from
//! the caller's thread.

use std::sync::Arc;
use std::sync::mpsc;

use ferric_common::MessageExt;
use parking_lot::Mutex;

use crate::flush::FlushDiskType;
use crate::result::{PutMessageResult, PutMessageStatus};
use crate::store::{MessageStore, flush_status};

/// Receives the final result of a put. Called exactly once, possibly on another thread; it
/// must not block (hand the result to a channel).
pub type PutCallback = Box<dyn FnOnce(PutMessageResult) + Send + 'static>;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// One named thread running submitted jobs in order. Dropping it lets the thread finish the
/// jobs already queued and exit (it is not joined: the last job may own the executor's owner).
#[derive(Debug)]
pub struct SerialExecutor {
    sender: Mutex<Option<mpsc::Sender<Job>>>,
}

impl SerialExecutor {
    /// Starts the thread.
    pub fn start(name: &str) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                while let Ok(job) = receiver.recv() {
                    job();
                }
            })?;
        Ok(Self {
            sender: Mutex::new(Some(sender)),
        })
    }

    /// Queues `job`; gives it back when the executor is stopped.
    pub fn execute(&self, job: Job) -> Result<(), Job> {
        match self.sender.lock().as_ref() {
            Some(sender) => sender.send(job).map_err(|error| error.0),
            None => Err(job),
        }
    }

    /// Stops accepting jobs; queued ones still run.
    pub fn stop(&self) {
        self.sender.lock().take();
    }
}

impl MessageStore {
    /// Appends `messages` (one record, or a batch in one CommitLog file) on this thread and
    /// calls `done` with the final result without waiting for the disk here: at once unless
    /// the store is `SYNC_FLUSH` and the producer waits, else from the flush thread after the
    /// group commit (or `FlushDiskTimeout` after `syncFlushTimeout`).
    pub fn put_messages_with(&self, messages: &[MessageExt], done: PutCallback) {
        let (append, end, wait) = match self.append_stage(messages) {
            Ok(appended) => appended,
            Err(failed) => return done(failed),
        };
        if self.flusher.flush_disk_type() == FlushDiskType::SyncFlush && wait {
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
            return;
        }
        self.flusher.wake_after_append(end);
        done(PutMessageResult {
            status: PutMessageStatus::PutOk,
            append: Some(append),
        });
    }

    /// [`MessageStore::put_messages_with`] on the store's put thread. A store that is shutting
    /// down answers `ServiceNotAvailable`.
    pub fn submit_put(self: &Arc<Self>, messages: Vec<MessageExt>, done: PutCallback) {
        let store = Arc::clone(self);
        let job: Job = Box::new(move || store.put_messages_with(&messages, done));
        if let Err(job) = self.writer.execute(job) {
            // Only a closing store stops its put thread; its puts are refused without I/O.
            job();
        }
    }
}
