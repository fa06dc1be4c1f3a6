//! Sends 10 messages to `TopicTest`, like RocketMQ's quickstart producer.
//!
//! `cargo run -p ferric-client --example quickstart_producer -- 127.0.0.1:9876`

use ferric_client::{MessageBuilder, Producer};

#[tokio::main]
async fn main() -> ferric_client::Result<()> {
    let namesrv = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9876".to_owned());
    let producer = Producer::builder()
        .namesrv_addr(&namesrv)
        .group("please_rename_unique_group_name")
        .build()
        .await?;
    for i in 0..10 {
        let msg = MessageBuilder::new("TopicTest", format!("Hello RocketMQ {i}"))
            .tags("TagA")
            .build();
        let result = producer.send(msg).await?;
        println!(
            "{:?} {} {:?} offset {}",
            result.status, result.msg_id, result.message_queue, result.queue_offset
        );
    }
    producer.shutdown().await;
    Ok(())
}
