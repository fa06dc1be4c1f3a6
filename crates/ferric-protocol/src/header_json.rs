//! The JSON header (§1.2): fastjson's serialization of the command object.
//!
//! Written exactly in fastjson's shape: keys in alphabetical order (`code`, `extFields`, `flag`,
//! `language`, `opaque`, `remark`, `serializeTypeCurrentRPC`, `version`), `remark`/`extFields`
//! omitted when absent, `extFields` entries in Java `HashMap` order. Read tolerantly: any key order,
//! unknown keys ignored, every key optional, `extFields` values may be strings, numbers, booleans or
//! null (null entries are dropped, scalars are kept as their JSON text).

use std::fmt;

use bytes::BufMut;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::command::{ExtFields, LanguageCode, RemotingCommand};
use crate::frame::FrameError;
use crate::java_order::ordered_entries;
use crate::json_text::{write_json_i64, write_json_string};

/// Header fields decoded from JSON, before the body is attached.
#[derive(Debug)]
pub(crate) struct DecodedHeader {
    pub code: i32,
    pub language: LanguageCode,
    pub version: i32,
    pub opaque: i32,
    pub flag: i32,
    pub remark: Option<String>,
    pub ext_fields: Option<ExtFields>,
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
        let mut map = ExtFields::with_capacity(access.size_hint().unwrap_or(0).min(64));
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

/// Decodes a JSON header. Unknown language names decode as [`LanguageCode::Other`].
pub(crate) fn decode(header: &[u8]) -> Result<DecodedHeader, FrameError> {
    let parsed: JsonHeader = serde_json::from_slice(header).map_err(FrameError::BadJsonHeader)?;
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

/// Appends the JSON header of `cmd` to `out`.
pub(crate) fn encode<B: BufMut + ?Sized>(cmd: &RemotingCommand, out: &mut B) {
    out.put_slice(b"{\"code\":");
    write_json_i64(out, i64::from(cmd.code));
    if let Some(ext) = &cmd.ext_fields {
        out.put_slice(b",\"extFields\":{");
        for (index, (key, value)) in ordered_entries(ext).into_iter().enumerate() {
            if index > 0 {
                out.put_u8(b',');
            }
            write_json_string(out, key);
            out.put_u8(b':');
            write_json_string(out, value);
        }
        out.put_u8(b'}');
    }
    out.put_slice(b",\"flag\":");
    write_json_i64(out, i64::from(cmd.flag));
    out.put_slice(b",\"language\":\"");
    out.put_slice(cmd.language.name().as_bytes());
    out.put_slice(b"\",\"opaque\":");
    write_json_i64(out, i64::from(cmd.opaque));
    if let Some(remark) = &cmd.remark {
        out.put_slice(b",\"remark\":");
        write_json_string(out, remark);
    }
    out.put_slice(b",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":");
    write_json_i64(out, i64::from(cmd.version));
    out.put_u8(b'}');
}
