//! IndexFile: the message-key hash index (`index/<yyyyMMddHHmmssSSS>`), in RocketMQ's layout.
//!
//! # Layout (all integers big-endian)
//!
//! ```text
//! 0                      40                         40 + slots*4               size
//! | header (40 bytes)    | hash slots (int32 each)  | entries (20 bytes each)  |
//! ```
//!
//! Header: `beginTimestamp i64 | endTimestamp i64 | beginPhyOffset i64 | endPhyOffset i64 |
//! hashSlotCount i32 | indexCount i32`. `indexCount` starts at 1: entry 0 is never used and
//! index number 0 means "none", so a file holds at most `maxIndexNum - 1` entries.
//!
//! A slot holds the index number of the newest entry whose `keyHash % maxHashSlotNum` is that
//! slot. An entry is `keyHash i32 | phyOffset i64 | timeDiff i32 | prevIndex i32`: `keyHash` is
//! `abs(java_hash(key))` (0 for `i32::MIN`), `timeDiff` is `(storeTimestamp - beginTimestamp) /
//! 1000` in **seconds** clamped to `[0, i32::MAX]` (0 while `beginTimestamp <= 0`), and
//! `prevIndex` chains to the previous entry of the same slot (0 ends the chain).
//!
//! Size = 40 + `maxHashSlotNum`×4 + `maxIndexNum`×20: 420 000 040 bytes with RocketMQ's
//! defaults. A new file is extended with `set_len`, so it is sparse until entries land.
//!
//! Queries return every entry whose full key hash matches: different keys with the same hash
//! are not told apart here (RocketMQ's client filters by the real key).
//!
//! [`IndexService`] manages the directory: naming, rolling, queries across files, recovery
//! truncation and expiry.

mod service;

use std::path::Path;

use parking_lot::Mutex;

use crate::error::{StoreError, StoreResult};
use crate::mapped_file::MappedFile;

pub use service::{
    DEFAULT_MAX_MSGS_NUM_BATCH, IndexConfig, IndexService, QueryOffsetResult, format_file_name,
};

/// Size of the header in bytes.
pub const INDEX_HEADER_SIZE: usize = 40;
/// Size of one hash slot in bytes.
pub const HASH_SLOT_SIZE: usize = 4;
/// Size of one entry in bytes.
pub const INDEX_ENTRY_SIZE: usize = 20;
/// RocketMQ's default `maxHashSlotNum`.
pub const DEFAULT_MAX_HASH_SLOT_NUM: u32 = 5_000_000;
/// RocketMQ's default `maxIndexNum`.
pub const DEFAULT_MAX_INDEX_NUM: u32 = 20_000_000;

/// The 40-byte header of an index file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexHeader {
    /// Store time of the first indexed message (ms).
    pub begin_timestamp: i64,
    /// Store time of the last indexed message (ms).
    pub end_timestamp: i64,
    /// CommitLog offset of the first indexed message.
    pub begin_phy_offset: i64,
    /// CommitLog offset of the last indexed message.
    pub end_phy_offset: i64,
    /// Number of slots that have been used.
    pub hash_slot_count: i32,
    /// Next entry number (starts at 1).
    pub index_count: i32,
}

impl IndexHeader {
    /// Encodes the header.
    pub fn encode(&self) -> [u8; INDEX_HEADER_SIZE] {
        let mut out = [0u8; INDEX_HEADER_SIZE];
        out[0..8].copy_from_slice(&self.begin_timestamp.to_be_bytes());
        out[8..16].copy_from_slice(&self.end_timestamp.to_be_bytes());
        out[16..24].copy_from_slice(&self.begin_phy_offset.to_be_bytes());
        out[24..32].copy_from_slice(&self.end_phy_offset.to_be_bytes());
        out[32..36].copy_from_slice(&self.hash_slot_count.to_be_bytes());
        out[36..40].copy_from_slice(&self.index_count.to_be_bytes());
        out
    }

    /// Decodes the first 40 bytes of `bytes`; `None` when fewer are given.
    pub fn decode(bytes: &[u8]) -> Option<IndexHeader> {
        Some(IndexHeader {
            begin_timestamp: read_i64(bytes, 0)?,
            end_timestamp: read_i64(bytes, 8)?,
            begin_phy_offset: read_i64(bytes, 16)?,
            end_phy_offset: read_i64(bytes, 24)?,
            hash_slot_count: read_i32(bytes, 32)?,
            index_count: read_i32(bytes, 36)?,
        })
    }

