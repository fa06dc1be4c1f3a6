//! Encoding a [`MessageExt`] into the stored record layout, and in-place
//! patching of the fields the store fills while appending.

use std::net::SocketAddr;

use bytes::{BufMut, BytesMut};

use super::{
    DEFAULT_MAX_MESSAGE_SIZE, MAGIC_CODE_V1, MAGIC_CODE_V2, MAX_PROPERTIES_LEN, MAX_TOPIC_LEN,
    MAX_V1_TOPIC_LEN, PHYSICAL_OFFSET_POSITION, QUEUE_OFFSET_POSITION, RecordError,
    store_timestamp_position,
};
use crate::hash::crc32_masked;
use crate::message::MessageExt;
use crate::properties::{NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR};
use crate::sysflag::{host_len, with_host_flags};

/// Options for [`encode_record_with_options`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordEncodeOptions {
    /// Largest body accepted (`maxMessageSize`, default 4 MiB).
    pub max_body_len: usize,
    /// Compute BODYCRC from the body (default). When false the encoder
    /// writes `msg.body_crc` as given.
    pub compute_body_crc: bool,
}

impl Default for RecordEncodeOptions {
    fn default() -> Self {
        Self {
            max_body_len: DEFAULT_MAX_MESSAGE_SIZE,
            compute_body_crc: true,
        }
    }
}

/// Sizes and flags of one record, checked against the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    sys_flag: i32,
    magic: i32,
    properties_len: usize,
    total: usize,
}

fn layout(msg: &MessageExt, max_body_len: usize) -> Result<Layout, RecordError> {
    let topic_len = msg.topic.len();
    if topic_len > MAX_TOPIC_LEN {
        return Err(RecordError::TopicTooLong { len: topic_len });
    }
    let properties_len = msg.properties.encoded_len();
    if properties_len > MAX_PROPERTIES_LEN {
        return Err(RecordError::PropertiesTooLong {
            len: properties_len,
        });
    }
    let body_len = msg.body.len();
    let max_body_len = max_body_len.min(i32::MAX as usize);
    if body_len > max_body_len {
        return Err(RecordError::BodyTooLong {
            len: body_len,
            max: max_body_len,
        });
    }
    let born_v6 = msg.born_host.is_ipv6();
    let store_v6 = msg.store_host.is_ipv6();
    let sys_flag = with_host_flags(msg.sys_flag, born_v6, store_v6);
    let v2 = topic_len > MAX_V1_TOPIC_LEN;
    let (magic, topic_len_width) = if v2 {
        (MAGIC_CODE_V2, 2)
    } else {
        (MAGIC_CODE_V1, 1)
    };
    // 4 TOTALSIZE + 4 MAGIC + 4 BODYCRC + 4 QUEUEID + 4 FLAG + 8 QUEUEOFFSET
    // + 8 PHYSICALOFFSET + 4 SYSFLAG + 8 BORNTIMESTAMP + host + 8 STORETIMESTAMP
    // + host + 4 RECONSUMETIMES + 8 PREPARED + 4 BODYLEN + 2 PROPLEN.
    let fixed = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 4 + 8 + 4 + 2;
    let total = fixed
        + host_len(born_v6)
        + host_len(store_v6)
        + body_len
        + topic_len_width
        + topic_len
        + properties_len;
    Ok(Layout {
        sys_flag,
        magic,
        properties_len,
        total,
    })
}

/// Bytes [`encode_record`] would write for `msg` (with the default body limit).
pub fn encoded_record_len(msg: &MessageExt) -> Result<usize, RecordError> {
    layout(msg, DEFAULT_MAX_MESSAGE_SIZE).map(|l| l.total)
}

