//! The serde_json reading of the JSON header that Ferric used before its hand-written scanner,
//! kept as the reference the scanner is checked against: by the property test below and by the
//! `json_header_diff` fuzz target. Compiled in tests and with the `serde-reference` feature only.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::command::{ExtFields, LanguageCode, RemotingCommand, SerializeType};
use crate::header_json::{self, DecodedHeader};
use crate::json_scan::JsonHeaderError;

/// Reads a JSON header with the serde_json reference decoder; the command has an empty body.
pub fn decode_with_serde(header: &[u8]) -> Result<RemotingCommand, serde_json::Error> {
    decode(header).map(into_command)
}

/// Reads a JSON header with the scanner the frame decoder uses; the command has an empty body.
pub fn decode_with_scanner(header: &[u8]) -> Result<RemotingCommand, JsonHeaderError> {
    header_json::decode(header).map(into_command)
}

fn into_command(header: DecodedHeader) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(header.code).with_serialize_type(SerializeType::Json);
    cmd.language = header.language;
    cmd.version = header.version;
    cmd.opaque = header.opaque;
    cmd.flag = header.flag;
    cmd.remark = header.remark;
    cmd.ext_fields = header.ext_fields;
    cmd
}

#[derive(Deserialize)]
struct JsonHeader {
    #[serde(default)]
    code: i32,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    version: i32,
    #[serde(default)]
    opaque: i32,
    #[serde(default)]
    flag: i32,
    #[serde(default)]
    remark: Option<String>,
    #[serde(default, rename = "extFields")]
    ext_fields: Option<TolerantExtFields>,
}

/// `extFields` whose values may be any JSON scalar.
struct TolerantExtFields(ExtFields);

impl<'de> Deserialize<'de> for TolerantExtFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ExtFieldsVisitor)
    }
}

struct ExtFieldsVisitor;

impl<'de> Visitor<'de> for ExtFieldsVisitor {
    type Value = TolerantExtFields;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object of header fields")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = ExtFields::with_capacity(access.size_hint().unwrap_or(0).min(64), 0);
        while let Some(key) = access.next_key::<String>()? {
            let ScalarText(value) = access.next_value()?;
            if let Some(value) = value {
                map.insert(key, value);
            }
        }
        Ok(TolerantExtFields(map))
    }
}

/// A JSON scalar kept as text; `None` for null.
struct ScalarText(Option<String>);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl Visitor<'_> for ScalarVisitor {
    type Value = ScalarText;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string, number, boolean or null")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<ScalarText, E> {
        Ok(ScalarText(Some(value.to_owned())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<ScalarText, E> {
        Ok(ScalarText(Some(value)))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<ScalarText, E> {
        Ok(ScalarText(Some(value.to_string())))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<ScalarText, E> {
        Ok(ScalarText(Some(value.to_string())))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<ScalarText, E> {
        Ok(ScalarText(Some(value.to_string())))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<ScalarText, E> {
        Ok(ScalarText(Some(value.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<ScalarText, E> {
        Ok(ScalarText(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<ScalarText, E> {
        Ok(ScalarText(None))
    }
}

/// Decodes a JSON header with serde_json, as Ferric did before its scanner.
fn decode(header: &[u8]) -> Result<DecodedHeader, serde_json::Error> {
    let parsed: JsonHeader = serde_json::from_slice(header)?;
    let language = match parsed.language.as_deref() {
        None => LanguageCode::Java,
        Some(name) => LanguageCode::from_name(name).unwrap_or(LanguageCode::Other),
    };
    Ok(DecodedHeader {
        code: parsed.code,
        language,
        version: parsed.version,
        opaque: parsed.opaque,
        flag: parsed.flag,
        remark: parsed.remark,
        ext_fields: parsed.ext_fields.map(|TolerantExtFields(map)| map),
    })
}

#[cfg(test)]
#[path = "header_json_reference_tests.rs"]
mod tests;
