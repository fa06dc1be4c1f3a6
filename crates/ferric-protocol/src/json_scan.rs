//! A scanner over JSON text, the building blocks of the JSON header decoder.
//!
//! It accepts exactly the JSON that `serde_json` 1.x accepts (RFC 8259, no extensions): strings
//! must be valid UTF-8 without raw control characters, `\u` escapes of strings that are read must
//! pair their surrogates, numbers follow the JSON grammar (no leading zeros, no `+`, a digit after
//! `.` and after the exponent mark). Values that are skipped ([`Scanner::skip_value`]) are checked
//! for syntax only, as `serde_json` does for ignored fields: their strings are not checked for UTF-8
//! or surrogate pairs, their numbers not for range, and their nesting is unbounded (an explicit
//! stack, so hostile input cannot exhaust the call stack).
//!
//! Strings without escapes are borrowed from the input; only strings with escapes are built up.

use std::borrow::Cow;

/// Why a JSON header could not be read: what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at byte {offset}")]
pub struct JsonHeaderError {
    /// Byte offset into the header where the problem was found.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

/// A number token as written, and whether it is a plain integer (no fraction, no exponent).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NumberToken<'a> {
    pub text: &'a str,
    pub integer: bool,
}

impl<'a> NumberToken<'a> {
    /// The integer's sign and magnitude, or `None` when it is not a plain integer or its magnitude
    /// exceeds `u64` (then `serde_json` reads it as a float).
    fn sign_and_magnitude(&self) -> Option<(bool, u64)> {
        if !self.integer {
            return None;
        }
        let (negative, digits) = match self.text.strip_prefix('-') {
            Some(digits) => (true, digits),
            None => (false, self.text),
        };
        let mut magnitude: u64 = 0;
        for digit in digits.bytes() {
            magnitude = magnitude
                .checked_mul(10)?
                .checked_add(u64::from(digit - b'0'))?;
        }
        Some((negative, magnitude))
    }

    /// The value as an `i32`, as `serde_json` reads an `i32` field: plain integers in range only
    /// (`-0` and anything with a fraction or exponent are floats there, and rejected).
    pub fn as_i32(&self) -> Option<i32> {
        let (negative, magnitude) = self.sign_and_magnitude()?;
        if negative {
            if magnitude == 0 {
                return None;
            }
            i32::try_from(-i64::try_from(magnitude).ok()?).ok()
        } else {
            i32::try_from(magnitude).ok()
        }
    }

    /// The text `serde_json` hands a scalar visitor for this number, turned back into text as
    /// Ferric did with `to_string`: a `u64` or negative `i64` keeps its written form; everything
    /// else (fraction, exponent, `-0`, out of integer range) is an `f64` in Rust's `Display` form.
    pub fn to_scalar_text(self, offset: usize) -> Result<Cow<'a, str>, JsonHeaderError> {
        if let Some((negative, magnitude)) = self.sign_and_magnitude() {
            // serde_json: `-n` is an `i64` unless it wraps to a non-negative value (`-0`, or a
            // magnitude above 2^63).
            let fits = !negative || (magnitude as i64).wrapping_neg() < 0;
            if fits {
                return Ok(Cow::Borrowed(self.text));
            }
        }
        // Rare: the same float parser as before, on the number alone.
        serde_json::from_str::<f64>(self.text)
            .map(|value| Cow::Owned(value.to_string()))
            .map_err(|_| JsonHeaderError {
                offset,
                reason: "number out of range",
            })
    }
}

