//! [`NameServer`]: wires the route table, KV config, processors, liveness scan
//! and the remoting server together over a bound listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ferric_remoting::{Channel, ChannelEventListener, RemotingServer, ServerConfig};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::NamesrvConfig;
use crate::error::NamesrvError;
use crate::kv::KvConfigManager;
use crate::processor::{HANDLED_CODES, NamesrvProcessor};
use crate::state::{Clock, NamesrvState, system_clock};

/// Starts NameServers. See [`NameServer::start`].
#[derive(Debug)]
pub struct NameServer;

/// A running NameServer: its address, its state, and ordered shutdown.
#[derive(Debug)]
pub struct NameServerHandle {
    local_addr: SocketAddr,
    state: Arc<NamesrvState>,
    server: RemotingServer,
    shutdown: CancellationToken,
    serve_task: JoinHandle<Result<(), ferric_remoting::RemotingError>>,
    scan_task: JoinHandle<()>,
}

/// Evicts a broker as soon as its connection closes.
struct EvictOnClose {
    state: Arc<NamesrvState>,
}

impl ChannelEventListener for EvictOnClose {
    fn on_close(&self, channel: &Channel) {
        if let Some(broker_addr) = self.state.route.write().on_channel_destroy(channel.id()) {
            tracing::info!(
                %broker_addr,
                peer = %channel.remote_addr(),
                "broker channel closed, broker removed"
            );
        }
    }
}

impl NameServer {
    /// Loads KV config from `config.kv_config_path`, registers the processors
    /// and serves on `listener` until [`NameServerHandle::shutdown`].
    pub async fn start(
        config: NamesrvConfig,
        listener: TcpListener,
    ) -> Result<NameServerHandle, NamesrvError> {
        Self::start_with_clock(config, listener, system_clock()).await
    }

    /// [`NameServer::start`] with an injected clock (ms since the epoch).
    pub async fn start_with_clock(
        config: NamesrvConfig,
        listener: TcpListener,
        clock: Clock,
    ) -> Result<NameServerHandle, NamesrvError> {
        let kv = KvConfigManager::load(&config.kv_config_path)?;
        let local_addr = listener.local_addr()?;
        let server_config = ServerConfig {
            server_channel_max_idle: (config.server_channel_max_idle_time_seconds > 0)
                .then(|| Duration::from_secs(config.server_channel_max_idle_time_seconds)),
            ..ServerConfig::default()
        };
        let scan_interval = config.scan_interval();
        let state = Arc::new(NamesrvState::new(config, kv, clock));

        let server = RemotingServer::new(server_config);
        let processor = Arc::new(NamesrvProcessor::new(Arc::clone(&state)));
        for code in HANDLED_CODES {
            server.register_processor(code.0, processor.clone());
        }
        server.set_event_listener(Arc::new(EvictOnClose {
            state: Arc::clone(&state),
        }));

        let shutdown = CancellationToken::new();
        let serve_task = {
            let server = server.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move { server.serve(listener, stop.cancelled_owned()).await })
        };
        let scan_task = tokio::spawn(scan_not_active_brokers(
            Arc::clone(&state),
            server.clone(),
            scan_interval,
            shutdown.clone(),
        ));
        tracing::info!(%local_addr, "name server started");
        Ok(NameServerHandle {
            local_addr,
            state,
            server,
            shutdown,
            serve_task,
            scan_task,
        })
    }
}

async fn scan_not_active_brokers(
    state: Arc<NamesrvState>,
    server: RemotingServer,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let now = state.now_ms();
        let evicted = state.route.write().scan_not_active_brokers(now);
        for broker in evicted {
            if let Some(channel) = broker.channel_id.and_then(|id| server.channel(id)) {
                channel.close();
            }
        }
    }
}

impl NameServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The shared state (route table, KV config, configuration).
    pub fn state(&self) -> &Arc<NamesrvState> {
        &self.state
    }

    /// The remoting server (open channels).
    pub fn remoting_server(&self) -> &RemotingServer {
        &self.server
    }

    /// RocketMQ's boot line: `The Name Server boot success. serializeType=JSON,
    /// address <bindAddress>:<port>`.
    pub fn boot_line(&self) -> String {
        format!(
            "The Name Server boot success. serializeType=JSON, address {}:{}",
            self.state.config.bind_address,
            self.local_addr.port()
        )
    }

    /// Ordered shutdown: stop accepting, drain connections, stop the liveness
    /// scan.
    pub async fn shutdown(self) {
        tracing::info!(local_addr = %self.local_addr, "name server shutting down");
        self.shutdown.cancel();
        match self.serve_task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "remoting server stopped with an error"),
            Err(error) => tracing::warn!(%error, "remoting server task failed"),
        }
        if let Err(error) = self.scan_task.await {
            tracing::warn!(%error, "liveness scan task failed");
        }
        tracing::info!(local_addr = %self.local_addr, "name server shutdown complete");
    }
}
