//! Zero-copy parsing of stored records.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::{
    BLANK_MAGIC_CODE, DEFAULT_MAX_RECORD_SIZE, MAGIC_CODE_V1, MAGIC_CODE_V2, MIN_BLANK_SIZE,
    MIN_RECORD_SIZE, RecordError, RecordView,
};
use crate::sysflag::{is_born_host_v6, is_store_host_v6};

/// Outcome of [`parse_record`] on a buffer that starts at a record boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A complete message record; `view.total_size` bytes were consumed.
    Message(RecordView<'a>),
    /// The end-of-file filler; `size` is its declared TOTALSIZE (the bytes
    /// to the end of the CommitLog file). Only its first 8 bytes are read.
    Blank {
        /// Declared TOTALSIZE of the filler.
        size: usize,
    },
    /// The buffer ends before the record does: at least `needed` bytes from
    /// the start of the buffer are required.
    Incomplete {
        /// Bytes required from the start of the buffer.
        needed: usize,
    },
}

/// Parse the record at the start of `buf` with the default size limit
/// ([`DEFAULT_MAX_RECORD_SIZE`]).
pub fn parse_record(buf: &[u8]) -> Result<Parsed<'_>, RecordError> {
    parse_record_with_limit(buf, DEFAULT_MAX_RECORD_SIZE)
}

/// Parse the record at the start of `buf`, rejecting records larger than
/// `max_record_size`.
///
/// Every strict prefix of a valid record yields [`Parsed::Incomplete`]; the
/// fields are validated only once the whole record is present.
pub fn parse_record_with_limit(
    buf: &[u8],
    max_record_size: usize,
) -> Result<Parsed<'_>, RecordError> {
    let (Some(total_size), Some(magic)) = (read_i32(buf, 0), read_i32(buf, 4)) else {
        return Ok(Parsed::Incomplete { needed: 8 });
    };
    let max = max_record_size.min(i32::MAX as usize);
    match magic {
        MAGIC_CODE_V1 | MAGIC_CODE_V2 => {}
        BLANK_MAGIC_CODE => {
            return match usize::try_from(total_size) {
                Ok(size) if size >= MIN_BLANK_SIZE => Ok(Parsed::Blank { size }),
                _ => Err(RecordError::SizeOutOfBounds {
                    size: total_size,
                    min: MIN_BLANK_SIZE,
                    max: i32::MAX as usize,
                }),
            };
        }
        0 if total_size == 0 => return Err(RecordError::ZeroFilled),
        _ => return Err(RecordError::BadMagic { magic }),
    }
    let size = match usize::try_from(total_size) {
        Ok(size) if (MIN_RECORD_SIZE..=max).contains(&size) => size,
        _ => {
            return Err(RecordError::SizeOutOfBounds {
                size: total_size,
                min: MIN_RECORD_SIZE,
                max,
            });
        }
    };
    let Some(record) = buf.get(..size) else {
        return Ok(Parsed::Incomplete { needed: size });
    };
    parse_complete(record, magic).map(Parsed::Message)
}

fn read_i32(buf: &[u8], at: usize) -> Option<i32> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    Some(i32::from_be_bytes(bytes.try_into().ok()?))
}

/// A bounds-checked reader over one complete record.
struct Reader<'a> {
    record: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, field: &'static str) -> Result<&'a [u8], RecordError> {
        let overrun = RecordError::FieldOverrun {
            field,
            needed: self.pos.saturating_add(len),
            available: self.record.len(),
        };
        let end = self.pos.checked_add(len).ok_or(overrun.clone())?;
        let bytes = self.record.get(self.pos..end).ok_or(overrun)?;
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], RecordError> {
        let bytes = self.take(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn i16(&mut self, field: &'static str) -> Result<i16, RecordError> {
        self.array(field).map(i16::from_be_bytes)
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, RecordError> {
        self.array(field).map(i32::from_be_bytes)
    }

    fn i64(&mut self, field: &'static str) -> Result<i64, RecordError> {
        self.array(field).map(i64::from_be_bytes)
    }

    fn host(&mut self, v6: bool, field: &'static str) -> Result<SocketAddr, RecordError> {
        let ip = if v6 {
            IpOctets::V6(self.array::<16>(field)?)
        } else {
            IpOctets::V4(self.array::<4>(field)?)
        };
        let port = self.i32(field)?;
        let port = u16::try_from(port).map_err(|_| RecordError::InvalidPort { field, port })?;
        Ok(match ip {
            IpOctets::V4(octets) => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(octets), port)),
            IpOctets::V6(octets) => {
                SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(octets), port, 0, 0))
            }
        })
    }

    fn length(&mut self, raw: i32, field: &'static str) -> Result<&'a [u8], RecordError> {
        let len =
            usize::try_from(raw).map_err(|_| RecordError::NegativeLength { field, len: raw })?;
        self.take(len, field)
    }
}

