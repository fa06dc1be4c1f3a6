//! Retry/DLQ (CONSUMER_SEND_MSG_BACK and retry-topic sends), delay levels (with restarts),
//! RocketMQ 5 timer properties, SQL92 and tag filters and message queries, over real TCP
//! against an in-process broker.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use ferric_broker::BrokerConfig;
use ferric_common::message::MessageExt;
use ferric_protocol::header::{
    ConsumerSendMsgBackRequestHeader, PullMessageRequestHeader, QueryMessageRequestHeader,
    SendMessageRequestHeaderV2, ViewMessageRequestHeader,
};
use ferric_protocol::{RemotingCommand, RequestCode};

/// Level 2 is 2 s, every other level 1 s (so retries, which use levels 3.., take 1 s).
const LEVELS: &str = "1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";
const WAIT: Duration = Duration::from_secs(15);

fn config(dir: &std::path::Path) -> BrokerConfig {
    let mut config = test_config(dir);
    config.message_delay_level = LEVELS.to_owned();
    config.enable_property_filter = true;
    config
}

fn props(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        out.push_str(key);
        out.push('\u{1}');
        out.push_str(value);
        out.push('\u{2}');
    }
    out
}

/// A SEND_MESSAGE_V2 carrying reconsume counters (as the client's fallback send does).
fn send_with_reconsume(topic: &str, props: &str, reconsume: i32, max: i32) -> RemotingCommand {
    let header = SendMessageRequestHeaderV2 {
        a: "PID_test".to_owned(),
        b: topic.to_owned(),
        c: "TBW102".to_owned(),
        d: 4,
        e: 0,
        f: 0,
        g: 1_700_000_000_000,
        h: 0,
        i: Some(props.to_owned()),
        j: Some(reconsume),
        k: Some(false),
        l: Some(max),
        m: Some(false),
        ..SendMessageRequestHeaderV2::default()
    };
    let mut request = RemotingCommand::request(RequestCode::SEND_MESSAGE_V2.0)
        .with_header(&header)
        .with_body(Bytes::from_static(b"retry me"));
    request.version = 409;
    request
}

fn send_back(offset: i64, group: &str, delay_level: i32, max: Option<i32>) -> RemotingCommand {
    let mut request = RemotingCommand::request(RequestCode::CONSUMER_SEND_MSG_BACK.0).with_header(
        &ConsumerSendMsgBackRequestHeader {
            offset,
            group: group.to_owned(),
            delay_level,
            origin_msg_id: None,
            origin_topic: None,
            unit_mode: None,
            max_reconsume_times: max,
        },
    );
    request.version = 409;
    request
}

/// Every message of the queue from offset 0 (code 0 pulls only; an empty queue gives none).
async fn pull_all(
    broker: &TestBroker,
    topic: &str,
    queue_id: i32,
) -> anyhow::Result<Vec<MessageExt>> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let response = broker
            .call(pull("G_reader", topic, queue_id, offset, "*", None))
            .await?;
        if response.code != 0 {
            return Ok(out);
        }
        out.extend(split_records(&response.body).iter().map(|r| decode(r)));
        offset = response
            .ext("nextBeginOffset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(offset + 1);
    }
}

