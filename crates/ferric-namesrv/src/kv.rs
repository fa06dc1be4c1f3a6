//! [`KvConfigManager`]: the NameServer's namespace → key → value store,
//! persisted to `kvConfigPath` as `{"configTable":{namespace:{key:value}}}`.
//!
//! Every change is written at once: the new content goes to `<path>.tmp`, the
//! previous file is copied to `<path>.bak`, then the temporary file replaces
//! the file (RocketMQ's `string2File`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use ferric_protocol::body::{KvConfigFile, KvTable};
use ferric_protocol::fastjson::{self, FastjsonError, JsonStyle};

/// KV namespace whose entries fill `orderTopicConf` and REGISTER_BROKER
/// response bodies.
pub const NAMESPACE_ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

/// Why KV config could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum KvConfigError {
    /// Reading or writing the file failed.
    #[error("kv config file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a KV config JSON document.
    #[error("kv config file {path} is malformed: {source}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        source: FastjsonError,
    },
}

/// Namespaced key/value configuration. See the module docs.
#[derive(Debug, Clone)]
pub struct KvConfigManager {
    path: PathBuf,
    table: BTreeMap<String, BTreeMap<String, String>>,
}

impl KvConfigManager {
    /// Loads `path`; a missing or empty file is an empty table.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, KvConfigError> {
        let path = path.into();
        let table = match std::fs::read(&path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => BTreeMap::new(),
            Ok(bytes) => {
                let file: KvConfigFile =
                    fastjson::from_slice(&bytes).map_err(|source| KvConfigError::Malformed {
                        path: path.clone(),
                        source,
                    })?;
                file.config_table
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(KvConfigError::Io { path, source }),
        };
        tracing::info!(path = %path.display(), namespaces = table.len(), "kv config loaded");
        Ok(Self { path, table })
    }

    /// The file this manager persists to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets a value and persists.
    pub fn put(&mut self, namespace: &str, key: &str, value: &str) -> Result<(), KvConfigError> {
        let previous = self
            .table
            .entry(namespace.to_string())
            .or_default()
            .insert(key.to_string(), value.to_string());
        tracing::info!(namespace, key, value, previous = ?previous, "kv config put");
        self.persist()
    }

    /// A value.
    pub fn get(&self, namespace: &str, key: &str) -> Option<&str> {
        self.table.get(namespace)?.get(key).map(String::as_str)
    }

    /// Removes a value and persists (when it existed).
    pub fn delete(&mut self, namespace: &str, key: &str) -> Result<(), KvConfigError> {
        let removed = self
            .table
            .get_mut(namespace)
            .and_then(|entries| entries.remove(key));
        if removed.is_some() {
            tracing::info!(namespace, key, "kv config deleted");
            self.persist()?;
        }
        Ok(())
    }

    /// All entries of a namespace; `None` when the namespace is unknown.
    pub fn kv_list(&self, namespace: &str) -> Option<KvTable> {
        self.table.get(namespace).map(|entries| KvTable {
            table: entries.clone(),
        })
    }

    fn persist(&self) -> Result<(), KvConfigError> {
        let file = KvConfigFile {
            config_table: self.table.clone(),
        };
        let content = fastjson::to_vec(&file, JsonStyle::Fastjson).map_err(|source| {
            KvConfigError::Malformed {
                path: self.path.clone(),
                source,
            }
        })?;
        let io = |source| KvConfigError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let tmp = sibling(&self.path, ".tmp");
        {
            let mut out = std::fs::File::create(&tmp).map_err(io)?;
            out.write_all(&content).map_err(io)?;
            out.sync_all().map_err(io)?;
        }
        if self.path.exists() {
            std::fs::copy(&self.path, sibling(&self.path, ".bak")).map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        Ok(())
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_delete_survive_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("namesrv").join("kvConfig.json");
        let mut kv = KvConfigManager::load(&path).unwrap();
        assert_eq!(kv.get("ns", "k"), None);
        kv.put("ns", "k", "v").unwrap();
        kv.put("ns", "k2", "v2").unwrap();
        kv.put(NAMESPACE_ORDER_TOPIC_CONFIG, "T", "broker-a:4")
            .unwrap();
        kv.delete("ns", "k2").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\"configTable\":{"), "{text}");

        let reloaded = KvConfigManager::load(&path).unwrap();
        assert_eq!(reloaded.get("ns", "k"), Some("v"));
        assert_eq!(reloaded.get("ns", "k2"), None);
        assert_eq!(
            reloaded
                .kv_list(NAMESPACE_ORDER_TOPIC_CONFIG)
                .unwrap()
                .table["T"],
            "broker-a:4"
        );
        assert!(reloaded.kv_list("missing").is_none());
    }

    #[test]
    fn malformed_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kvConfig.json");
        std::fs::write(&path, "{not json").unwrap();
        let err = KvConfigManager::load(&path).unwrap_err();
        assert!(err.to_string().contains("kvConfig.json"), "{err}");
    }
}
