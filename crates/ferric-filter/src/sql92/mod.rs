//! RocketMQ's SQL92 message selector: lexer, parser, tree, printer and
//! evaluator. See [`Sql92Filter`].

mod ast;
mod checks;
mod eval;
mod lexer;
mod parser;
mod value;

pub use ast::{CompareOp, Expression, Literal, StringOp};
pub use lexer::is_keyword;
pub use parser::parse;

use crate::{EvalError, FilterError, PropertySource};

/// A compiled SQL92 selector such as `fxColor = 'red' AND fxNum > 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sql92Filter {
    source: String,
    expression: Expression,
}

impl Sql92Filter {
    /// Parses and checks `expression` the way RocketMQ's `SelectorParser`
    /// does. Input longer than [`crate::MAX_EXPRESSION_LEN`] or nested deeper
    /// than [`crate::MAX_NESTING`] / [`crate::MAX_TREE_DEPTH`] is refused.
    pub fn compile(expression: &str) -> Result<Self, FilterError> {
        let tree = parse(expression)?;
        Ok(Self {
            source: expression.to_owned(),
            expression: tree,
        })
    }

    /// The expression text this filter was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parsed tree.
    pub fn expression(&self) -> &Expression {
        &self.expression
    }

    /// Whether a message with these properties is delivered: true only when
    /// the selector evaluates to true. Unknown and evaluation errors (such as
    /// a property that does not convert to a number) mean "not matched", as
    /// on RocketMQ's broker.
    pub fn evaluate<P: PropertySource + ?Sized>(&self, properties: &P) -> bool {
        matches!(self.evaluate_detailed(properties), Ok(Some(true)))
    }

    /// The three-valued result (`None` = unknown), or why evaluation failed.
    pub fn evaluate_detailed<P: PropertySource + ?Sized>(
        &self,
        properties: &P,
    ) -> Result<Option<bool>, EvalError> {
        eval::evaluate_truth(&self.expression, properties)
    }
}