/// Waits until the queue holds `count` messages; returns them.
async fn wait_for(
    broker: &TestBroker,
    topic: &str,
    queue_id: i32,
    count: usize,
) -> anyhow::Result<Vec<MessageExt>> {
    let deadline = Instant::now() + WAIT;
    loop {
        let found = pull_all(broker, topic, queue_id).await?;
        if found.len() >= count {
            return Ok(found);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{topic}/{queue_id}: {} of {count} messages",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn send_one(broker: &TestBroker, topic: &str, props: &str) -> anyhow::Result<MessageExt> {
    let sent = broker.call(send_v2(topic, 0, b"payload", props)).await?;
    anyhow::ensure!(sent.code == 0, "send refused: {:?}", sent.remark);
    Ok(pull_all(broker, topic, 0).await?.pop().expect("just sent"))
}

#[tokio::test]
async fn send_back_retries_through_the_delay_queue_then_succeeds() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(config(dir.path())).await?;
    let original = send_one(
        &broker,
        "RT_topic",
        &props(&[
            ("TAGS", "TagA"),
            ("KEYS", "K1 K2"),
            ("UNIQ_KEY", "U-RETRY-1"),
            ("WAIT", "true"),
            ("fxColor", "red"),
        ]),
    )
    .await?;
    let started = Instant::now();
    let back = broker
        .call(send_back(original.commit_log_offset, "CG_retry", 0, None))
        .await?;
    assert_eq!(back.code, 0, "{:?}", back.remark);
    // Parked in SCHEDULE_TOPIC_XXXX queue 2 (level 3 = 3 + reconsumeTimes 0) first.
    let parked = wait_for(&broker, "SCHEDULE_TOPIC_XXXX", 2, 1).await?;
    assert_eq!(
        parked[0].properties.get("REAL_TOPIC"),
        Some("%RETRY%CG_retry")
    );
    assert_eq!(parked[0].properties.get("DELAY"), Some("3"));

    let first = wait_for(&broker, "%RETRY%CG_retry", 0, 1).await?;
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "delivered before its delay"
    );
    let retried = &first[0];
    assert_eq!(retried.reconsume_times, 1);
    assert_eq!(retried.body, original.body);
    assert_eq!(retried.born_timestamp, original.born_timestamp);
    let p = &retried.properties;
    // The properties the Java 4.9.8 broker stored for its retried fixture message.
    assert_eq!(p.get("RETRY_TOPIC"), Some("RT_topic"));
    assert_eq!(
        p.get("ORIGIN_MESSAGE_ID"),
        Some(original.offset_msg_id().as_str())
    );
    assert_eq!(p.get("WAIT"), Some("false"));
    assert_eq!(p.get("DELAY"), Some("3"));
    assert_eq!(p.get("REAL_TOPIC"), Some("%RETRY%CG_retry"));
    assert_eq!(p.get("REAL_QID"), Some("0"));
    assert_eq!(p.get("UNIQ_KEY"), Some("U-RETRY-1"));
    assert_eq!(p.get("TAGS"), Some("TagA"));
    assert_eq!(p.get("KEYS"), Some("K1 K2"));
    assert_eq!(p.get("fxColor"), Some("red"));

    // Fails a second time, then succeeds: reconsumeTimes 0, 1, 2 and the origin id stays.
    let back = broker
        .call(send_back(retried.commit_log_offset, "CG_retry", 0, None))
        .await?;
    assert_eq!(back.code, 0);
    let both = wait_for(&broker, "%RETRY%CG_retry", 0, 2).await?;
    assert_eq!(
        both.iter().map(|m| m.reconsume_times).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(
        both[1].properties.get("ORIGIN_MESSAGE_ID"),
        Some(original.offset_msg_id().as_str())
    );
    assert_eq!(both[1].properties.get("RETRY_TOPIC"), Some("RT_topic"));
    assert_eq!(both[1].properties.get("DELAY"), Some("4"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(pull_all(&broker, "%RETRY%CG_retry", 0).await?.len(), 2);

    // The retry topic has the group's retryQueueNums (1) and perm 6; the retried message is
    // found by VIEW_MESSAGE_BY_ID and by its key in the retry topic.
    let topic = broker
        .handle
        .context()
        .topics
        .get("%RETRY%CG_retry")
        .expect("created");
    assert_eq!(
        (topic.read_queue_nums, topic.write_queue_nums, topic.perm),
        (1, 1, 6)
    );
    let view = broker
        .call(
            RemotingCommand::request(RequestCode::VIEW_MESSAGE_BY_ID.0).with_header(
                &ViewMessageRequestHeader {
                    topic: None,
                    offset: both[1].commit_log_offset,
                },
            ),
        )
        .await?;
    assert_eq!(view.code, 0);
    assert_eq!(decode(&view.body).reconsume_times, 2);
    let by_key = broker
        .call(query("%RETRY%CG_retry", "K2", 0, i64::MAX))
        .await?;
    assert_eq!(by_key.code, 0, "{:?}", by_key.remark);
    assert_eq!(split_records(&by_key.body).len(), 2);
    broker.stop().await
}

fn query(topic: &str, key: &str, begin: i64, end: i64) -> RemotingCommand {
    RemotingCommand::request(RequestCode::QUERY_MESSAGE.0).with_header(&QueryMessageRequestHeader {
        topic: topic.into(),
        key: key.into(),
        max_num: 16,
        begin_timestamp: begin,
        end_timestamp: end,
    })
}

#[tokio::test]
async fn always_failing_messages_end_in_the_dlq() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(config(dir.path())).await?;
    let original = send_one(
        &broker,
        "DLQ_topic",
        &props(&[("TAGS", "TagD"), ("UNIQ_KEY", "U-DLQ")]),
    )
    .await?;
    // maxReconsumeTimes 2 from the header (request version 409 >= 121).
    let mut offset = original.commit_log_offset;
    for round in 1..=2 {
        let back = broker.call(send_back(offset, "CG_dlq", 0, Some(2))).await?;
        assert_eq!(back.code, 0);
        let retried = wait_for(&broker, "%RETRY%CG_dlq", 0, round).await?;
        offset = retried[round - 1].commit_log_offset;
        assert_eq!(retried[round - 1].reconsume_times, i32::try_from(round)?);
    }
    let back = broker.call(send_back(offset, "CG_dlq", 0, Some(2))).await?;
    assert_eq!(back.code, 0);
    let dead = wait_for(&broker, "%DLQ%CG_dlq", 0, 1).await?;
    assert_eq!(dead[0].reconsume_times, 3);
    assert_eq!(dead[0].properties.get("DELAY"), Some("0"));
    assert_eq!(dead[0].properties.get("RETRY_TOPIC"), Some("DLQ_topic"));
    assert_eq!(dead[0].properties.get("UNIQ_KEY"), Some("U-DLQ"));
    let dlq = broker
        .handle
        .context()
        .topics
        .get("%DLQ%CG_dlq")
        .expect("created");
    assert_eq!(
        (dlq.read_queue_nums, dlq.write_queue_nums, dlq.perm),
        (1, 1, 6)
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        pull_all(&broker, "%RETRY%CG_dlq", 0).await?.len(),
        2,
        "redelivered after the dlq"
    );

    // delayLevel < 0: straight to the DLQ.
    let direct = send_one(&broker, "DLQ_topic", &props(&[("TAGS", "TagE")])).await?;
    let back = broker
        .call(send_back(direct.commit_log_offset, "CG_dlq", -1, None))
        .await?;
    assert_eq!(back.code, 0);
    let dead = pull_all(&broker, "%DLQ%CG_dlq", 0).await?;
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[1].reconsume_times, 1);

    // A send to the retry topic at the limit goes to the DLQ too (the orderly consumer's path).
    let sent = broker
        .call(send_with_reconsume(
            "%RETRY%CG_dlq",
            &props(&[("TAGS", "TagF")]),
            2,
            2,
        ))
        .await?;
    assert_eq!(sent.code, 0, "{:?}", sent.remark);
    assert_eq!(pull_all(&broker, "%DLQ%CG_dlq", 0).await?.len(), 3);
    let below = broker
        .call(send_with_reconsume(
            "%RETRY%CG_dlq",
            &props(&[("TAGS", "TagG")]),
            1,
            2,
        ))
        .await?;
    assert_eq!(below.code, 0);
    assert_eq!(pull_all(&broker, "%RETRY%CG_dlq", 0).await?.len(), 3);

    // Unknown groups are refused when they cannot be created.
    let mut strict = config(dir.path());
    strict.auto_create_subscription_group = false;
    broker.stop().await?;
    let broker = TestBroker::start(strict).await?;
    let refused = broker
        .call(send_back(direct.commit_log_offset, "CG_unknown", 0, None))
        .await?;
    assert_eq!(refused.code, 26, "{:?}", refused.remark);
    let missing = broker.call(send_back(1 << 40, "CG_dlq", 0, None)).await?;
    assert_eq!(missing.code, 1);
    broker.stop().await
}

#[tokio::test]
async fn delay_level_two_waits_two_seconds() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(config(dir.path())).await?;
    let started = Instant::now();
    let sent = broker
        .call(send_v2(
            "DL_topic",
            1,
            b"later",
            &props(&[("TAGS", "TagL"), ("DELAY", "2"), ("UNIQ_KEY", "U-DL")]),
        ))
        .await?;
    assert_eq!(sent.code, 0);
    assert!(pull_all(&broker, "DL_topic", 1).await?.is_empty());
    let delivered = wait_for(&broker, "DL_topic", 1, 1).await?;
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(2000), "early: {elapsed:?}");
    assert!(elapsed < Duration::from_millis(5000), "late: {elapsed:?}");
    let message = &delivered[0];
    assert_eq!(message.properties.get("UNIQ_KEY"), Some("U-DL"));
    assert_eq!(message.properties.get("REAL_TOPIC"), Some("DL_topic"));
    assert_eq!(message.properties.get("REAL_QID"), Some("1"));
    let parked = pull_all(&broker, "SCHEDULE_TOPIC_XXXX", 1).await?;
    assert!(message.store_timestamp >= parked[0].store_timestamp + 2000);

    // Levels above the max are clamped (level 18 = 1 s here).
    let clamped = broker
        .call(send_v2(
            "DL_topic",
            0,
            b"clamped",
            &props(&[("DELAY", "99")]),
        ))
        .await?;
    assert_eq!(clamped.code, 0);
    let parked = wait_for(&broker, "SCHEDULE_TOPIC_XXXX", 17, 1).await?;
    assert_eq!(parked[0].properties.get("DELAY"), Some("18"));
    wait_for(&broker, "DL_topic", 0, 1).await?;

    let offsets = broker
        .call(RemotingCommand::request(
            RequestCode::GET_ALL_DELAY_OFFSET.0,
        ))
        .await?;
    assert_eq!(offsets.code, 0);
    let text = String::from_utf8(offsets.body.to_vec())?;
    assert!(
        text.contains("\"offsetTable\":{") && text.contains("2:1") && text.contains("18:1"),
        "{text}"
    );
    broker.stop().await
}

