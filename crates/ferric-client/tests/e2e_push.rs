//! End to end against the real Ferric binaries: push consumers (clustering, broadcasting,
//! orderly), rebalancing when a consumer leaves, restart from committed offsets, consume-from.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, ensure};
use ferric_client::MessageBuilder;
use ferric_client::consumer::push::{ConsumeOrderlyStatus, PushConsumer};
use ferric_client::consumer::{ConsumeFromWhere, MessageModel};
use parking_lot::Mutex;
use support::Collector;

const TOPIC: &str = "E2ePushTopic";

async fn push(
    cluster: &ferric_testkit::FerricCluster,
    group: &str,
    collector: &Collector,
    name: &str,
    model: MessageModel,
    from: ConsumeFromWhere,
) -> Result<PushConsumer> {
    Ok(PushConsumer::builder()
        .client_config(support::client_config(cluster))
        .group(group)
        .subscribe(TOPIC, "*")
        .message_model(model)
        .consume_from_where(from)
        .offset_store_dir(cluster.root_dir().join(format!("offsets-{name}")))
        .register_listener(collector.listener(name))
        .start()
        .await?)
}

fn topic_queue_counts(consumers: &[PushConsumer]) -> Vec<usize> {
    consumers
        .iter()
        .map(|c| {
            c.assigned_queues()
                .iter()
                .filter(|q| q.topic == TOPIC)
                .count()
        })
        .collect()
}

