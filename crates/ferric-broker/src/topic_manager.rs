//! Topic configurations: system topics, auto-creation from a template topic (TBW102), admin
//! create/update/delete, and `config/topics.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ferric_common::topic::{self, names};
use ferric_common::{TopicConfig, perm};
use ferric_protocol::body::{DataVersion, TopicConfigBody, TopicConfigSerializeWrapper};
use parking_lot::Mutex;

use crate::config::BrokerConfig;
use crate::error::BrokerError;
use crate::persist::{bump_data_version, load_json, new_data_version, save_json};

/// The topic table and its data version.
#[derive(Debug)]
pub struct TopicConfigManager {
    path: PathBuf,
    state: Mutex<TopicState>,
    persist_lock: Mutex<()>,
}

#[derive(Debug)]
struct TopicState {
    table: BTreeMap<String, TopicConfig>,
    data_version: DataVersion,
}

/// Why a topic name is refused, or `None` when it is valid (RocketMQ's `TopicValidator`).
pub fn topic_name_problem(topic: &str) -> Option<String> {
    if topic.trim().is_empty() {
        return Some("The specified topic is blank.".to_owned());
    }
    if !topic::has_only_valid_name_chars(topic) {
        return Some(format!(
            "The specified topic[{topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
        ));
    }
    let limit = if topic::is_retry_topic(topic) || topic::is_dlq_topic(topic) {
        names::RETRY_OR_DLQ_TOPIC_MAX_LENGTH
    } else {
        names::TOPIC_MAX_LENGTH
    };
    if topic.len() > limit {
        return Some(format!(
            "The specified topic[{topic}] is longer than topic max length {limit}."
        ));
    }
    None
}

/// The topics every broker has (RocketMQ's `TopicConfigManager` constructor).
pub fn system_topics(config: &BrokerConfig) -> Vec<TopicConfig> {
    let rw = perm::PERM_READ | perm::PERM_WRITE;
    let mut topics = vec![TopicConfig::with_queues(names::SELF_TEST_TOPIC, 1, 1, rw)];
    if config.auto_create_topic_enable {
        let queues = config.default_topic_queue_nums;
        topics.push(TopicConfig::with_queues(
            names::AUTO_CREATE_TOPIC_KEY_TOPIC,
            queues,
            queues,
            rw | perm::PERM_INHERIT,
        ));
    }
    topics.push(TopicConfig::with_queues(
        names::BENCHMARK_TOPIC,
        1024,
        1024,
        rw,
    ));
    let mut cluster_perm = perm::PERM_INHERIT;
    if config.cluster_topic_enable {
        cluster_perm |= rw;
    }
    topics.push(TopicConfig::with_queues(
        config.broker_cluster_name.clone(),
        16,
        16,
        cluster_perm,
    ));
    let mut broker_perm = perm::PERM_INHERIT;
    if config.broker_topic_enable {
        broker_perm |= rw;
    }
    topics.push(TopicConfig::with_queues(
        config.broker_name.clone(),
        1,
        1,
        broker_perm,
    ));
    topics.push(TopicConfig::with_queues(
        names::OFFSET_MOVED_EVENT,
        1,
        1,
        rw,
    ));
    topics.push(TopicConfig::with_queues(names::SCHEDULE_TOPIC, 18, 18, rw));
    if config.trace_topic_enable {
        topics.push(TopicConfig::with_queues(
            config.msg_trace_topic_name.clone(),
            1,
            1,
            rw,
        ));
    }
    topics.push(TopicConfig::with_queues(
        topic::reply_topic(&config.broker_cluster_name),
        1,
        1,
        rw,
    ));
    topics.push(TopicConfig::with_queues(names::TRANS_HALF_TOPIC, 1, 1, rw));
    topics
}

