//! Grammar tests: precedence, parentheses, every operator and literal form,
//! RocketMQ's build-time checks, and errors with positions.

use ferric_filter::sql92::{CompareOp, Expression, Literal, StringOp, parse};
use ferric_filter::{FilterError, MAX_EXPRESSION_LEN, MAX_NESTING, Sql92Filter};

fn prop(name: &str) -> Box<Expression> {
    Box::new(Expression::Property(name.into()))
}

fn lit(literal: Literal) -> Box<Expression> {
    Box::new(Expression::Literal(literal))
}

fn cmp(op: CompareOp, left: Box<Expression>, right: Box<Expression>) -> Expression {
    Expression::Compare { op, left, right }
}

fn int(v: i32) -> Box<Expression> {
    lit(Literal::Int(v))
}

fn string(s: &str) -> Box<Expression> {
    lit(Literal::String(s.into()))
}

#[test]
fn the_fixture_selector() {
    let expr = parse("fxColor = 'red' AND fxNum > 1").unwrap();
    assert_eq!(
        expr,
        Expression::And(vec![
            cmp(CompareOp::Eq, prop("fxColor"), string("red")),
            cmp(CompareOp::Gt, prop("fxNum"), int(1)),
        ])
    );
}

#[test]
fn and_binds_tighter_than_or_and_chains_are_flat() {
    let expr = parse("a = 1 OR b = 2 AND c = 3 OR d = 4").unwrap();
    assert_eq!(
        expr,
        Expression::Or(vec![
            cmp(CompareOp::Eq, prop("a"), int(1)),
            Expression::And(vec![
                cmp(CompareOp::Eq, prop("b"), int(2)),
                cmp(CompareOp::Eq, prop("c"), int(3))
            ]),
            cmp(CompareOp::Eq, prop("d"), int(4)),
        ])
    );
}

#[test]
fn parentheses_override_precedence_and_leave_no_node() {
    let expr = parse("((a = 1 OR b = 2)) AND (c)").unwrap();
    assert_eq!(
        expr,
        Expression::And(vec![
            Expression::Or(vec![
                cmp(CompareOp::Eq, prop("a"), int(1)),
                cmp(CompareOp::Eq, prop("b"), int(2))
            ]),
            Expression::Property("c".into()),
        ])
    );
    // A parenthesised chain stays nested.
    let nested = parse("a AND (b AND c)").unwrap();
    assert_eq!(
        nested,
        Expression::And(vec![
            Expression::Property("a".into()),
            Expression::And(vec![
                Expression::Property("b".into()),
                Expression::Property("c".into())
            ]),
        ])
    );
}

#[test]
fn not_binds_tighter_than_comparison_like_rocketmq() {
    let expr = parse("NOT a = 'x'").unwrap();
    assert_eq!(
        expr,
        cmp(
            CompareOp::Eq,
            Box::new(Expression::Not(prop("a"))),
            string("x")
        )
    );
    let grouped = parse("NOT (a = 'x')").unwrap();
    assert_eq!(
        grouped,
        Expression::Not(Box::new(cmp(CompareOp::Eq, prop("a"), string("x"))))
    );
}

#[test]
fn every_comparison_operator() {
    for (text, op) in [
        ("=", CompareOp::Eq),
        ("<>", CompareOp::Ne),
        (">", CompareOp::Gt),
        (">=", CompareOp::Ge),
        ("<", CompareOp::Lt),
        ("<=", CompareOp::Le),
    ] {
        let expr = parse(&format!("a {text} 5")).unwrap();
        assert_eq!(expr, cmp(op, prop("a"), int(5)), "operator {text}");
    }
}

#[test]
fn between_in_null_and_string_operators() {
    assert_eq!(
        parse("a NOT BETWEEN -1 AND 2.5").unwrap(),
        Expression::Between {
            operand: prop("a"),
            low: Box::new(Expression::Negate(int(1))),
            high: lit(Literal::Double(2.5)),
            negated: true,
        }
    );
    assert_eq!(
        parse("a between 1 and 2").unwrap(),
        Expression::Between {
            operand: prop("a"),
            low: int(1),
            high: int(2),
            negated: false
        }
    );
    assert_eq!(
        parse("TAGS IN ('TagA', 'it''s')").unwrap(),
        Expression::In {
            property: "TAGS".into(),
            values: vec!["TagA".into(), "it's".into()],
            negated: false
        }
    );
    assert_eq!(
        parse("TAGS not in ('x')").unwrap(),
        Expression::In {
            property: "TAGS".into(),
            values: vec!["x".into()],
            negated: true
        }
    );
    assert_eq!(
        parse("a IS NULL").unwrap(),
        Expression::IsNull {
            operand: prop("a"),
            negated: false
        }
    );
    assert_eq!(
        parse("a is not null").unwrap(),
        Expression::IsNull {
            operand: prop("a"),
            negated: true
        }
    );
    for (keyword, op) in [
        ("CONTAINS", StringOp::Contains),
        ("STARTSWITH", StringOp::StartsWith),
        ("EndsWith", StringOp::EndsWith),
    ] {
        for negated in [false, true] {
            let not = if negated { "NOT " } else { "" };
            assert_eq!(
                parse(&format!("a {not}{keyword} 'x'")).unwrap(),
                Expression::StringMatch {
                    op,
                    operand: prop("a"),
                    pattern: "x".into(),
                    negated
                }
            );
        }
    }
}

