//! The JSON header (§1.2): fastjson's serialization of the command object.
//!
//! Written exactly in fastjson's shape: keys in alphabetical order (`code`, `extFields`, `flag`,
//! `language`, `opaque`, `remark`, `serializeTypeCurrentRPC`, `version`), `remark`/`extFields`
//! omitted when absent, `extFields` entries in Java `HashMap` order. Read tolerantly: any key order,
//! unknown keys ignored, every key optional, `extFields` values may be strings, numbers, booleans or
//! null (null entries are dropped, scalars are kept as their JSON text).

use std::borrow::Cow;

use bytes::BufMut;

use crate::command::{ExtFields, LanguageCode, RemotingCommand};
use crate::java_order::for_each_in_java_order;
use crate::json_scan::{JsonHeaderError, Scanner};
use crate::json_text::{write_json_i64, write_json_string};

/// Header fields decoded from JSON, before the body is attached.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct DecodedHeader {
    pub code: i32,
    pub language: LanguageCode,
    pub version: i32,
    pub opaque: i32,
    pub flag: i32,
    pub remark: Option<String>,
    pub ext_fields: Option<ExtFields>,
}

/// Entries a header map is sized for up front: SEND_MESSAGE_V2 carries 14.
pub(crate) const EXT_FIELDS_PRESIZE: usize = 14;

/// The header's fields in the order of the command object's declaration, which is also the
/// order of the array form `[code, language, version, opaque, flag, remark, extFields]`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Code,
    Language,
    Version,
    Opaque,
    Flag,
    Remark,
    ExtFields,
}

const FIELDS_IN_ORDER: [Field; 7] = [
    Field::Code,
    Field::Language,
    Field::Version,
    Field::Opaque,
    Field::Flag,
    Field::Remark,
    Field::ExtFields,
];

