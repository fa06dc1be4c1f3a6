//! Flushing the CommitLog to disk: group commit for `SYNC_FLUSH`, a periodic flusher for
//! `ASYNC_FLUSH`, and poisoning after a failed flush.
//!
//! One background thread owns all flushing. In both modes a failed `msync` **poisons** the
//! store: the error is recorded, every waiter is released with [`FlushWait::Failed`], and the
//! store refuses further appends. A flush is never retried, because after a failed `fsync` the
//! kernel may already have dropped the dirty pages and a later "successful" retry would lie.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// When an append counts as stored (RocketMQ `flushDiskType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlushDiskType {
    /// `SYNC_FLUSH`: a `put_message` returns `PutOk` only after the record is on disk (`msync`).
    /// Concurrent appenders share one sync (group commit). If the sync does not finish within
    /// `syncFlushTimeout` the append returns `FlushDiskTimeout`: the record is written and will
    /// normally reach the disk, but durability was not confirmed. Every `PutOk` append survives
    /// a process crash and a power loss.
    SyncFlush,
    /// `ASYNC_FLUSH` (RocketMQ's default): `put_message` returns once the record is in the page
    /// cache. A background thread syncs every `flushIntervalCommitLog` ms when at least
    /// `flushCommitLogLeastPages` pages are dirty, and everything every 10 s. Acknowledged
    /// appends survive a process crash (the page cache outlives the process) but the last
    /// seconds may be lost on a power loss or kernel crash.
    #[default]
    AsyncFlush,
}

impl FlushDiskType {
    /// Parses RocketMQ's config value (`SYNC_FLUSH` / `ASYNC_FLUSH`).
    pub fn from_config(value: &str) -> Option<Self> {
        match value.trim() {
            "SYNC_FLUSH" => Some(Self::SyncFlush),
            "ASYNC_FLUSH" => Some(Self::AsyncFlush),
            _ => None,
        }
    }

    /// RocketMQ's config value.
    pub fn as_config(self) -> &'static str {
        match self {
            Self::SyncFlush => "SYNC_FLUSH",
            Self::AsyncFlush => "ASYNC_FLUSH",
        }
    }
}

/// Something the flusher can sync: the CommitLog's file queue.
pub trait FlushTarget: Send + Sync + 'static {
    /// Syncs every written byte and returns the global offset now on disk.
    fn flush_all(&self) -> std::io::Result<u64>;
    /// Whole pages written but not yet synced.
    fn dirty_pages(&self) -> usize;
    /// Global offset now on disk.
    fn flushed_offset(&self) -> u64;
}

impl FlushTarget for crate::mapped_file_queue::MappedFileQueue {
    fn flush_all(&self) -> std::io::Result<u64> {
        self.flush()
    }
    fn dirty_pages(&self) -> usize {
        crate::mapped_file_queue::MappedFileQueue::dirty_pages(self)
    }
    fn flushed_offset(&self) -> u64 {
        crate::mapped_file_queue::MappedFileQueue::flushed_offset(self)
    }
}

/// Tuning of the flusher (RocketMQ key names in the field docs).
#[derive(Debug, Clone)]
pub struct FlushConfig {
    /// `flushDiskType`.
    pub flush_disk_type: FlushDiskType,
    /// `flushIntervalCommitLog` (ms, async mode).
    pub flush_interval: Duration,
    /// `flushCommitLogLeastPages` (async mode).
    pub flush_least_pages: usize,
    /// `flushCommitLogThoroughInterval` (ms, async mode).
    pub thorough_interval: Duration,
}

/// Outcome of waiting for a group commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlushWait {
    /// The requested offset is on disk.
    Flushed,
    /// The timeout passed first.
    TimedOut,
    /// A flush failed; the store is poisoned (message inside).
    Failed(String),
}

/// Called once with the outcome of a group commit (on the flush thread, or on the caller's
/// thread when the outcome is already known). Must not block.
pub type FlushCallback = Box<dyn FnOnce(FlushWait) + Send + 'static>;

