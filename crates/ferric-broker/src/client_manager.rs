//! Connected producers and consumers per group (registered by HEART_BEAT), their
//! subscriptions, and eviction of clients whose channel closed or went silent.

use std::collections::{BTreeMap, HashMap};

use ferric_protocol::LanguageCode;
use ferric_protocol::body::{Connection, SubscriptionData};
use ferric_remoting::Channel;
use parking_lot::Mutex;

/// One client connection of a group.
#[derive(Debug, Clone)]
pub struct ClientChannelInfo {
    /// The connection.
    pub channel: Channel,
    /// `clientIP@instanceName`.
    pub client_id: String,
    /// Client language.
    pub language: LanguageCode,
    /// Client `MQVersion` ordinal.
    pub version: i32,
    /// Last heartbeat (ms).
    pub last_update_ms: i64,
}

impl ClientChannelInfo {
    /// As a ConsumerConnection / ProducerConnection entry.
    pub fn connection(&self) -> Connection {
        Connection {
            client_id: self.client_id.clone(),
            client_addr: self.channel.remote_addr().to_string(),
            language: self.language.name().to_owned(),
            version: self.version,
        }
    }
}

/// One consumer group as registered by heartbeats.
#[derive(Debug, Clone, Default)]
pub struct ConsumerGroupInfo {
    /// `CONSUME_ACTIVELY` / `CONSUME_PASSIVELY` / `CONSUME_POP`.
    pub consume_type: String,
    /// `CLUSTERING` / `BROADCASTING`.
    pub message_model: String,
    /// Where a new consumer starts.
    pub consume_from_where: String,
    /// Connections by channel id.
    pub channels: HashMap<u64, ClientChannelInfo>,
    /// Subscriptions by topic.
    pub subscriptions: BTreeMap<String, SubscriptionData>,
}

/// What a consumer heartbeat registers.
#[derive(Debug, Clone)]
pub struct ConsumerRegistration {
    /// Group name.
    pub group: String,
    /// Consume type.
    pub consume_type: String,
    /// Message model.
    pub message_model: String,
    /// Consume-from-where.
    pub consume_from_where: String,
    /// Subscriptions.
    pub subscriptions: Vec<SubscriptionData>,
}

/// Consumer groups.
#[derive(Debug, Default)]
pub struct ConsumerManager {
    groups: Mutex<HashMap<String, ConsumerGroupInfo>>,
}

impl ConsumerManager {
    /// Registers or refreshes a consumer; true when the group's member set changed.
    pub fn register(&self, registration: ConsumerRegistration, client: ClientChannelInfo) -> bool {
        let mut groups = self.groups.lock();
        let info = groups.entry(registration.group.clone()).or_default();
        info.consume_type = registration.consume_type;
        info.message_model = registration.message_model;
        info.consume_from_where = registration.consume_from_where;
        let changed = match info.channels.get_mut(&client.channel.id()) {
            Some(existing) if existing.client_id == client.client_id => {
                existing.last_update_ms = client.last_update_ms;
                false
            }
            _ => {
                tracing::info!(group = %registration.group, client_id = %client.client_id, peer = %client.channel.peer(), "new consumer connected");
                info.channels.insert(client.channel.id(), client);
                true
            }
        };
        let mut topics = Vec::with_capacity(registration.subscriptions.len());
        for sub in registration.subscriptions {
            topics.push(sub.topic.clone());
            match info.subscriptions.get(&sub.topic) {
                Some(old) if old.sub_version >= sub.sub_version => {}
                _ => {
                    info.subscriptions.insert(sub.topic.clone(), sub);
                }
            }
        }
        info.subscriptions.retain(|topic, _| topics.contains(topic));
        changed
    }

    /// Removes one channel from `group`; true when it was a member.
    pub fn unregister(&self, group: &str, channel_id: u64) -> bool {
        let mut groups = self.groups.lock();
        let Some(info) = groups.get_mut(group) else {
            return false;
        };
        let removed = info.channels.remove(&channel_id).is_some();
        if info.channels.is_empty() {
            groups.remove(group);
        }
        removed
    }

    /// Removes a closed channel from every group; returns the groups it left.
    pub fn channel_closed(&self, channel_id: u64) -> Vec<String> {
        let mut groups = self.groups.lock();
        let mut left = Vec::new();
        for (group, info) in groups.iter_mut() {
            if info.channels.remove(&channel_id).is_some() {
                left.push(group.clone());
            }
        }
        groups.retain(|_, info| !info.channels.is_empty());
        left
    }

