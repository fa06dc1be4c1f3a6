//! The RocketMQ remoting wire format, sans-I/O.
//!
//! This crate turns bytes into [`RemotingCommand`]s and back, byte-compatible with Apache
//! RocketMQ 4.9.8 peers. It does no I/O and owns no sockets; `ferric-remoting` drives it.
//!
//! # Frame layout (all integers big-endian)
//!
//! ```text
//! offset 0  i32  length            bytes after this field: 4 + headerLength + bodyLength
//! offset 4  u8   serializeType     0 = JSON, 1 = ROCKETMQ (binary)
//! offset 5  u24  headerLength
//! offset 8  ...  header            JSON text or binary header
//! ...       ...  body              raw bytes, length implied
//! ```
//!
//! The binary header is `i16 code | u8 language | i16 version | i32 opaque | i32 flag |
//! i32 remarkLen, remark | i32 extLen, { i16 keyLen, key, i32 valueLen, value }*`.
//!
//! The JSON header is fastjson's rendering of the command, keys sorted:
//! `{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":1,
//! "serializeTypeCurrentRPC":"JSON","version":409}`.
//!
//! # Limits
//!
//! Every length is checked before allocation: the frame against the caller's maximum
//! ([`DEFAULT_MAX_FRAME_LENGTH`] = 16 MiB, prefix included), the header against the frame, and
//! every binary length against the header bytes that remain. Incomplete input is `Ok(None)`.
//!
//! # Not here
//!
//! Sockets, timeouts, request/response correlation (see `ferric-remoting`); message record layout
//! (see `ferric-common`).

#![deny(unsafe_code)]

pub mod body;
pub mod codes;
pub mod command;
pub mod ext_fields;
pub mod fastjson;
pub mod frame;
pub mod header;
pub mod java_order;
pub mod json_text;

mod header_binary;
mod header_json;
#[cfg(any(test, feature = "serde-reference"))]
pub mod header_json_reference;
mod json_scan;

pub use codes::{RequestCode, ResponseCode};
pub use command::{
    CURRENT_VERSION, ExtFields, FLAG_ONEWAY, FLAG_RESPONSE, LanguageCode, RemotingCommand,
    SerializeType,
};
pub use frame::{
    DEFAULT_MAX_FRAME_LENGTH, FrameError, MAX_HEADER_LENGTH, decode_frame, encode_frame,
};
pub use header::{CommandHeader, HeaderError};
pub use header_binary::BINARY_HEADER_FIXED_LEN;
pub use json_scan::JsonHeaderError;
