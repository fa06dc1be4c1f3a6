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
///
/// Keys and values live in one string and the entries are spans of it, so a
/// decode or a clone makes two allocations whatever the number of entries.
/// [`Properties::insert`] appends the new value and leaves the old one
/// unreferenced.
#[derive(Clone, Default)]
pub struct Properties {
    text: String,
    entries: Vec<Entry>,
}

/// One entry: `text[key.0..key.1]` and `text[value.0..value.1]`.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: (usize, usize),
    value: (usize, usize),
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

    fn key_of(&self, entry: &Entry) -> &str {
        &self.text[entry.key.0..entry.key.1]
    }

    fn value_of(&self, entry: &Entry) -> &str {
        &self.text[entry.value.0..entry.value.1]
    }

    fn push_text(&mut self, text: &str) -> (usize, usize) {
        let start = self.text.len();
        self.text.push_str(text);
        (start, self.text.len())
    }

    /// The value of `key` (the last one if the key repeats).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|entry| self.key_of(entry) == key)
            .map(|entry| self.value_of(entry))
    }

    /// True if `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.iter().any(|entry| self.key_of(entry) == key)
    }

    /// Set `key` to `value`. An existing key keeps its position (later
    /// repeats are removed); a new key is appended. Returns the old value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.set(&key.into(), &value.into())
    }

    /// [`Properties::insert`] from borrowed strings.
    pub fn set(&mut self, key: &str, value: &str) -> Option<String> {
        let Some(first) = self
            .entries
            .iter()
            .position(|entry| self.key_of(entry) == key)
        else {
            let key = self.push_text(key);
            let value = self.push_text(value);
            self.entries.push(Entry { key, value });
            return None;
        };
        let old = self.get(key).map(str::to_owned);
        let value = self.push_text(value);
        self.entries[first].value = value;
        let mut index = first + 1;
        while index < self.entries.len() {
            if self.key_of(&self.entries[index]) == key {
                self.entries.remove(index);
            } else {
                index += 1;
            }
        }
        old
    }

    /// Remove every entry for `key`; returns the value that lookups returned.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let old = self.get(key).map(str::to_owned);
        let text = &self.text;
        self.entries
            .retain(|entry| &text[entry.key.0..entry.key.1] != key);
        old
    }

    /// Stored entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|entry| (self.key_of(entry), self.value_of(entry)))
    }

    /// Decode a properties string (see the module docs for the rules).
    pub fn decode(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::from_string(text.to_owned()),
            Err(_) => Self::decode_lossy(bytes),
        }
    }

    /// Decode a properties string that is already text, keeping it as the
    /// entries' storage (no copy).
    pub fn from_string(text: String) -> Self {
        let base = text.as_ptr() as usize;
        // Offsets of the kept slices in `text`; the separators are ASCII, so
        // every offset is a char boundary.
        let offsets = |part: &[u8]| {
            let start = part.as_ptr() as usize - base;
            (start, start + part.len())
        };
        let entries = raw_entries(text.as_bytes())
            .map(|(key, value)| Entry {
                key: offsets(key),
                value: offsets(value),
            })
            .collect();
        Self { text, entries }
    }

    fn decode_lossy(bytes: &[u8]) -> Self {
        let mut properties = Self {
            text: String::with_capacity(bytes.len()),
            entries: Vec::new(),
        };
        for (key, value) in raw_entries(bytes) {
            let key = properties.push_text(&String::from_utf8_lossy(key));
            let value = properties.push_text(&String::from_utf8_lossy(value));
            properties.entries.push(Entry { key, value });
        }
        properties
    }

    /// Number of bytes [`Properties::encode_into`] writes.
    pub fn encoded_len(&self) -> usize {
        let content: usize = self
            .entries
            .iter()
            .map(|entry| entry.key.1 - entry.key.0 + entry.value.1 - entry.value.0 + 1)
            .sum();
        content + self.entries.len().saturating_sub(1)
    }

    /// Append the encoded string to `dst`; returns the bytes written.
    pub fn encode_into(&self, dst: &mut BytesMut) -> usize {
        let start = dst.len();
        for (index, (key, value)) in self.iter().enumerate() {
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

impl std::fmt::Debug for Properties {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Properties")
            .field("entries", &self.iter().collect::<Vec<_>>())
            .finish()
    }
}

/// Equal when the entries are, in order (unreferenced text does not count).
impl PartialEq for Properties {
    fn eq(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Properties {}

impl std::hash::Hash for Properties {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.entries.len().hash(state);
        for entry in self.iter() {
            entry.hash(state);
        }
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
    fn lossy_and_text_decodes_agree() {
        let raw = b"A\x01x\x02B\x01\xff\xfey\x02\x02C\x01z\x02";
        let p = Properties::decode(raw);
        assert_eq!(p.get("B"), Some("\u{fffd}\u{fffd}y"));
        assert_eq!(p.len(), 3);
        let text = "A\x01x\x02\x02ab\x02K\x01\u{e9}t\u{e9}\x02";
        let owned = Properties::from_string(text.to_owned());
        assert_eq!(owned, Properties::decode_lossy(text.as_bytes()));
        assert_eq!(owned.get("K"), Some("\u{e9}t\u{e9}"));
        assert_eq!(owned.encode(), b"A\x01x\x02K\x01\xc3\xa9t\xc3\xa9".to_vec());
    }

    #[test]
    fn replaced_text_does_not_count_for_equality() {
        let mut a = Properties::new();
        a.insert("K", "old");
        a.insert("K", "v");
        let b: Properties = [("K", "v")].into_iter().collect();
        assert_eq!(a, b);
        assert_eq!(a.encode(), b"K\x01v".to_vec());
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn duplicates_are_kept_for_byte_exact_reencoding() {
        let raw = b"W\x01true\x02T\x01a\x02W\x01true";
        assert_eq!(Properties::decode(raw).encode(), raw.to_vec());
    }
}
