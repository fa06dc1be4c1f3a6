//! Message `SYSFLAG` bits (`MessageSysFlag`).
//!
//! | bit(s) | mask | meaning |
//! |---|---|---|
//! | 0 | `0x1` | body compressed |
//! | 1 | `0x2` | topic filter type MULTI_TAG |
//! | 2–3 | `0xC` | transaction type: `0x0` none, `0x4` prepared, `0x8` commit, `0xC` rollback |
//! | 4 | `0x10` | born host is IPv6 (16-byte address) |
//! | 5 | `0x20` | store host is IPv6 |
//! | 6 | `0x40` | inner batch must be unwrapped by the client (5.x) |
//! | 7 | `0x80` | record holds an inner batch (5.x) |
//! | 8–10 | `0x700` | compression type: `0x100` LZ4, `0x200` ZSTD, `0x300` ZLIB; 0 means ZLIB |

/// Body is compressed.
pub const COMPRESSED_FLAG: i32 = 0x1;
/// Topic filter type is MULTI_TAG.
pub const MULTI_TAGS_FLAG: i32 = 0x2;
/// Not a transactional message.
pub const TRANSACTION_NOT_TYPE: i32 = 0x0;
/// Half (prepared) transactional message.
pub const TRANSACTION_PREPARED_TYPE: i32 = 0x4;
/// Committed transactional message.
pub const TRANSACTION_COMMIT_TYPE: i32 = 0x8;
/// Rolled-back transactional message.
pub const TRANSACTION_ROLLBACK_TYPE: i32 = 0xC;
/// Mask of the transaction type bits.
pub const TRANSACTION_TYPE_MASK: i32 = 0xC;
/// Born host is a 16-byte IPv6 address.
pub const BORNHOST_V6_FLAG: i32 = 0x10;
/// Store host is a 16-byte IPv6 address.
pub const STOREHOSTADDRESS_V6_FLAG: i32 = 0x20;
/// Inner-batch record that the client must unwrap (5.x).
pub const NEED_UNWRAP_FLAG: i32 = 0x40;
/// Record holds an inner batch (5.x BatchCQ topics).
pub const INNER_BATCH_FLAG: i32 = 0x80;
/// Mask of the compression type bits.
pub const COMPRESSION_TYPE_MASK: i32 = 0x700;
/// Compression type LZ4 (frame format).
pub const COMPRESSION_LZ4_TYPE: i32 = 0x100;
/// Compression type ZSTD.
pub const COMPRESSION_ZSTD_TYPE: i32 = 0x200;
/// Compression type ZLIB.
pub const COMPRESSION_ZLIB_TYPE: i32 = 0x300;

/// Compression algorithm named by the SYSFLAG type bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompressionType {
    /// LZ4 frame format.
    Lz4,
    /// Zstandard frame.
    Zstd,
    /// zlib stream (also the meaning of "no type bits").
    Zlib,
}

impl CompressionType {
    /// The type named by `sys_flag`'s bits 8–10. Type bits 0 mean ZLIB; the
    /// unassigned values `0x400..=0x700` give `None`.
    pub fn from_sys_flag(sys_flag: i32) -> Option<Self> {
        match sys_flag & COMPRESSION_TYPE_MASK {
            0 | COMPRESSION_ZLIB_TYPE => Some(Self::Zlib),
            COMPRESSION_LZ4_TYPE => Some(Self::Lz4),
            COMPRESSION_ZSTD_TYPE => Some(Self::Zstd),
            _ => None,
        }
    }

    /// The type bits for this algorithm.
    pub fn type_flag(self) -> i32 {
        match self {
            Self::Lz4 => COMPRESSION_LZ4_TYPE,
            Self::Zstd => COMPRESSION_ZSTD_TYPE,
            Self::Zlib => COMPRESSION_ZLIB_TYPE,
        }
    }
}

/// True if the body is compressed.
pub fn is_compressed(sys_flag: i32) -> bool {
    sys_flag & COMPRESSED_FLAG != 0
}

/// True if the MULTI_TAG bit is set.
pub fn is_multi_tags(sys_flag: i32) -> bool {
    sys_flag & MULTI_TAGS_FLAG != 0
}

