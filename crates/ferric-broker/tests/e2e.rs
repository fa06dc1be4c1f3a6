//! End-to-end over real TCP: an in-process broker on port 0 with a real store in a temp dir,
//! driven by `ferric_remoting::RemotingClient` sending real frames.

mod common;

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use common::*;
use ferric_common::batch::encode_batch;
use ferric_common::message::Message;
use ferric_protocol::body::{ConsumerIdList, LockBatchResponseBody};
use ferric_protocol::header::{
    OffsetResponseHeader, QueryMessageRequestHeader, SendMessageRequestHeader,
    SendMessageResponseHeader, UpdateConsumerOffsetRequestHeader, ViewMessageRequestHeader,
};
use ferric_protocol::{RemotingCommand, RequestCode};
use ferric_remoting::{ClientConfig, RemotingClient, processor_fn};

fn body_json(value: serde_json::Value) -> Bytes {
    Bytes::from(serde_json::to_vec(&value).unwrap())
}

#[tokio::test]
async fn auto_create_then_send_v1_v2_batch_and_pull_back() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(test_config(dir.path())).await?;

    // V2 send to an unknown topic: auto-created from TBW102 with 4 queues.
    let v2 = broker
        .call(send_v2(
            "E2E_T",
            0,
            b"body-v2",
            &properties(Some("TagA"), Some("k1"), Some("UNIQ-1")),
        ))
        .await?;
    assert_eq!(v2.code, 0, "{:?}", v2.remark);
    assert!(v2.ext("MSG_REGION").is_some() && v2.ext("TRACE_ON").is_some());
    let v2h: SendMessageResponseHeader = v2.decode_header()?;
    assert_eq!((v2h.queue_id, v2h.queue_offset), (0, 0));
    assert_eq!(v2h.transaction_id.as_deref(), Some("UNIQ-1"));
    assert_eq!(v2h.msg_id.len(), 32);

    // V1 (long header).
    let v1_header = SendMessageRequestHeader {
        producer_group: "PID_test".into(),
        topic: "E2E_T".into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id: 0,
        sys_flag: 0,
        born_timestamp: 1,
        flag: 7,
        properties: Some(properties(Some("TagB"), None, None)),
        ..SendMessageRequestHeader::default()
    };
    let v1 = broker
        .call(
            RemotingCommand::request(RequestCode::SEND_MESSAGE.0)
                .with_header(&v1_header)
                .with_body(Bytes::from_static(b"body-v1")),
        )
        .await?;
    assert_eq!(v1.code, 0, "{:?}", v1.remark);
    assert_eq!(
        v1.decode_header::<SendMessageResponseHeader>()?
            .queue_offset,
        1
    );

    // Batch of three.
    let mut batch = Vec::new();
    for i in 0..3 {
        let mut message = Message::new("E2E_T", format!("batch-{i}").into_bytes());
        message.properties.insert("UNIQ_KEY", format!("B-{i}"));
        batch.push(message);
    }
    let mut batch_body = BytesMut::new();
    encode_batch(&batch, &mut batch_body)?;
    let mut batch_request = send_v2("E2E_T", 0, &batch_body, &properties(None, None, None));
    batch_request.code = RequestCode::SEND_BATCH_MESSAGE.0;
    batch_request.set_ext("m", "true");
    let sent = broker.call(batch_request).await?;
    assert_eq!(sent.code, 0, "{:?}", sent.remark);
    let batch_header: SendMessageResponseHeader = sent.decode_header()?;
    assert_eq!(batch_header.queue_offset, 2);
    assert_eq!(batch_header.msg_id.split(',').count(), 3);

    // Pull everything back.
    let pulled = broker
        .call(pull("CG_e2e", "E2E_T", 0, 0, "*", None))
        .await?;
    assert_eq!(pulled.code, 0, "{:?}", pulled.remark);
    for key in [
        "suggestWhichBrokerId",
        "nextBeginOffset",
        "minOffset",
        "maxOffset",
    ] {
        assert!(pulled.ext(key).is_some(), "missing {key}");
    }
    assert_eq!(pulled.ext("nextBeginOffset"), Some("5"));
    let records = split_records(&pulled.body);
    let bodies: Vec<Vec<u8>> = records.iter().map(|r| decode(r).body.to_vec()).collect();
    assert_eq!(
        bodies,
        vec![
            b"body-v2".to_vec(),
            b"body-v1".to_vec(),
            b"batch-0".to_vec(),
            b"batch-1".to_vec(),
            b"batch-2".to_vec()
        ]
    );
    let first = decode(&records[0]);
    assert_eq!(first.properties.get("TAGS"), Some("TagA"));
    assert_eq!(first.properties.get("CLUSTER"), Some("DefaultCluster"));
    assert_eq!(first.store_host.to_string(), "127.0.0.1:10911");
    assert_eq!(first.offset_msg_id(), v2h.msg_id);
    assert_eq!(decode(&records[1]).flag, 7);
    let inner: Vec<_> = records[2..].iter().map(|r| decode(r)).collect();
    for (i, message) in inner.iter().enumerate() {
        assert_eq!(message.queue_offset, 2 + i as i64);
        assert_eq!(
            message.properties.get("UNIQ_KEY"),
            Some(format!("B-{i}").as_str())
        );
        assert_eq!(message.properties.get("CLUSTER"), Some("DefaultCluster"));
    }

    // The pulled bytes are exactly the stored record.
    let view = broker
        .call(
            RemotingCommand::request(RequestCode::VIEW_MESSAGE_BY_ID.0).with_header(
                &ViewMessageRequestHeader {
                    topic: None,
                    offset: first.commit_log_offset,
                },
            ),
        )
        .await?;
    assert_eq!(view.code, 0);
    assert_eq!(view.body, records[0]);
    broker.stop().await
}

