//! A directory of consecutive, equally sized [`MappedFile`]s forming one logical byte stream
//! (the CommitLog, or one ConsumeQueue). File `n` starts at global offset
//! `first.file_from_offset + n * file_size`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::mapped_file::{MappedFile, MappedFileRef, file_name_to_offset};

/// Consecutive mapped files in one directory.
#[derive(Debug)]
pub struct MappedFileQueue {
    dir: PathBuf,
    file_size: usize,
    files: RwLock<Vec<MappedFileRef>>,
}

impl MappedFileQueue {
    /// A queue over `dir` (created if missing) with files of `file_size` bytes. Call
    /// [`Self::load`] to map the files already there.
    pub fn new(dir: impl Into<PathBuf>, file_size: usize) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            file_size,
            files: RwLock::new(Vec::new()),
        })
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The fixed size of each file.
    pub fn file_size(&self) -> usize {
        self.file_size
    }

    /// Maps every file named by a 20-digit offset, in offset order. Other names are ignored.
    /// A file of the wrong size is an `InvalidData` error, as are non-consecutive offsets.
    /// Loaded files count as full until recovery sets their positions.
    pub fn load(&self) -> io::Result<()> {
        let mut found: Vec<(u64, PathBuf)> = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            let name = entry.file_name();
            let Some(offset) = name.to_str().and_then(file_name_to_offset) else {
                continue;
            };
            found.push((offset, entry.path()));
        }
        found.sort_by_key(|(offset, _)| *offset);
        let mut loaded = Vec::with_capacity(found.len());
        for (index, (offset, path)) in found.iter().enumerate() {
            if offset % self.file_size as u64 != 0 {
                return Err(invalid(format!(
                    "{} does not start at a multiple of the file size {}",
                    path.display(),
                    self.file_size
                )));
            }
            if index > 0 && *offset != found[index - 1].0 + self.file_size as u64 {
                return Err(invalid(format!("gap before {}", path.display())));
            }
            loaded.push(Arc::new(MappedFile::open(path, self.file_size)?));
        }
        *self.files.write() = loaded;
        Ok(())
    }

    /// A snapshot of all files, oldest first.
    pub fn files(&self) -> Vec<MappedFileRef> {
        self.files.read().clone()
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.read().len()
    }

    /// True when there is no file.
    pub fn is_empty(&self) -> bool {
        self.files.read().is_empty()
    }

    /// The oldest file.
    pub fn first(&self) -> Option<MappedFileRef> {
        self.files.read().first().cloned()
    }

    /// The newest file.
    pub fn last(&self) -> Option<MappedFileRef> {
        self.files.read().last().cloned()
    }

    /// The newest file if it still has room; otherwise a new file is created right after it
    /// (or, for an empty queue, at `start_offset` rounded down to a file boundary).
    pub fn last_or_create(&self, start_offset: u64) -> io::Result<MappedFileRef> {
        if let Some(last) = self.last()
            && !last.is_full()
        {
            return Ok(last);
        }
        self.create_next(start_offset)
    }

    /// Creates the file following the newest one (or the first one at `start_offset` rounded
    /// down to a file boundary when the queue is empty) and returns it.
    pub fn create_next(&self, start_offset: u64) -> io::Result<MappedFileRef> {
        let mut files = self.files.write();
        let size = self.file_size as u64;
        let from = match files.last() {
            Some(last) => last.file_from_offset() + size,
            None => start_offset - start_offset % size,
        };
        let file = Arc::new(MappedFile::create(&self.dir, from, self.file_size)?);
        files.push(file.clone());
        Ok(file)
    }

    /// The file containing global `offset`, if any.
    pub fn find_by_offset(&self, offset: u64) -> Option<MappedFileRef> {
        let files = self.files.read();
        let first = files.first()?;
        let index = offset.checked_sub(first.file_from_offset())? / self.file_size as u64;
        let file = files.get(usize::try_from(index).ok()?)?;
        let from = file.file_from_offset();
        (offset >= from && offset < from + self.file_size as u64).then(|| file.clone())
    }

    /// Start offset of the oldest file, `None` when empty.
    pub fn min_offset(&self) -> Option<u64> {
        self.first().map(|f| f.file_from_offset())
    }

    /// Global offset just after the last written byte (0 when empty).
    pub fn max_offset(&self) -> u64 {
        self.last()
            .map_or(0, |f| f.file_from_offset() + f.wrote_position() as u64)
    }

    /// Global offset up to which data is known to be on disk (0 when empty).
    pub fn flushed_offset(&self) -> u64 {
        let files = self.files.read();
        for file in files.iter() {
            if file.flushed_position() < file.file_size() {
                return file.file_from_offset() + file.flushed_position() as u64;
            }
        }
        files
            .last()
            .map_or(0, |f| f.file_from_offset() + f.file_size() as u64)
    }

    /// Flushes every file with unflushed bytes (oldest first) and returns the flushed offset.
    pub fn flush(&self) -> io::Result<u64> {
        for file in self.files() {
            if file.flushed_position() < file.wrote_position() {
                file.flush()?;
            }
        }
        Ok(self.flushed_offset())
    }

    /// Total whole pages written but not yet flushed.
    pub fn dirty_pages(&self) -> usize {
        self.files.read().iter().map(|f| f.dirty_pages()).sum()
    }

    /// Cuts the stream at global `offset`: the file holding it is truncated there (see
    /// [`MappedFile::truncate_to`]), files entirely after it are deleted. Used by recovery.
    pub fn truncate_dirty_files(&self, offset: u64) -> io::Result<()> {
        let mut files = self.files.write();
        let size = self.file_size as u64;
        let mut keep = Vec::with_capacity(files.len());
        for file in files.drain(..) {
            let from = file.file_from_offset();
            if from + size <= offset {
                keep.push(file);
            } else if from <= offset {
                file.truncate_to((offset - from) as usize)?;
                keep.push(file);
            } else {
                file.destroy()?;
            }
        }
        *files = keep;
        Ok(())
    }

    /// Sets positions of all files for a stream that ends at `offset`: earlier files are full,
    /// the one holding `offset` ends there. Bytes are not touched.
    pub fn set_end_offset(&self, offset: u64) {
        for file in self.files() {
            let from = file.file_from_offset();
            let position = offset.saturating_sub(from).min(file.file_size() as u64);
            file.set_positions(position as usize);
        }
    }

    /// Deletes files from the oldest while `expired(file)` is true, never the newest one, at most
    /// `max_files` of them. Returns how many were deleted.
    pub fn delete_files_while(
        &self,
        max_files: usize,
        mut expired: impl FnMut(&MappedFile) -> bool,
    ) -> io::Result<usize> {
        let mut files = self.files.write();
        let mut deleted = 0;
        while deleted < max_files && files.len() > 1 && expired(&files[0]) {
            files[0].destroy()?;
            files.remove(0);
            deleted += 1;
        }
        Ok(deleted)
    }

    /// Deletes all files and the queue's contents (the directory stays).
    pub fn destroy_all(&self) -> io::Result<()> {
        let mut files = self.files.write();
        for file in files.drain(..) {
            file.destroy()?;
        }
        Ok(())
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
