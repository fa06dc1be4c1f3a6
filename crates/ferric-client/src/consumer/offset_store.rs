//! Consumer offsets: on the broker for clustering (QUERY/UPDATE_CONSUMER_OFFSET), in a local JSON
//! file for broadcasting (`<dir>/<group>/offsets.json`, RocketMQ's `OffsetSerializeWrapper`
//! shape: `{"offsetTable":{{"brokerName":…,"queueId":…,"topic":…}:offset}}`).

use std::collections::HashMap;
use std::path::PathBuf;

use ferric_common::MessageQueue;
use ferric_protocol::fastjson::{self, JsonStyle, MqKeyMap};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::instance::ClientInstance;

/// Where [`OffsetStore::read`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOffsetType {
    /// The in-memory value only.
    Memory,
    /// The broker (or file) only.
    Store,
    /// Memory, then the store.
    MemoryFirstThenStore,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct OffsetSerializeWrapper {
    offset_table: MqKeyMap<i64>,
}

#[derive(Debug)]
enum Backend {
    Remote,
    Local { path: PathBuf },
}

/// Offsets of one consumer group.
#[derive(Debug)]
pub struct OffsetStore {
    instance: ClientInstance,
    group: String,
    backend: Backend,
    table: Mutex<HashMap<MessageQueue, i64>>,
}

impl OffsetStore {
    /// Offsets kept on the brokers.
    pub fn remote(instance: ClientInstance, group: &str) -> Self {
        Self {
            instance,
            group: group.to_owned(),
            backend: Backend::Remote,
            table: Mutex::default(),
        }
    }

    /// Offsets kept in `<dir>/<group>/offsets.json`; existing offsets are loaded.
    pub fn local(instance: ClientInstance, group: &str, dir: PathBuf) -> Result<Self> {
        let path = dir.join(group).join("offsets.json");
        let mut table = HashMap::new();
        for candidate in [path.clone(), path.with_extension("json.bak")] {
            match std::fs::read(&candidate) {
                Ok(bytes) if !bytes.is_empty() => {
                    let wrapper: OffsetSerializeWrapper = fastjson::from_slice(&bytes)?;
                    table = wrapper
                        .offset_table
                        .0
                        .into_iter()
                        .map(|(mq, offset)| (mq.into(), offset))
                        .collect();
                    break;
                }
                Ok(_) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(Self {
            instance,
            group: group.to_owned(),
            backend: Backend::Local { path },
            table: Mutex::new(table),
        })
    }

    /// Sets the offset of `mq`; with `increase_only` a smaller value is ignored.
    pub fn update(&self, mq: &MessageQueue, offset: i64, increase_only: bool) {
        let mut table = self.table.lock();
        let entry = table.entry(mq.clone()).or_insert(offset);
        if !increase_only || offset > *entry {
            *entry = offset;
        }
    }

    /// The offset of `mq`, or -1 when none is known.
    pub async fn read(&self, mq: &MessageQueue, kind: ReadOffsetType) -> Result<i64> {
        if kind != ReadOffsetType::Store {
            if let Some(offset) = self.table.lock().get(mq) {
                return Ok(*offset);
            }
            if kind == ReadOffsetType::Memory {
                return Ok(-1);
            }
        }
        match &self.backend {
            Backend::Local { .. } => Ok(self.table.lock().get(mq).copied().unwrap_or(-1)),
            Backend::Remote => {
                let addr = self
                    .instance
                    .master_addr_or_refresh(&mq.broker_name, &mq.topic)
                    .await?;
                let timeout = self.instance.config().mq_client_api_timeout;
                match self
                    .instance
                    .api()
                    .query_consumer_offset(&addr, &self.group, mq, timeout)
                    .await?
                {
                    Some(offset) => {
                        self.update(mq, offset, false);
                        Ok(offset)
                    }
                    None => Ok(-1),
                }
            }
        }
    }

    /// Persists the offsets of `mqs` (oneway UPDATE_CONSUMER_OFFSET, or the local file).
    pub async fn persist_all(&self, mqs: &[MessageQueue]) -> Result<()> {
        match &self.backend {
            Backend::Local { path } => self.write_file(path.clone()).await,
            Backend::Remote => {
                let entries: Vec<(MessageQueue, i64)> = {
                    let table = self.table.lock();
                    mqs.iter()
                        .filter_map(|mq| table.get(mq).map(|offset| (mq.clone(), *offset)))
                        .collect()
                };
                for (mq, offset) in entries {
                    self.persist_one(&mq, offset, true).await?;
                }
                Ok(())
            }
        }
    }

    /// Persists one queue's offset, waiting for the broker's answer.
    pub async fn persist(&self, mq: &MessageQueue) -> Result<()> {
        let offset = self.table.lock().get(mq).copied();
        match (&self.backend, offset) {
            (Backend::Local { path }, _) => self.write_file(path.clone()).await,
            (Backend::Remote, Some(offset)) => self.persist_one(mq, offset, false).await,
            (Backend::Remote, None) => Ok(()),
        }
    }

    async fn persist_one(&self, mq: &MessageQueue, offset: i64, oneway: bool) -> Result<()> {
        let addr = self
            .instance
            .master_addr_or_refresh(&mq.broker_name, &mq.topic)
            .await?;
        let timeout = self.instance.config().mq_client_api_timeout;
        self.instance
            .api()
            .update_consumer_offset(&addr, &self.group, mq, offset, oneway, timeout)
            .await
    }

    async fn write_file(&self, path: PathBuf) -> Result<()> {
        let wrapper = OffsetSerializeWrapper {
            offset_table: MqKeyMap(
                self.table
                    .lock()
                    .iter()
                    .map(|(mq, offset)| (mq.clone().into(), *offset))
                    .collect(),
            ),
        };
        let bytes = fastjson::to_vec_pretty(&wrapper)?;
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, &bytes)?;
            if path.exists() {
                std::fs::copy(&path, path.with_extension("json.bak"))?;
            }
            std::fs::rename(&tmp, &path)
        })
        .await
        .map_err(|error| std::io::Error::other(error.to_string()))??;
        Ok(())
    }

    /// Forgets `mq`.
    pub fn remove(&self, mq: &MessageQueue) {
        self.table.lock().remove(mq);
    }

    /// A snapshot of every known offset.
    pub fn snapshot(&self) -> HashMap<MessageQueue, i64> {
        self.table.lock().clone()
    }

    /// Whether offsets live in a local file.
    pub fn is_local(&self) -> bool {
        matches!(self.backend, Backend::Local { .. })
    }
}

