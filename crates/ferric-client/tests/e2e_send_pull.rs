//! End to end against the real Ferric binaries: every send mode, then the pull consumer reads
//! everything back and queries offsets.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Result, ensure};
use ferric_client::consumer::pull::PullConsumer;
use ferric_client::consumer::pull_result::PullStatus;
use ferric_client::{MessageBuilder, SendStatus};
use ferric_common::MessageQueue;

const TOPIC: &str = "E2eSendTopic";

#[test]
fn every_send_mode_then_pull_back() -> Result<()> {
    let rt = ferric_testkit::runtime()?;
    let cluster = support::cluster_with_topic(&rt, &[(TOPIC, 4)])?;
    rt.block_on(async {
        let producer = support::producer(&cluster, "e2e_send_pg").await?;
        let mut expected: HashSet<String> = HashSet::new();

        let sync = producer
            .send(
                MessageBuilder::new(TOPIC, "sync-0")
                    .tags("TagA")
                    .keys(["k0"])
                    .property("p", "v")
                    .build(),
            )
            .await?;
        ensure!(
            sync.status == SendStatus::SendOk,
            "sync status {:?}",
            sync.status
        );
        ensure!(sync.msg_id.len() == 32 && sync.offset_msg_id.len() == 32);
        expected.insert("sync-0".into());

        let spawned = tokio::spawn({
            let producer = producer.clone();
            async move {
                producer
                    .send(MessageBuilder::new(TOPIC, "async-1").tags("TagB").build())
                    .await
            }
        });
        spawned.await??;
        expected.insert("async-1".into());

        producer
            .send_oneway(MessageBuilder::new(TOPIC, "oneway-2").tags("TagA").build())
            .await?;
        expected.insert("oneway-2".into());

        let batch: Vec<_> = (0..5)
            .map(|i| {
                MessageBuilder::new(TOPIC, format!("batch-{i}"))
                    .tags("TagA")
                    .build()
            })
            .collect();
        let results = producer.send_batch(batch).await?;
        ensure!(results.len() == 1 && results[0].msg_id.split(',').count() == 5);
        expected.extend((0..5).map(|i| format!("batch-{i}")));

        let queue = MessageQueue::new(TOPIC, cluster.broker_name(), 2);
        let to_queue = producer
            .send_to_queue(MessageBuilder::new(TOPIC, "queue-2").build(), &queue)
            .await?;
        ensure!(to_queue.message_queue.queue_id == 2);
        expected.insert("queue-2".into());

        let ordered_a = producer
            .send_orderly(MessageBuilder::new(TOPIC, "order-a").build(), "order-7")
            .await?;
        let ordered_b = producer
            .send_orderly(MessageBuilder::new(TOPIC, "order-b").build(), "order-7")
            .await?;
        ensure!(
            ordered_a.message_queue == ordered_b.message_queue,
            "same key, same queue"
        );
        ensure!(ordered_b.queue_offset > ordered_a.queue_offset);
        expected.extend(["order-a".to_owned(), "order-b".to_owned()]);

        let big = "x".repeat(10_000);
        producer
            .send(MessageBuilder::new(TOPIC, big.clone()).build())
            .await?;
        expected.insert(big.clone());

        // Unknown topic: TBW102 fallback lets the broker auto-create it.
        let auto = producer
            .send(MessageBuilder::new("E2eAutoCreated", "auto").build())
            .await?;
        ensure!(auto.status == SendStatus::SendOk);

        tokio::time::sleep(Duration::from_millis(500)).await;
        let consumer = PullConsumer::builder()
            .client_config(support::client_config(&cluster))
            .group("e2e_send_cg")
            .build()
            .await?;
        let mut got = HashSet::new();
        for mq in consumer.fetch_subscribe_message_queues(TOPIC).await? {
            let max = consumer.max_offset(&mq).await?;
            ensure!(consumer.min_offset(&mq).await? == 0);
            ensure!(consumer.fetch_consume_offset(&mq).await?.unwrap_or(0) == 0);
            let mut offset = 0;
            while offset < max {
                let result = consumer.pull(&mq, "*", offset, 32).await?;
                ensure!(
                    result.status == PullStatus::Found,
                    "status {:?}",
                    result.status
                );
                for msg in &result.messages {
                    got.insert(String::from_utf8_lossy(&msg.body).into_owned());
                    ensure!(msg.properties.get("MAX_OFFSET").is_some());
                }
                offset = result.next_begin_offset;
            }
            let none = consumer.pull(&mq, "*", offset, 32).await?;
            ensure!(
                none.status == PullStatus::NoNewMsg,
                "status {:?}",
                none.status
            );
            consumer.update_consume_offset(&mq, offset).await?;
            ensure!(consumer.fetch_consume_offset(&mq).await? == Some(offset));
            let search = consumer.search_offset(&mq, 0).await?;
            ensure!(search <= 1, "search offset {search}");
        }
        ensure!(
            got == expected,
            "missing {:?}",
            expected.difference(&got).collect::<Vec<_>>()
        );

        // Tag filter is exact on the client side.
        let mq = MessageQueue::new(TOPIC, cluster.broker_name(), 0);
        let filtered = consumer.pull(&mq, "TagB", 0, 32).await?;
        ensure!(filtered.messages.iter().all(|m| m.tags() == Some("TagB")));

        consumer.shutdown().await;
        producer.shutdown().await;
        Ok(())
    })
}
