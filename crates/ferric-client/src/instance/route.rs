//! Pure route handling (remoting.md §3.2): which queues a producer may write and a consumer may
//! read, the TBW102 fallback cap, and round-robin queue selection.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferric_common::MessageQueue;
use ferric_common::perm::{is_readable, is_writeable};
use ferric_protocol::body::TopicRouteData;

/// Broker id of a master.
pub const MASTER_ID: i64 = 0;

/// The writable queues of one topic, with a rotating start index for selection.
#[derive(Debug)]
pub struct TopicPublishInfo {
    /// True when the route came from the NameServer's `orderTopicConf`.
    pub order_topic: bool,
    /// Writable queues, grouped by broker in route order.
    pub queues: Vec<MessageQueue>,
    /// The route the queues were computed from.
    pub route: TopicRouteData,
    next_index: AtomicUsize,
}

impl TopicPublishInfo {
    /// Publish info for `topic` from its route: `orderTopicConf` (`broker:num;…`) when present,
    /// else the writable QueueData of brokers that have a master (`brokerAddrs` key 0).
    pub fn from_route(topic: &str, route: &TopicRouteData) -> Self {
        let mut queues = Vec::new();
        let order_conf = route
            .order_topic_conf
            .as_deref()
            .filter(|conf| !conf.is_empty());
        let order_topic = order_conf.is_some();
        if let Some(conf) = order_conf {
            for item in conf.split(';') {
                let mut parts = item.split(':');
                let (Some(broker), Some(nums)) = (parts.next(), parts.next()) else {
                    continue;
                };
                let nums: i32 = nums.trim().parse().unwrap_or(0);
                queues.extend((0..nums).map(|id| MessageQueue::new(topic, broker.trim(), id)));
            }
        } else {
            let mut datas = route.queue_datas.clone();
            datas.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
            for qd in datas.iter().filter(|qd| is_writeable(qd.perm)) {
                let has_master = route
                    .broker_datas
                    .iter()
                    .find(|bd| bd.broker_name == qd.broker_name)
                    .is_some_and(|bd| bd.broker_addrs.0.contains_key(&MASTER_ID));
                if !has_master {
                    continue;
                }
                queues.extend(
                    (0..qd.write_queue_nums)
                        .map(|id| MessageQueue::new(topic, qd.broker_name.as_str(), id)),
                );
            }
        }
        Self {
            order_topic,
            queues,
            route: route.clone(),
            next_index: AtomicUsize::new(rand::random::<u16>() as usize),
        }
    }

    /// True when at least one queue is writable.
    pub fn ok(&self) -> bool {
        !self.queues.is_empty()
    }

    /// The next queue in round-robin order, skipping `avoid_broker` when another broker exists.
    pub fn select_queue(&self, avoid_broker: Option<&str>) -> Option<MessageQueue> {
        self.select_queue_where(|mq| avoid_broker != Some(mq.broker_name.as_str()))
            .or_else(|| self.next_queue())
    }

    /// The next queue in round-robin order that satisfies `accept`, if any.
    pub fn select_queue_where(
        &self,
        accept: impl Fn(&MessageQueue) -> bool,
    ) -> Option<MessageQueue> {
        let len = self.queues.len();
        for _ in 0..len {
            let index = self.next_index.fetch_add(1, Ordering::Relaxed) % len;
            let mq = &self.queues[index];
            if accept(mq) {
                return Some(mq.clone());
            }
        }
        None
    }

    /// The next queue in round-robin order.
    pub fn next_queue(&self) -> Option<MessageQueue> {
        let len = self.queues.len();
        if len == 0 {
            return None;
        }
        let index = self.next_index.fetch_add(1, Ordering::Relaxed) % len;
        self.queues.get(index).cloned()
    }
}

/// Readable queues of `topic` (`readQueueNums` of each readable QueueData), sorted.
pub fn subscribe_queues(topic: &str, route: &TopicRouteData) -> Vec<MessageQueue> {
    let mut queues: Vec<MessageQueue> = route
        .queue_datas
        .iter()
        .filter(|qd| is_readable(qd.perm))
        .flat_map(|qd| {
            (0..qd.read_queue_nums).map(|id| MessageQueue::new(topic, qd.broker_name.as_str(), id))
        })
        .collect();
    queues.sort();
    queues
}