#[test]
fn literal_forms() {
    let value = |text: &str| match parse(&format!("a = {text}")).unwrap() {
        Expression::Compare { right, .. } => *right,
        other => panic!("unexpected tree {other:?}"),
    };
    assert_eq!(value("0"), Expression::Literal(Literal::Int(0)));
    assert_eq!(
        value("2147483647"),
        Expression::Literal(Literal::Int(i32::MAX))
    );
    assert_eq!(
        value("2147483648"),
        Expression::Literal(Literal::Long(2147483648))
    );
    assert_eq!(value("12L"), Expression::Literal(Literal::Int(12)));
    assert_eq!(
        value("9223372036854775807l"),
        Expression::Literal(Literal::Long(i64::MAX))
    );
    assert_eq!(value("1.5"), Expression::Literal(Literal::Double(1.5)));
    assert_eq!(value("5."), Expression::Literal(Literal::Double(5.0)));
    assert_eq!(value(".25"), Expression::Literal(Literal::Double(0.25)));
    assert_eq!(value("5E3"), Expression::Literal(Literal::Double(5000.0)));
    assert_eq!(value("2.5e-1"), Expression::Literal(Literal::Double(0.25)));
    assert_eq!(value("TRUE"), Expression::Literal(Literal::Bool(true)));
    assert_eq!(value("false"), Expression::Literal(Literal::Bool(false)));
    assert_eq!(
        value("''''"),
        Expression::Literal(Literal::String("'".into()))
    );
    assert_eq!(value("+7"), Expression::Literal(Literal::Int(7)));
    assert_eq!(value("-7"), Expression::Negate(int(7)));
    assert_eq!(parse("NULL").unwrap(), Expression::Literal(Literal::Null));
}

#[test]
fn comments_and_whitespace() {
    let expr = parse("/* color */ fxColor\t=\r\n'red' -- trailing\n").unwrap();
    assert_eq!(expr, cmp(CompareOp::Eq, prop("fxColor"), string("red")));
}

fn error_at(text: &str) -> (String, usize) {
    let error = Sql92Filter::compile(text).unwrap_err();
    let kind = match &error {
        FilterError::Lexical { .. } => "lexical",
        FilterError::Syntax { .. } => "syntax",
        FilterError::Semantic { .. } => "semantic",
        FilterError::TooDeep { .. } => "too deep",
        other => panic!("unexpected error {other:?} for {text:?}"),
    };
    (kind.to_owned(), error.position().unwrap())
}

#[test]
fn malformed_input_reports_kind_and_position() {
    let cases: &[(&str, &str, usize)] = &[
        ("", "syntax", 0),
        ("   ", "syntax", 3),
        ("a = ", "syntax", 4),
        ("a = 'red", "lexical", 4),
        ("a == 1", "syntax", 3),
        ("a != 1", "lexical", 2),
        ("(a = 1", "syntax", 6),
        ("a = 1)", "syntax", 5),
        ("a IS 1", "syntax", 5),
        ("a IS NOT 1", "syntax", 9),
        ("a BETWEEN 1 2", "syntax", 12),
        ("a IN 'x'", "syntax", 5),
        ("a IN ()", "syntax", 6),
        ("a IN ('x' 'y')", "syntax", 10),
        ("a IN (1)", "syntax", 6),
        ("a CONTAINS b", "syntax", 11),
        ("a = 007", "syntax", 5),
        ("a = 1 -- no line break", "syntax", 6),
        ("a # b", "lexical", 2),
        ("a = 1 b = 2", "syntax", 6),
        ("in = 1", "syntax", 0),
        // RocketMQ's build-time checks.
        ("'x'", "semantic", 0),
        ("a = 1 AND 5", "semantic", 10),
        ("NOT 5", "semantic", 4),
        ("-a", "semantic", 0),
        ("a > 'x'", "semantic", 4),
        ("TRUE < a", "semantic", 0),
        ("(a = 1) > 2", "semantic", 0),
        ("a = NULL", "semantic", 4),
        ("NULL <> a", "semantic", 0),
        ("TRUE = 1", "semantic", 0),
        ("'a' IN ('a')", "semantic", 4),
        ("a BETWEEN 5 AND 1", "semantic", 10),
        ("a BETWEEN NULL AND 1", "semantic", 10),
        ("a BETWEEN 'a' AND 'b'", "semantic", 10),
        ("a = 9223372036854775808", "semantic", 4),
        ("a = 0.0", "semantic", 4),
        ("a = 1e400", "semantic", 4),
        ("a > 1 > 2", "semantic", 0),
    ];
    for (text, kind, position) in cases {
        assert_eq!(
            error_at(text),
            ((*kind).to_owned(), *position),
            "input {text:?}"
        );
    }
}

