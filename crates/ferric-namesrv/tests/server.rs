//! NameServer behaviour over real TCP on port 0: compressed registration, CRC
//! checks, KV config across restarts, eviction on channel close, order topic
//! config, JSON styles, write perms and unsupported codes.

mod common;

use std::time::Duration;

use common::{TIMEOUT, client, register_body, register_request, request, start_server, topic};
use ferric_namesrv::{NAMESPACE_ORDER_TOPIC_CONFIG, NamesrvConfig};
use ferric_protocol::body::{KvTable, TopicList, TopicRouteData};
use ferric_protocol::fastjson;
use ferric_protocol::{RequestCode, ResponseCode};

const MASTER: &str = "10.0.0.1:10911";
const SLAVE: &str = "10.0.0.2:10911";

fn route_request(topic_name: &str) -> ferric_protocol::RemotingCommand {
    request(
        RequestCode::GET_ROUTEINFO_BY_TOPIC,
        &[("topic", topic_name)],
    )
}

#[tokio::test]
async fn compressed_registration_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, addr) = start_server(NamesrvConfig::default(), &dir.path().join("kv.json")).await;
    let broker = client();

    let body = register_body(1, &[topic("Zipped", 4)]);
    let compressed = body.encode_compressed().unwrap();
    let mut register = register_request(MASTER, 0, &body);
    register.set_ext("compressed", "true");
    register.set_ext(
        "bodyCrc32",
        ferric_common::crc32_masked(&compressed).to_string(),
    );
    let register = register.with_body(compressed);
    let reply = broker.invoke(&addr, register, TIMEOUT).await.unwrap();
    assert_eq!(reply.code, 0, "{:?}", reply.remark);

    let route = broker
        .invoke(&addr, route_request("Zipped"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(route.code, 0);
    let data: TopicRouteData = fastjson::from_slice(&route.body).unwrap();
    assert_eq!(data.queue_datas[0].read_queue_nums, 4);
    assert_eq!(data.broker_datas[0].broker_addrs.0[&0], MASTER);

    broker.shutdown().await;
    handle.shutdown().await;
}

#[tokio::test]
async fn crc_mismatch_is_a_system_error_and_registers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, addr) = start_server(NamesrvConfig::default(), &dir.path().join("kv.json")).await;
    let broker = client();
    let mut register = register_request(MASTER, 0, &register_body(1, &[topic("T", 4)]));
    register.set_ext("bodyCrc32", "12345");
    let reply = broker.invoke(&addr, register, TIMEOUT).await.unwrap();
    assert_eq!(reply.code, ResponseCode::SYSTEM_ERROR.0);
    assert_eq!(reply.remark.as_deref(), Some("crc32 not match"));
    let route = broker
        .invoke(&addr, route_request("T"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(route.code, ResponseCode::TOPIC_NOT_EXIST.0);

    // bodyCrc32 = 0 means "not checked".
    let mut register = register_request(MASTER, 0, &register_body(1, &[topic("T", 4)]));
    register.set_ext("bodyCrc32", "0");
    let reply = broker.invoke(&addr, register, TIMEOUT).await.unwrap();
    assert_eq!(reply.code, 0);
    broker.shutdown().await;
    handle.shutdown().await;
}

#[tokio::test]
async fn kv_config_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let kv_path = dir.path().join("namesrv").join("kvConfig.json");
    let (handle, addr) = start_server(NamesrvConfig::default(), &kv_path).await;
    let admin = client();
    let put = request(
        RequestCode::PUT_KV_CONFIG,
        &[("namespace", "NS"), ("key", "k"), ("value", "v1")],
    );
    assert_eq!(admin.invoke(&addr, put, TIMEOUT).await.unwrap().code, 0);
    let put = request(
        RequestCode::PUT_KV_CONFIG,
        &[("namespace", "NS"), ("key", "gone"), ("value", "x")],
    );
    assert_eq!(admin.invoke(&addr, put, TIMEOUT).await.unwrap().code, 0);
    let delete = request(
        RequestCode::DELETE_KV_CONFIG,
        &[("namespace", "NS"), ("key", "gone")],
    );
    assert_eq!(admin.invoke(&addr, delete, TIMEOUT).await.unwrap().code, 0);
    admin.shutdown().await;
    handle.shutdown().await;

    let (handle, addr) = start_server(NamesrvConfig::default(), &kv_path).await;
    let admin = client();
    let get = request(
        RequestCode::GET_KV_CONFIG,
        &[("namespace", "NS"), ("key", "k")],
    );
    let reply = admin.invoke(&addr, get, TIMEOUT).await.unwrap();
    assert_eq!(reply.code, 0);
    assert_eq!(reply.ext("value"), Some("v1"));

    let get = request(
        RequestCode::GET_KV_CONFIG,
        &[("namespace", "NS"), ("key", "gone")],
    );
    let reply = admin.invoke(&addr, get, TIMEOUT).await.unwrap();
    assert_eq!(reply.code, ResponseCode::QUERY_NOT_FOUND.0);
    assert_eq!(
        reply.remark.as_deref(),
        Some("No config item, Namespace: NS Key: gone")
    );

    let list = request(RequestCode::GET_KVLIST_BY_NAMESPACE, &[("namespace", "NS")]);
    let reply = admin.invoke(&addr, list, TIMEOUT).await.unwrap();
    assert_eq!(reply.code, 0);
    let table: KvTable = fastjson::from_slice(&reply.body).unwrap();
    assert_eq!(table.table.len(), 1);
    assert_eq!(table.table["k"], "v1");

    let list = request(
        RequestCode::GET_KVLIST_BY_NAMESPACE,
        &[("namespace", "None")],
    );
    let reply = admin.invoke(&addr, list, TIMEOUT).await.unwrap();
    assert_eq!(reply.code, ResponseCode::QUERY_NOT_FOUND.0);
    admin.shutdown().await;
    handle.shutdown().await;
}