impl TopicConfigManager {
    /// System topics for `config`, then whatever `config/topics.json` (or its `.bak`) holds.
    pub fn load(config: &BrokerConfig) -> Result<Self, BrokerError> {
        let path = config.config_dir().join("topics.json");
        let mut table = BTreeMap::new();
        for topic in system_topics(config) {
            table.insert(topic.topic_name.clone(), topic);
        }
        let mut data_version = new_data_version();
        if let Some(wrapper) = load_json::<TopicConfigSerializeWrapper>(&path)? {
            for (name, body) in &wrapper.topic_config_table {
                let mut topic = TopicConfig::from(body);
                topic.topic_name.clone_from(name);
                table.insert(name.clone(), topic);
            }
            data_version = wrapper.data_version;
        }
        Ok(Self {
            path,
            state: Mutex::new(TopicState {
                table,
                data_version,
            }),
            persist_lock: Mutex::new(()),
        })
    }

    /// The configuration of `topic`.
    pub fn get(&self, topic: &str) -> Option<TopicConfig> {
        self.state.lock().table.get(topic).cloned()
    }

    /// `read` applied to a topic's config under the lock, without cloning the config.
    pub fn get_with<T>(&self, topic: &str, read: impl FnOnce(&TopicConfig) -> T) -> Option<T> {
        self.state.lock().table.get(topic).map(read)
    }

    /// Every topic.
    pub fn all(&self) -> Vec<TopicConfig> {
        self.state.lock().table.values().cloned().collect()
    }

    /// The current data version.
    pub fn data_version(&self) -> DataVersion {
        self.state.lock().data_version.clone()
    }

    /// Creates `topic` from the template `default_topic` while sending (RocketMQ's
    /// `createTopicInSendMessageMethod`): the template must exist and carry PERM_INHERIT;
    /// queues = min(requested, template write queues); perm = template perm without INHERIT.
    /// Returns the topic and whether it was created now.
    pub fn create_in_send(
        &self,
        topic: &str,
        default_topic: &str,
        requested_queue_nums: i32,
        topic_sys_flag: i32,
        auto_create_topic_enable: bool,
    ) -> Option<(TopicConfig, bool)> {
        let mut state = self.state.lock();
        if let Some(existing) = state.table.get(topic) {
            return Some((existing.clone(), false));
        }
        let template = state.table.get(default_topic)?;
        let mut template_perm = template.perm;
        if default_topic == names::AUTO_CREATE_TOPIC_KEY_TOPIC && !auto_create_topic_enable {
            template_perm = perm::PERM_READ | perm::PERM_WRITE;
        }
        if !perm::is_inherited(template_perm) {
            tracing::warn!(
                topic,
                default_topic,
                "template topic does not allow auto-creation"
            );
            return None;
        }
        let queues = requested_queue_nums.min(template.write_queue_nums).max(0);
        let mut created =
            TopicConfig::with_queues(topic, queues, queues, template_perm & !perm::PERM_INHERIT);
        created.topic_sys_flag = topic_sys_flag;
        created.topic_filter_type = template.topic_filter_type;
        state.table.insert(topic.to_owned(), created.clone());
        bump_data_version(&mut state.data_version);
        tracing::info!(topic, default_topic, queues, "topic auto-created");
        Some((created, true))
    }

    /// Creates a topic with fixed queue numbers and perm if absent (retry / DLQ topics).
    pub fn create_if_absent(
        &self,
        topic: &str,
        queue_nums: i32,
        topic_perm: i32,
    ) -> (TopicConfig, bool) {
        let mut state = self.state.lock();
        if let Some(existing) = state.table.get(topic) {
            return (existing.clone(), false);
        }
        let created = TopicConfig::with_queues(topic, queue_nums, queue_nums, topic_perm);
        state.table.insert(topic.to_owned(), created.clone());
        bump_data_version(&mut state.data_version);
        tracing::info!(topic, queue_nums, "topic created");
        (created, true)
    }

