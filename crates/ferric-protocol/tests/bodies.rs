//! JSON bodies: the tolerant reader on every captured body, typed bodies on their frames, and
//! the fastjson writer shapes.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use ferric_protocol::body::*;
use ferric_protocol::fastjson::{self, IntKeyMap, JsonStyle, MessageQueueBody, MqKeyMap};

fn is_json_body(body: &[u8]) -> bool {
    matches!(body.first(), Some(b'{' | b'['))
}

#[test]
fn every_captured_json_body_parses_with_the_tolerant_reader() {
    let mut parsed = 0;
    let mut non_standard = 0;
    for frame in support::all_frames() {
        let body = &frame.command.body;
        if !is_json_body(body) {
            continue;
        }
        let result = fastjson::parse(body);
        assert!(result.is_ok(), "{}:{}: {result:?}", frame.file, frame.line);
        if serde_json::from_slice::<serde_json::Value>(body).is_err() {
            non_standard += 1;
        }
        parsed += 1;
    }
    assert!(parsed >= 184, "{parsed}");
    assert_eq!(non_standard, 9, "the README counts 9 non-standard bodies");
}

fn parse_typed<T: serde::de::DeserializeOwned>(at: &str, body: &[u8]) -> T {
    match fastjson::from_slice::<T>(body) {
        Ok(value) => value,
        Err(error) => panic!("{at}: {error}: {}", String::from_utf8_lossy(body)),
    }
}

