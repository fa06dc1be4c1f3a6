//! Brings the CommitLog pages just ahead of the write position into the page cache before the
//! appends reach them, on a thread of its own.
//!
//! A CommitLog file is sparse until written. The first write to a page that is not in the page
//! cache faults, and the kernel reads the page in together with its neighbours (mmap
//! read-around, `read_ahead_kb` of the device: 8 MiB on some virtual disks), zero-filling the
//! holes. That one fault then holds the appending thread for milliseconds, every few MiB of
//! appends, and every request queued behind it waits as long.
//!
//! [`PageWarmer::after_append`] asks, every [`WARM_STEP`] bytes of appends, for the pages up to
//! [`WARM_AHEAD`] bytes beyond the write position; the thread reads them in with
//! `madvise(MADV_WILLNEED)` in [`WARM_CHUNK`] pieces, so on a one-core machine it never holds
//! the CPU for long in the kernel, and the appends then only take minor faults. The pages are
//! read clean (zeros), so nothing extra is written to the disk. Advice is only a hint: content
//! never changes, and a failure is logged once and otherwise ignored.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};

use crate::mapped_file_queue::MappedFileQueue;

/// Appended bytes between two requests to the warming thread.
pub const WARM_STEP: u64 = 1 << 20;
/// How far beyond the write position pages are brought in.
pub const WARM_AHEAD: u64 = 8 << 20;
/// Bytes advised in one call.
pub const WARM_CHUNK: u64 = 256 << 10;

#[derive(Default)]
struct State {
    /// Warm every page below this global offset.
    wanted: u64,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    work: Condvar,
    /// Requests the thread took up (each at most one pass over the pages).
    passes: AtomicU64,
}

/// The warming thread of one CommitLog; stops when dropped.
pub struct PageWarmer {
    shared: Arc<Shared>,
    requested_at: AtomicU64,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for PageWarmer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageWarmer")
            .field("requested_at", &self.requested_at.load(Ordering::Relaxed))
            .finish()
    }
}

impl PageWarmer {
    /// Starts the thread for `files`, whose appends continue at global offset `write_offset`.
    pub fn start(files: Arc<MappedFileQueue>, write_offset: u64) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("ferric-store-warm".into())
            .spawn(move || run(&thread_shared, &files, write_offset))?;
        let warmer = Self {
            shared,
            requested_at: AtomicU64::new(write_offset),
            thread: Mutex::new(Some(thread)),
        };
        warmer.request(write_offset);
        Ok(warmer)
    }

    /// After an append ending at global offset `end`: asks for the pages ahead once every
    /// [`WARM_STEP`] bytes (one atomic load otherwise).
    pub fn after_append(&self, end: u64) {
        let last = self.requested_at.load(Ordering::Relaxed);
        if end >= last.saturating_add(WARM_STEP) || end < last {
            self.requested_at.store(end, Ordering::Relaxed);
            self.request(end);
        }
    }

    fn request(&self, end: u64) {
        let mut state = self.shared.state.lock();
        state.wanted = state.wanted.max(end.saturating_add(WARM_AHEAD));
        drop(state);
        self.shared.work.notify_one();
    }

    /// Stops the thread and waits for it. Idempotent.
    pub fn stop(&self) {
        self.shared.state.lock().stop = true;
        self.shared.work.notify_one();
        if let Some(thread) = self.thread.lock().take() {
            let _ = thread.join();
        }
    }
}

impl Drop for PageWarmer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(shared: &Shared, files: &MappedFileQueue, write_offset: u64) {
    // Every page below `warmed` was advised (or written).
    let mut warmed = write_offset;
    // The last request taken up: a pass that stops early (the next file does not exist yet)
    // waits for a newer request rather than retrying at once.
    let mut served = 0;
    let mut reported = false;
    loop {
        let wanted = {
            let mut state = shared.state.lock();
            while !state.stop && state.wanted <= served.max(warmed) {
                shared.work.wait(&mut state);
            }
            if state.stop {
                return;
            }
            state.wanted
        };
        served = wanted;
        shared.passes.fetch_add(1, Ordering::Relaxed);
        // Pages the appends already passed need nothing.
        warmed = warmed.max(files.max_offset());
        while warmed < wanted {
            // The next file does not exist before the appends reach it.
            let Some(file) = files.find_by_offset(warmed) else {
                break;
            };
            let in_file = warmed - file.file_from_offset();
            let file_rest = file.file_size() as u64 - in_file;
            let len = WARM_CHUNK.min(file_rest).min(wanted - warmed);
            // Offsets fit in usize: they are inside a mapped file.
            if let Err(error) = file.advise_will_need(in_file as usize, len as usize)
                && !reported
            {
                reported = true;
                tracing::warn!(%error, "cannot read CommitLog pages ahead of the appends");
            }
            warmed += len;
            if shared.state.lock().stop {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// Waits until `len` bytes at `offset` of `file` are all in memory.
    fn wait_resident(file: &crate::mapped_file::MappedFile, offset: usize, len: usize) {
        let pages = len / crate::mapped_file::OS_PAGE_SIZE;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let resident = file.resident_pages(offset, len).expect("mincore");
            if resident == pages {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{resident} of {pages} pages at {offset} in memory"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_missing_file_is_waited_for_not_polled() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = Arc::new(MappedFileQueue::new(dir.path(), 1 << 20).expect("queue"));
        // Nothing to warm yet: the store is empty.
        let warmer = PageWarmer::start(Arc::clone(&files), 0).expect("warmer");
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(warmer.shared.passes.load(Ordering::Relaxed), 1);
        warmer.after_append(WARM_STEP);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(warmer.shared.passes.load(Ordering::Relaxed), 2);
        warmer.stop();
    }

    #[test]
    fn pages_ahead_of_the_appends_are_read_in_across_files() {
        // Beside the sources, not in a temp dir: tmpfs keeps no page cache to read into.
        let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).expect("temp dir");
        let file_size = (WARM_AHEAD + 2 * WARM_STEP) as usize;
        let files = Arc::new(MappedFileQueue::new(dir.path(), file_size).expect("queue"));
        let first = files.last_or_create(0).expect("first file");
        first.append(&[7u8; 100]).expect("append");
        let warmer = PageWarmer::start(Arc::clone(&files), 100).expect("warmer");
        wait_resident(&first, 0, WARM_AHEAD as usize);
        let untouched = first
            .resident_pages(file_size - WARM_STEP as usize, WARM_STEP as usize)
            .expect("mincore");
        assert!(untouched < (WARM_STEP as usize) / crate::mapped_file::OS_PAGE_SIZE);

        // Appends near the end of the file: the warmer continues in the next file once it exists.
        let second = files.create_next(file_size as u64).expect("second file");
        warmer.after_append(file_size as u64 - 100);
        wait_resident(&second, 0, WARM_AHEAD as usize - 2 * WARM_CHUNK as usize);
        warmer.stop();
        warmer.stop();
        // Advice never changes content.
        assert_eq!(first.read(0, 100).expect("read")[..], [7u8; 100]);
    }
}
