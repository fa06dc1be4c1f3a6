//! Route lookups, topic lists, topic deletion and write-permission changes.

use std::collections::BTreeMap;

use ferric_common::perm::{PERM_READ, PERM_WRITE};
use ferric_protocol::body::{ClusterInfo, QueueData, TopicList, TopicRouteData};

use super::RouteInfoManager;

impl RouteInfoManager {
    /// The route of `topic`: its queue data and the brokers hosting it (with
    /// their filter servers). `None` when the topic is unknown or none of its
    /// brokers is registered. `orderTopicConf` is left for the caller.
    pub fn pickup_topic_route_data(&self, topic: &str) -> Option<TopicRouteData> {
        let per_broker = self.topic_queue_table.get(topic)?;
        let mut route = TopicRouteData {
            queue_datas: per_broker.values().cloned().collect(),
            ..TopicRouteData::default()
        };
        for broker_name in per_broker.keys() {
            let Some(data) = self.broker_addr_table.get(broker_name) else {
                continue;
            };
            for addr in data.broker_addrs.0.values() {
                if let Some(filters) = self.filter_server_table.get(addr) {
                    route
                        .filter_server_table
                        .insert(addr.clone(), filters.clone());
                }
            }
            route.broker_datas.push(data.clone());
        }
        if route.broker_datas.is_empty() || route.queue_datas.is_empty() {
            return None;
        }
        Some(route)
    }

    /// GET_BROKER_CLUSTER_INFO.
    pub fn cluster_info(&self) -> ClusterInfo {
        ClusterInfo {
            broker_addr_table: self.broker_addr_table.clone(),
            cluster_addr_table: self
                .cluster_addr_table
                .iter()
                .map(|(cluster, names)| (cluster.clone(), names.iter().cloned().collect()))
                .collect(),
        }
    }

    /// Every topic with queue data.
    pub fn all_topic_list(&self) -> TopicList {
        TopicList {
            topic_list: self.topic_queue_table.keys().cloned().collect(),
            broker_addr: None,
        }
    }

    /// Topics hosted by at least one broker of `cluster`.
    pub fn topics_by_cluster(&self, cluster: &str) -> TopicList {
        let mut topics = Vec::new();
        if let Some(names) = self.cluster_addr_table.get(cluster) {
            for (topic, per_broker) in &self.topic_queue_table {
                if names.iter().any(|name| per_broker.contains_key(name)) {
                    topics.push(topic.clone());
                }
            }
        }
        TopicList {
            topic_list: topics,
            broker_addr: None,
        }
    }

    /// GET_SYSTEM_TOPIC_LIST_FROM_NS: cluster and broker names (topics the
    /// brokers create for themselves) and one master address.
    pub fn system_topic_list(&self) -> TopicList {
        let mut topics: Vec<String> = Vec::new();
        for (cluster, names) in &self.cluster_addr_table {
            topics.push(cluster.clone());
            topics.extend(names.iter().cloned());
        }
        topics.sort();
        topics.dedup();
        let broker_addr = self
            .broker_addr_table
            .values()
            .filter_map(|data| data.broker_addrs.0.values().next().cloned())
            .next_back();
        TopicList {
            topic_list: topics,
            broker_addr,
        }
    }

    /// Topics whose queue data has the unit flag (`topicSysFlag` bit 0).
    pub fn unit_topic_list(&self) -> TopicList {
        self.topics_where(|queue| queue.topic_sys_flag & 0x1 != 0)
    }

    /// Topics with the unit-subscription flag (`topicSysFlag` bit 1).
    pub fn has_unit_sub_topic_list(&self) -> TopicList {
        self.topics_where(|queue| queue.topic_sys_flag & 0x2 != 0)
    }

    /// Non-unit topics with the unit-subscription flag.
    pub fn has_unit_sub_ununit_topic_list(&self) -> TopicList {
        self.topics_where(|queue| {
            queue.topic_sys_flag & 0x1 == 0 && queue.topic_sys_flag & 0x2 != 0
        })
    }

    fn topics_where(&self, predicate: impl Fn(&QueueData) -> bool) -> TopicList {
        TopicList {
            topic_list: self
                .topic_queue_table
                .iter()
                .filter(|(_, per_broker)| per_broker.values().next().is_some_and(&predicate))
                .map(|(topic, _)| topic.clone())
                .collect(),
            broker_addr: None,
        }
    }

    /// DELETE_TOPIC_IN_NAMESRV: the whole topic, or only its queues on the
    /// brokers of `cluster_name`.
    pub fn delete_topic(&mut self, topic: &str, cluster_name: Option<&str>) {
        let Some(cluster) = cluster_name.filter(|name| !name.is_empty()) else {
            self.topic_queue_table.remove(topic);
            return;
        };
        let Some(names) = self.cluster_addr_table.get(cluster) else {
            return;
        };
        if let Some(per_broker) = self.topic_queue_table.get_mut(topic) {
            per_broker.retain(|broker_name, _| !names.contains(broker_name));
            if per_broker.is_empty() {
                self.topic_queue_table.remove(topic);
            }
        }
    }

    /// REGISTER_TOPIC_IN_NAMESRV: sets the topic's queue data on brokers that
    /// are registered. Returns how many queue data entries were taken.
    pub fn register_topic(&mut self, topic: &str, queue_datas: &[QueueData]) -> usize {
        let mut taken = 0;
        for queue in queue_datas {
            if !self.broker_addr_table.contains_key(&queue.broker_name) {
                continue;
            }
            self.topic_queue_table
                .entry(topic.to_string())
                .or_default()
                .insert(queue.broker_name.clone(), queue.clone());
            taken += 1;
        }
        taken
    }

    /// WIPE_WRITE_PERM_OF_BROKER: clears the write bit of every queue data of
    /// `broker_name`; returns how many topics it touched.
    pub fn wipe_write_perm_of_broker(&mut self, broker_name: &str) -> i32 {
        self.operate_write_perm(broker_name, |perm| perm & !PERM_WRITE)
    }

    /// ADD_WRITE_PERM_OF_BROKER: sets the perm of every queue data of
    /// `broker_name` to read+write; returns how many topics it touched.
    pub fn add_write_perm_of_broker(&mut self, broker_name: &str) -> i32 {
        self.operate_write_perm(broker_name, |_| PERM_READ | PERM_WRITE)
    }

    fn operate_write_perm(&mut self, broker_name: &str, change: impl Fn(i32) -> i32) -> i32 {
        let mut count = 0;
        for per_broker in self.topic_queue_table.values_mut() {
            if let Some(queue) = per_broker.get_mut(broker_name) {
                queue.perm = change(queue.perm);
                count += 1;
            }
        }
        count
    }

    /// The queue data of `topic` per broker name (for inspection and tests).
    pub fn topic_queue_data(&self, topic: &str) -> Option<&BTreeMap<String, QueueData>> {
        self.topic_queue_table.get(topic)
    }
}