#[tokio::test]
async fn closing_the_broker_connection_evicts_it() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, addr) = start_server(NamesrvConfig::default(), &dir.path().join("kv.json")).await;
    let broker = client();
    let reply = broker
        .invoke(
            &addr,
            register_request(MASTER, 0, &register_body(1, &[topic("T", 4)])),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(reply.code, 0);
    let lookup = client();
    let route = lookup
        .invoke(&addr, route_request("T"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(route.code, 0);

    broker.shutdown().await;
    // The close is noticed asynchronously; poll (bounded) until it is.
    let mut code = route.code;
    for _ in 0..100 {
        code = lookup
            .invoke(&addr, route_request("T"), TIMEOUT)
            .await
            .unwrap()
            .code;
        if code == ResponseCode::TOPIC_NOT_EXIST.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(code, ResponseCode::TOPIC_NOT_EXIST.0);
    let cluster = handle.state().route.read().cluster_info();
    assert!(cluster.broker_addr_table.is_empty());
    lookup.shutdown().await;
    handle.shutdown().await;
}

#[tokio::test]
async fn order_topic_conf_and_register_response_kv_table() {
    let dir = tempfile::tempdir().unwrap();
    let config = NamesrvConfig {
        order_message_enable: true,
        ..NamesrvConfig::default()
    };
    let (handle, addr) = start_server(config, &dir.path().join("kv.json")).await;
    let admin = client();
    let put = request(
        RequestCode::PUT_KV_CONFIG,
        &[
            ("namespace", NAMESPACE_ORDER_TOPIC_CONFIG),
            ("key", "Ordered"),
            ("value", "broker-a:4"),
        ],
    );
    assert_eq!(admin.invoke(&addr, put, TIMEOUT).await.unwrap().code, 0);

    let register = register_request(MASTER, 0, &register_body(1, &[topic("Ordered", 4)]));
    let reply = admin.invoke(&addr, register, TIMEOUT).await.unwrap();
    assert_eq!(reply.code, 0);
    let table: KvTable = fastjson::from_slice(&reply.body).unwrap();
    assert_eq!(table.table["Ordered"], "broker-a:4");

    let route = admin
        .invoke(&addr, route_request("Ordered"), TIMEOUT)
        .await
        .unwrap();
    let data: TopicRouteData = fastjson::from_slice(&route.body).unwrap();
    assert_eq!(data.order_topic_conf.as_deref(), Some("broker-a:4"));
    admin.shutdown().await;
    handle.shutdown().await;
}

#[tokio::test]
async fn route_json_style_follows_version_and_accept_standard_json_only() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, addr) = start_server(NamesrvConfig::default(), &dir.path().join("kv.json")).await;
    let peer = client();
    let register = register_request(MASTER, 0, &register_body(1, &[topic("T", 4)]));
    assert_eq!(peer.invoke(&addr, register, TIMEOUT).await.unwrap().code, 0);

    let mut old = route_request("T");
    old.version = 317;
    let body = peer.invoke(&addr, old.clone(), TIMEOUT).await.unwrap().body;
    let text = String::from_utf8_lossy(&body).into_owned();
    assert!(
        text.contains("\"brokerAddrs\":{0:\"10.0.0.1:10911\"}"),
        "{text}"
    );
    assert!(text.contains("\"enableActingMaster\":false"), "{text}");

    old.set_ext("acceptStandardJsonOnly", "true");
    let body = peer.invoke(&addr, old, TIMEOUT).await.unwrap().body;
    let text = String::from_utf8_lossy(&body).into_owned();
    assert!(
        text.contains("\"brokerAddrs\":{\"0\":\"10.0.0.1:10911\"}"),
        "{text}"
    );
    peer.shutdown().await;
    handle.shutdown().await;
}

#[tokio::test]
async fn slave_learns_master_and_write_perm_can_be_wiped_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, addr) = start_server(NamesrvConfig::default(), &dir.path().join("kv.json")).await;
    let master = client();
    let body = register_body(1, &[topic("T1", 4), topic("T2", 4)]);
    let reply = master
        .invoke(&addr, register_request(MASTER, 0, &body), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(reply.code, 0);
    assert_eq!(reply.ext("masterAddr"), None);

    let slave = client();
    let reply = slave
        .invoke(&addr, register_request(SLAVE, 1, &body), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(reply.code, 0);
    assert_eq!(reply.ext("masterAddr"), Some(MASTER));
    assert_eq!(reply.ext("haServerAddr"), Some("10.0.0.1:10912"));

    let wipe = request(
        RequestCode::WIPE_WRITE_PERM_OF_BROKER,
        &[("brokerName", "broker-a")],
    );
    let reply = master.invoke(&addr, wipe, TIMEOUT).await.unwrap();
    assert_eq!(reply.ext("wipeTopicCount"), Some("2"));
    let route = master
        .invoke(&addr, route_request("T1"), TIMEOUT)
        .await
        .unwrap();
    let data: TopicRouteData = fastjson::from_slice(&route.body).unwrap();
    assert_eq!(data.queue_datas[0].perm, 4);

    let add = request(
        RequestCode::ADD_WRITE_PERM_OF_BROKER,
        &[("brokerName", "broker-a")],
    );
    let reply = master.invoke(&addr, add, TIMEOUT).await.unwrap();
    assert_eq!(reply.ext("addTopicCount"), Some("2"));

    let by_cluster = request(
        RequestCode::GET_TOPICS_BY_CLUSTER,
        &[("cluster", "DefaultCluster")],
    );
    let reply = master.invoke(&addr, by_cluster, TIMEOUT).await.unwrap();
    let list: TopicList = fastjson::from_slice(&reply.body).unwrap();
    assert_eq!(list.topic_list, vec!["T1", "T2"]);

    let delete = request(RequestCode::DELETE_TOPIC_IN_NAMESRV, &[("topic", "T1")]);
    assert_eq!(master.invoke(&addr, delete, TIMEOUT).await.unwrap().code, 0);
    let route = master
        .invoke(&addr, route_request("T1"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(route.code, ResponseCode::TOPIC_NOT_EXIST.0);

    master.shutdown().await;
    slave.shutdown().await;
    handle.shutdown().await;
}

#[tokio::test]
async fn query_data_version_and_unsupported_codes() {
    let dir = tempfile::tempdir().unwrap();
    let config = NamesrvConfig {
        enable_all_topic_list: false,
        ..NamesrvConfig::default()
    };
    let (handle, addr) = start_server(config, &dir.path().join("kv.json")).await;
    let peer = client();
    let body = register_body(7, &[topic("T", 4)]);
    assert_eq!(
        peer.invoke(&addr, register_request(MASTER, 0, &body), TIMEOUT)
            .await
            .unwrap()
            .code,
        0
    );
    let identity = [
        ("brokerName", "broker-a"),
        ("brokerAddr", MASTER),
        ("clusterName", "DefaultCluster"),
        ("brokerId", "0"),
    ];
    let version = fastjson::to_vec(
        &body.topic_config_serialize_wrapper.data_version,
        fastjson::JsonStyle::Fastjson,
    )
    .unwrap();
    let query = request(RequestCode::QUERY_DATA_VERSION, &identity).with_body(version);
    let reply = peer.invoke(&addr, query, TIMEOUT).await.unwrap();
    assert_eq!(reply.ext("changed"), Some("false"));
    let other = fastjson::to_vec(
        &register_body(8, &[])
            .topic_config_serialize_wrapper
            .data_version,
        fastjson::JsonStyle::Fastjson,
    )
    .unwrap();
    let query = request(RequestCode::QUERY_DATA_VERSION, &identity).with_body(other);
    let reply = peer.invoke(&addr, query, TIMEOUT).await.unwrap();
    assert_eq!(reply.ext("changed"), Some("true"));

    let all = request(RequestCode::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[]);
    let reply = peer.invoke(&addr, all, TIMEOUT).await.unwrap();
    assert_eq!(reply.code, ResponseCode::SYSTEM_ERROR.0);
    assert_eq!(reply.remark.as_deref(), Some("disable"));

    let reply = peer
        .invoke(&addr, request(RequestCode::SEND_MESSAGE, &[]), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(reply.code, ResponseCode::REQUEST_CODE_NOT_SUPPORTED.0);

    let missing = request(RequestCode::GET_ROUTEINFO_BY_TOPIC, &[]);
    let reply = peer.invoke(&addr, missing, TIMEOUT).await.unwrap();
    assert_eq!(reply.code, ResponseCode::SYSTEM_ERROR.0);
    assert!(reply.remark.unwrap_or_default().contains("topic"));
    peer.shutdown().await;
    handle.shutdown().await;
}

#[tokio::test]
async fn the_liveness_scan_evicts_silent_brokers() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicU64::new(1_000_000));
    let clock_source = Arc::clone(&now);
    let clock: ferric_namesrv::Clock = Arc::new(move || clock_source.load(Ordering::SeqCst));
    let config = NamesrvConfig {
        kv_config_path: dir.path().join("kv.json").display().to_string(),
        scan_not_active_broker_interval: 20,
        ..NamesrvConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = ferric_namesrv::NameServer::start_with_clock(config, listener, clock)
        .await
        .unwrap();
    let addr = handle.local_addr().to_string();
    let broker = client();
    let register = register_request(MASTER, 0, &register_body(1, &[topic("T", 4)]));
    assert_eq!(
        broker.invoke(&addr, register, TIMEOUT).await.unwrap().code,
        0
    );

    // Still within 120 s: several scans leave it alone.
    now.fetch_add(120_000, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        handle
            .state()
            .route
            .read()
            .pickup_topic_route_data("T")
            .is_some()
    );

    now.fetch_add(1, Ordering::SeqCst);
    let mut gone = false;
    for _ in 0..100 {
        if handle
            .state()
            .route
            .read()
            .pickup_topic_route_data("T")
            .is_none()
        {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the silent broker is evicted");
    broker.shutdown().await;
    handle.shutdown().await;
}
