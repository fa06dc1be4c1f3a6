//! Broker lifecycle: [`BrokerController::start`] opens the store and the managers, serves the
//! main and fast ports, registers with the NameServers and runs the background services;
//! [`BrokerHandle::shutdown`] stops everything in order.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferric_remoting::{ChannelEventListener, RemotingServer, ServerConfig};
use ferric_store::MessageStore;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::BrokerConfig;
use crate::context::BrokerContext;
use crate::error::BrokerError;
use crate::group_manager::SubscriptionGroupManager;
use crate::offset_manager::ConsumerOffsetManager;
use crate::persist::now_ms;
use crate::processor::BrokerProcessor;
use crate::stats::CounterSample;
use crate::topic_manager::TopicConfigManager;

/// How often held pulls are checked for expiry and for messages that arrived another way.
const HOLD_CHECK_INTERVAL: Duration = Duration::from_millis(200);
/// How often silent clients are looked for.
const CLIENT_SCAN_INTERVAL: Duration = Duration::from_secs(10);
/// How often the store's cleanup (disk check, expired files) runs.
const CLEANUP_INTERVAL: Duration = Duration::from_secs(10);

/// Starts brokers.
#[derive(Debug)]
pub struct BrokerController;

/// A running broker.
#[derive(Debug)]
pub struct BrokerHandle {
    ctx: Arc<BrokerContext>,
    local_addr: SocketAddr,
    fast_addr: Option<SocketAddr>,
    stop_servers: CancellationToken,
    servers: Vec<JoinHandle<()>>,
    stop_services: CancellationToken,
    services: TaskTracker,
}

struct ClientEvictor {
    ctx: Arc<BrokerContext>,
}

impl ChannelEventListener for ClientEvictor {
    fn on_close(&self, channel: &ferric_remoting::Channel) {
        self.ctx.producers.channel_closed(channel.id());
        for group in self.ctx.consumers.channel_closed(channel.id()) {
            tracing::info!(%group, peer = %channel.peer(), "consumer channel closed");
            self.ctx.notify_consumer_ids_changed(&group);
        }
    }
}

fn store_host(config: &BrokerConfig) -> SocketAddr {
    let ip: IpAddr = config
        .broker_ip1
        .parse()
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    SocketAddr::new(ip, config.listen_port)
}

