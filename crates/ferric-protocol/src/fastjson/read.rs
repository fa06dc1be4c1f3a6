//! A tolerant JSON reader for what fastjson writes and accepts.
//!
//! Beyond standard JSON it accepts: unquoted numeric keys (`{0:"a"}`), objects and arrays in key
//! position (`{{"topic":"T"}:1}`), unquoted identifier keys, single-quoted strings, and a trailing
//! comma. Nesting is limited to [`MAX_DEPTH`] so hostile input cannot exhaust the stack.

use super::FastjsonError;

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 128;

/// A parsed fastjson value. Object keys may be any value; numbers keep their text.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<JsonValue>),
    /// An object; keys in input order.
    Object(Vec<(JsonValue, JsonValue)>),
}

impl JsonValue {
    /// Converts to a `serde_json::Value`: numeric keys become their text, object keys become
    /// their compact standard JSON text.
    pub fn to_serde(&self) -> Result<serde_json::Value, FastjsonError> {
        Ok(match self {
            Self::Null => serde_json::Value::Null,
            Self::Bool(value) => serde_json::Value::Bool(*value),
            Self::Number(text) => {
                serde_json::Value::Number(text.parse::<serde_json::Number>().map_err(|_| {
                    FastjsonError::Syntax {
                        offset: 0,
                        reason: "bad number",
                    }
                })?)
            }
            Self::String(text) => serde_json::Value::String(text.clone()),
            Self::Array(items) => serde_json::Value::Array(
                items.iter().map(Self::to_serde).collect::<Result<_, _>>()?,
            ),
            Self::Object(entries) => {
                let mut map = serde_json::Map::new();
                for (key, value) in entries {
                    map.insert(key.key_text()?, value.to_serde()?);
                }
                serde_json::Value::Object(map)
            }
        })
    }

    fn key_text(&self) -> Result<String, FastjsonError> {
        Ok(match self {
            Self::String(text) | Self::Number(text) => text.clone(),
            Self::Null => "null".to_owned(),
            Self::Bool(value) => value.to_string(),
            Self::Array(_) | Self::Object(_) => self.to_serde()?.to_string(),
        })
    }
}

/// Parses one fastjson document (surrounding whitespace allowed).
pub fn parse(input: &[u8]) -> Result<JsonValue, FastjsonError> {
    let mut parser = Parser { input, position: 0 };
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.position != input.len() {
        return Err(parser.error("trailing characters"));
    }
    Ok(value)
}

struct Parser<'a> {
    input: &'a [u8],
    position: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> FastjsonError {
        FastjsonError::Syntax {
            offset: self.position,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.position).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.position += 1;
        }
    }

    fn expect_literal(
        &mut self,
        literal: &[u8],
        value: JsonValue,
    ) -> Result<JsonValue, FastjsonError> {
        if self.input[self.position..].starts_with(literal) {
            self.position += literal.len();
            Ok(value)
        } else {
            Err(self.error("unknown literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<JsonValue, FastjsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("unexpected end")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(quote @ (b'"' | b'\'')) => self.string(quote).map(JsonValue::String),
            Some(b't') => self.expect_literal(b"true", JsonValue::Bool(true)),
            Some(b'f') => self.expect_literal(b"false", JsonValue::Bool(false)),
            Some(b'n') => self.expect_literal(b"null", JsonValue::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn number(&mut self) -> Result<JsonValue, FastjsonError> {
        let start = self.position;
        while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.peek() {
            self.position += 1;
        }
        let text = std::str::from_utf8(&self.input[start..self.position])
            .map_err(|_| self.error("bad number"))?;
        if text.parse::<f64>().is_err() {
            return Err(self.error("bad number"));
        }
        Ok(JsonValue::Number(text.to_owned()))
    }

    fn identifier(&mut self) -> Result<JsonValue, FastjsonError> {
        let start = self.position;
        while let Some(b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'$') = self.peek() {
            self.position += 1;
        }
        if start == self.position {
            return Err(self.error("expected a key"));
        }
        let text = String::from_utf8_lossy(&self.input[start..self.position]).into_owned();
        Ok(JsonValue::String(text))
    }

    fn key(&mut self, depth: usize) -> Result<JsonValue, FastjsonError> {
        match self.peek() {
            Some(b'{' | b'[' | b'"' | b'\'' | b'-' | b'0'..=b'9') => self.value(depth + 1),
            _ => self.identifier(),
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonValue, FastjsonError> {
        self.position += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_whitespace();
            if self.peek() == Some(b'}') {
                self.position += 1;
                return Ok(JsonValue::Object(entries));
            }
            let key = self.key(depth)?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':'"));
            }
            self.position += 1;
            let value = self.value(depth + 1)?;
            entries.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(b'}') => {}
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<JsonValue, FastjsonError> {
        self.position += 1;
        let mut items = Vec::new();
        loop {
            self.skip_whitespace();
            if self.peek() == Some(b']') {
                self.position += 1;
                return Ok(JsonValue::Array(items));
            }
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(b']') => {}
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, FastjsonError> {
        let digits = self
            .input
            .get(self.position..self.position + 4)
            .ok_or(self.error("short \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.error("bad \\u escape"))?;
        let value = u32::from_str_radix(text, 16).map_err(|_| self.error("bad \\u escape"))?;
        self.position += 4;
        Ok(value)
    }

    fn string(&mut self, quote: u8) -> Result<String, FastjsonError> {
        self.position += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("unterminated string"));
            };
            self.position += 1;
            if byte == quote {
                return String::from_utf8(out).map_err(|_| self.error("invalid UTF-8"));
            }
            if byte != b'\\' {
                out.push(byte);
                continue;
            }
            let Some(escape) = self.peek() else {
                return Err(self.error("unterminated escape"));
            };
            self.position += 1;
            let ch = match escape {
                b'"' => '"',
                b'\'' => '\'',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => self.unicode_escape()?,
                _ => return Err(self.error("unknown escape")),
            };
            let mut buffer = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buffer).as_bytes());
        }
    }

    fn unicode_escape(&mut self) -> Result<char, FastjsonError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.input[self.position..].starts_with(b"\\u") {
            let saved = self.position;
            self.position += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Ok(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            self.position = saved;
        }
        Ok(char::from_u32(first).unwrap_or('\u{FFFD}'))
    }
}
