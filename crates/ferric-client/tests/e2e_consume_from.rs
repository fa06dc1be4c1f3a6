//! End to end against the real Ferric binaries: where a new consumer group starts.
//!
//! Like Java's broker, Ferric answers QUERY_CONSUMER_OFFSET for a group without a committed
//! offset with 0 while the queue still starts at offset 0, so every new group reads a fresh
//! queue from the start whatever its consume-from-where. The setting only decides once the
//! queue's min offset is above 0; this test gets there the way production does, by letting the
//! broker's cleanup delete expired CommitLog and ConsumeQueue files (tiny files, 0 h reserve,
//! cleanup allowed at every hour).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use ferric_client::Admin;
use ferric_client::MessageBuilder;
use ferric_client::consumer::lite_pull::LitePullConsumer;
use ferric_client::consumer::push::PushConsumer;
use ferric_client::consumer::{ConsumeFromWhere, MessageModel};
use ferric_common::{MessageExt, MessageQueue};
use ferric_testkit::ClusterOptions;
use support::Collector;

const TOPIC: &str = "E2eConsumeFromTopic";
const OLD: usize = 120;

fn every_hour() -> String {
    (0..24).map(|h| h.to_string()).collect::<Vec<_>>().join(";")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn bodies(prefix: &str, range: std::ops::Range<usize>) -> BTreeSet<String> {
    range.map(|i| format!("{prefix}-{i}")).collect()
}

#[test]
fn new_groups_start_where_consume_from_where_says_once_the_queue_was_trimmed() -> Result<()> {
    let rt = ferric_testkit::runtime()?;
    let options = ClusterOptions::default()
        .broker_config("mappedFileSizeCommitLog", "16384")
        .broker_config("mappedFileSizeConsumeQueue", "400")
        .broker_config("fileReservedTime", "0")
        .broker_config("deleteWhen", &every_hour());
    let cluster = support::cluster_with_options(&rt, options, &[(TOPIC, 1)])?;
    rt.block_on(async {
        let producer = support::producer(&cluster, "e2e_from_pg").await?;
        let filler = "x".repeat(512);
        for i in 0..OLD {
            producer
                .send(MessageBuilder::new(TOPIC, format!("old-{i}-{filler}")).build())
                .await?;
        }
        let admin = Admin::with_config(support::client_config(&cluster)).await?;
        let mq = MessageQueue::new(TOPIC, cluster.broker_name(), 0);
        // The cleanup runs every 10 s; wait until it trimmed the queue.
        let mut min = 0;
        for _ in 0..60 {
            let stats = admin.topic_stats(TOPIC).await?;
            min = stats
                .offset_table
                .0
                .iter()
                .find(|(q, _)| q.queue_id == 0)
                .map(|(_, o)| o.min_offset)
                .unwrap_or(0);
            if min > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        ensure!(min > 0, "the broker never trimmed {TOPIC}");
        let min = usize::try_from(min)?;

        tokio::time::sleep(Duration::from_millis(20)).await;
        let since = now_ms();
        tokio::time::sleep(Duration::from_millis(20)).await;
        for i in 0..5 {
            producer
                .send(MessageBuilder::new(TOPIC, format!("mid-{i}")).build())
                .await?;
        }

        let collector = Collector::default();
        let mut consumers = Vec::new();
        for (group, from) in [
            ("e2e_from_last_cg", ConsumeFromWhere::LastOffset),
            ("e2e_from_ts_cg", ConsumeFromWhere::Timestamp(since)),
            ("e2e_from_first_cg", ConsumeFromWhere::FirstOffset),
        ] {
            let record = collector.listener(group);
            let consumer = PushConsumer::builder()
                .client_config(support::client_config(&cluster))
                .group(group)
                .subscribe(TOPIC, "*")
                .message_model(MessageModel::Clustering)
                .consume_from_where(from)
                .register_listener(move |msgs: Vec<MessageExt>| {
                    // Keep only the message name (`old-7`), not the filler.
                    let named = msgs
                        .into_iter()
                        .map(|mut msg| {
                            let body = String::from_utf8_lossy(&msg.body).into_owned();
                            let name: Vec<&str> = body.splitn(3, '-').take(2).collect();
                            msg.body = name.join("-").into_bytes().into();
                            msg
                        })
                        .collect();
                    record(named)
                })
                .start()
                .await?;
            let assigned = support::eventually(Duration::from_secs(20), || {
                consumer.assigned_queues().iter().any(|q| q.topic == TOPIC)
            })
            .await;
            ensure!(assigned, "{group}: queues {:?}", consumer.assigned_queues());
            consumers.push(consumer);
        }
        let lite = LitePullConsumer::builder()
            .client_config(support::client_config(&cluster))
            .group("e2e_from_lite_cg")
            .subscribe(TOPIC, "*")
            .consume_from_where(ConsumeFromWhere::LastOffset)
            .start()
            .await?;
        ensure!(
            lite.assignment() == vec![mq.clone()],
            "lite queues {:?}",
            lite.assignment()
        );

        for i in 0..5 {
            producer
                .send(MessageBuilder::new(TOPIC, format!("new-{i}")).build())
                .await?;
        }

        let new = bodies("new", 0..5);
        let mid = bodies("mid", 0..5);
        let mid_and_new: BTreeSet<String> = mid.union(&new).cloned().collect();
        let done = collector
            .wait_until(Duration::from_secs(40), |c| {
                c.of("e2e_from_last_cg").len() >= new.len()
                    && c.of("e2e_from_ts_cg").len() >= mid_and_new.len()
                    && mid_and_new
                        .iter()
                        .all(|b| c.of("e2e_from_first_cg").contains(b))
            })
            .await;
        ensure!(done, "consumed {:?}", collector.seen.lock());
        tokio::time::sleep(Duration::from_secs(2)).await;
        for (group, want) in [("e2e_from_last_cg", &new), ("e2e_from_ts_cg", &mid_and_new)] {
            let got = collector.of(group);
            let set: BTreeSet<String> = got.iter().cloned().collect();
            ensure!(
                &set == want && got.len() == want.len(),
                "{group} consumed {got:?}, expected {want:?}"
            );
        }
        // FIRST reads from the queue's min offset: a suffix of the old messages that starts at
        // or after the min seen above (the cleanup may have trimmed more since), then the rest.
        let first = collector.of("e2e_from_first_cg");
        let first_set: BTreeSet<String> = first.iter().cloned().collect();
        ensure!(
            first.len() == first_set.len(),
            "FIRST duplicates: {first:?}"
        );
        let old_seen: Vec<usize> = first
            .iter()
            .filter_map(|b| b.strip_prefix("old-"))
            .filter_map(|i| i.parse().ok())
            .collect();
        let lowest = old_seen.iter().min().copied().unwrap_or(OLD);
        ensure!(
            lowest >= min,
            "FIRST read old-{lowest}, below the min offset {min}"
        );
        ensure!(
            first_set.len() == (OLD - lowest) + mid_and_new.len(),
            "FIRST consumed {first:?} (lowest old {lowest}, min offset {min})"
        );

        let mut polled = BTreeSet::new();
        for _ in 0..20 {
            for msg in lite.poll(Duration::from_millis(500)).await {
                polled.insert(String::from_utf8_lossy(&msg.body).into_owned());
            }
            if polled.len() >= new.len() {
                break;
            }
        }
        ensure!(polled == new, "lite pull (LAST) polled {polled:?}");
        lite.commit().await?;
        let committed = lite.committed(&mq).await.context("lite committed offset")?;
        let max = admin
            .topic_stats(TOPIC)
            .await?
            .offset_table
            .0
            .iter()
            .find(|(q, _)| q.queue_id == 0)
            .map(|(_, o)| o.max_offset)
            .unwrap_or(-1);
        ensure!(
            committed == max,
            "lite committed {committed}, queue max {max}"
        );

        lite.shutdown().await;
        for consumer in consumers {
            consumer.shutdown().await;
        }
        admin.shutdown().await;
        producer.shutdown().await;
        Ok(())
    })
}