impl Field {
    fn from_key(key: &str) -> Option<Self> {
        Some(match key {
            "code" => Self::Code,
            "language" => Self::Language,
            "version" => Self::Version,
            "opaque" => Self::Opaque,
            "flag" => Self::Flag,
            "remark" => Self::Remark,
            "extFields" => Self::ExtFields,
            _ => return None,
        })
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Decodes a JSON header. Unknown language names decode as [`LanguageCode::Other`].
///
/// The accepted language is serde_json's reading of the command object with every field
/// optional: an object in any key order (unknown keys of any type skipped, a known key twice is
/// an error) or an array of up to seven fields in declaration order; `code`, `version`, `opaque`
/// and `flag` are integers within `i32`; `language` and `remark` strings or null; `extFields` an
/// object or null whose values are strings, numbers or booleans (kept as their text) or null
/// (dropped).
pub(crate) fn decode(header: &[u8]) -> Result<DecodedHeader, JsonHeaderError> {
    let mut scanner = Scanner::new(header);
    let mut decoded = DecodedHeader::default();
    match scanner.peek() {
        Some(b'{') => {
            scanner.bump();
            decode_object(&mut scanner, &mut decoded)?;
        }
        Some(b'[') => {
            scanner.bump();
            decode_array(&mut scanner, &mut decoded)?;
        }
        Some(_) => return scanner.error("expected a header object"),
        None => return scanner.error("empty header"),
    }
    if scanner.peek().is_some() {
        return scanner.error("trailing characters after the header");
    }
    Ok(decoded)
}

fn decode_object(
    scanner: &mut Scanner<'_>,
    decoded: &mut DecodedHeader,
) -> Result<(), JsonHeaderError> {
    let mut seen: u8 = 0;
    let mut next = scanner.peek();
    if next == Some(b'}') {
        scanner.bump();
        return Ok(());
    }
    loop {
        match next {
            Some(b'"') => scanner.bump(),
            Some(_) => return scanner.error("key must be a string"),
            None => return scanner.error("end of header while parsing an object"),
        }
        let known = match plain_key(scanner) {
            Some(known) => known,
            None => Field::from_key(&scanner.string()?),
        };
        match known {
            Some(field) => {
                if seen & field.bit() != 0 {
                    return scanner.error("duplicate header field");
                }
                seen |= field.bit();
                scanner.colon()?;
                decode_field(scanner, field, decoded)?;
            }
            None => {
                scanner.colon()?;
                scanner.skip_value()?;
            }
        }
        match scanner.peek() {
            Some(b',') => {
                scanner.bump();
                next = scanner.peek();
            }
            Some(b'}') => {
                scanner.bump();
                return Ok(());
            }
            Some(_) => return scanner.error("expected `,` or `}`"),
            None => return scanner.error("end of header while parsing an object"),
        }
    }
}

/// After a key's opening quote: the key when it is one of the command's keys written without
/// escapes, as every peer writes them (consumed with its closing quote; `Some(None)` for
/// `serializeTypeCurrentRPC`, which is read from the frame's type word instead), else `None`
/// with nothing consumed.
#[inline]
fn plain_key(scanner: &mut Scanner<'_>) -> Option<Option<Field>> {
    // Not `peek`: inside a string, whitespace is part of the key.
    let (literal, field): (&[u8], _) = match scanner.current()? {
        b'c' => (b"code\"", Some(Field::Code)),
        b'e' => (b"extFields\"", Some(Field::ExtFields)),
        b'f' => (b"flag\"", Some(Field::Flag)),
        b'l' => (b"language\"", Some(Field::Language)),
        b'o' => (b"opaque\"", Some(Field::Opaque)),
        b'r' => (b"remark\"", Some(Field::Remark)),
        b's' => (b"serializeTypeCurrentRPC\"", None),
        b'v' => (b"version\"", Some(Field::Version)),
        _ => return None,
    };
    scanner.eat(literal).then_some(field)
}

fn decode_array(
    scanner: &mut Scanner<'_>,
    decoded: &mut DecodedHeader,
) -> Result<(), JsonHeaderError> {
    for (index, field) in FIELDS_IN_ORDER.into_iter().enumerate() {
        match scanner.peek() {
            None => return scanner.error("end of header while parsing a list"),
            Some(b']') => break,
            Some(_) if index == 0 => {}
            Some(b',') => {
                scanner.bump();
                match scanner.peek() {
                    Some(b']') => return scanner.error("trailing comma"),
                    Some(_) => {}
                    None => return scanner.error("end of header while parsing a value"),
                }
            }
            Some(_) => return scanner.error("expected `,` or `]`"),
        }
        decode_field(scanner, field, decoded)?;
    }
    match scanner.peek() {
        Some(b']') => {
            scanner.bump();
            Ok(())
        }
        Some(_) => scanner.error("too many elements in the header list"),
        None => scanner.error("end of header while parsing a list"),
    }
}

fn decode_field(
    scanner: &mut Scanner<'_>,
    field: Field,
    decoded: &mut DecodedHeader,
) -> Result<(), JsonHeaderError> {
    match field {
        Field::Code => decoded.code = read_i32(scanner)?,
        Field::Version => decoded.version = read_i32(scanner)?,
        Field::Opaque => decoded.opaque = read_i32(scanner)?,
        Field::Flag => decoded.flag = read_i32(scanner)?,
        Field::Language => {
            decoded.language = match read_optional_string(scanner)? {
                None => LanguageCode::Java,
                Some(name) => LanguageCode::from_name(&name).unwrap_or(LanguageCode::Other),
            };
        }
        Field::Remark => {
            decoded.remark = read_optional_string(scanner)?.map(std::borrow::Cow::into_owned);
        }
        Field::ExtFields => decoded.ext_fields = read_ext_fields(scanner)?,
    }
    Ok(())
}

fn read_i32(scanner: &mut Scanner<'_>) -> Result<i32, JsonHeaderError> {
    match scanner.peek() {
        Some(b'-' | b'0'..=b'9') => {
            let offset = scanner.offset();
            let token = scanner.number()?;
            token.as_i32().ok_or(JsonHeaderError {
                offset,
                reason: "expected an integer within i32",
            })
        }
        Some(_) => scanner.error("expected an integer"),
        None => scanner.error("end of header while parsing a value"),
    }
}

fn read_optional_string<'a>(
    scanner: &mut Scanner<'a>,
) -> Result<Option<std::borrow::Cow<'a, str>>, JsonHeaderError> {
    match scanner.peek() {
        Some(b'n') => {
            scanner.bump();
            scanner.literal_rest(b"ull")?;
            Ok(None)
        }
        Some(b'"') => {
            scanner.bump();
            scanner.string().map(Some)
        }
        Some(_) => scanner.error("expected a string or null"),
        None => scanner.error("end of header while parsing a value"),
    }
}

fn read_ext_fields(scanner: &mut Scanner<'_>) -> Result<Option<ExtFields>, JsonHeaderError> {
    match scanner.peek() {
        Some(b'n') => {
            scanner.bump();
            scanner.literal_rest(b"ull")?;
            return Ok(None);
        }
        Some(b'{') => scanner.bump(),
        Some(_) => return scanner.error("expected an extFields object or null"),
        None => return scanner.error("end of header while parsing a value"),
    }
    // An entry takes at least 6 bytes (`"k":0,`), which bounds the pre-allocation.
    let capacity = (scanner.remaining() / 6).min(EXT_FIELDS_PRESIZE);
    let mut map = ExtFields::with_capacity(capacity, scanner.remaining() + 64);
    // The rest of the header is copied into the map's text at once; a key or value without
    // escapes (almost all of them) is then an entry pointing into that copy, and only the others
    // are decoded, after it. Input that is not valid UTF-8 is decoded string by string.
    let base = scanner.offset();
    let borrow = match scanner.text_from(base) {
        Some(rest) => {
            map.text_mut().push_str(rest);
            true
        }
        None => false,
    };
    let mut seen = 0u64;
    let mut next = scanner.peek();
    if next == Some(b'}') {
        scanner.bump();
        return Ok(Some(map));
    }
    loop {
        match next {
            Some(b'"') => scanner.bump(),
            Some(_) => return scanner.error("key must be a string"),
            None => return scanner.error("end of header while parsing an object"),
        }
        let key = entry_string(scanner, &mut map, base, borrow)?;
        scanner.colon()?;
        if let Some(value) = entry_scalar(scanner, &mut map, base, borrow)? {
            map.commit_entry(key, value, &mut seen);
        }
        match scanner.peek() {
            Some(b',') => {
                scanner.bump();
                next = scanner.peek();
            }
            Some(b'}') => {
                scanner.bump();
                return Ok(Some(map));
            }
            Some(_) => return scanner.error("expected `,` or `}`"),
            None => return scanner.error("end of header while parsing an object"),
        }
    }
}

