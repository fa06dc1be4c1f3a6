//! Fixed-size memory-mapped files and directories of consecutive ones.
//!
//! This is the only module of the crate that contains `unsafe` code: copying bytes in and out of
//! the mapping through raw pointers. Every block carries a `// SAFETY:` comment.
//!
//! # Concurrency model
//!
//! A [`MappedFile`] has one logical writer and any number of readers:
//! * bytes below [`MappedFile::wrote_position`] are immutable for readers; appends only write at
//!   or after the write position and publish the new position with `Release` ordering;
//! * [`MappedFile::truncate_to`] (used by recovery) is the only operation that rewrites bytes
//!   below the write position; it takes an exclusive lock that every read holds shared while it
//!   copies, so no reader ever observes a torn region;
//! * appends and truncations are serialised by an internal mutex.
//!
//! Reads return copies ([`Bytes`]) or lend a slice to a closure while the read lock is held, so a
//! reader never keeps a reference into a mapping that may be rewritten.
//!
//! # File naming
//!
//! A file is named by the global offset of its first byte, zero-padded to 20 decimal digits
//! (`00000000000001048576`), exactly as RocketMQ's `UtilAll.offset2FileName`.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use memmap2::{MmapOptions, MmapRaw};
use parking_lot::{Mutex, RwLock};

/// The OS page size assumed for dirty-page accounting (RocketMQ's `OS_PAGE_SIZE`).
pub const OS_PAGE_SIZE: usize = 4096;

/// Width of a store file name: the start offset in decimal, zero-padded.
pub const FILE_NAME_DIGITS: usize = 20;

/// Formats a start offset as a 20-digit file name.
pub fn offset_to_file_name(offset: u64) -> String {
    format!("{offset:020}")
}

/// Parses a 20-digit file name back into its start offset; `None` for any other name.
pub fn file_name_to_offset(name: &str) -> Option<u64> {
    if name.len() != FILE_NAME_DIGITS || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// One fixed-size file mapped into memory, with a write position and a flushed position.
pub struct MappedFile {
    path: PathBuf,
    file_from_offset: u64,
    file_size: usize,
    map: MmapRaw,
    _file: File,
    writer: Mutex<()>,
    rewrite_guard: RwLock<()>,
    wrote_position: AtomicUsize,
    flushed_position: AtomicUsize,
    destroyed: AtomicBool,
}

impl std::fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedFile")
            .field("path", &self.path)
            .field("file_from_offset", &self.file_from_offset)
            .field("file_size", &self.file_size)
            .field("wrote_position", &self.wrote_position())
            .field("flushed_position", &self.flushed_position())
            .finish()
    }
}

