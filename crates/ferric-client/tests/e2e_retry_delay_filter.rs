//! End to end against the real Ferric binaries: push-consumer retries and the dead-letter
//! queue, delay levels, and SQL92 subscriptions (`enablePropertyFilter=true`).

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use ferric_client::consumer::push::{ConsumeConcurrentlyStatus, PushConsumer};
use ferric_client::consumer::{ConsumeFromWhere, MessageSelector};
use ferric_client::{Admin, ClientError, MessageBuilder};
use ferric_common::MessageExt;
use ferric_testkit::{ClusterOptions, FerricCluster};
use parking_lot::Mutex;
use support::Collector;

/// Level 3 (the first retry level) is 1 s; level 2 is 3 s for the delay test.
const LEVELS: &str = "1s 3s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";

fn cluster(rt: &tokio::runtime::Runtime, topics: &[(&str, i32)]) -> Result<FerricCluster> {
    let options = ClusterOptions::default()
        .broker_config("messageDelayLevel", LEVELS)
        .broker_config("enablePropertyFilter", "true");
    support::cluster_with_options(rt, options, topics)
}

/// Records `(body, reconsume_times)` of every delivery; fails a body while `fail(body, times)`.
fn recording_listener(
    seen: Arc<Mutex<Vec<(String, i32)>>>,
    fail: impl Fn(&str, i32) -> bool + Send + Sync + 'static,
) -> impl Fn(Vec<MessageExt>) -> std::future::Ready<ConsumeConcurrentlyStatus> + Send + Sync + 'static
{
    move |msgs| {
        let mut status = ConsumeConcurrentlyStatus::ConsumeSuccess;
        for msg in msgs {
            let body = String::from_utf8_lossy(&msg.body).into_owned();
            if fail(&body, msg.reconsume_times) {
                status = ConsumeConcurrentlyStatus::ReconsumeLater;
            }
            seen.lock().push((body, msg.reconsume_times));
        }
        std::future::ready(status)
    }
}

fn times_of(seen: &Mutex<Vec<(String, i32)>>, body: &str) -> Vec<i32> {
    seen.lock()
        .iter()
        .filter(|(b, _)| b == body)
        .map(|(_, t)| *t)
        .collect()
}

