//! End to end against the real Ferric binaries: lite pull consumer (subscribe, poll, commit,
//! assign, seek).

mod support;

use std::time::Duration;

use anyhow::{Result, ensure};
use ferric_client::consumer::ConsumeFromWhere;
use ferric_client::consumer::lite_pull::LitePullConsumer;
use ferric_common::MessageQueue;

const TOPIC: &str = "E2eLiteTopic";

#[test]
fn lite_pull_subscribe_assign_seek_commit() -> Result<()> {
    let rt = ferric_testkit::runtime()?;
    let cluster = support::cluster_with_topic(&rt, &[(TOPIC, 2)])?;
    rt.block_on(async {
        let producer = support::producer(&cluster, "e2e_lite_pg").await?;
        support::send_numbered(&producer, TOPIC, "l", 30).await?;

        let consumer = LitePullConsumer::builder()
            .client_config(support::client_config(&cluster))
            .group("e2e_lite_cg")
            .subscribe(TOPIC, "*")
            .consume_from_where(ConsumeFromWhere::FirstOffset)
            .auto_commit(false)
            .start()
            .await?;
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while got.len() < 30 && tokio::time::Instant::now() < deadline {
            got.extend(consumer.poll(Duration::from_secs(1)).await);
        }
        ensure!(got.len() == 30, "polled {}", got.len());
        consumer.commit().await?;
        let mq0 = MessageQueue::new(TOPIC, cluster.broker_name(), 0);
        let committed = consumer.committed(&mq0).await?;
        ensure!(committed > 0, "committed {committed}");
        consumer.shutdown().await;

        let assigned = LitePullConsumer::builder()
            .client_config(support::client_config(&cluster))
            .group("e2e_lite_assign_cg")
            .consume_from_where(ConsumeFromWhere::FirstOffset)
            .start()
            .await?;
        assigned.assign(vec![mq0.clone()]).await;
        assigned.seek_to_end(&mq0).await?;
        assigned.seek(&mq0, 1)?;
        let batch = assigned.poll(Duration::from_secs(10)).await;
        ensure!(
            batch.first().map(|m| m.queue_offset) == Some(1),
            "after seek: {:?}",
            batch.first().map(|m| m.queue_offset)
        );
        ensure!(assigned.offset_for_timestamp(&mq0, 0).await? <= 1);
        assigned.shutdown().await;
        producer.shutdown().await;
        Ok(())
    })
}
