//! [`LitePullConsumer`]: background pulls fill a bounded buffer; you `poll` it. Queues come from
//! a subscription (rebalanced among the group) or from an explicit assignment.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use ferric_common::{MessageExt, MessageQueue};
use ferric_protocol::body::{ConsumerData, SubscriptionData};
use futures::future::BoxFuture;
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::allocate::{AllocateStrategy, Averagely};
use super::offset_store::{OffsetStore, ReadOffsetType};
use super::pull::{
    BROKER_SUSPEND_MAX_TIME, CONSUMER_TIMEOUT_WHEN_SUSPEND, PullSpec, pull_once, pull_sys_flag,
};
use super::pull_result::PullStatus;
use super::{ConsumeFromWhere, MessageModel, MessageSelector, build_subscription, now_ms};
use crate::config::ClientConfig;
use crate::error::{ClientError, Result};
use crate::instance::route::MASTER_ID;
use crate::instance::{ClientInstance, ConsumerHandle};

/// Lite pull settings with RocketMQ's defaults.
#[derive(Debug, Clone)]
pub struct LitePullOptions {
    /// Consumer group.
    pub group: String,
    /// Messages per pull (10).
    pub pull_batch_size: i32,
    /// Commit consumed offsets automatically (true).
    pub auto_commit: bool,
    /// Auto-commit period (5 s).
    pub auto_commit_interval: Duration,
    /// Start position for a group without a committed offset.
    pub consume_from_where: ConsumeFromWhere,
    /// Pulled batches buffered before pulling pauses (flow control, 1000).
    pub buffered_batches: usize,
}

impl Default for LitePullOptions {
    fn default() -> Self {
        Self {
            group: String::new(),
            pull_batch_size: 10,
            auto_commit: true,
            auto_commit_interval: Duration::from_secs(5),
            consume_from_where: ConsumeFromWhere::LastOffset,
            buffered_batches: 1000,
        }
    }
}

#[derive(Debug)]
struct Batch {
    mq: MessageQueue,
    epoch: u64,
    msgs: Vec<MessageExt>,
}

#[derive(Debug)]
struct LiteQueue {
    cancel: CancellationToken,
    epoch: AtomicU64,
    next_offset: Mutex<i64>,
    consumed: AtomicI64,
    seeked: Notify,
}

/// A consumer you poll.
///
/// ```no_run
/// # async fn demo() -> ferric_client::Result<()> {
/// use std::time::Duration;
/// use ferric_client::consumer::lite_pull::LitePullConsumer;
/// let consumer = LitePullConsumer::builder()
///     .namesrv_addr("127.0.0.1:9876")
///     .group("lite_group")
///     .subscribe("TopicTest", "*")
///     .start()
///     .await?;
/// let msgs = consumer.poll(Duration::from_secs(5)).await;
/// println!("{} messages", msgs.len());
/// consumer.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LitePullConsumer {
    inner: Arc<LiteInner>,
}

#[derive(Debug)]
struct LiteInner {
    me: Weak<LiteInner>,
    instance: ClientInstance,
    options: LitePullOptions,
    subscriptions: Vec<SubscriptionData>,
    strategy: Arc<dyn AllocateStrategy>,
    offsets: OffsetStore,
    queues: Mutex<HashMap<MessageQueue, Arc<LiteQueue>>>,
    assigned_mode: std::sync::atomic::AtomicBool,
    tx: mpsc::Sender<Batch>,
    rx: tokio::sync::Mutex<mpsc::Receiver<Batch>>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    rebalance_lock: tokio::sync::Mutex<()>,
}

/// Builds a [`LitePullConsumer`].
#[derive(Debug, Default)]
pub struct LitePullConsumerBuilder {
    client: ClientConfig,
    options: LitePullOptions,
    subscriptions: Vec<(String, MessageSelector)>,
    strategy: Option<Arc<dyn AllocateStrategy>>,
}

impl LitePullConsumerBuilder {
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

    /// Subscribes with a tag expression or a [`MessageSelector`] (queues are then rebalanced
    /// automatically).
    pub fn subscribe(
        mut self,
        topic: impl Into<String>,
        selector: impl Into<MessageSelector>,
    ) -> Self {
        self.subscriptions.push((topic.into(), selector.into()));
        self
    }

    /// Messages per pull.
    pub fn pull_batch_size(mut self, size: i32) -> Self {
        self.options.pull_batch_size = size;
        self
    }

    /// Automatic offset commits.
    pub fn auto_commit(mut self, enabled: bool) -> Self {
        self.options.auto_commit = enabled;
        self
    }

    /// Start position for a new group.
    pub fn consume_from_where(mut self, from: ConsumeFromWhere) -> Self {
        self.options.consume_from_where = from;
        self
    }

