//! The in-memory form of one remoting frame: [`RemotingCommand`] and the small enums it carries.
//!
//! A command is independent of how its header is serialized; [`crate::frame`] turns it into bytes
//! and back. Header fields travel in [`ExtFields`] (see `crate::header` for typed views).

use bytes::Bytes;

pub use crate::ext_fields::ExtFields;

/// `MQVersion` ordinal Ferric puts in every command it builds: `V4_9_8`.
pub const CURRENT_VERSION: i32 = 409;

/// Flag bit 0: the command is a response.
pub const FLAG_RESPONSE: i32 = 0x1;
/// Flag bit 1: the request is oneway and must never be answered.
pub const FLAG_ONEWAY: i32 = 0x2;

/// How the header of a frame is serialized (high byte of the second frame word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum SerializeType {
    /// fastjson-style JSON text header.
    #[default]
    Json = 0,
    /// RocketMQ's compact binary header.
    RocketMq = 1,
}

impl SerializeType {
    /// The wire byte of this serialize type.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Maps a wire byte back to a serialize type; `None` for anything but 0 and 1.
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::Json),
            1 => Some(Self::RocketMq),
            _ => None,
        }
    }

    /// The Java enum name (`JSON` / `ROCKETMQ`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::RocketMq => "ROCKETMQ",
        }
    }
}

macro_rules! language_codes {
    ($( $variant:ident = $byte:literal => $name:literal ),* $(,)?) => {
        /// The sender's implementation language (§1.5). Travels as its name in JSON headers and as
        /// one byte in binary headers.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum LanguageCode {
            $(
                #[doc = concat!("`", $name, "` = ", stringify!($byte))]
                $variant = $byte,
            )*
        }

        impl LanguageCode {
            /// Every language code, in byte order.
            pub const ALL: &'static [LanguageCode] = &[$(LanguageCode::$variant),*];

            /// The Java enum name, e.g. `"JAVA"`.
            pub fn name(self) -> &'static str {
                match self {
                    $(LanguageCode::$variant => $name,)*
                }
            }

            /// Looks a Java enum name up (exact, upper case). `None` if unknown.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(LanguageCode::$variant),)*
                    _ => None,
                }
            }

            /// Looks a wire byte up. `None` if unknown.
            pub fn from_u8(byte: u8) -> Option<Self> {
                match byte {
                    $($byte => Some(LanguageCode::$variant),)*
                    _ => None,
                }
            }

            /// The wire byte.
            pub fn as_u8(self) -> u8 {
                self as u8
            }
        }
    };
}

language_codes! {
    Java = 0 => "JAVA",
    Cpp = 1 => "CPP",
    Dotnet = 2 => "DOTNET",
    Python = 3 => "PYTHON",
    Delphi = 4 => "DELPHI",
    Erlang = 5 => "ERLANG",
    Ruby = 6 => "RUBY",
    Other = 7 => "OTHER",
    Http = 8 => "HTTP",
    Go = 9 => "GO",
    Php = 10 => "PHP",
    Oms = 11 => "OMS",
    Rust = 12 => "RUST",
    NodeJs = 13 => "NODE_JS",
}

impl Default for LanguageCode {
    /// Java's field default: `JAVA`.
    fn default() -> Self {
        Self::Java
    }
}

/// One request, response or oneway request.
#[derive(Debug, Clone, PartialEq)]
pub struct RemotingCommand {
    /// Request code (requests) or response code (responses).
    pub code: i32,
    /// Sender's language.
    pub language: LanguageCode,
    /// Sender's `MQVersion` ordinal.
    pub version: i32,
    /// Request id; a response copies the request's.
    pub opaque: i32,
    /// Bit field: [`FLAG_RESPONSE`], [`FLAG_ONEWAY`].
    pub flag: i32,
    /// Free text, usually an error description on responses.
    pub remark: Option<String>,
    /// Header fields; `None` when the header carried no map at all.
    pub ext_fields: Option<ExtFields>,
    /// Frame body; may be empty.
    pub body: Bytes,
    /// How the header is (or will be) serialized.
    pub serialize_type: SerializeType,
}

