//! Typed headers: Java parse rules, round trips, and reading the headers of captured frames.

mod support;

use ferric_protocol::header::*;
use ferric_protocol::{ExtFields, RemotingCommand, RequestCode};
use proptest::prelude::*;

fn ext(pairs: &[(&str, &str)]) -> ExtFields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn java_parse_rules() {
    let header = ResetOffsetRequestHeader::read(&ext(&[
        ("group", "g"),
        ("topic", "t"),
        ("timestamp", "-1"),
        ("isForce", "TRUE"),
        ("queueId", "+3"),
    ]));
    assert_eq!(
        header,
        Ok(ResetOffsetRequestHeader {
            group: "g".into(),
            topic: "t".into(),
            queue_id: Some(3),
            offset: None,
            timestamp: -1,
            is_force: true,
        })
    );
    for text in ["yes", "1", "", "tru"] {
        let read = GetConsumeStatsInBrokerHeader::read(&ext(&[("isOrder", text)]));
        assert_eq!(
            read,
            Ok(GetConsumeStatsInBrokerHeader { is_order: false }),
            "{text:?}"
        );
    }
    let read = SearchOffsetRequestHeader::read(&ext(&[
        ("topic", "t"),
        ("queueId", "0"),
        ("timestamp", "5"),
        ("boundaryType", "Upper"),
    ]));
    assert_eq!(read.map(|h| h.boundary_type), Ok(Some(BoundaryType::Upper)));
}

#[test]
fn missing_and_invalid_fields_are_named() {
    let read = UpdateConsumerOffsetRequestHeader::read(&ext(&[
        ("consumerGroup", "g"),
        ("topic", "t"),
        ("queueId", "1"),
    ]));
    assert_eq!(read, Err(HeaderError::Missing("commitOffset")));
    let read = UpdateConsumerOffsetRequestHeader::read(&ext(&[
        ("consumerGroup", "g"),
        ("topic", "t"),
        ("queueId", " 1"),
        ("commitOffset", "2"),
    ]));
    assert_eq!(
        read,
        Err(HeaderError::Invalid {
            field: "queueId",
            value: " 1".into()
        })
    );
    let read = ViewMessageRequestHeader::read(&ext(&[("offset", "99999999999999999999")]));
    assert!(read.is_err());
}

#[test]
fn quirky_key_names() {
    let mut map = ExtFields::default();
    DeleteSubscriptionGroupRequestHeader {
        group_name: "g".into(),
        clean_offset: None,
        remove_offset: Some(true),
    }
    .write(&mut map);
    assert_eq!(map, ext(&[("groupName", "g"), ("removeOffset", "true")]));
    let read = DeleteSubscriptionGroupRequestHeader::read(&map);
    assert_eq!(read.map(|h| h.should_clean_offset()), Ok(true));
    assert_eq!(ResetOffsetRequestHeader::KEYS.last(), Some(&"isForce"));
    assert_eq!(
        UnregisterClientRequestHeader::KEYS.first(),
        Some(&"clientID")
    );
    assert!(PullMessageRequestHeader::KEYS.contains(&"proxyFrowardClientId"));
}

