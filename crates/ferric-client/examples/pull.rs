//! Pulls every queue of `TopicTest` from its committed offset and commits what it read.
//!
//! `cargo run -p ferric-client --example pull -- 127.0.0.1:9876`

use ferric_client::consumer::pull::PullConsumer;

#[tokio::main]
async fn main() -> ferric_client::Result<()> {
    let namesrv = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9876".to_owned());
    let consumer = PullConsumer::builder()
        .namesrv_addr(&namesrv)
        .group("pull_cg")
        .build()
        .await?;
    for mq in consumer.fetch_subscribe_message_queues("TopicTest").await? {
        let mut offset = consumer.fetch_consume_offset(&mq).await?.unwrap_or(0);
        loop {
            let result = consumer
                .pull_block_if_not_found(&mq, "*", offset, 32)
                .await?;
            println!(
                "{:?} {:?} {} messages",
                mq,
                result.status,
                result.messages.len()
            );
            if result.messages.is_empty() {
                break;
            }
            offset = result.next_begin_offset;
        }
        consumer.update_consume_offset(&mq, offset).await?;
    }
    consumer.shutdown().await;
    Ok(())
}