impl RemotingCommand {
    fn new(code: i32, flag: i32, remark: Option<String>) -> Self {
        Self {
            code,
            language: LanguageCode::Java,
            version: CURRENT_VERSION,
            opaque: 0,
            flag,
            remark,
            ext_fields: None,
            body: Bytes::new(),
            serialize_type: SerializeType::Json,
        }
    }

    /// A request: JSON header, language JAVA, [`CURRENT_VERSION`], opaque 0, flag 0.
    pub fn request(code: i32) -> Self {
        Self::new(code, 0, None)
    }

    /// A response with the response flag set (opaque 0; see [`Self::response_to`]).
    pub fn response(code: i32, remark: Option<String>) -> Self {
        Self::new(code, FLAG_RESPONSE, remark)
    }

    /// A response answering `self`: copies the opaque, mirrors the serialize type.
    pub fn response_to(&self, code: i32, remark: Option<String>) -> Self {
        let mut response = Self::response(code, remark);
        response.opaque = self.opaque;
        response.serialize_type = self.serialize_type;
        response
    }

    /// True when flag bit 0 is set.
    pub fn is_response(&self) -> bool {
        self.flag & FLAG_RESPONSE != 0
    }

    /// True when flag bit 1 is set.
    pub fn is_oneway(&self) -> bool {
        self.flag & FLAG_ONEWAY != 0
    }

    /// Sets flag bit 0.
    pub fn mark_response(&mut self) {
        self.flag |= FLAG_RESPONSE;
    }

    /// Sets flag bit 1.
    pub fn mark_oneway(&mut self) {
        self.flag |= FLAG_ONEWAY;
    }

    /// The value of one header field.
    pub fn ext(&self, key: &str) -> Option<&str> {
        self.ext_fields.as_ref()?.get(key)
    }

    /// Sets one header field, creating the map if needed.
    pub fn set_ext(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) {
        self.ext_fields
            .get_or_insert_with(ExtFields::default)
            .insert(key, value);
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Builder form of setting `opaque`.
    pub fn with_opaque(mut self, opaque: i32) -> Self {
        self.opaque = opaque;
        self
    }

    /// Builder form of setting `remark`.
    pub fn with_remark(mut self, remark: impl Into<String>) -> Self {
        self.remark = Some(remark.into());
        self
    }

    /// Builder form of setting the serialize type.
    pub fn with_serialize_type(mut self, serialize_type: SerializeType) -> Self {
        self.serialize_type = serialize_type;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_names_and_bytes_round_trip() {
        assert_eq!(LanguageCode::ALL.len(), 14);
        for (index, language) in LanguageCode::ALL.iter().enumerate() {
            assert_eq!(language.as_u8() as usize, index);
            assert_eq!(LanguageCode::from_u8(language.as_u8()), Some(*language));
            assert_eq!(LanguageCode::from_name(language.name()), Some(*language));
        }
        assert_eq!(
            LanguageCode::from_name("NODE_JS"),
            Some(LanguageCode::NodeJs)
        );
        assert_eq!(LanguageCode::from_u8(14), None);
        assert_eq!(LanguageCode::from_name("java"), None);
    }

    #[test]
    fn builders_set_flags() {
        let mut request = RemotingCommand::request(105).with_opaque(7);
        assert!(!request.is_response());
        assert!(!request.is_oneway());
        request.mark_oneway();
        assert!(request.is_oneway());
        request.set_ext("topic", "T");
        assert_eq!(request.ext("topic"), Some("T"));
        assert_eq!(request.ext("missing"), None);
        let request = request.with_serialize_type(SerializeType::RocketMq);
        let response = request.response_to(17, Some("no topic".into()));
        assert!(response.is_response());
        assert_eq!(response.opaque, 7);
        assert_eq!(response.serialize_type, SerializeType::RocketMq);
        assert_eq!(response.version, CURRENT_VERSION);
        assert_eq!(response.remark.as_deref(), Some("no topic"));
    }
}
