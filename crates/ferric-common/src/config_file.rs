//! Java-properties configuration files and `key=value` overrides, as read by
//! RocketMQ's `mqnamesrv -c namesrv.conf` and `mqbroker -c broker.conf`.
//!
//! [`parse_properties`] follows `java.util.Properties.load` line rules:
//! * lines end with `\n`, `\r` or `\r\n`; leading blanks (space, tab, form
//!   feed) are skipped; blank lines are ignored;
//! * a line whose first non-blank character is `#` or `!` is a comment;
//! * a line ending with an odd number of backslashes continues on the next
//!   line, whose leading blanks are dropped;
//! * the key ends at the first unescaped `=`, `:` or blank; blanks, then at
//!   most one `=` or `:`, then blanks separate it from the value;
//! * escapes `\t`, `\n`, `\r`, `\f`, `\uXXXX`, and `\x` for any other `x`.
//!
//! Later duplicates of a key are kept in order; [`apply_pairs`] applies them in
//! order, so the last one wins like in Java.
//!
//! Typed values: [`ConfigValue`] parses a value after trimming surrounding
//! blanks; [`parse_value`] wraps it in an error that names the key and the
//! value. A configuration struct implements [`ConfigStruct`] and
//! [`apply_pairs`] returns the keys it did not know so the caller can warn.

use thiserror::Error;

/// Errors of configuration parsing; each names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigFileError {
    /// A `\u` escape without four hex digits.
    #[error("malformed \\uXXXX escape on line {line}")]
    MalformedUnicodeEscape {
        /// 1-based line number where the logical line starts.
        line: usize,
    },
    /// A command-line override that is not `key=value`.
    #[error("malformed override {arg:?}: expected key=value")]
    MalformedOverride {
        /// The argument as given.
        arg: String,
    },
    /// A value that does not parse as the key's type.
    #[error("invalid value {value:?} for config key {key}: expected {expected}")]
    InvalidValue {
        /// The configuration key.
        key: String,
        /// The value as given.
        value: String,
        /// What the key accepts (e.g. "an integer (i32)").
        expected: &'static str,
    },
}

