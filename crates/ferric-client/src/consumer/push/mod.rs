//! [`PushConsumer`]: subscribe, register a listener, start — the consumer rebalances queues
//! among the group, long-polls each of its queues and feeds the listener (concurrently with
//! bounded workers, or orderly one queue at a time), committing offsets every 5 s.

mod consume;
pub mod process_queue;
mod rebalance;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ferric_common::topic::retry_topic;
use ferric_common::{MessageExt, MessageQueue};
use ferric_protocol::body::{ConsumerData, SubscriptionData};
use futures::future::BoxFuture;
use parking_lot::Mutex;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::allocate::{AllocateStrategy, Averagely};
use super::offset_store::OffsetStore;
use super::{ConsumeFromWhere, MessageModel, MessageSelector, build_subscription, now_ms};
use crate::config::{ClientConfig, option_setter};
use crate::error::{ClientError, Result};
use crate::instance::{ClientInstance, ConsumerHandle};
use process_queue::ProcessQueue;

/// What a concurrent listener reports for a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeConcurrentlyStatus {
    /// Consumed.
    ConsumeSuccess,
    /// Failed; redeliver later through the retry topic.
    ReconsumeLater,
}

/// What an orderly listener reports for a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeOrderlyStatus {
    /// Consumed.
    Success,
    /// Failed; pause this queue a moment and retry the same messages.
    SuspendCurrentQueueAMoment,
}

type ConcurrentFn =
    dyn Fn(Vec<MessageExt>) -> BoxFuture<'static, ConsumeConcurrentlyStatus> + Send + Sync;
type OrderlyFn = dyn Fn(Vec<MessageExt>) -> BoxFuture<'static, ConsumeOrderlyStatus> + Send + Sync;

#[derive(Clone)]
enum Listener {
    Concurrent(Arc<ConcurrentFn>),
    Orderly(Arc<OrderlyFn>),
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Concurrent(_) => "Concurrent",
            Self::Orderly(_) => "Orderly",
        })
    }
}

/// Push consumer settings with RocketMQ's defaults.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Consumer group.
    pub group: String,
    /// Clustering (default) or broadcasting.
    pub message_model: MessageModel,
    /// Start position for a group without a committed offset.
    pub consume_from_where: ConsumeFromWhere,
    /// Concurrent listener calls at most (`consumeThreadMax`, 20).
    pub consume_thread_max: usize,
    /// Messages per listener call (1).
    pub consume_message_batch_max_size: usize,
    /// Messages per pull (32).
    pub pull_batch_size: i32,
    /// Stop pulling a queue holding this many messages (1000).
    pub pull_threshold_for_queue: usize,
    /// Stop pulling a queue holding this many MiB of bodies (100).
    pub pull_threshold_size_for_queue: u64,
    /// Redeliveries before the dead-letter queue (16; orderly: unlimited unless set).
    pub max_reconsume_times: Option<i32>,
    /// A listener call running longer counts as failed (15 min).
    pub consume_timeout: Duration,
    /// Pause after an orderly failure (1 s).
    pub suspend_current_queue_time: Duration,
    /// Directory of broadcasting offsets (`~/.rocketmq_offsets` style; default `./.ferric_offsets`).
    pub offset_store_dir: PathBuf,
}

impl Default for PushOptions {
    fn default() -> Self {
        Self {
            group: String::new(),
            message_model: MessageModel::Clustering,
            consume_from_where: ConsumeFromWhere::LastOffset,
            consume_thread_max: 20,
            consume_message_batch_max_size: 1,
            pull_batch_size: 32,
            pull_threshold_for_queue: 1000,
            pull_threshold_size_for_queue: 100,
            max_reconsume_times: None,
            consume_timeout: Duration::from_secs(15 * 60),
            suspend_current_queue_time: Duration::from_secs(1),
            offset_store_dir: std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".ferric_offsets"))
                .unwrap_or_else(|| PathBuf::from(".ferric_offsets")),
        }
    }
}

/// Builds and starts a [`PushConsumer`].
#[derive(Debug, Default)]
pub struct PushConsumerBuilder {
    client: ClientConfig,
    options: PushOptions,
    subscriptions: Vec<(String, MessageSelector)>,
    listener: Option<Listener>,
    strategy: Option<Arc<dyn AllocateStrategy>>,
}

impl PushConsumerBuilder {
    /// `;`-separated NameServer addresses.
    pub fn namesrv_addr(mut self, addrs: &str) -> Self {
        self.client.namesrv_addrs = crate::config::parse_namesrv_addrs(addrs);
        self
    }