    /// Queue allocation strategy for subscriptions.
    pub fn allocate_strategy(mut self, strategy: impl AllocateStrategy) -> Self {
        self.strategy = Some(Arc::new(strategy));
        self
    }

    /// Replaces the whole client configuration.
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.client = config;
        self
    }

    /// Starts the consumer.
    pub async fn start(self) -> Result<LitePullConsumer> {
        if self.options.group.is_empty() {
            return Err(ClientError::Config("consumer group is required".into()));
        }
        let subscriptions = self
            .subscriptions
            .iter()
            .map(|(topic, selector)| selector.subscription(topic, now_ms()))
            .collect::<Result<Vec<SubscriptionData>>>()?;
        let instance = ClientInstance::acquire(&self.client).await?;
        // Routes first: the heartbeat goes to the brokers they name, and the first rebalance
        // needs the broker to know this consumer.
        for sub in &subscriptions {
            if let Err(error) = instance.update_route(&sub.topic).await {
                tracing::warn!(topic = %sub.topic, %error, "route lookup at start failed");
            }
        }
        if let Err(error) =
            super::check_client_in_broker(&instance, &self.options.group, &subscriptions).await
        {
            instance.release().await;
            return Err(error);
        }
        let (tx, rx) = mpsc::channel(self.options.buffered_batches.max(1));
        let inner = Arc::new_cyclic(|me| LiteInner {
            me: me.clone(),
            offsets: OffsetStore::remote(instance.clone(), &self.options.group),
            instance: instance.clone(),
            options: self.options,
            subscriptions,
            strategy: self.strategy.unwrap_or_else(|| Arc::new(Averagely)),
            queues: Mutex::default(),
            assigned_mode: std::sync::atomic::AtomicBool::new(false),
            tx,
            rx: tokio::sync::Mutex::new(rx),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            rebalance_lock: tokio::sync::Mutex::new(()),
        });
        instance.register_consumer(
            &inner.options.group,
            Arc::clone(&inner) as Arc<dyn ConsumerHandle>,
        );
        instance.send_heartbeat_now().await;
        if inner.options.auto_commit {
            let weak = Arc::downgrade(&inner);
            let token = inner.shutdown.clone();
            let period = inner.options.auto_commit_interval;
            inner.tasks.spawn(async move {
                loop {
                    tokio::select! {
                        () = token.cancelled() => return,
                        () = tokio::time::sleep(period) => {}
                    }
                    let Some(inner) = weak.upgrade() else { return };
                    let mqs: Vec<MessageQueue> = inner.queues.lock().keys().cloned().collect();
                    if let Err(error) = inner.offsets.persist_all(&mqs).await {
                        tracing::debug!(%error, "auto commit failed");
                    }
                }
            });
        }
        if !inner.subscriptions.is_empty() {
            rebalance(&inner).await;
        }
        Ok(LitePullConsumer { inner })
    }
}

impl ConsumerHandle for LiteInner {
    fn consumer_data(&self) -> ConsumerData {
        ConsumerData {
            group_name: self.options.group.clone(),
            consume_type: "CONSUME_ACTIVELY".into(),
            message_model: MessageModel::Clustering.name().into(),
            consume_from_where: self.options.consume_from_where.name().into(),
            subscription_data_set: self.subscriptions.clone(),
            unit_mode: false,
        }
    }

    fn rebalance(&self) -> BoxFuture<'_, ()> {
        Box::pin(rebalance(self))
    }

    fn reset_offsets(&self, offsets: Vec<(MessageQueue, i64)>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            for (mq, offset) in offsets {
                seek_queue(self, &mq, offset);
            }
        })
    }
}

async fn rebalance(inner: &LiteInner) {
    if inner.assigned_mode.load(Ordering::Acquire) || inner.shutdown.is_cancelled() {
        return;
    }
    let _guard = inner.rebalance_lock.lock().await;
    for sub in &inner.subscriptions {
        let assigned = async {
            let all = inner.instance.subscribe_queues(&sub.topic).await?;
            let addr = inner.instance.any_broker_addr_of(&sub.topic).await?;
            let timeout = inner.instance.config().mq_client_api_timeout;
            let mut ids = inner
                .instance
                .api()
                .consumer_id_list(&addr, &inner.options.group, timeout)
                .await?;
            ids.sort();
            Ok::<_, ClientError>(
                inner
                    .strategy
                    .allocate(inner.instance.client_id(), &all, &ids),
            )
        }
        .await;
        match assigned {
            Ok(mqs) => set_queues(inner, Some(&sub.topic), mqs).await,
            Err(error) => tracing::debug!(topic = %sub.topic, %error, "lite rebalance skipped"),
        }
    }
}