/// Reads JSON from a byte slice, front to back.
#[derive(Debug)]
pub(crate) struct Scanner<'a> {
    bytes: &'a [u8],
    /// The whole input as text when it is valid UTF-8 (always, from real peers): strings and
    /// numbers are then sliced out of it without checking each one again.
    text: Option<&'a str>,
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            text: std::str::from_utf8(bytes).ok(),
            pos: 0,
        }
    }

    /// The text at `start..end`; `None` when it is not valid UTF-8. Callers cut at ASCII
    /// delimiters, which are always character boundaries of valid input.
    #[inline]
    fn text_at(&self, start: usize, end: usize) -> Option<&'a str> {
        match self.text {
            Some(text) => text.get(start..end),
            None => std::str::from_utf8(self.bytes.get(start..end)?).ok(),
        }
    }

    /// Current byte offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// An error at the current offset.
    pub fn error<T>(&self, reason: &'static str) -> Result<T, JsonHeaderError> {
        Err(JsonHeaderError {
            offset: self.pos,
            reason,
        })
    }

    /// Skips JSON whitespace and returns the next byte without consuming it.
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(&byte) = self.bytes.get(self.pos) {
            match byte {
                b' ' | b'\n' | b'\t' | b'\r' => self.pos += 1,
                _ => return Some(byte),
            }
        }
        None
    }

    /// Consumes one byte (the one [`Self::peek`] returned).
    #[inline]
    pub fn bump(&mut self) {
        self.pos += 1;
    }

    /// Expects `:` after optional whitespace.
    pub fn colon(&mut self) -> Result<(), JsonHeaderError> {
        match self.peek() {
            Some(b':') => {
                self.bump();
                Ok(())
            }
            Some(_) => self.error("expected `:`"),
            None => self.error("end of header while parsing an object"),
        }
    }

    /// After the first byte of `null`, `true` or `false`: the rest of the word.
    pub fn literal_rest(&mut self, rest: &[u8]) -> Result<(), JsonHeaderError> {
        if self.bytes[self.pos..].starts_with(rest) {
            self.pos += rest.len();
            return Ok(());
        }
        self.error("expected `null`, `true` or `false`")
    }

    /// After the opening quote: the string's content, borrowed when it has no escapes.
    #[inline]
    pub fn string(&mut self) -> Result<Cow<'a, str>, JsonHeaderError> {
        let start = self.pos;
        let (stop, quote) = self.string_run(start)?;
        let Some(text) = self.text_at(start, stop) else {
            return self.error("string is not valid UTF-8");
        };
        self.pos = stop + 1;
        if quote {
            return Ok(Cow::Borrowed(text));
        }
        let mut owned = String::with_capacity(stop - start + 16);
        owned.push_str(text);
        self.escape(&mut owned)?;
        self.string_into(&mut owned)?;
        Ok(Cow::Owned(owned))
    }

    /// The next byte, whitespace included, without consuming it.
    #[inline]
    pub fn current(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// When the input continues with `literal`, consumes it and returns true.
    #[inline]
    pub fn eat(&mut self, literal: &[u8]) -> bool {
        if self.bytes[self.pos..].starts_with(literal) {
            self.pos += literal.len();
            return true;
        }
        false
    }

    /// The input from `start` to its end, when the input is valid UTF-8.
    pub fn text_from(&self, start: usize) -> Option<&'a str> {
        self.text?.get(start..)
    }

    /// After the opening quote: the string's extent in the input when the input is valid UTF-8
    /// and the string has no escapes, else `None` with its content decoded onto `out`. Either
    /// way the string is consumed, and scanned once.
    #[inline]
    pub fn plain_string_or_append(
        &mut self,
        out: &mut String,
    ) -> Result<Option<(usize, usize)>, JsonHeaderError> {
        let start = self.pos;
        let (stop, quote) = self.string_run(start)?;
        if quote && self.text.is_some() {
            self.pos = stop + 1;
            return Ok(Some((start, stop)));
        }
        let Some(text) = self.text_at(start, stop) else {
            return self.error("string is not valid UTF-8");
        };
        out.push_str(text);
        self.pos = stop + 1;
        if !quote {
            self.escape(out)?;
            self.string_into(out)?;
        }
        Ok(None)
    }

    /// From the current position inside a string: the rest of its content appended to `out`
    /// (escapes decoded), so a caller collecting many strings into one buffer copies each once.
    pub fn string_into(&mut self, out: &mut String) -> Result<(), JsonHeaderError> {
        loop {
            let start = self.pos;
            let (stop, quote) = self.string_run(start)?;
            let Some(text) = self.text_at(start, stop) else {
                return self.error("string is not valid UTF-8");
            };
            out.push_str(text);
            self.pos = stop + 1;
            if quote {
                return Ok(());
            }
            self.escape(out)?;
        }
    }

    /// From `start` inside a string: the offset of the next quote or backslash and whether it is
    /// the closing quote; a raw control character before it is an error.
    #[inline]
    fn string_run(&mut self, start: usize) -> Result<(usize, bool), JsonHeaderError> {
        let rest = &self.bytes[start..];
        // One table lookup per byte: header strings are short, and runs between escapes shorter.
        match rest.iter().position(|&byte| STRING_STOP[usize::from(byte)]) {
            Some(stop) if rest[stop] >= 0x20 => Ok((start + stop, rest[stop] == b'"')),
            Some(stop) => {
                self.pos = start + stop;
                self.error("control character in string")
            }
            None => {
                self.pos = self.bytes.len();
                self.error("end of header while parsing a string")
            }
        }
    }

    /// After a backslash: one escape, decoded into `out`.
    fn escape(&mut self, out: &mut String) -> Result<(), JsonHeaderError> {
        let Some(&byte) = self.bytes.get(self.pos) else {
            return self.error("end of header while parsing a string");
        };
        self.pos += 1;
        let decoded = match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape()?,
            _ => return self.error("invalid escape"),
        };
        out.push(decoded);
        Ok(())
    }

    /// After `\u`: four hex digits, and a second `\uXXXX` when the first is a leading surrogate.
    fn unicode_escape(&mut self) -> Result<char, JsonHeaderError> {
        let first = self.hex4()?;
        let code = match first {
            0xDC00..=0xDFFF => return self.error("lone trailing surrogate in hex escape"),
            0xD800..=0xDBFF => {
                if !self.bytes[self.pos..].starts_with(b"\\u") {
                    return self.error("unexpected end of hex escape");
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return self.error("lone leading surrogate in hex escape");
                }
                (((u32::from(first) - 0xD800) << 10) | (u32::from(second) - 0xDC00)) + 0x1_0000
            }
            other => u32::from(other),
        };
        match char::from_u32(code) {
            Some(decoded) => Ok(decoded),
            None => self.error("invalid code point"),
        }
    }

    fn hex4(&mut self) -> Result<u16, JsonHeaderError> {
        let Some(digits) = self.bytes.get(self.pos..self.pos + 4) else {
            self.pos = self.bytes.len();
            return self.error("end of header while parsing a string");
        };
        let mut value: u16 = 0;
        for &digit in digits {
            let nibble = match digit {
                b'0'..=b'9' => digit - b'0',
                b'a'..=b'f' => digit - b'a' + 10,
                b'A'..=b'F' => digit - b'A' + 10,
                _ => return self.error("invalid escape"),
            };
            value = (value << 4) | u16::from(nibble);
        }
        self.pos += 4;
        Ok(value)
    }

    #[cold]
    fn unterminated<T>(&mut self, rest: &[u8]) -> Result<T, JsonHeaderError> {
        if has_control(rest) {
            return self.control_character(rest);
        }
        self.pos = self.bytes.len();
        self.error("end of header while parsing a string")
    }

    #[cold]
    fn control_character<T>(&mut self, raw: &[u8]) -> Result<T, JsonHeaderError> {
        self.pos += raw.iter().position(|&byte| byte < 0x20).unwrap_or(0);
        self.error("control character in string")
    }

    /// After the opening quote: skips a string, checking escapes for syntax only.
    fn skip_string(&mut self) -> Result<(), JsonHeaderError> {
        loop {
            let rest = &self.bytes[self.pos..];
            let Some(stop) = memchr::memchr2(b'"', b'\\', rest) else {
                return self.unterminated(rest);
            };
            if has_control(&rest[..stop]) {
                return self.control_character(&rest[..stop]);
            }
            self.pos += stop + 1;
            if rest[stop] == b'"' {
                return Ok(());
            }
            let Some(&byte) = self.bytes.get(self.pos) else {
                return self.error("end of header while parsing a string");
            };
            self.pos += 1;
            match byte {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                b'u' => {
                    self.hex4()?;
                }
                _ => return self.error("invalid escape"),
            }
        }
    }

    /// At `-` or a digit: one number token, checked against the JSON grammar.
    pub fn number(&mut self) -> Result<NumberToken<'a>, JsonHeaderError> {
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => {
                self.pos += 1;
                if self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    return self.error("invalid number");
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return self.error("invalid number"),
        }
        let mut integer = true;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            integer = false;
            if !self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
                return self.error("invalid number");
            }
            self.digits();
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            integer = false;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
                return self.error("invalid number");
            }
            self.digits();
        }
        let Some(text) = self.text_at(start, self.pos) else {
            return self.error("invalid number");
        };
        Ok(NumberToken { text, integer })
    }

    fn digits(&mut self) {
        while self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
    }

    /// Skips one value of any type, checking its syntax.
    pub fn skip_value(&mut self) -> Result<(), JsonHeaderError> {
        // Open containers, innermost last: `[` or `{`.
        let mut open: Vec<u8> = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return self.error("end of header while parsing a value");
            };
            self.bump();
            match byte {
                b'n' => self.literal_rest(b"ull")?,
                b't' => self.literal_rest(b"rue")?,
                b'f' => self.literal_rest(b"alse")?,
                b'"' => self.skip_string()?,
                b'-' | b'0'..=b'9' => {
                    self.pos -= 1;
                    self.number()?;
                }
                b'[' | b'{' => {
                    let close = if byte == b'[' { b']' } else { b'}' };
                    if self.peek() == Some(close) {
                        self.bump();
                    } else {
                        open.push(byte);
                        if byte == b'{' {
                            self.skip_member_key()?;
                        }
                        continue;
                    }
                }
                _ => {
                    self.pos -= 1;
                    return self.error("expected a value");
                }
            }
            // A value is complete: close what it completes, or move to the next element.
            loop {
                let Some(&container) = open.last() else {
                    return Ok(());
                };
                match self.peek() {
                    Some(b',') => {
                        self.bump();
                        if container == b'{' {
                            self.skip_member_key()?;
                        }
                        break;
                    }
                    Some(b']') if container == b'[' => {
                        self.bump();
                        open.pop();
                    }
                    Some(b'}') if container == b'{' => {
                        self.bump();
                        open.pop();
                    }
                    Some(_) => return self.error("expected `,` or the end of a container"),
                    None => return self.error("end of header while parsing a container"),
                }
            }
        }
    }

    /// Inside a skipped object: a key and its colon.
    fn skip_member_key(&mut self) -> Result<(), JsonHeaderError> {
        match self.peek() {
            Some(b'"') => self.bump(),
            Some(_) => return self.error("key must be a string"),
            None => return self.error("end of header while parsing an object"),
        }
        self.skip_string()?;
        self.colon()
    }
}

