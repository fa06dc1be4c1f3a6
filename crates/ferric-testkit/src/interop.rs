//! Shared pieces of the interop tests: the messages every client sends, the JSON-lines files
//! the client programs read and print, and the check that a consumer got exactly what was sent.
//!
//! Input line (one per message): `{"tags":"TagA","keys":["k1","k2"],"properties":{..},
//! "body_hex":".."}`. Consumer output line: `{"topic","tags","keys","properties","body_hex",
//! "msg_id"}` (`keys` space-separated, as the `KEYS` property stores them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// Which bytes bodies may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyBytes {
    /// Every byte value, NUL included.
    Binary,
    /// Every byte value but NUL (for clients that return bodies as C strings).
    NulFree,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSpec {
    /// Tag.
    pub tags: String,
    /// Keys.
    pub keys: Vec<String>,
    /// User properties; `idx` identifies the message, `order` is its ordering key.
    pub properties: BTreeMap<String, String>,
    /// Body.
    pub body: Vec<u8>,
}

/// One message as a consumer printed it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMessage {
    /// Topic.
    pub topic: String,
    /// Tag.
    pub tags: Option<String>,
    /// Keys, space-separated.
    pub keys: Option<String>,
    /// Properties the client reported.
    pub properties: BTreeMap<String, String>,
    /// Body.
    pub body: Vec<u8>,
    /// Message id as the client reports it.
    pub msg_id: String,
}

/// `count` distinct messages for run `run` (tags, two keys, three user properties, bodies of
/// varying length over all byte values allowed by `bytes`).
pub fn generate_messages(run: &str, count: usize, bytes: BodyBytes) -> Vec<MessageSpec> {
    (0..count)
        .map(|index| {
            let mut body = format!("{run}/{index}:").into_bytes();
            let extra = (index * 37) % 300 + 1;
            body.extend((0..extra).map(|offset| {
                let byte = ((offset * 7 + index * 13) % 256) as u8;
                match (bytes, byte) {
                    (BodyBytes::NulFree, 0) => 1,
                    _ => byte,
                }
            }));
            let properties = BTreeMap::from([
                ("idx".to_owned(), index.to_string()),
                ("run".to_owned(), run.to_owned()),
                ("order".to_owned(), (index % 4).to_string()),
            ]);
            MessageSpec {
                tags: ["TagA", "TagB", "TagC"][index % 3].to_owned(),
                keys: vec![format!("key-{run}-{index}"), format!("order-{}", index % 4)],
                properties,
                body,
            }
        })
        .collect()
}

