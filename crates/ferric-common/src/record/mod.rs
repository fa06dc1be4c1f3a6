//! The stored-message record codec (RocketMQ `MessageDecoder` /
//! `MessageExtEncoder` layout).
//!
//! One layout serves CommitLog records, PULL_MESSAGE / QUERY_MESSAGE /
//! VIEW_MESSAGE_BY_ID bodies and CHECK_TRANSACTION_STATE bodies. All integers
//! are big-endian. Offsets below assume IPv4 hosts; an IPv6 born host
//! (SYSFLAG bit 4) or store host (bit 5) takes 20 bytes instead of 8 and
//! shifts every later field.
//!
//! ```text
//! off  size  field
//!   0   4    TOTALSIZE (whole record, this field included)
//!   4   4    MAGICCODE  v1 0xDAA320A7 (1-byte topic length), v2 0xDAA320AB (2-byte)
//!   8   4    BODYCRC    CRC32 of the stored body & 0x7FFFFFFF
//!  12   4    QUEUEID
//!  16   4    FLAG
//!  20   8    QUEUEOFFSET
//!  28   8    PHYSICALOFFSET
//!  36   4    SYSFLAG
//!  40   8    BORNTIMESTAMP
//!  48   8|20 BORNHOST   address + int32 port
//!  56   8    STORETIMESTAMP
//!  64   8|20 STOREHOST  address + int32 port
//!  72   4    RECONSUMETIMES
//!  76   8    PREPAREDTRANSACTIONOFFSET
//!  84   4    BODY length, then body
//!   …   1|2  TOPIC length, then topic (UTF-8)
//!   …   2    PROPERTIES length (int16), then the properties string
//! ```
//!
//! The end-of-file filler that pads a CommitLog file is `TOTALSIZE` (bytes to
//! the end of the file) followed by [`BLANK_MAGIC_CODE`]; the rest of it is
//! not meaningful.
//!
//! * [`encode_record`] writes a record; [`patch_queue_offset`],
//!   [`patch_physical_offset`] and [`patch_store_timestamp`] fix the fields the
//!   store only knows inside its append lock; a store may instead size a record with
//!   [`RecordPlan::new`] and write it with those fields already set ([`RecordPlan::write`]).
//! * [`parse_record`] borrows a [`RecordView`] from a buffer, or reports the
//!   blank filler, "need more bytes", or a typed [`RecordError`].
//! * [`RecordIter`] walks a buffer of consecutive records (a pull body).
//! * [`decompress_body`] / [`compress_zlib`] handle compressed bodies.

mod compress;
mod encode;
mod error;
mod parse;
mod view;

#[cfg(test)]
mod tests;

pub use compress::{
    COMPRESS_MSG_BODY_OVER_HOWMUCH, CompressionError, DEFAULT_COMPRESS_LEVEL,
    ZLIB_COMPRESSED_SYS_FLAG, compress_body_for_send, compress_zlib, decompress_body,
};
pub use encode::{
    RecordEncodeOptions, RecordPlan, StoredFields, encode_record, encode_record_with_limit,
    encode_record_with_options, encoded_record_len, patch_physical_offset, patch_queue_offset,
    patch_store_timestamp,
};
pub use error::RecordError;
pub use parse::{Parsed, RecordIter, parse_record, parse_record_with_limit};
pub use view::RecordView;

/// Magic code of a v1 record (1-byte topic length).
pub const MAGIC_CODE_V1: i32 = 0xDAA3_20A7_u32 as i32;
/// Magic code of a v2 record (2-byte topic length).
pub const MAGIC_CODE_V2: i32 = 0xDAA3_20AB_u32 as i32;
/// Magic code of the end-of-file filler.
pub const BLANK_MAGIC_CODE: i32 = 0xCBD4_3194_u32 as i32;

/// Position of MAGICCODE.
pub const MAGIC_CODE_POSITION: usize = 4;
/// Position of BODYCRC.
pub const BODY_CRC_POSITION: usize = 8;
/// Position of QUEUEID.
pub const QUEUE_ID_POSITION: usize = 12;
/// Position of FLAG.
pub const FLAG_POSITION: usize = 16;
/// Position of QUEUEOFFSET.
pub const QUEUE_OFFSET_POSITION: usize = 20;
/// Position of PHYSICALOFFSET.
pub const PHYSICAL_OFFSET_POSITION: usize = 28;
/// Position of SYSFLAG.
pub const SYSFLAG_POSITION: usize = 36;
/// Position of BORNTIMESTAMP.
pub const BORN_TIMESTAMP_POSITION: usize = 40;
/// Position of BORNHOST.
pub const BORN_HOST_POSITION: usize = 48;

/// Smallest possible record: IPv4 hosts, v1 magic, empty body, topic and properties.
pub const MIN_RECORD_SIZE: usize = 91;
/// Smallest end-of-file filler: TOTALSIZE and MAGICCODE.
pub const MIN_BLANK_SIZE: usize = 8;
/// Java's default `maxMessageSize` (4 MiB): the largest body.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;
/// Largest record the default limits allow: `maxMessageSize` + 64 KiB.
pub const DEFAULT_MAX_RECORD_SIZE: usize = DEFAULT_MAX_MESSAGE_SIZE + 64 * 1024;
/// Largest properties string (int16 length).
pub const MAX_PROPERTIES_LEN: usize = i16::MAX as usize;
/// Largest topic the broker stores.
pub const MAX_TOPIC_LEN: usize = 255;
/// Longest topic written with the v1 (1-byte length) magic code.
pub const MAX_V1_TOPIC_LEN: usize = 127;

/// Position of STORETIMESTAMP: 56 with an IPv4 born host, 68 with IPv6.
pub fn store_timestamp_position(sys_flag: i32) -> usize {
    BORN_HOST_POSITION + crate::sysflag::host_len(crate::sysflag::is_born_host_v6(sys_flag))
}

/// Position of STOREHOST.
pub fn store_host_position(sys_flag: i32) -> usize {
    store_timestamp_position(sys_flag) + 8
}
