//! Replays the Java 4.9.8 broker's REGISTER_BROKER frames and the recorded
//! client lookups (route, cluster info, topic list) against a Ferric
//! NameServer, in recording order, and compares every answer with the Java
//! NameServer's recorded answer.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{Frame, TIMEOUT, client, namesrv_frames, start_server};
use ferric_namesrv::NamesrvConfig;
use ferric_protocol::body::{ClusterInfo, TopicList, TopicRouteData};
use ferric_protocol::fastjson;
use ferric_protocol::{RemotingCommand, RequestCode};
use ferric_remoting::RemotingClient;

const FILES: &[&str] = &[
    "captures/i-broker-namesrv.jsonl",
    "captures/i-route-lookups.jsonl",
    "captures/a-producer.jsonl",
    "captures/h-mqadmin/topicRoute.jsonl",
    "captures/h-mqadmin/clusterList.jsonl",
    "captures/h-mqadmin/topicList.jsonl",
];

fn ext_keys(command: &RemotingCommand) -> BTreeSet<String> {
    command
        .ext_fields
        .as_ref()
        .map(|ext| ext.keys().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn normalized_route(body: &[u8]) -> TopicRouteData {
    let mut route: TopicRouteData = fastjson::from_slice(body).unwrap();
    route
        .queue_datas
        .sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
    route
        .broker_datas
        .sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
    route
}

fn recorded_response<'a>(frames: &'a [Frame], request: &Frame) -> Option<&'a Frame> {
    frames.iter().find(|f| {
        f.file == request.file
            && f.conn == request.conn
            && f.dir == "s2c"
            && f.kind == "response"
            && f.command.opaque == request.command.opaque
    })
}

fn compare(request: &Frame, ours: &RemotingCommand, java: &RemotingCommand) -> usize {
    let what = format!(
        "{} conn {} code {} opaque {}",
        request.file, request.conn, request.command.code, request.command.opaque
    );
    assert_eq!(ours.code, java.code, "{what}: response code");
    assert_eq!(ext_keys(ours), ext_keys(java), "{what}: header field names");
    if java.code != 0 {
        assert_eq!(ours.remark, java.remark, "{what}: remark");
        return 1;
    }
    match RequestCode(request.command.code) {
        RequestCode::GET_ROUTEINFO_BY_TOPIC => {
            assert_eq!(
                normalized_route(&ours.body),
                normalized_route(&java.body),
                "{what}: route body"
            );
            // Version 409 ≥ 401: standard JSON, quoted broker id keys.
            let text = String::from_utf8_lossy(&ours.body);
            assert!(text.contains("\"brokerAddrs\":{\"0\":"), "{what}: {text}");
        }
        RequestCode::GET_BROKER_CLUSTER_INFO => {
            let a: ClusterInfo = fastjson::from_slice(&ours.body).unwrap();
            let b: ClusterInfo = fastjson::from_slice(&java.body).unwrap();
            assert_eq!(a, b, "{what}: cluster info body");
            // Always fastjson's default form: unquoted broker id keys.
            let text = String::from_utf8_lossy(&ours.body);
            assert!(text.contains("\"brokerAddrs\":{0:"), "{what}: {text}");
        }
        RequestCode::GET_ALL_TOPIC_LIST_FROM_NAMESERVER => {
            let a: TopicList = fastjson::from_slice(&ours.body).unwrap();
            let b: TopicList = fastjson::from_slice(&java.body).unwrap();
            let a: BTreeSet<_> = a.topic_list.into_iter().collect();
            let b: BTreeSet<_> = b.topic_list.into_iter().collect();
            assert_eq!(a, b, "{what}: topic list");
        }
        RequestCode::REGISTER_BROKER => {
            assert_eq!(ours.body.len(), java.body.len(), "{what}: register body");
        }
        _ => {}
    }
    1
}

#[tokio::test]
async fn java_broker_registrations_then_client_lookups_match_java_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, addr) =
        start_server(NamesrvConfig::default(), &dir.path().join("kvConfig.json")).await;

    let mut frames: Vec<Frame> = FILES.iter().flat_map(|f| namesrv_frames(f)).collect();
    frames.sort_by_key(|f| f.t_ms);
    // One client per recorded connection, kept open so the broker's
    // connection never closes during the replay.
    let mut clients: HashMap<(String, u64), RemotingClient> = HashMap::new();

    let mut compared = 0;
    let mut registrations = 0;
    for frame in frames.iter().filter(|f| f.dir == "c2s") {
        if frame.command.code == RequestCode::UNREGISTER_BROKER.0 {
            continue;
        }
        let client = clients
            .entry((frame.file.clone(), frame.conn))
            .or_insert_with(client);
        let mut request = frame.command.clone();
        // Oneway registrations are sent as requests so that the order holds.
        request.flag = 0;
        let ours = client.invoke(&addr, request, TIMEOUT).await.unwrap();
        if frame.command.code == RequestCode::REGISTER_BROKER.0 {
            registrations += 1;
            assert_eq!(
                ours.code, 0,
                "registration {} accepted",
                frame.command.opaque
            );
        }
        if let Some(java) = recorded_response(&frames, frame) {
            compared += compare(frame, &ours, &java.command);
        }
    }
    assert!(
        registrations >= 20,
        "replayed {registrations} registrations"
    );
    let recorded = frames
        .iter()
        .filter(|f| f.dir == "s2c" && f.kind == "response")
        .count();
    // Every recorded answer except the one to UNREGISTER_BROKER.
    assert_eq!(compared, recorded - 1, "compared responses");

    for client in clients.values() {
        client.shutdown().await;
    }
    handle.shutdown().await;
}

#[tokio::test]
async fn java_unregister_removes_the_broker() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, addr) =
        start_server(NamesrvConfig::default(), &dir.path().join("kvConfig.json")).await;
    let frames = namesrv_frames("captures/i-broker-namesrv.jsonl");
    let broker = client();
    let first = frames.iter().find(|f| f.command.code == 103).unwrap();
    let unregister = frames.iter().find(|f| f.command.code == 104).unwrap();
    let tbw102_routed = || {
        handle
            .state()
            .route
            .read()
            .pickup_topic_route_data("TBW102")
            .is_some()
    };
    let reply = broker
        .invoke(&addr, first.command.clone(), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(reply.code, 0);
    assert!(tbw102_routed());
    let reply = broker
        .invoke(&addr, unregister.command.clone(), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(reply.code, 0);
    assert!(!tbw102_routed());
    assert!(
        handle
            .state()
            .route
            .read()
            .cluster_info()
            .broker_addr_table
            .is_empty()
    );
    broker.shutdown().await;
    handle.shutdown().await;
}