#[tokio::test]
async fn long_polling_is_released_by_a_send_or_times_out() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(test_config(dir.path())).await?;
    let sent = broker
        .call(send_v2(
            "LP_T",
            1,
            b"first",
            &properties(Some("TagA"), None, None),
        ))
        .await?;
    assert_eq!(sent.code, 0);

    // Held at the end of the queue, released by the next send.
    let held = broker.client.invoke_async(
        &broker.addr,
        pull("CG_lp", "LP_T", 1, 1, "*", Some(15_000)),
        TIMEOUT,
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!held.is_finished(), "the pull is held");
    let sent = broker
        .call(send_v2(
            "LP_T",
            1,
            b"second",
            &properties(Some("TagA"), None, None),
        ))
        .await?;
    assert_eq!(sent.code, 0);
    let released = held.await??;
    assert_eq!(released.code, 0, "{:?}", released.remark);
    let records = split_records(&released.body);
    assert_eq!(decode(&records[0]).body.as_ref(), b"second");

    // Held and timed out: PULL_NOT_FOUND with nextBeginOffset = request offset.
    let timed_out = broker
        .call(pull("CG_lp", "LP_T", 1, 2, "*", Some(400)))
        .await?;
    assert_eq!(timed_out.code, 19);
    assert_eq!(timed_out.ext("nextBeginOffset"), Some("2"));
    broker.stop().await
}

