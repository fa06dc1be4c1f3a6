//! The ROCKETMQ binary header (§1.3).
//!
//! ```text
//! i16 code | u8 language | i16 version | i32 opaque | i32 flag
//! i32 remarkLen | remark bytes            (length 0 = no remark)
//! i32 extLen    | extLen bytes of entries (length 0 = no map)
//! entry: i16 keyLen | key | i32 valueLen | value
//! ```
//!
//! Every length is checked against the bytes that remain in the header before anything is
//! allocated. Unknown language bytes decode as [`LanguageCode::Other`]. An empty value decodes as an
//! empty string (4.9.8 behaviour). Entries are written in the order the Java writer uses (see
//! [`crate::java_order`]).

use bytes::BufMut;

use crate::command::{ExtFields, LanguageCode, RemotingCommand};
use crate::frame::FrameError;
use crate::header_json::{DecodedHeader, EXT_FIELDS_PRESIZE};
use crate::java_order::for_each_in_binary_order;

/// Fixed part of the binary header: `2+1+2+4+4+4+4`.
pub const BINARY_HEADER_FIXED_LEN: usize = 21;

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], FrameError> {
        if len > self.bytes.len() {
            return Err(FrameError::BadBinaryHeader {
                reason: what,
                needed: len,
                available: self.bytes.len(),
            });
        }
        let (head, tail) = self.bytes.split_at(len);
        self.bytes = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], FrameError> {
        let slice = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn i16(&mut self, what: &'static str) -> Result<i16, FrameError> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, FrameError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    fn length(&mut self, raw: i64, what: &'static str) -> Result<&'a [u8], FrameError> {
        let len = usize::try_from(raw).map_err(|_| FrameError::BadBinaryHeader {
            reason: what,
            needed: 0,
            available: self.bytes.len(),
        })?;
        self.take(len, what)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Decodes a binary header.
pub(crate) fn decode(header: &[u8]) -> Result<DecodedHeader, FrameError> {
    let mut reader = Reader { bytes: header };
    let code = i32::from(reader.i16("code")?);
    let [language_byte] = reader.array::<1>("language")?;
    let version = i32::from(reader.i16("version")?);
    let opaque = reader.i32("opaque")?;
    let flag = reader.i32("flag")?;
    let remark_len = reader.i32("remark length")?;
    let remark_bytes = reader.length(i64::from(remark_len), "remark")?;
    let remark = (!remark_bytes.is_empty()).then(|| text(remark_bytes));
    let ext_len = reader.i32("extFields length")?;
    let ext_bytes = reader.length(i64::from(ext_len), "extFields")?;
    let ext_fields = if ext_bytes.is_empty() {
        None
    } else {
        Some(decode_map(ext_bytes)?)
    };
    Ok(DecodedHeader {
        code,
        language: LanguageCode::from_u8(language_byte).unwrap_or(LanguageCode::Other),
        version,
        opaque,
        flag,
        remark,
        ext_fields,
    })
}

fn decode_map(block: &[u8]) -> Result<ExtFields, FrameError> {
    let mut reader = Reader { bytes: block };
    // Each entry takes at least 6 bytes, which bounds the pre-allocation.
    let capacity = (block.len() / 6).min(EXT_FIELDS_PRESIZE);
    let mut map = ExtFields::with_capacity(capacity, block.len());
    while !reader.bytes.is_empty() {
        let key_len = reader.i16("extFields key length")?;
        let key = reader.length(i64::from(key_len), "extFields key")?;
        let value_len = reader.i32("extFields value length")?;
        let value = reader.length(i64::from(value_len), "extFields value")?;
        map.insert(String::from_utf8_lossy(key), String::from_utf8_lossy(value));
    }
    Ok(map)
}

/// Number of bytes [`encode`] will write for `cmd`, or the reason it cannot be encoded.
pub(crate) fn encoded_len(cmd: &RemotingCommand) -> Result<usize, FrameError> {
    if i16::try_from(cmd.code).is_err() {
        return Err(FrameError::CodeNotRepresentable(cmd.code));
    }
    if i16::try_from(cmd.version).is_err() {
        return Err(FrameError::VersionNotRepresentable(cmd.version));
    }
    let remark_len = cmd.remark.as_ref().map_or(0, String::len);
    check_i32_len(remark_len, "remark")?;
    let mut map_len: usize = 0;
    if let Some(ext) = &cmd.ext_fields {
        for (key, value) in ext {
            if i16::try_from(key.len()).is_err() {
                return Err(FrameError::FieldTooLong {
                    what: "extFields key",
                    length: key.len(),
                });
            }
            check_i32_len(value.len(), "extFields value")?;
            map_len = map_len.saturating_add(6 + key.len() + value.len());
        }
    }
    check_i32_len(map_len, "extFields")?;
    Ok(BINARY_HEADER_FIXED_LEN + remark_len + map_len)
}

fn check_i32_len(length: usize, what: &'static str) -> Result<(), FrameError> {
    if i32::try_from(length).is_err() {
        return Err(FrameError::FieldTooLong { what, length });
    }
    Ok(())
}

/// Appends the binary header. Call [`encoded_len`] first: it performs every range check, so the
/// casts here cannot truncate.
pub(crate) fn encode<B: BufMut + ?Sized>(cmd: &RemotingCommand, out: &mut B) {
    out.put_i16(cmd.code as i16);
    out.put_u8(cmd.language.as_u8());
    out.put_i16(cmd.version as i16);
    out.put_i32(cmd.opaque);
    out.put_i32(cmd.flag);
    let remark = cmd.remark.as_deref().unwrap_or("");
    out.put_i32(remark.len() as i32);
    out.put_slice(remark.as_bytes());
    let Some(ext) = &cmd.ext_fields else {
        out.put_i32(0);
        return;
    };
    let map_len: usize = ext
        .iter()
        .map(|(key, value)| 6 + key.len() + value.len())
        .sum();
    out.put_i32(map_len as i32);
    for_each_in_binary_order(cmd, ext, |key, value| {
        out.put_i16(key.len() as i16);
        out.put_slice(key.as_bytes());
        out.put_i32(value.len() as i32);
        out.put_slice(value.as_bytes());
    });
}
