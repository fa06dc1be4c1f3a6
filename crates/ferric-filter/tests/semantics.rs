//! Evaluation semantics, checked against RocketMQ's expression classes.

use std::collections::HashMap;

use ferric_filter::{
    EvalError, ExpressionType, FilterError, MessageFilter, PropertyFn, Sql92Filter,
};

fn eval(expression: &str, props: &[(&str, &str)]) -> Result<Option<bool>, EvalError> {
    Sql92Filter::compile(expression)
        .unwrap()
        .evaluate_detailed(props)
}

fn matches(expression: &str, props: &[(&str, &str)]) -> bool {
    Sql92Filter::compile(expression).unwrap().evaluate(props)
}

const RED_7: &[(&str, &str)] = &[("fxColor", "red"), ("fxNum", "7"), ("TAGS", "TagA")];

#[test]
fn fixture_selector() {
    let sql = "fxColor = 'red' AND fxNum > 1";
    assert!(matches(sql, RED_7));
    assert!(!matches(sql, &[("fxColor", "red"), ("fxNum", "1")]));
    assert!(!matches(sql, &[("fxColor", "blue"), ("fxNum", "7")]));
    assert_eq!(eval(sql, &[("fxColor", "red")]), Ok(None));
    assert_eq!(eval(sql, &[("fxNum", "7")]), Ok(None));
    assert_eq!(eval(sql, &[("fxColor", "blue")]), Ok(Some(false)));
}

#[test]
fn missing_properties_are_unknown() {
    let empty: &[(&str, &str)] = &[];
    assert_eq!(eval("a > 1", empty), Ok(None));
    assert_eq!(eval("NOT (a > 1)", empty), Ok(None));
    assert_eq!(eval("a = 'x'", empty), Ok(None));
    assert_eq!(eval("a <> 'x'", empty), Ok(None));
    // The right-hand side missing is false, not unknown (Java's doCreateEqual).
    assert_eq!(eval("'x' = a", empty), Ok(Some(false)));
    assert_eq!(eval("NOT ('x' = a)", empty), Ok(Some(true)));
    // Both sides missing compare equal.
    assert_eq!(eval("a = b", empty), Ok(Some(true)));
    assert_eq!(eval("a IN ('x')", empty), Ok(None));
    assert_eq!(eval("a NOT IN ('x')", empty), Ok(None));
    assert_eq!(eval("a BETWEEN 1 AND 2", empty), Ok(None));
    assert_eq!(eval("a IS NULL", empty), Ok(Some(true)));
    assert_eq!(eval("a IS NOT NULL", empty), Ok(Some(false)));
    assert_eq!(eval("a CONTAINS 'x'", empty), Ok(Some(false)));
    assert_eq!(eval("a NOT CONTAINS 'x'", empty), Ok(Some(false)));
    assert_eq!(eval("NOT (a NOT CONTAINS 'x')", empty), Ok(Some(true)));
    assert_eq!(eval("NULL", empty), Ok(None));
}

#[test]
fn three_valued_and_or_not() {
    let props = &[("t", "1")];
    assert_eq!(eval("t = 1 AND missing = 1", props), Ok(None));
    assert_eq!(eval("t = 2 AND missing = 1", props), Ok(Some(false)));
    assert_eq!(eval("missing = 1 AND t = 2", props), Ok(Some(false)));
    assert_eq!(eval("t = 1 OR missing = 1", props), Ok(Some(true)));
    assert_eq!(eval("missing = 1 OR t = 1", props), Ok(Some(true)));
    assert_eq!(eval("t = 2 OR missing = 1", props), Ok(None));
    assert_eq!(eval("NOT (t = 2)", props), Ok(Some(true)));
    assert_eq!(eval("TRUE AND NOT FALSE", props), Ok(Some(true)));
}

#[test]
fn numeric_conversions_follow_the_literal_type() {
    assert!(matches("n > 1", &[("n", "2")]));
    assert!(matches("n = 2", &[("n", "+2")]));
    // An Integer literal reads the property with Integer.valueOf.
    assert!(matches!(
        eval("n > 1", &[("n", "2.5")]),
        Err(EvalError::NotANumber { .. })
    ));
    assert!(matches!(
        eval("n > 1", &[("n", "3000000000")]),
        Err(EvalError::NotANumber { .. })
    ));
    // A Long literal reads it with Long.valueOf, a Double literal with Double.valueOf.
    assert!(matches("n < 3000000001", &[("n", "3000000000")]));
    assert!(matches("n > 1.0", &[("n", "2.5")]));
    assert!(matches("n >= 2.5", &[("n", " 2.5d ")]));
    // Two properties compare as doubles.
    assert!(matches("a < b", &[("a", "2"), ("b", "10")]));
    assert!(matches!(
        eval("a < b", &[("a", "x"), ("b", "10")]),
        Err(EvalError::NotANumber { .. })
    ));
    // Negation works on numbers only.
    assert!(matches("n = -5", &[("n", "-5")]));
    assert_eq!(eval("-n > 1", &[("n", "5")]), Ok(None));
    // Mixed literal types widen.
    assert!(matches("1 = 1.0", &[]));
    assert!(matches("2147483648 > 1", &[]));
}

