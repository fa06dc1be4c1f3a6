//! Request processors. [`BrokerProcessor`] is registered as the remoting server's default
//! processor and dispatches by request code to one module per concern:
//!
//! * [`send`]: SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320);
//! * [`send_back`]: CONSUMER_SEND_MSG_BACK (36), retry/DLQ; GET_ALL_DELAY_OFFSET (45) is
//!   answered by [`crate::schedule`];
//! * [`pull`]: PULL_MESSAGE (11), LITE_PULL_MESSAGE (361), long polling;
//! * [`end_transaction`]: END_TRANSACTION (37), see [`crate::transaction`];
//! * [`reply`]: SEND_REPLY_MESSAGE (324), SEND_REPLY_MESSAGE_V2 (325), request/reply push;
//! * [`client`]: HEART_BEAT, UNREGISTER_CLIENT, CHECK_CLIENT_CONFIG, GET_CONSUMER_LIST_BY_GROUP,
//!   LOCK_BATCH_MQ, UNLOCK_BATCH_MQ;
//! * [`query`]: consumer offsets, queue offsets and times, QUERY_MESSAGE, VIEW_MESSAGE_BY_ID;
//! * [`admin`]: topics, groups, stats, runtime info, broker config;
//! * [`reset_offset`]: INVOKE_BROKER_TO_RESET_OFFSET (222) pushing RESET_CONSUMER_CLIENT_OFFSET.
//!
//! Every other code is answered with REQUEST_CODE_NOT_SUPPORTED. The fast (VIP) port serves
//! the same codes except pulls. Handlers return `Result<Option<RemotingCommand>, BrokerError>`;
//! errors become responses in [`crate::error::BrokerError::to_response`] only.

pub mod admin;
pub mod client;
pub mod end_transaction;
pub mod pull;
pub mod query;
pub mod reply;
pub mod reset_offset;
pub mod send;
pub mod send_back;

use std::sync::Arc;

use ferric_protocol::{RemotingCommand, RequestCode};
use ferric_remoting::{Channel, ProcessResult, RequestProcessor, not_supported_remark};
use futures::future::BoxFuture;

use crate::context::BrokerContext;
use crate::error::BrokerError;

/// What a handler returns: a response, nothing (answered later or oneway), or an error.
pub type HandlerResult = Result<Option<RemotingCommand>, BrokerError>;

/// The broker's request processor for one listening port.
#[derive(Debug, Clone)]
pub struct BrokerProcessor {
    ctx: Arc<BrokerContext>,
    fast_port: bool,
}

impl BrokerProcessor {
    /// A processor for the main port (`fast_port = false`) or the fast port.
    pub fn new(ctx: Arc<BrokerContext>, fast_port: bool) -> Self {
        Self { ctx, fast_port }
    }

