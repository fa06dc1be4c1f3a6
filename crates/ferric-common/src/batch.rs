//! SEND_BATCH_MESSAGE request body codec (`MessageDecoder.encodeMessage` /
//! `decodeMessages`).
//!
//! The body is a concatenation of entries, one per message:
//!
//! ```text
//! size  field
//!  4    TOTALSIZE   length of this entry
//!  4    MAGICCODE   0 (ignored)
//!  4    BODYCRC     0 (ignored; the broker computes it)
//!  4    FLAG        message flag
//!  4    BODY length, then the body
//!  2    PROPERTIES length (int16), then the properties string
//! ```
//!
//! Entries carry no topic: every message of a batch has the topic from the
//! request header, so [`decode_batch`] takes it as a parameter.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

use crate::message::Message;
use crate::properties::Properties;
use crate::record::{DEFAULT_MAX_MESSAGE_SIZE, MAX_PROPERTIES_LEN};

/// Fixed part of an entry: 4 × 5 ints + the int16 properties length.
pub const BATCH_ENTRY_FIXED_LEN: usize = 22;

/// Why a batch body could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BatchError {
    /// TOTALSIZE is below 22 or above the limit.
    #[error("batch entry size {size} out of bounds [{min}, {max}]")]
    SizeOutOfBounds {
        /// Declared TOTALSIZE.
        size: i32,
        /// Smallest entry.
        min: usize,
        /// Largest entry allowed.
        max: usize,
    },
    /// A length field is negative.
    #[error("negative {field} length {len}")]
    NegativeLength {
        /// The field.
        field: &'static str,
        /// The value read.
        len: i32,
    },
    /// The declared TOTALSIZE disagrees with the fields.
    #[error("batch entry declares {declared} bytes but its fields take {actual}")]
    SizeMismatch {
        /// Declared TOTALSIZE.
        declared: usize,
        /// Bytes the fields take.
        actual: usize,
    },
    /// The body ends inside an entry.
    #[error("batch body ends inside an entry: {available} of {needed} bytes present")]
    Truncated {
        /// Bytes present.
        available: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// A message body exceeds the limit.
    #[error("message body is {len} bytes, more than the maximum {max}")]
    BodyTooLong {
        /// Body length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A properties string exceeds 32767 bytes.
    #[error("properties are {len} bytes, more than 32767")]
    PropertiesTooLong {
        /// Encoded length.
        len: usize,
    },
    /// The batch has no message.
    #[error("batch is empty")]
    Empty,
}

/// One entry of a batch body, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchEntry<'a> {
    /// Entry length in bytes (TOTALSIZE).
    pub total_size: usize,
    /// Message flag.
    pub flag: i32,
    /// Body bytes.
    pub body: &'a [u8],
    /// Raw properties string.
    pub properties: &'a [u8],
}

impl BatchEntry<'_> {
    /// The owned message, with the batch's `topic`.
    pub fn to_message(&self, topic: &str) -> Message {
        Message {
            topic: topic.to_owned(),
            flag: self.flag,
            body: Bytes::copy_from_slice(self.body),
            properties: Properties::decode(self.properties),
        }
    }
}

fn be_i32(buf: &[u8], at: usize) -> Option<i32> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    Some(i32::from_be_bytes(bytes.try_into().ok()?))
}

fn be_i16(buf: &[u8], at: usize) -> Option<i16> {
    let bytes = buf.get(at..at.checked_add(2)?)?;
    Some(i16::from_be_bytes(bytes.try_into().ok()?))
}

fn non_negative(len: i32, field: &'static str) -> Result<usize, BatchError> {
    usize::try_from(len).map_err(|_| BatchError::NegativeLength { field, len })
}

