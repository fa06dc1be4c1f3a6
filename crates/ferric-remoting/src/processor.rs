//! Request processors and the registry that dispatches to them by request code.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use ferric_protocol::RemotingCommand;
use futures::future::BoxFuture;
use parking_lot::RwLock;

use crate::channel::Channel;
use crate::error::RemotingError;

/// RocketMQ's SYSTEM_ERROR response code.
pub const SYSTEM_ERROR: i32 = 1;
/// RocketMQ's SYSTEM_BUSY response code.
pub const SYSTEM_BUSY: i32 = 2;
/// RocketMQ's REQUEST_CODE_NOT_SUPPORTED response code.
pub const REQUEST_CODE_NOT_SUPPORTED: i32 = 3;

/// The remark Java RocketMQ sends with SYSTEM_BUSY when a processor rejects a request.
pub const REJECT_REQUEST_REMARK: &str =
    "[REJECTREQUEST]system busy, start flow control for a while";

/// The remark Java RocketMQ sends with SYSTEM_BUSY when a request cannot be queued.
pub const OVERLOAD_REMARK: &str = "[OVERLOAD]system busy, start flow control for a while";

/// The remark of a REQUEST_CODE_NOT_SUPPORTED response, exactly as Java RocketMQ words it
/// (note the leading space).
pub fn not_supported_remark(code: i32) -> String {
    format!(" request type {code} not supported")
}

/// A processor failed; the peer receives SYSTEM_ERROR with this error's description as remark.
#[derive(Debug)]
pub struct ProcessorError {
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl ProcessorError {
    /// An error carrying only a description.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// Wraps any error; its `Display` text becomes the response remark.
    pub fn from_error(error: impl StdError + Send + Sync + 'static) -> Self {
        Self {
            message: error.to_string(),
            source: Some(Box::new(error)),
        }
    }

    /// The description sent as the SYSTEM_ERROR remark.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ProcessorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for ProcessorError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<RemotingError> for ProcessorError {
    fn from(error: RemotingError) -> Self {
        Self::from_error(error)
    }
}

/// What a processor returns: `Ok(Some(response))` is sent back (unless the request was oneway),
/// `Ok(None)` sends nothing now (the processor may answer later with
/// [`Channel::send_response`]), and `Err` becomes a SYSTEM_ERROR response.
pub type ProcessResult = Result<Option<RemotingCommand>, ProcessorError>;

/// Handles requests of one or more request codes.
///
/// Processors never touch bytes: they get a decoded command and the [`Channel`] it came from.
/// The transport fixes up every response: it copies the request's opaque, sets the response
/// flag and mirrors the request's serialize type.
pub trait RequestProcessor: Send + Sync + 'static {
    /// Processes one request.
    fn process<'a>(
        &'a self,
        channel: &'a Channel,
        request: RemotingCommand,
    ) -> BoxFuture<'a, ProcessResult>;

    /// When true, the request is answered with SYSTEM_BUSY ([`REJECT_REQUEST_REMARK`]) without
    /// calling [`RequestProcessor::process`] (e.g. a slave refusing sends, page cache busy).
    fn reject_request(&self) -> bool {
        false
    }
}

/// A [`RequestProcessor`] made from an async closure; build it with [`processor_fn`].
pub struct FnProcessor<F> {
    function: F,
}

impl<F> fmt::Debug for FnProcessor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnProcessor").finish_non_exhaustive()
    }
}

/// Wraps `function(channel, request)` as a processor. The channel is a cheap clone.
pub fn processor_fn<F, Fut>(function: F) -> Arc<FnProcessor<F>>
where
    F: Fn(Channel, RemotingCommand) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ProcessResult> + Send + 'static,
{
    Arc::new(FnProcessor { function })
}

impl<F, Fut> RequestProcessor for FnProcessor<F>
where
    F: Fn(Channel, RemotingCommand) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ProcessResult> + Send + 'static,
{
    fn process<'a>(
        &'a self,
        channel: &'a Channel,
        request: RemotingCommand,
    ) -> BoxFuture<'a, ProcessResult> {
        Box::pin((self.function)(channel.clone(), request))
    }
}

/// Processors keyed by request code, plus an optional default for codes without one.
///
/// Registration works at any time (also while serving); lookups take a short read lock.
#[derive(Default)]
pub struct ProcessorRegistry {
    by_code: RwLock<HashMap<i32, Arc<dyn RequestProcessor>>>,
    default: RwLock<Option<Arc<dyn RequestProcessor>>>,
}

impl fmt::Debug for ProcessorRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut codes: Vec<i32> = self.by_code.read().keys().copied().collect();
        codes.sort_unstable();
        f.debug_struct("ProcessorRegistry")
            .field("codes", &codes)
            .field("has_default", &self.default.read().is_some())
            .finish()
    }
}

impl ProcessorRegistry {
    /// An empty registry: every code is answered with REQUEST_CODE_NOT_SUPPORTED.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes `code` to `processor`, replacing any previous one.
    pub fn register(&self, code: i32, processor: Arc<dyn RequestProcessor>) {
        self.by_code.write().insert(code, processor);
    }

    /// Routes every code without its own processor to `processor`.
    pub fn set_default(&self, processor: Arc<dyn RequestProcessor>) {
        *self.default.write() = Some(processor);
    }

    /// The processor for `code`, falling back to the default one.
    pub fn lookup(&self, code: i32) -> Option<Arc<dyn RequestProcessor>> {
        if let Some(processor) = self.by_code.read().get(&code) {
            return Some(Arc::clone(processor));
        }
        self.default.read().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answering(code: i32) -> Arc<dyn RequestProcessor> {
        processor_fn(move |_channel, request: RemotingCommand| async move {
            Ok(Some(request.response_to(code, None)))
        })
    }

    #[test]
    fn lookup_prefers_the_code_then_the_default() {
        let registry = ProcessorRegistry::new();
        assert!(
            registry.lookup(10).is_none(),
            "an empty registry has no processor"
        );
        registry.register(10, answering(0));
        assert!(registry.lookup(10).is_some());
        assert!(registry.lookup(11).is_none());
        registry.set_default(answering(0));
        assert!(
            registry.lookup(11).is_some(),
            "the default answers unknown codes"
        );
        assert!(format!("{registry:?}").contains("[10]"));
    }

    #[test]
    fn not_supported_remark_matches_java() {
        assert_eq!(not_supported_remark(321), " request type 321 not supported");
    }

    #[test]
    fn processor_error_keeps_description_and_source() {
        let io = std::io::Error::other("broken pipe");
        let error = ProcessorError::from_error(io);
        assert_eq!(error.message(), "broken pipe");
        assert!(StdError::source(&error).is_some());
        let plain = ProcessorError::new("plain");
        assert_eq!(plain.to_string(), "plain");
        assert!(StdError::source(&plain).is_none());
    }
}