#[test]
fn clustering_spreads_queues_and_consumes_exactly_once_then_rebalances() -> Result<()> {
    let rt = ferric_testkit::runtime()?;
    let cluster = support::cluster_with_topic(&rt, &[(TOPIC, 8)])?;
    rt.block_on(async {
        let producer = support::producer(&cluster, "e2e_push_pg").await?;
        let collector = Collector::default();
        let mut consumers = Vec::new();
        for name in ["c1", "c2", "c3"] {
            consumers.push(
                push(
                    &cluster,
                    "e2e_cluster_cg",
                    &collector,
                    name,
                    MessageModel::Clustering,
                    ConsumeFromWhere::FirstOffset,
                )
                .await?,
            );
        }
        let spread = support::eventually(Duration::from_secs(30), || {
            let sizes = topic_queue_counts(&consumers);
            sizes.iter().sum::<usize>() == 8 && sizes.iter().all(|n| (2..=3).contains(n))
        })
        .await;
        let sizes = topic_queue_counts(&consumers);
        ensure!(spread, "queues not spread evenly: {sizes:?}");

        support::send_numbered(&producer, TOPIC, "m", 120).await?;
        ensure!(
            collector
                .wait_until(Duration::from_secs(30), |c| c.all().len() >= 120)
                .await,
            "consumed {}",
            collector.all().len()
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        let all = collector.all();
        let unique: HashSet<&String> = all.iter().collect();
        ensure!(
            all.len() == 120 && unique.len() == 120,
            "{} deliveries, {} unique",
            all.len(),
            unique.len()
        );
        ensure!(
            ["c1", "c2", "c3"]
                .iter()
                .all(|n| !collector.of(n).is_empty()),
            "a consumer got nothing"
        );

        // c3 leaves: its queues move to c1/c2 and nothing is lost.
        let leaving = consumers
            .pop()
            .ok_or_else(|| anyhow::anyhow!("no consumer"))?;
        leaving.shutdown().await;
        let moved = support::eventually(Duration::from_secs(40), || {
            topic_queue_counts(&consumers).iter().sum::<usize>() == 8
        })
        .await;
        ensure!(moved, "queues not taken over");
        support::send_numbered(&producer, TOPIC, "after", 60).await?;
        let ok = collector
            .wait_until(Duration::from_secs(40), |c| {
                c.all()
                    .iter()
                    .filter(|b| b.starts_with("after-"))
                    .collect::<HashSet<_>>()
                    .len()
                    == 60
            })
            .await;
        ensure!(ok, "messages lost after rebalance");
        for consumer in consumers {
            consumer.shutdown().await;
        }
        producer.shutdown().await;
        Ok(())
    })
}

#[test]
fn broadcasting_delivers_every_message_to_every_consumer() -> Result<()> {
    let rt = ferric_testkit::runtime()?;
    let cluster = support::cluster_with_topic(&rt, &[(TOPIC, 4)])?;
    rt.block_on(async {
        let producer = support::producer(&cluster, "e2e_bcast_pg").await?;
        let collector = Collector::default();
        let a = push(
            &cluster,
            "e2e_bcast_cg",
            &collector,
            "a",
            MessageModel::Broadcasting,
            ConsumeFromWhere::FirstOffset,
        )
        .await?;
        let b = push(
            &cluster,
            "e2e_bcast_cg",
            &collector,
            "b",
            MessageModel::Broadcasting,
            ConsumeFromWhere::FirstOffset,
        )
        .await?;
        support::send_numbered(&producer, TOPIC, "b", 40).await?;
        let ok = collector
            .wait_until(Duration::from_secs(30), |c| {
                c.of("a").len() >= 40 && c.of("b").len() >= 40
            })
            .await;
        ensure!(
            ok,
            "a={} b={}",
            collector.of("a").len(),
            collector.of("b").len()
        );
        a.shutdown().await;
        b.shutdown().await;
        ensure!(
            cluster
                .root_dir()
                .join("offsets-a")
                .join("e2e_bcast_cg")
                .join("offsets.json")
                .exists()
        );
        producer.shutdown().await;
        Ok(())
    })
}

#[test]
fn orderly_messages_arrive_in_order_per_queue() -> Result<()> {
    let rt = ferric_testkit::runtime()?;
    let cluster = support::cluster_with_topic(&rt, &[(TOPIC, 4)])?;
    rt.block_on(async {
        let producer = support::producer(&cluster, "e2e_order_pg").await?;
        let seen: Arc<Mutex<HashMap<String, Vec<usize>>>> = Arc::default();
        let failed_once = Arc::new(Mutex::new(false));
        let consumer = {
            let seen = Arc::clone(&seen);
            let failed_once = Arc::clone(&failed_once);
            PushConsumer::builder()
                .client_config(support::client_config(&cluster))
                .group("e2e_order_cg")
                .subscribe(TOPIC, "*")
                .consume_from_where(ConsumeFromWhere::FirstOffset)
                .suspend_current_queue_time(Duration::from_millis(100))
                .register_orderly_listener(move |msgs| {
                    let seen = Arc::clone(&seen);
                    let failed_once = Arc::clone(&failed_once);
                    async move {
                        let mut first_failure = failed_once.lock();
                        if !*first_failure {
                            *first_failure = true;
                            return ConsumeOrderlyStatus::SuspendCurrentQueueAMoment;
                        }
                        for msg in msgs {
                            let body = String::from_utf8_lossy(&msg.body).into_owned();
                            let (key, seq) = body.split_once(':').unwrap_or(("?", "0"));
                            seen.lock()
                                .entry(key.to_owned())
                                .or_default()
                                .push(seq.parse().unwrap_or(0));
                        }
                        ConsumeOrderlyStatus::Success
                    }
                })
                .start()
                .await?
        };
        for seq in 0..20 {
            for key in ["order-1", "order-2", "order-3"] {
                producer
                    .send_orderly(
                        MessageBuilder::new(TOPIC, format!("{key}:{seq}")).build(),
                        key,
                    )
                    .await?;
            }
        }
        let done = support::eventually(Duration::from_secs(40), || {
            let seen = seen.lock();
            seen.len() == 3 && seen.values().all(|v| v.len() >= 20)
        })
        .await;
        ensure!(done, "orderly consumption incomplete: {:?}", seen.lock());
        for (key, seqs) in seen.lock().iter() {
            ensure!(
                seqs.iter().copied().eq(0..20),
                "{key} out of order: {seqs:?}"
            );
        }
        consumer.shutdown().await;
        producer.shutdown().await;
        Ok(())
    })
}

#[test]
fn restart_resumes_from_committed_offsets_and_consume_from_first() -> Result<()> {
    let rt = ferric_testkit::runtime()?;
    let cluster = support::cluster_with_topic(&rt, &[(TOPIC, 4)])?;
    rt.block_on(async {
        let producer = support::producer(&cluster, "e2e_restart_pg").await?;
        support::send_numbered(&producer, TOPIC, "old", 20).await?;

        // A new group starting from the first offset sees the old messages. (For a brand-new
        // group whose queue still holds offset 0 in memory the broker answers 0 rather than
        // QUERY_NOT_FOUND, as Java brokers do, so LAST_OFFSET cannot be told apart here.)
        let first = Collector::default();
        let from_first = push(
            &cluster,
            "e2e_first_cg",
            &first,
            "first",
            MessageModel::Clustering,
            ConsumeFromWhere::FirstOffset,
        )
        .await?;
        ensure!(
            first
                .wait_until(Duration::from_secs(30), |c| c.all().len() >= 20)
                .await,
            "first got {}",
            first.all().len()
        );
        support::send_numbered(&producer, TOPIC, "new", 10).await?;
        // The from-first group stops, more messages arrive, and it resumes where it stopped.
        ensure!(
            first
                .wait_until(Duration::from_secs(30), |c| c.all().len() >= 30)
                .await
        );
        from_first.shutdown().await;
        support::send_numbered(&producer, TOPIC, "later", 10).await?;
        let resumed = Collector::default();
        let again = push(
            &cluster,
            "e2e_first_cg",
            &resumed,
            "again",
            MessageModel::Clustering,
            ConsumeFromWhere::FirstOffset,
        )
        .await?;
        ensure!(
            resumed
                .wait_until(Duration::from_secs(30), |c| c.all().len() >= 10)
                .await
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        let bodies = resumed.all();
        ensure!(
            bodies.iter().all(|b| b.starts_with("later-")),
            "re-consumed committed messages: {bodies:?}"
        );
        again.shutdown().await;
        producer.shutdown().await;
        Ok(())
    })
}