/// The TBW102 fallback: each QueueData's read/write nums capped at `default_topic_queue_nums`.
pub fn cap_default_route(
    mut route: TopicRouteData,
    default_topic_queue_nums: i32,
) -> TopicRouteData {
    for qd in &mut route.queue_datas {
        let nums = default_topic_queue_nums.min(qd.read_queue_nums);
        qd.read_queue_nums = nums;
        qd.write_queue_nums = nums;
    }
    route
}

/// Broker name → (broker id → address) from a route.
pub fn broker_addr_table(route: &TopicRouteData) -> Vec<(String, BTreeMap<i64, String>)> {
    route
        .broker_datas
        .iter()
        .map(|bd| (bd.broker_name.clone(), bd.broker_addrs.0.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferric_protocol::body::{BrokerData, QueueData};
    use ferric_protocol::fastjson::IntKeyMap;
    use std::collections::HashSet;

    fn broker(name: &str, ids: &[i64]) -> BrokerData {
        BrokerData {
            cluster: "DefaultCluster".into(),
            broker_name: name.into(),
            broker_addrs: IntKeyMap(
                ids.iter()
                    .map(|id| (*id, format!("127.0.0.{}:10911", id + 1)))
                    .collect(),
            ),
            ..BrokerData::default()
        }
    }

    fn queue_data(name: &str, nums: i32, perm: i32) -> QueueData {
        QueueData {
            broker_name: name.into(),
            read_queue_nums: nums,
            write_queue_nums: nums,
            perm,
            topic_sys_flag: 0,
        }
    }

    fn route() -> TopicRouteData {
        TopicRouteData {
            queue_datas: vec![
                queue_data("broker-b", 4, 6),
                queue_data("broker-a", 4, 6),
                queue_data("broker-c", 2, 4),
                queue_data("broker-s", 2, 6),
            ],
            broker_datas: vec![
                broker("broker-a", &[0, 1]),
                broker("broker-b", &[0]),
                broker("broker-c", &[0]),
                broker("broker-s", &[1]),
            ],
            ..TopicRouteData::default()
        }
    }

    #[test]
    fn publish_queues_need_write_perm_and_a_master() {
        let info = TopicPublishInfo::from_route("T", &route());
        let brokers: HashSet<&str> = info.queues.iter().map(|q| q.broker_name.as_str()).collect();
        assert_eq!(brokers, HashSet::from(["broker-a", "broker-b"]));
        assert_eq!(info.queues.len(), 8);
        assert_eq!(info.queues[0], MessageQueue::new("T", "broker-a", 0));
        assert!(!info.order_topic);
    }

    #[test]
    fn order_topic_conf_wins() {
        let mut r = route();
        r.order_topic_conf = Some("broker-a:2;broker-b:1".into());
        let info = TopicPublishInfo::from_route("T", &r);
        assert!(info.order_topic);
        assert_eq!(info.queues.len(), 3);
    }

    #[test]
    fn subscribe_queues_need_read_perm() {
        let queues = subscribe_queues("T", &route());
        assert_eq!(queues.len(), 12);
        assert!(queues.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn round_robin_covers_all_and_avoids_broker() {
        let info = TopicPublishInfo::from_route("T", &route());
        let picked: HashSet<MessageQueue> = (0..8).filter_map(|_| info.next_queue()).collect();
        assert_eq!(picked.len(), 8);
        for _ in 0..20 {
            let mq = info.select_queue(Some("broker-a"));
            assert_eq!(mq.map(|q| q.broker_name), Some("broker-b".to_owned()));
        }
    }

    #[test]
    fn default_route_is_capped() {
        let capped = cap_default_route(route(), 2);
        assert!(capped.queue_datas.iter().all(|qd| qd.write_queue_nums <= 2));
    }
}
