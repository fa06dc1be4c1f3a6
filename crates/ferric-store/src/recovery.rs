//! Finding where valid CommitLog data ends after a restart, and re-dispatching the tail.
//!
//! * **Normal recovery** (no `abort` file): scan the newest `normal_recovery_files` files from
//!   their start; the first position that is not a valid record is the end.
//! * **Abnormal recovery** (`abort` present: the last run crashed): scan from the newest file
//!   whose first record was stored no later than the checkpoint's minimum timestamp (or from the
//!   oldest file), so every record written since the last consistent point is re-verified.
//!
//! A record is valid when it parses (magic v1/v2, sane sizes, fields inside TOTALSIZE), its
//! PHYSICALOFFSET equals its position (so stale records left behind an earlier truncation are
//! never resurrected) and, with `checkCRCOnRecover`, its body CRC matches. A blank filler moves
//! the scan to the next file. Everything after the end is cut off: the file holding the end is
//! zeroed from there, later files are deleted.
//!
//! The ConsumeQueues and the index are derived data: after the CommitLog end is known, queue
//! units pointing past it are dropped and every record after what the queues already contain
//! is dispatched again (re-dispatching a unit that is present is a no-op).

use ferric_common::record::{Parsed, RecordView, parse_record_with_limit};

use crate::checkpoint::Checkpoint;
use crate::error::StoreResult;
use crate::mapped_file_queue::MappedFileQueue;

/// How the CommitLog is scanned.
#[derive(Debug, Clone, Copy)]
pub struct RecoveryOptions {
    /// `checkCRCOnRecover`.
    pub check_crc: bool,
    /// Largest acceptable record.
    pub max_record_size: usize,
    /// Newest files scanned by normal recovery.
    pub normal_recovery_files: usize,
}

/// What recovery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryOutcome {
    /// CommitLog offset where the scan started.
    pub scan_start: i64,
    /// CommitLog offset just after the last valid record (the new max offset).
    pub end_offset: i64,
    /// Records verified by the scan.
    pub records_scanned: u64,
    /// Store timestamp of the last valid record scanned (0 if none).
    pub last_store_timestamp: i64,
    /// Files deleted because they lay entirely after the end.
    pub files_removed: usize,
}

/// Recovers the CommitLog files (already loaded, positions "full") and cuts the invalid tail.
pub fn recover_commit_log(
    files: &MappedFileQueue,
    abnormal: bool,
    checkpoint: &Checkpoint,
    index_enabled: bool,
    options: RecoveryOptions,
) -> StoreResult<RecoveryOutcome> {
    let all = files.files();
    if all.is_empty() {
        return Ok(RecoveryOutcome {
            scan_start: 0,
            end_offset: 0,
            records_scanned: 0,
            last_store_timestamp: 0,
            files_removed: 0,
        });
    }
    let start_index = if abnormal {
        let min_timestamp = checkpoint.min_timestamp(index_enabled);
        all.iter()
            .rposition(|file| {
                first_store_timestamp(file, options.max_record_size)
                    .is_some_and(|t| t > 0 && t <= min_timestamp)
            })
            .unwrap_or(0)
    } else {
        all.len()
            .saturating_sub(options.normal_recovery_files.max(1))
    };
    let scan_start = all[start_index].file_from_offset() as i64;
    let mut records_scanned = 0u64;
    let mut last_store_timestamp = 0;
    let end_offset = scan(files, scan_start, options, |view| {
        records_scanned += 1;
        last_store_timestamp = view.store_timestamp;
    });
    files.set_end_offset(end_offset as u64);
    files.truncate_dirty_files(end_offset as u64)?;
    let files_removed = all.len() - files.len();
    tracing::info!(
        abnormal,
        scan_start,
        end_offset,
        records_scanned,
        files_removed,
        "commit log recovered"
    );
    Ok(RecoveryOutcome {
        scan_start,
        end_offset,
        records_scanned,
        last_store_timestamp,
        files_removed,
    })
}

/// Walks valid records from `from` (a record start) and calls `visit` for each; returns the
/// offset just after the last valid one.
pub fn scan(
    files: &MappedFileQueue,
    from: i64,
    options: RecoveryOptions,
    mut visit: impl FnMut(&RecordView<'_>),
) -> i64 {
    let mut offset = from.max(0) as u64;
    for file in files.files() {
        let file_from = file.file_from_offset();
        let file_end = file_from + file.file_size() as u64;
        if file_end <= offset {
            continue;
        }
        if file_from > offset {
            // A hole between files: data cannot continue past it.
            return offset as i64;
        }
        let start = (offset - file_from) as usize;
        let reached = file.read_to_end_with(start, |data| {
            let mut position = 0usize;
            loop {
                let rest = &data[position..];
                if rest.is_empty() {
                    return (position, true);
                }
                match parse_record_with_limit(rest, options.max_record_size) {
                    Ok(Parsed::Message(view)) => {
                        let here = file_from + (start + position) as u64;
                        if view.commit_log_offset != here as i64
                            || (options.check_crc && !view.verify_body_crc())
                        {
                            return (position, false);
                        }
                        visit(&view);
                        position += view.raw.len();
                    }
                    Ok(Parsed::Blank { size }) if size == rest.len() => {
                        return (data.len(), true);
                    }
                    _ => return (position, false),
                }
            }
        });
        let Some((consumed, continues)) = reached else {
            return offset as i64;
        };
        offset = file_from + (start + consumed) as u64;
        if !continues {
            return offset as i64;
        }
    }
    offset as i64
}

/// Store timestamp of the first record of a file, if it starts with one.
fn first_store_timestamp(file: &crate::mapped_file::MappedFile, max: usize) -> Option<i64> {
    file.read_to_end_with(0, |data| match parse_record_with_limit(data, max) {
        Ok(Parsed::Message(view)) => Some(view.store_timestamp),
        _ => None,
    })
    .flatten()
}
