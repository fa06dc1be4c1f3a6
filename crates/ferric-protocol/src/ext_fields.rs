//! [`ExtFields`]: the string map a command's header fields travel in (§1.7).
//!
//! Headers hold few entries (SEND_MESSAGE_V2 carries 14), so the map is a list searched front to
//! back rather than a hash table. All key and value text lives in one `String`, each entry being
//! four offsets into it: decoding a header costs two allocations however many fields it has, and
//! dropping one two frees. Entries keep their insertion order.

use std::fmt;

/// One entry: the byte ranges of its key and value in the shared text.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key_start: u32,
    key_end: u32,
    value_start: u32,
    value_end: u32,
}

/// Header key/value pairs. Every value is a string on the wire (§1.7).
///
/// Equality ignores entry order, as for a map. Replacing or removing a value leaves the old text
/// in the shared buffer until the map is dropped; headers are built once and rarely edited.
#[derive(Clone, Default)]
pub struct ExtFields {
    text: String,
    entries: Vec<Entry>,
}

/// Offsets are `u32`; a header longer than that cannot be framed anyway (frame lengths are `i32`).
fn offset(position: usize) -> u32 {
    u32::try_from(position).unwrap_or(u32::MAX)
}

impl ExtFields {
    /// An empty map; allocates nothing until the first insert.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `entries` entries holding `text_bytes` bytes of keys and values.
    pub fn with_capacity(entries: usize, text_bytes: usize) -> Self {
        Self {
            text: String::with_capacity(text_bytes),
            entries: Vec::with_capacity(entries),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn key_of(&self, entry: &Entry) -> &str {
        self.text
            .get(entry.key_start as usize..entry.key_end as usize)
            .unwrap_or_default()
    }

    fn value_of(&self, entry: &Entry) -> &str {
        self.text
            .get(entry.value_start as usize..entry.value_end as usize)
            .unwrap_or_default()
    }

    fn position(&self, key: &str) -> Option<usize> {
        let wanted = key.as_bytes();
        let bytes = self.text.as_bytes();
        let Some(&first) = wanted.first() else {
            return self
                .entries
                .iter()
                .position(|entry| entry.key_start == entry.key_end);
        };
        // Length and first byte settle almost every mismatch (SEND_MESSAGE_V2 keys are single
        // letters) without a call to compare the slices.
        self.entries.iter().position(|entry| {
            (entry.key_end - entry.key_start) as usize == wanted.len()
                && bytes.get(entry.key_start as usize) == Some(&first)
                && bytes.get(entry.key_start as usize..entry.key_end as usize) == Some(wanted)
        })
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let index = self.position(key)?;
        Some(self.value_of(&self.entries[index]))
    }

    /// The stored key and the value of `key`.
    pub fn get_key_value(&self, key: &str) -> Option<(&str, &str)> {
        let entry = &self.entries[self.position(key)?];
        Some((self.key_of(entry), self.value_of(entry)))
    }

    /// The entry at `index` in insertion order.
    pub(crate) fn entry_at(&self, index: usize) -> Option<(&str, &str)> {
        let entry = self.entries.get(index)?;
        Some((self.key_of(entry), self.value_of(entry)))
    }

    /// True when `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key` to `value`, replacing an earlier value of the same key in place (the entry keeps
    /// its position).
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) {
        self.insert_str(key.as_ref(), value.as_ref());
    }

    fn insert_str(&mut self, key: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(value);
        let (value_start, value_end) = (offset(start), offset(self.text.len()));
        self.finish_insert(key, value_start, value_end);
    }

    /// Sets `key` to the decimal text of `value`, written straight into the map.
    pub fn insert_i64(&mut self, key: &str, value: i64) {
        let start = self.text.len();
        push_decimal(&mut self.text, value);
        let (value_start, value_end) = (offset(start), offset(self.text.len()));
        self.finish_insert(key, value_start, value_end);
    }

    /// Records an entry whose value text was just appended at `value_start..value_end`.
    fn finish_insert(&mut self, key: &str, value_start: u32, value_end: u32) {
        if let Some(index) = self.position(key) {
            let entry = &mut self.entries[index];
            entry.value_start = value_start;
            entry.value_end = value_end;
            return;
        }
        let key_start = offset(self.text.len());
        self.text.push_str(key);
        self.entries.push(Entry {
            key_start,
            key_end: offset(self.text.len()),
            value_start,
            value_end,
        });
    }

    /// Bytes of key and value text the map holds, at least the sum over its entries.
    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The shared text, for a decoder appending an entry's key and value text before
    /// [`Self::commit_appended`] records it.
    pub(crate) fn text_mut(&mut self) -> &mut String {
        &mut self.text
    }

    /// Records an entry whose key and value are the given byte ranges of the text (which the
    /// caller filled through [`Self::text_mut`]). A key seen before keeps its position and takes
    /// the new value (the later of two duplicates wins, as in a JSON object read into a map).
    /// `seen` is the caller's summary of the keys committed so far (start at 0): most keys are
    /// new, and the summary proves that without searching the entries.
    pub(crate) fn commit_entry(
        &mut self,
        (key_start, key_end): (usize, usize),
        (value_start, value_end): (usize, usize),
        seen: &mut u64,
    ) {
        let entry = Entry {
            key_start: offset(key_start),
            key_end: offset(key_end),
            value_start: offset(value_start),
            value_end: offset(value_end),
        };
        let bytes = self.text.as_bytes();
        let first = match bytes.get(key_start..key_end) {
            Some([first, ..]) => *first,
            _ => 0,
        };
        let bit =
            1u64 << ((u32::from(first).wrapping_mul(31) as usize + (key_end - key_start)) & 63);
        if *seen & bit != 0 {
            let key = bytes.get(key_start..key_end).unwrap_or_default();
            if let Some(earlier) = self.entries.iter_mut().find(|earlier| {
                bytes.get(earlier.key_start as usize..earlier.key_end as usize) == Some(key)
            }) {
                earlier.value_start = entry.value_start;
                earlier.value_end = entry.value_end;
                return;
            }
        }
        *seen |= bit;
        self.entries.push(entry);
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.position(key)?;
        let entry = self.entries.remove(index);
        Some(self.value_of(&entry).to_owned())
    }

    /// The entries in insertion order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            map: self,
            entries: self.entries.iter(),
        }
    }

    /// The keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        self.iter().map(|(key, _)| key)
    }

    /// The values in insertion order.
    pub fn values(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        self.iter().map(|(_, value)| value)
    }

    /// The entries in insertion order, copied out.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    }
}

