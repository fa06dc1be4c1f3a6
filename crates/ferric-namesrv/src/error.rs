//! [`NamesrvError`]: everything a NameServer request or start can fail with.

use ferric_protocol::HeaderError;
use ferric_protocol::body::RegisterBodyError;
use ferric_protocol::fastjson::FastjsonError;

use crate::config::NamesrvConfigError;
use crate::kv::KvConfigError;

/// A failed request (answered with SYSTEM_ERROR and this description) or a
/// failed start.
#[derive(Debug, thiserror::Error)]
pub enum NamesrvError {
    /// A request header is missing a field or has a malformed one.
    #[error("bad request header: {0}")]
    Header(#[from] HeaderError),
    /// A JSON body is malformed.
    #[error("bad request body: {0}")]
    Body(#[from] FastjsonError),
    /// A compressed REGISTER_BROKER body is malformed.
    #[error("bad register broker body: {0}")]
    RegisterBody(#[from] RegisterBodyError),
    /// KV config could not be loaded or saved.
    #[error(transparent)]
    Kv(#[from] KvConfigError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] NamesrvConfigError),
    /// A request code this processor does not handle.
    #[error("request code {0} not supported")]
    Unsupported(i32),
    /// A socket operation failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
