//! `request`: sends the first input message with `DefaultMQProducer::request` and prints the
//! reply: `{"reply_topic","reply_body_hex","reply_properties","sent_at_ms","replied_at_ms"}`.
//! A missing reply (timeout) is an error.

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow};
use rocketmq_client_rust::DefaultMQProducer;
use serde_json::json;

use crate::spec::{build_message, now_millis, print_line, read_specs, to_hex};
use crate::{ClientHandle, option};

pub async fn request(client: &ClientHandle, options: &BTreeMap<String, String>) -> Result<()> {
    let topic = option(options, "topic")?;
    let timeout_ms: u64 = option(options, "timeout-ms")?.parse()?;
    let specs = read_specs(option(options, "input")?)?;
    let spec = specs.first().context("the input file has no message")?;
    let mut producer = DefaultMQProducer::builder(client.runtime.clone())
        .producer_group(option(options, "group")?.to_owned())
        .name_server_addr(option(options, "namesrv")?.to_owned())
        .build();
    producer
        .start()
        .await
        .map_err(|error| anyhow!("producer start: {error}"))?;
    let message = build_message(topic, spec)?;
    let sent_at_ms = now_millis();
    let result = producer.request(message, timeout_ms).await;
    let replied_at_ms = now_millis();
    producer.shutdown().await;
    let reply = result.map_err(|error| anyhow!("request: {error}"))?;
    let properties: BTreeMap<String, String> = reply
        .get_properties()
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    let body = reply
        .get_body()
        .map(|body| body.to_vec())
        .unwrap_or_default();
    print_line(&json!({
        "reply_topic": reply.topic().to_string(),
        "reply_body_hex": to_hex(&body),
        "reply_properties": properties,
        "sent_at_ms": sent_at_ms,
        "replied_at_ms": replied_at_ms,
    }));
    Ok(())
}
