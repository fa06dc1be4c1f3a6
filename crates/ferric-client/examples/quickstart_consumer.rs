//! Consumes `TopicTest` with a concurrent push consumer until Ctrl-C.
//!
//! `cargo run -p ferric-client --example quickstart_consumer -- 127.0.0.1:9876`

use ferric_client::consumer::ConsumeFromWhere;
use ferric_client::consumer::push::{ConsumeConcurrentlyStatus, PushConsumer};

#[tokio::main]
async fn main() -> ferric_client::Result<()> {
    let namesrv = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9876".to_owned());
    let consumer = PushConsumer::builder()
        .namesrv_addr(&namesrv)
        .group("please_rename_unique_group_name_4")
        .consume_from_where(ConsumeFromWhere::FirstOffset)
        .subscribe("TopicTest", "*")
        .register_listener(|msgs| async move {
            for msg in &msgs {
                println!(
                    "received {} {:?}",
                    msg.msg_id(),
                    String::from_utf8_lossy(&msg.body)
                );
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .start()
        .await?;
    println!("consumer started; Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    consumer.shutdown().await;
    Ok(())
}
