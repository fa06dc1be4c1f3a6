//! Typed request/response headers (§2.4) and how they travel in `extFields` (§1.7).
//!
//! Each header is a plain struct whose fields map one-to-one to `extFields` keys (the Java field
//! names, including quirks such as `isForce`, `isOrder`, `removeOffset`). Values are written as
//! `value.toString()` would write them and read with Java's parse rules:
//!
//! * integers: decimal, optional sign (`Integer.parseInt` / `Long.parseLong`);
//! * booleans: `Boolean.parseBoolean`, so only case-insensitive `true` is true;
//! * [`BoundaryType`]: case-insensitive `upper`, anything else is `LOWER`.
//!
//! A missing required field is [`HeaderError::Missing`] naming the key; optional fields are
//! `Option`s and absent keys are `None`. Unknown keys are ignored.

mod admin;
mod client;
mod namesrv;
mod send;

pub use admin::*;
pub use client::*;
pub use namesrv::*;
pub use send::*;

use crate::command::{ExtFields, RemotingCommand};

/// Why a header could not be read from `extFields`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// A required key is absent.
    #[error("missing required header field `{0}`")]
    Missing(&'static str),
    /// A key is present but its value does not parse as the field's type.
    #[error("header field `{field}` has invalid value {value:?}")]
    Invalid {
        /// The `extFields` key.
        field: &'static str,
        /// The offending value.
        value: String,
    },
}

/// A header that is carried in a command's `extFields`.
pub trait CommandHeader: Sized {
    /// Puts every present field into `ext`.
    fn write(&self, ext: &mut ExtFields);
    /// Reads the header from `ext`.
    fn read(ext: &ExtFields) -> Result<Self, HeaderError>;
}

/// One header field value: how it is written to and parsed from its string form.
pub trait HeaderValue: Sized {
    /// The string form (`toString()` in Java).
    fn to_header_text(&self) -> String;
    /// Parses the string form; `field` names the key for errors.
    fn from_header_text(field: &'static str, text: &str) -> Result<Self, HeaderError>;
    /// Sets `key` in `ext` to the string form.
    fn insert_into(&self, ext: &mut ExtFields, key: &str) {
        ext.insert(key, self.to_header_text());
    }
}

impl HeaderValue for String {
    fn to_header_text(&self) -> String {
        self.clone()
    }

    fn insert_into(&self, ext: &mut ExtFields, key: &str) {
        ext.insert(key, self);
    }

    fn from_header_text(_field: &'static str, text: &str) -> Result<Self, HeaderError> {
        Ok(text.to_owned())
    }
}

/// A [`HeaderValue`] written with `to_string` and read with `str::parse`; the braces may add
/// more items to the impl.
macro_rules! parsed_header_value {
    ($ty:ty { $($extra:tt)* }) => {
        impl HeaderValue for $ty {
            fn to_header_text(&self) -> String {
                self.to_string()
            }

            fn from_header_text(field: &'static str, text: &str) -> Result<Self, HeaderError> {
                text.parse().map_err(|_| HeaderError::Invalid { field, value: text.to_owned() })
            }

            $($extra)*
        }
    };
}

parsed_header_value!(f64 {});

macro_rules! integer_header_value {
    ($($ty:ty),*) => {$(
        parsed_header_value!($ty {
            fn insert_into(&self, ext: &mut ExtFields, key: &str) {
                ext.insert_i64(key, i64::from(*self));
            }
        });
    )*};
}

integer_header_value!(i32, i64);

impl HeaderValue for bool {
    fn to_header_text(&self) -> String {
        self.to_string()
    }

    fn insert_into(&self, ext: &mut ExtFields, key: &str) {
        ext.insert(key, if *self { "true" } else { "false" });
    }

