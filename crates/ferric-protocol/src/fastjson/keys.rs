//! Map types whose Java keys are not strings.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::write::INT_KEY_MARK;

/// A map with integer keys (`Map<Long,_>`, `Map<Integer,_>`), written `{0:…}` by fastjson.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IntKeyMap<K: Ord, V>(pub BTreeMap<K, V>);

impl<K: Ord + Display, V: Serialize> Serialize for IntKeyMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(&format!("{INT_KEY_MARK}{key}"), value)?;
        }
        map.end()
    }
}

impl<'de, K, V> Deserialize<'de> for IntKeyMap<K, V>
where
    K: Ord + FromStr,
    V: DeserializeOwned,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: BTreeMap<String, V> = BTreeMap::deserialize(deserializer)?;
        let mut map = BTreeMap::new();
        for (key, value) in raw {
            let parsed = key
                .trim()
                .parse::<K>()
                .map_err(|_| de::Error::custom(format!("map key {key:?} is not an integer")))?;
            map.insert(parsed, value);
        }
        Ok(Self(map))
    }
}

/// `MessageQueue` as a JSON body object: `{"brokerName":…,"queueId":…,"topic":…}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageQueueBody {
    /// Broker name.
    pub broker_name: String,
    /// Queue id.
    pub queue_id: i32,
    /// Topic name.
    pub topic: String,
}

impl From<ferric_common::message::MessageQueue> for MessageQueueBody {
    fn from(queue: ferric_common::message::MessageQueue) -> Self {
        Self {
            topic: queue.topic,
            broker_name: queue.broker_name,
            queue_id: queue.queue_id,
        }
    }
}

impl From<MessageQueueBody> for ferric_common::message::MessageQueue {
    fn from(queue: MessageQueueBody) -> Self {
        Self {
            topic: queue.topic,
            broker_name: queue.broker_name,
            queue_id: queue.queue_id,
        }
    }
}

/// A map keyed by message queue (`Map<MessageQueue,_>`), written with object keys by fastjson.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MqKeyMap<V>(pub BTreeMap<MessageQueueBody, V>);

impl<V: Serialize> Serialize for MqKeyMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            let text = serde_json::to_string(key).map_err(serde::ser::Error::custom)?;
            map.serialize_entry(&format!("\u{0}{text}"), value)?;
        }
        map.end()
    }
}

impl<'de, V: DeserializeOwned> Deserialize<'de> for MqKeyMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: BTreeMap<String, V> = BTreeMap::deserialize(deserializer)?;
        let mut map = BTreeMap::new();
        for (key, value) in raw {
            let queue: MessageQueueBody = super::from_slice(key.as_bytes())
                .map_err(|error| de::Error::custom(format!("map key {key:?}: {error}")))?;
            map.insert(queue, value);
        }
        Ok(Self(map))
    }
}
