//! Interop driver: sends and receives messages through Ferric with the independent crates.io
//! client `rocketmq-client-rust`.
//!
//! ```text
//! ferric-interop-rust produce --namesrv ADDR --topic T --group G --mode MODE --input FILE
//! ferric-interop-rust consume --namesrv ADDR --topic T --group G --expect N --timeout-secs S
//! ```
//!
//! `--input` holds one JSON object per line: `{"tags":..,"keys":[..],"properties":{..},
//! "body_hex":".."}`. MODE is `sync`, `async`, `oneway`, `batch` or `ordered` (ordered sends
//! with a queue selector keyed by the `order` property). The producer prints one JSON line per
//! acknowledged send (`{"sent":i,"msg_id":..}`) and exits 0 when every send succeeded.
//!
//! The consumer (a push consumer, from the first offset) prints one JSON line per received
//! message: `{"topic","tags","keys","properties","body_hex","msg_id"}` and exits once it has
//! `--expect` distinct messages, or with status 3 at the timeout.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use rocketmq_client_rust::{
    ClientError, ClientResult, ClientRuntime, ClientRuntimeConfig, ConsumeConcurrentlyContext,
    ConsumeConcurrentlyStatus, ConsumeOrderlyContext, ConsumeOrderlyStatus, DefaultMQProducer,
    DefaultMQPushConsumer, MQPushConsumer, MessageListenerConcurrently, MessageListenerOrderly,
};
use rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere;
use rocketmq_model::common::message::message_ext::MessageExt;
use rocketmq_model::common::message::message_single::Message;
use rocketmq_runtime::{RuntimeConfig, RuntimeOwner};
use serde_json::{Value, json};

/// One message to send, as read from the input file.
struct Spec {
    tags: String,
    keys: Vec<String>,
    properties: BTreeMap<String, String>,
    body: Vec<u8>,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first().cloned() else {
        bail!("usage: ferric-interop-rust produce|consume --namesrv ADDR --topic T ...");
    };
    let options = parse_options(&args[1..])?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = ClientHandle::new(&command).await?;
        let result = match command.as_str() {
            "produce" => produce(&client, &options).await,
            "consume" => consume(&client, &options).await,
            other => Err(anyhow!("unknown command {other:?}")),
        };
        client.shutdown().await;
        result
    })
}

fn parse_options(args: &[String]) -> Result<BTreeMap<String, String>> {
    let mut options = BTreeMap::new();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let Some(name) = flag.strip_prefix("--") else {
            bail!("unexpected argument {flag:?}");
        };
        let value = iter.next().with_context(|| format!("--{name} needs a value"))?;
        options.insert(name.to_owned(), value.clone());
    }
    Ok(options)
}

fn option<'a>(options: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str> {
    options
        .get(name)
        .map(String::as_str)
        .with_context(|| format!("missing --{name}"))
}

/// The client runtime the crate's builders need.
struct ClientHandle {
    owner: RuntimeOwner,
    runtime: Arc<ClientRuntime>,
    telemetry: rocketmq_observability::TelemetryRuntimeGuard,
}

impl ClientHandle {
    async fn new(scope: &str) -> Result<Self> {
        let owner = RuntimeOwner::plan(RuntimeConfig {
            thread_name: format!("interop-{scope}"),
            ..Default::default()
        })
        .map_err(|error| anyhow!("runtime plan: {error:?}"))?
        .build()
        .map_err(|error| anyhow!("runtime build: {error:?}"))?;
        let telemetry = rocketmq_observability::install_global(
            &rocketmq_observability::TelemetryBootstrapConfig::default(),
        )
        .map_err(|error| anyhow!("telemetry: {error:?}"))?;
        let runtime = ClientRuntime::try_new(
            owner.root_context().component("client"),
            ClientRuntimeConfig::default(),
            telemetry.handle(),
        )
        .map_err(|error| anyhow!("client runtime: {error}"))?;
        Ok(Self {
            owner,
            runtime,
            telemetry,
        })
    }

    async fn shutdown(self) {
        let _ = self.runtime.shutdown().await;
        let _ = self.owner.shutdown_tasks().await;
        let _ = self.owner.shutdown_background();
        let _ = self.telemetry.shutdown();
    }
}

