//! `store-inspect`: prints the contents of RocketMQ/Ferric store files as aligned tables.
//!
//! Files are only ever opened for reading, so it is safe on a live store or on fixtures.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ferric_common::record::{DEFAULT_MAX_RECORD_SIZE, Parsed, parse_record_with_limit};
use ferric_store::consume_queue::{CQ_UNIT_SIZE, CqUnit};
use ferric_store::index_file::{
    HASH_SLOT_SIZE, INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE, IndexEntry, IndexHeader, format_file_name,
};

/// Inspect CommitLog, ConsumeQueue, IndexFile and checkpoint files.
#[derive(Debug, Parser)]
#[command(name = "store-inspect", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One row per CommitLog record (and the end-of-file filler) of a file or a directory.
    Commitlog {
        /// A CommitLog file (named by its 20-digit start offset) or the `commitlog` directory.
        path: PathBuf,
        /// Global offset to start at (must be a record boundary).
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Most records to print.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// The units of a ConsumeQueue file, up to the first unwritten unit.
    Cq {
        /// A ConsumeQueue file (named by its 20-digit start byte offset).
        file: PathBuf,
    },
    /// The header and the entries of an IndexFile.
    Index {
        /// An index file (`yyyyMMddHHmmssSSS`).
        file: PathBuf,
        /// maxHashSlotNum the file was written with (default: inferred from the file size,
        /// assuming maxIndexNum = 4 × maxHashSlotNum as in RocketMQ's defaults).
        #[arg(long)]
        slots: Option<u64>,
    },
    /// The timestamps of a checkpoint file.
    Checkpoint {
        /// The `checkpoint` file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Commitlog { path, from, limit } => commitlog(&path, from, limit),
        Command::Cq { file } => consume_queue(&file),
        Command::Index { file, slots } => index(&file, slots),
        Command::Checkpoint { file } => checkpoint(&file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("store-inspect: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A table printed with every column as wide as its widest cell.
struct Table {
    headers: Vec<&'static str>,
    right_aligned: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[(&'static str, bool)]) -> Table {
        Table {
            headers: columns.iter().map(|(h, _)| *h).collect(),
            right_aligned: columns.iter().map(|(_, r)| *r).collect(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn print(&self) {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let headers: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        self.print_row(&headers, &widths);
        for row in &self.rows {
            self.print_row(row, &widths);
        }
    }

    fn print_row(&self, row: &[String], widths: &[usize]) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .zip(&self.right_aligned)
            .map(|((cell, width), right)| {
                if *right {
                    format!("{cell:>width$}")
                } else {
                    format!("{cell:<width$}")
                }
            })
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
}

fn open(path: &Path) -> Result<File, String> {
    File::open(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn file_len(file: &File, path: &Path) -> Result<u64, String> {
    file.metadata()
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads up to `len` bytes at `offset` (fewer at the end of the file).
fn read_at(file: &File, path: &Path, offset: u64, len: usize) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// Start offset encoded in a 20-digit file name (0 for other names).
fn name_offset(path: &Path) -> u64 {
    path.file_name()
        .and_then(|n| n.to_str())
        .filter(|n| n.len() == 20 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `yyyy-MM-dd HH:mm:ss.SSS` (UTC) of a time in ms.
fn utc(ms: i64) -> String {
    let s = format_file_name(ms);
    if s.len() != 17 {
        return ms.to_string();
    }
    format!(
        "{}-{}-{} {}:{}:{}.{}",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[8..10],
        &s[10..12],
        &s[12..14],
        &s[14..17]
    )
}

fn commitlog(path: &Path, from: u64, limit: Option<usize>) -> Result<(), String> {
    let mut files: Vec<PathBuf> = if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()) {
                found.push(entry.path());
            }
        }
        found
    } else {
        vec![path.to_path_buf()]
    };
    files.sort();
    let mut table = Table::new(&[
        ("offset", true),
        ("size", true),
        ("topic", false),
        ("queue", true),
        ("queue offset", true),
        ("sysflag", true),
        ("store time (UTC)", false),
        ("tags", false),
        ("keys", false),
        ("uniq key", false),
        ("body", true),
    ]);
    let limit = limit.unwrap_or(usize::MAX);
    let mut printed = 0;
    for file_path in &files {
        let base = name_offset(file_path);
        let file = open(file_path)?;
        let len = file_len(&file, file_path)?;
        let mut position = from.saturating_sub(base);
        if from >= base + len {
            continue;
        }
        while position + 8 <= len && printed < limit {
            let head = read_at(&file, file_path, position, 8)?;
            let total = head
                .get(0..4)
                .and_then(|b| b.try_into().ok())
                .map_or(0, i32::from_be_bytes);
            let wanted = usize::try_from(total)
                .unwrap_or(8)
                .clamp(8, DEFAULT_MAX_RECORD_SIZE);
            let buf = read_at(&file, file_path, position, wanted)?;
            let offset = base + position;
            match parse_record_with_limit(&buf, DEFAULT_MAX_RECORD_SIZE) {
                Ok(Parsed::Message(view)) => {
                    table.push(vec![
                        offset.to_string(),
                        view.total_size.to_string(),
                        view.topic.to_owned(),
                        view.queue_id.to_string(),
                        view.queue_offset.to_string(),
                        view.sys_flag.to_string(),
                        utc(view.store_timestamp),
                        view.tags().map(|t| t.into_owned()).unwrap_or_default(),
                        view.keys().join(" "),
                        view.uniq_key().map(|u| u.into_owned()).unwrap_or_default(),
                        view.body.len().to_string(),
                    ]);
                    position += view.total_size.unsigned_abs() as u64;
                    printed += 1;
                }
                Ok(Parsed::Blank { size }) => {
                    let mut row = vec![offset.to_string(), size.to_string()];
                    row.push("(end-of-file filler)".to_owned());
                    table.push(row);
                    printed += 1;
                    break;
                }
                Ok(Parsed::Incomplete { needed }) => {
                    eprintln!(
                        "{}: record at {offset} needs {needed} bytes, file ends first",
                        file_path.display()
                    );
                    break;
                }
                Err(e) if e.is_zero_filled() => break,
                Err(e) => {
                    eprintln!("{}: invalid record at {offset}: {e}", file_path.display());
                    break;
                }
            }
        }
    }
    table.print();
    Ok(())
}

fn consume_queue(path: &Path) -> Result<(), String> {
    let file = open(path)?;
    let len = file_len(&file, path)?;
    let bytes = read_at(&file, path, 0, usize::try_from(len).unwrap_or(usize::MAX))?;
    let first = name_offset(path) / CQ_UNIT_SIZE as u64;
    let mut table = Table::new(&[
        ("cq offset", true),
        ("phy offset", true),
        ("size", true),
        ("tags code", true),
    ]);
    for (i, chunk) in bytes.chunks_exact(CQ_UNIT_SIZE).enumerate() {
        let Some(unit) = CqUnit::decode(chunk) else {
            break;
        };
        if !unit.is_written() {
            break;
        }
        let size = if unit.is_blank() {
            "blank".to_owned()
        } else {
            unit.size.to_string()
        };
        table.push(vec![
            (first + i as u64).to_string(),
            unit.phy_offset.to_string(),
            size,
            unit.tags_code.to_string(),
        ]);
    }
    println!("{}: {} units", path.display(), table.rows.len());
    table.print();
    Ok(())
}

fn index(path: &Path, slots: Option<u64>) -> Result<(), String> {
    let file = open(path)?;
    let len = file_len(&file, path)?;
    let body = len.checked_sub(INDEX_HEADER_SIZE as u64).ok_or_else(|| {
        format!(
            "{}: {len} bytes is shorter than an index header",
            path.display()
        )
    })?;
    let slots = match slots {
        Some(slots) => slots,
        None if body % 84 == 0 => body / 84,
        None => {
            return Err(format!(
                "{}: cannot infer maxHashSlotNum from {len} bytes; pass --slots",
                path.display()
            ));
        }
    };
    let slot_bytes = slots.saturating_mul(HASH_SLOT_SIZE as u64);
    if slot_bytes > body || (body - slot_bytes) % INDEX_ENTRY_SIZE as u64 != 0 {
        return Err(format!(
            "{}: {len} bytes does not fit maxHashSlotNum {slots}",
            path.display()
        ));
    }
    let max_index = (body - slot_bytes) / INDEX_ENTRY_SIZE as u64;
    let raw = read_at(&file, path, 0, INDEX_HEADER_SIZE)?;
    let header = IndexHeader::decode(&raw)
        .ok_or_else(|| format!("{}: short index header", path.display()))?;
    println!("{}", path.display());
    let mut summary = Table::new(&[("field", false), ("value", true), ("", false)]);
    let rows = [
        (
            "beginTimestamp",
            header.begin_timestamp.to_string(),
            utc(header.begin_timestamp),
        ),
        (
            "endTimestamp",
            header.end_timestamp.to_string(),
            utc(header.end_timestamp),
        ),
        (
            "beginPhyOffset",
            header.begin_phy_offset.to_string(),
            String::new(),
        ),
        (
            "endPhyOffset",
            header.end_phy_offset.to_string(),
            String::new(),
        ),
        (
            "hashSlotCount",
            header.hash_slot_count.to_string(),
            String::new(),
        ),
        ("indexCount", header.index_count.to_string(), String::new()),
        ("maxHashSlotNum", slots.to_string(), String::new()),
        ("maxIndexNum", max_index.to_string(), String::new()),
    ];
    for (name, value, note) in rows {
        summary.push(vec![name.to_owned(), value, note]);
    }
    summary.print();
    println!();
    let count = u64::try_from(header.index_count.max(1))
        .unwrap_or(1)
        .min(max_index);
    let entries_at = INDEX_HEADER_SIZE as u64 + slot_bytes;
    let mut table = Table::new(&[
        ("index", true),
        ("slot", true),
        ("key hash", true),
        ("phy offset", true),
        ("time diff s", true),
        ("time (UTC)", false),
        ("prev", true),
    ]);
    for index in 1..count {
        let raw = read_at(
            &file,
            path,
            entries_at + index * INDEX_ENTRY_SIZE as u64,
            INDEX_ENTRY_SIZE,
        )?;
        let Some(entry) = IndexEntry::decode(&raw) else {
            break;
        };
        let time = header
            .begin_timestamp
            .saturating_add(i64::from(entry.time_diff) * 1000);
        table.push(vec![
            index.to_string(),
            (entry.key_hash.unsigned_abs() as u64 % slots.max(1)).to_string(),
            entry.key_hash.to_string(),
            entry.phy_offset.to_string(),
            entry.time_diff.to_string(),
            utc(time),
            entry.prev_index.to_string(),
        ]);
    }
    table.print();
    Ok(())
}

fn checkpoint(path: &Path) -> Result<(), String> {
    let file = open(path)?;
    let raw = read_at(&file, path, 0, 40)?;
    if raw.len() < 24 {
        return Err(format!(
            "{}: {} bytes is shorter than a checkpoint",
            path.display(),
            raw.len()
        ));
    }
    let field = |at: usize| {
        raw.get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(i64::from_be_bytes)
    };
    let mut table = Table::new(&[("field", false), ("value", true), ("", false)]);
    let names = [
        (0, "physicMsgTimestamp"),
        (8, "logicsMsgTimestamp"),
        (16, "indexMsgTimestamp"),
        (24, "masterFlushedOffset"),
        (32, "confirmPhyOffset"),
    ];
    for (at, name) in names {
        if let Some(value) = field(at) {
            let note = if at < 24 && value > 0 {
                utc(value)
            } else {
                String::new()
            };
            table.push(vec![name.to_owned(), value.to_string(), note]);
        }
    }
    println!("{}", path.display());
    table.print();
    Ok(())
}
