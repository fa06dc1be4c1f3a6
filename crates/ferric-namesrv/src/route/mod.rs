//! [`RouteInfoManager`]: the NameServer's route table as pure state.
//!
//! No I/O, no clock, no locks: callers pass the current time in ms and a
//! channel id where needed, and wrap the manager in a lock. Semantics follow
//! RocketMQ's `RouteInfoManager`:
//!
//! * topic queue data comes only from the master (broker id 0), and is taken on
//!   the broker's first registration or when its DataVersion changed; it is
//!   added or updated per topic, never removed by a registration;
//! * the same `ip:port` re-registering under another id loses its old id;
//! * a slave's registration result carries the live master's HA address and
//!   address;
//! * removing a broker address (unregister, eviction, channel close) removes
//!   its live entry and filter servers; when a broker name has no address
//!   left, its BrokerData, its cluster membership and its queue data go too.

mod query;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ferric_protocol::body::{
    BrokerData, DataVersion, QueueData, TopicConfigBody, TopicConfigSerializeWrapper,
};
use ferric_protocol::fastjson::IntKeyMap;

/// The master's broker id.
pub const MASTER_ID: i64 = 0;

/// Liveness of one registered broker address.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerLiveInfo {
    /// When the broker last registered (or refreshed), in ms.
    pub last_update_ms: u64,
    /// The DataVersion it registered with.
    pub data_version: DataVersion,
    /// The connection it registered over, when known.
    pub channel_id: Option<u64>,
    /// Its HA address (`ip:haPort`).
    pub ha_server_addr: String,
    /// How long it may stay silent, in ms.
    pub timeout_ms: u64,
    /// Its cluster.
    pub cluster_name: String,
    /// Its broker name.
    pub broker_name: String,
}

/// One REGISTER_BROKER request, decoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerRegistration {
    /// `clusterName`.
    pub cluster_name: String,
    /// `brokerAddr` (`ip:port`).
    pub broker_addr: String,
    /// `brokerName`.
    pub broker_name: String,
    /// `brokerId` (0 = master).
    pub broker_id: i64,
    /// `haServerAddr`.
    pub ha_server_addr: String,
    /// Topics and DataVersion from the body.
    pub topic_config: TopicConfigSerializeWrapper,
    /// Filter servers from the body.
    pub filter_server_list: Vec<String>,
    /// The connection it arrived on.
    pub channel_id: Option<u64>,
    /// `heartbeatTimeoutMillis` when the broker sent one.
    pub heartbeat_timeout_ms: Option<u64>,
}

/// What a registration answers (slaves learn their master).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterBrokerResult {
    /// The master's HA address.
    pub ha_server_addr: Option<String>,
    /// The master's address.
    pub master_addr: Option<String>,
}

/// A broker address removed by [`RouteInfoManager::scan_not_active_brokers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvictedBroker {
    /// Its address.
    pub broker_addr: String,
    /// The connection to close, when known.
    pub channel_id: Option<u64>,
}

/// The route table. See the module docs.
#[derive(Debug, Clone)]
pub struct RouteInfoManager {
    /// topic → broker name → queue data.
    topic_queue_table: BTreeMap<String, BTreeMap<String, QueueData>>,
    /// broker name → broker data.
    broker_addr_table: BTreeMap<String, BrokerData>,
    /// cluster → broker names.
    cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
    /// broker address → liveness.
    broker_live_table: HashMap<String, BrokerLiveInfo>,
    /// broker address → filter servers.
    filter_server_table: HashMap<String, Vec<String>>,
    /// Silence allowed when a broker sends no `heartbeatTimeoutMillis`.
    default_timeout_ms: u64,
}

impl Default for RouteInfoManager {
    fn default() -> Self {
        Self::new(crate::config::DEFAULT_BROKER_CHANNEL_EXPIRED_TIME_MS)
    }
}

impl RouteInfoManager {
    /// An empty table whose brokers expire after `broker_channel_expired_ms`
    /// of silence (unless they register their own timeout).
    pub fn new(broker_channel_expired_ms: u64) -> Self {
        Self {
            topic_queue_table: BTreeMap::new(),
            broker_addr_table: BTreeMap::new(),
            cluster_addr_table: BTreeMap::new(),
            broker_live_table: HashMap::new(),
            filter_server_table: HashMap::new(),
            default_timeout_ms: broker_channel_expired_ms,
        }
    }

