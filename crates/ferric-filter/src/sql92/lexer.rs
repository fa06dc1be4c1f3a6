//! Tokens of RocketMQ's selector grammar (`SelectorParser.jj`).
//!
//! * Whitespace: space, tab, CR, LF, form feed.
//! * Comments: `-- ...` up to and including a line break (without a line break
//!   after it, `--` is two minus signs, as in the JavaCC grammar), and
//!   `/* ... */`.
//! * Keywords, case-insensitive: `NOT AND OR BETWEEN IN TRUE FALSE NULL IS
//!   CONTAINS STARTSWITH ENDSWITH`.
//! * Identifiers: `[A-Za-z_$][A-Za-z0-9_$]*`.
//! * Decimal literals: `0` or `[1-9][0-9]*` with an optional `L`/`l`; a leading
//!   zero is a literal of its own, so `007` is three tokens.
//! * Floating-point literals: `1.5`, `1.`, `.5`, each with an optional exponent
//!   `E[+-]digits`, or `digits E[+-]digits`.
//! * Strings: `'...'` with `''` for a quote; line breaks are allowed inside.
//! * Operators: `= <> > >= < <= ( ) , + -`.

use crate::FilterError;

/// Reserved words of the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    Not,
    And,
    Or,
    Between,
    In,
    True,
    False,
    Null,
    Is,
    Contains,
    StartsWith,
    EndsWith,
}

impl Keyword {
    fn lookup(word: &str) -> Option<Keyword> {
        const TABLE: [(&str, Keyword); 12] = [
            ("NOT", Keyword::Not),
            ("AND", Keyword::And),
            ("OR", Keyword::Or),
            ("BETWEEN", Keyword::Between),
            ("IN", Keyword::In),
            ("TRUE", Keyword::True),
            ("FALSE", Keyword::False),
            ("NULL", Keyword::Null),
            ("IS", Keyword::Is),
            ("CONTAINS", Keyword::Contains),
            ("STARTSWITH", Keyword::StartsWith),
            ("ENDSWITH", Keyword::EndsWith),
        ];
        TABLE
            .iter()
            .find(|(text, _)| text.eq_ignore_ascii_case(word))
            .map(|(_, keyword)| *keyword)
    }
}

/// Whether `word` is a reserved word (and so cannot name a property).
pub fn is_keyword(word: &str) -> bool {
    Keyword::lookup(word).is_some()
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    Keyword(Keyword),
    Ident(String),
    /// Decoded string literal.
    Str(String),
    /// Decimal literal text without its `L` suffix.
    Decimal(String),
    /// Floating-point literal text.
    Float(String),
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Eof,
}

impl TokenKind {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            TokenKind::Keyword(keyword) => {
                format!("keyword {}", format!("{keyword:?}").to_uppercase())
            }
            TokenKind::Ident(name) => format!("identifier `{name}`"),
            TokenKind::Str(_) => "string literal".to_owned(),
            TokenKind::Decimal(text) => format!("number `{text}`"),
            TokenKind::Float(text) => format!("number `{text}`"),
            TokenKind::Eq => "`=`".to_owned(),
            TokenKind::Ne => "`<>`".to_owned(),
            TokenKind::Gt => "`>`".to_owned(),
            TokenKind::Ge => "`>=`".to_owned(),
            TokenKind::Lt => "`<`".to_owned(),
            TokenKind::Le => "`<=`".to_owned(),
            TokenKind::LParen => "`(`".to_owned(),
            TokenKind::RParen => "`)`".to_owned(),
            TokenKind::Comma => "`,`".to_owned(),
            TokenKind::Plus => "`+`".to_owned(),
            TokenKind::Minus => "`-`".to_owned(),
            TokenKind::Eof => "end of expression".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// Byte offset of the token's first character.
    pub position: usize,
}

/// Splits `text` into tokens, ending with one [`TokenKind::Eof`].
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut lexer = Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

