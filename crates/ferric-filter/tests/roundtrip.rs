//! Property tests: printing a tree and parsing it back gives the same tree;
//! arbitrary input never panics; deep nesting is refused cleanly.

use ferric_filter::sql92::{CompareOp, Expression, Literal, StringOp, is_keyword, parse};
use ferric_filter::{FilterError, MAX_NESTING, Sql92Filter};
use proptest::prelude::*;

fn identifier() -> impl Strategy<Value = String> {
    "[A-Za-z_$][A-Za-z0-9_$]{0,8}".prop_filter("not a keyword", |name| !is_keyword(name))
}

fn property() -> impl Strategy<Value = Expression> {
    identifier().prop_map(Expression::Property)
}

fn text() -> impl Strategy<Value = String> {
    "[ -~é']{0,6}"
}

fn numeric_literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        (0..=i32::MAX).prop_map(Literal::Int),
        (i64::from(i32::MAX) + 1..=i64::MAX).prop_map(Literal::Long),
        (f64::from_bits(1)..f64::MAX).prop_map(Literal::Double),
        (0u32..1_000_000).prop_map(|v| Literal::Double(f64::from(v) / 64.0 + 1.0)),
    ]
}

/// Operands RocketMQ accepts beside `>`, `<`, `BETWEEN`: numbers, properties
/// and negations.
fn orderable() -> impl Strategy<Value = Expression> {
    let leaf = prop_oneof![property(), numeric_literal().prop_map(Expression::Literal)];
    leaf.prop_recursive(2, 4, 1, |inner| {
        inner.prop_map(|e| Expression::Negate(Box::new(e)))
    })
}

/// Right-hand sides of `=` and `<>` next to a property.
fn equality_operand() -> impl Strategy<Value = Expression> {
    prop_oneof![
        property(),
        text().prop_map(|s| Expression::Literal(Literal::String(s))),
        numeric_literal().prop_map(Expression::Literal),
        any::<bool>().prop_map(|b| Expression::Literal(Literal::Bool(b))),
    ]
}

fn compare_op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
    ]
}

fn string_op() -> impl Strategy<Value = StringOp> {
    prop_oneof![
        Just(StringOp::Contains),
        Just(StringOp::StartsWith),
        Just(StringOp::EndsWith)
    ]
}

fn boxed(e: Expression) -> Box<Expression> {
    Box::new(e)
}

fn predicate() -> impl Strategy<Value = Expression> {
    prop_oneof![
        (compare_op(), orderable(), orderable()).prop_filter_map(
            "equality takes other operands",
            |(op, l, r)| {
                op.is_ordering().then(|| Expression::Compare {
                    op,
                    left: boxed(l),
                    right: boxed(r),
                })
            }
        ),
        (
            prop_oneof![Just(CompareOp::Eq), Just(CompareOp::Ne)],
            property(),
            equality_operand()
        )
            .prop_map(|(op, l, r)| Expression::Compare {
                op,
                left: boxed(l),
                right: boxed(r)
            }),
        (property(), any::<bool>()).prop_map(|(p, negated)| Expression::IsNull {
            operand: boxed(p),
            negated
        }),
        (property(), 0i32..100, 0i32..100, any::<bool>()).prop_map(|(p, a, b, negated)| {
            Expression::Between {
                operand: boxed(p),
                low: boxed(Expression::Literal(Literal::Int(a.min(b)))),
                high: boxed(Expression::Literal(Literal::Int(a.max(b)))),
                negated,
            }
        }),
        (property(), orderable(), orderable(), any::<bool>()).prop_filter_map(
            "literal bounds could be reversed",
            |(p, low, high, negated)| {
                let literals =
                    matches!(low, Expression::Literal(_)) && matches!(high, Expression::Literal(_));
                (!literals || negated).then(|| Expression::Between {
                    operand: boxed(p),
                    low: boxed(low),
                    high: boxed(high),
                    negated,
                })
            }
        ),
        (
            identifier(),
            prop::collection::vec(text(), 1..4),
            any::<bool>()
        )
            .prop_map(|(property, values, negated)| Expression::In {
                property,
                values,
                negated
            }),
        (string_op(), property(), text(), any::<bool>()).prop_map(|(op, p, pattern, negated)| {
            Expression::StringMatch {
                op,
                operand: boxed(p),
                pattern,
                negated,
            }
        }),
        any::<bool>().prop_map(|b| Expression::Literal(Literal::Bool(b))),
        Just(Expression::Literal(Literal::Null)),
        property(),
    ]
}

fn selector() -> impl Strategy<Value = Expression> {
    predicate().prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expression::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expression::Or),
            inner.clone().prop_map(|e| Expression::Not(boxed(e))),
            (inner.clone(), any::<bool>())
                .prop_filter("NULL cannot be compared", |(e, _)| {
                    *e != Expression::Literal(Literal::Null)
                })
                .prop_map(|(e, b)| Expression::Compare {
                    op: CompareOp::Eq,
                    left: boxed(e),
                    right: boxed(Expression::Literal(Literal::Bool(b))),
                }),
            (inner, any::<bool>()).prop_map(|(e, negated)| Expression::IsNull {
                operand: boxed(e),
                negated
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_gives_the_same_tree(tree in selector()) {
        let printed = tree.to_string();
        let reparsed = parse(&printed);
        prop_assert_eq!(reparsed.as_ref(), Ok(&tree), "printed as {}", printed);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,64}") {
        if let Ok(filter) = Sql92Filter::compile(&text) {
            let _ = filter.evaluate(&[("a", "1"), ("b", "x"), ("TAGS", "TagA")][..]);
            let printed = filter.expression().to_string();
            let reparsed = parse(&printed);
            prop_assert_eq!(reparsed.as_ref(), Ok(filter.expression()));
        }
    }

    #[test]
    fn grammar_shaped_text_never_panics(
        parts in prop::collection::vec(
            prop_oneof![
                Just("a"), Just("b"), Just("TAGS"), Just("'x'"), Just("''"), Just("1"), Just("2.5"),
                Just("-"), Just("+"), Just("("), Just(")"), Just(","), Just("="), Just("<>"), Just(">"),
                Just(">="), Just("<"), Just("<="), Just("AND"), Just("OR"), Just("NOT"), Just("IS"),
                Just("NULL"), Just("TRUE"), Just("BETWEEN"), Just("IN"), Just("CONTAINS"),
                Just("STARTSWITH"), Just("ENDSWITH"), Just("--"), Just("\n"), Just("/*"), Just("*/"),
            ],
            0..24,
        )
    ) {
        let text = parts.join(" ");
        if let Ok(filter) = Sql92Filter::compile(&text) {
            let _ = filter.evaluate(&[("a", "1"), ("b", "x")][..]);
        }
    }

    #[test]
    fn deep_nesting_is_refused_cleanly(depth in (MAX_NESTING + 1)..2000usize, kind in 0..4u8) {
        let text = match kind {
            0 => format!("{}a = 1{}", "(".repeat(depth), ")".repeat(depth)),
            1 => format!("{}a", "NOT ".repeat(depth)),
            2 => format!("{}1 > a", "- ".repeat(depth)),
            _ => format!("a{}", " IS NULL".repeat(depth)),
        };
        let result = Sql92Filter::compile(&text);
        prop_assert!(matches!(result, Err(FilterError::TooDeep { .. })), "{:?}", result);
    }
}