fn read_specs(path: &str) -> Result<Vec<Spec>> {
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
        specs.push(Spec {
            tags: text("tags"),
            keys,
            properties,
            body: from_hex(&text("body_hex"))?,
        });
    }
    Ok(specs)
}

fn build_message(topic: &str, spec: &Spec) -> Result<Message> {
    let mut builder = Message::builder()
        .topic(topic)
        .tags(spec.tags.as_str())
        .keys(spec.keys.clone())
        .body_slice(&spec.body);
    for (key, value) in &spec.properties {
        builder = builder
            .raw_property(key.as_str(), value.as_str())
            .map_err(|error| anyhow!("property {key}: {error}"))?;
    }
    builder.build().map_err(|error| anyhow!("building a message: {error}"))
}

async fn produce(client: &ClientHandle, options: &BTreeMap<String, String>) -> Result<()> {
    let topic = option(options, "topic")?;
    let mode = option(options, "mode")?;
    let specs = read_specs(option(options, "input")?)?;
    let mut producer = DefaultMQProducer::builder(client.runtime.clone())
        .producer_group(option(options, "group")?.to_owned())
        .name_server_addr(option(options, "namesrv")?.to_owned())
        .build();
    producer
        .start()
        .await
        .map_err(|error| anyhow!("producer start: {error}"))?;
    let result = send_all(&producer, topic, mode, &specs).await;
    producer.shutdown().await;
    result
}

