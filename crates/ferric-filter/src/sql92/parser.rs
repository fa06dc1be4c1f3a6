//! Recursive-descent parser following the productions of RocketMQ's
//! `SelectorParser.jj`, lowest precedence first:
//!
//! ```text
//! or         := and ( OR and )*
//! and        := equality ( AND equality )*
//! equality   := comparison ( '=' comparison | '<>' comparison
//!                          | IS NULL | IS NOT NULL )*
//! comparison := unary ( ('>'|'>='|'<'|'<=') unary
//!                     | [NOT] (CONTAINS|STARTSWITH|ENDSWITH) string
//!                     | [NOT] BETWEEN unary AND unary
//!                     | [NOT] IN '(' string (',' string)* ')' )*
//! unary      := '+' unary | '-' unary | NOT unary | primary
//! primary    := literal | identifier | '(' or ')'
//! ```
//!
//! The checks RocketMQ makes while building its tree are made here too and
//! reported as [`FilterError::Semantic`] with the operand's position.

use super::ast::{CompareOp, Expression, Literal, StringOp};
use super::checks::{
    check_between_bounds, check_equality_operands, decimal_literal, float_literal, require_boolean,
    require_orderable, semantic,
};
use super::lexer::{Keyword, Token, TokenKind, tokenize};
use crate::{FilterError, MAX_EXPRESSION_LEN, MAX_NESTING, MAX_TREE_DEPTH};

/// Parses a whole selector. The result is a boolean expression or a property.
pub fn parse(text: &str) -> Result<Expression, FilterError> {
    if text.len() > MAX_EXPRESSION_LEN {
        return Err(FilterError::TooLong {
            len: text.len(),
            max: MAX_EXPRESSION_LEN,
        });
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        index: 0,
        nesting: 0,
    };
    let node = parser.or_expression()?;
    let next = parser.peek();
    if next.kind != TokenKind::Eof {
        return Err(FilterError::Syntax {
            position: next.position,
            message: format!("unexpected {}", next.kind.describe()),
        });
    }
    require_boolean(&node)?;
    Ok(node.expr)
}

/// An expression with where it starts and how deep its tree is.
pub(super) struct Node {
    pub(super) expr: Expression,
    pub(super) start: usize,
    pub(super) depth: usize,
}

