//! Committed consumer offsets: `topic@group` → queueId → offset, persisted as
//! `config/consumerOffset.json` (unquoted integer keys, 4.x shape).

use std::collections::BTreeMap;
use std::path::PathBuf;

use ferric_protocol::body::ConsumerOffsetWrapper;
use ferric_protocol::fastjson::IntKeyMap;
use parking_lot::Mutex;

use crate::config::BrokerConfig;
use crate::error::BrokerError;
use crate::persist::{load_json, save_json};

/// Separator between topic and group in the table keys.
pub const TOPIC_GROUP_SEPARATOR: char = '@';

/// The offset table.
#[derive(Debug)]
pub struct ConsumerOffsetManager {
    path: PathBuf,
    table: Mutex<BTreeMap<String, BTreeMap<i32, i64>>>,
    persist_lock: Mutex<()>,
}

fn key(topic: &str, group: &str) -> String {
    format!("{topic}{TOPIC_GROUP_SEPARATOR}{group}")
}

impl ConsumerOffsetManager {
    /// Loads `config/consumerOffset.json` (or its `.bak`).
    pub fn load(config: &BrokerConfig) -> Result<Self, BrokerError> {
        let path = config.config_dir().join("consumerOffset.json");
        let table = load_json::<ConsumerOffsetWrapper>(&path)?
            .map(|wrapper| {
                wrapper
                    .offset_table
                    .into_iter()
                    .map(|(k, v)| (k, v.0))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            path,
            table: Mutex::new(table),
            persist_lock: Mutex::new(()),
        })
    }

    /// Stores `offset` as the committed offset of `group` for the queue.
    pub fn commit(&self, group: &str, topic: &str, queue_id: i32, offset: i64) {
        self.table
            .lock()
            .entry(key(topic, group))
            .or_default()
            .insert(queue_id, offset);
    }

    /// The committed offset, if any.
    pub fn query(&self, group: &str, topic: &str, queue_id: i32) -> Option<i64> {
        self.table
            .lock()
            .get(&key(topic, group))
            .and_then(|queues| queues.get(&queue_id).copied())
    }

    /// All offsets of `group` on `topic`.
    pub fn offsets_of(&self, group: &str, topic: &str) -> BTreeMap<i32, i64> {
        self.table
            .lock()
            .get(&key(topic, group))
            .cloned()
            .unwrap_or_default()
    }

    /// Groups that have offsets on `topic`.
    pub fn groups_of_topic(&self, topic: &str) -> Vec<String> {
        self.table
            .lock()
            .keys()
            .filter_map(|k| k.split_once(TOPIC_GROUP_SEPARATOR))
            .filter(|(t, _)| *t == topic)
            .map(|(_, g)| g.to_owned())
            .collect()
    }

    /// Topics on which `group` has offsets.
    pub fn topics_of_group(&self, group: &str) -> Vec<String> {
        self.table
            .lock()
            .keys()
            .filter_map(|k| k.split_once(TOPIC_GROUP_SEPARATOR))
            .filter(|(_, g)| *g == group)
            .map(|(t, _)| t.to_owned())
            .collect()
    }

    /// Forgets every offset of `group`.
    pub fn remove_group(&self, group: &str) {
        self.table.lock().retain(|k, _| {
            k.split_once(TOPIC_GROUP_SEPARATOR)
                .is_none_or(|(_, g)| g != group)
        });
    }

    /// Forgets every offset on `topic`.
    pub fn remove_topic(&self, topic: &str) {
        self.table.lock().retain(|k, _| {
            k.split_once(TOPIC_GROUP_SEPARATOR)
                .is_none_or(|(t, _)| t != topic)
        });
    }

    /// The table in the `consumerOffset.json` shape.
    pub fn wrapper(&self) -> ConsumerOffsetWrapper {
        ConsumerOffsetWrapper {
            offset_table: self
                .table
                .lock()
                .iter()
                .map(|(k, v)| (k.clone(), IntKeyMap(v.clone())))
                .collect(),
        }
    }

    /// Writes `config/consumerOffset.json` (blocking file I/O).
    pub fn persist(&self) -> Result<(), BrokerError> {
        let _guard = self.persist_lock.lock();
        save_json(&self.path, &self.wrapper())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_query_persist_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let config = BrokerConfig {
            store_path_root_dir: dir.path().display().to_string(),
            ..BrokerConfig::default()
        };
        let offsets = ConsumerOffsetManager::load(&config).unwrap();
        offsets.commit("g", "T", 0, 15);
        offsets.commit("g", "T", 3, 11);
        assert_eq!(offsets.query("g", "T", 0), Some(15));
        assert_eq!(offsets.query("g", "T", 1), None);
        offsets.persist().unwrap();
        let text = std::fs::read_to_string(dir.path().join("config/consumerOffset.json")).unwrap();
        assert!(text.contains("\"T@g\":{0:15,3:11"), "{text}");
        let reloaded = ConsumerOffsetManager::load(&config).unwrap();
        assert_eq!(reloaded.query("g", "T", 3), Some(11));
        assert_eq!(reloaded.groups_of_topic("T"), vec!["g".to_owned()]);
        reloaded.remove_group("g");
        assert_eq!(reloaded.query("g", "T", 3), None);
    }
}