    /// Number of entries in use (`index_count - 1`, never negative).
    pub fn entry_count(&self) -> u32 {
        u32::try_from(self.index_count.saturating_sub(1)).unwrap_or(0)
    }
}

/// One 20-byte index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// `abs(java_hash(key))`.
    pub key_hash: i32,
    /// CommitLog offset of the message.
    pub phy_offset: i64,
    /// Seconds between the file's begin timestamp and the message's store time.
    pub time_diff: i32,
    /// Previous entry number in the same slot (0 = none).
    pub prev_index: i32,
}

impl IndexEntry {
    /// Encodes the entry.
    pub fn encode(&self) -> [u8; INDEX_ENTRY_SIZE] {
        let mut out = [0u8; INDEX_ENTRY_SIZE];
        out[0..4].copy_from_slice(&self.key_hash.to_be_bytes());
        out[4..12].copy_from_slice(&self.phy_offset.to_be_bytes());
        out[12..16].copy_from_slice(&self.time_diff.to_be_bytes());
        out[16..20].copy_from_slice(&self.prev_index.to_be_bytes());
        out
    }

    /// Decodes the first 20 bytes of `bytes`; `None` when fewer are given.
    pub fn decode(bytes: &[u8]) -> Option<IndexEntry> {
        Some(IndexEntry {
            key_hash: read_i32(bytes, 0)?,
            phy_offset: read_i64(bytes, 4)?,
            time_diff: read_i32(bytes, 12)?,
            prev_index: read_i32(bytes, 16)?,
        })
    }
}

/// The key hash stored in entries: `abs(java_hash(key))`, with `i32::MIN` mapped to 0.
pub fn index_key_hash(key: &str) -> i32 {
    ferric_common::java_hash(key).checked_abs().unwrap_or(0)
}

/// [`index_key_hash`] of `topic#key`, without building the string.
pub fn topic_key_hash(topic: &str, key: &str) -> i32 {
    let hash = java_hash_continue(
        java_hash_continue(ferric_common::java_hash(topic), "#"),
        key,
    );
    hash.checked_abs().unwrap_or(0)
}

/// Continues Java's `String.hashCode()` of a string ending in `hash` over `more`: the hash of
/// the concatenation.
fn java_hash_continue(hash: i32, more: &str) -> i32 {
    if more.is_ascii() {
        // An ASCII byte is one UTF-16 unit of the same value.
        more.bytes()
            .fold(hash, |h, b| h.wrapping_mul(31).wrapping_add(i32::from(b)))
    } else {
        more.encode_utf16().fold(hash, |h, unit| {
            h.wrapping_mul(31).wrapping_add(i32::from(unit))
        })
    }
}

/// Seconds from `begin_timestamp` to `store_timestamp` as RocketMQ stores them.
pub fn time_diff_seconds(begin_timestamp: i64, store_timestamp: i64) -> i32 {
    if begin_timestamp <= 0 {
        return 0;
    }
    let seconds = store_timestamp.saturating_sub(begin_timestamp) / 1000;
    i32::try_from(seconds.clamp(0, i64::from(i32::MAX))).unwrap_or(0)
}

/// The size in bytes of an index file with these limits.
pub fn index_file_size(max_hash_slot_num: u32, max_index_num: u32) -> usize {
    INDEX_HEADER_SIZE
        + max_hash_slot_num as usize * HASH_SLOT_SIZE
        + max_index_num as usize * INDEX_ENTRY_SIZE
}

/// One index file.
#[derive(Debug)]
pub struct IndexFile {
    file: MappedFile,
    max_hash_slot_num: u32,
    max_index_num: u32,
    /// In-memory copy of the header; the lock also serialises writers.
    header: Mutex<IndexHeader>,
}

