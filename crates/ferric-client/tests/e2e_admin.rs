//! End to end against the real Ferric binaries: every [`Admin`] call.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use ferric_client::consumer::ConsumeFromWhere;
use ferric_client::consumer::pull::PullConsumer;
use ferric_client::consumer::push::PushConsumer;
use ferric_client::{Admin, ClientError, MessageBuilder, SendResult};
use ferric_common::perm::{PERM_READ, PERM_WRITE};
use ferric_common::{MessageQueue, TopicConfig};
use ferric_protocol::body::SubscriptionGroupConfig;
use support::Collector;

const CLUSTER: &str = "DefaultCluster";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Retries `check` (an admin read that must eventually reflect a change) for up to 20 s.
async fn until<T, F, Fut>(what: &str, mut read: F, check: impl Fn(&T) -> bool) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ferric_client::Result<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let value = read().await;
        match value {
            Ok(value) if check(&value) => return Ok(value),
            other if tokio::time::Instant::now() >= deadline => {
                anyhow::bail!("{what}: condition not met; last read ok: {}", other.is_ok())
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

#[test]
fn topics_groups_and_cluster_queries() -> Result<()> {
    const TOPIC: &str = "E2eAdminTopic";
    let rt = ferric_testkit::runtime()?;
    let cluster = support::cluster_with_topic(&rt, &[])?;
    let broker = cluster.broker_addr();
    rt.block_on(async {
        let admin = Admin::with_config(support::client_config(&cluster)).await?;

        let info = admin.cluster_info().await?;
        ensure!(
            info.cluster_addr_table.get(CLUSTER) == Some(&vec!["broker-a".to_owned()]),
            "clusters {:?}",
            info.cluster_addr_table
        );
        ensure!(
            admin.cluster_masters(CLUSTER).await? == vec![broker.clone()],
            "masters"
        );

        // Create on one broker, then update through the cluster.
        let config = TopicConfig::with_queues(TOPIC, 3, 3, PERM_READ | PERM_WRITE);
        admin.create_topic(&broker, &config).await?;
        let route = until(
            "route after create",
            || admin.topic_route(TOPIC),
            |r| {
                r.queue_datas
                    .first()
                    .is_some_and(|q| q.write_queue_nums == 3)
            },
        )
        .await?;
        ensure!(route.broker_datas.len() == 1, "route {route:?}");
        let list = admin.topic_list().await?;
        ensure!(list.iter().any(|t| t == TOPIC), "topic list {list:?}");
        let wider = TopicConfig::with_queues(TOPIC, 5, 5, PERM_READ | PERM_WRITE);
        admin.create_topic_in_cluster(CLUSTER, &wider).await?;
        until(
            "route after update",
            || admin.topic_route(TOPIC),
            |r| {
                r.queue_datas
                    .first()
                    .is_some_and(|q| q.write_queue_nums == 5 && q.read_queue_nums == 5)
            },
        )
        .await?;

        // Topic stats count what was sent.
        let producer = support::producer(&cluster, "e2e_admin_pg").await?;
        support::send_numbered(&producer, TOPIC, "s", 20).await?;
        let stats = admin.topic_stats(TOPIC).await?;
        let total: i64 = stats.offset_table.0.values().map(|o| o.max_offset).sum();
        ensure!(
            stats.offset_table.0.len() == 5 && total == 20,
            "topic stats {stats:?}"
        );

        // A group that may not consume is refused; updating it lets pulls through again;
        // deleting it brings back the auto-created (enabled) default.
        let group = "e2e_admin_group";
        let pull = PullConsumer::builder()
            .client_config(support::client_config(&cluster))
            .group(group)
            .build()
            .await?;
        let mq = MessageQueue::new(TOPIC, "broker-a", 0);
        let disabled = SubscriptionGroupConfig {
            group_name: group.to_owned(),
            consume_enable: false,
            ..SubscriptionGroupConfig::default()
        };
        admin.create_group(&broker, &disabled).await?;
        let refused = pull.pull(&mq, "*", 0, 32).await;
        ensure!(
            refused.as_ref().err().and_then(|e| e.response_code()) == Some(16),
            "pull from a disabled group: {:?}",
            refused.map(|r| r.status)
        );
        let enabled = SubscriptionGroupConfig {
            consume_enable: true,
            ..disabled.clone()
        };
        admin.create_group(&broker, &enabled).await?;
        ensure!(
            pull.pull(&mq, "*", 0, 32).await.is_ok(),
            "pull after enabling"
        );
        admin.create_group(&broker, &disabled).await?;
        admin.delete_group(&broker, group, true).await?;
        ensure!(
            pull.pull(&mq, "*", 0, 32).await.is_ok(),
            "pull after deleting"
        );
        pull.shutdown().await;

        // Runtime info and config.
        let runtime = admin.broker_runtime_info(&broker).await?;
        ensure!(
            runtime.get("brokerVersionDesc").map(String::as_str) == Some("V4_9_8"),
            "runtime info {runtime:?}"
        );
        let config = admin.broker_config(&broker).await?;
        ensure!(
            config.get("brokerName").map(String::as_str) == Some("broker-a")
                && config.get("listenPort") == Some(&cluster.broker_port().to_string()),
            "broker config {config:?}"
        );
        // Ferric's broker reads its configuration once at start and does not serve
        // UPDATE_BROKER_CONFIG: the call reaches it and its refusal comes back as a typed error.
        let mut update = BTreeMap::new();
        update.insert("flushIntervalCommitLog".to_owned(), "321".to_owned());
        let updated = admin.update_broker_config(&broker, &update).await;
        ensure!(
            matches!(updated, Err(ClientError::Broker { code: 3, .. })),
            "UPDATE_BROKER_CONFIG: {updated:?}"
        );

        // Delete: gone from the broker and the NameServer.
        producer.shutdown().await;
        admin.delete_topic(CLUSTER, TOPIC).await?;
        until(
            "topic list after delete",
            || admin.topic_list(),
            |l| !l.iter().any(|t| t == TOPIC),
        )
        .await?;
        ensure!(
            admin.topic_route(TOPIC).await.is_err(),
            "route after delete"
        );

        admin.shutdown().await;
        Ok(())
    })
}

#[test]
fn connections_stats_queries_and_offset_reset() -> Result<()> {
    const TOPIC: &str = "E2eAdminMsgTopic";
    const GROUP: &str = "e2e_admin_cg";
    let rt = ferric_testkit::runtime()?;
    let cluster = support::cluster_with_topic(&rt, &[(TOPIC, 2)])?;
    rt.block_on(async {
        let admin = Admin::with_config(support::client_config(&cluster)).await?;
        let producer = support::producer(&cluster, "e2e_admin_msg_pg").await?;
        let before = now_ms();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut sent: Vec<SendResult> = Vec::new();
        for i in 0..6 {
            let msg = MessageBuilder::new(TOPIC, format!("q-{i}"))
                .keys([format!("key-{i}"), "shared-key".to_owned()])
                .build();
            sent.push(producer.send(msg).await?);
        }

        // Message queries: by offset id, key, unique key, queue offset.
        let first = &sent[0];
        let viewed = admin.view_message(&first.offset_msg_id).await?;
        ensure!(viewed.body.as_ref() == b"q-0", "view {:?}", viewed.body);
        let by_key = until(
            "query by key",
            || admin.query_message_by_key(TOPIC, "key-3", 32, 0, i64::MAX),
            |found| !found.is_empty(),
        )
        .await?;
        ensure!(
            by_key.len() == 1 && by_key[0].body.as_ref() == b"q-3",
            "by key {:?}",
            by_key.iter().map(|m| m.body.clone()).collect::<Vec<_>>()
        );
        let shared = admin
            .query_message_by_key(TOPIC, "shared-key", 32, 0, i64::MAX)
            .await?;
        ensure!(shared.len() == 6, "shared key found {}", shared.len());
        let unique = admin
            .query_message_by_unique_key(TOPIC, &sent[4].msg_id)
            .await?
            .context("unique key not found")?;
        ensure!(unique.body.as_ref() == b"q-4", "unique {:?}", unique.body);
        let at = admin
            .query_message_by_queue_offset(&sent[5].message_queue, sent[5].queue_offset)
            .await?
            .context("nothing at the queue offset")?;
        ensure!(at.body.as_ref() == b"q-5", "at offset {:?}", at.body);

        // A push consumer: connections, consume stats, then a reset by time.
        let collector = Collector::default();
        let consumer = PushConsumer::builder()
            .client_config(support::client_config(&cluster))
            .group(GROUP)
            .subscribe(TOPIC, "*")
            .consume_from_where(ConsumeFromWhere::FirstOffset)
            .register_listener(collector.listener("c"))
            .start()
            .await?;
        ensure!(
            collector
                .wait_until(Duration::from_secs(30), |c| c.all().len() >= 6)
                .await,
            "consumed {:?}",
            collector.all()
        );
        let connections = admin.consumer_connections(GROUP).await?;
        ensure!(
            connections
                .connection_set
                .iter()
                .any(|c| c.client_id == consumer.instance().client_id()),
            "consumer connections {connections:?}"
        );
        ensure!(
            connections.subscription_table.contains_key(TOPIC),
            "subscriptions {:?}",
            connections.subscription_table.keys()
        );
        let producers = admin
            .producer_connections("e2e_admin_msg_pg", TOPIC)
            .await?;
        ensure!(
            producers
                .connection_set
                .iter()
                .any(|c| c.client_id == producer.instance().client_id()),
            "producer connections {producers:?}"
        );
        let stats = until(
            "consume stats",
            || admin.consume_stats(GROUP, Some(TOPIC)),
            |s| {
                let topic_queues: Vec<_> = s
                    .offset_table
                    .0
                    .iter()
                    .filter(|(q, _)| q.topic == TOPIC)
                    .collect();
                topic_queues.len() == 2
                    && topic_queues
                        .iter()
                        .all(|(_, o)| o.consumer_offset == o.broker_offset)
            },
        )
        .await?;
        let consumed: i64 = stats
            .offset_table
            .0
            .iter()
            .filter(|(q, _)| q.topic == TOPIC)
            .map(|(_, o)| o.consumer_offset)
            .sum();
        ensure!(consumed == 6, "consume stats {stats:?}");

        // Reset to before the first message: the running consumer gets everything again.
        let reset = admin
            .reset_offset_by_time(GROUP, TOPIC, before, true)
            .await?;
        let reset_to: BTreeSet<i64> = reset.iter().map(|(_, o)| *o).collect();
        ensure!(
            reset.len() == 2 && reset_to == BTreeSet::from([0]),
            "reset offsets {reset:?}"
        );
        ensure!(
            collector
                .wait_until(Duration::from_secs(30), |c| c.all().len() >= 12)
                .await,
            "after reset consumed {:?}",
            collector.all()
        );
        let all = collector.all();
        let twice = (0..6).all(|i| all.iter().filter(|b| **b == format!("q-{i}")).count() == 2);
        ensure!(twice, "after reset consumed {all:?}");

        consumer.shutdown().await;
        producer.shutdown().await;
        admin.shutdown().await;
        Ok(())
    })
}
