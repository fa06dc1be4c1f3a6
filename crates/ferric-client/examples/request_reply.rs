//! Request-reply: a responder consumes requests and replies; the requester waits for the reply.
//!
//! `cargo run -p ferric-client --example request_reply -- 127.0.0.1:9876`

use std::time::Duration;

use ferric_client::consumer::push::{ConsumeConcurrentlyStatus, PushConsumer};
use ferric_client::producer::request::create_reply_message;
use ferric_client::{MessageBuilder, Producer};

#[tokio::main]
async fn main() -> ferric_client::Result<()> {
    let namesrv = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9876".to_owned());
    let replier = Producer::builder()
        .namesrv_addr(&namesrv)
        .group("reply_pg")
        .build()
        .await?;
    let responder = {
        let replier = replier.clone();
        PushConsumer::builder()
            .namesrv_addr(&namesrv)
            .group("reply_cg")
            .subscribe("RequestTopic", "*")
            .register_listener(move |msgs| {
                let replier = replier.clone();
                async move {
                    for msg in msgs {
                        let body = format!("reply to {}", String::from_utf8_lossy(&msg.body));
                        match create_reply_message(&msg, body) {
                            Ok(reply) => {
                                if let Err(error) = replier.send(reply).await {
                                    eprintln!("reply failed: {error}");
                                }
                            }
                            Err(error) => eprintln!("cannot reply: {error}"),
                        }
                    }
                    ConsumeConcurrentlyStatus::ConsumeSuccess
                }
            })
            .start()
            .await?
    };
    let requester = Producer::builder()
        .namesrv_addr(&namesrv)
        .group("request_pg")
        .build()
        .await?;
    let reply = requester
        .request(
            MessageBuilder::new("RequestTopic", "ping").build(),
            Duration::from_secs(15),
        )
        .await?;
    println!("got: {}", String::from_utf8_lossy(&reply.body));
    requester.shutdown().await;
    responder.shutdown().await;
    replier.shutdown().await;
    Ok(())
}
