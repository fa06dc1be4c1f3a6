//! Tokio transport for RocketMQ's remoting protocol.
//!
//! This crate moves [`ferric_protocol::RemotingCommand`]s over TCP. It owns sockets, frames,
//! opaque correlation and dispatch; it never looks inside headers or bodies beyond `code`,
//! `opaque`, `flag` and the serialize type. Processors (NameServer, Broker, client callbacks)
//! live in other crates and only see decoded commands.
//!
//! # What it does
//!
//! * [`RemotingCodec`]: a `tokio-util` codec over `ferric-protocol`'s sans-I/O
//!   `decode_frame`/`encode_frame`, with a maximum frame length (default 16 MiB).
//! * [`RemotingServer`]: takes a bound `TcpListener` and a shutdown future. Each accepted
//!   connection gets a reader loop and one writer task; every request is processed on its own
//!   task, so a slow request never delays later ones (responses may leave out of order).
//!   Requests are dispatched by code through a [`ProcessorRegistry`]. Open connections are kept
//!   as [`Channel`]s so the server can push its own requests (CHECK_TRANSACTION_STATE,
//!   NOTIFY_CONSUMER_IDS_CHANGED, …) and a [`ChannelEventListener`] hears connects and closes.
//! * [`RemotingClient`]: one connection per `"ip:port"`, dialled on first use and again after
//!   it closes; `invoke` (request/response with timeout), `invoke_async`, `invoke_oneway`; its
//!   own processor registry answers requests that servers send to it.
//!
//! Client and server connections run the same code (`connection` and [`Channel`]): the same
//! correlation of responses by opaque, the same dispatch of incoming requests.
//!
//! # What it does not do
//!
//! No TLS, no PROXY protocol, no header or body parsing, no retries of failed calls, no
//! ACL. Timed assertions and load generation belong elsewhere.
//!
//! # Wire facts it relies on
//!
//! Every frame is `int32 length | int32 (serializeType << 24 | headerLength) | header | body`,
//! big-endian, where `length` counts everything after itself. A length above the configured
//! maximum, or any malformed frame, closes that connection (logged with the peer address);
//! other connections are unaffected.
//!
//! `flag` bit 0 (`0x1`) marks a response, bit 1 (`0x2`) a oneway request. Requests and
//! responses are told apart only by bit 0, so each direction of a connection has its own
//! opaque space: a side's responses carry the opaque of the request they answer, and a side
//! numbers its own requests from a per-connection counter.
//!
//! # Server behaviour (RocketMQ §1.8)
//!
//! | situation | response |
//! |---|---|
//! | no processor for the code (and no default) | `3` REQUEST_CODE_NOT_SUPPORTED, remark `" request type <code> not supported"` |
//! | [`RequestProcessor::reject_request`] is true | `2` SYSTEM_BUSY, remark [`REJECT_REQUEST_REMARK`] |
//! | more than `max_in_flight_requests` requests running on the connection | `2` SYSTEM_BUSY, remark [`OVERLOAD_REMARK`] |
//! | processor returns an error (or panics) | `1` SYSTEM_ERROR, remark = the error's description |
//! | processor returns `Ok(None)` | nothing now; it may answer later via [`Channel::send_response`] |
//! | oneway request | never answered, not even on error |
//!
//! Every response gets the request's opaque, flag bit 0, and the request's serialize type
//! (JSON requests get JSON responses, ROCKETMQ requests get ROCKETMQ responses).
//!
//! A connection with no frame read or written for the idle limit (120 s by default, as
//! `serverChannelMaxIdleTimeSeconds`) is closed.
//!
//! Shutdown is ordered: stop accepting, tell each connection to stop reading, fail calls still
//! waiting for the peer, let in-flight requests finish and their responses drain, close the
//! sockets, all bounded by a grace period.
#![deny(unsafe_code)]

mod channel;
mod client;
mod codec;
mod config;
mod connection;
mod error;
mod events;
mod outbound;
mod processor;
mod server;

pub use channel::Channel;
pub use client::RemotingClient;
pub use codec::RemotingCodec;
pub use config::{
    ClientConfig, DEFAULT_MAX_IN_FLIGHT_REQUESTS, DEFAULT_OUTBOUND_QUEUE, ServerConfig,
};
pub use error::RemotingError;
pub use events::ChannelEventListener;
pub use processor::{
    FnProcessor, OVERLOAD_REMARK, ProcessResult, ProcessorError, ProcessorRegistry,
    REJECT_REQUEST_REMARK, REQUEST_CODE_NOT_SUPPORTED, RequestProcessor, SYSTEM_BUSY, SYSTEM_ERROR,
    not_supported_remark, processor_fn,
};
pub use server::RemotingServer;