/// Parse the entry at the start of `buf`. `Ok(None)` means the buffer ends
/// before the entry does. `max_body_len` bounds each message body.
pub fn parse_batch_entry(
    buf: &[u8],
    max_body_len: usize,
) -> Result<Option<BatchEntry<'_>>, BatchError> {
    let Some(total) = be_i32(buf, 0) else {
        return Ok(None);
    };
    let max_total =
        BATCH_ENTRY_FIXED_LEN + max_body_len.min(i32::MAX as usize) + MAX_PROPERTIES_LEN;
    let total_size = match usize::try_from(total) {
        Ok(size) if (BATCH_ENTRY_FIXED_LEN..=max_total).contains(&size) => size,
        _ => {
            return Err(BatchError::SizeOutOfBounds {
                size: total,
                min: BATCH_ENTRY_FIXED_LEN,
                max: max_total,
            });
        }
    };
    let Some(entry) = buf.get(..total_size) else {
        return Ok(None);
    };
    let mismatch = |actual: usize| BatchError::SizeMismatch {
        declared: total_size,
        actual,
    };
    // The fixed fields up to the body length fit: total_size >= 22.
    let flag = be_i32(entry, 12).ok_or(mismatch(16))?;
    let body_len = non_negative(be_i32(entry, 16).ok_or(mismatch(20))?, "BODY")?;
    if body_len > max_body_len {
        return Err(BatchError::BodyTooLong {
            len: body_len,
            max: max_body_len,
        });
    }
    let body_end = 20 + body_len;
    let body = entry.get(20..body_end).ok_or(mismatch(body_end + 2))?;
    let properties_len = i32::from(be_i16(entry, body_end).ok_or(mismatch(body_end + 2))?);
    let properties_len = non_negative(properties_len, "PROPERTIES")?;
    let end = body_end + 2 + properties_len;
    if end != total_size {
        return Err(mismatch(end));
    }
    let properties = entry.get(body_end + 2..end).ok_or(mismatch(end))?;
    Ok(Some(BatchEntry {
        total_size,
        flag,
        body,
        properties,
    }))
}

/// Iterator over the entries of a complete batch body. A body that ends
/// inside an entry yields [`BatchError::Truncated`]; iteration stops after
/// the first error.
#[derive(Debug, Clone)]
pub struct BatchIter<'a> {
    buf: &'a [u8],
    max_body_len: usize,
    done: bool,
}

impl<'a> BatchIter<'a> {
    /// Iterate with a per-message body limit.
    pub fn new(buf: &'a [u8], max_body_len: usize) -> Self {
        Self {
            buf,
            max_body_len,
            done: false,
        }
    }
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Result<BatchEntry<'a>, BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.buf.is_empty() {
            return None;
        }
        let result = match parse_batch_entry(self.buf, self.max_body_len) {
            Ok(Some(entry)) => {
                self.buf = self.buf.get(entry.total_size..).unwrap_or_default();
                return Some(Ok(entry));
            }
            Ok(None) => {
                let needed = be_i32(self.buf, 0)
                    .and_then(|t| usize::try_from(t).ok())
                    .unwrap_or(4);
                Err(BatchError::Truncated {
                    available: self.buf.len(),
                    needed,
                })
            }
            Err(error) => Err(error),
        };
        self.done = true;
        Some(result)
    }
}

/// Decode a complete batch body into messages of `topic` (4 MiB body limit).
pub fn decode_batch(body: &[u8], topic: &str) -> Result<Vec<Message>, BatchError> {
    decode_batch_with_limit(body, topic, DEFAULT_MAX_MESSAGE_SIZE)
}

/// [`decode_batch`] with a custom per-message body limit.
pub fn decode_batch_with_limit(
    body: &[u8],
    topic: &str,
    max_body_len: usize,
) -> Result<Vec<Message>, BatchError> {
    let mut messages = Vec::new();
    for entry in BatchIter::new(body, max_body_len) {
        messages.push(entry?.to_message(topic));
    }
    if messages.is_empty() {
        return Err(BatchError::Empty);
    }
    Ok(messages)
}

