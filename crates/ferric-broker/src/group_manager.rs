//! Subscription groups: built-in groups, auto-creation, admin update/delete, and
//! `config/subscriptionGroup.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ferric_common::topic::names;
use ferric_protocol::body::{DataVersion, SubscriptionGroupConfig, SubscriptionGroupWrapper};
use parking_lot::Mutex;

use crate::config::BrokerConfig;
use crate::error::BrokerError;
use crate::persist::{bump_data_version, load_json, new_data_version, save_json};

/// Groups every broker has (RocketMQ 4.9.8's `SubscriptionGroupManager.init`).
pub const BUILT_IN_GROUPS: &[&str] = &[
    names::TOOLS_CONSUMER_GROUP,
    names::FILTERSRV_CONSUMER_GROUP,
    names::SELF_TEST_CONSUMER_GROUP,
    "CID_ONS-HTTP-PROXY",
    "CID_ONSAPI_PULL",
    "CID_ONSAPI_PERMISSION",
    "CID_ONSAPI_OWNER",
];

/// The subscription-group table.
#[derive(Debug)]
pub struct SubscriptionGroupManager {
    path: PathBuf,
    auto_create: bool,
    state: Mutex<GroupState>,
    persist_lock: Mutex<()>,
}

#[derive(Debug)]
struct GroupState {
    table: BTreeMap<String, SubscriptionGroupConfig>,
    data_version: DataVersion,
}

/// A group with RocketMQ's defaults.
pub fn default_group(name: &str) -> SubscriptionGroupConfig {
    SubscriptionGroupConfig {
        group_name: name.to_owned(),
        ..SubscriptionGroupConfig::default()
    }
}

impl SubscriptionGroupManager {
    /// Built-in groups, then `config/subscriptionGroup.json` (or its `.bak`).
    pub fn load(config: &BrokerConfig) -> Result<Self, BrokerError> {
        let path = config.config_dir().join("subscriptionGroup.json");
        let mut table: BTreeMap<String, SubscriptionGroupConfig> = BUILT_IN_GROUPS
            .iter()
            .map(|name| ((*name).to_owned(), default_group(name)))
            .collect();
        let mut data_version = new_data_version();
        if let Some(wrapper) = load_json::<SubscriptionGroupWrapper>(&path)? {
            table.extend(wrapper.subscription_group_table);
            data_version = wrapper.data_version;
        }
        Ok(Self {
            path,
            auto_create: config.auto_create_subscription_group,
            state: Mutex::new(GroupState {
                table,
                data_version,
            }),
            persist_lock: Mutex::new(()),
        })
    }

    /// The group's config, auto-creating it when `autoCreateSubscriptionGroup` is on. The flag
    /// tells whether it was created now (the caller persists).
    pub fn find_or_create(&self, group: &str) -> Option<(SubscriptionGroupConfig, bool)> {
        let mut state = self.state.lock();
        if let Some(found) = state.table.get(group) {
            return Some((found.clone(), false));
        }
        if !self.auto_create {
            return None;
        }
        let created = default_group(group);
        state.table.insert(group.to_owned(), created.clone());
        bump_data_version(&mut state.data_version);
        tracing::info!(group, "subscription group auto-created");
        Some((created, true))
    }

    /// The group's config without creating it.
    pub fn get(&self, group: &str) -> Option<SubscriptionGroupConfig> {
        self.state.lock().table.get(group).cloned()
    }

    /// Creates or replaces a group.
    pub fn update(&self, config: SubscriptionGroupConfig) {
        let mut state = self.state.lock();
        tracing::info!(group = %config.group_name, "subscription group updated");
        state.table.insert(config.group_name.clone(), config);
        bump_data_version(&mut state.data_version);
    }

    /// Deletes a group; true if it existed.
    pub fn delete(&self, group: &str) -> bool {
        let mut state = self.state.lock();
        let existed = state.table.remove(group).is_some();
        if existed {
            bump_data_version(&mut state.data_version);
        }
        existed
    }

    /// The whole table in the `subscriptionGroup.json` shape.
    pub fn wrapper(&self) -> SubscriptionGroupWrapper {
        let state = self.state.lock();
        SubscriptionGroupWrapper {
            subscription_group_table: state.table.clone(),
            data_version: state.data_version.clone(),
            forbidden_table: None,
        }
    }

    /// Writes `config/subscriptionGroup.json` (blocking file I/O).
    pub fn persist(&self) -> Result<(), BrokerError> {
        let _guard = self.persist_lock.lock();
        save_json(&self.path, &self.wrapper())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_auto_create_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let config = BrokerConfig {
            store_path_root_dir: dir.path().display().to_string(),
            ..BrokerConfig::default()
        };
        let manager = SubscriptionGroupManager::load(&config).unwrap();
        assert!(manager.get("TOOLS_CONSUMER").is_some());
        let (group, created) = manager.find_or_create("CID_x").unwrap();
        assert!(created);
        assert_eq!(group.retry_queue_nums, 1);
        manager.persist().unwrap();
        let reloaded = SubscriptionGroupManager::load(&config).unwrap();
        assert!(reloaded.get("CID_x").is_some());
        let strict = SubscriptionGroupManager::load(&BrokerConfig {
            auto_create_subscription_group: false,
            ..config
        })
        .unwrap();
        assert!(strict.find_or_create("CID_y").is_none());
    }
}
