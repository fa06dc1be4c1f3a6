//! The client's error type.

use ferric_common::record::{CompressionError, RecordError};
use ferric_protocol::HeaderError;
use ferric_protocol::fastjson::FastjsonError;
use ferric_remoting::RemotingError;

/// Everything that can go wrong in the client SDK.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A builder or configuration value is unusable.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// No NameServer address was configured (and `NAMESRV_ADDR` is unset).
    #[error("no NameServer address configured (set namesrv_addr or NAMESRV_ADDR)")]
    NoNameServer,
    /// The transport failed talking to `addr`.
    #[error("remoting call to {addr} failed: {source}")]
    Remoting {
        /// The peer.
        addr: String,
        /// What the transport reported.
        #[source]
        source: RemotingError,
    },
    /// A broker or NameServer answered with an error code.
    #[error("{addr} answered code {code}: {remark}")]
    Broker {
        /// The peer that answered.
        addr: String,
        /// The response code.
        code: i32,
        /// The response remark (may be empty).
        remark: String,
    },
    /// The NameServer has no route for the topic (nor a usable TBW102 fallback).
    #[error("no route info for topic {topic}")]
    RouteNotFound {
        /// The topic.
        topic: String,
    },
    /// No address is known for a broker name.
    #[error("no address known for broker {broker_name}")]
    BrokerNotFound {
        /// The broker name.
        broker_name: String,
    },
    /// A message failed validation before it was sent.
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// A message body is larger than `max_message_size`.
    #[error("message body of {size} bytes exceeds max_message_size {max}")]
    MessageTooLarge {
        /// Body size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A header in a response could not be read.
    #[error("bad response header: {0}")]
    Header(#[from] HeaderError),
    /// A JSON body could not be read or written.
    #[error("bad JSON body: {0}")]
    Json(#[from] FastjsonError),
    /// A message record in a response could not be decoded.
    #[error("bad message record: {0}")]
    Record(#[from] RecordError),
    /// A body could not be compressed or decompressed.
    #[error("body compression: {0}")]
    Compression(#[from] CompressionError),
    /// A local file (broadcast offsets) could not be read or written.
    #[error("local offset store i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The operation did not finish in time.
    #[error("{what} timed out after {millis} ms")]
    Timeout {
        /// What timed out.
        what: &'static str,
        /// The timeout.
        millis: u64,
    },
    /// The client (or the object used) has been shut down.
    #[error("client is shut down")]
    Shutdown,
    /// Every attempt of a send failed; `last` is the final error.
    #[error("send failed after {attempts} attempt(s): {last}")]
    SendFailed {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        #[source]
        last: Box<ClientError>,
    },
}

impl ClientError {
    /// Wraps a transport error with the peer address.
    pub fn remoting(addr: &str, source: RemotingError) -> Self {
        Self::Remoting {
            addr: addr.to_owned(),
            source,
        }
    }

    /// An error response from `addr`.
    pub fn broker(addr: &str, code: i32, remark: Option<&str>) -> Self {
        Self::Broker {
            addr: addr.to_owned(),
            code,
            remark: remark.unwrap_or_default().to_owned(),
        }
    }

    /// The response code when the peer answered with an error.
    pub fn response_code(&self) -> Option<i32> {
        match self {
            Self::Broker { code, .. } => Some(*code),
            Self::SendFailed { last, .. } => last.response_code(),
            _ => None,
        }
    }
}

/// Shorthand result type.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
