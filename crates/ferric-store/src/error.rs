//! The store's error type.

use std::io;

/// Errors returned by the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An operating-system I/O error.
    #[error("store i/o error: {0}")]
    Io(#[from] io::Error),
    /// A flush (msync/fdatasync) failed earlier; the store refuses all further writes.
    #[error("store is poisoned after a failed flush: {0}")]
    Poisoned(String),
    /// Another process holds the store's `lock` file.
    #[error("store directory is locked by another process: {0}")]
    Locked(String),
    /// A file on disk does not have the expected layout.
    #[error("corrupt store file {path}: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A configuration value is unusable.
    #[error("invalid store config {key}: {reason}")]
    Config {
        /// The RocketMQ key name.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The store was shut down.
    #[error("store is shut down")]
    Shutdown,
}

/// Result alias for the store.
pub type StoreResult<T> = Result<T, StoreError>;