/// After an opening quote in extFields: the string's byte range in the map's text, pointing into
/// the copied header when `borrow` and the string has no escapes, else decoded onto the text's end.
#[inline]
fn entry_string(
    scanner: &mut Scanner<'_>,
    map: &mut ExtFields,
    base: usize,
    borrow: bool,
) -> Result<(usize, usize), JsonHeaderError> {
    let start = map.text_len();
    if !borrow {
        scanner.string_into(map.text_mut())?;
        return Ok((start, map.text_len()));
    }
    match scanner.plain_string_or_append(map.text_mut())? {
        Some((plain_start, plain_end)) => Ok((plain_start - base, plain_end - base)),
        None => Ok((start, map.text_len())),
    }
}

/// An extFields value's byte range in the map's text (see [`entry_string`]); `None` for null.
fn entry_scalar(
    scanner: &mut Scanner<'_>,
    map: &mut ExtFields,
    base: usize,
    borrow: bool,
) -> Result<Option<(usize, usize)>, JsonHeaderError> {
    // After the whitespace before the value: where its text starts in the header.
    let next = scanner.peek();
    let start = scanner.offset();
    let text = match next {
        Some(b'"') => {
            scanner.bump();
            return entry_string(scanner, map, base, borrow).map(Some);
        }
        Some(b'-' | b'0'..=b'9') => {
            let token = scanner.number()?;
            token.to_scalar_text(start)?
        }
        Some(b't') => {
            scanner.bump();
            scanner.literal_rest(b"rue")?;
            Cow::Borrowed("true")
        }
        Some(b'f') => {
            scanner.bump();
            scanner.literal_rest(b"alse")?;
            Cow::Borrowed("false")
        }
        Some(b'n') => {
            scanner.bump();
            scanner.literal_rest(b"ull")?;
            return Ok(None);
        }
        Some(_) => return scanner.error("expected a string, number, boolean or null"),
        None => return scanner.error("end of header while parsing a value"),
    };
    // Numbers and literals written as they were stand in the copied header already.
    let end = scanner.offset();
    if borrow
        && let Cow::Borrowed(written) = &text
        && written.len() == end - start
    {
        return Ok(Some((start - base, end - base)));
    }
    let at = map.text_len();
    map.text_mut().push_str(&text);
    Ok(Some((at, map.text_len())))
}

/// Bytes the fixed part of a JSON header takes at most: the field names, punctuation, the longest
/// language name and four `i32` values.
const JSON_HEADER_FIXED_MAX: usize = 160;

/// At least the number of bytes [`encode`] writes for `cmd` unless strings need escapes, so
/// the frame buffer is reserved once.
pub(crate) fn estimated_len(cmd: &RemotingCommand) -> usize {
    let remark = cmd.remark.as_ref().map_or(0, |remark| remark.len() + 12);
    let ext = cmd
        .ext_fields
        .as_ref()
        .map_or(0, |ext| 15 + ext.text_len() + 6 * ext.len());
    JSON_HEADER_FIXED_MAX + remark + ext
}

thread_local! {
    /// Where [`encode`] builds a header before appending it in one copy.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Largest scratch buffer a thread keeps between headers.
const SCRATCH_KEEP: usize = 64 * 1024;

/// Appends the JSON header of `cmd` to `out`.
///
/// The header is built in a per-thread `Vec` (whose small appends compile to plain moves) and
/// appended to `out` in one copy: a header is dozens of short pieces, and `out` may be a buffer
/// whose every append goes through a capacity check and a call to `memcpy`.
pub(crate) fn encode<B: BufMut + ?Sized>(cmd: &RemotingCommand, out: &mut B) {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            scratch.clear();
            encode_into(cmd, &mut *scratch);
            out.put_slice(&scratch);
            if scratch.capacity() > SCRATCH_KEEP {
                *scratch = Vec::new();
            }
        }
        Err(_) => encode_into(cmd, out),
    });
}

fn encode_into<B: BufMut + ?Sized>(cmd: &RemotingCommand, out: &mut B) {
    out.put_slice(b"{\"code\":");
    write_json_i64(out, i64::from(cmd.code));
    if let Some(ext) = &cmd.ext_fields {
        out.put_slice(b",\"extFields\":{");
        let mut first = true;
        for_each_in_java_order(ext, |key, value| {
            if !first {
                out.put_u8(b',');
            }
            first = false;
            write_json_string(out, key);
            out.put_u8(b':');
            write_json_string(out, value);
        });
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
