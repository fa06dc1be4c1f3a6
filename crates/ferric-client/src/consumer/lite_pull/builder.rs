//! [`LitePullConsumerBuilder`]: settings, subscriptions and the start sequence (routes, the
//! SQL92 check, heartbeat, auto-commit task, first rebalance).

use std::sync::Arc;

use ferric_common::MessageQueue;
use ferric_protocol::body::SubscriptionData;
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::queues::rebalance;
use super::{LiteInner, LitePullConsumer, LitePullOptions};
use crate::config::{ClientConfig, option_setter};
use crate::consumer::allocate::{AllocateStrategy, Averagely};
use crate::consumer::offset_store::OffsetStore;
use crate::consumer::{ConsumeFromWhere, MessageSelector, now_ms, spawn_periodic};
use crate::error::{ClientError, Result};
use crate::instance::{ClientInstance, ConsumerHandle};

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

    option_setter!(/// Messages per pull.
        pull_batch_size: i32);

    option_setter!(/// Automatic offset commits.
        auto_commit: bool);

    option_setter!(/// Start position for a new group.
        consume_from_where: ConsumeFromWhere);

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
            crate::consumer::check_client_in_broker(&instance, &self.options.group, &subscriptions)
                .await
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
            spawn_periodic(
                &inner.tasks,
                inner.shutdown.clone(),
                inner.options.auto_commit_interval,
                Arc::downgrade(&inner),
                |inner| async move {
                    let mqs: Vec<MessageQueue> = inner.queues.lock().keys().cloned().collect();
                    if let Err(error) = inner.offsets.persist_all(&mqs).await {
                        tracing::debug!(%error, "auto commit failed");
                    }
                },
            );
        }
        if !inner.subscriptions.is_empty() {
            rebalance(&inner).await;
        }
        Ok(LitePullConsumer { inner })
    }
}