/// Serialised form helper for tests and tools: the local file's JSON for `offsets`.
pub fn encode_local_offsets(offsets: &HashMap<MessageQueue, i64>) -> Result<Vec<u8>> {
    let wrapper = OffsetSerializeWrapper {
        offset_table: MqKeyMap(
            offsets
                .iter()
                .map(|(mq, offset)| (mq.clone().into(), *offset))
                .collect(),
        ),
    };
    Ok(fastjson::to_vec(&wrapper, JsonStyle::Fastjson)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientConfig;

    #[tokio::test]
    async fn local_offsets_survive_reopen() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let config = ClientConfig::new("127.0.0.1:1");
        let instance = ClientInstance::acquire(&config)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mq = MessageQueue::new("T", "broker-a", 2);
        let store = OffsetStore::local(instance.clone(), "g", dir.path().to_path_buf())
            .unwrap_or_else(|e| panic!("{e}"));
        store.update(&mq, 7, false);
        store.update(&mq, 5, true);
        assert_eq!(store.read(&mq, ReadOffsetType::Memory).await.ok(), Some(7));
        store
            .persist_all(std::slice::from_ref(&mq))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let again = OffsetStore::local(instance.clone(), "g", dir.path().to_path_buf())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.read(&mq, ReadOffsetType::Store).await.ok(), Some(7));
        let text =
            std::fs::read_to_string(dir.path().join("g").join("offsets.json")).unwrap_or_default();
        assert!(text.contains("\"brokerName\":\"broker-a\""), "{text}");
        let unknown = MessageQueue::new("T", "broker-a", 3);
        assert_eq!(
            again
                .read(&unknown, ReadOffsetType::MemoryFirstThenStore)
                .await
                .ok(),
            Some(-1)
        );
        instance.release().await;
    }
}
