//! [`RemotingServer`]: the accept loop, the channel table and ordered shutdown.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::channel::Channel;
use crate::config::ServerConfig;
use crate::connection::{ConnectionEnv, ConnectionSettings, open_connection};
use crate::error::RemotingError;
use crate::events::ChannelEventListener;
use crate::processor::{ProcessorRegistry, RequestProcessor};

/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// A remoting server: cheap to clone (all clones share processors and the channel table).
///
/// Register processors, optionally an event listener, then run [`RemotingServer::serve`] with a
/// bound listener and a shutdown future.
#[derive(Clone)]
pub struct RemotingServer {
    inner: Arc<ServerInner>,
}

struct ServerInner {
    config: ServerConfig,
    registry: Arc<ProcessorRegistry>,
    listener: RwLock<Option<Arc<dyn ChannelEventListener>>>,
    channels: RwLock<HashMap<u64, Channel>>,
}

impl fmt::Debug for RemotingServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemotingServer")
            .field("config", &self.inner.config)
            .field("registry", &self.inner.registry)
            .field("channels", &self.inner.channels.read().len())
            .finish()
    }
}

impl RemotingServer {
    /// A server with no processors: every request is answered with REQUEST_CODE_NOT_SUPPORTED.
    pub fn new(config: ServerConfig) -> Self {
        Self {
            inner: Arc::new(ServerInner {
                config,
                registry: Arc::new(ProcessorRegistry::new()),
                listener: RwLock::new(None),
                channels: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// The server's settings.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The processor registry requests are dispatched through.
    pub fn registry(&self) -> &Arc<ProcessorRegistry> {
        &self.inner.registry
    }

    /// Routes request `code` to `processor`.
    pub fn register_processor(&self, code: i32, processor: Arc<dyn RequestProcessor>) {
        self.inner.registry.register(code, processor);
    }

    /// Routes every code without its own processor to `processor`.
    pub fn set_default_processor(&self, processor: Arc<dyn RequestProcessor>) {
        self.inner.registry.set_default(processor);
    }

    /// Installs the connection lifecycle listener; it applies to connections accepted later.
    pub fn set_event_listener(&self, listener: Arc<dyn ChannelEventListener>) {
        *self.inner.listener.write() = Some(listener);
    }

    /// The open connection with this id.
    pub fn channel(&self, id: u64) -> Option<Channel> {
        self.inner.channels.read().get(&id).cloned()
    }

    /// The open connection from this remote address.
    pub fn channel_by_remote_addr(&self, remote_addr: SocketAddr) -> Option<Channel> {
        self.inner
            .channels
            .read()
            .values()
            .find(|channel| channel.remote_addr() == remote_addr)
            .cloned()
    }

    /// All open connections.
    pub fn channels(&self) -> Vec<Channel> {
        self.inner.channels.read().values().cloned().collect()
    }

    /// Accepts connections on `listener` until `shutdown` resolves, then shuts down in order:
    /// stop accepting, tell every connection to stop reading, let in-flight requests finish and
    /// their responses drain, and wait for the connections (bounded by
    /// [`ServerConfig::shutdown_grace`]).
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), RemotingError> {
        let config = &self.inner.config;
        let stop_connections = CancellationToken::new();
        let connections = TaskTracker::new();
        let env = ConnectionEnv {
            settings: ConnectionSettings {
                max_frame_length: config.max_frame_length,
                max_idle: config.server_channel_max_idle,
                outbound_queue: config.outbound_queue,
                max_in_flight_requests: config.max_in_flight_requests,
                drain_timeout: config.shutdown_grace,
            },
            registry: Arc::clone(&self.inner.registry),
            listener: self.inner.listener.read().clone(),
            shutdown: stop_connections.clone(),
        };
        let local_addr = listener.local_addr()?;
        tracing::info!(%local_addr, "remoting server listening");

        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, remote_addr)) => self.start_connection(stream, remote_addr, &env, &connections),
                    Err(error) => {
                        tracing::warn!(%local_addr, %error, "accept failed");
                        tokio::select! {
                            () = &mut shutdown => break,
                            () = tokio::time::sleep(ACCEPT_ERROR_BACKOFF) => {}
                        }
                    }
                },
            }
        }

        drop(listener);
        tracing::info!(%local_addr, open = self.inner.channels.read().len(), "remoting server shutting down");
        stop_connections.cancel();
        connections.close();
        if tokio::time::timeout(config.shutdown_grace, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(%local_addr, remaining = connections.len(), "connections still closing after the grace period");
        }
        tracing::info!(%local_addr, "remoting server stopped");
        Ok(())
    }

    fn start_connection(
        &self,
        stream: TcpStream,
        remote_addr: SocketAddr,
        env: &ConnectionEnv,
        connections: &TaskTracker,
    ) {
        let (channel, driver) = match open_connection(stream, None, env.clone()) {
            Ok(opened) => opened,
            Err(error) => {
                tracing::warn!(%remote_addr, %error, "could not set up accepted connection");
                return;
            }
        };
        self.inner
            .channels
            .write()
            .insert(channel.id(), channel.clone());
        let inner = Arc::clone(&self.inner);
        let listener = env.listener.clone();
        connections.spawn(async move {
            driver.await;
            inner.channels.write().remove(&channel.id());
            if let Some(listener) = listener {
                listener.on_close(&channel);
            }
        });
    }
}
