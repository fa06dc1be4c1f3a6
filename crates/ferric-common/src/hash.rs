//! Java-compatible hash and checksum helpers.
//!
//! * [`java_hash`] is Java's `String.hashCode()`: `h = 31 * h + unit` over the
//!   UTF-16 code units of the string, with 32-bit wraparound. RocketMQ uses it
//!   for consume-queue tag codes and index-file key hashes.
//! * [`crc32_masked`] is RocketMQ's `UtilAll.crc32`: the IEEE CRC-32 of the
//!   bytes, masked with `0x7FFF_FFFF` so it is never negative as a Java int.

/// Java `String.hashCode()` over the UTF-16 code units of `s`.
///
/// ```
/// assert_eq!(ferric_common::java_hash("TagA"), 2598919);
/// ```
pub fn java_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Consume-queue tag code of a `TAGS` value: Java `String.hashCode()` widened
/// to `i64`, or 0 when the message has no tag.
pub fn tags_code(tags: Option<&str>) -> i64 {
    match tags {
        Some(tags) if !tags.is_empty() => i64::from(java_hash(tags)),
        _ => 0,
    }
}

/// IEEE CRC-32 of `bytes`, masked with `0x7FFF_FFFF` (RocketMQ `UtilAll.crc32`).
///
/// ```
/// assert_eq!(ferric_common::crc32_masked(b"Hello"), 2010220930);
/// ```
pub fn crc32_masked(bytes: &[u8]) -> i32 {
    // The mask clears the sign bit, so the cast cannot produce a negative value.
    (crc32fast::hash(bytes) & 0x7FFF_FFFF) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_matches_java_examples() {
        assert_eq!(java_hash("TagA"), 2598919);
        assert_eq!(java_hash("TopicTest#key1"), -1655984460);
        assert_eq!(java_hash(""), 0);
        // "a" = 97; a character outside the BMP hashes as its surrogate pair.
        assert_eq!(java_hash("a"), 97);
        assert_eq!(java_hash("\u{1F600}"), 0xD83D * 31 + 0xDE00);
    }

    #[test]
    fn crc_matches_java_example() {
        assert_eq!(crc32fast::hash(b"Hello"), 4157704578);
        assert_eq!(crc32_masked(b"Hello"), 2010220930);
        assert_eq!(crc32_masked(b""), 0);
    }

    #[test]
    fn tags_code_is_zero_without_tag() {
        assert_eq!(tags_code(None), 0);
        assert_eq!(tags_code(Some("")), 0);
        assert_eq!(tags_code(Some("TagA")), 2598919);
    }
}
