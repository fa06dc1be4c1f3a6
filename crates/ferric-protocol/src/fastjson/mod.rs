//! fastjson-compatible JSON: a tolerant reader and writers for the shapes Java peers produce.
//!
//! Java RocketMQ serializes bodies with fastjson, which writes sorted properties, omits nulls,
//! and writes non-string map keys raw: `{0:"addr"}` for `Map<Long,_>` and
//! `{{"brokerName":"b","queueId":0,"topic":"T"}:{…}}` for `Map<MessageQueue,_>` (§3.1). This module
//!
//! * parses all of that ([`parse`] → [`JsonValue`], or [`from_slice`] straight into a serde type;
//!   numeric keys arrive as their text and object keys as their compact JSON text);
//! * writes serde types in either dialect ([`to_vec`] with [`JsonStyle`]) or in the tab-indented
//!   pretty form used for config files ([`to_vec_pretty`]). Use [`IntKeyMap`] and [`MqKeyMap`] for
//!   fields whose Java map keys are integers or message queues.

mod keys;
mod read;
mod write;

pub use keys::{IntKeyMap, MessageQueueBody, MqKeyMap};
pub use read::{JsonValue, MAX_DEPTH, parse};
pub use write::{INT_KEY_MARK, JsonStyle, OBJECT_KEY_MARK, write_value};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a JSON body could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FastjsonError {
    /// The text is not fastjson-compatible JSON.
    #[error("JSON syntax error at byte {offset}: {reason}")]
    Syntax {
        /// Byte offset of the problem.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// The JSON does not have the shape of the target type, or a value could not be serialized.
    #[error("JSON shape error: {0}")]
    Shape(#[from] serde_json::Error),
}

/// Parses fastjson text into a serde type.
pub fn from_slice<T: DeserializeOwned>(input: &[u8]) -> Result<T, FastjsonError> {
    let value = parse(input)?.to_serde()?;
    Ok(serde_json::from_value(value)?)
}

/// Writes a serde type compactly in the given dialect.
pub fn to_vec<T: Serialize + ?Sized>(
    value: &T,
    style: JsonStyle,
) -> Result<Vec<u8>, FastjsonError> {
    let tree = serde_json::to_value(value)?;
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, &tree, style, false, 0);
    Ok(out)
}

/// Writes a serde type in fastjson's pretty form (tab indentation), as config files are written.
pub fn to_vec_pretty<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, FastjsonError> {
    let tree = serde_json::to_value(value)?;
    let mut out = Vec::with_capacity(1024);
    write_value(&mut out, &tree, JsonStyle::Fastjson, true, 0);
    Ok(out)
}
