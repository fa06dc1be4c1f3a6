//! JSON config files under `<storePathRootDir>/config/` with RocketMQ's `.bak` convention.
//!
//! Save (4.x order): write `<file>.tmp`, copy the current file to `<file>.bak`, rename the tmp
//! file over the file. Load: `<file>`, or `<file>.bak` when the file is missing, empty or
//! unparsable. Files are fastjson's pretty form (tab indentation).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ferric_protocol::body::DataVersion;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::BrokerError;

/// Reads `path` (or its `.bak`) into `T`; `Ok(None)` when neither exists or is usable.
pub fn load_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, BrokerError> {
    for candidate in [path.to_path_buf(), bak_path(path)] {
        let text = match fs::read(&candidate) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error.into()),
        };
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match ferric_protocol::fastjson::from_slice::<T>(&text) {
            Ok(value) => {
                tracing::info!(path = %candidate.display(), "config file loaded");
                return Ok(Some(value));
            }
            Err(error) => {
                tracing::warn!(path = %candidate.display(), %error, "config file unreadable, trying the backup");
            }
        }
    }
    Ok(None)
}

/// Writes `value` to `path` in fastjson's pretty form, keeping the previous content as `.bak`.
pub fn save_json<T: Serialize>(path: &Path, value: &T) -> Result<(), BrokerError> {
    let text = ferric_protocol::fastjson::to_vec_pretty(value)?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = with_suffix(path, ".tmp");
    {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(&text)?;
        file.sync_all()?;
    }
    if path.exists() {
        fs::copy(path, bak_path(path))?;
    }
    fs::rename(&tmp, path)?;
    Ok(())
}

fn bak_path(path: &Path) -> PathBuf {
    with_suffix(path, ".bak")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A fresh config-table version: counter 0, stamped now.
pub fn new_data_version() -> DataVersion {
    DataVersion {
        state_version: None,
        timestamp: now_ms(),
        counter: 0,
    }
}

/// Marks a config table as changed: next counter, stamped now.
pub fn bump_data_version(version: &mut DataVersion) {
    version.counter += 1;
    version.timestamp = now_ms();
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn save_keeps_backup_and_load_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config").join("x.json");
        let mut first = BTreeMap::new();
        first.insert("a".to_owned(), 1);
        save_json(&path, &first).unwrap();
        let mut second = first.clone();
        second.insert("b".to_owned(), 2);
        save_json(&path, &second).unwrap();
        let loaded: BTreeMap<String, i32> = load_json(&path).unwrap().unwrap();
        assert_eq!(loaded, second);
        fs::write(&path, b"{ broken").unwrap();
        let loaded: BTreeMap<String, i32> = load_json(&path).unwrap().unwrap();
        assert_eq!(loaded, first, "the backup holds the previous content");
        let missing: Option<BTreeMap<String, i32>> =
            load_json(&dir.path().join("none.json")).unwrap();
        assert!(missing.is_none());
    }
}
