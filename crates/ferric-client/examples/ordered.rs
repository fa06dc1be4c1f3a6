//! Ordered messages: orders with the same id go to the same queue and are consumed in order.
//!
//! `cargo run -p ferric-client --example ordered -- 127.0.0.1:9876`

use std::time::Duration;

use ferric_client::consumer::ConsumeFromWhere;
use ferric_client::consumer::push::{ConsumeOrderlyStatus, PushConsumer};
use ferric_client::{MessageBuilder, Producer};

#[tokio::main]
async fn main() -> ferric_client::Result<()> {
    let namesrv = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9876".to_owned());
    let producer = Producer::builder()
        .namesrv_addr(&namesrv)
        .group("ordered_pg")
        .build()
        .await?;
    for step in ["create", "pay", "ship", "done"] {
        for order in 0..3 {
            let msg = MessageBuilder::new("OrderTopic", format!("order-{order}:{step}")).build();
            producer
                .send_orderly(msg, &format!("order-{order}"))
                .await?;
        }
    }
    let consumer = PushConsumer::builder()
        .namesrv_addr(&namesrv)
        .group("ordered_cg")
        .consume_from_where(ConsumeFromWhere::FirstOffset)
        .subscribe("OrderTopic", "*")
        .register_orderly_listener(|msgs| async move {
            for msg in &msgs {
                println!(
                    "queue {} {}",
                    msg.queue_id,
                    String::from_utf8_lossy(&msg.body)
                );
            }
            ConsumeOrderlyStatus::Success
        })
        .start()
        .await?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    consumer.shutdown().await;
    producer.shutdown().await;
    Ok(())
}
