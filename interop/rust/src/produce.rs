//! `produce`: sends the input messages in one send mode; `transaction` mode sends each message
//! in a transaction whose local outcome is the message's `tx` property.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use rocketmq_client_rust::{
    ClientError, DefaultMQProducer, LocalTransactionState, TransactionListener,
    TransactionMQProducer,
};
use rocketmq_model::common::message::MessageTrait;
use rocketmq_model::common::message::message_ext::MessageExt;
use serde_json::json;

use crate::spec::{Spec, build_message, now_millis, print_line, properties_of, read_specs};
use crate::{ClientHandle, option};

const SEND_TIMEOUT_MS: u64 = 10_000;

pub async fn produce(client: &ClientHandle, options: &BTreeMap<String, String>) -> Result<()> {
    let topic = option(options, "topic")?;
    let mode = option(options, "mode")?;
    let specs = read_specs(option(options, "input")?)?;
    if mode == "transaction" {
        return produce_in_transactions(client, options, topic, &specs).await;
    }
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

async fn send_all(
    producer: &DefaultMQProducer,
    topic: &str,
    mode: &str,
    specs: &[Spec],
) -> Result<()> {
    match mode {
        "sync" => {
            for (index, spec) in specs.iter().enumerate() {
                let message = build_message(topic, spec)?;
                let sent_at_ms = now_millis();
                let result = producer
                    .send_with_timeout(message, SEND_TIMEOUT_MS)
                    .await
                    .map_err(|error| anyhow!("send {index}: {error}"))?
                    .with_context(|| format!("send {index}: no result"))?;
                print_line(
                    &json!({"sent": index, "msg_id": result.msg_id.map(|id| id.to_string()),
                    "status": format!("{:?}", result.send_status), "sent_at_ms": sent_at_ms,
                    "acked_at_ms": now_millis()}),
                );
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
                        SEND_TIMEOUT_MS,
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
                    .send_batch_with_timeout(messages, SEND_TIMEOUT_MS)
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
                        SEND_TIMEOUT_MS,
                    )
                    .await
                    .map_err(|error| anyhow!("ordered send {index}: {error}"))?
                    .with_context(|| format!("ordered send {index}: no result"))?;
                print_line(
                    &json!({"sent": index, "msg_id": result.msg_id.map(|id| id.to_string()),
                    "queue_id": result.message_queue.map(|queue| queue.queue_id())}),
                );
            }
        }
        other => bail!("unknown mode {other:?}"),
    }
    Ok(())
}

/// Local transactions decided by the message's `tx` property: `commit`, `rollback`, or
/// `unknown` (left open; the check-back answers COMMIT). Every check-back is printed.
struct PropertyTransactions {
    checked: Arc<Mutex<Vec<String>>>,
}

fn tx_outcome(properties: &BTreeMap<String, String>) -> &str {
    properties.get("tx").map(String::as_str).unwrap_or("commit")
}

impl TransactionListener for PropertyTransactions {
    fn execute_local_transaction(
        &self,
        msg: &dyn MessageTrait,
        _arg: Option<&(dyn std::any::Any + Send + Sync)>,
    ) -> LocalTransactionState {
        let outcome = msg
            .get_properties()
            .iter()
            .find(|(key, _)| key.as_str() == "tx")
            .map(|(_, value)| value.to_string());
        match outcome.as_deref() {
            Some("rollback") => LocalTransactionState::RollbackMessage,
            Some("unknown") => LocalTransactionState::Unknown,
            _ => LocalTransactionState::CommitMessage,
        }
    }

    fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState {
        let properties = properties_of(msg);
        let idx = properties.get("idx").cloned().unwrap_or_default();
        let outcome = tx_outcome(&properties).to_owned();
        let answer = match outcome.as_str() {
            "rollback" => LocalTransactionState::RollbackMessage,
            _ => LocalTransactionState::CommitMessage,
        };
        print_line(
            &json!({"checked": idx, "tx": outcome, "answer": format!("{answer:?}"),
            "topic": msg.topic().to_string(), "checked_at_ms": now_millis()}),
        );
        if let Ok(mut checked) = self.checked.lock() {
            checked.push(idx);
        }
        answer
    }
}

async fn produce_in_transactions(
    client: &ClientHandle,
    options: &BTreeMap<String, String>,
    topic: &str,
    specs: &[Spec],
) -> Result<()> {
    let check_wait = Duration::from_secs(
        options
            .get("check-wait-secs")
            .map(|secs| secs.parse())
            .transpose()?
            .unwrap_or(30),
    );
    let checked = Arc::new(Mutex::new(Vec::new()));
    let mut producer = TransactionMQProducer::builder(client.runtime.clone())
        .producer_group(option(options, "group")?.to_owned())
        .name_server_addr(option(options, "namesrv")?.to_owned())
        .topics(vec![topic.to_owned()])
        .transaction_listener(PropertyTransactions {
            checked: checked.clone(),
        })
        .build();
    producer
        .start()
        .await
        .map_err(|error| anyhow!("transaction producer start: {error}"))?;
    let result = send_transactions(&producer, topic, specs, &checked, check_wait).await;
    producer.shutdown().await;
    result
}

async fn send_transactions(
    producer: &TransactionMQProducer,
    topic: &str,
    specs: &[Spec],
    checked: &Mutex<Vec<String>>,
    check_wait: Duration,
) -> Result<()> {
    let mut open = BTreeSet::new();
    for (index, spec) in specs.iter().enumerate() {
        let message = build_message(topic, spec)?;
        let result = producer
            .send_message_in_transaction::<(), _>(message, None)
            .await
            .map_err(|error| anyhow!("transactional send {index}: {error}"))?;
        let send = result.send_result.as_ref();
        print_line(&json!({
            "sent": index,
            "msg_id": send.and_then(|send| send.msg_id.as_ref()).map(|id| id.to_string()),
            "transaction_id": send.and_then(|send| send.transaction_id.clone()),
            "status": send.map(|send| format!("{:?}", send.send_status)),
            "local_state": result.local_transaction_state.map(|state| format!("{state:?}")),
        }));
        if tx_outcome(&spec.properties) == "unknown" {
            open.insert(spec.index().unwrap_or_default().to_owned());
        }
    }
    // Stay up until the broker has checked back every open transaction.
    let deadline = Instant::now() + check_wait;
    loop {
        let seen: BTreeSet<String> = checked
            .lock()
            .map(|checked| checked.iter().cloned().collect())
            .unwrap_or_default();
        let missing: Vec<&String> = open.difference(&seen).collect();
        if missing.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            bail!("no check-back for transactions idx={missing:?} within {check_wait:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The check-back answer goes out as a oneway END_TRANSACTION: let it leave.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}