    /// `Boolean.parseBoolean`: never fails.
    fn from_header_text(_field: &'static str, text: &str) -> Result<Self, HeaderError> {
        Ok(text.eq_ignore_ascii_case("true"))
    }
}

/// Which offset SEARCH_OFFSET_BY_TIMESTAMP returns when several messages share the timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoundaryType {
    /// The first matching offset (default).
    #[default]
    Lower,
    /// The last matching offset.
    Upper,
}

impl HeaderValue for BoundaryType {
    fn to_header_text(&self) -> String {
        match self {
            Self::Lower => "LOWER".to_owned(),
            Self::Upper => "UPPER".to_owned(),
        }
    }

    fn from_header_text(_field: &'static str, text: &str) -> Result<Self, HeaderError> {
        Ok(if text.eq_ignore_ascii_case("upper") {
            Self::Upper
        } else {
            Self::Lower
        })
    }
}

/// Parses a required field from its text, if present.
pub fn parse_required<T: HeaderValue>(
    text: Option<&str>,
    key: &'static str,
) -> Result<T, HeaderError> {
    match text {
        Some(text) => T::from_header_text(key, text),
        None => Err(HeaderError::Missing(key)),
    }
}

/// Parses an optional field from its text, if present.
pub fn parse_optional<T: HeaderValue>(
    text: Option<&str>,
    key: &'static str,
) -> Result<Option<T>, HeaderError> {
    text.map(|text| T::from_header_text(key, text)).transpose()
}

/// Declares a header struct and its [`CommandHeader`] impl from a list of
/// `req|opt field: Type => "javaKey"` lines.
macro_rules! command_header {
    (@ty req $ty:ty) => { $ty };
    (@ty opt $ty:ty) => { Option<$ty> };
    (@read req $text:ident $key:literal) => { $crate::header::parse_required($text, $key)? };
    (@read opt $text:ident $key:literal) => { $crate::header::parse_optional($text, $key)? };
    (@write req $ext:ident $key:literal $value:expr) => {
        $crate::header::HeaderValue::insert_into($value, $ext, $key);
    };
    (@write opt $ext:ident $key:literal $value:expr) => {
        if let Some(value) = $value {
            $crate::header::HeaderValue::insert_into(value, $ext, $key);
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$field_meta:meta])* $kind:ident $field:ident : $ty:ty => $key:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[doc = concat!("`extFields` key `", $key, "`.")]
                pub $field: command_header!(@ty $kind $ty),
            )*
        }

        impl $name {
            /// The `extFields` keys of this header, in Java declaration order.
            pub const KEYS: &'static [&'static str] = &[$($key),*];
        }

        impl $crate::header::CommandHeader for $name {
            #[allow(unused_variables)]
            fn write(&self, ext: &mut $crate::command::ExtFields) {
                $( command_header!(@write $kind ext $key &self.$field); )*
            }

            #[allow(unused_variables, unused_mut)]
            fn read(ext: &$crate::command::ExtFields) -> Result<Self, $crate::header::HeaderError> {
                // One pass over the entries, each key matched once, instead of one search of
                // the map per field.
                $( let mut $field: Option<&str> = None; )*
                for (key, value) in ext {
                    match key {
                        $( $key => $field = Some(value), )*
                        _ => {}
                    }
                }
                Ok(Self { $( $field: command_header!(@read $kind $field $key), )* })
            }
        }
    };
}
pub(crate) use command_header;

impl RemotingCommand {
    /// Reads a typed header from this command's `extFields` (an absent map reads as empty).
    pub fn decode_header<H: CommandHeader>(&self) -> Result<H, HeaderError> {
        match &self.ext_fields {
            Some(ext) => H::read(ext),
            None => H::read(&ExtFields::default()),
        }
    }

    /// Writes a typed header into this command's `extFields`, creating the map if needed.
    pub fn with_header<H: CommandHeader>(mut self, header: &H) -> Self {
        let ext = self
            .ext_fields
            .get_or_insert_with(|| ExtFields::with_capacity(8, 128));
        header.write(ext);
        self
    }
}
