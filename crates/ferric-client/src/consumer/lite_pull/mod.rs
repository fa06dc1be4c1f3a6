//! [`LitePullConsumer`]: background pulls fill a bounded buffer; you `poll` it. Queues come from
//! a subscription (rebalanced among the group) or from an explicit assignment.
//!
//! [`LitePullConsumerBuilder`] starts one; the queue table, rebalancing and the per-queue pull
//! loops live in `queues`.

mod builder;
mod queues;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use ferric_common::{MessageExt, MessageQueue};
use ferric_protocol::body::SubscriptionData;
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::ConsumeFromWhere;
use super::allocate::AllocateStrategy;
use super::offset_store::{OffsetStore, ReadOffsetType};
use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
pub use builder::LitePullConsumerBuilder;
use queues::{seek_queue, set_queues};

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
