//! Writing JSON string literals the way fastjson does.
//!
//! fastjson escapes `"` and `\`, writes `\b \t \n \f \r` in their short form, and writes every other
//! character in `U+0000..=U+001F` and `U+007F..=U+009F` as `\u00XX` (upper-case hex). Everything else,
//! including `/` and non-ASCII text, is written as UTF-8.

use bytes::BufMut;

const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";

/// Bytes at which [`write_json_string`] must look closer: `"`, `\`, `U+0000..=U+001F`, `U+007F`,
/// and `0xC2`, the UTF-8 lead byte of `U+0080..=U+00BF` (which holds the C1 controls).
const NEEDS_ATTENTION: [bool; 256] = {
    let mut table = quote_backslash_and_controls();
    table[0x7F] = true;
    table[0xC2] = true;
    table
};

/// A byte table marking `"`, `\` and `U+0000..=U+001F`: what ends plain text inside a JSON
/// string, for reading and writing alike.
pub(crate) const fn quote_backslash_and_controls() -> [bool; 256] {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
}

/// Writes `text` as a double-quoted JSON string literal with fastjson's escaping.
///
/// One scan finds the first byte that may need escaping; text without one is copied whole.
#[inline]
pub fn write_json_string<B: BufMut + ?Sized>(out: &mut B, text: &str) {
    out.put_u8(b'"');
    let bytes = text.as_bytes();
    match first_needing_attention(bytes) {
        None => out.put_slice(bytes),
        Some(first) => write_escaped(out, bytes, first),
    }
    out.put_u8(b'"');
}

/// The index of the first byte of `bytes` in [`NEEDS_ATTENTION`]. Eight bytes at a time while
/// they are plainly printable ASCII, then byte by byte through the table.
#[inline]
fn first_needing_attention(bytes: &[u8]) -> Option<usize> {
    let mut clean = 0;
    for chunk in bytes.chunks_exact(8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        if may_need_attention(u64::from_le_bytes(word)) {
            break;
        }
        clean += 8;
    }
    bytes[clean..]
        .iter()
        .position(|&byte| NEEDS_ATTENTION[usize::from(byte)])
        .map(|index| clean + index)
}

/// False only when none of the eight bytes of `word` is below 0x20, `"`, `\`, 0x7F or above:
/// such a word is copied as it is. (True may be a false alarm; the table decides then.)
#[inline]
fn may_need_attention(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    // A byte below `n` (n <= 0x80) leaves its high bit set in `(byte - n) & !byte`.
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let is_quote = quote.wrapping_sub(ONES) & !quote;
    let is_backslash = backslash.wrapping_sub(ONES) & !backslash;
    // 0x7F and above: the high bit of the byte, or of the byte plus one.
    let high = word | word.wrapping_add(ONES);
    (below_space | is_quote | is_backslash | high) & HIGH_BITS != 0
}

/// The escaping path of [`write_json_string`], from the first byte that may need it. `bytes` is
/// valid UTF-8, so `0xC2` is always followed by a continuation byte.
fn write_escaped<B: BufMut + ?Sized>(out: &mut B, bytes: &[u8], first: usize) {
    let mut clean_start = 0;
    let mut index = first;
    while let Some(&byte) = bytes.get(index) {
        if !NEEDS_ATTENTION[usize::from(byte)] {
            index += 1;
            continue;
        }
        let short: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0C => b"\\f",
            b'\r' => b"\\r",
            _ => b"",
        };
        let (code, width) = match byte {
            // U+0080..=U+009F are escaped; U+00A0..=U+00BF are written as they are.
            0xC2 => match bytes.get(index + 1) {
                Some(&next @ 0x80..=0x9F) => (next, 2),
                _ => {
                    index += 1;
                    continue;
                }
            },
            other => (other, 1),
        };
        out.put_slice(&bytes[clean_start..index]);
        if short.is_empty() {
            out.put_slice(b"\\u00");
            out.put_u8(HEX_DIGITS[usize::from(code >> 4)]);
            out.put_u8(HEX_DIGITS[usize::from(code & 0xf)]);
        } else {
            out.put_slice(short);
        }
        index += width;
        clean_start = index;
    }
    out.put_slice(&bytes[clean_start..]);
}