/// Bytes that end a run of plain string content: the quote, the backslash and the control
/// characters (which JSON forbids raw).
const STRING_STOP: [bool; 256] = crate::json_text::quote_backslash_and_controls();

/// True when `bytes` holds a byte below 0x20, which JSON strings may not contain raw.
#[inline]
fn has_control(bytes: &[u8]) -> bool {
    // Branch-free over the whole slice so the loop vectorizes; strings are short.
    bytes
        .iter()
        .fold(false, |found, &byte| found | (byte < 0x20))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_string(text: &[u8]) -> Result<String, JsonHeaderError> {
        let mut scanner = Scanner::new(text);
        assert_eq!(scanner.peek(), Some(b'"'));
        scanner.bump();
        scanner.string().map(Cow::into_owned)
    }

    #[test]
    fn strings_borrow_when_plain_and_decode_escapes() {
        let mut scanner = Scanner::new(b"\"plain\"");
        scanner.bump();
        assert!(matches!(scanner.string(), Ok(Cow::Borrowed("plain"))));
        assert_eq!(
            read_string(b"\"a\\u0001b\\n\\\"\\/\\uD83D\\uDE00\"").ok(),
            Some("a\u{1}b\n\"/\u{1F600}".to_owned())
        );
        assert!(read_string(b"\"\\uDE00\"").is_err());
        assert!(read_string(b"\"\\uD83Dx\"").is_err());
        assert!(read_string(b"\"\\uD83D\\u0041\"").is_err());
        assert!(read_string(b"\"a\x01\"").is_err());
        assert!(read_string(b"\"\xff\"").is_err());
        assert!(read_string(b"\"\\x\"").is_err());
        assert!(read_string(b"\"abc").is_err());
        assert!(read_string(b"\"\\u12\"").is_err());
    }

    #[test]
    fn numbers_follow_the_grammar() {
        for good in ["0", "-0", "12", "-3.5", "1e5", "1E+5", "2.5e-3"] {
            let mut scanner = Scanner::new(good.as_bytes());
            assert_eq!(scanner.number().map(|token| token.text), Ok(good), "{good}");
        }
        for bad in ["01", "-", "1.", ".5", "1e", "1e+", "+1", "-a"] {
            let mut scanner = Scanner::new(bad.as_bytes());
            let token = scanner.number();
            let whole = token.is_ok_and(|token| token.text == bad);
            assert!(!whole, "{bad}");
        }
    }

    #[test]
    fn scalar_text_matches_serde_json_visitors() {
        for (input, text) in [
            ("0", "0"),
            ("-7", "-7"),
            ("-0", "-0"),
            ("1.0", "1"),
            ("1e5", "100000"),
            ("-1.5e-3", "-0.0015"),
            ("18446744073709551615", "18446744073709551615"),
            ("18446744073709551616", "18446744073709552000"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("-9223372036854775809", "-9223372036854776000"),
        ] {
            let mut scanner = Scanner::new(input.as_bytes());
            let token = scanner.number();
            assert_eq!(
                token.and_then(|token| token.to_scalar_text(0)).as_deref(),
                Ok(text),
                "{input}"
            );
        }
        let mut scanner = Scanner::new(b"1e400");
        assert!(scanner.number().and_then(|t| t.to_scalar_text(0)).is_err());
    }

    #[test]
    fn skipping_checks_syntax_and_nests_without_limit() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        for good in [
            "null",
            "[]",
            "{}",
            "[1,{\"a\":[true,false,null]},\"\\uDE00\"]",
            " { \"k\" : 1e999 } ",
            deep.as_str(),
        ] {
            let mut scanner = Scanner::new(good.as_bytes());
            assert_eq!(scanner.skip_value(), Ok(()), "{good}");
        }
        for bad in [
            "[1,]",
            "{\"a\":1,}",
            "{1:2}",
            "[",
            "nul",
            "[1 2]",
            "{\"a\"}",
            "\"\\q\"",
        ] {
            let mut scanner = Scanner::new(bad.as_bytes());
            assert!(scanner.skip_value().is_err(), "{bad}");
        }
    }
}
