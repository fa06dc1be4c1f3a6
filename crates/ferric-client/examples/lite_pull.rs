//! Polls `TopicTest` with the lite pull consumer for 10 rounds.
//!
//! `cargo run -p ferric-client --example lite_pull -- 127.0.0.1:9876`

use std::time::Duration;

use ferric_client::consumer::ConsumeFromWhere;
use ferric_client::consumer::lite_pull::LitePullConsumer;

#[tokio::main]
async fn main() -> ferric_client::Result<()> {
    let namesrv = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9876".to_owned());
    let consumer = LitePullConsumer::builder()
        .namesrv_addr(&namesrv)
        .group("lite_pull_cg")
        .consume_from_where(ConsumeFromWhere::FirstOffset)
        .subscribe("TopicTest", "*")
        .start()
        .await?;
    for _ in 0..10 {
        let msgs = consumer.poll(Duration::from_secs(3)).await;
        println!("polled {} messages", msgs.len());
    }
    consumer.shutdown().await;
    Ok(())
}
