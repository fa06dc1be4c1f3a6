//! The one error type of the transport.

use std::io;

use ferric_protocol::FrameError;

/// Everything that can go wrong while moving commands over a remoting connection.
#[derive(Debug, thiserror::Error)]
pub enum RemotingError {
    /// The TCP connection to `addr` could not be established.
    #[error("connect to {addr} failed: {source}")]
    Connect {
        /// The address as the caller gave it (`"ip:port"`).
        addr: String,
        /// The underlying socket error.
        #[source]
        source: io::Error,
    },
    /// The TCP connection to `addr` was not established within the connect timeout.
    #[error("connect to {addr} timed out after {millis} ms")]
    ConnectTimeout {
        /// The address as the caller gave it.
        addr: String,
        /// The connect timeout that elapsed.
        millis: u64,
    },
    /// No response to the request with `opaque` arrived within `millis`.
    #[error("request to {addr} timed out after {millis} ms (opaque {opaque})")]
    Timeout {
        /// The peer the request went to.
        addr: String,
        /// The opaque the request carried.
        opaque: i32,
        /// The timeout that elapsed.
        millis: u64,
    },
    /// The connection closed before the operation completed (or was already closed).
    #[error("connection to {addr} closed")]
    ConnectionClosed {
        /// The peer of the closed connection.
        addr: String,
    },
    /// The command could not be handed to the connection's writer.
    #[error("send to {addr} failed: {reason}")]
    SendFailed {
        /// The peer the command was meant for.
        addr: String,
        /// Why it could not be sent.
        reason: String,
    },
    /// A frame could not be encoded or decoded.
    #[error("frame error: {0}")]
    Frame(#[from] FrameError),
    /// A socket error while reading or writing frames.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The client or server has been shut down.
    #[error("remoting endpoint is shut down")]
    Shutdown,
}

impl RemotingError {
    /// True for errors after which the connection is unusable and a client should reconnect.
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            RemotingError::Connect { .. }
                | RemotingError::ConnectTimeout { .. }
                | RemotingError::ConnectionClosed { .. }
                | RemotingError::SendFailed { .. }
                | RemotingError::Io(_)
        )
    }
}
