//! [`RecordView`]: a parsed record borrowing its bytes.

use std::borrow::Cow;
use std::net::SocketAddr;

use bytes::Bytes;

use super::{CompressionError, decompress_body};
use crate::hash::{crc32_masked, tags_code};
use crate::message::MessageExt;
use crate::message_const::{
    KEY_SEPARATOR, PROPERTY_KEYS, PROPERTY_TAGS, PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX,
};
use crate::properties::{Properties, find_raw};

/// A complete stored record, borrowed from the buffer it was parsed from.
///
/// Fields hold the values exactly as stored. `body` is the stored body
/// (compressed if `sys_flag` bit 0 is set); `properties` is the raw
/// properties string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// The whole record (`total_size` bytes).
    pub raw: &'a [u8],
    /// TOTALSIZE.
    pub total_size: i32,
    /// MAGICCODE (v1 or v2).
    pub magic_code: i32,
    /// BODYCRC as stored.
    pub body_crc: i32,
    /// QUEUEID.
    pub queue_id: i32,
    /// FLAG.
    pub flag: i32,
    /// QUEUEOFFSET.
    pub queue_offset: i64,
    /// PHYSICALOFFSET.
    pub commit_log_offset: i64,
    /// SYSFLAG.
    pub sys_flag: i32,
    /// BORNTIMESTAMP.
    pub born_timestamp: i64,
    /// BORNHOST.
    pub born_host: SocketAddr,
    /// STORETIMESTAMP.
    pub store_timestamp: i64,
    /// STOREHOST.
    pub store_host: SocketAddr,
    /// RECONSUMETIMES.
    pub reconsume_times: i32,
    /// PreparedTransactionOffset.
    pub prepared_transaction_offset: i64,
    /// Stored body.
    pub body: &'a [u8],
    /// Topic.
    pub topic: &'a str,
    /// Raw properties string.
    pub properties: &'a [u8],
}

impl<'a> RecordView<'a> {
    /// Record length in bytes (TOTALSIZE).
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Always false: a record is at least 91 bytes.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// True if BODYCRC matches the masked CRC32 of the stored body.
    pub fn verify_body_crc(&self) -> bool {
        crc32_masked(self.body) == self.body_crc
    }

    /// One property, without decoding the others (last occurrence wins).
    pub fn property(&self, key: &str) -> Option<Cow<'a, str>> {
        find_raw(self.properties, key).map(String::from_utf8_lossy)
    }

    /// All properties, decoded.
    pub fn decode_properties(&self) -> Properties {
        Properties::decode(self.properties)
    }

    /// The `TAGS` property.
    pub fn tags(&self) -> Option<Cow<'a, str>> {
        self.property(PROPERTY_TAGS)
    }

    /// Consume-queue tag code: Java `String.hashCode()` of `TAGS` as i64, 0
    /// without a tag.
    pub fn tags_code(&self) -> i64 {
        tags_code(self.tags().as_deref())
    }

    /// The `KEYS` property split on spaces (empty parts dropped).
    pub fn keys(&self) -> Vec<String> {
        self.property(PROPERTY_KEYS)
            .map(|keys| {
                keys.split(KEY_SEPARATOR)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `UNIQ_KEY` property.
    pub fn uniq_key(&self) -> Option<Cow<'a, str>> {
        self.property(PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX)
    }

    /// Offset message id from STOREHOST and PHYSICALOFFSET.
    pub fn offset_msg_id(&self) -> String {
        crate::message_id::create_offset_msg_id(self.store_host, self.commit_log_offset)
    }

    /// The body, inflated if SYSFLAG marks it compressed. The result must not
    /// exceed `max_len` bytes.
    pub fn decompressed_body(&self, max_len: usize) -> Result<Cow<'a, [u8]>, CompressionError> {
        decompress_body(self.sys_flag, self.body, max_len)
    }

    /// The owned form, with the stored body and SYSFLAG unchanged.
    pub fn to_message_ext(&self) -> MessageExt {
        MessageExt {
            store_size: self.total_size,
            body_crc: self.body_crc,
            queue_id: self.queue_id,
            flag: self.flag,
            queue_offset: self.queue_offset,
            commit_log_offset: self.commit_log_offset,
            sys_flag: self.sys_flag,
            born_timestamp: self.born_timestamp,
            born_host: self.born_host,
            store_timestamp: self.store_timestamp,
            store_host: self.store_host,
            reconsume_times: self.reconsume_times,
            prepared_transaction_offset: self.prepared_transaction_offset,
            body: Bytes::copy_from_slice(self.body),
            topic: self.topic.to_owned(),
            properties: self.decode_properties(),
        }
    }
}