fn send_v1() -> impl Strategy<Value = SendMessageRequestHeader> {
    (
        (
            "[a-zA-Z_%]{1,20}",
            "[a-zA-Z_%]{1,20}",
            any::<i32>(),
            any::<i32>(),
            any::<i64>(),
        ),
        (
            proptest::option::of("\\PC{0,30}"),
            proptest::option::of(any::<i32>()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            proptest::option::of("[a-z-]{1,10}"),
        ),
    )
        .prop_map(
            |((group, topic, queue_id, sys_flag, born), (props, reconsume, unit, batch, bname))| {
                SendMessageRequestHeader {
                    producer_group: group,
                    topic,
                    default_topic: "TBW102".into(),
                    default_topic_queue_nums: 4,
                    queue_id,
                    sys_flag,
                    born_timestamp: born,
                    flag: 0,
                    properties: props,
                    reconsume_times: reconsume,
                    unit_mode: unit,
                    batch,
                    max_reconsume_times: reconsume.map(|r| r.wrapping_add(1)),
                    broker_name: bname,
                }
            },
        )
}

proptest! {
    #[test]
    fn send_headers_round_trip_in_both_forms(v1 in send_v1()) {
        let mut map = ExtFields::default();
        v1.write(&mut map);
        prop_assert_eq!(SendMessageRequestHeader::read(&map), Ok(v1.clone()));
        let v2 = SendMessageRequestHeaderV2::from(v1.clone());
        let mut short = ExtFields::default();
        v2.write(&mut short);
        prop_assert_eq!(short.len(), map.len());
        prop_assert!(short.keys().all(|k| k.len() == 1));
        let back = SendMessageRequestHeaderV2::read(&short).map(SendMessageRequestHeader::from);
        prop_assert_eq!(back, Ok(v1));
    }

    #[test]
    fn pull_headers_round_trip(
        queue_offset in any::<i64>(),
        sys_flag in 0i32..32,
        sub in proptest::option::of("[A-Za-z|| ]{0,20}"),
        delta in proptest::option::of(any::<i64>()),
    ) {
        let request = PullMessageRequestHeader {
            consumer_group: "CID".into(),
            topic: "T".into(),
            queue_id: 3,
            queue_offset,
            max_msg_nums: 32,
            sys_flag,
            commit_offset: queue_offset,
            suspend_timeout_millis: 15000,
            subscription: sub,
            sub_version: 1,
            expression_type: Some("TAG".into()),
            ..Default::default()
        };
        let cmd = RemotingCommand::request(RequestCode::PULL_MESSAGE.0).with_header(&request);
        prop_assert_eq!(cmd.decode_header::<PullMessageRequestHeader>(), Ok(request));
        let response = PullMessageResponseHeader {
            suggest_which_broker_id: 0,
            next_begin_offset: queue_offset,
            min_offset: 0,
            max_offset: queue_offset,
            offset_delta: delta,
            ..Default::default()
        };
        let cmd = RemotingCommand::response(0, None).with_header(&response);
        prop_assert_eq!(cmd.decode_header::<PullMessageResponseHeader>(), Ok(response));
    }
}

/// Decodes the typed header of every captured frame whose code has one.
#[test]
fn captured_headers_decode() {
    let mut decoded = std::collections::BTreeMap::<&str, usize>::new();
    for frame in support::all_frames() {
        let cmd = &frame.command;
        let at = format!("{}:{}", frame.file, frame.line);
        let request_code = frame.record["request_code"].as_i64();
        macro_rules! check {
            ($label:literal, $ty:ty) => {{
                let header = cmd.decode_header::<$ty>();
                assert!(header.is_ok(), "{at}: {:?}", header);
                // Writing the typed header reproduces the captured keys and values it knows.
                let mut written = ExtFields::default();
                if let Ok(header) = &header {
                    header.write(&mut written);
                }
                for (key, value) in &written {
                    assert_eq!(cmd.ext(key), Some(value), "{at}: {key}");
                }
                *decoded.entry($label).or_default() += 1;
            }};
        }
        if cmd.is_response() {
            if cmd.code != 0 {
                continue;
            }
            match request_code {
                Some(10 | 310 | 320 | 324 | 325) => {
                    check!("send response", SendMessageResponseHeader)
                }
                Some(11 | 361) => check!("pull response", PullMessageResponseHeader),
                Some(12) => check!("query response", QueryMessageResponseHeader),
                Some(14 | 30 | 31 | 29) => check!("offset response", OffsetResponseHeader),
                Some(32) => check!("store time", GetEarliestMsgStoretimeResponseHeader),
                Some(26) => check!("broker config", GetBrokerConfigResponseHeader),
                Some(103) => check!("register response", RegisterBrokerResponseHeader),
                Some(322) => check!("data version", QueryDataVersionResponseHeader),
                _ => {}
            }
            continue;
        }
        match cmd.code {
            10 | 324 => check!("send v1", SendMessageRequestHeader),
            310 | 320 | 325 => check!("send v2", SendMessageRequestHeaderV2),
            11 | 361 => check!("pull", PullMessageRequestHeader),
            12 => check!("query", QueryMessageRequestHeader),
            14 => check!("query offset", QueryConsumerOffsetRequestHeader),
            15 => check!("update offset", UpdateConsumerOffsetRequestHeader),
            17 => check!("create topic", CreateTopicRequestHeader),
            29 => check!("search offset", SearchOffsetRequestHeader),
            30 => check!("max offset", GetMaxOffsetRequestHeader),
            31 | 32 => check!("topic queue", TopicQueueRequestHeader),
            33 => check!("view", ViewMessageRequestHeader),
            35 => check!("unregister client", UnregisterClientRequestHeader),
            36 => check!("send back", ConsumerSendMsgBackRequestHeader),
            37 => check!("end transaction", EndTransactionRequestHeader),
            38 => check!("consumer list", GetConsumerListByGroupRequestHeader),
            39 => check!("check transaction", CheckTransactionStateRequestHeader),
            40 => check!("ids changed", NotifyConsumerIdsChangedRequestHeader),
            103 => check!("register broker", RegisterBrokerRequestHeader),
            104 => check!("unregister broker", BrokerIdentityRequestHeader),
            105 => check!("route", GetRouteInfoRequestHeader),
            202 | 215 | 300 => check!("topic", TopicRequestHeader),
            203 => check!(
                "consumer connections",
                GetConsumerConnectionListRequestHeader
            ),
            208 => check!("consume stats", GetConsumeStatsRequestHeader),
            216 => check!("delete in namesrv", DeleteTopicFromNamesrvRequestHeader),
            220 | 222 => check!("reset offset", ResetOffsetRequestHeader),
            322 => check!("query data version", BrokerIdentityRequestHeader),
            326 => check!("push reply", ReplyMessageRequestHeader),
            _ => {}
        }
    }
    for label in [
        "send v2",
        "pull",
        "send response",
        "pull response",
        "register broker",
        "route",
    ] {
        assert!(
            decoded.get(label).copied().unwrap_or(0) > 0,
            "{label}: {decoded:?}"
        );
    }
    assert!(decoded.len() >= 25, "{decoded:?}");
}