/// A registered [`Flusher::on_flushed`] callback.
struct Waiter {
    offset: u64,
    deadline: Instant,
    done: FlushCallback,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("offset", &self.offset)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct FlushState {
    requested: u64,
    flushed: u64,
    poisoned: Option<String>,
    stop: bool,
    /// Callbacks waiting for a group commit, in registration order.
    waiters: Vec<Waiter>,
}

impl FlushState {
    /// Takes the waiters whose outcome is known: flushed far enough, poisoned, past their
    /// deadline, or (once stopped) never to be flushed.
    fn take_finished(&mut self, now: Instant) -> Vec<(FlushCallback, FlushWait)> {
        if self.waiters.is_empty() {
            return Vec::new();
        }
        let mut finished = Vec::new();
        let mut pending = Vec::with_capacity(self.waiters.len());
        for waiter in self.waiters.drain(..) {
            let outcome = if let Some(reason) = &self.poisoned {
                Some(FlushWait::Failed(reason.clone()))
            } else if self.flushed >= waiter.offset {
                Some(FlushWait::Flushed)
            } else if self.stop {
                Some(FlushWait::Failed("store stopped before the flush".into()))
            } else if now >= waiter.deadline {
                Some(FlushWait::TimedOut)
            } else {
                None
            };
            match outcome {
                Some(outcome) => finished.push((waiter.done, outcome)),
                None => pending.push(waiter),
            }
        }
        self.waiters = pending;
        finished
    }
}

fn complete(finished: Vec<(FlushCallback, FlushWait)>) {
    for (done, outcome) in finished {
        done(outcome);
    }
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<FlushState>,
    work: Condvar,
    done: Condvar,
}

/// In `ASYNC_FLUSH`, appended bytes (at least) between two wake-ups of the flusher: a flush
/// runs per MiB of appends, or on its timer.
pub const ASYNC_WAKE_BYTES: u64 = 1 << 20;

/// The flusher thread and the group-commit rendezvous.
#[derive(Debug)]
pub struct Flusher {
    shared: Arc<Shared>,
    config: FlushConfig,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// CommitLog end offset at the last [`Flusher::wake_after_append`] that woke the thread.
    woken_at: AtomicU64,
}

impl Flusher {
    /// Starts the flusher thread over `target`.
    pub fn start(target: Arc<dyn FlushTarget>, config: FlushConfig) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        {
            let mut state = shared.state.lock();
            state.flushed = target.flushed_offset();
            state.requested = state.flushed;
        }
        let thread_shared = shared.clone();
        let thread_config = config.clone();
        let thread = std::thread::Builder::new()
            .name("ferric-store-flush".into())
            .spawn(move || run(thread_shared, target, thread_config))?;
        Ok(Self {
            shared,
            config,
            thread: Mutex::new(Some(thread)),
            woken_at: AtomicU64::new(0),
        })
    }

    /// The configured mode.
    pub fn flush_disk_type(&self) -> FlushDiskType {
        self.config.flush_disk_type
    }

    /// The poison message, if a flush failed.
    pub fn poisoned(&self) -> Option<String> {
        self.shared.state.lock().poisoned.clone()
    }

    /// Global CommitLog offset known to be on disk.
    pub fn flushed_offset(&self) -> u64 {
        self.shared.state.lock().flushed
    }

    /// Wakes the flusher (async mode: after an append).
    pub fn wake(&self) {
        self.shared.work.notify_one();
    }

    /// After an append ending at global offset `end` (async mode): wakes the flusher once at
    /// least `flush_least_pages` pages, and at least [`ASYNC_WAKE_BYTES`], were appended since
    /// the last such wake-up; its `flushIntervalCommitLog` timer covers the rest. Waking it
    /// after every small append costs a thread switch per message, and every flush of a few
    /// pages a disk request of its own.
    pub fn wake_after_append(&self, end: u64) {
        let least = ((self.config.flush_least_pages.max(1) * crate::mapped_file::OS_PAGE_SIZE)
            as u64)
            .max(ASYNC_WAKE_BYTES);
        let last = self.woken_at.load(Ordering::Relaxed);
        if end >= last.saturating_add(least) || end < last {
            self.woken_at.store(end, Ordering::Relaxed);
            self.shared.work.notify_one();
        }
    }