#[tokio::test]
async fn tag_filter_offsets_and_offset_moved() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(test_config(dir.path())).await?;
    assert_eq!(
        broker
            .call(send_v2(
                "TF_T",
                0,
                b"c",
                &properties(Some("TagC"), None, None)
            ))
            .await?
            .code,
        0
    );
    let filtered = broker
        .call(pull("CG_tf", "TF_T", 0, 0, "TagA || TagB", None))
        .await?;
    assert_eq!(filtered.code, 20, "PULL_RETRY_IMMEDIATELY");
    assert_eq!(filtered.remark.as_deref(), Some("NO_MATCHED_MESSAGE"));
    assert_eq!(filtered.ext("nextBeginOffset"), Some("1"));
    let matched = broker
        .call(pull("CG_tf", "TF_T", 0, 0, "TagC", None))
        .await?;
    assert_eq!(matched.code, 0);

    let moved = broker
        .call(pull("CG_tf", "TF_T", 0, 100, "*", None))
        .await?;
    assert_eq!(moved.code, 21, "PULL_OFFSET_MOVED");
    // RocketMQ 4.9.8: an offset past the end of a queue that still starts at 0 moves to 0.
    assert_eq!(moved.ext("nextBeginOffset"), Some("0"));
    // ... and an OFFSET_MOVED_EVENT message was stored.
    let event = broker
        .call(pull("CG_ev", "OFFSET_MOVED_EVENT", 0, 0, "CG_tf", None))
        .await?;
    assert_eq!(event.code, 0, "{:?}", event.remark);
    let event = decode(&split_records(&event.body)[0]);
    let json: serde_json::Value = serde_json::from_slice(&event.body)?;
    assert_eq!(json["offsetRequest"], 100);

    let query = |group: &str| {
        RemotingCommand::request(RequestCode::QUERY_CONSUMER_OFFSET.0).with_header(
            &ferric_protocol::header::QueryConsumerOffsetRequestHeader {
                consumer_group: group.into(),
                topic: "TF_T".into(),
                queue_id: 0,
                set_zero_if_not_found: None,
            },
        )
    };
    let none = broker.call(query("CG_tf")).await?;
    assert_eq!(none.code, 0);
    assert_eq!(none.decode_header::<OffsetResponseHeader>()?.offset, 0);
    let update = RemotingCommand::request(RequestCode::UPDATE_CONSUMER_OFFSET.0).with_header(
        &UpdateConsumerOffsetRequestHeader {
            consumer_group: "CG_tf".into(),
            topic: "TF_T".into(),
            queue_id: 0,
            commit_offset: 1,
        },
    );
    assert_eq!(broker.call(update).await?.code, 0);
    let committed = broker.call(query("CG_tf")).await?;
    assert_eq!(committed.decode_header::<OffsetResponseHeader>()?.offset, 1);
    broker.stop().await
}

