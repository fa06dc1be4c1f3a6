//! Server and client settings, with RocketMQ's defaults.

use std::time::Duration;

use ferric_protocol::DEFAULT_MAX_FRAME_LENGTH;

/// Frames queued per connection before senders wait for the writer.
pub const DEFAULT_OUTBOUND_QUEUE: usize = 4096;

/// Requests processed at once per connection before further ones are answered with
/// SYSTEM_BUSY `[OVERLOAD]` (Java's default send-queue capacity).
pub const DEFAULT_MAX_IN_FLIGHT_REQUESTS: usize = 10_000;

/// Settings of a [`crate::RemotingServer`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted frame length prefix (`com.rocketmq.remoting.frameMaxLength`, 16 MiB).
    pub max_frame_length: usize,
    /// A connection with no frame read or written for this long is closed
    /// (`serverChannelMaxIdleTimeSeconds`, 120 s). `None` disables the check.
    pub server_channel_max_idle: Option<Duration>,
    /// How long shutdown waits for connections to finish in-flight requests.
    pub shutdown_grace: Duration,
    /// Frames queued per connection before senders wait for the writer.
    pub outbound_queue: usize,
    /// Requests processed at once per connection; beyond it requests are answered with
    /// SYSTEM_BUSY `[OVERLOAD]` (oneway ones are dropped).
    pub max_in_flight_requests: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_frame_length: DEFAULT_MAX_FRAME_LENGTH,
            server_channel_max_idle: Some(Duration::from_secs(120)),
            shutdown_grace: Duration::from_secs(5),
            outbound_queue: DEFAULT_OUTBOUND_QUEUE,
            max_in_flight_requests: DEFAULT_MAX_IN_FLIGHT_REQUESTS,
        }
    }
}

/// Settings of a [`crate::RemotingClient`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Largest accepted frame length prefix (16 MiB).
    pub max_frame_length: usize,
    /// TCP connect timeout (`connectTimeoutMillis`, 3 s).
    pub connect_timeout: Duration,
    /// A connection with no frame read or written for this long is closed
    /// (`clientChannelMaxIdleTimeSeconds`, 120 s). `None` disables the check.
    pub client_channel_max_idle: Option<Duration>,
    /// How long [`crate::RemotingClient::shutdown`] waits for connections to close.
    pub shutdown_grace: Duration,
    /// Frames queued per connection before senders wait for the writer.
    pub outbound_queue: usize,
    /// Requests processed at once per connection; beyond it requests are answered with
    /// SYSTEM_BUSY `[OVERLOAD]` (oneway ones are dropped).
    pub max_in_flight_requests: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            max_frame_length: DEFAULT_MAX_FRAME_LENGTH,
            connect_timeout: Duration::from_secs(3),
            client_channel_max_idle: Some(Duration::from_secs(120)),
            shutdown_grace: Duration::from_secs(5),
            outbound_queue: DEFAULT_OUTBOUND_QUEUE,
            max_in_flight_requests: DEFAULT_MAX_IN_FLIGHT_REQUESTS,
        }
    }
}
