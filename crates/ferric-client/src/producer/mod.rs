//! [`Producer`]: sync/async, oneway, batch, ordered (queue selector) sends with retries and
//! latency-based fault avoidance; request-reply lives in [`request`], transactions in
//! [`transaction`]; [`ProducerOptions`] and [`ProducerBuilder`] start one.

pub mod batch;
mod builder;
pub mod fault;
pub mod request;
pub mod send;
pub mod transaction;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ferric_common::message_const::PROPERTY_DELAY_TIME_LEVEL;
use ferric_common::topic::{has_only_valid_name_chars, is_not_allowed_send_topic};
use ferric_common::{Message, MessageQueue, java_hash};
use tracing::Instrument;

use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::instance::route::TopicPublishInfo;
pub use builder::{ProducerBuilder, ProducerOptions};
use fault::LatencyFaultTolerance;
use send::{PreparedSend, is_retryable, process_send_response};
pub use send::{SendResult, SendStatus};

/// A message producer: cheap to clone, all methods take `&self`.
///
/// ```no_run
/// # async fn demo() -> ferric_client::Result<()> {
/// use ferric_client::{MessageBuilder, Producer};
/// let producer = Producer::builder()
///     .namesrv_addr("127.0.0.1:9876")
///     .group("please_rename_unique_group_name")
///     .build()
///     .await?;
/// let result = producer
///     .send(MessageBuilder::new("TopicTest", "Hello RocketMQ").tags("TagA").build())
///     .await?;
/// println!("{} {:?}", result.msg_id, result.status);
/// producer.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Producer {
    pub(crate) inner: Arc<ProducerInner>,
}

#[derive(Debug)]
pub(crate) struct ProducerInner {
    pub(crate) instance: ClientInstance,
    pub(crate) options: ProducerOptions,
    faults: LatencyFaultTolerance,
    closed: tokio_util::sync::CancellationToken,
}

/// Delivery mode of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Sync,
    Oneway,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Java's `SelectMessageQueueByHash`: `abs(hashCode(key) % n)`.
pub fn select_queue_by_hash(queue_count: usize, key: &str) -> usize {
    if queue_count == 0 {
        return 0;
    }
    let n = i32::try_from(queue_count).unwrap_or(i32::MAX);
    (java_hash(key) % n).unsigned_abs() as usize
}

impl Producer {
    /// A builder with RocketMQ's defaults.
    pub fn builder() -> ProducerBuilder {
        ProducerBuilder::default()
    }

    /// The client instance this producer uses.
    pub fn instance(&self) -> &ClientInstance {
        &self.inner.instance
    }

    /// The producer's settings.
    pub fn options(&self) -> &ProducerOptions {
        &self.inner.options
    }

    /// Sends and waits for the broker's answer, retrying on another queue/broker up to
    /// `retry_times_when_send_failed` times within `send_msg_timeout`. This future is the async
    /// send: `tokio::spawn` it to send in the background.
    pub async fn send(&self, msg: Message) -> Result<SendResult> {
        self.validate(&msg)?;
        let prepared = self.prepare(&msg)?;
        let span =
            tracing::debug_span!("send", topic = %msg.topic, group = %self.inner.options.group);
        self.send_with_retries(prepared, Mode::Sync)
            .instrument(span)
            .await?
            .ok_or(ClientError::Shutdown)
    }

    /// Sends without waiting for an answer (one attempt).
    pub async fn send_oneway(&self, msg: Message) -> Result<()> {
        self.validate(&msg)?;
        let prepared = self.prepare(&msg)?;
        self.send_with_retries(prepared, Mode::Oneway)
            .await
            .map(drop)
    }

    /// Sends to one chosen queue (one attempt, as ordered sends must not move queues).
    pub async fn send_to_queue(&self, msg: Message, mq: &MessageQueue) -> Result<SendResult> {
        self.validate(&msg)?;
        if mq.topic != msg.topic {
            return Err(ClientError::InvalidMessage(format!(
                "message topic {} differs from queue topic {}",
                msg.topic, mq.topic
            )));
        }
        let prepared = self.prepare(&msg)?;
        let timeout = self.inner.options.send_msg_timeout;
        self.send_once(&prepared, mq, Mode::Sync, timeout)
            .await?
            .ok_or(ClientError::Shutdown)
    }

