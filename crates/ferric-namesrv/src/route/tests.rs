use std::collections::BTreeMap;

use ferric_common::perm::{PERM_READ, PERM_WRITE};
use ferric_protocol::body::{DataVersion, QueueData, TopicConfigBody, TopicConfigSerializeWrapper};

use super::*;

const CLUSTER: &str = "DefaultCluster";
const MASTER_ADDR: &str = "10.0.0.1:10911";
const SLAVE_ADDR: &str = "10.0.0.2:10911";

fn topic(name: &str, queues: i32, perm: i32) -> TopicConfigBody {
    TopicConfigBody {
        topic_name: name.to_string(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm,
        ..TopicConfigBody::default()
    }
}

fn wrapper(counter: i64, topics: &[TopicConfigBody]) -> TopicConfigSerializeWrapper {
    TopicConfigSerializeWrapper {
        topic_config_table: topics
            .iter()
            .map(|t| (t.topic_name.clone(), t.clone()))
            .collect::<BTreeMap<_, _>>(),
        data_version: DataVersion {
            state_version: None,
            timestamp: 1000,
            counter,
        },
        ..TopicConfigSerializeWrapper::default()
    }
}

fn registration(
    broker_name: &str,
    addr: &str,
    id: i64,
    counter: i64,
    topics: &[TopicConfigBody],
) -> BrokerRegistration {
    BrokerRegistration {
        cluster_name: CLUSTER.to_string(),
        broker_addr: addr.to_string(),
        broker_name: broker_name.to_string(),
        broker_id: id,
        ha_server_addr: addr.replace(":10911", ":10912"),
        topic_config: wrapper(counter, topics),
        filter_server_list: Vec::new(),
        channel_id: Some(u64::try_from(id).unwrap() + 100),
        heartbeat_timeout_ms: None,
    }
}

fn queue(route: &RouteInfoManager, topic: &str, broker: &str) -> Option<QueueData> {
    route.topic_queue_data(topic)?.get(broker).cloned()
}

#[test]
fn master_and_slave_register_and_slave_learns_master() {
    let mut route = RouteInfoManager::new(120_000);
    let master = route.register_broker(
        registration("broker-a", MASTER_ADDR, 0, 1, &[topic("T", 4, 6)]),
        0,
    );
    assert_eq!(master, RegisterBrokerResult::default());
    let slave = route.register_broker(
        registration(
            "broker-a",
            SLAVE_ADDR,
            1,
            1,
            &[topic("T", 8, 6), topic("S", 2, 6)],
        ),
        0,
    );
    assert_eq!(slave.master_addr.as_deref(), Some(MASTER_ADDR));
    assert_eq!(slave.ha_server_addr.as_deref(), Some("10.0.0.1:10912"));

    // Topic data comes from the master only.
    assert_eq!(queue(&route, "T", "broker-a").unwrap().read_queue_nums, 4);
    assert!(route.topic_queue_data("S").is_none());

    let data = route.pickup_topic_route_data("T").unwrap();
    assert_eq!(data.broker_datas.len(), 1);
    assert_eq!(data.broker_datas[0].broker_addrs.0.len(), 2);
    assert_eq!(data.broker_datas[0].broker_addrs.0[&1], SLAVE_ADDR);
    assert_eq!(data.queue_datas.len(), 1);
    assert!(route.pickup_topic_route_data("S").is_none());

    let info = route.cluster_info();
    assert_eq!(
        info.cluster_addr_table[CLUSTER],
        vec!["broker-a".to_string()]
    );
    assert_eq!(info.broker_addr_table["broker-a"].cluster, CLUSTER);
}

#[test]
fn queue_data_changes_only_with_a_new_data_version() {
    let mut route = RouteInfoManager::new(120_000);
    route.register_broker(
        registration("broker-a", MASTER_ADDR, 0, 1, &[topic("T", 4, 6)]),
        0,
    );
    // Same data version, different topics: ignored.
    route.register_broker(
        registration(
            "broker-a",
            MASTER_ADDR,
            0,
            1,
            &[topic("T", 16, 6), topic("U", 1, 6)],
        ),
        10,
    );
    assert_eq!(queue(&route, "T", "broker-a").unwrap().read_queue_nums, 4);
    assert!(route.topic_queue_data("U").is_none());
    assert_eq!(
        route.broker_live_info(MASTER_ADDR).unwrap().last_update_ms,
        10
    );

    // New data version: taken, and topics absent from the body are kept.
    route.register_broker(
        registration("broker-a", MASTER_ADDR, 0, 2, &[topic("U", 1, 6)]),
        20,
    );
    assert_eq!(queue(&route, "U", "broker-a").unwrap().read_queue_nums, 1);
    assert!(queue(&route, "T", "broker-a").is_some());
    assert!(!route.is_broker_topic_config_changed(MASTER_ADDR, &wrapper(2, &[]).data_version));
    assert!(route.is_broker_topic_config_changed(MASTER_ADDR, &wrapper(3, &[]).data_version));
    assert!(route.is_broker_topic_config_changed("1.2.3.4:1", &wrapper(2, &[]).data_version));
}

#[test]
fn re_registering_an_address_under_another_id_drops_the_old_id() {
    let mut route = RouteInfoManager::new(120_000);
    route.register_broker(
        registration("broker-a", MASTER_ADDR, 0, 1, &[topic("T", 4, 6)]),
        0,
    );
    route.register_broker(registration("broker-a", SLAVE_ADDR, 1, 1, &[]), 0);
    // The slave's address becomes id 2.
    route.register_broker(registration("broker-a", SLAVE_ADDR, 2, 1, &[]), 0);
    let addrs = &route.cluster_info().broker_addr_table["broker-a"]
        .broker_addrs
        .0;
    assert_eq!(addrs.len(), 2);
    assert_eq!(addrs.get(&1), None);
    assert_eq!(addrs[&2], SLAVE_ADDR);
}

#[test]
fn unregister_removes_addresses_then_the_broker() {
    let mut route = RouteInfoManager::new(120_000);
    route.register_broker(
        registration("broker-a", MASTER_ADDR, 0, 1, &[topic("T", 4, 6)]),
        0,
    );
    route.register_broker(registration("broker-a", SLAVE_ADDR, 1, 1, &[]), 0);
    route.unregister_broker(CLUSTER, SLAVE_ADDR, "broker-a", 1);
    assert!(route.broker_live_info(SLAVE_ADDR).is_none());
    assert!(route.pickup_topic_route_data("T").is_some());

    route.unregister_broker(CLUSTER, MASTER_ADDR, "broker-a", 0);
    assert!(route.pickup_topic_route_data("T").is_none());
    assert!(route.topic_queue_data("T").is_none());
    let info = route.cluster_info();
    assert!(info.broker_addr_table.is_empty());
    assert!(info.cluster_addr_table.is_empty());
}

#[test]
fn brokers_silent_past_the_timeout_are_evicted() {
    let mut route = RouteInfoManager::new(120_000);
    route.register_broker(
        registration("broker-a", MASTER_ADDR, 0, 1, &[topic("T", 4, 6)]),
        1_000,
    );
    route.register_broker(
        registration("broker-b", "10.0.0.3:10911", 0, 1, &[topic("T", 2, 6)]),
        60_000,
    );

    assert!(
        route.scan_not_active_brokers(121_000).is_empty(),
        "exactly at the limit stays"
    );
    let evicted = route.scan_not_active_brokers(121_001);
    assert_eq!(
        evicted,
        vec![EvictedBroker {
            broker_addr: MASTER_ADDR.to_string(),
            channel_id: Some(100)
        }]
    );
    let data = route.pickup_topic_route_data("T").unwrap();
    assert_eq!(data.queue_datas.len(), 1);
    assert_eq!(data.queue_datas[0].broker_name, "broker-b");
    assert!(
        !route
            .cluster_info()
            .broker_addr_table
            .contains_key("broker-a")
    );

    // A broker's own heartbeat timeout wins over the default.
    let mut custom = registration("broker-c", "10.0.0.4:10911", 0, 1, &[]);
    custom.heartbeat_timeout_ms = Some(10_000);
    route.register_broker(custom, 200_000);
    let evicted = route.scan_not_active_brokers(210_001);
    assert!(
        evicted.iter().any(|e| e.broker_addr == "10.0.0.4:10911"),
        "{evicted:?}"
    );
}

#[test]
fn closed_channel_evicts_its_broker() {
    let mut route = RouteInfoManager::new(120_000);
    route.register_broker(
        registration("broker-a", MASTER_ADDR, 0, 1, &[topic("T", 4, 6)]),
        0,
    );
    assert_eq!(route.on_channel_destroy(999), None);
    assert_eq!(route.on_channel_destroy(100).as_deref(), Some(MASTER_ADDR));
    assert!(route.pickup_topic_route_data("T").is_none());
    assert!(route.cluster_info().cluster_addr_table.is_empty());
}

#[test]
fn wipe_and_add_write_perm_count_topics() {
    let mut route = RouteInfoManager::new(120_000);
    route.register_broker(
        registration(
            "broker-a",
            MASTER_ADDR,
            0,
            1,
            &[topic("T1", 4, 6), topic("T2", 4, 7), topic("T3", 4, 4)],
        ),
        0,
    );
    route.register_broker(
        registration("broker-b", "10.0.0.3:10911", 0, 1, &[topic("T1", 4, 6)]),
        0,
    );
    assert_eq!(route.wipe_write_perm_of_broker("broker-a"), 3);
    assert_eq!(queue(&route, "T1", "broker-a").unwrap().perm, PERM_READ);
    assert_eq!(queue(&route, "T2", "broker-a").unwrap().perm, 5);
    assert_eq!(
        queue(&route, "T1", "broker-b").unwrap().perm,
        6,
        "other brokers untouched"
    );
    assert_eq!(route.add_write_perm_of_broker("broker-a"), 3);
    assert_eq!(
        queue(&route, "T2", "broker-a").unwrap().perm,
        PERM_READ | PERM_WRITE
    );
    assert_eq!(route.wipe_write_perm_of_broker("nobody"), 0);
}

#[test]
fn delete_topic_everywhere_or_per_cluster() {
    let mut route = RouteInfoManager::new(120_000);
    route.register_broker(
        registration(
            "broker-a",
            MASTER_ADDR,
            0,
            1,
            &[topic("T", 4, 6), topic("U", 4, 6)],
        ),
        0,
    );
    let mut other = registration("broker-b", "10.0.0.3:10911", 0, 1, &[topic("T", 4, 6)]);
    other.cluster_name = "Other".to_string();
    route.register_broker(other, 0);

    route.delete_topic("T", Some("Other"));
    let left = route.topic_queue_data("T").unwrap();
    assert_eq!(left.keys().collect::<Vec<_>>(), vec!["broker-a"]);
    assert_eq!(
        route.topics_by_cluster("Other").topic_list,
        Vec::<String>::new()
    );
    assert_eq!(route.topics_by_cluster(CLUSTER).topic_list, vec!["T", "U"]);

    route.delete_topic("U", None);
    assert!(route.topic_queue_data("U").is_none());
    assert_eq!(route.all_topic_list().topic_list, vec!["T"]);
}

#[test]
fn register_topic_only_on_known_brokers_and_system_topics() {
    let mut route = RouteInfoManager::new(120_000);
    route.register_broker(registration("broker-a", MASTER_ADDR, 0, 1, &[]), 0);
    let queues = vec![
        QueueData {
            broker_name: "broker-a".to_string(),
            read_queue_nums: 2,
            write_queue_nums: 2,
            perm: 6,
            topic_sys_flag: 0,
        },
        QueueData {
            broker_name: "ghost".to_string(),
            ..QueueData::default()
        },
    ];
    assert_eq!(route.register_topic("R", &queues), 1);
    assert_eq!(
        route
            .pickup_topic_route_data("R")
            .unwrap()
            .queue_datas
            .len(),
        1
    );
    let system = route.system_topic_list();
    assert_eq!(system.topic_list, vec!["DefaultCluster", "broker-a"]);
    assert_eq!(system.broker_addr.as_deref(), Some(MASTER_ADDR));
}

#[test]
fn filter_servers_appear_in_routes() {
    let mut route = RouteInfoManager::new(120_000);
    let mut reg = registration("broker-a", MASTER_ADDR, 0, 1, &[topic("T", 4, 6)]);
    reg.filter_server_list = vec!["10.0.0.1:30000".to_string()];
    route.register_broker(reg, 0);
    let data = route.pickup_topic_route_data("T").unwrap();
    assert_eq!(
        data.filter_server_table[MASTER_ADDR],
        vec!["10.0.0.1:30000"]
    );
}