async fn set_queues(inner: &LiteInner, topic: Option<&str>, mqs: Vec<MessageQueue>) {
    let removed: Vec<(MessageQueue, Arc<LiteQueue>)> = {
        let mut table = inner.queues.lock();
        let gone: Vec<MessageQueue> = table
            .keys()
            .filter(|mq| topic.is_none_or(|t| mq.topic == t) && !mqs.contains(mq))
            .cloned()
            .collect();
        gone.into_iter()
            .filter_map(|mq| table.remove(&mq).map(|q| (mq, q)))
            .collect()
    };
    for (mq, queue) in removed {
        queue.cancel.cancel();
        if let Err(error) = inner.offsets.persist(&mq).await {
            tracing::debug!(?mq, %error, "offset persist on release failed");
        }
        inner.offsets.remove(&mq);
    }
    for mq in mqs {
        if inner.queues.lock().contains_key(&mq) {
            continue;
        }
        let offset = match start_offset(inner, &mq).await {
            Ok(offset) => offset,
            Err(error) => {
                tracing::warn!(?mq, %error, "cannot compute start offset");
                continue;
            }
        };
        let queue = Arc::new(LiteQueue {
            cancel: inner.shutdown.child_token(),
            epoch: AtomicU64::new(0),
            next_offset: Mutex::new(offset),
            consumed: AtomicI64::new(-1),
            seeked: Notify::new(),
        });
        inner.queues.lock().insert(mq.clone(), Arc::clone(&queue));
        if let Some(me) = inner.me.upgrade() {
            inner.tasks.spawn(pull_loop(me, mq, queue));
        }
    }
}

async fn start_offset(inner: &LiteInner, mq: &MessageQueue) -> Result<i64> {
    let stored = inner.offsets.read(mq, ReadOffsetType::Store).await?;
    if stored >= 0 {
        return Ok(stored);
    }
    let addr = inner
        .instance
        .master_addr_or_refresh(&mq.broker_name, &mq.topic)
        .await?;
    let timeout = inner.instance.config().mq_client_api_timeout;
    match inner.options.consume_from_where {
        ConsumeFromWhere::FirstOffset => Ok(0),
        ConsumeFromWhere::LastOffset => inner.instance.api().max_offset(&addr, mq, timeout).await,
        ConsumeFromWhere::Timestamp(ts) => {
            inner
                .instance
                .api()
                .search_offset(&addr, mq, ts, timeout)
                .await
        }
    }
}

fn seek_queue(inner: &LiteInner, mq: &MessageQueue, offset: i64) {
    if let Some(queue) = inner.queues.lock().get(mq) {
        let mut next = queue.next_offset.lock();
        *next = offset;
        queue.epoch.fetch_add(1, Ordering::AcqRel);
        queue.consumed.store(offset, Ordering::Release);
        queue.seeked.notify_one();
    }
    inner.offsets.update(mq, offset, false);
}

