//! Field readers that accept what fastjson accepts, for bodies written by non-Java clients.
//!
//! fastjson reads a Java enum from its name or from its ordinal, a `long` from a number or a
//! decimal string, and `null` as "absent". Apache's C++ client (rocketmq-client-cpp, also behind
//! PyPI `rocketmq`) relies on that: its HEART_BEAT body carries `"consumeType":1`,
//! `"messageModel":1`, `"consumeFromWhere":0` and `"subVersion":"1795315763488"`, and leaves out
//! `unitMode`, `expressionType` and `classFilterMode`.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `ConsumeType` names in ordinal order.
pub const CONSUME_TYPE_NAMES: &[&str] = &["CONSUME_ACTIVELY", "CONSUME_PASSIVELY", "CONSUME_POP"];

/// `MessageModel` names in ordinal order.
pub const MESSAGE_MODEL_NAMES: &[&str] = &["BROADCASTING", "CLUSTERING"];

/// `ConsumeFromWhere` names in ordinal order (4.9.8, including the deprecated ones).
pub const CONSUME_FROM_WHERE_NAMES: &[&str] = &[
    "CONSUME_FROM_LAST_OFFSET",
    "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
    "CONSUME_FROM_MIN_OFFSET",
    "CONSUME_FROM_MAX_OFFSET",
    "CONSUME_FROM_FIRST_OFFSET",
    "CONSUME_FROM_TIMESTAMP",
];

/// An enum written as its name (kept as is) or its ordinal in `names` (turned into the name);
/// `null` is the empty string. An ordinal outside `names` is kept as its decimal text, so a newer
/// client's value does not make the whole body unreadable.
fn enum_name<'de, D: Deserializer<'de>>(
    deserializer: D,
    java_type: &str,
    names: &[&str],
) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(String::new()),
        Value::String(name) => Ok(name),
        Value::Number(number) => Ok(number
            .as_u64()
            .and_then(|ordinal| usize::try_from(ordinal).ok())
            .and_then(|ordinal| names.get(ordinal))
            .map_or_else(|| number.to_string(), |name| (*name).to_owned())),
        other => Err(D::Error::custom(format!(
            "expected a {java_type} name or ordinal, found {other}"
        ))),
    }
}

/// `ConsumeType` by name or ordinal.
pub fn consume_type<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    enum_name(deserializer, "ConsumeType", CONSUME_TYPE_NAMES)
}

/// `MessageModel` by name or ordinal.
pub fn message_model<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    enum_name(deserializer, "MessageModel", MESSAGE_MODEL_NAMES)
}

/// `ConsumeFromWhere` by name or ordinal.
pub fn consume_from_where<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    enum_name(deserializer, "ConsumeFromWhere", CONSUME_FROM_WHERE_NAMES)
}

/// A `long` written as a number or a decimal string (surrounding spaces allowed); `null` is 0.
pub fn long<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(0),
        Value::Number(number) => number
            .as_i64()
            .ok_or_else(|| D::Error::custom(format!("{number} does not fit a long"))),
        Value::String(text) if text.trim().is_empty() => Ok(0),
        Value::String(text) => text
            .trim()
            .parse::<i64>()
            .map_err(|error| D::Error::custom(format!("long {text:?}: {error}"))),
        other => Err(D::Error::custom(format!("expected a long, found {other}"))),
    }
}

/// A boolean written as `true`/`false`, `"true"`/`"false"` or 1/0; `null` is false.
pub fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(false),
        Value::Bool(value) => Ok(value),
        Value::Number(number) => Ok(number.as_i64() != Some(0)),
        Value::String(text) => match text.trim() {
            "true" | "1" => Ok(true),
            "false" | "0" | "" => Ok(false),
            _ => Err(D::Error::custom(format!("boolean {text:?}"))),
        },
        other => Err(D::Error::custom(format!(
            "expected a boolean, found {other}"
        ))),
    }
}

/// A string where `null` is the empty string.
pub fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// A list where `null` is the empty list.
pub fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// A list of `int`s, each a number or a decimal string; `null` is the empty list.
pub fn int_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<i32>, D::Error> {
    let values = Option::<Vec<Value>>::deserialize(deserializer)?.unwrap_or_default();
    values
        .into_iter()
        .map(|value| match value {
            Value::Number(number) => number
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| D::Error::custom(format!("{number} does not fit an int"))),
            Value::String(text) => text
                .trim()
                .parse::<i32>()
                .map_err(|error| D::Error::custom(format!("int {text:?}: {error}"))),
            other => Err(D::Error::custom(format!("expected an int, found {other}"))),
        })
        .collect()
}