/// Writes a decimal integer.
pub fn write_json_i64<B: BufMut + ?Sized>(out: &mut B, value: i64) {
    let mut buffer = [0u8; 20];
    out.put_slice(format_i64_ascii(value, &mut buffer));
}

/// The decimal text of `value`, sign included, formatted into `buffer` (20 bytes hold
/// `i64::MIN`).
pub(crate) fn format_i64(value: i64, buffer: &mut [u8; 20]) -> &str {
    // Only ASCII digits and '-' are written.
    std::str::from_utf8(format_i64_ascii(value, buffer)).unwrap_or_default()
}

/// [`format_i64`] as bytes.
fn format_i64_ascii(value: i64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut position = buffer.len();
    let mut magnitude = value.unsigned_abs();
    loop {
        position -= 1;
        buffer[position] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if value < 0 {
        position -= 1;
        buffer[position] = b'-';
    }
    &buffer[position..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        write_json_string(&mut out, text);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn escapes_like_fastjson() {
        assert_eq!(escaped("plain/text"), "\"plain/text\"");
        assert_eq!(escaped("a\u{1}b\u{2}"), "\"a\\u0001b\\u0002\"");
        assert_eq!(
            escaped("q\"b\\n\n\t\r\u{8}\u{c}"),
            "\"q\\\"b\\\\n\\n\\t\\r\\b\\f\""
        );
        assert_eq!(
            escaped("\u{b}\u{1f}\u{7f}\u{9f}\u{a0}é"),
            "\"\\u000B\\u001F\\u007F\\u009F\u{a0}é\""
        );
    }

    #[test]
    fn word_check_never_misses_a_byte_the_table_flags() {
        for byte in 0..=255u8 {
            for position in 0..8 {
                for filler in [b'a', b'~', b' ', 0x7E] {
                    let mut word = [filler; 8];
                    word[position] = byte;
                    if NEEDS_ATTENTION[usize::from(byte)] {
                        assert!(
                            may_need_attention(u64::from_le_bytes(word)),
                            "{byte:#x} at {position}"
                        );
                    }
                }
            }
        }
        assert!(!may_need_attention(u64::from_le_bytes(*b"plain/Tx")));
        assert_eq!(first_needing_attention(b"0123456789abcdef\\x"), Some(16));
        assert_eq!(first_needing_attention(b"0123456789abcdefgh"), None);
    }

    /// The char-by-char rule the byte scan implements.
    fn escaped_by_chars(text: &str) -> String {
        let mut out = String::from("\"");
        for ch in text.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{8}' => out.push_str("\\b"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\u{c}' => out.push_str("\\f"),
                '\r' => out.push_str("\\r"),
                '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => {
                    out.push_str(&format!("\\u{:04X}", ch as u32));
                }
                other => out.push(other),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn byte_scan_matches_the_char_rule() {
        let mut all = String::new();
        for code in (0u32..0x300).chain([0x4E2D, 0xFFFF, 0x1F600]) {
            if let Some(ch) = char::from_u32(code) {
                all.push(ch);
                let single = ch.to_string();
                assert_eq!(escaped(&single), escaped_by_chars(&single), "{code:#x}");
            }
        }
        assert_eq!(escaped(&all), escaped_by_chars(&all));
        let mixed = "KEYS\u{1}k1\u{2}UNIQ\u{1}é\u{85}\u{a0}\u{bf}\u{2}";
        assert_eq!(escaped(mixed), escaped_by_chars(mixed));
    }

    #[test]
    fn integers() {
        for value in [0i64, 7, -7, 1_795_307_700_000, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            write_json_i64(&mut out, value);
            assert_eq!(
                String::from_utf8(out).unwrap_or_default(),
                value.to_string()
            );
        }
    }
}