/// The transaction type bits (`0x0`, `0x4`, `0x8` or `0xC`).
pub fn transaction_type(sys_flag: i32) -> i32 {
    sys_flag & TRANSACTION_TYPE_MASK
}

/// `sys_flag` with its transaction type replaced by `transaction_type`.
pub fn set_transaction_type(sys_flag: i32, transaction_type: i32) -> i32 {
    (sys_flag & !TRANSACTION_TYPE_MASK) | (transaction_type & TRANSACTION_TYPE_MASK)
}

/// `sys_flag` with its transaction type cleared (what the broker stores for
/// half messages).
pub fn reset_transaction_type(sys_flag: i32) -> i32 {
    sys_flag & !TRANSACTION_TYPE_MASK
}

/// True for NOT_TYPE and COMMIT_TYPE, the only types dispatched to a consume queue.
pub fn is_dispatched_to_consume_queue(sys_flag: i32) -> bool {
    matches!(
        transaction_type(sys_flag),
        TRANSACTION_NOT_TYPE | TRANSACTION_COMMIT_TYPE
    )
}

/// True if the born host is IPv6.
pub fn is_born_host_v6(sys_flag: i32) -> bool {
    sys_flag & BORNHOST_V6_FLAG != 0
}

/// True if the store host is IPv6.
pub fn is_store_host_v6(sys_flag: i32) -> bool {
    sys_flag & STOREHOSTADDRESS_V6_FLAG != 0
}

/// `sys_flag` with bits 4 and 5 set from the address families of the hosts.
pub fn with_host_flags(sys_flag: i32, born_host_v6: bool, store_host_v6: bool) -> i32 {
    let mut flag = sys_flag & !(BORNHOST_V6_FLAG | STOREHOSTADDRESS_V6_FLAG);
    if born_host_v6 {
        flag |= BORNHOST_V6_FLAG;
    }
    if store_host_v6 {
        flag |= STOREHOSTADDRESS_V6_FLAG;
    }
    flag
}

/// Bytes a host takes in a record: 8 for IPv4 (4 + port), 20 for IPv6 (16 + port).
pub fn host_len(v6: bool) -> usize {
    if v6 { 20 } else { 8 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_type_roundtrip() {
        let flag = COMPRESSED_FLAG | TRANSACTION_ROLLBACK_TYPE;
        assert_eq!(transaction_type(flag), TRANSACTION_ROLLBACK_TYPE);
        let flag = set_transaction_type(flag, TRANSACTION_COMMIT_TYPE);
        assert_eq!(flag, COMPRESSED_FLAG | TRANSACTION_COMMIT_TYPE);
        assert!(is_dispatched_to_consume_queue(flag));
        assert!(!is_dispatched_to_consume_queue(TRANSACTION_PREPARED_TYPE));
        assert_eq!(reset_transaction_type(flag), COMPRESSED_FLAG);
    }

    #[test]
    fn compression_type_bits() {
        assert_eq!(
            CompressionType::from_sys_flag(0x301),
            Some(CompressionType::Zlib)
        );
        assert_eq!(
            CompressionType::from_sys_flag(0x1),
            Some(CompressionType::Zlib)
        );
        assert_eq!(
            CompressionType::from_sys_flag(0x101),
            Some(CompressionType::Lz4)
        );
        assert_eq!(
            CompressionType::from_sys_flag(0x201),
            Some(CompressionType::Zstd)
        );
        assert_eq!(CompressionType::from_sys_flag(0x401), None);
        assert_eq!(COMPRESSED_FLAG | CompressionType::Zlib.type_flag(), 769);
        assert!(is_compressed(769));
        assert!(!is_multi_tags(769));
    }

    #[test]
    fn host_flags() {
        let flag = with_host_flags(0x2, true, false);
        assert_eq!(flag, 0x12);
        assert!(is_born_host_v6(flag));
        assert!(!is_store_host_v6(flag));
        assert_eq!(with_host_flags(0x32, false, false), 0x2);
        assert_eq!(host_len(true), 20);
        assert_eq!(host_len(false), 8);
    }
}
