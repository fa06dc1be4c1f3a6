//! The broker's error type and the one place where errors and store statuses become RocketMQ
//! response codes.

use ferric_common::config_file::ConfigFileError;
use ferric_protocol::fastjson::FastjsonError;
use ferric_protocol::{HeaderError, RemotingCommand, ResponseCode};
use ferric_store::{PutMessageStatus, StoreError};

/// Errors of the broker library.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A configuration key has a malformed value (names key and value).
    #[error("{0}")]
    Config(ConfigFileError),
    /// The configuration is inconsistent.
    #[error("{0}")]
    InvalidConfig(String),
    /// File-system error (config files, listeners).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The message store failed.
    #[error("store error: {0}")]
    Store(#[from] StoreError),
    /// A JSON body or config file could not be read or written.
    #[error("json error: {0}")]
    Json(#[from] FastjsonError),
    /// A request header is missing a field or has a malformed one.
    #[error("{0}")]
    Header(#[from] HeaderError),
    /// The request is refused with a specific response code.
    #[error("{remark}")]
    Refused {
        /// Response code.
        code: ResponseCode,
        /// Response remark.
        remark: String,
    },
    /// The broker is shutting down.
    #[error("the broker is shutting down")]
    ShuttingDown,
    /// A blocking task panicked or was cancelled.
    #[error("internal task failed: {0}")]
    Task(String),
}

impl BrokerError {
    /// A refusal with `code` and `remark`.
    pub fn refused(code: ResponseCode, remark: impl Into<String>) -> Self {
        Self::Refused {
            code,
            remark: remark.into(),
        }
    }

    /// The response code this error is answered with.
    pub fn response_code(&self) -> ResponseCode {
        match self {
            Self::Refused { code, .. } => *code,
            Self::ShuttingDown => ResponseCode::SERVICE_NOT_AVAILABLE,
            _ => ResponseCode::SYSTEM_ERROR,
        }
    }

    /// Whether the request itself could not be read (its header or JSON body): a peer speaking
    /// a dialect the broker does not understand, worth a warning rather than a silent refusal.
    pub fn is_malformed_request(&self) -> bool {
        matches!(self, Self::Json(_) | Self::Header(_))
    }

    /// The response answering `request` with this error.
    pub fn to_response(&self, request: &RemotingCommand) -> RemotingCommand {
        request.response_to(self.response_code().0, Some(self.to_string()))
    }
}

impl From<tokio::task::JoinError> for BrokerError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Task(error.to_string())
    }
}

/// Remark of SERVICE_NOT_AVAILABLE for a refused put (RocketMQ's wording).
pub const SERVICE_NOT_AVAILABLE_REMARK: &str = "service not available now. It may be caused by one of the following reasons: the broker's disk is full, messages are put to the slave, message store has been shut down, etc.";

/// Remark of MESSAGE_ILLEGAL for a refused put (RocketMQ's wording).
pub const MESSAGE_ILLEGAL_REMARK: &str = "the message is illegal, maybe msg body or properties length not matched. msg body length limit 128k, msg properties length limit 32k.";

/// The response code and remark of a store put status (`None` remark for success codes).
pub fn put_status_response(status: PutMessageStatus) -> (ResponseCode, Option<String>) {
    match status {
        PutMessageStatus::PutOk => (ResponseCode::SUCCESS, None),
        PutMessageStatus::FlushDiskTimeout => (ResponseCode::FLUSH_DISK_TIMEOUT, None),
        PutMessageStatus::ServiceNotAvailable => (
            ResponseCode::SERVICE_NOT_AVAILABLE,
            Some(SERVICE_NOT_AVAILABLE_REMARK.to_owned()),
        ),
        PutMessageStatus::MessageIllegal | PutMessageStatus::PropertiesSizeExceeded => (
            ResponseCode::MESSAGE_ILLEGAL,
            Some(MESSAGE_ILLEGAL_REMARK.to_owned()),
        ),
        PutMessageStatus::OsPageCacheBusy => (
            ResponseCode::SYSTEM_BUSY,
            Some("[PC_SYNCHRONIZED]broker busy, start flow control for a while".to_owned()),
        ),
        PutMessageStatus::UnknownError => {
            (ResponseCode::SYSTEM_ERROR, Some("UNKNOWN_ERROR".to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_codes() {
        let request = RemotingCommand::request(10).with_opaque(9);
        let refused = BrokerError::refused(ResponseCode::TOPIC_NOT_EXIST, "no topic");
        let response = refused.to_response(&request);
        assert_eq!(response.code, 17);
        assert_eq!(response.opaque, 9);
        assert_eq!(response.remark.as_deref(), Some("no topic"));
        let header = BrokerError::Header(HeaderError::Missing("topic"));
        assert_eq!(header.response_code(), ResponseCode::SYSTEM_ERROR);
        assert_eq!(
            put_status_response(PutMessageStatus::PropertiesSizeExceeded).0,
            ResponseCode::MESSAGE_ILLEGAL
        );
        assert_eq!(
            put_status_response(PutMessageStatus::FlushDiskTimeout).0,
            ResponseCode::FLUSH_DISK_TIMEOUT
        );
    }
}