    /// Creates or replaces a topic (admin UPDATE_AND_CREATE_TOPIC).
    pub fn update(&self, config: TopicConfig) {
        let mut state = self.state.lock();
        tracing::info!(topic = %config.topic_name, read = config.read_queue_nums, write = config.write_queue_nums, perm = config.perm, "topic updated");
        state.table.insert(config.topic_name.clone(), config);
        bump_data_version(&mut state.data_version);
    }

    /// Deletes a topic; true if it existed.
    pub fn delete(&self, topic: &str) -> bool {
        let mut state = self.state.lock();
        let existed = state.table.remove(topic).is_some();
        if existed {
            bump_data_version(&mut state.data_version);
            tracing::info!(topic, "topic deleted");
        }
        existed
    }

    /// All topics in the wrapper shape used by REGISTER_BROKER, GET_ALL_TOPIC_CONFIG and
    /// `topics.json`.
    pub fn wrapper(&self) -> TopicConfigSerializeWrapper {
        let state = self.state.lock();
        TopicConfigSerializeWrapper {
            topic_config_table: state
                .table
                .iter()
                .map(|(name, topic)| (name.clone(), TopicConfigBody::from(topic)))
                .collect(),
            data_version: state.data_version.clone(),
            ..TopicConfigSerializeWrapper::default()
        }
    }

    /// Writes `config/topics.json` (blocking file I/O).
    pub fn persist(&self) -> Result<(), BrokerError> {
        let _guard = self.persist_lock.lock();
        save_json(&self.path, &self.wrapper())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_in(dir: &std::path::Path) -> BrokerConfig {
        BrokerConfig {
            store_path_root_dir: dir.display().to_string(),
            broker_name: "broker-a".to_owned(),
            ..BrokerConfig::default()
        }
    }

    #[test]
    fn system_topics_and_auto_create() {
        let dir = tempfile::tempdir().unwrap();
        let manager = TopicConfigManager::load(&config_in(dir.path())).unwrap();
        let tbw = manager.get("TBW102").unwrap();
        assert_eq!((tbw.perm, tbw.write_queue_nums), (7, 8));
        assert_eq!(
            manager.get("SCHEDULE_TOPIC_XXXX").unwrap().read_queue_nums,
            18
        );
        assert_eq!(manager.get("broker-a").unwrap().perm, 7);
        assert!(manager.get("DefaultCluster_REPLY_TOPIC").is_some());
        let (created, fresh) = manager.create_in_send("T1", "TBW102", 4, 0, true).unwrap();
        assert!(fresh);
        assert_eq!((created.read_queue_nums, created.perm), (4, 6));
        let (capped, _) = manager.create_in_send("T2", "TBW102", 64, 0, true).unwrap();
        assert_eq!(capped.write_queue_nums, 8, "capped by the template");
        assert!(manager.create_in_send("T3", "T1", 4, 0, true).is_none());
        assert!(
            manager
                .create_in_send("T3", "TBW102", 4, 0, false)
                .is_none()
        );
    }

    #[test]
    fn persist_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(dir.path());
        let manager = TopicConfigManager::load(&config).unwrap();
        manager.update(TopicConfig::with_queues("Admin", 2, 3, 6));
        manager.delete("SELF_TEST_TOPIC");
        manager.persist().unwrap();
        let version = manager.data_version();
        let reloaded = TopicConfigManager::load(&config).unwrap();
        assert_eq!(reloaded.get("Admin").unwrap().write_queue_nums, 3);
        assert_eq!(reloaded.data_version(), version);
        let text = std::fs::read_to_string(dir.path().join("config/topics.json")).unwrap();
        assert!(text.starts_with("{\n\t\"dataVersion\":{"), "{text}");
    }

    #[test]
    fn topic_names_are_validated() {
        assert!(topic_name_problem("Good_Topic-1").is_none());
        assert!(topic_name_problem("bad topic").is_some());
        assert!(topic_name_problem(&"a".repeat(128)).is_some());
        assert!(topic_name_problem(&format!("%RETRY%{}", "a".repeat(200))).is_none());
    }
}