/// Parses the text of a Java `.properties` file into `(key, value)` pairs in
/// file order.
pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>, ConfigFileError> {
    let mut pairs = Vec::new();
    for (line_number, logical) in logical_lines(text) {
        let (key, value) = split_logical_line(&logical);
        let key = unescape(key, line_number)?;
        let value = unescape(value, line_number)?;
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Parses one trailing command-line override `key=value` (the key is trimmed,
/// the value is kept as given). A missing `=` or an empty key is an error.
pub fn parse_override(arg: &str) -> Result<(String, String), ConfigFileError> {
    let malformed = || ConfigFileError::MalformedOverride {
        arg: arg.to_string(),
    };
    let (key, value) = arg.split_once('=').ok_or_else(malformed)?;
    let key = key.trim();
    if key.is_empty() {
        return Err(malformed());
    }
    Ok((key.to_string(), value.to_string()))
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\u{c}'
}

/// Joins natural lines into logical lines (continuations), dropping comments
/// and blank lines. Yields the 1-based number of each logical line's first
/// natural line and its raw (still escaped) text without the leading blanks.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let natural: Vec<&str> = split_natural_lines(text);
    let mut out = Vec::new();
    let mut index = 0;
    while index < natural.len() {
        let start_line = index + 1;
        let first = natural[index].trim_start_matches(is_blank);
        index += 1;
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        let mut logical = String::new();
        let mut current = first;
        loop {
            if ends_with_odd_backslashes(current) {
                logical.push_str(&current[..current.len() - 1]);
                if index >= natural.len() {
                    break;
                }
                current = natural[index].trim_start_matches(is_blank);
                index += 1;
            } else {
                logical.push_str(current);
                break;
            }
        }
        out.push((start_line, logical));
    }
    out
}

fn split_natural_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if i + 1 < bytes.len() && bytes[i + 1] == b'\n' {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

fn ends_with_odd_backslashes(line: &str) -> bool {
    line.bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1
}

/// Splits a logical line into its raw key and raw value.
fn split_logical_line(line: &str) -> (&str, &str) {
    let mut key_end = line.len();
    let mut escaped = false;
    for (pos, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
            continue;
        }
        if c == '=' || c == ':' || is_blank(c) {
            key_end = pos;
            break;
        }
    }
    let key = &line[..key_end];
    let mut rest = line[key_end..].trim_start_matches(is_blank);
    if let Some(stripped) = rest.strip_prefix(['=', ':']) {
        rest = stripped.trim_start_matches(is_blank);
    }
    (key, rest)
}

fn unescape(raw: &str, line: usize) -> Result<String, ConfigFileError> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(escaped) = chars.next() else {
            break;
        };
        match escaped {
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'f' => out.push('\u{c}'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32)
                    .ok_or(ConfigFileError::MalformedUnicodeEscape { line })?;
                out.push(code);
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// A type a configuration value can be parsed into.
pub trait ConfigValue: Sized {
    /// What the type accepts, for error messages.
    const EXPECTED: &'static str;
    /// Parses an already trimmed value; `None` when malformed.
    fn parse_config(text: &str) -> Option<Self>;
    /// Renders the value like Java's `String.valueOf`.
    fn render_config(&self) -> String;
}

macro_rules! config_value_via_from_str {
    ($($ty:ty => $expected:expr),* $(,)?) => {$(
        impl ConfigValue for $ty {
            const EXPECTED: &'static str = $expected;
            fn parse_config(text: &str) -> Option<Self> {
                text.parse().ok()
            }
            fn render_config(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

config_value_via_from_str!(
    i32 => "an integer (i32)",
    i64 => "an integer (i64)",
    u16 => "an integer (0..=65535)",
    u32 => "a non-negative integer (u32)",
    u64 => "a non-negative integer (u64)",
    usize => "a non-negative integer",
    f64 => "a number",
);

impl ConfigValue for bool {
    const EXPECTED: &'static str = "true or false";
    fn parse_config(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("true") {
            Some(true)
        } else if text.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        }
    }
    fn render_config(&self) -> String {
        self.to_string()
    }
}

impl ConfigValue for String {
    const EXPECTED: &'static str = "a string";
    fn parse_config(text: &str) -> Option<Self> {
        Some(text.to_string())
    }
    fn render_config(&self) -> String {
        self.clone()
    }
}

/// Parses `value` for `key` (blanks around it are trimmed); the error names
/// both.
pub fn parse_value<T: ConfigValue>(key: &str, value: &str) -> Result<T, ConfigFileError> {
    T::parse_config(value.trim()).ok_or_else(|| ConfigFileError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        expected: T::EXPECTED,
    })
}

/// A configuration struct with RocketMQ's camelCase keys.
pub trait ConfigStruct {
    /// Sets `key` from its textual `value`. `Ok(false)` when the key is not
    /// known; an error when the value is malformed.
    fn set_config(&mut self, key: &str, value: &str) -> Result<bool, ConfigFileError>;
    /// Every key with its current value, in a stable order (for `-p`).
    fn config_items(&self) -> Vec<(&'static str, String)>;
}

/// Applies `pairs` in order; returns the keys the struct did not know (for a
/// warning each). Stops at the first malformed value.
pub fn apply_pairs<C: ConfigStruct + ?Sized>(
    config: &mut C,
    pairs: &[(String, String)],
) -> Result<Vec<String>, ConfigFileError> {
    let mut unknown = Vec::new();
    for (key, value) in pairs {
        if !config.set_config(key, value)? {
            unknown.push(key.clone());
        }
    }
    Ok(unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse_properties(text).unwrap()
    }

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn separators_comments_and_blank_lines() {
        let text = "# comment\n! other comment\n\n  a=1\nb = 2\nc:3\nd 4\ne\n  f  =  x y  \n";
        assert_eq!(
            pairs(text),
            vec![
                kv("a", "1"),
                kv("b", "2"),
                kv("c", "3"),
                kv("d", "4"),
                kv("e", ""),
                kv("f", "x y  "),
            ]
        );
    }

    #[test]
    fn continuation_lines_and_line_endings() {
        let text = "list=a,\\\n    b,\\\r\n\tc\r\nnext=1\rlast=\\\\\n";
        assert_eq!(
            pairs(text),
            vec![kv("list", "a,b,c"), kv("next", "1"), kv("last", "\\")]
        );
    }

    #[test]
    fn comment_line_ending_in_backslash_does_not_continue() {
        assert_eq!(pairs("# note \\\nkey=v"), vec![kv("key", "v")]);
    }

    #[test]
    fn escapes_in_keys_and_values() {
        let text = "my\\ key\\=x=tab\\there\\u0041\\:";
        assert_eq!(pairs(text), vec![kv("my key=x", "tab\there\u{41}:")]);
        assert_eq!(
            parse_properties("k=\\u00zz"),
            Err(ConfigFileError::MalformedUnicodeEscape { line: 1 })
        );
    }

    #[test]
    fn overrides_need_key_and_equals() {
        assert_eq!(
            parse_override("listenPort=9877").unwrap(),
            kv("listenPort", "9877")
        );
        assert_eq!(parse_override("a=b=c").unwrap(), kv("a", "b=c"));
        assert!(parse_override("novalue").is_err());
        assert!(parse_override("=x").is_err());
    }

    #[test]
    fn typed_values_name_key_and_value() {
        assert_eq!(parse_value::<i32>("listenPort", " 9876 ").unwrap(), 9876);
        assert!(parse_value::<bool>("flag", "TRUE").unwrap());
        let err = parse_value::<i32>("listenPort", "abc").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("listenPort"), "{text}");
        assert!(text.contains("abc"), "{text}");
        assert!(parse_value::<bool>("flag", "yes").is_err());
    }

    #[derive(Default)]
    struct Sample {
        port: i32,
        name: String,
    }

    impl ConfigStruct for Sample {
        fn set_config(&mut self, key: &str, value: &str) -> Result<bool, ConfigFileError> {
            match key {
                "port" => self.port = parse_value(key, value)?,
                "name" => self.name = parse_value(key, value)?,
                _ => return Ok(false),
            }
            Ok(true)
        }
        fn config_items(&self) -> Vec<(&'static str, String)> {
            vec![
                ("port", self.port.render_config()),
                ("name", self.name.clone()),
            ]
        }
    }

    #[test]
    fn apply_pairs_reports_unknown_keys_and_last_wins() {
        let mut sample = Sample::default();
        let unknown = apply_pairs(
            &mut sample,
            &[
                kv("port", "1"),
                kv("bogus", "x"),
                kv("port", "2"),
                kv("name", "n"),
            ],
        )
        .unwrap();
        assert_eq!(unknown, vec!["bogus".to_string()]);
        assert_eq!(sample.port, 2);
        assert_eq!(sample.name, "n");
        assert!(apply_pairs(&mut sample, &[kv("port", "x")]).is_err());
        assert_eq!(sample.config_items()[0], ("port", "2".to_string()));
    }
}
