//! Loading the Java 4.9.8 capture fixtures shared by the golden tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use bytes::BytesMut;
use ferric_protocol::{DEFAULT_MAX_FRAME_LENGTH, RemotingCommand, decode_frame};
use serde_json::Value;

/// One captured frame: the jsonl record and the decoded command.
pub struct Captured {
    pub file: String,
    pub line: usize,
    pub record: Value,
    pub bytes: Vec<u8>,
    pub command: RemotingCommand,
}

pub fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/java-4.9.8/captures")
}

fn jsonl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            jsonl_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "jsonl") {
            out.push(path);
        }
    }
}

/// Every captured frame, decoded. Panics (test failure) if a frame does not decode.
pub fn all_frames() -> Vec<Captured> {
    let mut files = Vec::new();
    jsonl_files(&captures_dir(), &mut files);
    files.sort();
    assert!(
        files.len() >= 29,
        "expected the capture files, found {}",
        files.len()
    );
    let mut frames = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (index, line) in text.lines().enumerate() {
            let record: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            let hex_text = record["hex"].as_str().unwrap_or_default();
            let bytes = hex::decode(hex_text).unwrap_or_default();
            let mut src = BytesMut::from(&bytes[..]);
            let decoded = decode_frame(&mut src, DEFAULT_MAX_FRAME_LENGTH);
            let command = match decoded {
                Ok(Some(command)) => command,
                other => panic!("{file}:{}: frame did not decode: {other:?}", index + 1),
            };
            assert!(src.is_empty(), "{file}:{}: bytes left over", index + 1);
            frames.push(Captured {
                file: file.clone(),
                line: index + 1,
                record,
                bytes,
                command,
            });
        }
    }
    frames
}