impl BrokerController {
    /// Starts a broker on `listener` (main port) and optionally `fast_listener` (the fast port,
    /// normally `listenPort - 2`, serving everything but pulls). `config` must have been
    /// [`BrokerConfig::finish`]ed; its `listenPort` is what the broker advertises.
    pub async fn start(
        config: BrokerConfig,
        listener: TcpListener,
        fast_listener: Option<TcpListener>,
    ) -> Result<BrokerHandle, BrokerError> {
        let local_addr = listener.local_addr()?;
        let fast_addr = fast_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;
        let loaded = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || -> Result<_, BrokerError> {
                let topics = TopicConfigManager::load(&config)?;
                let groups = SubscriptionGroupManager::load(&config)?;
                let offsets = ConsumerOffsetManager::load(&config)?;
                let store = MessageStore::open(config.message_store_config())?;
                Ok((topics, groups, offsets, store))
            })
            .await??
        };
        let (topics, groups, offsets, store) = loaded;
        let host = store_host(&config);
        let ctx = Arc::new(BrokerContext::new(
            config, store, topics, groups, offsets, host,
        ));
        // Write the system topics and built-in groups once, like RocketMQ does at start.
        {
            let ctx = Arc::clone(&ctx);
            tokio::task::spawn_blocking(move || -> Result<(), BrokerError> {
                ctx.topics.persist()?;
                ctx.groups.persist()?;
                ctx.schedule.load(&ctx.config)?;
                ctx.timers.load()?;
                Ok(())
            })
            .await??;
        }

        let server_config = ServerConfig {
            server_channel_max_idle: Some(Duration::from_secs(
                ctx.config.server_channel_max_idle_time_seconds.max(1),
            )),
            ..ServerConfig::default()
        };
        let stop_servers = CancellationToken::new();
        let mut servers = Vec::new();
        let mut listeners = vec![(listener, false)];
        if let Some(fast) = fast_listener {
            listeners.push((fast, true));
        }
        for (listener, fast) in listeners {
            let server = RemotingServer::new(server_config.clone());
            server.set_default_processor(Arc::new(BrokerProcessor::new(Arc::clone(&ctx), fast)));
            server.set_event_listener(Arc::new(ClientEvictor {
                ctx: Arc::clone(&ctx),
            }));
            let stop = stop_servers.clone();
            servers.push(tokio::spawn(async move {
                if let Err(error) = server.serve(listener, stop.cancelled_owned()).await {
                    tracing::error!(%error, "broker server failed");
                }
            }));
        }

        let stop_services = CancellationToken::new();
        let services = TaskTracker::new();
        spawn_services(&ctx, &services, &stop_services);
        crate::transaction::check::spawn(&ctx, &services, &stop_services);
        crate::schedule::spawn(&ctx, &services, &stop_services);

        let config = &ctx.config;
        let boot = if config.namesrv_addr.is_empty() {
            format!(
                "The broker[{}, {}] boot success. serializeType=JSON",
                config.broker_name,
                config.broker_addr()
            )
        } else {
            format!(
                "The broker[{}, {}] boot success. serializeType=JSON and name server is {}",
                config.broker_name,
                config.broker_addr(),
                config.namesrv_addr
            )
        };
        tracing::info!(%local_addr, ?fast_addr, "{boot}");
        Ok(BrokerHandle {
            ctx,
            local_addr,
            fast_addr,
            stop_servers,
            servers,
            stop_services,
            services,
        })
    }
}

fn every(
    services: &TaskTracker,
    stop: &CancellationToken,
    period: Duration,
    mut tick: impl FnMut() -> futures::future::BoxFuture<'static, ()> + Send + 'static,
) {
    let stop = stop.clone();
    services.spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = interval.tick() => tick().await,
            }
        }
    });
}

fn spawn_services(ctx: &Arc<BrokerContext>, services: &TaskTracker, stop: &CancellationToken) {
    // Registration with the NameServers: at once, then every registerNameServerPeriod.
    let period = Duration::from_millis(
        u64::try_from(ctx.config.register_name_server_period.clamp(10_000, 60_000))
            .unwrap_or(30_000),
    );
    let c = Arc::clone(ctx);
    every(services, stop, period, move || {
        let c = Arc::clone(&c);
        Box::pin(async move {
            if !c.namesrv.addrs().is_empty() {
                c.namesrv.register_all(c.topics.wrapper(), false).await;
            }
        })
    });

    let c = Arc::clone(ctx);
    let offsets_period = Duration::from_millis(
        u64::try_from(ctx.config.flush_consumer_offset_interval.max(100)).unwrap_or(5000),
    );
    every(services, stop, offsets_period, move || {
        let c = Arc::clone(&c);
        Box::pin(async move {
            let outcome = tokio::task::spawn_blocking(move || c.offsets.persist()).await;
            if let Ok(Err(error)) = outcome {
                tracing::error!(%error, "consumerOffset.json not written");
            }
        })
    });

    let c = Arc::clone(ctx);
    every(services, stop, HOLD_CHECK_INTERVAL, move || {
        let c = Arc::clone(&c);
        Box::pin(async move {
            let Ok(store) = c.store() else { return };
            let due = c.held_pulls.take_due(Instant::now(), |topic, queue_id| {
                store.get_max_offset_in_queue(topic, queue_id)
            });
            for held in due {
                let c = Arc::clone(&c);
                tokio::spawn(async move { crate::processor::pull::resume(&c, held).await });
            }
        })
    });

    let c = Arc::clone(ctx);
    every(services, stop, CLIENT_SCAN_INTERVAL, move || {
        let c = Arc::clone(&c);
        Box::pin(async move {
            let timeout = c.config.channel_expired_timeout;
            let now = now_ms();
            for (group, channel) in c.consumers.evict_expired(now, timeout) {
                tracing::warn!(%group, peer = %channel.peer(), "consumer evicted: no heartbeat");
                channel.close();
                c.notify_consumer_ids_changed(&group);
            }
            for channel in c.producers.evict_expired(now, timeout) {
                tracing::warn!(peer = %channel.peer(), "producer evicted: no heartbeat");
                channel.close();
            }
        })
    });

    let c = Arc::clone(ctx);
    every(services, stop, CLEANUP_INTERVAL, move || {
        let c = Arc::clone(&c);
        Box::pin(async move {
            match c.with_store(|store| store.run_cleanup()).await {
                Ok(Ok(report)) if report.commit_log_files_deleted > 0 => {
                    tracing::info!(
                        deleted = report.commit_log_files_deleted,
                        forced = report.forced,
                        "store cleanup ran"
                    );
                }
                Ok(Ok(_)) | Err(_) => {}
                Ok(Err(error)) => tracing::warn!(%error, "store cleanup failed"),
            }
        })
    });

    let c = Arc::clone(ctx);
    every(services, stop, Duration::from_secs(1), move || {
        let c = Arc::clone(&c);
        Box::pin(async move {
            let Ok(store) = c.store() else { return };
            let stats = store.stats();
            let load =
                |v: &std::sync::atomic::AtomicU64| v.load(std::sync::atomic::Ordering::Relaxed);
            c.stats.record(CounterSample {
                at_ms: now_ms(),
                put: load(&stats.put_message_times_total),
                get_found: load(&stats.get_message_times_total_found),
                get_miss: load(&stats.get_message_times_total_miss),
                get_transferred: load(&stats.get_message_transferred_msg_count),
            });
        })
    });
}

