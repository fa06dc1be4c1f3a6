//! `consume`: a push consumer from the first offset that prints what it receives.
//!
//! Options beyond `--namesrv --topic --group --expect --timeout-secs`:
//!
//! * `--orderly true`: an orderly listener instead of a concurrent one.
//! * `--selector-type TAG|SQL92` and `--selector EXPR`: the subscription (default `TAG` `*`).
//! * `--fail-times N`: the concurrent listener answers RECONSUME_LATER to the first N
//!   deliveries of each message (keyed by its `idx` property, else its msgId); `-1` always.
//! * `--max-reconsume-times N`: the consumer's `maxReconsumeTimes`.
//! * `--every-delivery true`: print every delivery (with `reconsume_times` and the listener's
//!   `status`), and count deliveries instead of distinct messages.
//! * `--linger-secs S`: once `--expect` is reached keep consuming (and printing) S seconds more,
//!   so a test can see deliveries that should not happen.
//! * `--reply true`: answer each received request message with a reply whose body is
//!   `reply:` + the request body (`MessageUtil::create_reply_message`), sent by a producer of
//!   group `<group>_replier`; each reply prints `{"replied":msgId,..}`.
//!
//! After `start` it prints `{"consumer_started":true}`. It exits 0 once it has `--expect`
//! messages (deliveries), or with status 3 at the timeout.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use rocketmq_client_rust::{
    ClientResult, ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumeOrderlyContext,
    ConsumeOrderlyStatus, DefaultMQProducer, DefaultMQPushConsumer, MQPushConsumer,
    MessageListenerConcurrently, MessageListenerOrderly, MessageSelector, MessageUtil,
};
use rocketmq_model::common::consumer::consume_from_where::ConsumeFromWhere;
use rocketmq_model::common::message::message_ext::MessageExt;
use serde_json::json;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::spec::{now_millis, print_line, received_line, to_hex};
use crate::{ClientHandle, option};

/// Prints received messages, counts them, and decides each delivery's outcome.
struct Printer {
    every_delivery: bool,
    fail_times: i64,
    state: Mutex<PrinterState>,
    replies: Option<UnboundedSender<MessageExt>>,
}

#[derive(Default)]
struct PrinterState {
    seen: HashSet<String>,
    deliveries: HashMap<String, i64>,
    delivery_count: usize,
}

impl Printer {
    /// Records one delivery and returns true when the listener should succeed.
    fn deliver(&self, message: &MessageExt) -> bool {
        let msg_id = message.msg_id().to_string();
        let key = message
            .properties()
            .iter()
            .find(|(key, _)| key.as_str() == "idx")
            .map(|(_, value)| value.to_string())
            .unwrap_or_else(|| msg_id.clone());
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        let delivery = {
            let count = state.deliveries.entry(key).or_insert(0);
            *count += 1;
            *count
        };
        let succeed = self.fail_times >= 0 && delivery > self.fail_times;
        state.delivery_count += 1;
        let first = state.seen.insert(msg_id);
        if !self.every_delivery && !first {
            return succeed;
        }
        let mut line = received_line(message);
        if self.every_delivery {
            line["delivery"] = json!(delivery);
            line["status"] = json!(if succeed { "success" } else { "later" });
        }
        print_line(&line);
        if first && let Some(replies) = &self.replies {
            let _ = replies.send(message.clone());
        }
        succeed
    }

    fn distinct(&self) -> usize {
        self.state.lock().map(|state| state.seen.len()).unwrap_or(0)
    }

    fn count(&self) -> usize {
        self.state
            .lock()
            .map(|state| {
                if self.every_delivery {
                    state.delivery_count
                } else {
                    state.seen.len()
                }
            })
            .unwrap_or(0)
    }
}

struct Concurrently(Arc<Printer>);

impl MessageListenerConcurrently for Concurrently {
    fn consume_message(
        &self,
        msgs: &[&MessageExt],
        _context: &ConsumeConcurrentlyContext,
    ) -> ClientResult<ConsumeConcurrentlyStatus> {
        let mut all_succeeded = true;
        for message in msgs {
            all_succeeded &= self.0.deliver(message);
        }
        Ok(if all_succeeded {
            ConsumeConcurrentlyStatus::ConsumeSuccess
        } else {
            ConsumeConcurrentlyStatus::ReconsumeLater
        })
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
            self.0.deliver(message);
        }
        Ok(ConsumeOrderlyStatus::Success)
    }
}

fn flag(options: &BTreeMap<String, String>, name: &str) -> bool {
    options.get(name).is_some_and(|value| value == "true")
}

