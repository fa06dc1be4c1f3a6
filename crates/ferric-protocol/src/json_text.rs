//! Writing JSON string literals the way fastjson does.
//!
//! fastjson escapes `"` and `\`, writes `\b \t \n \f \r` in their short form, and writes every other
//! character in `U+0000..=U+001F` and `U+007F..=U+009F` as `\u00XX` (upper-case hex). Everything else,
//! including `/` and non-ASCII text, is written as UTF-8.

use bytes::BufMut;

const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";

fn needs_escape(ch: char) -> bool {
    matches!(ch, '"' | '\\' | '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
}

/// Writes `text` as a double-quoted JSON string literal with fastjson's escaping.
pub fn write_json_string<B: BufMut + ?Sized>(out: &mut B, text: &str) {
    out.put_u8(b'"');
    let mut clean_start = 0;
    for (index, ch) in text.char_indices() {
        if !needs_escape(ch) {
            continue;
        }
        out.put_slice(&text.as_bytes()[clean_start..index]);
        clean_start = index + ch.len_utf8();
        match ch {
            '"' => out.put_slice(b"\\\""),
            '\\' => out.put_slice(b"\\\\"),
            '\u{8}' => out.put_slice(b"\\b"),
            '\t' => out.put_slice(b"\\t"),
            '\n' => out.put_slice(b"\\n"),
            '\u{c}' => out.put_slice(b"\\f"),
            '\r' => out.put_slice(b"\\r"),
            other => {
                let code = other as u32;
                out.put_slice(b"\\u00");
                out.put_u8(HEX_DIGITS[((code >> 4) & 0xf) as usize]);
                out.put_u8(HEX_DIGITS[(code & 0xf) as usize]);
            }
        }
    }
    out.put_slice(&text.as_bytes()[clean_start..]);
    out.put_u8(b'"');
}

/// Writes a decimal integer.
pub fn write_json_i64<B: BufMut + ?Sized>(out: &mut B, value: i64) {
    let mut digits = [0u8; 20];
    let mut position = digits.len();
    let negative = value < 0;
    let mut magnitude = value.unsigned_abs();
    loop {
        position -= 1;
        digits[position] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if negative {
        out.put_u8(b'-');
    }
    out.put_slice(&digits[position..]);
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