impl BrokerHandle {
    /// The main port's bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The fast port's bound address, if one was given.
    pub fn fast_addr(&self) -> Option<SocketAddr> {
        self.fast_addr
    }

    /// The shared state (for embedding and tests).
    pub fn context(&self) -> &Arc<BrokerContext> {
        &self.ctx
    }

    /// Ordered shutdown: stop accepting and drain connections, stop background services,
    /// unregister from the NameServers, persist topics, groups and offsets, then shut the store
    /// down (flush, checkpoint, abort file removed).
    pub async fn shutdown(self) -> Result<(), BrokerError> {
        tracing::info!("broker shutting down");
        self.stop_servers.cancel();
        for server in self.servers {
            if let Err(error) = server.await {
                tracing::warn!(%error, "broker server task failed");
            }
        }
        self.ctx.held_pulls.clear();
        self.stop_services.cancel();
        self.services.close();
        self.services.wait().await;
        if !self.ctx.namesrv.addrs().is_empty() {
            self.ctx.namesrv.unregister_all().await?;
        }
        self.ctx.namesrv.shutdown().await;
        let ctx = Arc::clone(&self.ctx);
        tokio::task::spawn_blocking(move || -> Result<(), BrokerError> {
            ctx.topics.persist()?;
            ctx.groups.persist()?;
            ctx.offsets.persist()?;
            ctx.schedule.persist()?;
            ctx.timers.persist()?;
            Ok(())
        })
        .await??;
        if let Some(store) = self.ctx.take_store() {
            shutdown_store(store).await?;
        }
        tracing::info!("broker shut down");
        Ok(())
    }
}

/// Waits (bounded) for in-flight store users to finish, then shuts the store down; if some
/// still hold it, the store shuts down when the last one drops it.
async fn shutdown_store(mut store: Arc<MessageStore>) -> Result<(), BrokerError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Arc::try_unwrap(store) {
            Ok(mut owned) => {
                tokio::task::spawn_blocking(move || owned.shutdown()).await??;
                return Ok(());
            }
            Err(shared) if Instant::now() < deadline => {
                store = shared;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(_) => {
                tracing::warn!("store still in use at shutdown; it closes when released");
                return Ok(());
            }
        }
    }
}