#[tokio::test]
async fn delayed_messages_survive_restarts_exactly_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(config(dir.path())).await?;
    let sent = broker
        .call(send_v2("RS_topic", 0, b"once", &props(&[("DELAY", "2")])))
        .await?;
    assert_eq!(sent.code, 0);
    broker.stop().await?;

    let broker = TestBroker::start(config(dir.path())).await?;
    let delivered = wait_for(&broker, "RS_topic", 0, 1).await?;
    assert_eq!(delivered[0].body.as_ref(), b"once");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    broker.stop().await?;
    let file = std::fs::read_to_string(dir.path().join("config/delayOffset.json"))?;
    assert!(
        file.contains("\"offsetTable\"") && file.contains("2:1"),
        "{file}"
    );

    let broker = TestBroker::start(config(dir.path())).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        pull_all(&broker, "RS_topic", 0).await?.len(),
        1,
        "duplicated after restart"
    );
    broker.stop().await
}

#[tokio::test]
async fn timer_properties_deliver_later_or_are_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(config(dir.path())).await?;
    let started = Instant::now();
    let due = ferric_broker::persist::now_ms() + 1500;
    for (key, value) in [
        ("TIMER_DELAY_SEC", "1".to_owned()),
        ("TIMER_DELIVER_MS", due.to_string()),
    ] {
        let sent = broker
            .call(send_v2(
                "TM_topic",
                0,
                key.as_bytes(),
                &props(&[(key, value.as_str())]),
            ))
            .await?;
        assert_eq!(sent.code, 0, "{:?}", sent.remark);
    }
    // Due after 1 s and 1.5 s: delivered in that order.
    let delivered = wait_for(&broker, "TM_topic", 0, 2).await?;
    assert!(started.elapsed() >= Duration::from_millis(1400));
    let bodies: Vec<&[u8]> = delivered.iter().map(|m| m.body.as_ref()).collect();
    assert_eq!(
        bodies,
        vec![b"TIMER_DELAY_SEC".as_ref(), b"TIMER_DELIVER_MS".as_ref()]
    );
    assert!(delivered[1].store_timestamp >= due);

    let past = broker
        .call(send_v2(
            "TM_topic",
            0,
            b"now",
            &props(&[("TIMER_DELIVER_MS", "1")]),
        ))
        .await?;
    assert_eq!(past.code, 0);
    assert_eq!(pull_all(&broker, "TM_topic", 0).await?.len(), 3);
    let too_far = broker
        .call(send_v2(
            "TM_topic",
            0,
            b"x",
            &props(&[("TIMER_DELAY_SEC", "259201")]),
        ))
        .await?;
    assert_eq!(too_far.code, 13, "{:?}", too_far.remark);

    // Out-of-order due times: the later-due message sent first does not hold back the other;
    // a restart delivers the pending one exactly once.
    let slow = broker
        .call(send_v2(
            "TM2",
            0,
            b"slow",
            &props(&[("TIMER_DELAY_MS", "2500")]),
        ))
        .await?;
    let fast = broker
        .call(send_v2(
            "TM2",
            0,
            b"fast",
            &props(&[("TIMER_DELAY_MS", "300")]),
        ))
        .await?;
    assert_eq!((slow.code, fast.code), (0, 0));
    let first = wait_for(&broker, "TM2", 0, 1).await?;
    assert_eq!(first[0].body.as_ref(), b"fast");
    broker.stop().await?;
    let broker = TestBroker::start(config(dir.path())).await?;
    let both = wait_for(&broker, "TM2", 0, 2).await?;
    assert_eq!(both[1].body.as_ref(), b"slow");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(pull_all(&broker, "TM2", 0).await?.len(), 2);
    assert_eq!(pull_all(&broker, "TM_topic", 0).await?.len(), 3);
    broker.stop().await
}