/// Append one record for `msg` to `dst` with the default options (4 MiB body
/// limit, BODYCRC computed from the body). Returns the bytes written.
///
/// SYSFLAG bits 4 and 5 are written according to the address families of
/// `born_host` and `store_host`; the v2 magic code is used only when the topic
/// is longer than 127 bytes. `msg.store_size` is ignored.
pub fn encode_record(msg: &MessageExt, dst: &mut BytesMut) -> Result<usize, RecordError> {
    encode_record_with_options(msg, dst, &RecordEncodeOptions::default())
}

/// [`encode_record`] with a custom body limit (`maxMessageSize`).
pub fn encode_record_with_limit(
    msg: &MessageExt,
    dst: &mut BytesMut,
    max_body_len: usize,
) -> Result<usize, RecordError> {
    let options = RecordEncodeOptions {
        max_body_len,
        ..RecordEncodeOptions::default()
    };
    encode_record_with_options(msg, dst, &options)
}

/// [`encode_record`] with explicit options. Nothing is written on error.
pub fn encode_record_with_options(
    msg: &MessageExt,
    dst: &mut BytesMut,
    options: &RecordEncodeOptions,
) -> Result<usize, RecordError> {
    let plan = RecordPlan::new(msg, options)?;
    dst.reserve(plan.len());
    let start = dst.len();
    let stored = StoredFields {
        queue_offset: msg.queue_offset,
        commit_log_offset: msg.commit_log_offset,
        store_timestamp: msg.store_timestamp,
    };
    put_record(dst, msg, &plan, &stored);
    debug_assert_eq!(dst.len() - start, plan.len());
    Ok(plan.len())
}

/// The fields a store assigns while appending, written by [`RecordPlan::write`] in place of
/// the message's own values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredFields {
    /// QUEUEOFFSET.
    pub queue_offset: i64,
    /// PHYSICALOFFSET.
    pub commit_log_offset: i64,
    /// STORETIMESTAMP.
    pub store_timestamp: i64,
}

/// One message's record, checked against the limits and measured, ready to be written.
///
/// [`RecordPlan::new`] does every check [`encode_record_with_options`] does, so
/// [`RecordPlan::write`] cannot fail: a store can size a whole batch, then write it with the
/// offsets and store time it assigns, without patching fields afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPlan {
    layout: Layout,
    body_crc: i32,
}

impl RecordPlan {
    /// Checks `msg` against `options` and computes its size, SYSFLAG and BODYCRC.
    pub fn new(msg: &MessageExt, options: &RecordEncodeOptions) -> Result<Self, RecordError> {
        let layout = layout(msg, options.max_body_len)?;
        let body_crc = if options.compute_body_crc {
            crc32_masked(&msg.body)
        } else {
            msg.body_crc
        };
        Ok(Self { layout, body_crc })
    }

    /// TOTALSIZE: the bytes [`RecordPlan::write`] appends.
    pub fn len(&self) -> usize {
        self.layout.total
    }

    /// Always false: a record is at least 91 bytes.
    pub fn is_empty(&self) -> bool {
        self.layout.total == 0
    }

    /// The SYSFLAG written (the message's, with the IPv6 host bits set as needed).
    pub fn sys_flag(&self) -> i32 {
        self.layout.sys_flag
    }

    /// The BODYCRC written.
    pub fn body_crc(&self) -> i32 {
        self.body_crc
    }

    /// Where the properties string lies inside the written record (it ends the record).
    pub fn properties_range(&self) -> std::ops::Range<usize> {
        self.layout.total - self.layout.properties_len..self.layout.total
    }

    /// Appends the record of `msg` (the message this plan was made for) to `dst`, with the
    /// store-assigned fields taken from `stored`. Writes exactly [`RecordPlan::len`] bytes,
    /// the same bytes [`encode_record_with_options`] followed by the `patch_*` functions give.
    pub fn write(&self, msg: &MessageExt, stored: &StoredFields, dst: &mut Vec<u8>) {
        dst.reserve(self.layout.total);
        put_record(dst, msg, self, stored);
    }
}

