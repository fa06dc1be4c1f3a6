//! Sends a batch of messages in one SEND_BATCH_MESSAGE request.
//!
//! `cargo run -p ferric-client --example batch -- 127.0.0.1:9876`

use ferric_client::{MessageBuilder, Producer};

#[tokio::main]
async fn main() -> ferric_client::Result<()> {
    let namesrv = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9876".to_owned());
    let producer = Producer::builder()
        .namesrv_addr(&namesrv)
        .group("batch_pg")
        .build()
        .await?;
    let messages = (0..3)
        .map(|i| {
            MessageBuilder::new("BatchTest", format!("Hello world {i}"))
                .tags("TagA")
                .keys([format!("OrderID00{i}")])
                .build()
        })
        .collect();
    for result in producer.send_batch(messages).await? {
        println!(
            "{:?} ids {} first offset {}",
            result.status, result.msg_id, result.queue_offset
        );
    }
    producer.shutdown().await;
    Ok(())
}