#[test]
fn accepted_oddities_of_the_java_grammar() {
    for text in [
        "a",
        "TRUE",
        "NULL",
        "NOT NULL",
        "1 = TRUE",
        "(a = 'x') = TRUE",
        "a = b = c",
        "a IS NULL IS NULL",
        "a NOT BETWEEN 5 AND 1",
        "a BETWEEN -5 AND -9",
        "-(a = 1) > 1",
        "1 = 'x'",
    ] {
        assert!(parse(text).is_ok(), "{text:?} should parse");
    }
}

#[test]
fn limits_are_enforced_cleanly() {
    let long = format!("a = '{}'", "x".repeat(MAX_EXPRESSION_LEN));
    assert!(matches!(
        Sql92Filter::compile(&long),
        Err(FilterError::TooLong { .. })
    ));

    let deep_parens = format!(
        "{}a{}",
        "(".repeat(MAX_NESTING + 1),
        ")".repeat(MAX_NESTING + 1)
    );
    assert!(matches!(
        Sql92Filter::compile(&deep_parens),
        Err(FilterError::TooDeep { .. })
    ));
    let ok_parens = format!(
        "{}a{}",
        "(".repeat(MAX_NESTING - 1),
        ")".repeat(MAX_NESTING - 1)
    );
    assert!(Sql92Filter::compile(&ok_parens).is_ok());

    let deep_not = format!("{}a", "NOT ".repeat(MAX_NESTING + 1));
    assert!(matches!(
        Sql92Filter::compile(&deep_not),
        Err(FilterError::TooDeep { .. })
    ));

    let deep_chain = format!("a{}", " = TRUE".repeat(MAX_NESTING + 1));
    assert!(matches!(
        Sql92Filter::compile(&deep_chain),
        Err(FilterError::TooDeep { .. })
    ));

    // Flat AND/OR chains are not nesting.
    let wide = vec!["a = 1"; 1500].join(" OR ");
    assert!(Sql92Filter::compile(&wide).is_ok());

    // Far deeper than the limit, within the length limit: still a clean error.
    let very_deep = "(".repeat(MAX_EXPRESSION_LEN);
    assert!(matches!(
        Sql92Filter::compile(&very_deep),
        Err(FilterError::TooDeep { .. })
    ));
}

#[test]
fn printer_output_reparses() {
    for text in [
        "fxColor = 'red' AND fxNum > 1",
        "NOT a = 'x'",
        "a NOT IN ('it''s', 'b') OR b IS NOT NULL AND (c OR d)",
        "a BETWEEN -1 AND 2.5E10 AND -(-x) < 3",
        "s NOT STARTSWITH 'pre' OR s ENDSWITH 'post'",
    ] {
        let tree = parse(text).unwrap();
        let printed = tree.to_string();
        assert_eq!(
            parse(&printed).unwrap(),
            tree,
            "{text:?} printed as {printed:?}"
        );
    }
    assert_eq!(
        parse("a = 'x' AND NOT b").unwrap().to_string(),
        "(a = 'x') AND (NOT b)"
    );
}

/// Found by the `sql92_parse` fuzz target: a tree near the depth limit whose
/// printed form needs a parenthesis and a minus sign per level.
#[test]
fn printed_form_of_a_deep_tree_is_accepted() {
    let text = format!(
        "a{}",
        " = -(b = 1)".repeat(ferric_filter::MAX_TREE_DEPTH / 2 - 1)
    );
    let tree = parse(&text).unwrap();
    let printed = tree.to_string();
    assert_eq!(parse(&printed).unwrap(), tree, "printed as {printed}");

    let fuzz_input = "S=GA2II0=0=G=sSsGssA2II0=0=ssS=ssGS=-------GA2II0=0=ssSs=--AsS=----S=-------GA2II0=0=0=ssS4=--AsS=-sGS=-------GA2II0=0=ssSs=--AsS=----S=-------GA2II0=0=0=ssS4=--AsS=-------GI0=0=ssSsGS=-------GA2II0=0=ssSs=--AsS=-------GA2II0=--------GI0=0=ssSsGS=-------GA2II0=0=ssSs=--AsS=-------GA2II0=---GI0=0=ssS=ssGS=-------GA2II0=0=ssSs=--AsS=-------GA2II0=0=ssSs=--AsGAA2II0=0=ssSs=--AsGA";
    let tree = parse(fuzz_input).unwrap();
    let printed = tree.to_string();
    assert_eq!(parse(&printed).unwrap(), tree, "printed as {printed}");
}

#[test]
fn deepest_accepted_parentheses_fit_the_stack_of_a_test_thread() {
    let text = format!(
        "{}a = 1{}",
        "(".repeat(MAX_NESTING),
        ")".repeat(MAX_NESTING)
    );
    assert!(Sql92Filter::compile(&text).is_ok());
    let prefixes = format!("{}a = 1", "+ ".repeat(MAX_NESTING - 1));
    assert!(Sql92Filter::compile(&prefixes).is_ok());
}
