//! [`RemotingClient`]: one lazily dialled, self-healing connection per address.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ferric_protocol::RemotingCommand;
use parking_lot::{Mutex, RwLock};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::channel::Channel;
use crate::config::ClientConfig;
use crate::connection::{ConnectionEnv, ConnectionSettings, open_connection};
use crate::error::RemotingError;
use crate::events::ChannelEventListener;
use crate::processor::{ProcessorRegistry, RequestProcessor};

/// A remoting client: cheap to clone (clones share connections and processors).
///
/// Addresses are `"ip:port"` strings (host names resolve too). The first call to an address
/// dials it; a closed connection is dialled again by the next call. Requests arriving from
/// servers on these connections go to the client's own processors.
#[derive(Clone)]
pub struct RemotingClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    config: ClientConfig,
    registry: Arc<ProcessorRegistry>,
    listener: RwLock<Option<Arc<dyn ChannelEventListener>>>,
    slots: Mutex<HashMap<String, Arc<ConnectionSlot>>>,
    shutdown: CancellationToken,
    connections: TaskTracker,
}

/// The connection to one address; `connecting` makes concurrent callers share one dial.
#[derive(Default)]
struct ConnectionSlot {
    channel: Mutex<Option<Channel>>,
    connecting: tokio::sync::Mutex<()>,
}

impl ConnectionSlot {
    fn active_channel(&self) -> Option<Channel> {
        self.channel
            .lock()
            .as_ref()
            .filter(|channel| channel.is_active())
            .cloned()
    }
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        // Connections must not outlive the last client handle.
        self.shutdown.cancel();
    }
}

impl fmt::Debug for RemotingClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut addrs: Vec<String> = self.inner.slots.lock().keys().cloned().collect();
        addrs.sort_unstable();
        f.debug_struct("RemotingClient")
            .field("config", &self.inner.config)
            .field("addrs", &addrs)
            .field("registry", &self.inner.registry)
            .finish()
    }
}

impl RemotingClient {
    /// A client with no connections yet.
    pub fn new(config: ClientConfig) -> Self {
        Self {
            inner: Arc::new(ClientInner {
                config,
                registry: Arc::new(ProcessorRegistry::new()),
                listener: RwLock::new(None),
                slots: Mutex::new(HashMap::new()),
                shutdown: CancellationToken::new(),
                connections: TaskTracker::new(),
            }),
        }
    }

    /// The client's settings.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The registry for requests servers send to this client.
    pub fn registry(&self) -> &Arc<ProcessorRegistry> {
        &self.inner.registry
    }

    /// Routes server-initiated request `code` to `processor`.
    pub fn register_processor(&self, code: i32, processor: Arc<dyn RequestProcessor>) {
        self.inner.registry.register(code, processor);
    }

    /// Routes every server-initiated code without its own processor to `processor`.
    pub fn set_default_processor(&self, processor: Arc<dyn RequestProcessor>) {
        self.inner.registry.set_default(processor);
    }

    /// Installs the connection lifecycle listener; it applies to connections dialled later.
    pub fn set_event_listener(&self, listener: Arc<dyn ChannelEventListener>) {
        *self.inner.listener.write() = Some(listener);
    }