    /// Consumer group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.options.group = group.into();
        self
    }

    /// Instance name (shares a client instance with others of the same name).
    pub fn instance_name(mut self, name: impl Into<String>) -> Self {
        self.client.instance_name = Some(name.into());
        self
    }

    /// Replaces the whole client configuration.
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.client = config;
        self
    }

    /// Subscribes to `topic` with a tag expression (`"*"`, `"TagA || TagB"`) or a
    /// [`MessageSelector`] (`MessageSelector::by_sql("a > 5")`, which needs a broker with
    /// `enablePropertyFilter=true`; [`PushConsumerBuilder::start`] fails otherwise).
    ///
    /// ```
    /// use ferric_client::consumer::MessageSelector;
    /// use ferric_client::consumer::push::PushConsumer;
    /// let builder = PushConsumer::builder()
    ///     .subscribe("Orders", "TagA || TagB")
    ///     .subscribe("Payments", MessageSelector::by_sql("amount > 100 AND region = 'eu'"));
    /// ```
    pub fn subscribe(
        mut self,
        topic: impl Into<String>,
        selector: impl Into<MessageSelector>,
    ) -> Self {
        self.subscriptions.push((topic.into(), selector.into()));
        self
    }

    /// The queue allocation strategy (default [`Averagely`]).
    pub fn allocate_strategy(mut self, strategy: impl AllocateStrategy) -> Self {
        self.strategy = Some(Arc::new(strategy));
        self
    }

    option_setter!(/// Clustering or broadcasting.
        message_model: MessageModel);
    option_setter!(/// Start position for a new group.
        consume_from_where: ConsumeFromWhere);
    option_setter!(/// Concurrent listener calls at most.
        consume_thread_max: usize);
    option_setter!(/// Messages per listener call.
        consume_message_batch_max_size: usize);
    option_setter!(/// Messages per pull.
        pull_batch_size: i32);
    option_setter!(/// Per-queue message count threshold.
        pull_threshold_for_queue: usize);
    option_setter!(/// Per-queue size threshold in MiB.
        pull_threshold_size_for_queue: u64);
    option_setter!(/// Redeliveries before the dead-letter queue.
        max_reconsume_times: Option<i32>);
    option_setter!(/// Listener call timeout.
        consume_timeout: Duration);
    option_setter!(/// Pause after an orderly failure.
        suspend_current_queue_time: Duration);
    option_setter!(/// Directory for broadcasting offsets.
        offset_store_dir: PathBuf);

    /// Consumes messages concurrently with `listener`.
    pub fn register_listener<F, Fut>(mut self, listener: F) -> Self
    where
        F: Fn(Vec<MessageExt>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ConsumeConcurrentlyStatus> + Send + 'static,
    {
        self.listener = Some(Listener::Concurrent(Arc::new(move |msgs| {
            Box::pin(listener(msgs))
        })));
        self
    }

    /// Consumes each queue in order, one batch at a time, with `listener`.
    pub fn register_orderly_listener<F, Fut>(mut self, listener: F) -> Self
    where
        F: Fn(Vec<MessageExt>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ConsumeOrderlyStatus> + Send + 'static,
    {
        self.listener = Some(Listener::Orderly(Arc::new(move |msgs| {
            Box::pin(listener(msgs))
        })));
        self
    }

    /// Starts consuming.
    pub async fn start(self) -> Result<PushConsumer> {
        let options = self.options;
        if options.group.is_empty() {
            return Err(ClientError::Config("consumer group is required".into()));
        }
        let Some(listener) = self.listener else {
            return Err(ClientError::Config("no message listener registered".into()));
        };
        if self.subscriptions.is_empty() {
            return Err(ClientError::Config("no subscription".into()));
        }
        let mut subscriptions = self
            .subscriptions
            .iter()
            .map(|(topic, selector)| selector.subscription(topic, now_ms()))
            .collect::<Result<Vec<SubscriptionData>>>()?;
        if options.message_model == MessageModel::Clustering {
            subscriptions.push(build_subscription(
                &retry_topic(&options.group),
                "*",
                now_ms(),
            ));
        }
        let instance = ClientInstance::acquire(&self.client).await?;
        let offsets = match options.message_model {
            MessageModel::Clustering => OffsetStore::remote(instance.clone(), &options.group),
            MessageModel::Broadcasting => {
                match OffsetStore::local(
                    instance.clone(),
                    &options.group,
                    options.offset_store_dir.clone(),
                ) {
                    Ok(store) => store,
                    Err(error) => {
                        instance.release().await;
                        return Err(error);
                    }
                }
            }
        };
        let shutdown = CancellationToken::new();
        let inner = Arc::new_cyclic(|me| PushInner {
            me: me.clone(),
            workers: Arc::new(Semaphore::new(options.consume_thread_max.max(1))),
            strategy: self.strategy.unwrap_or_else(|| Arc::new(Averagely)),
            instance: instance.clone(),
            options,
            subscriptions,
            listener,
            offsets,
            queues: Mutex::default(),
            shutdown,
            tasks: TaskTracker::new(),
            rebalance_lock: tokio::sync::Mutex::new(()),
        });
        for sub in &inner.subscriptions {
            if let Err(error) = instance.update_route(&sub.topic).await {
                tracing::warn!(topic = %sub.topic, %error, "route lookup at start failed");
            }
        }
        if let Err(error) =
            super::check_client_in_broker(&instance, &inner.options.group, &inner.subscriptions)
                .await
        {
            instance.release().await;
            return Err(error);
        }
        instance.register_consumer(
            &inner.options.group,
            Arc::clone(&inner) as Arc<dyn ConsumerHandle>,
        );
        instance.send_heartbeat_now().await;
        rebalance::start_services(&inner);
        rebalance::rebalance(&inner).await;
        Ok(PushConsumer { inner })
    }
}

pub(crate) struct PushInner {
    me: std::sync::Weak<PushInner>,
    instance: ClientInstance,
    options: PushOptions,
    subscriptions: Vec<SubscriptionData>,
    listener: Listener,
    offsets: OffsetStore,
    strategy: Arc<dyn AllocateStrategy>,
    queues: Mutex<HashMap<MessageQueue, Arc<ProcessQueue>>>,
    workers: Arc<Semaphore>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    rebalance_lock: tokio::sync::Mutex<()>,
}

impl PushInner {
    fn is_orderly(&self) -> bool {
        matches!(self.listener, Listener::Orderly(_))
    }

    fn is_clustering(&self) -> bool {
        self.options.message_model == MessageModel::Clustering
    }

    fn subscription(&self, topic: &str) -> Option<&SubscriptionData> {
        self.subscriptions.iter().find(|s| s.topic == topic)
    }
}

impl ConsumerHandle for PushInner {
    fn consumer_data(&self) -> ConsumerData {
        ConsumerData {
            group_name: self.options.group.clone(),
            consume_type: "CONSUME_PASSIVELY".into(),
            message_model: self.options.message_model.name().into(),
            consume_from_where: self.options.consume_from_where.name().into(),
            subscription_data_set: self.subscriptions.clone(),
            unit_mode: false,
        }
    }

    fn rebalance(&self) -> BoxFuture<'_, ()> {
        Box::pin(rebalance::rebalance(self))
    }

    fn reset_offsets(&self, offsets: Vec<(MessageQueue, i64)>) -> BoxFuture<'_, ()> {
        Box::pin(rebalance::reset_offsets(self, offsets))
    }
}