/// Writes `messages` as the JSON-lines input file of the client programs.
pub fn write_input(path: &Path, messages: &[MessageSpec]) -> Result<PathBuf> {
    let mut text = String::new();
    for message in messages {
        let line = json!({
            "tags": message.tags,
            "keys": message.keys,
            "properties": message.properties,
            "body_hex": hex_encode(&message.body),
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path.to_path_buf())
}

/// Parses a consumer's stdout (lines that are not JSON objects with a `msg_id` are skipped).
pub fn parse_received(stdout: &str) -> Result<Vec<ReceivedMessage>> {
    let mut received = Vec::new();
    for line in stdout.lines().map(str::trim).filter(|l| l.starts_with('{')) {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(msg_id) = value["msg_id"].as_str() else {
            continue;
        };
        let text = |key: &str| value[key].as_str().map(str::to_owned);
        let properties = value["properties"]
            .as_object()
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        received.push(ReceivedMessage {
            topic: text("topic").unwrap_or_default(),
            tags: text("tags"),
            keys: text("keys"),
            properties,
            body: hex_decode(value["body_hex"].as_str().unwrap_or_default())
                .with_context(|| format!("body_hex of {line}"))?,
            msg_id: msg_id.to_owned(),
        });
    }
    Ok(received)
}

/// Checks that `received` is exactly `sent` on `topic`: same count, each `idx` once, and per
/// message the same tag, keys, user properties and byte-identical body.
pub fn check_exactly(
    topic: &str,
    sent: &[MessageSpec],
    received: &[ReceivedMessage],
) -> Result<()> {
    let mut problems = Vec::new();
    let mut by_index: BTreeMap<usize, &ReceivedMessage> = BTreeMap::new();
    for message in received {
        let index = message
            .properties
            .get("idx")
            .and_then(|idx| idx.parse().ok());
        match index {
            Some(index) if index < sent.len() => {
                if by_index.insert(index, message).is_some() {
                    problems.push(format!("message idx={index} received twice"));
                }
            }
            _ => problems.push(format!("unexpected message {message:?}")),
        }
    }
    for (index, spec) in sent.iter().enumerate() {
        let Some(got) = by_index.get(&index) else {
            problems.push(format!("message idx={index} never received"));
            continue;
        };
        if got.topic != topic {
            problems.push(format!(
                "idx={index}: topic {:?}, want {topic:?}",
                got.topic
            ));
        }
        if got.tags.as_deref() != Some(spec.tags.as_str()) {
            problems.push(format!(
                "idx={index}: tags {:?}, want {:?}",
                got.tags, spec.tags
            ));
        }
        let keys = spec.keys.join(" ");
        if got.keys.as_deref().map(str::trim) != Some(keys.as_str()) {
            problems.push(format!("idx={index}: keys {:?}, want {keys:?}", got.keys));
        }
        for (key, value) in &spec.properties {
            if got.properties.get(key) != Some(value) {
                problems.push(format!(
                    "idx={index}: property {key}={:?}, want {value:?}",
                    got.properties.get(key)
                ));
            }
        }
        if got.body != spec.body {
            problems.push(format!(
                "idx={index}: body differs ({} bytes {}, want {} bytes {})",
                got.body.len(),
                hex_encode(&got.body),
                spec.body.len(),
                hex_encode(&spec.body)
            ));
        }
    }
    if received.len() != sent.len() {
        problems.push(format!(
            "received {} messages, sent {}",
            received.len(),
            sent.len()
        ));
    }
    if !problems.is_empty() {
        let shown: Vec<&str> = problems.iter().take(20).map(String::as_str).collect();
        bail!(
            "{} problem(s) with the received messages:\n  {}",
            problems.len(),
            shown.join("\n  ")
        );
    }
    Ok(())
}

/// Lower-case hex.
pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Parses lower- or upper-case hex.
pub fn hex_decode(text: &str) -> Result<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        bail!("odd-length hex {text:?}");
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .with_context(|| format!("bad hex at {i}"))
        })
        .collect()
}

/// The repository root (two levels above this crate's manifest).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fails with a pointer to `scripts/interop-setup.sh` when `path` does not exist.
pub fn require_installed(path: &Path, client: &str) -> Result<PathBuf> {
    if !path.exists() {
        bail!(
            "the {client} interop client is not installed ({} missing): run \
             scripts/interop-setup.sh (scripts/test.sh does)",
            path.display()
        );
    }
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_messages_round_trip_through_the_files() -> Result<()> {
        let sent = generate_messages("r1", 12, BodyBytes::Binary);
        assert!(sent.iter().any(|m| m.body.contains(&0)));
        let dir = tempfile::tempdir()?;
        write_input(&dir.path().join("in.jsonl"), &sent)?;
        let printed: String = sent
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let line = json!({"topic": "T", "tags": m.tags, "keys": m.keys.join(" "),
                    "properties": m.properties, "body_hex": hex_encode(&m.body),
                    "msg_id": format!("ID{i}")});
                format!("{line}\nnoise\n")
            })
            .collect();
        let received = parse_received(&printed)?;
        check_exactly("T", &sent, &received)?;
        Ok(())
    }

    #[test]
    fn check_reports_missing_changed_and_extra() -> Result<()> {
        let sent = generate_messages("r2", 3, BodyBytes::NulFree);
        assert!(sent.iter().all(|m| !m.body.contains(&0)));
        let mut received: Vec<ReceivedMessage> = sent
            .iter()
            .map(|m| ReceivedMessage {
                topic: "T".into(),
                tags: Some(m.tags.clone()),
                keys: Some(m.keys.join(" ")),
                properties: m.properties.clone(),
                body: m.body.clone(),
                msg_id: "x".into(),
            })
            .collect();
        check_exactly("T", &sent, &received)?;
        received[0].body.pop();
        let error = check_exactly("T", &sent, &received)
            .err()
            .map(|e| e.to_string());
        assert!(error.unwrap_or_default().contains("idx=0: body differs"));
        received.pop();
        let error = check_exactly("T", &sent, &received)
            .err()
            .map(|e| e.to_string());
        assert!(error.unwrap_or_default().contains("idx=2 never received"));
        Ok(())
    }
}
