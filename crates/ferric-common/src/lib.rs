//! Ferric domain types and the stored-message record codec.
//!
//! What this crate does:
//! * domain types: [`Message`], [`MessageExt`], [`MessageQueue`],
//!   [`TopicConfig`], permission bits ([`perm`]), SYSFLAG bits ([`sysflag`]),
//!   property names ([`message_const`]) and well-known topic names
//!   ([`topic::names`]);
//! * the properties string codec ([`properties`]);
//! * Java `.properties` configuration files and `key=value` overrides
//!   ([`config_file`]);
//! * the stored-message record codec ([`record`]) shared by the CommitLog,
//!   pull / query responses and clients;
//! * the SEND_BATCH_MESSAGE body codec ([`batch`]);
//! * offset message ids and client unique ids ([`message_id`]);
//! * Java-compatible `String.hashCode()` and masked CRC32 ([`java_hash`],
//!   [`crc32_masked`]).
//!
//! What it does not do: no I/O, no networking, no async runtime; it does not
//! know the remoting frame format (that is `ferric-protocol`) or the store
//! files beyond the record layout (that is `ferric-store`). Codecs are
//! sans-I/O: decoders take bytes and return a value, "need more bytes" or a
//! typed error; encoders append to a caller's `BytesMut`.
//!
//! All integers are big-endian; strings are UTF-8.
//!
//! # Stored record (CommitLog, pull bodies), IPv4 offsets
//!
//! ```text
//!   0 TOTALSIZE i32 | 4 MAGICCODE i32 | 8 BODYCRC i32 | 12 QUEUEID i32 | 16 FLAG i32
//!  20 QUEUEOFFSET i64 | 28 PHYSICALOFFSET i64 | 36 SYSFLAG i32 | 40 BORNTIMESTAMP i64
//!  48 BORNHOST 4+4 (IPv6: 16+4) | 56 STORETIMESTAMP i64 | 64 STOREHOST 4+4 (IPv6: 16+4)
//!  72 RECONSUMETIMES i32 | 76 PREPAREDTRANSACTIONOFFSET i64 | 84 BODYLEN i32, body
//!  TOPICLEN u8 (v2 magic: i16), topic | PROPERTIESLEN i16, properties
//! ```
//!
//! # SEND_BATCH_MESSAGE body: consecutive entries
//!
//! ```text
//! TOTALSIZE i32 | MAGICCODE i32 (0) | BODYCRC i32 (0) | FLAG i32 | BODYLEN i32, body
//! PROPERTIESLEN i16, properties
//! ```
//!
//! # Properties string
//!
//! `name 0x01 value 0x02 name 0x01 value` (no separator after the last entry).
//!
//! # Message ids (upper-case hex)
//!
//! * offset id: store IP (4|16) + port i32 + CommitLog offset i64;
//! * unique id (`UNIQ_KEY`): client IP (4|16) + pid u16 + random i32 + ms since
//!   month start i32 + counter u16.
#![deny(unsafe_code)]

pub mod batch;
pub mod config_file;
pub mod hash;
pub mod message;
pub mod message_const;
pub mod message_id;
pub mod perm;
pub mod properties;
pub mod record;
pub mod sysflag;
pub mod topic;

pub use hash::{crc32_masked, java_hash, tags_code};
pub use message::{Message, MessageExt, MessageQueue};
pub use properties::Properties;
pub use topic::{TopicConfig, TopicFilterType};