    /// Group commit: blocks until every byte below `offset` is on disk, the timeout passes, or
    /// the store is poisoned. Many concurrent callers share one sync.
    pub fn wait_flushed(&self, offset: u64, timeout: Duration) -> FlushWait {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.state.lock();
        if state.requested < offset {
            state.requested = offset;
            self.shared.work.notify_one();
        }
        loop {
            if let Some(message) = &state.poisoned {
                return FlushWait::Failed(message.clone());
            }
            if state.flushed >= offset {
                return FlushWait::Flushed;
            }
            if self
                .shared
                .done
                .wait_until(&mut state, deadline)
                .timed_out()
            {
                return match &state.poisoned {
                    Some(message) => FlushWait::Failed(message.clone()),
                    None if state.flushed >= offset => FlushWait::Flushed,
                    None => FlushWait::TimedOut,
                };
            }
        }
    }

    /// Group commit without blocking: `done` is called once every byte below `offset` is on
    /// disk, the timeout passes, or the store is poisoned or stopped. Callbacks registered
    /// while a sync is running are covered by the next one; all of them share it.
    pub fn on_flushed(&self, offset: u64, timeout: Duration, done: FlushCallback) {
        let mut state = self.shared.state.lock();
        let known = if let Some(reason) = &state.poisoned {
            Some(FlushWait::Failed(reason.clone()))
        } else if state.flushed >= offset {
            Some(FlushWait::Flushed)
        } else if state.stop {
            Some(FlushWait::Failed("store stopped before the flush".into()))
        } else {
            None
        };
        if let Some(outcome) = known {
            drop(state);
            done(outcome);
            return;
        }
        if state.requested < offset {
            state.requested = offset;
            self.shared.work.notify_one();
        }
        state.waiters.push(Waiter {
            offset,
            deadline: Instant::now() + timeout,
            done,
        });
    }

    /// Stops the thread after a last complete flush. Idempotent.
    pub fn stop(&self) {
        self.shared.state.lock().stop = true;
        self.shared.work.notify_all();
        if let Some(thread) = self.thread.lock().take() {
            // A panicking flusher has already poisoned nothing we could recover; ignore it.
            let _ = thread.join();
        }
        let finished = self.shared.state.lock().take_finished(Instant::now());
        complete(finished);
    }