struct Parser {
    tokens: Vec<Token>,
    index: usize,
    nesting: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // `tokenize` always ends with Eof and `advance` never passes it.
        &self.tokens[self.index.min(self.tokens.len() - 1)]
    }

    fn peek_kind_at(&self, offset: usize) -> &TokenKind {
        &self.tokens[(self.index + offset).min(self.tokens.len() - 1)].kind
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::Eof {
            self.index += 1;
        }
        token
    }

    fn at_keyword(&self, keyword: Keyword) -> bool {
        self.peek().kind == TokenKind::Keyword(keyword)
    }

    fn expected(&self, what: &str) -> FilterError {
        let token = self.peek();
        FilterError::Syntax {
            position: token.position,
            message: format!("expected {what}, found {}", token.kind.describe()),
        }
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> Result<(), FilterError> {
        if self.peek().kind != kind {
            return Err(self.expected(what));
        }
        self.advance();
        Ok(())
    }

    fn node(&self, expr: Expression, start: usize, depth: usize) -> Result<Node, FilterError> {
        if depth > MAX_TREE_DEPTH {
            return Err(FilterError::TooDeep {
                position: start,
                max: MAX_TREE_DEPTH,
            });
        }
        Ok(Node { expr, start, depth })
    }

    fn enter(&mut self, position: usize) -> Result<(), FilterError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(FilterError::TooDeep {
                position,
                max: MAX_NESTING,
            });
        }
        Ok(())
    }

    fn logical_chain(&mut self, keyword: Keyword) -> Result<Node, FilterError> {
        let next = |parser: &mut Parser| match keyword {
            Keyword::Or => parser.and_expression(),
            _ => parser.equality_expression(),
        };
        let first = next(self)?;
        if !self.at_keyword(keyword) {
            return Ok(first);
        }
        require_boolean(&first)?;
        let start = first.start;
        let mut depth = first.depth;
        let mut operands = vec![first.expr];
        while self.at_keyword(keyword) {
            self.advance();
            let operand = next(self)?;
            require_boolean(&operand)?;
            depth = depth.max(operand.depth);
            operands.push(operand.expr);
        }
        let expr = match keyword {
            Keyword::Or => Expression::Or(operands),
            _ => Expression::And(operands),
        };
        self.node(expr, start, depth + 1)
    }

    fn or_expression(&mut self) -> Result<Node, FilterError> {
        self.logical_chain(Keyword::Or)
    }

    fn and_expression(&mut self) -> Result<Node, FilterError> {
        self.logical_chain(Keyword::And)
    }

    fn equality_expression(&mut self) -> Result<Node, FilterError> {
        let mut left = self.comparison_expression()?;
        loop {
            let (expr, depth) = match self.peek().kind {
                TokenKind::Eq | TokenKind::Ne => {
                    let op = if self.advance().kind == TokenKind::Eq {
                        CompareOp::Eq
                    } else {
                        CompareOp::Ne
                    };
                    let right = self.comparison_expression()?;
                    check_equality_operands(&left, &right)?;
                    let depth = left.depth.max(right.depth);
                    (
                        Expression::Compare {
                            op,
                            left: Box::new(left.expr),
                            right: Box::new(right.expr),
                        },
                        depth,
                    )
                }
                TokenKind::Keyword(Keyword::Is) => {
                    self.advance();
                    let negated = self.at_keyword(Keyword::Not);
                    if negated {
                        self.advance();
                    }
                    if !self.at_keyword(Keyword::Null) {
                        return Err(self.expected(if negated {
                            "NULL"
                        } else {
                            "NULL or NOT NULL"
                        }));
                    }
                    self.advance();
                    (
                        Expression::IsNull {
                            operand: Box::new(left.expr),
                            negated,
                        },
                        left.depth,
                    )
                }
                _ => return Ok(left),
            };
            left = self.node(expr, left.start, depth + 1)?;
        }
    }

    /// `NOT` followed by one of the keywords that take a `NOT` in the
    /// comparison loop (JavaCC `LOOKAHEAD(2)`).
    fn negated_comparison_ahead(&self) -> bool {
        self.at_keyword(Keyword::Not)
            && matches!(
                self.peek_kind_at(1),
                TokenKind::Keyword(
                    Keyword::Contains
                        | Keyword::StartsWith
                        | Keyword::EndsWith
                        | Keyword::Between
                        | Keyword::In
                )
            )
    }

    fn string_literal(&mut self) -> Result<String, FilterError> {
        if let TokenKind::Str(value) = &self.peek().kind {
            let value = value.clone();
            self.advance();
            return Ok(value);
        }
        Err(self.expected("a string literal"))
    }

    fn comparison_expression(&mut self) -> Result<Node, FilterError> {
        let mut left = self.unary_expression()?;
        loop {
            let negated = self.negated_comparison_ahead();
            if negated {
                self.advance();
            }
            let (expr, depth) = match self.peek().kind.clone() {
                TokenKind::Gt | TokenKind::Ge | TokenKind::Lt | TokenKind::Le if !negated => {
                    let op = match self.advance().kind {
                        TokenKind::Gt => CompareOp::Gt,
                        TokenKind::Ge => CompareOp::Ge,
                        TokenKind::Lt => CompareOp::Lt,
                        _ => CompareOp::Le,
                    };
                    let right = self.unary_expression()?;
                    require_orderable(&left)?;
                    require_orderable(&right)?;
                    let depth = left.depth.max(right.depth);
                    (
                        Expression::Compare {
                            op,
                            left: Box::new(left.expr),
                            right: Box::new(right.expr),
                        },
                        depth,
                    )
                }
                TokenKind::Keyword(
                    keyword @ (Keyword::Contains | Keyword::StartsWith | Keyword::EndsWith),
                ) => {
                    self.advance();
                    let op = match keyword {
                        Keyword::Contains => StringOp::Contains,
                        Keyword::StartsWith => StringOp::StartsWith,
                        _ => StringOp::EndsWith,
                    };
                    let pattern = self.string_literal()?;
                    (
                        Expression::StringMatch {
                            op,
                            operand: Box::new(left.expr),
                            pattern,
                            negated,
                        },
                        left.depth,
                    )
                }
                TokenKind::Keyword(Keyword::Between) => {
                    self.advance();
                    let low = self.unary_expression()?;
                    self.expect(TokenKind::Keyword(Keyword::And), "AND")?;
                    let high = self.unary_expression()?;
                    if !negated {
                        // Only `createBetween` compares literal bounds.
                        check_between_bounds(&low, &high)?;
                    }
                    for node in [&left, &low, &high] {
                        require_orderable(node)?;
                    }
                    let depth = left.depth.max(low.depth).max(high.depth);
                    let expr = Expression::Between {
                        operand: Box::new(left.expr),
                        low: Box::new(low.expr),
                        high: Box::new(high.expr),
                        negated,
                    };
                    (expr, depth)
                }
                TokenKind::Keyword(Keyword::In) => {
                    let in_position = self.advance().position;
                    self.expect(TokenKind::LParen, "`(`")?;
                    let mut values = vec![self.string_literal()?];
                    while self.peek().kind == TokenKind::Comma {
                        self.advance();
                        values.push(self.string_literal()?);
                    }
                    self.expect(TokenKind::RParen, "`,` or `)`")?;
                    let Expression::Property(property) = left.expr else {
                        return Err(semantic(
                            in_position,
                            format!("expected a property for IN, got: {}", left.expr),
                        ));
                    };
                    (
                        Expression::In {
                            property,
                            values,
                            negated,
                        },
                        left.depth,
                    )
                }
                _ => return Ok(left),
            };
            left = self.node(expr, left.start, depth + 1)?;
        }
    }

    fn unary_expression(&mut self) -> Result<Node, FilterError> {
        let token = self.peek().clone();
        let wrap = match token.kind {
            TokenKind::Plus => None,
            TokenKind::Minus => Some(false),
            TokenKind::Keyword(Keyword::Not) => Some(true),
            _ => return self.primary_expression(),
        };
        self.advance();
        self.enter(token.position)?;
        let inner = self.unary_expression()?;
        self.nesting -= 1;
        match wrap {
            None => Ok(Node {
                start: token.position,
                ..inner
            }),
            Some(false) => self.node(
                Expression::Negate(Box::new(inner.expr)),
                token.position,
                inner.depth + 1,
            ),
            Some(true) => {
                require_boolean(&inner)?;
                self.node(
                    Expression::Not(Box::new(inner.expr)),
                    token.position,
                    inner.depth + 1,
                )
            }
        }
    }

    fn primary_expression(&mut self) -> Result<Node, FilterError> {
        let token = self.peek().clone();
        let literal = match token.kind {
            TokenKind::Str(value) => Literal::String(value),
            TokenKind::Decimal(text) => decimal_literal(&text, token.position)?,
            TokenKind::Float(text) => float_literal(&text, token.position)?,
            TokenKind::Keyword(Keyword::True) => Literal::Bool(true),
            TokenKind::Keyword(Keyword::False) => Literal::Bool(false),
            TokenKind::Keyword(Keyword::Null) => Literal::Null,
            TokenKind::Ident(name) => {
                self.advance();
                return self.node(Expression::Property(name), token.position, 1);
            }
            TokenKind::LParen => {
                self.advance();
                self.enter(token.position)?;
                let inner = self.or_expression()?;
                self.expect(TokenKind::RParen, "`)`")?;
                self.nesting -= 1;
                return Ok(Node {
                    start: token.position,
                    ..inner
                });
            }
            _ => return Err(self.expected("an expression")),
        };
        self.advance();
        self.node(Expression::Literal(literal), token.position, 1)
    }
}