    /// Sends to the queue `selector(queues, msg)` picks (index taken modulo the queue count).
    pub async fn send_with_selector<F>(&self, msg: Message, selector: F) -> Result<SendResult>
    where
        F: FnOnce(&[MessageQueue], &Message) -> usize,
    {
        self.validate(&msg)?;
        let info = self.publish_info(&msg.topic).await?;
        let index = selector(&info.queues, &msg) % info.queues.len().max(1);
        let mq = info
            .queues
            .get(index)
            .cloned()
            .ok_or_else(|| ClientError::RouteNotFound {
                topic: msg.topic.clone(),
            })?;
        self.send_to_queue(msg, &mq).await
    }

    /// Ordered send: messages with the same `sharding_key` go to the same queue.
    pub async fn send_orderly(&self, msg: Message, sharding_key: &str) -> Result<SendResult> {
        self.send_with_selector(msg, |queues, _| {
            select_queue_by_hash(queues.len(), sharding_key)
        })
        .await
    }

    /// Sends messages of one topic as SEND_BATCH_MESSAGE, split into chunks of at most
    /// `max_message_size` bytes; one result per chunk.
    pub async fn send_batch(&self, messages: Vec<Message>) -> Result<Vec<SendResult>> {
        batch::validate_batch(&messages)?;
        let topic = messages
            .first()
            .map(|m| m.topic.clone())
            .unwrap_or_default();
        self.validate_topic(&topic)?;
        let mut results = Vec::new();
        for chunk in batch::split_batch(messages, self.inner.options.max_message_size)? {
            let prepared = batch::prepare_batch(chunk, || self.inner.instance.next_uniq_id())?;
            let result = self.send_with_retries(prepared, Mode::Sync).await?;
            results.push(result.ok_or(ClientError::Shutdown)?);
        }
        Ok(results)
    }