    /// Registers (or refreshes) a broker at `now_ms`.
    pub fn register_broker(
        &mut self,
        registration: BrokerRegistration,
        now_ms: u64,
    ) -> RegisterBrokerResult {
        let BrokerRegistration {
            cluster_name,
            broker_addr,
            broker_name,
            broker_id,
            ha_server_addr,
            topic_config,
            filter_server_list,
            channel_id,
            heartbeat_timeout_ms,
        } = registration;

        self.cluster_addr_table
            .entry(cluster_name.clone())
            .or_default()
            .insert(broker_name.clone());

        let mut register_first = false;
        let broker_data = self
            .broker_addr_table
            .entry(broker_name.clone())
            .or_insert_with(|| {
                register_first = true;
                BrokerData {
                    cluster: cluster_name.clone(),
                    broker_name: broker_name.clone(),
                    broker_addrs: IntKeyMap(BTreeMap::new()),
                    ..BrokerData::default()
                }
            });
        // The same ip:port under another id: the old id goes.
        broker_data
            .broker_addrs
            .0
            .retain(|id, addr| *id == broker_id || *addr != broker_addr);
        let old_addr = broker_data
            .broker_addrs
            .0
            .insert(broker_id, broker_addr.clone());
        register_first = register_first || old_addr.is_none();

        if broker_id == MASTER_ID
            && (register_first
                || self.is_broker_topic_config_changed(&broker_addr, &topic_config.data_version))
        {
            for topic in topic_config.topic_config_table.values() {
                self.create_and_update_queue_data(&broker_name, topic);
            }
        }

        let live = BrokerLiveInfo {
            last_update_ms: now_ms,
            data_version: topic_config.data_version,
            channel_id,
            ha_server_addr,
            timeout_ms: heartbeat_timeout_ms.unwrap_or(self.default_timeout_ms),
            cluster_name: cluster_name.clone(),
            broker_name: broker_name.clone(),
        };
        if self
            .broker_live_table
            .insert(broker_addr.clone(), live)
            .is_none()
        {
            tracing::info!(
                broker_addr = %broker_addr,
                broker_name = %broker_name,
                broker_id,
                cluster = %cluster_name,
                "new broker registered"
            );
        }

        if filter_server_list.is_empty() {
            self.filter_server_table.remove(&broker_addr);
        } else {
            self.filter_server_table
                .insert(broker_addr.clone(), filter_server_list);
        }

        let mut result = RegisterBrokerResult::default();
        if broker_id != MASTER_ID {
            let master_addr = self
                .broker_addr_table
                .get(&broker_name)
                .and_then(|data| data.broker_addrs.0.get(&MASTER_ID))
                .cloned();
            if let Some(master_addr) = master_addr
                && let Some(master_live) = self.broker_live_table.get(&master_addr)
            {
                result.ha_server_addr = Some(master_live.ha_server_addr.clone());
                result.master_addr = Some(master_addr);
            }
        }
        result
    }

    /// True when the broker at `broker_addr` is unknown or registered with a
    /// different DataVersion.
    pub fn is_broker_topic_config_changed(
        &self,
        broker_addr: &str,
        data_version: &DataVersion,
    ) -> bool {
        self.broker_live_table
            .get(broker_addr)
            .is_none_or(|live| live.data_version != *data_version)
    }

    /// The DataVersion the broker at `broker_addr` registered with.
    pub fn broker_data_version(&self, broker_addr: &str) -> Option<&DataVersion> {
        self.broker_live_table
            .get(broker_addr)
            .map(|live| &live.data_version)
    }

    /// Refreshes the broker's last-update time (QUERY_DATA_VERSION).
    pub fn update_broker_info_update_timestamp(&mut self, broker_addr: &str, now_ms: u64) {
        if let Some(live) = self.broker_live_table.get_mut(broker_addr) {
            live.last_update_ms = now_ms;
        }
    }

    /// Liveness of one broker address.
    pub fn broker_live_info(&self, broker_addr: &str) -> Option<&BrokerLiveInfo> {
        self.broker_live_table.get(broker_addr)
    }