fn print_line(value: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

async fn send_all(
    producer: &DefaultMQProducer,
    topic: &str,
    mode: &str,
    specs: &[Spec],
) -> Result<()> {
    let timeout_ms = 10_000;
    match mode {
        "sync" => {
            for (index, spec) in specs.iter().enumerate() {
                let message = build_message(topic, spec)?;
                let result = producer
                    .send_with_timeout(message, timeout_ms)
                    .await
                    .map_err(|error| anyhow!("send {index}: {error}"))?
                    .with_context(|| format!("send {index}: no result"))?;
                print_line(&json!({"sent": index, "msg_id": result.msg_id.map(|id| id.to_string()),
                    "status": format!("{:?}", result.send_status)}));
            }
        }
        "async" => {
            let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
            for (index, spec) in specs.iter().enumerate() {
                let message = build_message(topic, spec)?;
                let done_tx = done_tx.clone();
                producer
                    .send_with_callback_timeout(
                        message,
                        move |result, error: Option<&ClientError>| {
                            let outcome = match (result, error) {
                                (Some(result), _) => {
                                    Ok(result.msg_id.as_ref().map(|id| id.to_string()))
                                }
                                (None, Some(error)) => Err(error.to_string()),
                                (None, None) => Err("no result and no error".to_owned()),
                            };
                            let _ = done_tx.send((index, outcome));
                        },
                        timeout_ms,
                    )
                    .await
                    .map_err(|error| anyhow!("async send {index}: {error}"))?;
            }
            drop(done_tx);
            let deadline = Instant::now() + Duration::from_secs(60);
            for _ in 0..specs.len() {
                let remaining = deadline.saturating_duration_since(Instant::now());
                let (index, outcome) = tokio::time::timeout(remaining, done_rx.recv())
                    .await
                    .context("async send callbacks did not all arrive")?
                    .context("callback channel closed early")?;
                let msg_id = outcome.map_err(|error| anyhow!("async send {index}: {error}"))?;
                print_line(&json!({"sent": index, "msg_id": msg_id}));
            }
        }
        "oneway" => {
            for (index, spec) in specs.iter().enumerate() {
                let message = build_message(topic, spec)?;
                producer
                    .send_oneway(message)
                    .await
                    .map_err(|error| anyhow!("oneway send {index}: {error}"))?;
                print_line(&json!({"sent": index}));
            }
            // Oneway frames are only queued; give the connection time to write them.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        "batch" => {
            for (chunk_index, chunk) in specs.chunks(8).enumerate() {
                let messages = chunk
                    .iter()
                    .map(|spec| build_message(topic, spec))
                    .collect::<Result<Vec<_>>>()?;
                let result = producer
                    .send_batch_with_timeout(messages, timeout_ms)
                    .await
                    .map_err(|error| anyhow!("batch {chunk_index}: {error}"))?;
                print_line(&json!({"sent_batch": chunk_index, "count": chunk.len(),
                    "msg_id": result.msg_id.map(|id| id.to_string())}));
            }
        }
        "ordered" => {
            for (index, spec) in specs.iter().enumerate() {
                let order: usize = spec
                    .properties
                    .get("order")
                    .and_then(|order| order.parse().ok())
                    .unwrap_or(0);
                let message = build_message(topic, spec)?;
                let result = producer
                    .send_with_selector_timeout(
                        message,
                        |queues, _message, order: &usize| {
                            (!queues.is_empty()).then(|| queues[order % queues.len()].clone())
                        },
                        order,
                        timeout_ms,
                    )
                    .await
                    .map_err(|error| anyhow!("ordered send {index}: {error}"))?
                    .with_context(|| format!("ordered send {index}: no result"))?;
                print_line(&json!({"sent": index, "msg_id": result.msg_id.map(|id| id.to_string()),
                    "queue_id": result.message_queue.map(|queue| queue.queue_id())}));
            }
        }
        other => bail!("unknown mode {other:?}"),
    }
    Ok(())
}

/// Prints each message once (by msgId) and counts distinct ones.
struct Printer {
    seen: Mutex<HashSet<String>>,
}

impl Printer {
    fn record(&self, message: &MessageExt) {
        let msg_id = message.msg_id().to_string();
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if !seen.insert(msg_id.clone()) {
            return;
        }
        let properties: BTreeMap<String, String> = message
            .properties()
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        let body = message.body().map(|body| body.to_vec()).unwrap_or_default();
        print_line(&json!({
            "topic": message.topic().to_string(),
            "tags": message.get_tags().map(|tags| tags.to_string()),
            "keys": properties.get("KEYS"),
            "properties": properties,
            "body_hex": to_hex(&body),
            "msg_id": msg_id,
            "queue_id": message.queue_id(),
            "queue_offset": message.queue_offset(),
        }));
    }

    fn count(&self) -> usize {
        self.seen.lock().map(|seen| seen.len()).unwrap_or(0)
    }
}

struct Concurrently(Arc<Printer>);

impl MessageListenerConcurrently for Concurrently {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _context: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        for message in msgs {
            self.0.record(message);
        }
        Ok(ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

struct Orderly(Arc<Printer>);

impl MessageListenerOrderly for Orderly {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _context: &mut ConsumeOrderlyContext,
    ) -> ClientResult<ConsumeOrderlyStatus> {
        for message in msgs {
            self.0.record(message);
        }
        Ok(ConsumeOrderlyStatus::Success)
    }
}

async fn consume(client: &ClientHandle, options: &BTreeMap<String, String>) -> Result<()> {
    let expect: usize = option(options, "expect")?.parse()?;
    let timeout = Duration::from_secs(option(options, "timeout-secs")?.parse()?);
    let orderly = options.get("orderly").is_some_and(|value| value == "true");
    let printer = Arc::new(Printer {
        seen: Mutex::new(HashSet::new()),
    });
    let mut consumer = DefaultMQPushConsumer::builder(client.runtime.clone())
        .consumer_group(option(options, "group")?.to_owned())
        .name_server_addr(option(options, "namesrv")?.to_owned())
        .consume_from_where(ConsumeFromWhere::ConsumeFromFirstOffset)
        .build();
    consumer
        .subscribe(option(options, "topic")?, "*")
        .await
        .map_err(|error| anyhow!("subscribe: {error}"))?;
    if orderly {
        consumer.register_message_listener_orderly(Orderly(printer.clone()));
    } else {
        consumer.register_message_listener_concurrently(Concurrently(printer.clone()));
    }
    consumer
        .start()
        .await
        .map_err(|error| anyhow!("consumer start: {error}"))?;
    let deadline = Instant::now() + timeout;
    while printer.count() < expect && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let received = printer.count();
    consumer.shutdown().await;
    if received < expect {
        eprintln!("received {received} of {expect} messages before the timeout");
        std::process::exit(3);
    }
    Ok(())
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn from_hex(text: &str) -> Result<Vec<u8>> {
    if text.len() % 2 != 0 {
        bail!("odd-length hex");
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).context("bad hex"))
        .collect()
}
