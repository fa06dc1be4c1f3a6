//! The order in which Java peers write header maps, so Ferric's frames match theirs byte for byte.
//!
//! Java keeps `extFields` in a `java.util.HashMap`, whose iteration order is by bucket index
//! (`(h ^ (h >>> 16)) & (capacity - 1)` with `h = String.hashCode()`), the capacity being the
//! smallest power of two ≥ 16 that keeps the load factor at or below 0.75. Both fastjson (JSON
//! headers) and the binary header writer emit entries in that order. Entries that land in the same
//! bucket come out in insertion order, which a `HashMap` on our side no longer knows; we break such
//! ties by key.
//!
//! Four headers take a fast path in the binary encoding: their own fields are written first, in
//! class declaration order, followed by the remaining `extFields` entries in `HashMap` order.

use crate::command::{ExtFields, RemotingCommand};

/// Java's `String.hashCode()`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping.
pub fn java_string_hash(text: &str) -> i32 {
    if text.is_ascii() {
        // An ASCII byte is its own UTF-16 code unit.
        return text.bytes().fold(0i32, |hash, byte| {
            hash.wrapping_mul(31).wrapping_add(i32::from(byte))
        });
    }
    text.encode_utf16().fold(0i32, |hash, unit| {
        hash.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Capacity of a `HashMap` created empty and filled with `len` entries.
fn java_table_capacity(len: usize) -> u32 {
    let mut capacity: u64 = 16;
    while (len as u64) * 4 > capacity * 3 {
        capacity *= 2;
    }
    u32::try_from(capacity.min(1 << 30)).unwrap_or(1 << 30)
}

fn bucket_index(key: &str, capacity: u32) -> u32 {
    let hash = java_string_hash(key) as u32;
    (hash ^ (hash >> 16)) & (capacity - 1)
}

/// Sorts entries into Java `HashMap` iteration order.
pub fn java_hash_map_order<'a>(entries: &mut [(&'a str, &'a str)]) {
    if entries.len() < 2 {
        return;
    }
    let capacity = java_table_capacity(entries.len());
    // Each key's bucket is computed once, not on every comparison.
    entries.sort_by_cached_key(|(key, _)| (bucket_index(key, capacity), *key));
}

/// True when two keys of `ext` share a bucket of the Java `HashMap` that would hold them, so their
/// relative order depended on insertion order.
pub fn has_bucket_collision(ext: &ExtFields) -> bool {
    let capacity = java_table_capacity(ext.len());
    let mut buckets: Vec<u32> = ext.keys().map(|key| bucket_index(key, capacity)).collect();
    buckets.sort_unstable();
    buckets.windows(2).any(|pair| pair[0] == pair[1])
}

/// All entries of a map in Java `HashMap` order.
pub fn ordered_entries(ext: &ExtFields) -> Vec<(&str, &str)> {
    let mut entries: Vec<(&str, &str)> = ext.iter().collect();
    java_hash_map_order(&mut entries);
    entries
}

/// Maps of up to this many entries are put in order on the stack, without allocating.
const INLINE_ENTRIES: usize = 16;

/// Calls `visit` for each entry in Java `HashMap` order (see [`java_hash_map_order`]): the order
/// of a map holding exactly these entries.
fn visit_in_hash_map_order<'a, I, F>(entries: I, visit: &mut F)
where
    I: Iterator<Item = (&'a str, &'a str)> + Clone,
    F: FnMut(&'a str, &'a str),
{
    let mut slots: [(u32, &'a str, &'a str); INLINE_ENTRIES] = [(0, "", ""); INLINE_ENTRIES];
    let mut len = 0;
    for (key, value) in entries.clone() {
        let Some(slot) = slots.get_mut(len) else {
            let mut all: Vec<(&str, &str)> = entries.collect();
            java_hash_map_order(&mut all);
            for (key, value) in all {
                visit(key, value);
            }
            return;
        };
        *slot = (0, key, value);
        len += 1;
    }
    let slots = &mut slots[..len];
    if len > 1 {
        let capacity = java_table_capacity(len);
        for slot in slots.iter_mut() {
            slot.0 = bucket_index(slot.1, capacity);
        }
        // Keys of one map are distinct, so an unstable sort gives the same order as a stable one.
        slots.sort_unstable_by(|left, right| (left.0, left.1).cmp(&(right.0, right.1)));
    }
    for &(_, key, value) in slots.iter() {
        visit(key, value);
    }
}

/// Calls `visit` for every entry of `ext` in Java `HashMap` order: what [`ordered_entries`]
/// returns, without allocating for maps of up to 16 entries.
///
/// The order depends on the keys alone, and a process writes the same few key lists over and
/// over (a send response always carries the same keys, inserted in the same order), so the
/// permutation is remembered per thread for the last few key lists and reused when the keys of
/// `ext`, in insertion order, match one of them.
pub fn for_each_in_java_order<'a>(ext: &'a ExtFields, mut visit: impl FnMut(&'a str, &'a str)) {
    if ext.len() < 2 || ext.len() > INLINE_ENTRIES {
        visit_in_hash_map_order(ext.iter(), &mut visit);
        return;
    }
    let mut order = [0u8; INLINE_ENTRIES];
    let order = &mut order[..ext.len()];
    ORDER_CACHE.with(|cache| cache.borrow_mut().order_of(ext, order));
    for &index in order.iter() {
        if let Some((key, value)) = ext.entry_at(usize::from(index)) {
            visit(key, value);
        }
    }
}

/// Key lists whose Java `HashMap` order a thread remembers.
const ORDER_CACHE_SLOTS: usize = 8;

thread_local! {
    static ORDER_CACHE: std::cell::RefCell<OrderCache> =
        const { std::cell::RefCell::new(OrderCache { slots: Vec::new(), next: 0 }) };
}

/// Remembered permutations: for a list of keys in insertion order, the insertion indexes in
/// Java `HashMap` order. Replaced round robin.
struct OrderCache {
    slots: Vec<(Vec<Box<str>>, Vec<u8>)>,
    next: usize,
}

impl OrderCache {
    /// Writes into `order` (of `ext.len()` ≤ [`INLINE_ENTRIES`] slots) the insertion indexes of
    /// `ext`'s entries in Java `HashMap` order.
    fn order_of(&mut self, ext: &ExtFields, order: &mut [u8]) {
        let same_keys = |keys: &[Box<str>]| {
            keys.len() == ext.len()
                && keys
                    .iter()
                    .zip(ext.keys())
                    .all(|(left, right)| **left == *right)
        };
        if let Some((_, cached)) = self.slots.iter().find(|(keys, _)| same_keys(keys)) {
            order.copy_from_slice(cached);
            return;
        }
        let capacity = java_table_capacity(ext.len());
        let mut ranked: Vec<(u32, &str, u8)> = ext
            .keys()
            .zip(0u8..)
            .map(|(key, index)| (bucket_index(key, capacity), key, index))
            .collect();
        ranked.sort_unstable_by(|left, right| (left.0, left.1).cmp(&(right.0, right.1)));
        for (slot, (_, _, index)) in order.iter_mut().zip(&ranked) {
            *slot = *index;
        }
        let entry = (ext.keys().map(Box::from).collect(), order.to_vec());
        if self.slots.len() < ORDER_CACHE_SLOTS {
            self.slots.push(entry);
        } else {
            self.slots[self.next] = entry;
            self.next = (self.next + 1) % ORDER_CACHE_SLOTS;
        }
    }
}

const SEND_V2_FIELDS: &[&str] = &[
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n",
];
const SEND_RESPONSE_FIELDS: &[&str] = &[
    "msgId",
    "queueId",
    "queueOffset",
    "transactionId",
    "batchUniqId",
    "recallHandle",
];
const PULL_REQUEST_FIELDS: &[&str] = &[
    "consumerGroup",
    "topic",
    "queueId",
    "queueOffset",
    "maxMsgNums",
    "sysFlag",
    "commitOffset",
    "suspendTimeoutMillis",
    "subscription",
    "subVersion",
    "expressionType",
    "bname",
    "maxMsgBytes",
    "requestSource",
    "proxyFrowardClientId",
];
const PULL_RESPONSE_FIELDS: &[&str] = &[
    "suggestWhichBrokerId",
    "nextBeginOffset",
    "minOffset",
    "maxOffset",
    "offsetDelta",
    "topicSysFlag",
    "groupSysFlag",
    "forbiddenType",
];

/// The fast-path field list that applies to `cmd`'s binary header, if any.
fn fast_path_fields(cmd: &RemotingCommand, ext: &ExtFields) -> Option<&'static [&'static str]> {
    if cmd.is_response() {
        if ext.contains_key("suggestWhichBrokerId") && ext.contains_key("nextBeginOffset") {
            return Some(PULL_RESPONSE_FIELDS);
        }
        if ext.contains_key("msgId") && ext.contains_key("queueOffset") {
            return Some(SEND_RESPONSE_FIELDS);
        }
        return None;
    }
    match cmd.code {
        310 | 320 | 325 => Some(SEND_V2_FIELDS),
        11 | 361 => Some(PULL_REQUEST_FIELDS),
        _ => None,
    }
}