async fn send_fixture_like(broker: &TestBroker, topic: &str) -> anyhow::Result<()> {
    for (tag, color, num) in [
        ("TagA", "red", "1"),
        ("TagB", "red", "2"),
        ("TagA", "blue", "8"),
        ("TagC", "red", "5"),
        ("TagB", "green", "3"),
    ] {
        let body = format!("{tag}-{color}-{num}");
        let sent = broker
            .call(send_v2(
                topic,
                0,
                body.as_bytes(),
                &props(&[("TAGS", tag), ("fxColor", color), ("fxNum", num)]),
            ))
            .await?;
        anyhow::ensure!(sent.code == 0);
    }
    Ok(())
}

fn bodies(response: &RemotingCommand) -> Vec<String> {
    split_records(&response.body)
        .iter()
        .map(|r| String::from_utf8_lossy(&decode(r).body).into_owned())
        .collect()
}

#[tokio::test]
async fn sql92_and_tag_filters_select_exactly_the_matching_messages() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(config(dir.path())).await?;
    send_fixture_like(&broker, "SQL_topic").await?;

    let sql = broker
        .call(pull_expr(
            "CG_sql",
            "SQL_topic",
            0,
            0,
            "fxColor = 'red' AND fxNum > 1",
            "SQL92",
        ))
        .await?;
    assert_eq!(sql.code, 0, "{:?}", sql.remark);
    assert_eq!(bodies(&sql), vec!["TagB-red-2", "TagC-red-5"]);
    let by_tag_property = broker
        .call(pull_expr(
            "CG_sql",
            "SQL_topic",
            0,
            0,
            "TAGS = 'TagA'",
            "SQL92",
        ))
        .await?;
    assert_eq!(bodies(&by_tag_property), vec!["TagA-red-1", "TagA-blue-8"]);

    let invalid = broker
        .call(pull_expr(
            "CG_bad",
            "SQL_topic",
            0,
            0,
            "fxColor = = 'red'",
            "SQL92",
        ))
        .await?;
    assert_eq!(invalid.code, 23);
    let still = broker
        .call(pull_expr(
            "CG_sql",
            "SQL_topic",
            0,
            0,
            "fxNum >= 8",
            "SQL92",
        ))
        .await?;
    assert_eq!(bodies(&still), vec!["TagA-blue-8"]);

    let tags = broker
        .call(pull_expr(
            "CG_tag",
            "SQL_topic",
            0,
            0,
            "TagA || TagC",
            "TAG",
        ))
        .await?;
    assert_eq!(
        bodies(&tags),
        vec!["TagA-red-1", "TagA-blue-8", "TagC-red-5"]
    );

    // Heartbeat-registered subscriptions: a valid SQL92 one filters, an invalid one has no
    // filter data (FILTER_DATA_NOT_EXIST, as in RocketMQ) and the other group is unaffected.
    let heartbeat = |group: &str, expr: &str| {
        let body = serde_json::json!({
            "clientID": format!("127.0.0.1@{group}"),
            "producerDataSet": [],
            "consumerDataSet": [{
                "groupName": group, "consumeType": "CONSUME_PASSIVELY",
                "messageModel": "CLUSTERING", "consumeFromWhere": "CONSUME_FROM_FIRST_OFFSET",
                "unitMode": false,
                "subscriptionDataSet": [{"classFilterMode": false, "codeSet": [], "expressionType": "SQL92",
                    "subString": expr, "subVersion": 7, "tagsSet": [], "topic": "SQL_topic"}]
            }]
        });
        RemotingCommand::request(RequestCode::HEART_BEAT.0)
            .with_body(Bytes::from(serde_json::to_vec(&body).expect("json")))
    };
    assert_eq!(
        broker
            .call(heartbeat("CG_hb_ok", "fxColor = 'red' AND fxNum > 1"))
            .await?
            .code,
        0
    );
    assert_eq!(
        broker
            .call(heartbeat("CG_hb_bad", "fxColor IN"))
            .await?
            .code,
        0
    );
    let registered = |group: &str| {
        let header = PullMessageRequestHeader {
            consumer_group: group.to_owned(),
            topic: "SQL_topic".to_owned(),
            queue_id: 0,
            queue_offset: 0,
            max_msg_nums: 32,
            sys_flag: 0,
            commit_offset: 0,
            suspend_timeout_millis: 0,
            sub_version: 7,
            ..PullMessageRequestHeader::default()
        };
        RemotingCommand::request(RequestCode::PULL_MESSAGE.0).with_header(&header)
    };
    let ok = broker.call(registered("CG_hb_ok")).await?;
    assert_eq!(bodies(&ok), vec!["TagB-red-2", "TagC-red-5"]);
    let bad = broker.call(registered("CG_hb_bad")).await?;
    assert_eq!(bad.code, 27, "{:?}", bad.remark);

    // CHECK_CLIENT_CONFIG compiles the expression.
    let check = |expr: &str| {
        let body = serde_json::json!({"clientId": "c", "group": "CG_sql", "subscriptionData": {
            "classFilterMode": false, "codeSet": [], "expressionType": "SQL92", "subString": expr,
            "subVersion": 1, "tagsSet": [], "topic": "SQL_topic"}});
        RemotingCommand::request(RequestCode::CHECK_CLIENT_CONFIG.0)
            .with_body(Bytes::from(serde_json::to_vec(&body).expect("json")))
    };
    assert_eq!(broker.call(check("a > 1")).await?.code, 0);
    assert_eq!(broker.call(check("a >")).await?.code, 23);
    broker.stop().await?;

    // With enablePropertyFilter=false SQL92 is refused with SYSTEM_ERROR.
    let mut off = config(dir.path());
    off.enable_property_filter = false;
    let broker = TestBroker::start(off).await?;
    let refused = broker
        .call(pull_expr("CG_sql", "SQL_topic", 0, 0, "a > 1", "SQL92"))
        .await?;
    assert_eq!(refused.code, 1);
    assert_eq!(
        refused.remark.as_deref(),
        Some("The broker does not support consumer to filter message by SQL92")
    );
    assert_eq!(broker.call(check("a > 1")).await?.code, 1);
    broker.stop().await
}

#[tokio::test]
async fn query_by_key_respects_the_time_range() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(config(dir.path())).await?;
    let stored = send_one(
        &broker,
        "QR_topic",
        &props(&[("KEYS", "QK"), ("UNIQ_KEY", "U-QR")]),
    )
    .await?;
    let at = stored.store_timestamp;
    assert_eq!(
        broker
            .call(query("QR_topic", "QK", at - 1000, at + 1000))
            .await?
            .code,
        0
    );
    assert_eq!(
        broker
            .call(query("QR_topic", "QK", at + 10_000, at + 20_000))
            .await?
            .code,
        22
    );
    assert_eq!(
        broker
            .call(query("QR_topic", "QK", 0, at - 10_000))
            .await?
            .code,
        22
    );
    broker.stop().await
}
