//! [`BrokerContext`]: the state every processor and background task shares, and the small
//! cross-cutting actions (persist a manager, re-register, notify consumers, wake held pulls).

use std::net::SocketAddr;
use std::sync::Arc;

use ferric_protocol::body::DataVersion;
use ferric_protocol::header::NotifyConsumerIdsChangedRequestHeader;
use ferric_protocol::{RemotingCommand, RequestCode};
use ferric_store::MessageStore;
use parking_lot::RwLock;

use crate::client_manager::{ConsumerManager, ProducerManager};
use crate::config::BrokerConfig;
use crate::error::BrokerError;
use crate::group_manager::SubscriptionGroupManager;
use crate::long_polling::PullRequestHoldService;
use crate::namesrv_api::NamesrvApi;
use crate::offset_manager::ConsumerOffsetManager;
use crate::rebalance_lock::RebalanceLockManager;
use crate::stats::BrokerStats;
use crate::topic_manager::TopicConfigManager;

/// Shared broker state.
#[derive(Debug)]
pub struct BrokerContext {
    /// Configuration (immutable while running).
    pub config: BrokerConfig,
    store: RwLock<Option<Arc<MessageStore>>>,
    /// Topics.
    pub topics: TopicConfigManager,
    /// Subscription groups.
    pub groups: SubscriptionGroupManager,
    /// Committed offsets.
    pub offsets: ConsumerOffsetManager,
    /// Online consumers.
    pub consumers: ConsumerManager,
    /// Online producers.
    pub producers: ProducerManager,
    /// Orderly-consumer queue locks.
    pub locks: RebalanceLockManager,
    /// Held pulls.
    pub held_pulls: PullRequestHoldService,
    /// TPS samples.
    pub stats: BrokerStats,
    /// NameServer client.
    pub namesrv: NamesrvApi,
    /// `brokerIP1:listenPort` as a socket address (the store host of every message).
    pub store_host: SocketAddr,
    /// Boot time (ms).
    pub boot_timestamp: i64,
    /// Version of the broker configuration (GET_BROKER_CONFIG header).
    pub config_version: DataVersion,
    /// Delay levels (`SCHEDULE_TOPIC_XXXX`, `delayOffset.json`).
    pub schedule: crate::schedule::ScheduleMessageService,
    /// RocketMQ 5 timer messages.
    pub timers: crate::timer::TimerMessageService,
    /// Compiled SQL92 subscriptions.
    pub filters: crate::filter::ConsumerFilterManager,
}

impl BrokerContext {
    /// Assembles the context around an opened store.
    pub fn new(
        config: BrokerConfig,
        store: MessageStore,
        topics: TopicConfigManager,
        groups: SubscriptionGroupManager,
        offsets: ConsumerOffsetManager,
        store_host: SocketAddr,
    ) -> Self {
        let now = crate::persist::now_ms();
        Self {
            namesrv: NamesrvApi::new(&config),
            schedule: crate::schedule::ScheduleMessageService::new(&config),
            timers: crate::timer::TimerMessageService::new(&config),
            filters: crate::filter::ConsumerFilterManager::default(),
            config,
            store: RwLock::new(Some(Arc::new(store))),
            topics,
            groups,
            offsets,
            consumers: ConsumerManager::default(),
            producers: ProducerManager::default(),
            locks: RebalanceLockManager::default(),
            held_pulls: PullRequestHoldService::default(),
            stats: BrokerStats::default(),
            store_host,
            boot_timestamp: now,
            config_version: DataVersion {
                state_version: None,
                timestamp: now,
                counter: 0,
            },
        }
    }

    /// The store, unless the broker is shutting down.
    pub fn store(&self) -> Result<Arc<MessageStore>, BrokerError> {
        self.store.read().clone().ok_or(BrokerError::ShuttingDown)
    }

    /// Takes the store out for shutdown; later requests get SERVICE_NOT_AVAILABLE.
    pub fn take_store(&self) -> Option<Arc<MessageStore>> {
        self.store.write().take()
    }

    /// Runs `work` against the store on the blocking pool (disk reads and writes never run on a
    /// reactor thread).
    pub async fn with_store<T, F>(&self, work: F) -> Result<T, BrokerError>
    where
        T: Send + 'static,
        F: FnOnce(&MessageStore) -> T + Send + 'static,
    {
        let store = self.store()?;
        Ok(tokio::task::spawn_blocking(move || work(&store)).await?)
    }

    /// Persists the topic table in the background and re-registers with the NameServers
    /// (oneway), as RocketMQ does after a topic is created, updated or deleted.
    pub fn topics_changed(self: &Arc<Self>) {
        let ctx = Arc::clone(self);
        tokio::spawn(async move {
            let persist = Arc::clone(&ctx);
            match tokio::task::spawn_blocking(move || persist.topics.persist()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(%error, "topics.json not written"),
                Err(error) => tracing::error!(%error, "topics persist task failed"),
            }
            ctx.namesrv.register_all(ctx.topics.wrapper(), true).await;
        });
    }

    /// Persists the subscription-group table in the background.
    pub fn groups_changed(self: &Arc<Self>) {
        let ctx = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            if let Err(error) = ctx.groups.persist() {
                tracing::error!(%error, "subscriptionGroup.json not written");
            }
        });
    }

    /// Sends NOTIFY_CONSUMER_IDS_CHANGED (oneway) to every member of `group` if the group
    /// wants it.
    pub fn notify_consumer_ids_changed(&self, group: &str) {
        if !self.config.notify_consumer_ids_changed_enable {
            return;
        }
        let enabled = self
            .groups
            .get(group)
            .is_none_or(|g| g.notify_consumer_ids_changed_enable);
        if !enabled {
            return;
        }
        let Some(info) = self.consumers.group(group) else {
            return;
        };
        let header = NotifyConsumerIdsChangedRequestHeader {
            consumer_group: group.to_owned(),
        };
        for client in info.channels.into_values() {
            let request = RemotingCommand::request(RequestCode::NOTIFY_CONSUMER_IDS_CHANGED.0)
                .with_header(&header);
            let group = group.to_owned();
            tokio::spawn(async move {
                if let Err(error) = client.channel.send_oneway(request).await {
                    tracing::debug!(%group, peer = %client.channel.peer(), %error, "notify consumer ids changed not sent");
                }
            });
        }
    }
}