#[tokio::test]
async fn heartbeat_consumer_list_notify_and_locks() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(test_config(dir.path())).await?;
    let heartbeat = |client_id: &str| {
        RemotingCommand::request(RequestCode::HEART_BEAT.0).with_body(body_json(serde_json::json!({
            "clientID": client_id,
            "producerDataSet": [{"groupName": "CLIENT_INNER_PRODUCER"}],
            "consumerDataSet": [{
                "groupName": "CG_hb", "consumeType": "CONSUME_PASSIVELY",
                "messageModel": "CLUSTERING", "consumeFromWhere": "CONSUME_FROM_FIRST_OFFSET",
                "unitMode": false,
                "subscriptionDataSet": [{"classFilterMode": false, "codeSet": [], "expressionType": "TAG",
                    "subString": "*", "subVersion": 1, "tagsSet": [], "topic": "HB_T"}]
            }]
        })))
    };
    let empty = broker
        .call(
            RemotingCommand::request(RequestCode::GET_CONSUMER_LIST_BY_GROUP.0).with_header(
                &ferric_protocol::header::GetConsumerListByGroupRequestHeader {
                    consumer_group: "CG_hb".into(),
                },
            ),
        )
        .await?;
    assert_eq!(empty.code, 1);
    assert_eq!(
        empty.remark.as_deref(),
        Some("no consumer for this group, CG_hb")
    );

    let first = broker.call(heartbeat("10.0.0.1@a")).await?;
    assert_eq!(first.code, 0);
    assert!(first.version >= 401);

    // A second client joins: the first one is told.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    broker.client.register_processor(
        RequestCode::NOTIFY_CONSUMER_IDS_CHANGED.0,
        processor_fn(move |_channel, request: RemotingCommand| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(request.ext("consumerGroup").map(str::to_owned));
                Ok(None)
            }
        }),
    );
    let second = RemotingClient::new(ClientConfig::default());
    let answer = second
        .invoke(&broker.addr, heartbeat("10.0.0.2@b"), TIMEOUT)
        .await?;
    assert_eq!(answer.code, 0);
    let notified = tokio::time::timeout(TIMEOUT, rx.recv()).await?;
    assert_eq!(notified.flatten().as_deref(), Some("CG_hb"));

    let list = broker
        .call(
            RemotingCommand::request(RequestCode::GET_CONSUMER_LIST_BY_GROUP.0).with_header(
                &ferric_protocol::header::GetConsumerListByGroupRequestHeader {
                    consumer_group: "CG_hb".into(),
                },
            ),
        )
        .await?;
    assert_eq!(list.code, 0);
    let ids: ConsumerIdList = ferric_protocol::fastjson::from_slice(&list.body)?;
    assert_eq!(
        ids.consumer_id_list,
        vec!["10.0.0.1@a".to_owned(), "10.0.0.2@b".to_owned()]
    );
    // The retry topic was created with 1 queue.
    let retry = broker
        .handle
        .context()
        .topics
        .get("%RETRY%CG_hb")
        .expect("retry topic");
    assert_eq!((retry.read_queue_nums, retry.perm), (1, 6));

    // Locks: the first client takes both queues, the second gets none, then after unlock one.
    let lock = |client: &str, queues: &[i32]| {
        let mq: Vec<_> = queues
            .iter()
            .map(|q| serde_json::json!({"brokerName": "broker-t", "queueId": q, "topic": "HB_T"}))
            .collect();
        body_json(serde_json::json!({"consumerGroup": "CG_hb", "clientId": client, "mqSet": mq}))
    };
    let locked = broker
        .call(
            RemotingCommand::request(RequestCode::LOCK_BATCH_MQ.0)
                .with_body(lock("10.0.0.1@a", &[0, 1])),
        )
        .await?;
    let locked: LockBatchResponseBody = ferric_protocol::fastjson::from_slice(&locked.body)?;
    assert_eq!(locked.lock_ok_mq_set.len(), 2);
    let denied = second
        .invoke(
            &broker.addr,
            RemotingCommand::request(RequestCode::LOCK_BATCH_MQ.0)
                .with_body(lock("10.0.0.2@b", &[0])),
            TIMEOUT,
        )
        .await?;
    let denied: LockBatchResponseBody = ferric_protocol::fastjson::from_slice(&denied.body)?;
    assert!(denied.lock_ok_mq_set.is_empty());
    let unlocked = broker
        .call(
            RemotingCommand::request(RequestCode::UNLOCK_BATCH_MQ.0)
                .with_body(lock("10.0.0.1@a", &[0])),
        )
        .await?;
    assert_eq!(unlocked.code, 0);
    let granted = second
        .invoke(
            &broker.addr,
            RemotingCommand::request(RequestCode::LOCK_BATCH_MQ.0)
                .with_body(lock("10.0.0.2@b", &[0])),
            TIMEOUT,
        )
        .await?;
    let granted: LockBatchResponseBody = ferric_protocol::fastjson::from_slice(&granted.body)?;
    assert_eq!(granted.lock_ok_mq_set.len(), 1);

    // The second client disconnects: the first one is told again.
    second.shutdown().await;
    let notified = tokio::time::timeout(TIMEOUT, rx.recv()).await?;
    assert_eq!(notified.flatten().as_deref(), Some("CG_hb"));
    broker.stop().await
}

#[tokio::test]
async fn query_by_key_and_unique_key() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(test_config(dir.path())).await?;
    let sent = broker
        .call(send_v2(
            "Q_T",
            0,
            b"findme",
            &properties(Some("TagA"), Some("K1 K2"), Some("U-77")),
        ))
        .await?;
    assert_eq!(sent.code, 0);
    let query = |key: &str, unique: bool| {
        let mut request = RemotingCommand::request(RequestCode::QUERY_MESSAGE.0).with_header(
            &QueryMessageRequestHeader {
                topic: "Q_T".into(),
                key: key.into(),
                max_num: 16,
                begin_timestamp: 0,
                end_timestamp: i64::MAX,
            },
        );
        if unique {
            request.set_ext("_UNIQUE_KEY_QUERY", "true");
        }
        request
    };
    for (key, unique) in [("K2", false), ("U-77", true)] {
        let found = broker.call(query(key, unique)).await?;
        assert_eq!(found.code, 0, "{key}: {:?}", found.remark);
        assert!(found.ext("indexLastUpdateTimestamp").is_some());
        assert_eq!(
            decode(&split_records(&found.body)[0]).body.as_ref(),
            b"findme"
        );
    }
    let missing = broker.call(query("nope", false)).await?;
    assert_eq!(missing.code, 22);
    assert_eq!(
        missing.remark.as_deref(),
        Some("can not find message, maybe time range not correct")
    );
    broker.stop().await
}