/// A running push consumer: cheap to clone; [`PushConsumer::shutdown`] stops it cleanly.
///
/// ```no_run
/// # async fn demo() -> ferric_client::Result<()> {
/// use ferric_client::consumer::push::{ConsumeConcurrentlyStatus, PushConsumer};
/// let consumer = PushConsumer::builder()
///     .namesrv_addr("127.0.0.1:9876")
///     .group("please_rename_unique_group_name_4")
///     .subscribe("TopicTest", "*")
///     .register_listener(|msgs| async move {
///         for msg in &msgs {
///             println!("{} {:?}", msg.msg_id(), msg.body);
///         }
///         ConsumeConcurrentlyStatus::ConsumeSuccess
///     })
///     .start()
///     .await?;
/// tokio::signal::ctrl_c().await.ok();
/// consumer.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PushConsumer {
    inner: Arc<PushInner>,
}

impl std::fmt::Debug for PushConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushConsumer")
            .field("group", &self.inner.options.group)
            .field("listener", &self.inner.listener)
            .finish_non_exhaustive()
    }
}

impl PushConsumer {
    /// A builder with RocketMQ's defaults.
    pub fn builder() -> PushConsumerBuilder {
        PushConsumerBuilder::default()
    }

    /// The queues currently assigned to this consumer.
    pub fn assigned_queues(&self) -> Vec<MessageQueue> {
        let mut queues: Vec<MessageQueue> = self.inner.queues.lock().keys().cloned().collect();
        queues.sort();
        queues
    }

    /// The client instance.
    pub fn instance(&self) -> &ClientInstance {
        &self.inner.instance
    }

    /// Stops pulling, lets running listener calls finish (up to 10 s), commits offsets,
    /// releases orderly locks and unregisters from the brokers.
    pub async fn shutdown(&self) {
        if self.inner.shutdown.is_cancelled() {
            return;
        }
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        if tokio::time::timeout(Duration::from_secs(10), self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("consumer tasks still running after 10 s");
        }
        rebalance::persist_and_release_all(&self.inner).await;
        self.inner
            .instance
            .unregister_consumer(&self.inner.options.group)
            .await;
        self.inner.instance.release().await;
    }
}