impl MappedFile {
    /// Creates (or reuses, if it already has the right size) the file `dir/<20-digit offset>`,
    /// extends it to `file_size` bytes and maps it. Write and flushed positions start at 0.
    ///
    /// A new file gets its full size under a staging name (`<name>.tmp`) and is then renamed, so
    /// a process killed in between leaves a file that loading ignores, never a short file under
    /// a store name that would stop the next start.
    pub fn create(dir: &Path, file_from_offset: u64, file_size: usize) -> io::Result<Self> {
        let path = dir.join(offset_to_file_name(file_from_offset));
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(file) => {
                file.set_len(file_size as u64)?;
                file
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let staging = path.with_extension("tmp");
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&staging)?;
                file.set_len(file_size as u64)?;
                fs::rename(&staging, &path)?;
                file
            }
            Err(error) => return Err(error),
        };
        Self::map(path, file, file_from_offset, file_size, 0)
    }

    /// Maps an existing file whose name is its 20-digit start offset. The file must be exactly
    /// `file_size` bytes long. Both positions start at `file_size` (the file counts as full);
    /// recovery then sets the real position with [`MappedFile::set_positions`].
    pub fn open(path: &Path, file_size: usize) -> io::Result<Self> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let file_from_offset = file_name_to_offset(name).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "store file name is not a 20-digit offset: {}",
                    path.display()
                ),
            )
        })?;
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let actual = file.metadata()?.len();
        if actual != file_size as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "store file {} has {actual} bytes, expected {file_size}",
                    path.display()
                ),
            ));
        }
        Self::map(
            path.to_path_buf(),
            file,
            file_from_offset,
            file_size,
            file_size,
        )
    }

    fn map(
        path: PathBuf,
        file: File,
        file_from_offset: u64,
        file_size: usize,
        position: usize,
    ) -> io::Result<Self> {
        if file_size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "mapped file size is 0",
            ));
        }
        let map = MmapOptions::new().len(file_size).map_raw(&file)?;
        Ok(Self {
            path,
            file_from_offset,
            file_size,
            map,
            _file: file,
            writer: Mutex::new(()),
            rewrite_guard: RwLock::new(()),
            wrote_position: AtomicUsize::new(position),
            flushed_position: AtomicUsize::new(position),
            destroyed: AtomicBool::new(false),
        })
    }

    /// Path of the file on disk.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Global offset of the first byte of this file (its name).
    pub fn file_from_offset(&self) -> u64 {
        self.file_from_offset
    }

    /// Size of the file in bytes.
    pub fn file_size(&self) -> usize {
        self.file_size
    }

    /// Bytes written so far (position of the next append).
    pub fn wrote_position(&self) -> usize {
        self.wrote_position.load(Ordering::Acquire)
    }

    /// Asks the kernel to bring `len` bytes at `offset` into the page cache
    /// (`MADV_WILLNEED`); holes read as zeros. Content never changes.
    pub fn advise_will_need(&self, offset: usize, len: usize) -> io::Result<()> {
        if offset
            .checked_add(len)
            .is_none_or(|end| end > self.file_size)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("range {offset}+{len} is outside {}", self.path.display()),
            ));
        }
        self.map
            .advise_range(memmap2::Advice::WillNeed, offset, len)
    }

    /// How many of the pages of `len` bytes at `offset` (page-aligned) are in memory.
    #[cfg(test)]
    pub(crate) fn resident_pages(&self, offset: usize, len: usize) -> io::Result<usize> {
        assert!(offset.is_multiple_of(OS_PAGE_SIZE) && offset + len <= self.file_size);
        let mut pages = vec![0u8; len.div_ceil(OS_PAGE_SIZE)];
        // SAFETY: the range lies inside the mapping (asserted) and `pages` has one byte per page.
        let rc = unsafe {
            libc::mincore(
                self.map.as_mut_ptr().add(offset).cast(),
                len,
                pages.as_mut_ptr(),
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(pages.iter().filter(|p| **p & 1 == 1).count())
    }

    /// Bytes known to be on disk.
    pub fn flushed_position(&self) -> usize {
        self.flushed_position.load(Ordering::Acquire)
    }

    /// Bytes still free after the write position.
    pub fn remaining(&self) -> usize {
        self.file_size - self.wrote_position()
    }

    /// True when no byte is free any more.
    pub fn is_full(&self) -> bool {
        self.wrote_position() >= self.file_size
    }

    /// Sets both positions, e.g. after recovery found where the valid data ends. Clamped to the
    /// file size. Does not touch the bytes; use [`MappedFile::truncate_to`] to cut data off.
    pub fn set_positions(&self, position: usize) {
        let _writer = self.writer.lock();
        let position = position.min(self.file_size);
        self.wrote_position.store(position, Ordering::Release);
        self.flushed_position.store(position, Ordering::Release);
    }

    /// Appends `data` at the write position and returns the position it was written at, or
    /// `None` (writing nothing) when it does not fit in the remaining space.
    pub fn append(&self, data: &[u8]) -> Option<usize> {
        self.append_padded(data, data.len())
    }

    /// Appends `data` and then advances the write position to `position + padded_len` without
    /// writing the bytes in between (they are zero in a fresh or truncated file). Used for the
    /// CommitLog end-of-file filler. `None` (nothing written) if it does not fit.
    pub fn append_padded(&self, data: &[u8], padded_len: usize) -> Option<usize> {
        let _writer = self.writer.lock();
        let position = self.wrote_position.load(Ordering::Acquire);
        let end = position.checked_add(padded_len.max(data.len()))?;
        if end > self.file_size {
            return None;
        }
        // SAFETY: `position..position + data.len()` lies inside the mapping
        // (`data.len() <= end - position` and `end <= file_size == map.len()`). It is at or after
        // the write position, so no reader reads it (reads are bounded by the write position,
        // published below with Release only after the copy), and the writer mutex excludes every
        // other writer. `data` is a caller slice and cannot overlap the region we write, because
        // nobody hands out mutable references into the mapping.
        unsafe {
            std::ptr::copy_nonoverlapping(
                data.as_ptr(),
                self.map.as_mut_ptr().add(position),
                data.len(),
            );
        }
        self.wrote_position.store(end, Ordering::Release);
        Some(position)
    }

    /// Lends `len` bytes starting at `position` to `f`, or returns `None` if they are not all
    /// below the write position. The slice is only valid inside the closure.
    pub fn read_with<R>(
        &self,
        position: usize,
        len: usize,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Option<R> {
        let _guard = self.rewrite_guard.read();
        let end = position.checked_add(len)?;
        if end > self.wrote_position() {
            return None;
        }
        // SAFETY: `position..end` is inside the mapping (`end <= wrote_position <= file_size`).
        // Bytes below the write position are only rewritten by `truncate_to`, which takes the
        // rewrite guard exclusively; we hold it shared, so the bytes are immutable while the
        // slice lives. The slice does not escape the closure.
        let slice = unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(position), len) };
        Some(f(slice))
    }

    /// Copies `len` bytes starting at `position`, or `None` if they are not all written yet.
    pub fn read(&self, position: usize, len: usize) -> Option<Bytes> {
        self.read_with(position, len, Bytes::copy_from_slice)
    }

    /// Lends everything from `position` to the write position to `f` (see [`Self::read_with`]).
    pub fn read_to_end_with<R>(&self, position: usize, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let wrote = self.wrote_position();
        let len = wrote.checked_sub(position)?;
        self.read_with(position, len, f)
    }

    /// Cuts the data at `position`: sets both positions there and zeroes every non-zero byte from
    /// `position` to the end of the file (then syncs that range), so stale records after the cut
    /// can never be mistaken for data by a later recovery. Used only by recovery.
    pub fn truncate_to(&self, position: usize) -> io::Result<()> {
        let _writer = self.writer.lock();
        let _guard = self.rewrite_guard.write();
        let position = position.min(self.file_size);
        let mut first_dirty: Option<usize> = None;
        let mut last_dirty_end = position;
        let mut chunk_start = position;
        while chunk_start < self.file_size {
            let chunk_end = (chunk_start + 64 * 1024).min(self.file_size);
            let len = chunk_end - chunk_start;
            // SAFETY: `chunk_start..chunk_end` is inside the mapping. We hold the writer mutex and
            // the rewrite guard exclusively, so no reader or writer accesses the mapping now.
            let chunk = unsafe {
                std::slice::from_raw_parts_mut(self.map.as_mut_ptr().add(chunk_start), len)
            };
            if chunk.iter().any(|&b| b != 0) {
                chunk.fill(0);
                first_dirty.get_or_insert(chunk_start);
                last_dirty_end = chunk_end;
            }
            chunk_start = chunk_end;
        }
        self.wrote_position.store(position, Ordering::Release);
        self.flushed_position.store(position, Ordering::Release);
        if let Some(start) = first_dirty {
            self.map.flush_range(start, last_dirty_end - start)?;
        }
        Ok(())
    }

    /// Number of whole dirty pages between the flushed and the write position.
    pub fn dirty_pages(&self) -> usize {
        let wrote = self.wrote_position();
        let flushed = self.flushed_position();
        wrote / OS_PAGE_SIZE - flushed / OS_PAGE_SIZE
    }

    /// Writes every byte below the write position to disk (`msync`) and returns the new flushed
    /// position. A failed flush leaves the flushed position unchanged.
    pub fn flush(&self) -> io::Result<usize> {
        let wrote = self.wrote_position();
        let flushed = self.flushed_position();
        if wrote > flushed {
            self.map.flush_range(flushed, wrote - flushed)?;
            self.flushed_position.fetch_max(wrote, Ordering::AcqRel);
        }
        Ok(self.flushed_position())
    }

    /// Last modification time of the file in ms since the epoch (0 if unknown).
    pub fn last_modified_ms(&self) -> u64 {
        fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    /// Removes the file from disk. The mapping stays readable until the last `Arc` is dropped.
    pub fn destroy(&self) -> io::Result<()> {
        if self.destroyed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// True once [`Self::destroy`] ran.
    pub fn is_destroyed(&self) -> bool {
        self.destroyed.load(Ordering::Acquire)
    }

    /// Opens `path` (any file name) as a random-access file of exactly `file_size` bytes, for
    /// structures rewritten in place such as IndexFiles. A missing or empty file is created and
    /// extended with `set_len` (sparse: no zeros are written). Every byte counts as written, so
    /// reads may go anywhere; the start offset is 0. Write with [`Self::write_at`] and persist
    /// with [`Self::flush_all`].
    pub fn open_random_access(path: &Path, file_size: usize) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let actual = file.metadata()?.len();
        if actual == 0 {
            file.set_len(file_size as u64)?;
        } else if actual != file_size as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "file {} has {actual} bytes, expected {file_size}",
                    path.display()
                ),
            ));
        }
        Self::map(path.to_path_buf(), file, 0, file_size, file_size)
    }

    /// Overwrites `data.len()` bytes at `position` (anywhere inside the file). Readers are
    /// excluded while the bytes change. Returns `None` (writing nothing) when out of bounds.
    pub fn write_at(&self, position: usize, data: &[u8]) -> Option<()> {
        let _writer = self.writer.lock();
        let _guard = self.rewrite_guard.write();
        let end = position.checked_add(data.len())?;
        if end > self.file_size {
            return None;
        }
        // SAFETY: `position..end` lies inside the mapping (`end <= file_size == map.len()`). We
        // hold the writer mutex and the rewrite guard exclusively, so no reader or writer
        // accesses the mapping now, and `data` cannot alias the mapping (no mutable references
        // into it are ever handed out).
        unsafe {
            std::ptr::copy_nonoverlapping(
                data.as_ptr(),
                self.map.as_mut_ptr().add(position),
                data.len(),
            );
        }
        Some(())
    }

    /// Overwrites several regions, in order, under one acquisition of the locks
    /// [`Self::write_at`] takes. Returns `None` (writing nothing) when any region is out of
    /// bounds.
    pub fn write_all_at(&self, writes: &[(usize, &[u8])]) -> Option<()> {
        let _writer = self.writer.lock();
        let _guard = self.rewrite_guard.write();
        for (position, data) in writes {
            if position.checked_add(data.len())? > self.file_size {
                return None;
            }
        }
        for (position, data) in writes {
            // SAFETY: `position..position + data.len()` lies inside the mapping (checked above
            // against `file_size == map.len()`). We hold the writer mutex and the rewrite guard
            // exclusively, so no reader or writer accesses the mapping now, and `data` cannot
            // alias the mapping (no mutable references into it are ever handed out).
            unsafe {
                std::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    self.map.as_mut_ptr().add(*position),
                    data.len(),
                );
            }
        }
        Some(())
    }

    /// Writes every dirty page of the whole mapping to disk (for files written with
    /// [`Self::write_at`], whose positions do not track what changed).
    pub fn flush_all(&self) -> io::Result<()> {
        self.map.flush()
    }
}

#[cfg(test)]
#[path = "mapped_file_tests.rs"]
mod tests;

/// Shared handle to a mapped file.
pub type MappedFileRef = Arc<MappedFile>;