#[test]
fn a_failed_conversion_aborts_the_whole_selector() {
    let props = &[("n", "abc"), ("c", "red")];
    assert!(eval("n = 1 OR c = 'red'", props).is_err());
    assert!(!matches("n = 1 OR c = 'red'", props));
    // Short-circuit before the bad comparison avoids it, as in Java.
    assert!(matches("c = 'red' OR n = 1", props));
}

#[test]
fn strings_and_booleans() {
    assert!(matches("c = 'red'", &[("c", "red")]));
    assert!(!matches("c = 'Red'", &[("c", "red")]));
    assert!(matches("c <> 'blue'", &[("c", "red")]));
    assert!(matches("b = TRUE", &[("b", "True")]));
    assert!(matches("b = FALSE", &[("b", "yes")]));
    // A property used as a boolean is false when present (it is a string).
    assert_eq!(eval("b", &[("b", "true")]), Ok(Some(false)));
    assert_eq!(eval("NOT b", &[("b", "true")]), Ok(Some(true)));
    assert_eq!(eval("b", &[]), Ok(None));
    // `NOT a = 'x'` is `(NOT a) = 'x'`: a Boolean against a String fails.
    assert!(matches!(
        eval("NOT a = 'x'", &[("a", "y")]),
        Err(EvalError::Incomparable { .. })
    ));
    assert!(matches("NOT (a = 'x')", &[("a", "y")]));
}

#[test]
fn in_between_and_string_operators() {
    assert!(matches("TAGS IN ('TagA', 'TagB')", RED_7));
    assert!(!matches("TAGS NOT IN ('TagA', 'TagB')", RED_7));
    assert!(matches("fxNum BETWEEN 7 AND 7", RED_7));
    assert!(!matches("fxNum BETWEEN 8 AND 9", RED_7));
    assert!(matches("fxNum NOT BETWEEN 8 AND 9", RED_7));
    assert!(matches("fxNum BETWEEN 6.5 AND 7.5", RED_7));
    assert!(matches("fxColor CONTAINS 'e'", RED_7));
    assert!(matches("fxColor STARTSWITH 're'", RED_7));
    assert!(matches("fxColor ENDSWITH 'ed'", RED_7));
    assert!(matches("fxColor NOT ENDSWITH 'x'", RED_7));
    assert!(!matches("fxColor CONTAINS ''", RED_7));
    assert!(!matches("fxColor NOT CONTAINS ''", RED_7));
}

#[test]
fn is_null_on_any_operand() {
    assert!(matches("fxColor IS NOT NULL AND other IS NULL", RED_7));
    assert!(matches("(missing = 1) IS NULL", RED_7));
}

#[test]
fn property_sources() {
    let owned: HashMap<String, String> = [("k".to_owned(), "v".to_owned())].into_iter().collect();
    let filter = Sql92Filter::compile("k = 'v'").unwrap();
    assert!(filter.evaluate(&owned));
    let props = ferric_common::Properties::from_iter([("k", "v")]);
    assert!(filter.evaluate(&props));
    let lookup = PropertyFn::new(|name: &str| owned.get(name).map(String::as_str));
    assert!(filter.evaluate(&lookup));
    assert!(!filter.evaluate(&PropertyFn::new(|_: &str| None)));
}

#[test]
fn message_filter_from_a_subscription() {
    let tags = MessageFilter::build(None, "TagA || TagB").unwrap();
    assert_eq!(tags.expression_type(), ExpressionType::Tag);
    assert!(tags.matches_tag_code(2598919));
    assert!(!tags.matches_tag_code(1));
    assert!(tags.matches_properties(&[("x", "y")][..]));

    let sql = MessageFilter::build(Some("SQL92"), "fxColor = 'red' AND fxNum > 1").unwrap();
    assert_eq!(sql.expression_type(), ExpressionType::Sql92);
    assert!(sql.matches_tag_code(1));
    assert!(sql.matches_properties(RED_7));
    assert!(!sql.matches_properties(&[("fxColor", "red")][..]));

    assert!(
        MessageFilter::build(Some(""), "*")
            .unwrap()
            .matches_tag_code(42)
    );
    assert_eq!(
        MessageFilter::build(Some("SQL92"), ""),
        Err(FilterError::EmptySql92)
    );
    assert!(matches!(
        MessageFilter::build(Some("SQL92"), "a ="),
        Err(FilterError::Syntax { position: 3, .. })
    ));
    assert_eq!(
        MessageFilter::build(Some("sql92"), "a = 1"),
        Err(FilterError::UnsupportedExpressionType("sql92".into()))
    );
}