    /// Queues of `topic` this producer can write.
    pub async fn fetch_publish_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        Ok(self.publish_info(topic).await?.queues.clone())
    }

    /// Unregisters the group and releases the client instance.
    pub async fn shutdown(&self) {
        if self.inner.closed.is_cancelled() {
            return;
        }
        self.inner.closed.cancel();
        self.inner
            .instance
            .unregister_producer(&self.inner.options.group)
            .await;
        self.inner.instance.release().await;
    }

    fn validate_topic(&self, topic: &str) -> Result<()> {
        if topic.is_empty() || !has_only_valid_name_chars(topic) {
            return Err(ClientError::InvalidMessage(format!(
                "invalid topic {topic:?}"
            )));
        }
        if topic.len() > ferric_common::topic::names::TOPIC_MAX_LENGTH {
            return Err(ClientError::InvalidMessage(format!(
                "topic {topic} is too long"
            )));
        }
        if is_not_allowed_send_topic(topic) {
            return Err(ClientError::InvalidMessage(format!(
                "sending to {topic} is not allowed"
            )));
        }
        Ok(())
    }

    fn validate(&self, msg: &Message) -> Result<()> {
        if self.inner.closed.is_cancelled() {
            return Err(ClientError::Shutdown);
        }
        self.validate_topic(&msg.topic)?;
        if msg.body.is_empty() {
            return Err(ClientError::InvalidMessage(
                "the message body is empty".into(),
            ));
        }
        if msg.body.len() > self.inner.options.max_message_size {
            return Err(ClientError::MessageTooLarge {
                size: msg.body.len(),
                max: self.inner.options.max_message_size,
            });
        }
        if let Some(level) = msg.properties.get(PROPERTY_DELAY_TIME_LEVEL)
            && level.parse::<i32>().is_err()
        {
            return Err(ClientError::InvalidMessage(format!(
                "bad delay level {level:?}"
            )));
        }
        Ok(())
    }

    pub(crate) fn prepare(&self, msg: &Message) -> Result<PreparedSend> {
        PreparedSend::single(
            msg,
            || self.inner.instance.next_uniq_id(),
            self.inner.options.compress_msg_body_over_howmuch,
        )
    }

    async fn publish_info(&self, topic: &str) -> Result<Arc<TopicPublishInfo>> {
        self.inner
            .instance
            .publish_info(topic, self.inner.options.default_topic_queue_nums)
            .await
    }

    fn select_queue(
        &self,
        info: &TopicPublishInfo,
        last_broker: Option<&str>,
    ) -> Option<MessageQueue> {
        if !self.inner.options.send_latency_fault_enable {
            return info.select_queue(last_broker);
        }
        let now = Instant::now();
        let faults = &self.inner.faults;
        if let Some(mq) = info.select_queue_where(|mq| faults.is_available(&mq.broker_name, now)) {
            return Some(mq);
        }
        if let Some(broker) = faults.pick_one_at_least() {
            if let Some(mq) = info.select_queue_where(|mq| mq.broker_name == broker) {
                return Some(mq);
            }
            faults.remove(&broker);
        }
        info.select_queue(last_broker)
    }

    pub(crate) async fn send_with_retries(
        &self,
        prepared: PreparedSend,
        mode: Mode,
    ) -> Result<Option<SendResult>> {
        let started = Instant::now();
        let timeout = self.inner.options.send_msg_timeout;
        let attempts = match mode {
            Mode::Sync => 1 + self.inner.options.retry_times_when_send_failed,
            Mode::Oneway => 1,
        };
        let mut last_broker: Option<String> = None;
        let mut last_error = None;
        let mut last_result = None;
        let mut made = 0;
        for _ in 0..attempts {
            let remaining = timeout.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                last_error = Some(ClientError::Timeout {
                    what: "send",
                    millis: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                });
                break;
            }
            let info = match self.publish_info(&prepared.topic).await {
                Ok(info) => info,
                Err(error) => {
                    last_error = Some(error);
                    made += 1;
                    continue;
                }
            };
            let Some(mq) = self.select_queue(&info, last_broker.as_deref()) else {
                return Err(ClientError::RouteNotFound {
                    topic: prepared.topic.clone(),
                });
            };
            last_broker = Some(mq.broker_name.clone());
            made += 1;
            let begin = Instant::now();
            match self.send_once(&prepared, &mq, mode, remaining).await {
                Ok(Some(result)) => {
                    self.record_latency(&mq.broker_name, begin.elapsed(), false);
                    if result.status != SendStatus::SendOk
                        && self.inner.options.retry_another_broker_when_not_store_ok
                    {
                        last_result = Some(result);
                        continue;
                    }
                    return Ok(Some(result));
                }
                Ok(None) => return Ok(None),
                Err(error) => {
                    self.record_latency(&mq.broker_name, begin.elapsed(), true);
                    tracing::debug!(broker = %mq.broker_name, %error, "send attempt failed");
                    if !is_retryable(&error) {
                        return Err(error);
                    }
                    if matches!(error, ClientError::Broker { .. }) {
                        self.inner.instance.invalidate_publish_info(&prepared.topic);
                    }
                    last_error = Some(error);
                }
            }
        }
        if let Some(result) = last_result {
            return Ok(Some(result));
        }
        Err(ClientError::SendFailed {
            attempts: made,
            last: Box::new(last_error.unwrap_or(ClientError::Shutdown)),
        })
    }

    fn record_latency(&self, broker: &str, latency: Duration, isolation: bool) {
        if self.inner.options.send_latency_fault_enable {
            self.inner
                .faults
                .update(broker, latency, isolation, Instant::now());
        }
    }

    async fn send_once(
        &self,
        prepared: &PreparedSend,
        mq: &MessageQueue,
        mode: Mode,
        timeout: Duration,
    ) -> Result<Option<SendResult>> {
        let instance = &self.inner.instance;
        let addr = instance
            .master_addr_or_refresh(&mq.broker_name, &mq.topic)
            .await?;
        let options = &self.inner.options;
        let request = prepared.request(
            &options.group,
            mq,
            options.default_topic_queue_nums,
            now_ms(),
        );
        match mode {
            Mode::Oneway => {
                instance.api().invoke_oneway(&addr, request).await?;
                Ok(None)
            }
            Mode::Sync => {
                let response = instance.api().invoke(&addr, request, timeout).await?;
                process_send_response(&addr, &response, mq, &prepared.msg_id).map(Some)
            }
        }
    }
}

#[cfg(test)]
mod tests;