/// Bytes one entry for `msg` takes.
pub fn batch_entry_len(msg: &Message) -> usize {
    BATCH_ENTRY_FIXED_LEN + msg.body.len() + msg.properties.encoded_len()
}

/// Append one entry for `msg` (its topic is not written). Nothing is written
/// on error.
pub fn encode_batch_entry(msg: &Message, dst: &mut BytesMut) -> Result<usize, BatchError> {
    let properties_len = msg.properties.encoded_len();
    if properties_len > MAX_PROPERTIES_LEN {
        return Err(BatchError::PropertiesTooLong {
            len: properties_len,
        });
    }
    let max_body = DEFAULT_MAX_MESSAGE_SIZE;
    if msg.body.len() > max_body {
        return Err(BatchError::BodyTooLong {
            len: msg.body.len(),
            max: max_body,
        });
    }
    let total = batch_entry_len(msg);
    dst.reserve(total);
    // Bounded above: body <= 4 MiB, properties <= 32767.
    dst.put_i32(total as i32);
    dst.put_i32(0);
    dst.put_i32(0);
    dst.put_i32(msg.flag);
    dst.put_i32(msg.body.len() as i32);
    dst.put_slice(&msg.body);
    dst.put_i16(properties_len as i16);
    msg.properties.encode_into(dst);
    Ok(total)
}

/// Append the batch body for `messages`; returns the bytes written. On error
/// `dst` is left as it was.
pub fn encode_batch(messages: &[Message], dst: &mut BytesMut) -> Result<usize, BatchError> {
    if messages.is_empty() {
        return Err(BatchError::Empty);
    }
    let start = dst.len();
    for msg in messages {
        if let Err(error) = encode_batch_entry(msg, dst) {
            dst.truncate(start);
            return Err(error);
        }
    }
    Ok(dst.len() - start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(body: &'static [u8], tag: &str) -> Message {
        let mut m = Message::new("T", Bytes::from_static(body));
        m.flag = 3;
        m.set_tags(tag);
        m
    }

    #[test]
    fn roundtrip() {
        let messages = vec![sample(b"one", "a"), sample(b"", "b")];
        let mut buf = BytesMut::new();
        let n = encode_batch(&messages, &mut buf).unwrap();
        assert_eq!(n, buf.len());
        assert_eq!(decode_batch(&buf, "T").unwrap(), messages);
        let first = batch_entry_len(&messages[0]);
        for cut in (0..buf.len()).filter(|cut| *cut != first) {
            let r = decode_batch(&buf[..cut], "T");
            assert!(r.is_err(), "prefix {cut} must not decode");
        }
        assert_eq!(
            decode_batch(&buf[..first], "T").unwrap(),
            messages[..1].to_vec()
        );
        assert_eq!(parse_batch_entry(&buf[..3], 10).unwrap(), None);
        assert_eq!(parse_batch_entry(&buf[..21], 10).unwrap(), None);
    }

    #[test]
    fn bad_entries_are_errors() {
        assert_eq!(
            encode_batch(&[], &mut BytesMut::new()),
            Err(BatchError::Empty)
        );
        let mut buf = BytesMut::new();
        encode_batch_entry(&sample(b"xyz", "a"), &mut buf).unwrap();
        let mut bad = buf.to_vec();
        bad[19] = 0xFF; // body length 255 overruns the entry
        assert!(matches!(
            parse_batch_entry(&bad, 1000),
            Err(BatchError::SizeMismatch { .. })
        ));
        let mut negative = buf.to_vec();
        negative[16] = 0x80;
        assert!(matches!(
            parse_batch_entry(&negative, 1000),
            Err(BatchError::NegativeLength { .. })
        ));
        assert!(matches!(
            parse_batch_entry(&buf, 2),
            Err(BatchError::BodyTooLong { len: 3, max: 2 })
        ));
        assert!(matches!(
            parse_batch_entry(&[0, 0, 0, 5], 10),
            Err(BatchError::SizeOutOfBounds { size: 5, .. })
        ));
    }
}