    /// Sends `request` to `addr` and waits for the response; `timeout` covers dialling too.
    pub async fn invoke(
        &self,
        addr: &str,
        request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, RemotingError> {
        let deadline = Instant::now() + timeout;
        let connect_timeout = self.inner.config.connect_timeout.min(timeout);
        let channel = self.connect_within(addr, connect_timeout).await?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        channel
            .send_request(request, remaining)
            .await
            .map_err(|error| match error {
                // Report the caller's timeout, not what was left of it after dialling.
                RemotingError::Timeout { addr, opaque, .. } => RemotingError::Timeout {
                    addr,
                    opaque,
                    millis: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                },
                other => other,
            })
    }

    /// [`RemotingClient::invoke`] on a spawned task; await the handle (or drop it) as needed.
    pub fn invoke_async(
        &self,
        addr: &str,
        request: RemotingCommand,
        timeout: Duration,
    ) -> JoinHandle<Result<RemotingCommand, RemotingError>> {
        let client = self.clone();
        let addr = addr.to_owned();
        tokio::spawn(async move { client.invoke(&addr, request, timeout).await })
    }

    /// Sends `request` to `addr` as oneway (flag bit 1); returns once it is queued.
    pub async fn invoke_oneway(
        &self,
        addr: &str,
        request: RemotingCommand,
    ) -> Result<(), RemotingError> {
        let channel = self.channel(addr).await?;
        channel.send_oneway(request).await
    }

    /// The live connection to `addr`, dialling it if there is none.
    pub async fn channel(&self, addr: &str) -> Result<Channel, RemotingError> {
        self.connect_within(addr, self.inner.config.connect_timeout)
            .await
    }

    /// Closes the connection to `addr`, if any; the next call dials again.
    pub fn close_channel(&self, addr: &str) {
        let slot = self.inner.slots.lock().get(addr).cloned();
        if let Some(channel) = slot.and_then(|slot| slot.channel.lock().take()) {
            channel.close();
        }
    }

    /// Closes every connection and waits for them (bounded by
    /// [`ClientConfig::shutdown_grace`]). Later calls fail with [`RemotingError::Shutdown`].
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.connections.close();
        let grace = self.inner.config.shutdown_grace;
        if tokio::time::timeout(grace, self.inner.connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                remaining = self.inner.connections.len(),
                "client connections still closing after the grace period"
            );
        }
    }

    async fn connect_within(
        &self,
        addr: &str,
        connect_timeout: Duration,
    ) -> Result<Channel, RemotingError> {
        if self.inner.shutdown.is_cancelled() {
            return Err(RemotingError::Shutdown);
        }
        let slot = Arc::clone(self.inner.slots.lock().entry(addr.to_owned()).or_default());
        if let Some(channel) = slot.active_channel() {
            return Ok(channel);
        }
        let millis = u64::try_from(connect_timeout.as_millis()).unwrap_or(u64::MAX);
        let timed_out = || RemotingError::ConnectTimeout {
            addr: addr.to_owned(),
            millis,
        };
        let deadline = Instant::now() + connect_timeout;
        let _dialling = tokio::time::timeout_at(deadline, slot.connecting.lock())
            .await
            .map_err(|_| timed_out())?;
        // Another caller may have connected while this one waited.
        if let Some(channel) = slot.active_channel() {
            return Ok(channel);
        }
        let stream = tokio::time::timeout_at(deadline, TcpStream::connect(addr))
            .await
            .map_err(|_| timed_out())?
            .map_err(|source| RemotingError::Connect {
                addr: addr.to_owned(),
                source,
            })?;
        let channel = self.start_connection(stream, addr, &slot)?;
        *slot.channel.lock() = Some(channel.clone());
        Ok(channel)
    }

    fn start_connection(
        &self,
        stream: TcpStream,
        addr: &str,
        slot: &Arc<ConnectionSlot>,
    ) -> Result<Channel, RemotingError> {
        let config = &self.inner.config;
        let listener = self.inner.listener.read().clone();
        let env = ConnectionEnv {
            settings: ConnectionSettings {
                max_frame_length: config.max_frame_length,
                max_idle: config.client_channel_max_idle,
                outbound_queue: config.outbound_queue,
                max_in_flight_requests: config.max_in_flight_requests,
                drain_timeout: config.shutdown_grace,
            },
            registry: Arc::clone(&self.inner.registry),
            listener: listener.clone(),
            shutdown: self.inner.shutdown.clone(),
        };
        let (channel, driver) = open_connection(stream, Some(addr.to_owned()), env)?;
        let slot = Arc::clone(slot);
        let closing = channel.clone();
        self.inner.connections.spawn(async move {
            driver.await;
            {
                let mut current = slot.channel.lock();
                if current
                    .as_ref()
                    .is_some_and(|channel| channel.id() == closing.id())
                {
                    *current = None;
                }
            }
            if let Some(listener) = listener {
                listener.on_close(&closing);
            }
        });
        Ok(channel)
    }
}
