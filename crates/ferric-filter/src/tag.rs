//! Tag subscriptions, parsed the way RocketMQ's `FilterAPI` does.
//!
//! * An empty sub string or exactly `*` subscribes to every tag.
//! * Otherwise the string is split on `||`, each part is trimmed and empty
//!   parts are dropped; the rest form the tag set, and the Java
//!   `String.hashCode()` of each forms the code set.
//! * A string made only of `||` separators is an error, as in Java, where
//!   `split` drops trailing empty strings and yields no element at all.
//!
//! The broker filters consume-queue units by comparing `(int) tagsCode` with
//! the code set; the client re-checks the tag string itself, because different
//! tags can share a hash code.

use std::collections::BTreeSet;

use ferric_common::java_hash;

use crate::FilterError;

/// The sub string that subscribes to every tag.
pub const SUB_ALL: &str = "*";

/// A parsed tag subscription (`SubscriptionData.tagsSet` and `codeSet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagExpression {
    sub_all: bool,
    tags: BTreeSet<String>,
    codes: BTreeSet<i32>,
}

impl TagExpression {
    /// Parses a tag sub string such as `"TagA || TagB"`.
    pub fn parse(sub_string: &str) -> Result<Self, FilterError> {
        if sub_string.is_empty() || sub_string == SUB_ALL {
            return Ok(Self::all());
        }
        let parts: Vec<&str> = sub_string.split("||").collect();
        if parts.iter().all(|part| part.is_empty()) {
            return Err(FilterError::EmptyTagSplit(sub_string.to_owned()));
        }
        let mut tags = BTreeSet::new();
        let mut codes = BTreeSet::new();
        for tag in parts
            .iter()
            .map(|part| java_trim(part))
            .filter(|t| !t.is_empty())
        {
            codes.insert(java_hash(tag));
            tags.insert(tag.to_owned());
        }
        Ok(Self {
            sub_all: false,
            tags,
            codes,
        })
    }

    /// The `*` subscription.
    pub fn all() -> Self {
        Self {
            sub_all: true,
            tags: BTreeSet::new(),
            codes: BTreeSet::new(),
        }
    }

    /// True for `*` (or an empty sub string).
    pub fn is_all(&self) -> bool {
        self.sub_all
    }

    /// The trimmed, non-empty tags (empty for `*`).
    pub fn tags(&self) -> &BTreeSet<String> {
        &self.tags
    }

    /// Java `String.hashCode()` of every tag (empty for `*`).
    pub fn codes(&self) -> &BTreeSet<i32> {
        &self.codes
    }

    /// Broker-side check of a consume-queue unit: `*` matches everything,
    /// otherwise `(int) tags_code` must be in the code set.
    pub fn matches_tag_code(&self, tags_code: i64) -> bool {
        // Java narrows with `Long.intValue()`, which keeps the low 32 bits.
        self.sub_all || self.codes.contains(&(tags_code as i32))
    }

    /// Client-side re-check of a message's tag string. As in the Java client,
    /// an empty tag set (for `*`) lets every message through.
    pub fn matches_tag(&self, tag: &str) -> bool {
        self.tags.is_empty() || self.tags.contains(tag)
    }

    /// Client-side re-check for a message that may have no tag: with a
    /// non-empty tag set an untagged message is dropped.
    pub fn matches_message_tag(&self, tag: Option<&str>) -> bool {
        match tag {
            Some(tag) => self.matches_tag(tag),
            None => self.tags.is_empty(),
        }
    }
}

/// Java `String.trim()`: strips every char at or below U+0020 at both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_empty_subscribe_to_all() {
        for sub in ["", "*"] {
            let expr = TagExpression::parse(sub).unwrap();
            assert!(expr.is_all());
            assert!(expr.matches_tag_code(12345));
            assert!(expr.matches_tag("anything"));
        }
    }

    #[test]
    fn splits_trims_and_hashes() {
        let expr = TagExpression::parse(" TagA ||TagB|| ||").unwrap();
        assert!(!expr.is_all());
        let tags: Vec<&str> = expr.tags().iter().map(String::as_str).collect();
        assert_eq!(tags, ["TagA", "TagB"]);
        assert!(expr.codes().contains(&2598919));
        assert!(expr.matches_tag_code(2598919));
        assert!(expr.matches_tag_code(i64::from(java_hash("TagB"))));
        assert!(!expr.matches_tag_code(i64::from(java_hash("TagC"))));
        assert!(expr.matches_tag("TagA"));
        assert!(!expr.matches_tag("TagC"));
        assert!(!expr.matches_message_tag(None));
    }

    #[test]
    fn tag_code_is_narrowed_like_java_int_value() {
        let expr = TagExpression::parse("TagA").unwrap();
        assert!(expr.matches_tag_code(2598919 + (1i64 << 32)));
    }

    #[test]
    fn only_separators_is_an_error_but_blank_parts_are_not() {
        assert_eq!(
            TagExpression::parse("||||"),
            Err(FilterError::EmptyTagSplit("||||".into()))
        );
        let blank = TagExpression::parse("|| ||").unwrap();
        assert!(blank.tags().is_empty());
        assert!(!blank.matches_tag_code(0));
        // The Java client keeps every message when the tag set is empty.
        assert!(blank.matches_tag("TagA"));
    }

    #[test]
    fn star_inside_a_list_is_a_plain_tag() {
        let expr = TagExpression::parse(" * ").unwrap();
        assert!(!expr.is_all());
        assert!(expr.matches_tag("*"));
        assert!(!expr.matches_tag("TagA"));
    }
}
