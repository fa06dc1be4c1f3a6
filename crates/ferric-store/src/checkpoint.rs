//! The `checkpoint` file, the `abort` crash marker and the `lock` file.
//!
//! `checkpoint` is one 4096-byte page, big-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | physicMsgTimestamp: store time of the last flushed CommitLog record |
//! | 8 | 8 | logicsMsgTimestamp: store time of the last flushed ConsumeQueue unit |
//! | 16 | 8 | indexMsgTimestamp: store time of the last flushed index entry |
//! | 24 | 8 | masterFlushedOffset (5.x; written as 0) |
//! | 32 | 8 | confirmPhyOffset (5.x; written as 0) |
//!
//! The rest is zero. Ferric rewrites the whole page in place and syncs it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{StoreError, StoreResult};

/// Size of the checkpoint file.
pub const CHECKPOINT_FILE_SIZE: usize = 4096;

/// The three timestamps of the checkpoint file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// physicMsgTimestamp.
    pub physic_msg_timestamp: i64,
    /// logicsMsgTimestamp.
    pub logics_msg_timestamp: i64,
    /// indexMsgTimestamp.
    pub index_msg_timestamp: i64,
}

impl Checkpoint {
    /// Decodes the first 24 bytes of a checkpoint page; shorter input reads as zeros.
    pub fn decode(bytes: &[u8]) -> Self {
        let field = |at: usize| {
            bytes
                .get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map_or(0, i64::from_be_bytes)
        };
        Self {
            physic_msg_timestamp: field(0),
            logics_msg_timestamp: field(8),
            index_msg_timestamp: field(16),
        }
    }

    /// Encodes the full 4096-byte page.
    pub fn encode(&self) -> [u8; CHECKPOINT_FILE_SIZE] {
        let mut page = [0u8; CHECKPOINT_FILE_SIZE];
        page[0..8].copy_from_slice(&self.physic_msg_timestamp.to_be_bytes());
        page[8..16].copy_from_slice(&self.logics_msg_timestamp.to_be_bytes());
        page[16..24].copy_from_slice(&self.index_msg_timestamp.to_be_bytes());
        page
    }

    /// The earliest time from which abnormal recovery must re-check the CommitLog: the minimum
    /// of the CommitLog and ConsumeQueue times (and the index time when indexing is on), minus
    /// 3 s of slack as in RocketMQ.
    pub fn min_timestamp(&self, index_enabled: bool) -> i64 {
        let mut min = self.physic_msg_timestamp.min(self.logics_msg_timestamp);
        if index_enabled {
            min = min.min(self.index_msg_timestamp);
        }
        (min - 3000).max(0)
    }

    /// Reads `path`; a missing file reads as all zeros.
    pub fn load(path: &Path) -> StoreResult<Self> {
        match File::open(path) {
            Ok(file) => {
                let mut page = Vec::with_capacity(CHECKPOINT_FILE_SIZE);
                file.take(CHECKPOINT_FILE_SIZE as u64)
                    .read_to_end(&mut page)?;
                Ok(Self::decode(&page))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the page to `path` in place and syncs it.
    pub fn store(&self, path: &Path) -> StoreResult<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&self.encode())?;
        file.set_len(CHECKPOINT_FILE_SIZE as u64)?;
        file.sync_data()?;
        Ok(())
    }
}

/// The `abort` crash marker.
#[derive(Debug, Clone)]
pub struct AbortFile {
    path: PathBuf,
}

impl AbortFile {
    /// The marker at `<root>/abort`.
    pub fn new(root: &Path) -> Self {
        Self {
            path: root.join("abort"),
        }
    }

    /// True if the marker exists (the last run did not shut down cleanly).
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Creates the marker (empty, as 4.x does) and syncs it.
    pub fn create(&self) -> StoreResult<()> {
        let file = File::create(&self.path)?;
        file.sync_all()?;
        Ok(())
    }

    /// Removes the marker (clean shutdown).
    pub fn remove(&self) -> StoreResult<()> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// The `lock` file, held with an exclusive `flock` while the store is open. The lock is released
/// when this value is dropped (the descriptor is closed).
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

impl StoreLock {
    /// Locks `<root>/lock`, failing with [`StoreError::Locked`] if another process holds it.
    pub fn acquire(root: &Path) -> StoreResult<Self> {
        let path = root.join("lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        if !flock_exclusive_nonblocking(&file)? {
            return Err(StoreError::Locked(path.display().to_string()));
        }
        if file.metadata()?.len() == 0 {
            file.write_all(b"lock")?;
        }
        Ok(Self { _file: file })
    }
}

/// Exclusive, non-blocking `flock` through std's file-locking API (no `unsafe` needed).
fn flock_exclusive_nonblocking(file: &File) -> io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(fs::TryLockError::WouldBlock) => Ok(false),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trips_and_reads_fixture() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint");
        assert_eq!(Checkpoint::load(&path).unwrap(), Checkpoint::default());
        let checkpoint = Checkpoint {
            physic_msg_timestamp: 1795308065262,
            logics_msg_timestamp: 1795308065262,
            index_msg_timestamp: 0,
        };
        checkpoint.store(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), 4096);
        assert_eq!(Checkpoint::load(&path).unwrap(), checkpoint);
        assert_eq!(checkpoint.min_timestamp(false), 1795308062262);
        assert_eq!(checkpoint.min_timestamp(true), 0);

        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/java-4.9.8/store-clean/checkpoint");
        if let Ok(bytes) = fs::read(&fixture) {
            assert_eq!(bytes.len(), 4096);
            assert_eq!(Checkpoint::decode(&bytes), checkpoint);
        }
    }

    #[test]
    fn lock_is_exclusive_and_abort_toggles() {
        let dir = tempfile::tempdir().unwrap();
        let lock = StoreLock::acquire(dir.path()).unwrap();
        let second = StoreLock::acquire(dir.path());
        assert!(matches!(second, Err(StoreError::Locked(_))), "{second:?}");
        drop(lock);
        StoreLock::acquire(dir.path()).unwrap();

        let abort = AbortFile::new(dir.path());
        assert!(!abort.exists());
        abort.create().unwrap();
        assert!(abort.exists());
        abort.remove().unwrap();
        assert!(!abort.exists());
    }
}