    /// Removes members whose last heartbeat is older than `timeout_ms`; returns
    /// (group, channel) for each, so the caller can close the channel and notify.
    pub fn evict_expired(&self, now_ms: i64, timeout_ms: i64) -> Vec<(String, Channel)> {
        let mut groups = self.groups.lock();
        let mut evicted = Vec::new();
        for (group, info) in groups.iter_mut() {
            info.channels.retain(|_, client| {
                let alive = now_ms - client.last_update_ms <= timeout_ms;
                if !alive {
                    evicted.push((group.clone(), client.channel.clone()));
                }
                alive
            });
        }
        groups.retain(|_, info| !info.channels.is_empty());
        evicted
    }

    /// A copy of the group's registration.
    pub fn group(&self, group: &str) -> Option<ConsumerGroupInfo> {
        self.groups.lock().get(group).cloned()
    }

    /// The group's subscription of `topic`.
    pub fn subscription(&self, group: &str, topic: &str) -> Option<SubscriptionData> {
        self.groups
            .lock()
            .get(group)?
            .subscriptions
            .get(topic)
            .cloned()
    }

    /// The live channel of the consumer whose client id is `client_id`.
    pub fn find_channel(&self, client_id: &str) -> Option<Channel> {
        self.groups
            .lock()
            .values()
            .flat_map(|info| info.channels.values())
            .find(|client| client.client_id == client_id && client.channel.is_active())
            .map(|client| client.channel.clone())
    }

    /// Groups with an online consumer subscribed to `topic`.
    pub fn groups_by_topic(&self, topic: &str) -> Vec<String> {
        self.groups
            .lock()
            .iter()
            .filter(|(_, info)| info.subscriptions.contains_key(topic))
            .map(|(group, _)| group.clone())
            .collect()
    }
}

/// Producer groups.
#[derive(Debug, Default)]
pub struct ProducerManager {
    groups: Mutex<HashMap<String, HashMap<u64, ClientChannelInfo>>>,
    /// Round-robin position of [`ProducerManager::available_channel`].
    next_channel: std::sync::atomic::AtomicUsize,
}

impl ProducerManager {
    /// Registers or refreshes a producer.
    pub fn register(&self, group: &str, client: ClientChannelInfo) {
        let mut groups = self.groups.lock();
        let members = groups.entry(group.to_owned()).or_default();
        members.insert(client.channel.id(), client);
    }

    /// Removes one channel from `group`.
    pub fn unregister(&self, group: &str, channel_id: u64) {
        let mut groups = self.groups.lock();
        if let Some(members) = groups.get_mut(group) {
            members.remove(&channel_id);
            if members.is_empty() {
                groups.remove(group);
            }
        }
    }

    /// Removes a closed channel from every group.
    pub fn channel_closed(&self, channel_id: u64) {
        let mut groups = self.groups.lock();
        for members in groups.values_mut() {
            members.remove(&channel_id);
        }
        groups.retain(|_, members| !members.is_empty());
    }

    /// Removes producers silent for longer than `timeout_ms`; returns their channels.
    pub fn evict_expired(&self, now_ms: i64, timeout_ms: i64) -> Vec<Channel> {
        let mut groups = self.groups.lock();
        let mut evicted = Vec::new();
        for members in groups.values_mut() {
            members.retain(|_, client| {
                let alive = now_ms - client.last_update_ms <= timeout_ms;
                if !alive {
                    evicted.push(client.channel.clone());
                }
                alive
            });
        }
        groups.retain(|_, members| !members.is_empty());
        evicted
    }

    /// One live channel of `group`, round-robin over its members (the target of
    /// CHECK_TRANSACTION_STATE).
    pub fn available_channel(&self, group: &str) -> Option<Channel> {
        let mut live: Vec<Channel> = self
            .groups
            .lock()
            .get(group)?
            .values()
            .filter(|client| client.channel.is_active())
            .map(|client| client.channel.clone())
            .collect();
        if live.is_empty() {
            return None;
        }
        live.sort_by_key(Channel::id);
        let turn = self
            .next_channel
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(live.swap_remove(turn % live.len()))
    }

    /// The live channel of the producer whose client id is `client_id` (the target of
    /// PUSH_REPLY_MESSAGE_TO_CLIENT).
    pub fn find_channel(&self, client_id: &str) -> Option<Channel> {
        self.groups
            .lock()
            .values()
            .flat_map(HashMap::values)
            .find(|client| client.client_id == client_id && client.channel.is_active())
            .map(|client| client.channel.clone())
    }

    /// The connections of `group`.
    pub fn connections(&self, group: &str) -> Vec<ClientChannelInfo> {
        self.groups
            .lock()
            .get(group)
            .map(|members| members.values().cloned().collect())
            .unwrap_or_default()
    }
}