    /// Stops the thread without a final flush (used by crash tests to simulate a kill).
    pub fn abandon(&self) {
        let mut state = self.shared.state.lock();
        state.stop = true;
        state
            .poisoned
            .get_or_insert_with(|| "store abandoned".into());
        drop(state);
        self.shared.work.notify_all();
        self.shared.done.notify_all();
        if let Some(thread) = self.thread.lock().take() {
            let _ = thread.join();
        }
        let finished = self.shared.state.lock().take_finished(Instant::now());
        complete(finished);
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(shared: Arc<Shared>, target: Arc<dyn FlushTarget>, config: FlushConfig) {
    let mut last_thorough = Instant::now();
    loop {
        let (stop, expired) = {
            let mut state = shared.state.lock();
            if state.poisoned.is_some() {
                return;
            }
            let mut expired = Vec::new();
            match config.flush_disk_type {
                FlushDiskType::SyncFlush => {
                    while !state.stop && state.requested <= state.flushed {
                        shared.work.wait_for(&mut state, Duration::from_millis(10));
                        if !state.stop {
                            // Deadlines only: a stop is followed by a last flush.
                            expired.extend(state.take_finished(Instant::now()));
                        }
                    }
                }
                FlushDiskType::AsyncFlush => {
                    if !state.stop {
                        shared.work.wait_for(&mut state, config.flush_interval);
                    }
                }
            }
            (state.stop, expired)
        };
        complete(expired);
        let should_flush = match config.flush_disk_type {
            FlushDiskType::SyncFlush => true,
            FlushDiskType::AsyncFlush => {
                let thorough = last_thorough.elapsed() >= config.thorough_interval;
                stop || thorough || target.dirty_pages() >= config.flush_least_pages.max(1)
            }
        };
        if should_flush {
            let result = target.flush_all();
            if config.flush_disk_type == FlushDiskType::AsyncFlush {
                last_thorough = Instant::now();
            }
            let mut state = shared.state.lock();
            match result {
                Ok(flushed) => state.flushed = state.flushed.max(flushed),
                Err(error) => {
                    tracing::error!(%error, "commit log flush failed; store poisoned");
                    state.poisoned = Some(format!("commit log flush failed: {error}"));
                }
            }
            shared.done.notify_all();
            let poisoned = state.poisoned.is_some();
            let finished = state.take_finished(Instant::now());
            drop(state);
            complete(finished);
            if poisoned {
                return;
            }
        }
        if stop {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

    #[derive(Default)]
    struct FakeTarget {
        written: AtomicU64,
        flushed: AtomicU64,
        syncs: AtomicUsize,
        fail: AtomicBool,
    }

    impl FlushTarget for FakeTarget {
        fn flush_all(&self) -> std::io::Result<u64> {
            std::thread::sleep(Duration::from_millis(3));
            self.syncs.fetch_add(1, Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) {
                return Err(std::io::Error::other("injected EIO"));
            }
            let written = self.written.load(Ordering::SeqCst);
            self.flushed.store(written, Ordering::SeqCst);
            Ok(written)
        }
        fn dirty_pages(&self) -> usize {
            ((self.written.load(Ordering::SeqCst) - self.flushed.load(Ordering::SeqCst)) / 4096)
                as usize
        }
        fn flushed_offset(&self) -> u64 {
            self.flushed.load(Ordering::SeqCst)
        }
    }

    fn sync_config() -> FlushConfig {
        FlushConfig {
            flush_disk_type: FlushDiskType::SyncFlush,
            flush_interval: Duration::from_millis(500),
            flush_least_pages: 4,
            thorough_interval: Duration::from_secs(10),
        }
    }

    #[test]
    fn concurrent_waiters_share_syncs() {
        let target = Arc::new(FakeTarget::default());
        let flusher = Arc::new(Flusher::start(target.clone(), sync_config()).unwrap());
        let threads: Vec<_> = (0..32)
            .map(|_| {
                let (target, flusher) = (target.clone(), flusher.clone());
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        let end = target.written.fetch_add(100, Ordering::SeqCst) + 100;
                        let waited = flusher.wait_flushed(end, Duration::from_secs(5));
                        assert_eq!(waited, FlushWait::Flushed);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let syncs = target.syncs.load(Ordering::SeqCst);
        assert!(
            syncs < 640,
            "{syncs} syncs for 640 appends: no group commit"
        );
        assert_eq!(flusher.flushed_offset(), 64_000);
    }

    #[test]
    fn failed_flush_poisons_and_releases_waiters() {
        let target = Arc::new(FakeTarget::default());
        let flusher = Flusher::start(target.clone(), sync_config()).unwrap();
        target.fail.store(true, Ordering::SeqCst);
        target.written.store(10, Ordering::SeqCst);
        let waited = flusher.wait_flushed(10, Duration::from_secs(5));
        assert!(matches!(waited, FlushWait::Failed(_)), "{waited:?}");
        assert!(flusher.poisoned().is_some());
        let syncs = target.syncs.load(Ordering::SeqCst);
        target.written.store(20, Ordering::SeqCst);
        let again = flusher.wait_flushed(20, Duration::from_millis(50));
        assert!(matches!(again, FlushWait::Failed(_)), "{again:?}");
        assert_eq!(
            target.syncs.load(Ordering::SeqCst),
            syncs,
            "a failed flush was retried"
        );
    }

    #[test]
    fn async_mode_flushes_on_stop_and_parses_config() {
        let target = Arc::new(FakeTarget::default());
        let config = FlushConfig {
            flush_disk_type: FlushDiskType::AsyncFlush,
            ..sync_config()
        };
        let flusher = Flusher::start(target.clone(), config).unwrap();
        target.written.store(100, Ordering::SeqCst);
        flusher.stop();
        assert_eq!(target.flushed.load(Ordering::SeqCst), 100);
        assert_eq!(
            FlushDiskType::from_config("SYNC_FLUSH"),
            Some(FlushDiskType::SyncFlush)
        );
        assert_eq!(FlushDiskType::from_config("x"), None);
        assert_eq!(FlushDiskType::AsyncFlush.as_config(), "ASYNC_FLUSH");
    }
}
