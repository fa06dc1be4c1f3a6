//! The checks RocketMQ makes while it builds its expression tree
//! (`asBooleanExpression`, `checkLessThanOperand`, `checkEqualOperand`,
//! `createBetween`, `ConstantExpression.createFromDecimal`/`createFloat`).

use super::ast::{Expression, Literal};
use super::parser::Node;
use crate::FilterError;

pub(super) fn semantic(position: usize, message: impl Into<String>) -> FilterError {
    FilterError::Semantic {
        position,
        message: message.into(),
    }
}

/// RocketMQ's `asBooleanExpression`: boolean expressions and properties only.
pub(super) fn require_boolean(node: &Node) -> Result<(), FilterError> {
    if node.expr.is_boolean() || matches!(node.expr, Expression::Property(_)) {
        return Ok(());
    }
    Err(semantic(
        node.start,
        format!(
            "expression will not result in a boolean value: {}",
            node.expr
        ),
    ))
}

/// RocketMQ's `checkLessThanOperand`: only numbers, properties and negations.
pub(super) fn require_orderable(node: &Node) -> Result<(), FilterError> {
    let orderable = match &node.expr {
        Expression::Literal(literal) => {
            matches!(
                literal,
                Literal::Int(_) | Literal::Long(_) | Literal::Double(_)
            )
        }
        other => !other.is_boolean(),
    };
    if orderable {
        return Ok(());
    }
    Err(semantic(
        node.start,
        format!("value '{}' cannot be compared", node.expr),
    ))
}

/// RocketMQ's `checkEqualOperand` and `checkEqualOperandCompatability`.
pub(super) fn check_equality_operands(left: &Node, right: &Node) -> Result<(), FilterError> {
    for node in [left, right] {
        if node.expr == Expression::Literal(Literal::Null) {
            return Err(semantic(
                node.start,
                "'NULL' cannot be compared; use IS NULL",
            ));
        }
    }
    let bool_against_other_literal = matches!(
        (&left.expr, &right.expr),
        (Expression::Literal(Literal::Bool(_)), Expression::Literal(other)) if !matches!(other, Literal::Bool(_))
    );
    if bool_against_other_literal {
        return Err(semantic(
            left.start,
            format!("'{}' cannot be compared with '{}'", left.expr, right.expr),
        ));
    }
    Ok(())
}

fn numeric_literal(expr: &Expression) -> Option<f64> {
    match expr {
        Expression::Literal(Literal::Int(v)) => Some(f64::from(*v)),
        Expression::Literal(Literal::Long(v)) => Some(*v as f64),
        Expression::Literal(Literal::Double(v)) => Some(*v),
        _ => None,
    }
}

/// RocketMQ's `createBetween` check on two literal bounds.
pub(super) fn check_between_bounds(low: &Node, high: &Node) -> Result<(), FilterError> {
    let (Expression::Literal(low_literal), Expression::Literal(high_literal)) =
        (&low.expr, &high.expr)
    else {
        return Ok(());
    };
    if *low_literal == Literal::Null || *high_literal == Literal::Null {
        return Err(semantic(
            low.start,
            "illegal values of between, values can not be null",
        ));
    }
    if let (Some(l), Some(h)) = (numeric_literal(&low.expr), numeric_literal(&high.expr)) {
        let reversed = match (low_literal, high_literal) {
            (Literal::Int(_) | Literal::Long(_), Literal::Int(_) | Literal::Long(_)) => {
                as_i64(low_literal) > as_i64(high_literal)
            }
            _ => h < l,
        };
        if reversed {
            return Err(semantic(
                low.start,
                format!(
                    "illegal values of between, left value({low_literal}) must be less than or equal to right value({high_literal})"
                ),
            ));
        }
    }
    Ok(())
}

fn as_i64(literal: &Literal) -> i64 {
    match literal {
        Literal::Int(v) => i64::from(*v),
        Literal::Long(v) => *v,
        _ => 0,
    }
}

/// `ConstantExpression.createFromDecimal`: a Java `long`, narrowed to `int`
/// when it fits.
pub(super) fn decimal_literal(text: &str, position: usize) -> Result<Literal, FilterError> {
    let value: i64 = text.parse().map_err(|_| {
        semantic(
            position,
            format!("decimal literal {text} does not fit a 64-bit long"),
        )
    })?;
    Ok(match i32::try_from(value) {
        Ok(small) => Literal::Int(small),
        Err(_) => Literal::Long(value),
    })
}

/// `ConstantExpression.createFloat`: finite, and not below `Double.MIN_VALUE`
/// (the smallest positive double), which also refuses `0.0`.
pub(super) fn float_literal(text: &str, position: usize) -> Result<Literal, FilterError> {
    let value: f64 = text
        .parse()
        .map_err(|_| semantic(position, format!("invalid floating-point literal {text}")))?;
    if !value.is_finite() {
        return Err(semantic(
            position,
            format!("{text} is greater than Double.MAX_VALUE"),
        ));
    }
    if value < f64::from_bits(1) {
        return Err(semantic(
            position,
            format!("{text} is less than Double.MIN_VALUE"),
        ));
    }
    Ok(Literal::Double(value))
}