/// Largest fixed part of a record: everything before the body with two IPv6 hosts.
const MAX_HEAD_LEN: usize = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 20 + 8 + 20 + 4 + 8 + 4;

fn put_record<B: BufMut>(dst: &mut B, msg: &MessageExt, plan: &RecordPlan, stored: &StoredFields) {
    let layout = &plan.layout;
    // The fixed fields go through a stack buffer so `dst` sees a few large writes.
    let mut head = [0u8; MAX_HEAD_LEN];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        head[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    // Every length below was bounded by `layout` (total < 4 MiB + 64 KiB,
    // topic <= 255, properties <= 32767), so the narrowing casts are exact.
    put(&(layout.total as i32).to_be_bytes());
    put(&layout.magic.to_be_bytes());
    put(&plan.body_crc.to_be_bytes());
    put(&msg.queue_id.to_be_bytes());
    put(&msg.flag.to_be_bytes());
    put(&stored.queue_offset.to_be_bytes());
    put(&stored.commit_log_offset.to_be_bytes());
    put(&layout.sys_flag.to_be_bytes());
    put(&msg.born_timestamp.to_be_bytes());
    put_host(&mut put, msg.born_host);
    put(&stored.store_timestamp.to_be_bytes());
    put_host(&mut put, msg.store_host);
    put(&msg.reconsume_times.to_be_bytes());
    put(&msg.prepared_transaction_offset.to_be_bytes());
    put(&(msg.body.len() as i32).to_be_bytes());
    dst.put_slice(&head[..at]);
    dst.put_slice(&msg.body);
    if layout.magic == MAGIC_CODE_V2 {
        dst.put_i16(msg.topic.len() as i16);
    } else {
        dst.put_u8(msg.topic.len() as u8);
    }
    dst.put_slice(msg.topic.as_bytes());
    dst.put_i16(layout.properties_len as i16);
    // The properties string exactly as `Properties::encode_into` writes it.
    for (index, (key, value)) in msg.properties.iter().enumerate() {
        if index > 0 {
            dst.put_u8(PROPERTY_SEPARATOR);
        }
        dst.put_slice(key.as_bytes());
        dst.put_u8(NAME_VALUE_SEPARATOR);
        dst.put_slice(value.as_bytes());
    }
}

fn put_host(put: &mut impl FnMut(&[u8]), host: SocketAddr) {
    match host {
        SocketAddr::V4(v4) => put(&v4.ip().octets()),
        SocketAddr::V6(v6) => put(&v6.ip().octets()),
    }
    put(&i32::from(host.port()).to_be_bytes());
}

fn patch_i64(buf: &mut [u8], position: usize, value: i64) -> Result<(), RecordError> {
    let needed = position + 8;
    let available = buf.len();
    let slot = buf
        .get_mut(position..needed)
        .ok_or(RecordError::BufferTooShort { needed, available })?;
    slot.copy_from_slice(&value.to_be_bytes());
    Ok(())
}

/// Overwrite QUEUEOFFSET of the record starting at `buf[0]`.
pub fn patch_queue_offset(buf: &mut [u8], queue_offset: i64) -> Result<(), RecordError> {
    patch_i64(buf, QUEUE_OFFSET_POSITION, queue_offset)
}

/// Overwrite PHYSICALOFFSET of the record starting at `buf[0]`.
pub fn patch_physical_offset(buf: &mut [u8], physical_offset: i64) -> Result<(), RecordError> {
    patch_i64(buf, PHYSICAL_OFFSET_POSITION, physical_offset)
}

/// Overwrite STORETIMESTAMP of the record starting at `buf[0]`; `sys_flag` is
/// the SYSFLAG written in that record (its bit 4 moves the field).
pub fn patch_store_timestamp(
    buf: &mut [u8],
    sys_flag: i32,
    store_timestamp: i64,
) -> Result<(), RecordError> {
    patch_i64(buf, store_timestamp_position(sys_flag), store_timestamp)
}
