//! Restart: messages sent through SEND_MESSAGE_V2 and committed consumer offsets survive a
//! clean SIGTERM stop (exit 0) and a start on the same store and ports.

use std::time::Duration;

use anyhow::{Result, ensure};
use ferric_testkit::{ClusterOptions, FerricCluster, OutgoingMessage, PulledMessage, runtime};

const TOPIC: &str = "RestartTopic";
const GROUP: &str = "restart-group";
const QUEUES: i32 = 4;
const COUNT: usize = 200;

fn message(index: usize) -> OutgoingMessage {
    OutgoingMessage {
        topic: TOPIC.to_owned(),
        queue_id: (index % QUEUES as usize) as i32,
        tags: Some(format!("Tag{}", index % 3)),
        keys: vec![format!("key-{index}")],
        properties: vec![("idx".to_owned(), index.to_string())],
        body: (0..(index % 97 + 1))
            .map(|byte| (byte * 31 + index) as u8)
            .collect(),
    }
}

fn check_all(pulled: &[PulledMessage]) -> Result<()> {
    ensure!(pulled.len() == COUNT, "pulled {} of {COUNT}", pulled.len());
    let mut seen = [false; COUNT];
    for got in pulled {
        let index: usize = got.properties.get("idx").unwrap_or_default().parse()?;
        ensure!(
            index < COUNT && !seen[index],
            "idx {index} unexpected or twice"
        );
        seen[index] = true;
        let want = message(index);
        ensure!(got.body == want.body, "idx {index}: body differs");
        ensure!(got.body_crc_ok, "idx {index}: body CRC mismatch");
        ensure!(
            got.queue_id == want.queue_id,
            "idx {index}: queue {}",
            got.queue_id
        );
        ensure!(
            got.properties.get("TAGS") == want.tags.as_deref(),
            "idx {index}: tags"
        );
        ensure!(
            got.properties.get("KEYS") == Some(want.keys[0].as_str()),
            "idx {index}: keys"
        );
    }
    Ok(())
}

#[test]
fn messages_and_offsets_survive_a_clean_restart() -> Result<()> {
    let mut cluster = FerricCluster::start_namesrv_and_broker(ClusterOptions::default())?;
    let broker = cluster.broker_addr();
    let admin = cluster.admin();
    let rt = runtime()?;
    rt.block_on(async {
        admin
            .create_topic_and_wait(&broker, TOPIC, QUEUES, Duration::from_secs(30))
            .await?;
        for index in 0..COUNT {
            let receipt = admin
                .send(&broker, "restart-producer", &message(index))
                .await?;
            ensure!(
                receipt.queue_id == message(index).queue_id,
                "send {index}: {receipt:?}"
            );
            ensure!(
                receipt.queue_offset == (index / QUEUES as usize) as i64,
                "send {index}: {receipt:?}"
            );
        }
        for queue in 0..QUEUES {
            admin
                .update_consumer_offset(&broker, GROUP, TOPIC, queue, i64::from(queue) * 5 + 1)
                .await?;
        }
        anyhow::Ok(())
    })?;
    drop(admin);

    let status = cluster.stop_broker()?;
    ensure!(status.success(), "broker exit status on SIGTERM: {status}");
    cluster.start_broker()?;

    let admin = cluster.admin();
    rt.block_on(async {
        admin.wait_for_route(TOPIC, Duration::from_secs(30)).await?;
        let pulled = admin
            .pull_all_queues(&broker, GROUP, TOPIC, QUEUES, COUNT)
            .await?;
        check_all(&pulled)?;
        for queue in 0..QUEUES {
            let offset = admin
                .query_consumer_offset(&broker, GROUP, TOPIC, queue)
                .await?;
            ensure!(
                offset == Some(i64::from(queue) * 5 + 1),
                "queue {queue}: committed offset {offset:?} after restart"
            );
        }
        let receipt = admin
            .send(&broker, "restart-producer", &message(COUNT))
            .await?;
        ensure!(
            receipt.queue_offset == (COUNT / QUEUES as usize) as i64,
            "send after restart continues the queue: {receipt:?}"
        );
        anyhow::Ok(())
    })?;
    let status = cluster.stop_broker()?;
    ensure!(status.success(), "second SIGTERM exit status: {status}");
    Ok(())
}
