//! The input file (one message per JSON line), message building, JSON-lines output and hex.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use anyhow::{Context, Result, anyhow, bail};
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_single::Message;
use serde_json::{Value, json};

/// One message to send, as read from the input file.
pub struct Spec {
    pub tags: String,
    pub keys: Vec<String>,
    pub properties: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// RocketMQ 4 delay level (`DELAY` property), 0 for none.
    pub delay_level: i32,
    /// RocketMQ 5 timer delay in milliseconds (`TIMER_DELAY_MS` property), 0 for none.
    pub delay_ms: u64,
}

impl Spec {
    /// The `idx` user property, if any.
    pub fn index(&self) -> Option<&str> {
        self.properties.get("idx").map(String::as_str)
    }
}

pub fn read_specs(path: &str) -> Result<Vec<Spec>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {path}"))?;
    let mut specs = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line)?;
        let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
        let keys = value["keys"]
            .as_array()
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let properties = value["properties"]
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let delay_level = value["delay_level"].as_i64().unwrap_or(0);
        specs.push(Spec {
            tags: text("tags"),
            keys,
            properties,
            body: from_hex(&text("body_hex"))?,
            delay_level: i32::try_from(delay_level).context("delay_level out of range")?,
            delay_ms: value["delay_ms"].as_u64().unwrap_or(0),
        });
    }
    Ok(specs)
}

pub fn build_message(topic: &str, spec: &Spec) -> Result<Message> {
    let mut builder = Message::builder()
        .topic(topic)
        .tags(spec.tags.as_str())
        .keys(spec.keys.clone())
        .body_slice(&spec.body);
    if spec.delay_level > 0 {
        builder = builder.delay_level(spec.delay_level);
    }
    if spec.delay_ms > 0 {
        builder = builder.delay_millis(spec.delay_ms);
    }
    for (key, value) in &spec.properties {
        builder = builder
            .raw_property(key.as_str(), value.as_str())
            .map_err(|error| anyhow!("property {key}: {error}"))?;
    }
    builder
        .build()
        .map_err(|error| anyhow!("building a message: {error}"))
}

/// Every property of a received message.
pub fn properties_of(message: &MessageExt) -> BTreeMap<String, String> {
    message
        .properties()
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

/// The JSON line a consumer prints for one received message.
pub fn received_line(message: &MessageExt) -> Value {
    let properties = properties_of(message);
    let body = message.body().map(|body| body.to_vec()).unwrap_or_default();
    json!({
        "topic": message.topic().to_string(),
        "tags": message.get_tags().map(|tags| tags.to_string()),
        "keys": properties.get("KEYS"),
        "properties": properties,
        "body_hex": to_hex(&body),
        "msg_id": message.msg_id().to_string(),
        "queue_id": message.queue_id(),
        "queue_offset": message.queue_offset(),
        "reconsume_times": message.reconsume_times(),
        "born_timestamp": message.born_timestamp(),
        "store_timestamp": message.store_timestamp(),
        "received_at_ms": now_millis(),
    })
}

pub fn print_line(value: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

/// Milliseconds since the Unix epoch on this machine's clock.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub fn from_hex(text: &str) -> Result<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        bail!("odd-length hex");
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).context("bad hex"))
        .collect()
}