#[test]
fn typed_bodies_parse_their_captured_frames() {
    let mut seen = BTreeMap::<&str, usize>::new();
    for frame in support::all_frames() {
        let cmd = &frame.command;
        let at = format!("{}:{}", frame.file, frame.line);
        if cmd.body.is_empty() {
            continue;
        }
        let request_code = frame.record["request_code"].as_i64();
        if cmd.is_response() && cmd.code == 0 {
            match request_code {
                Some(105) => {
                    let route: TopicRouteData = parse_typed(&at, &cmd.body);
                    assert!(!route.broker_datas.is_empty(), "{at}");
                    assert!(
                        route.broker_datas[0].broker_addrs.0.contains_key(&0),
                        "{at}"
                    );
                    let again = route.to_json_for(409, false).unwrap_or_default();
                    assert_eq!(parse_typed::<TopicRouteData>(&at, &again), route);
                    *seen.entry("route").or_default() += 1;
                }
                Some(106) => {
                    let info: ClusterInfo = parse_typed(&at, &cmd.body);
                    assert!(info.broker_addr_table.contains_key("broker-a"), "{at}");
                    *seen.entry("cluster").or_default() += 1;
                }
                Some(41) => {
                    let lock: LockBatchResponseBody = parse_typed(&at, &cmd.body);
                    assert!(
                        lock.lock_ok_mq_set.iter().all(|mq| !mq.topic.is_empty()),
                        "{at}"
                    );
                    *seen.entry("lock response").or_default() += 1;
                }
                Some(208) => {
                    let stats: ConsumeStats = parse_typed(&at, &cmd.body);
                    assert!(!stats.offset_table.0.is_empty(), "{at}");
                    let again = fastjson::to_vec(&stats, JsonStyle::Fastjson).unwrap_or_default();
                    assert_eq!(parse_typed::<ConsumeStats>(&at, &again), stats);
                    *seen.entry("consume stats").or_default() += 1;
                }
                Some(202) => {
                    let stats: TopicStatsTable = parse_typed(&at, &cmd.body);
                    assert!(!stats.offset_table.0.is_empty(), "{at}");
                    *seen.entry("topic stats").or_default() += 1;
                }
                Some(222) => {
                    let reset: ResetOffsetBody = parse_typed(&at, &cmd.body);
                    assert!(!reset.offset_table.0.is_empty(), "{at}");
                    *seen.entry("reset offset").or_default() += 1;
                }
                Some(38) => {
                    let ids: ConsumerIdList = parse_typed(&at, &cmd.body);
                    assert!(!ids.consumer_id_list.is_empty(), "{at}");
                    *seen.entry("consumer ids").or_default() += 1;
                }
                Some(206 | 224) => {
                    let topics: TopicList = parse_typed(&at, &cmd.body);
                    assert!(!topics.topic_list.is_empty(), "{at}");
                    *seen.entry("topic list").or_default() += 1;
                }
                Some(28) => {
                    let table: KvTable = parse_typed(&at, &cmd.body);
                    assert!(table.table.contains_key("brokerVersionDesc"), "{at}");
                    *seen.entry("runtime info").or_default() += 1;
                }
                Some(203) => {
                    let conn: ConsumerConnection = parse_typed(&at, &cmd.body);
                    assert!(!conn.connection_set.is_empty(), "{at}");
                    *seen.entry("consumer connection").or_default() += 1;
                }
                _ => {}
            }
            continue;
        }
        if cmd.is_response() {
            continue;
        }
        match cmd.code {
            34 => {
                let heartbeat: HeartbeatData = parse_typed(&at, &cmd.body);
                assert!(heartbeat.client_id.contains('@'), "{at}");
                *seen.entry("heartbeat").or_default() += 1;
            }
            41 | 42 => {
                let lock: LockBatchRequestBody = parse_typed(&at, &cmd.body);
                assert!(!lock.consumer_group.is_empty(), "{at}");
                *seen.entry("lock request").or_default() += 1;
            }
            220 => {
                let reset: ResetOffsetBody = parse_typed(&at, &cmd.body);
                assert!(!reset.offset_table.0.is_empty(), "{at}");
                *seen.entry("reset offset").or_default() += 1;
            }
            200 => {
                let group: SubscriptionGroupConfig = parse_typed(&at, &cmd.body);
                assert!(!group.group_name.is_empty(), "{at}");
                *seen.entry("subscription group").or_default() += 1;
            }
            103 => {
                let register = if cmd.ext("compressed") == Some("true") {
                    *seen.entry("register compressed").or_default() += 1;
                    RegisterBrokerBody::decode_compressed(&cmd.body).ok()
                } else {
                    let parsed = RegisterBrokerBody::from_json(&cmd.body);
                    assert!(parsed.is_ok(), "{at}: {parsed:?}");
                    parsed.ok()
                };
                assert!(register.is_some(), "{at}");
                let Some(register) = register else { continue };
                let table = &register.topic_config_serialize_wrapper.topic_config_table;
                assert!(!table.is_empty(), "{at}");
                let compressed = register.encode_compressed().ok().unwrap_or_default();
                let back = RegisterBrokerBody::decode_compressed(&compressed).ok();
                assert_eq!(back.as_ref(), Some(&register), "{at}");
                *seen.entry("register").or_default() += 1;
            }
            _ => {}
        }
    }
    for label in [
        "route",
        "cluster",
        "heartbeat",
        "lock request",
        "lock response",
        "consume stats",
        "topic stats",
        "reset offset",
        "register",
    ] {
        assert!(
            seen.get(label).copied().unwrap_or(0) > 0,
            "{label}: {seen:?}"
        );
    }
}

fn broker_data() -> BrokerData {
    BrokerData {
        cluster: "DefaultCluster".into(),
        broker_name: "broker-a".into(),
        broker_addrs: IntKeyMap(BTreeMap::from([
            (0, "10.0.0.1:10911".to_owned()),
            (1, "10.0.0.2:10911".to_owned()),
        ])),
        ..Default::default()
    }
}