    // No span per request: creating one (and formatting its fields) cost ≈ 7 % of the CPU of
    // a send at the default `info` level. The events below name the request themselves, and
    // the remoting layer's `remoting_request` span (debug level) wraps each request when
    // debug logging is on.
    async fn handle(&self, channel: &Channel, request: RemotingCommand) -> ProcessResult {
        let ctx = &self.ctx;
        let code = RequestCode(request.code);
        let result: HandlerResult = match code {
            RequestCode::SEND_MESSAGE
            | RequestCode::SEND_MESSAGE_V2
            | RequestCode::SEND_BATCH_MESSAGE => {
                send::send_message(ctx, channel, &request).await.map(Some)
            }
            RequestCode::PULL_MESSAGE | RequestCode::LITE_PULL_MESSAGE if !self.fast_port => {
                pull::pull_message(ctx, channel, &request).await
            }
            RequestCode::END_TRANSACTION => {
                end_transaction::end_transaction(ctx, channel, &request).await
            }
            RequestCode::SEND_REPLY_MESSAGE | RequestCode::SEND_REPLY_MESSAGE_V2 => {
                reply::send_reply(ctx, channel, &request).await.map(Some)
            }
            RequestCode::CONSUMER_SEND_MSG_BACK => send_back::consumer_send_msg_back(ctx, &request)
                .await
                .map(Some),
            RequestCode::GET_ALL_DELAY_OFFSET => {
                crate::schedule::get_all_delay_offset(ctx, &request).map(Some)
            }
            RequestCode::HEART_BEAT => client::heartbeat(ctx, channel, &request).map(Some),
            RequestCode::UNREGISTER_CLIENT => {
                client::unregister_client(ctx, channel, &request).map(Some)
            }
            RequestCode::CHECK_CLIENT_CONFIG => {
                client::check_client_config(ctx, &request).map(Some)
            }
            RequestCode::GET_CONSUMER_LIST_BY_GROUP => {
                client::consumer_list_by_group(ctx, &request).map(Some)
            }
            RequestCode::LOCK_BATCH_MQ => client::lock_batch(ctx, &request).map(Some),
            RequestCode::UNLOCK_BATCH_MQ => client::unlock_batch(ctx, &request).map(Some),
            RequestCode::UPDATE_CONSUMER_OFFSET => {
                query::update_consumer_offset(ctx, &request).map(Some)
            }
            RequestCode::QUERY_CONSUMER_OFFSET => {
                query::query_consumer_offset(ctx, &request).await.map(Some)
            }
            RequestCode::GET_MAX_OFFSET
            | RequestCode::GET_MIN_OFFSET
            | RequestCode::GET_EARLIEST_MSG_STORETIME
            | RequestCode::SEARCH_OFFSET_BY_TIMESTAMP => {
                query::queue_offsets(ctx, &request).await.map(Some)
            }
            RequestCode::QUERY_MESSAGE => query::query_message(ctx, &request).await.map(Some),
            RequestCode::VIEW_MESSAGE_BY_ID => {
                query::view_message_by_id(ctx, &request).await.map(Some)
            }
            RequestCode::INVOKE_BROKER_TO_RESET_OFFSET => {
                reset_offset::invoke_broker_to_reset_offset(ctx, &request)
                    .await
                    .map(Some)
            }
            _ => match admin::handle(ctx, &request).await {
                Some(result) => result.map(Some),
                None => Ok(Some(request.response_to(
                    ferric_protocol::ResponseCode::REQUEST_CODE_NOT_SUPPORTED.0,
                    Some(not_supported_remark(request.code)),
                ))),
            },
        };
        match result {
            Ok(response) => Ok(response),
            Err(error) => {
                if error.is_malformed_request() {
                    // The body is shown only when it is what did not parse (a JSON body, not a
                    // message payload behind a bad header).
                    let body = match &error {
                        BrokerError::Json(_) => body_excerpt(&request.body),
                        _ => String::new(),
                    };
                    tracing::warn!(
                        code = request.code,
                        opaque = request.opaque,
                        peer = %channel.peer(),
                        language = ?request.language,
                        version = request.version,
                        body_len = request.body.len(),
                        %body,
                        %error,
                        "request does not parse"
                    );
                } else {
                    tracing::debug!(
                        code = request.code,
                        opaque = request.opaque,
                        peer = %channel.peer(),
                        %error,
                        "request refused"
                    );
                }
                Ok(Some(error.to_response(&request)))
            }
        }
    }
}

impl RequestProcessor for BrokerProcessor {
    fn process<'a>(
        &'a self,
        channel: &'a Channel,
        request: RemotingCommand,
    ) -> BoxFuture<'a, ProcessResult> {
        Box::pin(self.handle(channel, request))
    }
}

/// At most [`LOGGED_BODY_BYTES`] of a body as text, for logging a request that does not parse.
fn body_excerpt(body: &[u8]) -> String {
    let shown = &body[..body.len().min(LOGGED_BODY_BYTES)];
    let mut text = String::from_utf8_lossy(shown).escape_debug().to_string();
    if body.len() > shown.len() {
        text.push_str(&format!("… ({} bytes)", body.len()));
    }
    text
}

/// How much of an unreadable request's body is logged.
const LOGGED_BODY_BYTES: usize = 1024;

/// A SUCCESS response to `request` with no remark.
pub fn success(request: &RemotingCommand) -> RemotingCommand {
    request.response_to(ferric_protocol::ResponseCode::SUCCESS.0, None)
}

/// Reads a fastjson body into `T`, refusing with SYSTEM_ERROR when it does not parse.
pub fn decode_body<T: serde::de::DeserializeOwned>(
    request: &RemotingCommand,
) -> Result<T, BrokerError> {
    Ok(ferric_protocol::fastjson::from_slice(&request.body)?)
}

/// Encodes `value` as a fastjson-style body.
pub fn encode_body<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, BrokerError> {
    Ok(ferric_protocol::fastjson::to_vec(
        value,
        ferric_protocol::fastjson::JsonStyle::Fastjson,
    )?)
}