fn is_ident_part(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

impl Lexer<'_> {
    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn push(&mut self, kind: TokenKind, position: usize) {
        self.tokens.push(Token { kind, position });
    }

    fn run(&mut self) -> Result<(), FilterError> {
        while let Some(b) = self.peek_at(0) {
            let start = self.pos;
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c => self.pos += 1,
                b'-' if self.peek_at(1) == Some(b'-') && self.skip_line_comment() => {}
                b'/' if self.peek_at(1) == Some(b'*') => self.skip_block_comment()?,
                b'\'' => self.string_literal()?,
                b'0'..=b'9' => self.number(),
                b'.' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => self.number(),
                b if is_ident_start(b) => self.word(),
                _ => {
                    let (kind, len) = match (b, self.peek_at(1)) {
                        (b'<', Some(b'>')) => (TokenKind::Ne, 2),
                        (b'<', Some(b'=')) => (TokenKind::Le, 2),
                        (b'>', Some(b'=')) => (TokenKind::Ge, 2),
                        (b'<', _) => (TokenKind::Lt, 1),
                        (b'>', _) => (TokenKind::Gt, 1),
                        (b'=', _) => (TokenKind::Eq, 1),
                        (b'(', _) => (TokenKind::LParen, 1),
                        (b')', _) => (TokenKind::RParen, 1),
                        (b',', _) => (TokenKind::Comma, 1),
                        (b'+', _) => (TokenKind::Plus, 1),
                        (b'-', _) => (TokenKind::Minus, 1),
                        _ => return Err(self.unexpected_char(start)),
                    };
                    self.pos += len;
                    self.push(kind, start);
                }
            }
        }
        self.push(TokenKind::Eof, self.pos);
        Ok(())
    }

    fn unexpected_char(&self, start: usize) -> FilterError {
        let found = self.text[start..].chars().next().unwrap_or('\u{fffd}');
        FilterError::Lexical {
            position: start,
            message: format!("unexpected character {found:?}"),
        }
    }

    /// Skips `-- ...` through its line break; returns false (and consumes
    /// nothing) when no line break follows, so the dashes become minus signs.
    fn skip_line_comment(&mut self) -> bool {
        let rest = &self.bytes[self.pos + 2..];
        let Some(offset) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
            return false;
        };
        let mut end = self.pos + 2 + offset + 1;
        if self.bytes[end - 1] == b'\r' && self.bytes.get(end) == Some(&b'\n') {
            end += 1;
        }
        self.pos = end;
        true
    }

    fn skip_block_comment(&mut self) -> Result<(), FilterError> {
        let start = self.pos;
        let rest = &self.text[start + 2..];
        match rest.find("*/") {
            Some(offset) => {
                self.pos = start + 2 + offset + 2;
                Ok(())
            }
            None => Err(FilterError::Lexical {
                position: start,
                message: "unterminated block comment".to_owned(),
            }),
        }
    }

    fn string_literal(&mut self) -> Result<(), FilterError> {
        let start = self.pos;
        let mut value = String::new();
        let mut cursor = start + 1;
        loop {
            let rest = &self.text[cursor..];
            let Some(quote) = rest.find('\'') else {
                return Err(FilterError::Lexical {
                    position: start,
                    message: "unterminated string literal".to_owned(),
                });
            };
            value.push_str(&rest[..quote]);
            cursor += quote + 1;
            if self.bytes.get(cursor) == Some(&b'\'') {
                value.push('\'');
                cursor += 1;
            } else {
                break;
            }
        }
        self.pos = cursor;
        self.push(TokenKind::Str(value), start);
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let begin = self.pos;
        while self.peek_at(0).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - begin
    }

    /// Consumes `E[+-]digits` if it is there in full.
    fn exponent(&mut self) -> bool {
        if !matches!(self.peek_at(0), Some(b'e' | b'E')) {
            return false;
        }
        let sign = usize::from(matches!(self.peek_at(1), Some(b'+' | b'-')));
        if !self.peek_at(1 + sign).is_some_and(|b| b.is_ascii_digit()) {
            return false;
        }
        self.pos += 1 + sign;
        self.digits();
        true
    }

    fn number(&mut self) {
        let start = self.pos;
        let integer_digits = self.digits();
        let is_float = if self.peek_at(0) == Some(b'.') {
            self.pos += 1;
            self.digits();
            self.exponent();
            true
        } else {
            self.exponent()
        };
        if is_float {
            self.push(
                TokenKind::Float(self.text[start..self.pos].to_owned()),
                start,
            );
            return;
        }
        if integer_digits > 1 && self.bytes[start] == b'0' {
            // `0` is the only decimal literal that starts with a zero.
            self.pos = start + 1;
        } else if matches!(self.peek_at(0), Some(b'l' | b'L')) && self.bytes[start] != b'0' {
            let text = self.text[start..self.pos].to_owned();
            self.pos += 1;
            self.push(TokenKind::Decimal(text), start);
            return;
        }
        self.push(
            TokenKind::Decimal(self.text[start..self.pos].to_owned()),
            start,
        );
    }

    fn word(&mut self) {
        let start = self.pos;
        while self.peek_at(0).is_some_and(is_ident_part) {
            self.pos += 1;
        }
        let word = &self.text[start..self.pos];
        let kind = match Keyword::lookup(word) {
            Some(keyword) => TokenKind::Keyword(keyword),
            None => TokenKind::Ident(word.to_owned()),
        };
        self.push(kind, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn numbers_follow_the_javacc_token_rules() {
        use TokenKind::*;
        assert_eq!(
            kinds("007"),
            [
                Decimal("0".into()),
                Decimal("0".into()),
                Decimal("7".into()),
                Eof
            ]
        );
        assert_eq!(kinds("12L"), [Decimal("12".into()), Eof]);
        assert_eq!(kinds("0L"), [Decimal("0".into()), Ident("L".into()), Eof]);
        assert_eq!(
            kinds("5. .5 5e3 5.E-2 1e"),
            [
                Float("5.".into()),
                Float(".5".into()),
                Float("5e3".into()),
                Float("5.E-2".into()),
                Decimal("1".into()),
                Ident("e".into()),
                Eof
            ]
        );
    }

    #[test]
    fn comments_and_strings() {
        use TokenKind::*;
        assert_eq!(
            kinds("a -- note\n= /* x */ 'it''s'"),
            [Ident("a".into()), Eq, Str("it's".into()), Eof]
        );
        // Without a line break `--` is two minus signs.
        assert_eq!(kinds("--1"), [Minus, Minus, Decimal("1".into()), Eof]);
        assert_eq!(
            kinds("iN nOt x_1$"),
            [
                Keyword(super::Keyword::In),
                Keyword(super::Keyword::Not),
                Ident("x_1$".into()),
                Eof
            ]
        );
    }

    #[test]
    fn lexical_errors_have_positions() {
        assert_eq!(tokenize("a = 'open").unwrap_err().position(), Some(4));
        assert_eq!(tokenize("a /* open").unwrap_err().position(), Some(2));
        assert_eq!(tokenize("a != 1").unwrap_err().position(), Some(2));
        assert_eq!(tokenize("é").unwrap_err().position(), Some(0));
    }
}