#[tokio::test]
async fn restart_keeps_messages_topics_and_offsets() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(test_config(dir.path())).await?;
    for i in 0..5 {
        let sent = broker
            .call(send_v2(
                "RS_T",
                2,
                format!("m{i}").as_bytes(),
                &properties(None, None, None),
            ))
            .await?;
        assert_eq!(sent.code, 0);
    }
    let update = RemotingCommand::request(RequestCode::UPDATE_CONSUMER_OFFSET.0).with_header(
        &UpdateConsumerOffsetRequestHeader {
            consumer_group: "CG_rs".into(),
            topic: "RS_T".into(),
            queue_id: 2,
            commit_offset: 3,
        },
    );
    assert_eq!(broker.call(update).await?.code, 0);
    broker.stop().await?;
    assert!(
        !dir.path().join("abort").exists(),
        "clean shutdown removes the abort file"
    );
    assert!(dir.path().join("config/consumerOffset.json").exists());

    let broker = TestBroker::start(test_config(dir.path())).await?;
    assert!(broker.handle.context().topics.get("RS_T").is_some());
    let pulled = broker.call(pull("CG_rs", "RS_T", 2, 0, "*", None)).await?;
    assert_eq!(pulled.code, 0);
    assert_eq!(split_records(&pulled.body).len(), 5);
    assert_eq!(
        broker.handle.context().offsets.query("CG_rs", "RS_T", 2),
        Some(3)
    );
    broker.stop().await
}

#[tokio::test]
async fn bad_input_is_refused_and_the_broker_keeps_serving() -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir()?;
    let config = ferric_broker::BrokerConfig {
        auto_create_topic_enable: false,
        ..test_config(dir.path())
    };
    let broker = TestBroker::start(config).await?;

    // A garbage frame closes only that connection.
    let mut raw = tokio::net::TcpStream::connect(&broker.addr).await?;
    raw.write_all(&[0, 0, 0, 8, 0, 0, 0, 0xff, 1, 2, 3, 4])
        .await?;
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(TIMEOUT, raw.read(&mut buf)).await??;
    assert_eq!(read, 0, "the connection is closed");

    let unknown = broker.call(RemotingCommand::request(9999)).await?;
    assert_eq!(unknown.code, 3);
    assert_eq!(
        unknown.remark.as_deref(),
        Some(" request type 9999 not supported")
    );

    let no_topic = broker
        .call(send_v2("NOPE_T", 0, b"x", &properties(None, None, None)))
        .await?;
    assert_eq!(no_topic.code, 17);

    // An existing topic, an oversized body.
    broker
        .handle
        .context()
        .topics
        .update(ferric_common::TopicConfig::with_queues("BIG_T", 1, 1, 6));
    let big = vec![b'x'; 4 * 1024 * 1024 + 1];
    let oversized = broker
        .call(send_v2("BIG_T", 0, &big, &properties(None, None, None)))
        .await?;
    assert_eq!(oversized.code, 13);

    let mut sql = pull("CG_sql", "BIG_T", 0, 0, "a > 1", None);
    sql.set_ext("expressionType", "SQL92");
    let sql = broker.call(sql).await?;
    assert_eq!(sql.code, 1);
    assert!(sql.remark.unwrap_or_default().contains("SQL92"));

    let fine = broker
        .call(send_v2("BIG_T", 0, b"ok", &properties(None, None, None)))
        .await?;
    assert_eq!(fine.code, 0, "still serving");
    broker.stop().await
}