    fn create_and_update_queue_data(&mut self, broker_name: &str, topic: &TopicConfigBody) {
        let queue_data = QueueData {
            broker_name: broker_name.to_string(),
            read_queue_nums: topic.read_queue_nums,
            write_queue_nums: topic.write_queue_nums,
            perm: topic.perm,
            topic_sys_flag: topic.topic_sys_flag,
        };
        let per_broker = self
            .topic_queue_table
            .entry(topic.topic_name.clone())
            .or_default();
        match per_broker.get(broker_name) {
            Some(existing) if *existing == queue_data => {}
            Some(_) => {
                tracing::info!(topic = %topic.topic_name, broker_name, "topic queue data changed");
                per_broker.insert(broker_name.to_string(), queue_data);
            }
            None => {
                tracing::info!(topic = %topic.topic_name, broker_name, "new topic registered");
                per_broker.insert(broker_name.to_string(), queue_data);
            }
        }
    }

    /// UNREGISTER_BROKER.
    pub fn unregister_broker(
        &mut self,
        cluster_name: &str,
        broker_addr: &str,
        broker_name: &str,
        broker_id: i64,
    ) {
        self.broker_live_table.remove(broker_addr);
        self.filter_server_table.remove(broker_addr);
        let mut remove_broker_name = false;
        if let Some(data) = self.broker_addr_table.get_mut(broker_name) {
            data.broker_addrs.0.remove(&broker_id);
            if data.broker_addrs.0.is_empty() {
                self.broker_addr_table.remove(broker_name);
                remove_broker_name = true;
            }
        }
        tracing::info!(broker_addr, broker_name, broker_id, "broker unregistered");
        if remove_broker_name {
            self.remove_broker_name(Some(cluster_name), broker_name);
        }
    }

    /// Forgets the broker address that registered over `channel_id` (its
    /// connection closed). Returns the address, when one matched.
    pub fn on_channel_destroy(&mut self, channel_id: u64) -> Option<String> {
        let broker_addr = self
            .broker_live_table
            .iter()
            .find(|(_, live)| live.channel_id == Some(channel_id))
            .map(|(addr, _)| addr.clone())?;
        self.remove_broker_addr(&broker_addr);
        Some(broker_addr)
    }

    /// Evicts every broker silent for longer than its timeout at `now_ms`.
    pub fn scan_not_active_brokers(&mut self, now_ms: u64) -> Vec<EvictedBroker> {
        let expired: Vec<EvictedBroker> = self
            .broker_live_table
            .iter()
            .filter(|(_, live)| live.last_update_ms.saturating_add(live.timeout_ms) < now_ms)
            .map(|(addr, live)| EvictedBroker {
                broker_addr: addr.clone(),
                channel_id: live.channel_id,
            })
            .collect();
        for evicted in &expired {
            tracing::warn!(
                broker_addr = %evicted.broker_addr,
                "broker channel expired, removing it"
            );
            self.remove_broker_addr(&evicted.broker_addr);
        }
        expired
    }

    /// Removes one broker address wherever it appears.
    fn remove_broker_addr(&mut self, broker_addr: &str) {
        self.broker_live_table.remove(broker_addr);
        self.filter_server_table.remove(broker_addr);
        let mut emptied = Vec::new();
        for (name, data) in &mut self.broker_addr_table {
            let before = data.broker_addrs.0.len();
            data.broker_addrs.0.retain(|_, addr| addr != broker_addr);
            if before != data.broker_addrs.0.len() {
                tracing::info!(broker_addr, broker_name = %name, "broker address removed");
            }
            if data.broker_addrs.0.is_empty() {
                emptied.push(name.clone());
            }
        }
        for name in emptied {
            self.broker_addr_table.remove(&name);
            self.remove_broker_name(None, &name);
        }
    }

    /// Drops a broker name that has no address left from its cluster (or every
    /// cluster) and from every topic.
    fn remove_broker_name(&mut self, cluster_name: Option<&str>, broker_name: &str) {
        self.cluster_addr_table.retain(|cluster, names| {
            if cluster_name.is_none_or(|wanted| wanted == cluster) {
                names.remove(broker_name);
            }
            !names.is_empty()
        });
        self.topic_queue_table.retain(|topic, per_broker| {
            if per_broker.remove(broker_name).is_some() {
                tracing::info!(topic = %topic, broker_name, "topic queue data removed");
            }
            !per_broker.is_empty()
        });
    }
}