impl IndexFile {
    /// Opens (or creates, sparse) the index file at `path`. A new or empty file starts at
    /// `index_count` 1 and inherits `previous_end` = (endPhyOffset, endTimestamp) of the previous
    /// file as its begin and end values, as RocketMQ does when rolling.
    pub fn open(
        path: &Path,
        max_hash_slot_num: u32,
        max_index_num: u32,
        previous_end: Option<(i64, i64)>,
    ) -> StoreResult<IndexFile> {
        if max_hash_slot_num == 0 || max_index_num < 2 || max_index_num > i32::MAX as u32 {
            return Err(StoreError::Config {
                key: "maxHashSlotNum/maxIndexNum",
                reason: format!("unusable limits {max_hash_slot_num}/{max_index_num}"),
            });
        }
        let size = index_file_size(max_hash_slot_num, max_index_num);
        let file = MappedFile::open_random_access(path, size).map_err(|e| StoreError::Corrupt {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut header = file
            .read_with(0, INDEX_HEADER_SIZE, IndexHeader::decode)
            .flatten()
            .unwrap_or_default();
        if header.index_count > max_index_num as i32 || header.index_count < 0 {
            return Err(StoreError::Corrupt {
                path: path.display().to_string(),
                reason: format!(
                    "indexCount {} exceeds maxIndexNum {max_index_num}",
                    header.index_count
                ),
            });
        }
        let fresh = header.index_count == 0;
        if fresh {
            header.index_count = 1;
            if let Some((end_phy, end_ts)) = previous_end {
                if end_phy > 0 {
                    header.begin_phy_offset = end_phy;
                    header.end_phy_offset = end_phy;
                }
                if end_ts > 0 {
                    header.begin_timestamp = end_ts;
                    header.end_timestamp = end_ts;
                }
            }
        }
        let index = IndexFile {
            file,
            max_hash_slot_num,
            max_index_num,
            header: Mutex::new(header),
        };
        if fresh {
            index.write(0, &header.encode())?;
        }
        Ok(index)
    }

    /// Path of the file.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// File name (`yyyyMMddHHmmssSSS`).
    pub fn name(&self) -> String {
        self.path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// A copy of the header.
    pub fn header(&self) -> IndexHeader {
        *self.header.lock()
    }

    /// The configured slot count.
    pub fn max_hash_slot_num(&self) -> u32 {
        self.max_hash_slot_num
    }

    /// The configured entry limit.
    pub fn max_index_num(&self) -> u32 {
        self.max_index_num
    }

    /// True when no further entry fits.
    pub fn is_full(&self) -> bool {
        self.header.lock().index_count >= self.max_index_num as i32
    }

    /// Adds `key` for the message at `phy_offset` stored at `store_timestamp`. Returns
    /// `Ok(false)` (writing nothing) when the file is full.
    pub fn put_key(&self, key: &str, phy_offset: i64, store_timestamp: i64) -> StoreResult<bool> {
        self.put_key_hash(index_key_hash(key), phy_offset, store_timestamp)
    }

    /// [`Self::put_key`] for a key whose [`index_key_hash`] is `key_hash`.
    pub fn put_key_hash(
        &self,
        key_hash: i32,
        phy_offset: i64,
        store_timestamp: i64,
    ) -> StoreResult<bool> {
        let mut header = self.header.lock();
        if header.index_count >= self.max_index_num as i32 {
            return Ok(false);
        }
        let slot_pos = self.slot_position(key_hash);
        let mut prev_index = self.read_i32_at(slot_pos).unwrap_or(0);
        if prev_index <= 0 || prev_index > header.index_count {
            prev_index = 0;
        }
        let entry = IndexEntry {
            key_hash,
            phy_offset,
            time_diff: time_diff_seconds(header.begin_timestamp, store_timestamp),
            prev_index,
        };
        let index = header.index_count;
        let mut next = *header;
        if next.index_count <= 1 {
            next.begin_phy_offset = phy_offset;
            next.begin_timestamp = store_timestamp;
        }
        if prev_index == 0 {
            next.hash_slot_count = next.hash_slot_count.saturating_add(1);
        }
        next.index_count += 1;
        next.end_phy_offset = phy_offset;
        next.end_timestamp = store_timestamp;
        // Entry, then slot, then header, as one write under one lock of the file.
        let entry_position = self.entry_position(index);
        self.file
            .write_all_at(&[
                (entry_position, &entry.encode()[..]),
                (slot_pos, &index.to_be_bytes()[..]),
                (0, &next.encode()[..]),
            ])
            .ok_or_else(|| StoreError::Corrupt {
                path: self.path().display().to_string(),
                reason: format!("index entry write at {entry_position} is out of bounds"),
            })?;
        *header = next;
        Ok(true)
    }

    /// True when `[begin, end]` overlaps the file's `[beginTimestamp, endTimestamp]`.
    pub fn is_time_matched(&self, begin: i64, end: i64) -> bool {
        let header = self.header();
        begin <= header.end_timestamp && end >= header.begin_timestamp
    }

    /// Appends to `out` (up to `max` offsets in total) the CommitLog offsets of entries whose key
    /// hash equals `key`'s and whose time (`beginTimestamp + timeDiff*1000`) is in
    /// `[begin, end]`, newest first.
    pub fn select_phy_offsets(
        &self,
        key: &str,
        max: usize,
        begin: i64,
        end: i64,
        out: &mut Vec<i64>,
    ) {
        let header = self.header();
        if header.index_count <= 1 {
            return;
        }
        let key_hash = index_key_hash(key);
        let mut next = self.read_i32_at(self.slot_position(key_hash)).unwrap_or(0);
        while next > 0 && next < header.index_count && out.len() < max {
            let Some(entry) = self.entry(next) else { break };
            if entry.time_diff < 0 {
                break;
            }
            let time = header
                .begin_timestamp
                .saturating_add(i64::from(entry.time_diff) * 1000);
            if entry.key_hash == key_hash && time >= begin && time <= end {
                out.push(entry.phy_offset);
            }
            // Chains only point backwards; anything else is corruption and ends the walk.
            if entry.prev_index <= 0 || entry.prev_index >= next || time < begin {
                break;
            }
            next = entry.prev_index;
        }
    }

    /// The value of hash slot `slot` (0 when out of range).
    pub fn slot(&self, slot: u32) -> i32 {
        if slot >= self.max_hash_slot_num {
            return 0;
        }
        self.read_i32_at(INDEX_HEADER_SIZE + slot as usize * HASH_SLOT_SIZE)
            .unwrap_or(0)
    }

    /// Entry number `index` (1-based), if inside the file.
    pub fn entry(&self, index: i32) -> Option<IndexEntry> {
        if index <= 0 || index >= self.max_index_num as i32 {
            return None;
        }
        self.file
            .read_with(
                self.entry_position(index),
                INDEX_ENTRY_SIZE,
                IndexEntry::decode,
            )
            .flatten()
    }

    /// All entries in use, with their numbers, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = (i32, IndexEntry)> + '_ {
        let count = self.header().index_count.max(1);
        (1..count).filter_map(|i| self.entry(i).map(|e| (i, e)))
    }

    /// Writes the header and every changed page to disk.
    pub fn flush(&self) -> StoreResult<()> {
        let header = self.header();
        self.write(0, &header.encode())?;
        self.file.flush_all()?;
        Ok(())
    }

    /// Deletes the file from disk.
    pub fn destroy(&self) -> StoreResult<()> {
        self.file.destroy()?;
        Ok(())
    }

    fn slot_position(&self, key_hash: i32) -> usize {
        // key_hash is never negative, so the remainder fits the slot range.
        let slot = key_hash.unsigned_abs() % self.max_hash_slot_num;
        INDEX_HEADER_SIZE + slot as usize * HASH_SLOT_SIZE
    }

    fn entry_position(&self, index: i32) -> usize {
        INDEX_HEADER_SIZE
            + self.max_hash_slot_num as usize * HASH_SLOT_SIZE
            + index.unsigned_abs() as usize * INDEX_ENTRY_SIZE
    }

    fn read_i32_at(&self, position: usize) -> Option<i32> {
        self.file
            .read_with(position, 4, |b| read_i32(b, 0))
            .flatten()
    }

    fn write(&self, position: usize, bytes: &[u8]) -> StoreResult<()> {
        self.file
            .write_at(position, bytes)
            .ok_or_else(|| StoreError::Corrupt {
                path: self.path().display().to_string(),
                reason: format!(
                    "write of {} bytes at {position} is out of bounds",
                    bytes.len()
                ),
            })
    }
}

fn read_i64(bytes: &[u8], at: usize) -> Option<i64> {
    let raw: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(i64::from_be_bytes(raw))
}

fn read_i32(bytes: &[u8], at: usize) -> Option<i32> {
    let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(i32::from_be_bytes(raw))
}

#[cfg(test)]
#[path = "index_file/tests.rs"]
mod tests;
