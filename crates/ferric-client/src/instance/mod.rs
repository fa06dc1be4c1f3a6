//! [`ClientInstance`]: the connection hub shared by producers, consumers and admin objects of one
//! client id — NameServer list, route cache, broker address table, heartbeats, rebalancing and
//! the handlers for requests brokers send to clients.

pub mod api;
mod processors;
pub mod route;
mod route_cache;
mod tasks;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, OnceLock, Weak};

use ferric_common::message_id::UniqIdGenerator;
use ferric_common::{MessageExt, MessageQueue};
use ferric_protocol::body::{ConsumerData, TopicRouteData};
use ferric_protocol::header::UnregisterClientRequestHeader;
use ferric_remoting::{Channel, RemotingClient};
use futures::future::BoxFuture;
use parking_lot::{Mutex, RwLock};
use tokio::sync::{Notify, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{ClientConfig, build_client_id, generate_instance_name};
use crate::error::Result;
use api::Api;
use route::TopicPublishInfo;

/// What the instance needs from a consumer: its heartbeat data and a rebalance hook.
pub(crate) trait ConsumerHandle: Send + Sync + 'static {
    /// ConsumerData for the heartbeat.
    fn consumer_data(&self) -> ConsumerData;
    /// Runs one rebalance round.
    fn rebalance(&self) -> BoxFuture<'_, ()>;
    /// Applies offsets pushed by RESET_CONSUMER_CLIENT_OFFSET.
    fn reset_offsets(&self, offsets: Vec<(MessageQueue, i64)>) -> BoxFuture<'_, ()>;
}

/// What the instance needs from a transactional producer: answering a state check.
pub(crate) trait TransactionCheckHandle: Send + Sync + 'static {
    /// Checks a half message and answers END_TRANSACTION on `channel`.
    fn check(
        &self,
        channel: Channel,
        header: ferric_protocol::header::CheckTransactionStateRequestHeader,
        msg: MessageExt,
    ) -> BoxFuture<'static, ()>;
}

static INSTANCES: LazyLock<Mutex<HashMap<String, Weak<InstanceInner>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static UNIQ_IDS: OnceLock<UniqIdGenerator> = OnceLock::new();

/// The shared client: cheap to clone; every clone is the same instance.
///
/// Producers and consumers built from configs with the same explicit `instance_name` (and
/// NameServer list) share one instance; with no instance name each gets its own. The instance
/// shuts down when its last producer/consumer/admin user releases it.
#[derive(Clone)]
pub struct ClientInstance {
    pub(crate) inner: Arc<InstanceInner>,
}

impl std::fmt::Debug for ClientInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientInstance")
            .field("client_id", &self.inner.client_id)
            .field("namesrv_addrs", &self.inner.namesrv_addrs)
            .finish_non_exhaustive()
    }
}

pub(crate) struct InstanceInner {
    pub(crate) config: ClientConfig,
    pub(crate) client_id: String,
    pub(crate) namesrv_addrs: Vec<String>,
    namesrv_index: AtomicUsize,
    registry_key: String,
    pub(crate) api: Api,
    routes: RwLock<HashMap<String, TopicRouteData>>,
    publish_infos: RwLock<HashMap<String, Arc<TopicPublishInfo>>>,
    subscribe_infos: RwLock<HashMap<String, Vec<MessageQueue>>>,
    broker_addrs: RwLock<HashMap<String, BTreeMap<i64, String>>>,
    pub(crate) producer_groups: RwLock<HashSet<String>>,
    pub(crate) checkers: RwLock<HashMap<String, Arc<dyn TransactionCheckHandle>>>,
    pub(crate) consumers: RwLock<HashMap<String, Arc<dyn ConsumerHandle>>>,
    pub(crate) reply_waiters: Mutex<HashMap<String, oneshot::Sender<MessageExt>>>,
    pub(crate) heartbeat_now: Notify,
    pub(crate) rebalance_now: Notify,
    users: AtomicUsize,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tasks: TaskTracker,
}

impl ClientInstance {
    /// The instance for `config`'s client id, created (and started) if needed, with one more
    /// user counted. Call [`ClientInstance::release`] when done.
    pub async fn acquire(config: &ClientConfig) -> Result<Self> {
        let namesrv_addrs = config.resolved_namesrv_addrs()?;
        let ip = config.resolved_client_ip(&namesrv_addrs);
        let instance_name = config
            .instance_name
            .clone()
            .unwrap_or_else(generate_instance_name);
        let client_id = build_client_id(ip, &instance_name, config.unit_name.as_deref());
        let key = format!("{client_id}|{}", namesrv_addrs.join(";"));
        let instance = {
            let mut instances = INSTANCES.lock();
            let existing = instances
                .get(&key)
                .and_then(Weak::upgrade)
                .filter(|inner| !inner.shutdown.is_cancelled());
            match existing {
                Some(inner) => Self { inner },
                None => {
                    let inner = Arc::new(InstanceInner::new(
                        config.clone(),
                        client_id,
                        namesrv_addrs,
                        key.clone(),
                    ));
                    instances.insert(key, Arc::downgrade(&inner));
                    let instance = Self { inner };
                    UNIQ_IDS.get_or_init(|| UniqIdGenerator::for_process(ip));
                    processors::register(&instance);
                    tasks::start(&instance);
                    instance
                }
            }
        };
        instance.inner.users.fetch_add(1, Ordering::SeqCst);
        Ok(instance)
    }

