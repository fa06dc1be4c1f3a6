//! The message properties string (`MessageDecoder.string2messageProperties` /
//! `messageProperties2String`).
//!
//! Layout: `name 0x01 value 0x02 name 0x01 value …`. Java 4.9.8 writes no
//! separator after the last entry (observed in the recorded store and send
//! frames), and [`encode_properties`] does the same; the decoder accepts a
//! trailing `0x02` too.
//!
//! Decoding rules (Java-compatible):
//! * the string is split on `0x02`; segments shorter than 3 characters are ignored;
//! * the key is the text before the first `0x01`, the value is the rest;
//! * a segment with no `0x01`, an empty key or an empty value is dropped;
//! * when a key repeats, the later value wins. [`Properties`] keeps the
//!   repeated entries in their stored order (so a record re-encodes to the very
//!   same bytes) and its lookups return the last value.
//!
//! Bytes that are not valid UTF-8 are decoded lossily, as Java does.

use bytes::{BufMut, BytesMut};

/// Separator between a property name and its value (char 1).
pub const NAME_VALUE_SEPARATOR: u8 = 0x01;
/// Separator between two properties (char 2).
pub const PROPERTY_SEPARATOR: u8 = 0x02;

/// An insertion-ordered string map for message properties.
///
/// Encoding order is insertion order, so output is deterministic. Entries
/// decoded from a string that repeated a key stay repeated (see the module
/// docs); [`Properties::get`] returns the last one and [`Properties::insert`]
/// collapses them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Properties {
    entries: Vec<(String, String)>,
}

impl Properties {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored entries (repeated keys from a decoded string count
    /// once per occurrence).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key` (the last one if the key repeats).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True if `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == key)
    }

    /// Set `key` to `value`. An existing key keeps its position (later
    /// repeats are removed); a new key is appended. Returns the old value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let key = key.into();
        let value = value.into();
        let Some(first) = self.entries.iter().position(|(k, _)| *k == key) else {
            self.entries.push((key, value));
            return None;
        };
        let mut old = std::mem::replace(&mut self.entries[first].1, value);
        let mut index = first + 1;
        while index < self.entries.len() {
            if self.entries[index].0 == key {
                old = self.entries.remove(index).1;
            } else {
                index += 1;
            }
        }
        Some(old)
    }

    /// Remove every entry for `key`; returns the value that lookups returned.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let old = self.get(key).map(str::to_owned);
        self.entries.retain(|(k, _)| k != key);
        old
    }

    /// Stored entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Decode a properties string (see the module docs for the rules).
    pub fn decode(bytes: &[u8]) -> Self {
        let mut entries = Vec::new();
        for (key, value) in raw_entries(bytes) {
            entries.push((
                String::from_utf8_lossy(key).into_owned(),
                String::from_utf8_lossy(value).into_owned(),
            ));
        }
        Self { entries }
    }

    /// Number of bytes [`Properties::encode_into`] writes.
    pub fn encoded_len(&self) -> usize {
        let content: usize = self
            .entries
            .iter()
            .map(|(k, v)| k.len() + v.len() + 1)
            .sum();
        content + self.entries.len().saturating_sub(1)
    }

    /// Append the encoded string to `dst`; returns the bytes written.
    pub fn encode_into(&self, dst: &mut BytesMut) -> usize {
        let start = dst.len();
        for (index, (key, value)) in self.entries.iter().enumerate() {
            if index > 0 {
                dst.put_u8(PROPERTY_SEPARATOR);
            }
            dst.put_slice(key.as_bytes());
            dst.put_u8(NAME_VALUE_SEPARATOR);
            dst.put_slice(value.as_bytes());
        }
        dst.len() - start
    }

    /// The encoded string as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut dst = BytesMut::with_capacity(self.encoded_len());
        self.encode_into(&mut dst);
        dst.to_vec()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Properties {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut properties = Properties::new();
        for (key, value) in iter {
            properties.insert(key, value);
        }
        properties
    }
}

/// Encode `properties` into a new byte vector (same as [`Properties::encode`]).
pub fn encode_properties(properties: &Properties) -> Vec<u8> {
    properties.encode()
}

/// Decode a properties string (same as [`Properties::decode`]).
pub fn decode_properties(bytes: &[u8]) -> Properties {
    Properties::decode(bytes)
}

/// The kept `(key, value)` byte slices of a properties string, in order,
/// without allocating. Segments the Java decoder drops are skipped.
pub fn raw_entries(bytes: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    bytes
        .split(|b| *b == PROPERTY_SEPARATOR)
        .filter_map(|segment| {
            // A segment with a non-empty key, a separator and a non-empty value
            // always has at least 3 characters, so Java's "shorter than 3" rule
            // is covered by the checks below.
            let split = segment.iter().position(|b| *b == NAME_VALUE_SEPARATOR)?;
            if split == 0 || split + 1 >= segment.len() {
                return None;
            }
            Some((&segment[..split], &segment[split + 1..]))
        })
}

/// Look up one property in an encoded string without decoding the rest; the
/// last occurrence wins.
pub fn find_raw<'a>(bytes: &'a [u8], key: &str) -> Option<&'a [u8]> {
    raw_entries(bytes)
        .filter(|(k, _)| *k == key.as_bytes())
        .last()
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_in_insertion_order_without_trailing_separator() {
        let mut p = Properties::new();
        p.insert("TAGS", "TagA");
        p.insert("KEYS", "k1 k2");
        assert_eq!(p.encode(), b"TAGS\x01TagA\x02KEYS\x01k1 k2".to_vec());
        assert_eq!(p.encoded_len(), p.encode().len());
        assert_eq!(Properties::new().encode(), Vec::<u8>::new());
    }

    #[test]
    fn decode_applies_java_rules() {
        let p = Properties::decode(b"A\x01x\x02\x02ab\x02\x01v\x02k\x01\x02B\x01y\x02A\x01z\x02");
        assert_eq!(p.get("A"), Some("z"));
        assert_eq!(p.get("B"), Some("y"));
        assert_eq!(p.get("k"), None);
        assert_eq!(p.get(""), None);
        assert_eq!(p.len(), 3);
        assert_eq!(find_raw(b"A\x01x\x02A\x01z", "A"), Some(&b"z"[..]));
    }

    #[test]
    fn value_may_contain_name_separator() {
        let p = Properties::decode(b"k\x01a\x01b");
        assert_eq!(p.get("k"), Some("a\x01b"));
    }

    #[test]
    fn insert_collapses_duplicates_in_place() {
        let mut p = Properties::decode(b"W\x01true\x02T\x01a\x02W\x01false");
        assert_eq!(p.get("W"), Some("false"));
        assert_eq!(p.insert("W", "x"), Some("false".to_owned()));
        assert_eq!(p.encode(), b"W\x01x\x02T\x01a".to_vec());
        assert_eq!(p.remove("W"), Some("x".to_owned()));
        assert!(!p.contains_key("W"));
    }

    #[test]
    fn duplicates_are_kept_for_byte_exact_reencoding() {
        let raw = b"W\x01true\x02T\x01a\x02W\x01true";
        assert_eq!(Properties::decode(raw).encode(), raw.to_vec());
    }
}