#[test]
fn route_data_style_follows_request_version() {
    let route = TopicRouteData {
        queue_datas: vec![QueueData {
            broker_name: "broker-a".into(),
            read_queue_nums: 4,
            write_queue_nums: 4,
            perm: 6,
            topic_sys_flag: 0,
        }],
        broker_datas: vec![broker_data()],
        ..Default::default()
    };
    let default_form = r#"{"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#;
    let standard = default_form
        .replace("{0:", "{\"0\":")
        .replace(",1:", ",\"1\":");
    let text = |bytes: Result<Vec<u8>, _>| {
        String::from_utf8(bytes.unwrap_or_default()).unwrap_or_default()
    };
    assert_eq!(text(route.to_json_for(317, false)), default_form);
    assert_eq!(text(route.to_json_for(400, true)), standard);
    assert_eq!(text(route.to_json_for(401, false)), standard);
    assert_eq!(
        parse_typed::<TopicRouteData>("default", default_form.as_bytes()),
        route
    );
    assert_eq!(
        parse_typed::<TopicRouteData>("standard", standard.as_bytes()),
        route
    );
}

#[test]
fn object_keys_are_written_like_fastjson() {
    let stats = ConsumeStats {
        offset_table: MqKeyMap(BTreeMap::from([(
            MessageQueueBody {
                broker_name: "broker-a".into(),
                queue_id: 0,
                topic: "T".into(),
            },
            OffsetWrapper {
                broker_offset: 5,
                consumer_offset: 5,
                pull_offset: None,
                last_timestamp: 0,
            },
        )])),
        consume_tps: 0.0,
    };
    let text = String::from_utf8(fastjson::to_vec(&stats, JsonStyle::Fastjson).unwrap_or_default());
    assert_eq!(
        text.unwrap_or_default(),
        r#"{"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"brokerOffset":5,"consumerOffset":5,"lastTimestamp":0}}}"#
    );
}

#[test]
fn tolerant_reader_accepts_fastjson_quirks() {
    let value = fastjson::parse(b"{'a':'x\\u0001', b:1, 0:[1,2,], {\"k\":1}:true, \"n\":null}");
    assert!(value.is_ok(), "{value:?}");
    for bad in [
        &b"{"[..],
        b"[1,",
        b"{\"a\" 1}",
        b"\"abc",
        b"tru",
        b"{}x",
        b"1e",
    ] {
        assert!(
            fastjson::parse(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let deep = "[".repeat(10_000);
    assert!(fastjson::parse(deep.as_bytes()).is_err());
}

fn store_config(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/java-4.9.8/store-clean/config")
        .join(name);
    std::fs::read(path).unwrap_or_default()
}

#[test]
fn java_config_files_parse_and_pretty_print() {
    let delay: DelayOffsetWrapper =
        parse_typed("delayOffset.json", &store_config("delayOffset.json"));
    assert_eq!(delay.offset_table.0.get(&3), Some(&2));
    let pretty = fastjson::to_vec_pretty(&delay).unwrap_or_default();
    assert_eq!(pretty, store_config("delayOffset.json"));

    let offsets: ConsumerOffsetWrapper =
        parse_typed("consumerOffset.json", &store_config("consumerOffset.json"));
    let queues = offsets
        .offset_table
        .get("FxTopicA@CID_fx_push")
        .map(|m| m.0.len());
    assert_eq!(queues, Some(4));
    let pretty = fastjson::to_vec_pretty(&offsets).unwrap_or_default();
    assert_eq!(
        parse_typed::<ConsumerOffsetWrapper>("pretty", &pretty),
        offsets
    );

    let topics: TopicConfigSerializeWrapper =
        parse_typed("topics.json", &store_config("topics.json"));
    let tbw = topics
        .topic_config_table
        .get("TBW102")
        .map(ferric_common::TopicConfig::from);
    assert_eq!(tbw.map(|t| t.perm), Some(7));
    let groups: SubscriptionGroupWrapper = parse_typed(
        "subscriptionGroup.json",
        &store_config("subscriptionGroup.json"),
    );
    assert!(groups.subscription_group_table.contains_key("CID_fx_push"));
    let pretty = fastjson::to_vec_pretty(&groups).unwrap_or_default();
    assert!(pretty.starts_with(b"{\n\t\"dataVersion\":{\n\t\t\"counter\":"));
}