pub async fn consume(client: &ClientHandle, options: &BTreeMap<String, String>) -> Result<()> {
    let expect: usize = option(options, "expect")?.parse()?;
    let timeout = Duration::from_secs(option(options, "timeout-secs")?.parse()?);
    let linger = Duration::from_secs(
        options
            .get("linger-secs")
            .map(|secs| secs.parse())
            .transpose()?
            .unwrap_or(0),
    );
    let group = option(options, "group")?;
    let namesrv = option(options, "namesrv")?;
    let (reply_tx, reply_rx) = unbounded_channel();
    let reply = flag(options, "reply");
    let printer = Arc::new(Printer {
        every_delivery: flag(options, "every-delivery"),
        fail_times: options
            .get("fail-times")
            .map(|times| times.parse())
            .transpose()?
            .unwrap_or(0),
        state: Mutex::new(PrinterState::default()),
        replies: reply.then_some(reply_tx),
    });
    let mut builder = DefaultMQPushConsumer::builder(client.runtime.clone())
        .consumer_group(group.to_owned())
        .name_server_addr(namesrv.to_owned())
        .consume_from_where(ConsumeFromWhere::ConsumeFromFirstOffset);
    if let Some(times) = options.get("max-reconsume-times") {
        builder = builder.max_reconsume_times(times.parse()?);
    }
    let mut consumer = builder.build();
    let topic = option(options, "topic")?;
    let expression = options.get("selector").map_or("*", String::as_str);
    let selector = match options.get("selector-type").map(String::as_str) {
        None | Some("TAG") => MessageSelector::by_tag(expression),
        Some("SQL92") => MessageSelector::by_sql(expression),
        Some(other) => return Err(anyhow!("unknown selector type {other:?}")),
    };
    consumer
        .subscribe_with_selector(topic, Some(selector))
        .await
        .map_err(|error| anyhow!("subscribe: {error}"))?;
    if flag(options, "orderly") {
        consumer.register_message_listener_orderly(Orderly(printer.clone()));
    } else {
        consumer.register_message_listener_concurrently(Concurrently(printer.clone()));
    }
    let replier = if reply {
        Some(start_replier(client, group, namesrv, reply_rx).await?)
    } else {
        None
    };
    consumer
        .start()
        .await
        .map_err(|error| anyhow!("consumer start: {error}"))?;
    print_line(&json!({"consumer_started": true}));
    let deadline = Instant::now() + timeout;
    while printer.count() < expect && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if printer.count() >= expect && !linger.is_zero() {
        tokio::time::sleep(linger).await;
    }
    let received = printer.count();
    if let Some(replier) = replier {
        // Every request seen so far gets its reply before the process exits.
        let requests = printer.distinct();
        let reply_deadline = Instant::now() + Duration::from_secs(15);
        while replier.replied.load(Ordering::Acquire) < requests && Instant::now() < reply_deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        replier.task.abort();
        let mut producer = replier.producer;
        producer.shutdown().await;
    }
    consumer.shutdown().await;
    if received < expect {
        eprintln!("received {received} of {expect} messages before the timeout");
        std::process::exit(3);
    }
    Ok(())
}

/// The reply producer and the task that answers every request handed to it.
struct Replier {
    producer: DefaultMQProducer,
    task: tokio::task::JoinHandle<()>,
    replied: Arc<AtomicUsize>,
}

async fn start_replier(
    client: &ClientHandle,
    group: &str,
    namesrv: &str,
    mut requests: UnboundedReceiver<MessageExt>,
) -> Result<Replier> {
    let mut producer = DefaultMQProducer::builder(client.runtime.clone())
        .producer_group(format!("{group}_replier"))
        .name_server_addr(namesrv.to_owned())
        .build();
    producer
        .start()
        .await
        .map_err(|error| anyhow!("reply producer start: {error}"))?;
    let sender = producer.clone();
    let replied = Arc::new(AtomicUsize::new(0));
    let counter = replied.clone();
    let task = tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            let mut body = b"reply:".to_vec();
            body.extend_from_slice(&request.body().unwrap_or_default());
            let outcome = match MessageUtil::create_reply_message(&request.message, &body) {
                Ok(reply) => sender
                    .send_with_timeout(reply, 10_000)
                    .await
                    .map(|result| result.map(|result| format!("{:?}", result.send_status)))
                    .map_err(|error| error.to_string()),
                Err(error) => Err(format!("create_reply_message: {error}")),
            };
            print_line(&json!({"replied": request.msg_id().to_string(),
                "reply_body_hex": to_hex(&body), "outcome": format!("{outcome:?}"),
                "replied_at_ms": now_millis()}));
            counter.fetch_add(1, Ordering::AcqRel);
        }
    });
    Ok(Replier {
        producer,
        task,
        replied,
    })
}
