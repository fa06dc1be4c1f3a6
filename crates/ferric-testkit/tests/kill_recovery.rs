//! kill -9 recovery: with `flushDiskType=SYNC_FLUSH`, every message the broker acknowledged is
//! there after SIGKILL and a restart on the same store.

use std::time::Duration;

use anyhow::{Result, ensure};
use ferric_testkit::{ClusterOptions, FerricCluster, OutgoingMessage, runtime};

const TOPIC: &str = "KillTopic";
const QUEUES: i32 = 2;
const COUNT: usize = 150;

fn message(index: usize) -> OutgoingMessage {
    OutgoingMessage {
        topic: TOPIC.to_owned(),
        queue_id: (index % QUEUES as usize) as i32,
        tags: Some("K".to_owned()),
        keys: vec![format!("kill-{index}")],
        properties: vec![("idx".to_owned(), index.to_string())],
        body: format!("acknowledged message {index} ")
            .repeat(index % 5 + 1)
            .into_bytes(),
    }
}

#[test]
fn acknowledged_messages_survive_sigkill_with_sync_flush() -> Result<()> {
    let options = ClusterOptions::default()
        .broker_config("flushDiskType", "SYNC_FLUSH")
        .broker_config("mappedFileSizeCommitLog", "65536");
    let mut cluster = FerricCluster::start_namesrv_and_broker(options)?;
    let broker = cluster.broker_addr();
    let admin = cluster.admin();
    let rt = runtime()?;
    let acknowledged = rt.block_on(async {
        admin
            .create_topic_and_wait(&broker, TOPIC, QUEUES, Duration::from_secs(30))
            .await?;
        let mut acknowledged = Vec::new();
        for index in 0..COUNT {
            let receipt = admin
                .send(&broker, "kill-producer", &message(index))
                .await?;
            acknowledged.push((index, receipt));
        }
        anyhow::Ok(acknowledged)
    })?;
    drop(admin);

    let status = cluster.kill_broker()?;
    ensure!(
        !status.success(),
        "SIGKILL should not look like a clean exit: {status}"
    );
    cluster.start_broker()?;

    let admin = cluster.admin();
    rt.block_on(async {
        admin.wait_for_route(TOPIC, Duration::from_secs(30)).await?;
        let pulled = admin
            .pull_all_queues(&broker, "kill-check", TOPIC, QUEUES, COUNT * 2)
            .await?;
        for (index, receipt) in &acknowledged {
            let found = pulled.iter().find(|got| {
                got.queue_id == receipt.queue_id && got.queue_offset == receipt.queue_offset
            });
            let Some(found) = found else {
                anyhow::bail!("acknowledged message {index} ({receipt:?}) lost after kill -9");
            };
            ensure!(
                found.body == message(*index).body,
                "message {index}: body differs"
            );
            ensure!(found.body_crc_ok, "message {index}: CRC mismatch");
            ensure!(
                found.properties.get("idx") == Some(index.to_string().as_str()),
                "message {index}: properties {:?}",
                found.properties
            );
        }
        ensure!(
            pulled.len() == COUNT,
            "pulled {} messages, sent {COUNT}",
            pulled.len()
        );
        anyhow::Ok(())
    })
}