/// Appends the decimal text of `value`.
pub(crate) fn push_decimal(out: &mut String, value: i64) {
    let mut buffer = [0u8; 20];
    out.push_str(crate::json_text::format_i64(value, &mut buffer));
}

/// Iterator over the entries of an [`ExtFields`], in insertion order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    map: &'a ExtFields,
    entries: std::slice::Iter<'a, Entry>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.entries.next()?;
        Some((self.map.key_of(entry), self.map.value_of(entry)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a ExtFields {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for ExtFields {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.to_pairs().into_iter()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Extend<(K, V)> for ExtFields {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for ExtFields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Self::new();
        map.extend(iter);
        map
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> From<[(K, V); N]> for ExtFields {
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl PartialEq for ExtFields {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(key, value)| other.get(key) == Some(value))
    }
}

impl Eq for ExtFields {}

impl fmt::Debug for ExtFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_replace_remove() {
        let mut map = ExtFields::new();
        assert!(map.is_empty());
        map.insert("topic", "T");
        map.insert(String::from("queueId"), "3");
        map.insert_i64("queueOffset", -42);
        assert_eq!(map.len(), 3);
        assert_eq!(map.get("topic"), Some("T"));
        assert_eq!(map.get("queueOffset"), Some("-42"));
        assert_eq!(map.get("queue"), None);
        map.insert("topic", "U");
        assert_eq!(map.len(), 3);
        assert_eq!(map.get("topic"), Some("U"));
        assert_eq!(
            map.keys().collect::<Vec<_>>(),
            ["topic", "queueId", "queueOffset"]
        );
        assert_eq!(map.remove("queueId").as_deref(), Some("3"));
        assert!(!map.contains_key("queueId"));
        assert_eq!(map.len(), 2);
        map.insert("", "empty key");
        assert_eq!(map.get(""), Some("empty key"));
        map.insert_i64("min", i64::MIN);
        assert_eq!(map.get("min"), Some("-9223372036854775808"));
    }

    proptest::proptest! {
        /// The map behaves as a list of distinct keys in insertion order, whatever the summary
        /// bits say (keys collide in them on purpose: short keys from a small alphabet).
        #[test]
        fn behaves_like_an_ordered_list(
            ops in proptest::collection::vec(
                (0u8..4, "[a-cA]{0,3}", "[x-z]{0,2}"),
                0..40,
            )
        ) {
            let mut map = ExtFields::new();
            let mut model: Vec<(String, String)> = Vec::new();
            for (op, key, value) in ops {
                match op {
                    0 | 1 => {
                        map.insert(&key, &value);
                        match model.iter_mut().find(|(k, _)| *k == key) {
                            Some(entry) => entry.1 = value,
                            None => model.push((key, value)),
                        }
                    }
                    2 => {
                        let removed = map.remove(&key);
                        let index = model.iter().position(|(k, _)| *k == key);
                        proptest::prop_assert_eq!(removed, index.map(|i| model.remove(i).1));
                    }
                    _ => {
                        let expected = model.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
                        proptest::prop_assert_eq!(map.get(&key), expected);
                    }
                }
            }
            proptest::prop_assert_eq!(map.to_pairs(), model);
        }
    }

    #[test]
    fn equality_ignores_order() {
        let left = ExtFields::from([("a", "1"), ("b", "2")]);
        let right = ExtFields::from([("b", "2"), ("a", "1")]);
        assert_eq!(left, right);
        assert_ne!(left, ExtFields::from([("a", "1")]));
        assert_ne!(left, ExtFields::from([("a", "1"), ("b", "3")]));
        assert_eq!(format!("{left:?}"), r#"{"a": "1", "b": "2"}"#);
    }
}
