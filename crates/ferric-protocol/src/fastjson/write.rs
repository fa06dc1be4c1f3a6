//! Writing JSON in fastjson's shapes.
//!
//! Input is a `serde_json::Value` produced by serializing a body type. Object keys are already
//! sorted (serde_json's map is ordered), matching fastjson's sorted properties. Two key markers,
//! produced by [`super::IntKeyMap`] and [`super::MqKeyMap`], carry Java's non-string map keys:
//!
//! * [`INT_KEY_MARK`] + decimal text: an integer key, written bare (`{0:"a"}`) in
//!   [`JsonStyle::Fastjson`] and quoted (`{"0":"a"}`) in [`JsonStyle::Standard`];
//! * [`OBJECT_KEY_MARK`] + compact JSON object: an object key, written as the object itself in
//!   fastjson style and as a quoted string in standard style.
//!
//! Pretty output (config files) indents with tabs, like `JSON.toJSONString(obj, true)`; maps
//! with integer keys keep their entries on one line and only the closing brace moves.

use serde_json::Value;

use crate::json_text::write_json_string;

/// Marks a map key that Java holds as an integer.
pub const INT_KEY_MARK: &str = "\u{0}#";
/// Marks a map key that Java holds as an object (e.g. a `MessageQueue`).
pub const OBJECT_KEY_MARK: &str = "\u{0}{";

/// Which JSON dialect to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// fastjson's default: integer and object map keys unquoted (not valid JSON).
    Fastjson,
    /// Browser-compatible standard JSON: every key quoted.
    Standard,
}

enum Key<'a> {
    Plain(&'a str),
    Int(&'a str),
    Object(&'a str),
}

fn classify(key: &str) -> Key<'_> {
    if let Some(rest) = key.strip_prefix(INT_KEY_MARK) {
        Key::Int(rest)
    } else if let Some(rest) = key
        .strip_prefix('\u{0}')
        .filter(|_| key.starts_with(OBJECT_KEY_MARK))
    {
        Key::Object(rest)
    } else {
        Key::Plain(key)
    }
}

fn newline(out: &mut Vec<u8>, pretty: bool, depth: usize) {
    if pretty {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b'\t', depth));
    }
}

/// Appends `value` to `out`.
pub fn write_value(out: &mut Vec<u8>, value: &Value, style: JsonStyle, pretty: bool, depth: usize) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => out.extend_from_slice(number.to_string().as_bytes()),
        Value::String(text) => write_json_string(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                newline(out, pretty, depth + 1);
                write_value(out, item, style, pretty, depth + 1);
            }
            if !items.is_empty() {
                newline(out, pretty, depth);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map, style, pretty, depth),
    }
}

fn write_object(
    out: &mut Vec<u8>,
    map: &serde_json::Map<String, Value>,
    style: JsonStyle,
    pretty: bool,
    depth: usize,
) {
    let mut entries: Vec<(Key<'_>, &Value)> = map.iter().map(|(k, v)| (classify(k), v)).collect();
    let marked = entries.iter().any(|(key, _)| !matches!(key, Key::Plain(_)));
    if marked {
        entries.sort_by_key(|(key, _)| match key {
            Key::Int(text) => (0, text.parse::<i64>().unwrap_or(i64::MAX), ""),
            Key::Object(text) | Key::Plain(text) => (1, 0, *text),
        });
    }
    out.push(b'{');
    for (index, (key, value)) in entries.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        if !marked {
            newline(out, pretty, depth + 1);
        }
        match (key, style) {
            (Key::Plain(text), _) => write_json_string(out, text),
            (Key::Int(text), JsonStyle::Fastjson) | (Key::Object(text), JsonStyle::Fastjson) => {
                out.extend_from_slice(text.as_bytes())
            }
            (Key::Int(text), JsonStyle::Standard) | (Key::Object(text), JsonStyle::Standard) => {
                write_json_string(out, text)
            }
        }
        out.push(b':');
        write_value(out, value, style, pretty, depth + 1);
    }
    if !entries.is_empty() {
        newline(out, pretty, depth);
    }
    out.push(b'}');
}