/// Entries in the order the Java binary header writer would emit them for `cmd`.
pub fn binary_header_order<'a>(
    cmd: &RemotingCommand,
    ext: &'a ExtFields,
) -> Vec<(&'a str, &'a str)> {
    let Some(fields) = fast_path_fields(cmd, ext) else {
        return ordered_entries(ext);
    };
    let mut ordered: Vec<(&str, &str)> = Vec::with_capacity(ext.len());
    for field in fields {
        if let Some((key, value)) = ext.get_key_value(field) {
            ordered.push((key, value));
        }
    }
    let mut rest: Vec<(&str, &str)> = ext
        .iter()
        .filter(|(key, _)| !fields.contains(key))
        .collect();
    java_hash_map_order(&mut rest);
    ordered.extend(rest);
    ordered
}

/// Calls `visit` for every entry in the order the Java binary header writer emits them for `cmd`:
/// what [`binary_header_order`] returns, without allocating for small maps.
pub fn for_each_in_binary_order<'a>(
    cmd: &RemotingCommand,
    ext: &'a ExtFields,
    mut visit: impl FnMut(&'a str, &'a str),
) {
    let Some(fields) = fast_path_fields(cmd, ext) else {
        for_each_in_java_order(ext, visit);
        return;
    };
    for field in fields {
        if let Some((key, value)) = ext.get_key_value(field) {
            visit(key, value);
        }
    }
    let rest = ext.iter().filter(|(key, _)| !fields.contains(key));
    visit_in_hash_map_order(rest, &mut visit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        // "TagA".hashCode() in Java, also the codeSet value in heartbeat examples.
        assert_eq!(java_string_hash("TagA"), 2_598_919);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    }

    fn sample_map(len: usize) -> ExtFields {
        let mut ext = ExtFields::default();
        for index in 0..len {
            ext.insert(format!("key{index}"), format!("value{index}"));
        }
        for key in ["a", "b", "msgId", "queueOffset", "topic", "\u{e9}t\u{e9}"] {
            ext.insert(key, key);
        }
        ext
    }

    #[test]
    fn visiting_orders_agree_with_the_sorted_lists() {
        for len in [0, 1, 5, 10, 11, 12, 20, 40] {
            let ext = sample_map(len);
            let mut visited = Vec::new();
            for_each_in_java_order(&ext, |key, value| visited.push((key, value)));
            assert_eq!(visited, ordered_entries(&ext), "{len}");
            for (code, flag) in [(310, 0), (11, 0), (105, 0), (0, 1)] {
                let mut cmd = RemotingCommand::request(code);
                cmd.flag = flag;
                let mut visited = Vec::new();
                for_each_in_binary_order(&cmd, &ext, |key, value| visited.push((key, value)));
                assert_eq!(visited, binary_header_order(&cmd, &ext), "{len} {code}");
            }
        }
    }

    #[test]
    fn cached_orders_follow_the_keys() {
        // More distinct key lists than the cache holds, visited twice, some sharing a key set
        // in another insertion order.
        let lists: Vec<Vec<String>> = (0..20)
            .map(|round| {
                let mut keys: Vec<String> = (0..(2 + round % 9))
                    .map(|i| format!("k{i}x{}", round % 5))
                    .collect();
                if round % 2 == 1 {
                    keys.reverse();
                }
                keys
            })
            .collect();
        for _ in 0..2 {
            for keys in &lists {
                let ext: ExtFields = keys.iter().map(|key| (key, key)).collect();
                let mut visited = Vec::new();
                for_each_in_java_order(&ext, |key, value| visited.push((key, value)));
                assert_eq!(visited, ordered_entries(&ext), "{keys:?}");
            }
        }
    }

    #[test]
    fn capacity_grows_at_three_quarters() {
        assert_eq!(java_table_capacity(0), 16);
        assert_eq!(java_table_capacity(12), 16);
        assert_eq!(java_table_capacity(13), 32);
        assert_eq!(java_table_capacity(24), 32);
        assert_eq!(java_table_capacity(25), 64);
    }
}