enum IpOctets {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// Parse a record whose TOTALSIZE equals `record.len()`.
fn parse_complete(record: &[u8], magic: i32) -> Result<RecordView<'_>, RecordError> {
    let mut r = Reader { record, pos: 0 };
    let total_size = r.i32("TOTALSIZE")?;
    let _magic = r.i32("MAGICCODE")?;
    let body_crc = r.i32("BODYCRC")?;
    let queue_id = r.i32("QUEUEID")?;
    let flag = r.i32("FLAG")?;
    let queue_offset = r.i64("QUEUEOFFSET")?;
    let commit_log_offset = r.i64("PHYSICALOFFSET")?;
    let sys_flag = r.i32("SYSFLAG")?;
    let born_timestamp = r.i64("BORNTIMESTAMP")?;
    let born_host = r.host(is_born_host_v6(sys_flag), "BORNHOST")?;
    let store_timestamp = r.i64("STORETIMESTAMP")?;
    let store_host = r.host(is_store_host_v6(sys_flag), "STOREHOST")?;
    let reconsume_times = r.i32("RECONSUMETIMES")?;
    let prepared_transaction_offset = r.i64("PREPAREDTRANSACTIONOFFSET")?;
    let body_len = r.i32("BODY length")?;
    let body = r.length(body_len, "BODY")?;
    let topic_len = if magic == MAGIC_CODE_V2 {
        i32::from(r.i16("TOPIC length")?)
    } else {
        i32::from(r.array::<1>("TOPIC length")?[0])
    };
    let topic = r.length(topic_len, "TOPIC")?;
    let topic = std::str::from_utf8(topic).map_err(|_| RecordError::TopicNotUtf8)?;
    let properties_len = i32::from(r.i16("PROPERTIES length")?);
    let properties = r.length(properties_len, "PROPERTIES")?;
    if r.pos != record.len() {
        return Err(RecordError::SizeMismatch {
            declared: record.len(),
            actual: r.pos,
        });
    }
    Ok(RecordView {
        raw: record,
        total_size,
        magic_code: magic,
        body_crc,
        queue_id,
        flag,
        queue_offset,
        commit_log_offset,
        sys_flag,
        born_timestamp,
        born_host,
        store_timestamp,
        store_host,
        reconsume_times,
        prepared_transaction_offset,
        body,
        topic,
        properties,
    })
}

/// Iterator over consecutive records in a buffer (a pull / query response
/// body, or a CommitLog slice).
///
/// Blank fillers are skipped (the iterator ends if a filler runs past the
/// buffer). A buffer ending inside a record yields one
/// [`RecordError::Truncated`]. After any error the iterator is finished.
#[derive(Debug, Clone)]
pub struct RecordIter<'a> {
    buf: &'a [u8],
    max_record_size: usize,
    done: bool,
}

impl<'a> RecordIter<'a> {
    /// Iterate with the default size limit.
    pub fn new(buf: &'a [u8]) -> Self {
        Self::with_limit(buf, DEFAULT_MAX_RECORD_SIZE)
    }

    /// Iterate, rejecting records larger than `max_record_size`.
    pub fn with_limit(buf: &'a [u8], max_record_size: usize) -> Self {
        Self {
            buf,
            max_record_size,
            done: false,
        }
    }

    /// The bytes not consumed yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.buf
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<RecordView<'a>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done && !self.buf.is_empty() {
            match parse_record_with_limit(self.buf, self.max_record_size) {
                Ok(Parsed::Message(view)) => {
                    self.buf = self.buf.get(view.raw.len()..).unwrap_or_default();
                    return Some(Ok(view));
                }
                Ok(Parsed::Blank { size }) => match self.buf.get(size..) {
                    Some(rest) => self.buf = rest,
                    None => {
                        self.buf = &[];
                        self.done = true;
                    }
                },
                Ok(Parsed::Incomplete { needed }) => {
                    self.done = true;
                    return Some(Err(RecordError::Truncated {
                        available: self.buf.len(),
                        needed,
                    }));
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
        None
    }
}