#[test]
fn failed_messages_are_retried_then_dead_lettered() -> Result<()> {
    const TOPIC: &str = "E2eRetryTopic";
    let rt = ferric_testkit::runtime()?;
    let cluster = cluster(&rt, &[(TOPIC, 2)])?;
    rt.block_on(async {
        let producer = support::producer(&cluster, "e2e_retry_pg").await?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        // "flaky" fails twice then succeeds; "doomed" always fails and has 2 redeliveries.
        let consumer = PushConsumer::builder()
            .client_config(support::client_config(&cluster))
            .group("e2e_retry_cg")
            .subscribe(TOPIC, "*")
            .consume_from_where(ConsumeFromWhere::FirstOffset)
            .max_reconsume_times(Some(2))
            .register_listener(recording_listener(Arc::clone(&seen), |body, times| {
                body == "doomed" || (body == "flaky" && times < 2)
            }))
            .start()
            .await?;
        producer
            .send(
                MessageBuilder::new(TOPIC, "flaky")
                    .keys(["flaky-key"])
                    .build(),
            )
            .await?;
        let doomed = producer
            .send(
                MessageBuilder::new(TOPIC, "doomed")
                    .keys(["doomed-key"])
                    .build(),
            )
            .await?;

        let retried = support::eventually(Duration::from_secs(60), || {
            times_of(&seen, "flaky").len() >= 3 && times_of(&seen, "doomed").len() >= 3
        })
        .await;
        ensure!(retried, "deliveries: {:?}", seen.lock());
        // The DLQ copy keeps the original UNIQ_KEY.
        let admin = Admin::with_config(support::client_config(&cluster)).await?;
        let mut dead = None;
        for _ in 0..100 {
            dead = admin
                .query_message_by_unique_key("%DLQ%e2e_retry_cg", &doomed.msg_id)
                .await
                .ok()
                .flatten();
            if dead.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let dead = dead.context("no dead-letter copy of the doomed message")?;
        ensure!(dead.body.as_ref() == b"doomed", "DLQ body {:?}", dead.body);
        ensure!(
            dead.properties.get("RETRY_TOPIC").is_none()
                || dead.properties.get("RETRY_TOPIC") == Some(TOPIC),
            "DLQ properties {:?}",
            dead.properties
        );
        // Nothing more arrives: "flaky" succeeded at its third delivery, "doomed" is dead.
        tokio::time::sleep(Duration::from_secs(4)).await;
        ensure!(
            times_of(&seen, "flaky") == vec![0, 1, 2],
            "flaky deliveries {:?}",
            times_of(&seen, "flaky")
        );
        ensure!(
            times_of(&seen, "doomed") == vec![0, 1, 2],
            "doomed deliveries {:?}",
            times_of(&seen, "doomed")
        );
        admin.shutdown().await;
        consumer.shutdown().await;
        producer.shutdown().await;
        Ok(())
    })
}

#[test]
fn delayed_messages_arrive_after_their_level() -> Result<()> {
    const TOPIC: &str = "E2eDelayTopic";
    let rt = ferric_testkit::runtime()?;
    let cluster = cluster(&rt, &[(TOPIC, 1)])?;
    rt.block_on(async {
        let producer = support::producer(&cluster, "e2e_delay_pg").await?;
        let arrived: Arc<Mutex<Vec<MessageExt>>> = Arc::default();
        let consumer = {
            let arrived = Arc::clone(&arrived);
            PushConsumer::builder()
                .client_config(support::client_config(&cluster))
                .group("e2e_delay_cg")
                .subscribe(TOPIC, "*")
                .consume_from_where(ConsumeFromWhere::FirstOffset)
                .register_listener(move |msgs: Vec<MessageExt>| {
                    arrived.lock().extend(msgs);
                    std::future::ready(ConsumeConcurrentlyStatus::ConsumeSuccess)
                })
                .start()
                .await?
        };
        let delayed = producer
            .send(MessageBuilder::new(TOPIC, "later").delay_level(2).build())
            .await?;
        producer
            .send(MessageBuilder::new(TOPIC, "now").build())
            .await?;
        let both = support::eventually(Duration::from_secs(30), || arrived.lock().len() >= 2).await;
        let msgs = arrived.lock().clone();
        let bodies: Vec<String> = msgs
            .iter()
            .map(|m| String::from_utf8_lossy(&m.body).into_owned())
            .collect();
        ensure!(both, "arrived {bodies:?}");
        ensure!(bodies == ["now", "later"], "arrival order {bodies:?}");
        let later = &msgs[1];
        ensure!(later.topic == TOPIC, "delayed topic {}", later.topic);
        ensure!(later.msg_id() == delayed.msg_id, "delayed msg id changed");
        ensure!(
            later.properties.get("REAL_TOPIC") == Some(TOPIC),
            "properties {:?}",
            later.properties
        );
        // Re-stored once the 3 s of level 2 passed since the message was first stored.
        let waited = later.store_timestamp - later.born_timestamp;
        ensure!(waited >= 3000, "delayed only {waited} ms");
        consumer.shutdown().await;
        producer.shutdown().await;
        Ok(())
    })
}

#[test]
fn sql92_subscription_filters_on_the_broker() -> Result<()> {
    const TOPIC: &str = "E2eSqlTopic";
    let rt = ferric_testkit::runtime()?;
    let cluster = cluster(&rt, &[(TOPIC, 2)])?;
    rt.block_on(async {
        // A typo is refused before anything reaches the broker.
        let typo = PushConsumer::builder()
            .client_config(support::client_config(&cluster))
            .group("e2e_sql_bad_cg")
            .subscribe(TOPIC, MessageSelector::by_sql("amount >"))
            .register_listener(Collector::default().listener("x"))
            .start()
            .await;
        ensure!(
            matches!(typo, Err(ClientError::Config(_))),
            "bad SQL92 start: {:?}",
            typo.map(|_| ())
        );

        let collector = Collector::default();
        let selector = MessageSelector::by_sql("amount > 100 AND (region = 'eu' OR TAGS = 'vip')");
        let consumer = PushConsumer::builder()
            .client_config(support::client_config(&cluster))
            .group("e2e_sql_cg")
            .subscribe(TOPIC, selector)
            .consume_from_where(ConsumeFromWhere::FirstOffset)
            .register_listener(collector.listener("sql"))
            .start()
            .await?;
        let producer = support::producer(&cluster, "e2e_sql_pg").await?;
        let cases = [
            ("eu-big", "plain", Some("eu"), Some("500"), true),
            ("eu-small", "plain", Some("eu"), Some("50"), false),
            ("us-big", "plain", Some("us"), Some("500"), false),
            ("vip-big", "vip", None, Some("101"), true),
            ("no-amount", "vip", Some("eu"), None, false),
            ("eu-edge", "plain", Some("eu"), Some("100"), false),
        ];
        let mut expected = BTreeSet::new();
        for (body, tag, region, amount, matches) in cases {
            let mut msg = MessageBuilder::new(TOPIC, body).tags(tag);
            if let Some(region) = region {
                msg = msg.property("region", region);
            }
            if let Some(amount) = amount {
                msg = msg.property("amount", amount);
            }
            producer.send(msg.build()).await?;
            if matches {
                expected.insert(body.to_owned());
            }
        }
        let got_all = collector
            .wait_until(Duration::from_secs(30), |c| c.all().len() >= expected.len())
            .await;
        ensure!(got_all, "consumed {:?}", collector.all());
        tokio::time::sleep(Duration::from_secs(2)).await;
        let all = collector.all();
        let got: BTreeSet<String> = all.iter().cloned().collect();
        ensure!(
            got == expected && all.len() == expected.len(),
            "consumed {all:?}, expected {expected:?}"
        );

        // The broker saw the subscription as SQL92 (heartbeat).
        let admin = Admin::with_config(support::client_config(&cluster)).await?;
        let connections = admin.consumer_connections("e2e_sql_cg").await?;
        let sub = connections
            .subscription_table
            .get(TOPIC)
            .context("no subscription for the topic")?;
        ensure!(
            sub.expression_type == "SQL92" && sub.sub_string.contains("amount > 100"),
            "registered subscription {sub:?}"
        );
        admin.shutdown().await;
        consumer.shutdown().await;
        producer.shutdown().await;
        Ok(())
    })
}

#[test]
fn sql92_needs_the_property_filter_on_the_broker() -> Result<()> {
    const TOPIC: &str = "E2eSqlOffTopic";
    let rt = ferric_testkit::runtime()?;
    let cluster = support::cluster_with_topic(&rt, &[(TOPIC, 1)])?;
    rt.block_on(async {
        let refused = PushConsumer::builder()
            .client_config(support::client_config(&cluster))
            .group("e2e_sql_off_cg")
            .subscribe(TOPIC, MessageSelector::by_sql("a > 1"))
            .register_listener(Collector::default().listener("x"))
            .start()
            .await;
        let code = refused.as_ref().err().and_then(ClientError::response_code);
        ensure!(
            code == Some(1),
            "start against a broker without enablePropertyFilter: {:?}",
            refused.map(|_| ())
        );
        Ok(())
    })
}