async fn pull_loop(inner: Arc<LiteInner>, mq: MessageQueue, queue: Arc<LiteQueue>) {
    let sub = inner
        .subscriptions
        .iter()
        .find(|s| s.topic == mq.topic)
        .cloned()
        .unwrap_or_else(|| build_subscription(&mq.topic, "*", now_ms()));
    loop {
        let (epoch, offset) = {
            let next = queue.next_offset.lock();
            (queue.epoch.load(Ordering::Acquire), *next)
        };
        let spec = PullSpec {
            group: &inner.options.group,
            mq: &mq,
            subscription: &sub,
            offset,
            max_nums: inner.options.pull_batch_size,
            sys_flag: pull_sys_flag(false, true, true, true),
            commit_offset: 0,
            suspend: BROKER_SUSPEND_MAX_TIME,
            timeout: CONSUMER_TIMEOUT_WHEN_SUSPEND,
            broker_id: MASTER_ID,
        };
        let outcome = tokio::select! {
            () = queue.cancel.cancelled() => return,
            () = queue.seeked.notified() => continue,
            outcome = pull_once(&inner.instance, spec) => outcome,
        };
        let result = match outcome {
            Ok(result) => result,
            Err(error) => {
                tracing::debug!(?mq, %error, "lite pull failed");
                tokio::select! {
                    () = queue.cancel.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        {
            let mut next = queue.next_offset.lock();
            if queue.epoch.load(Ordering::Acquire) != epoch {
                continue;
            }
            *next = result.next_begin_offset;
        }
        if result.status == PullStatus::Found && !result.messages.is_empty() {
            let batch = Batch {
                mq: mq.clone(),
                epoch,
                msgs: result.messages,
            };
            tokio::select! {
                () = queue.cancel.cancelled() => return,
                sent = inner.tx.send(batch) => if sent.is_err() { return },
            }
        }
    }
}

impl LitePullConsumer {
    /// A builder with RocketMQ's defaults.
    pub fn builder() -> LitePullConsumerBuilder {
        LitePullConsumerBuilder::default()
    }

    /// Consumes exactly `mqs` (no rebalancing from now on).
    pub async fn assign(&self, mqs: Vec<MessageQueue>) {
        self.inner.assigned_mode.store(true, Ordering::Release);
        set_queues(&self.inner, None, mqs).await;
    }

    /// The queues being consumed.
    pub fn assignment(&self) -> Vec<MessageQueue> {
        let mut mqs: Vec<MessageQueue> = self.inner.queues.lock().keys().cloned().collect();
        mqs.sort();
        mqs
    }

    /// The next pulled batch, or an empty vector after `timeout`.
    pub async fn poll(&self, timeout: Duration) -> Vec<MessageExt> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.inner.rx.lock().await;
        loop {
            let batch = match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(batch)) => batch,
                Ok(None) | Err(_) => return Vec::new(),
            };
            let queue = self.inner.queues.lock().get(&batch.mq).cloned();
            let Some(queue) = queue else { continue };
            if queue.epoch.load(Ordering::Acquire) != batch.epoch {
                continue;
            }
            if let Some(last) = batch.msgs.last() {
                let consumed = last.queue_offset + 1;
                queue.consumed.store(consumed, Ordering::Release);
                if self.inner.options.auto_commit {
                    self.inner.offsets.update(&batch.mq, consumed, false);
                }
            }
            return batch.msgs;
        }
    }

    /// Moves `mq` to `offset`; buffered messages of `mq` are discarded.
    pub fn seek(&self, mq: &MessageQueue, offset: i64) -> Result<()> {
        if !self.inner.queues.lock().contains_key(mq) {
            return Err(ClientError::Config(format!("{mq:?} is not assigned")));
        }
        seek_queue(&self.inner, mq, offset);
        Ok(())
    }

    /// Moves `mq` to its min offset.
    pub async fn seek_to_begin(&self, mq: &MessageQueue) -> Result<()> {
        let addr = self.addr(mq).await?;
        let offset = self
            .inner
            .instance
            .api()
            .min_offset(&addr, mq, self.timeout())
            .await?;
        self.seek(mq, offset)
    }

    /// Moves `mq` to its max offset.
    pub async fn seek_to_end(&self, mq: &MessageQueue) -> Result<()> {
        let addr = self.addr(mq).await?;
        let offset = self
            .inner
            .instance
            .api()
            .max_offset(&addr, mq, self.timeout())
            .await?;
        self.seek(mq, offset)
    }

    /// The offset of the first message stored at or after `timestamp` (ms).
    pub async fn offset_for_timestamp(&self, mq: &MessageQueue, timestamp: i64) -> Result<i64> {
        let addr = self.addr(mq).await?;
        self.inner
            .instance
            .api()
            .search_offset(&addr, mq, timestamp, self.timeout())
            .await
    }

    /// The group's committed offset of `mq` on the broker (-1 if none).
    pub async fn committed(&self, mq: &MessageQueue) -> Result<i64> {
        self.inner.offsets.read(mq, ReadOffsetType::Store).await
    }

    /// Commits the offsets of everything polled so far and waits for the brokers.
    pub async fn commit(&self) -> Result<()> {
        let queues: Vec<(MessageQueue, i64)> = self
            .inner
            .queues
            .lock()
            .iter()
            .map(|(mq, q)| (mq.clone(), q.consumed.load(Ordering::Acquire)))
            .collect();
        for (mq, consumed) in queues {
            if consumed >= 0 {
                self.inner.offsets.update(&mq, consumed, false);
                self.inner.offsets.persist(&mq).await?;
            }
        }
        Ok(())
    }

    async fn addr(&self, mq: &MessageQueue) -> Result<String> {
        self.inner
            .instance
            .master_addr_or_refresh(&mq.broker_name, &mq.topic)
            .await
    }

    fn timeout(&self) -> Duration {
        self.inner.instance.config().mq_client_api_timeout
    }

    /// Stops pulling, commits (when auto-commit is on) and unregisters.
    pub async fn shutdown(&self) {
        if self.inner.shutdown.is_cancelled() {
            return;
        }
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.inner.tasks.wait()).await;
        if self.inner.options.auto_commit {
            let mqs: Vec<MessageQueue> = self.inner.queues.lock().keys().cloned().collect();
            for mq in mqs {
                if let Err(error) = self.inner.offsets.persist(&mq).await {
                    tracing::warn!(?mq, %error, "offset commit at shutdown failed");
                }
            }
        }
        self.inner
            .instance
            .unregister_consumer(&self.inner.options.group)
            .await;
        self.inner.instance.release().await;
    }
}