    /// Drops one user; the last one shuts the instance down.
    pub async fn release(&self) {
        if self.inner.users.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shutdown().await;
        }
    }

    /// Stops background tasks and closes every connection (idempotent).
    pub async fn shutdown(&self) {
        if self.inner.shutdown.is_cancelled() {
            return;
        }
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
        self.inner.api.remoting.shutdown().await;
        let mut instances = INSTANCES.lock();
        if instances
            .get(&self.inner.registry_key)
            .is_some_and(|weak| weak.ptr_eq(&Arc::downgrade(&self.inner)))
        {
            instances.remove(&self.inner.registry_key);
        }
    }

    /// This client's id (`ip@instance`).
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The settings this instance was created with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// True once [`ClientInstance::shutdown`] ran.
    pub fn is_shutdown(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }

    pub(crate) fn api(&self) -> &Api {
        &self.inner.api
    }

    /// A fresh client unique id (`UNIQ_KEY`).
    pub fn next_uniq_id(&self) -> String {
        UNIQ_IDS
            .get_or_init(|| UniqIdGenerator::for_process(std::net::Ipv4Addr::LOCALHOST.into()))
            .next_id()
    }

    /// Registers a producer group for heartbeats.
    pub(crate) fn register_producer(&self, group: &str) {
        self.inner.producer_groups.write().insert(group.to_owned());
        self.inner.heartbeat_now.notify_one();
    }

    /// Registers a consumer; a heartbeat and a rebalance follow promptly.
    pub(crate) fn register_consumer(&self, group: &str, handle: Arc<dyn ConsumerHandle>) {
        self.inner
            .consumers
            .write()
            .insert(group.to_owned(), handle);
    }

    /// Removes a producer group and tells every broker.
    pub(crate) async fn unregister_producer(&self, group: &str) {
        self.inner.producer_groups.write().remove(group);
        self.inner.checkers.write().remove(group);
        self.unregister_client(Some(group), None).await;
    }

    /// Removes a consumer group and tells every broker.
    pub(crate) async fn unregister_consumer(&self, group: &str) {
        self.inner.consumers.write().remove(group);
        self.unregister_client(None, Some(group)).await;
    }

    async fn unregister_client(&self, producer: Option<&str>, consumer: Option<&str>) {
        let timeout = self.inner.config.mq_client_api_timeout;
        for (addr, _) in self.all_broker_addrs() {
            let header = UnregisterClientRequestHeader {
                client_id: self.inner.client_id.clone(),
                producer_group: producer.map(str::to_owned),
                consumer_group: consumer.map(str::to_owned),
            };
            if let Err(error) = self
                .inner
                .api
                .unregister_client(&addr, header, timeout)
                .await
            {
                tracing::warn!(%addr, %error, "unregister client failed");
            }
        }
    }

    /// Sends a heartbeat to every broker now.
    pub async fn send_heartbeat_now(&self) {
        tasks::send_heartbeat_to_all(self).await;
    }

    /// Asks the rebalance service to run now.
    pub(crate) fn rebalance_soon(&self) {
        self.inner.rebalance_now.notify_one();
    }

    /// The transport (for server-pushed requests handled by producers/consumers).
    pub(crate) fn remoting(&self) -> &RemotingClient {
        &self.inner.api.remoting
    }
}

impl InstanceInner {
    fn new(
        config: ClientConfig,
        client_id: String,
        namesrv_addrs: Vec<String>,
        key: String,
    ) -> Self {
        let remoting = RemotingClient::new(config.remoting.clone());
        Self {
            api: Api {
                remoting,
                language: config.language,
            },
            config,
            client_id,
            namesrv_addrs,
            namesrv_index: AtomicUsize::new(rand::random::<u16>() as usize),
            registry_key: key,
            routes: RwLock::default(),
            publish_infos: RwLock::default(),
            subscribe_infos: RwLock::default(),
            broker_addrs: RwLock::default(),
            producer_groups: RwLock::default(),
            checkers: RwLock::default(),
            consumers: RwLock::default(),
            reply_waiters: Mutex::default(),
            heartbeat_now: Notify::new(),
            rebalance_now: Notify::new(),
            users: AtomicUsize::new(0),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }
}

impl Drop for InstanceInner {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Topics whose routes the instance keeps fresh.
pub(crate) fn watched_topics(instance: &ClientInstance) -> Vec<String> {
    let mut topics: HashSet<String> = instance
        .inner
        .publish_infos
        .read()
        .keys()
        .cloned()
        .collect();
    for consumer in instance.inner.consumers.read().values() {
        for sub in consumer.consumer_data().subscription_data_set {
            topics.insert(sub.topic);
        }
    }
    topics.into_iter().collect()
}
