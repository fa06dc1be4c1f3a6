//! Runtime values and the Java conversions and orderings RocketMQ's
//! `ComparisonExpression` relies on.
//!
//! Message properties are strings. A comparison of a string with a number
//! converts the string with Java's `Integer.valueOf`, `Long.valueOf` or
//! `Double.valueOf` (chosen by the literal's type); a failed conversion is an
//! evaluation error, which the broker treats as "not matched".

use std::cmp::Ordering;

use crate::EvalError;

/// A value during evaluation; `Null` is SQL's unknown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Str(&'a str),
}

impl Value<'_> {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "Boolean",
            Value::Int(_) => "Integer",
            Value::Long(_) => "Long",
            Value::Double(_) => "Double",
            Value::Str(_) => "String",
        }
    }

    /// Java `Object.equals` between two values of the same class.
    pub(crate) fn java_equals(&self, other: &Value<'_>) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Long(a), Value::Long(b)) => a == b,
            (Value::Double(a), Value::Double(b)) => java_double_bits(*a) == java_double_bits(*b),
            (Value::Str(a), Value::Str(b)) => a == b,
            _ => false,
        }
    }
}

fn not_a_number(value: &str, target: &'static str) -> EvalError {
    EvalError::NotANumber {
        value: value.to_owned(),
        target,
    }
}

/// Java `Integer.valueOf(String)` (ASCII digits only).
pub(crate) fn java_parse_int(s: &str) -> Result<i32, EvalError> {
    s.parse().map_err(|_| not_a_number(s, "Integer"))
}

/// Java `Long.valueOf(String)` (ASCII digits only).
pub(crate) fn java_parse_long(s: &str) -> Result<i64, EvalError> {
    s.parse().map_err(|_| not_a_number(s, "Long"))
}

/// Java `Boolean.valueOf(String)`: true only for "true" in any case.
pub(crate) fn java_parse_bool(s: &str) -> bool {
    s.eq_ignore_ascii_case("true")
}

/// Java `Double.valueOf(String)` for decimal input: surrounding chars at or
/// below U+0020 are ignored, an optional sign, `NaN`, `Infinity`, or digits
/// with an optional fraction and exponent and an optional `f`/`F`/`d`/`D`
/// suffix. Hexadecimal floating-point strings are not accepted.
pub(crate) fn java_parse_double(s: &str) -> Result<f64, EvalError> {
    let fail = || not_a_number(s, "Double");
    let trimmed = s.trim_matches(|c: char| c <= ' ');
    let (negative, unsigned) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let magnitude = match unsigned {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        _ => {
            let body = unsigned
                .strip_suffix(['f', 'F', 'd', 'D'])
                .unwrap_or(unsigned);
            if !is_java_decimal(body) {
                return Err(fail());
            }
            body.parse::<f64>().map_err(|_| fail())?
        }
    };
    Ok(if negative { -magnitude } else { magnitude })
}

/// `digits [. digits] [e [+-] digits]` with at least one mantissa digit.
fn is_java_decimal(body: &str) -> bool {
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut mantissa_digits = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return false;
    }
    if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
        i += 1;
        if i < bytes.len() && matches!(bytes[i], b'+' | b'-') {
            i += 1;
        }
        let exponent_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == exponent_start {
            return false;
        }
    }
    i == bytes.len()
}

/// Java `Double.doubleToLongBits`: every NaN collapses to one pattern.
fn java_double_bits(v: f64) -> i64 {
    if v.is_nan() {
        0x7ff8_0000_0000_0000
    } else {
        v.to_bits() as i64
    }
}

/// Java `Double.compare`: NaN above everything, `-0.0` below `0.0`.
pub(crate) fn java_double_cmp(a: f64, b: f64) -> Ordering {
    if a < b {
        Ordering::Less
    } else if a > b {
        Ordering::Greater
    } else {
        java_double_bits(a).cmp(&java_double_bits(b))
    }
}

/// Java `String.compareTo`: UTF-16 code units, lexicographically.
fn java_string_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// RocketMQ's `ComparisonExpression.__compare` with string conversion on:
/// values of different classes are converted towards each other; pairs it
/// has no rule for compare as "less" (Java returns -1).
pub(crate) fn java_compare(left: Value<'_>, right: Value<'_>) -> Result<Ordering, EvalError> {
    use Value::*;
    let ordering = match (left, right) {
        (Bool(a), Bool(b)) => a.cmp(&b),
        (Int(a), Int(b)) => a.cmp(&b),
        (Long(a), Long(b)) => a.cmp(&b),
        (Double(a), Double(b)) => java_double_cmp(a, b),
        (Str(a), Str(b)) => java_string_cmp(a, b),

        // Java casts the Boolean itself to String here and fails.
        (Bool(_), Str(_)) => {
            return Err(EvalError::Incomparable {
                left: "Boolean",
                right: "String",
            });
        }

        (Int(a), Long(b)) => i64::from(a).cmp(&b),
        (Int(a), Double(b)) => java_double_cmp(f64::from(a), b),
        (Int(a), Str(b)) => a.cmp(&java_parse_int(b)?),

        (Long(a), Int(b)) => a.cmp(&i64::from(b)),
        (Long(a), Double(b)) => java_double_cmp(a as f64, b),
        (Long(a), Str(b)) => a.cmp(&java_parse_long(b)?),

        (Double(a), Int(b)) => java_double_cmp(a, f64::from(b)),
        (Double(a), Long(b)) => java_double_cmp(a, b as f64),
        (Double(a), Str(b)) => java_double_cmp(a, java_parse_double(b)?),

        (Str(a), Bool(b)) => java_parse_bool(a).cmp(&b),
        (Str(a), Int(b)) => java_parse_int(a)?.cmp(&b),
        (Str(a), Long(b)) => java_parse_long(a)?.cmp(&b),
        (Str(a), Double(b)) => java_double_cmp(java_parse_double(a)?, b),

        (Null, _) | (_, Null) => {
            return Err(EvalError::Incomparable {
                left: left.type_name(),
                right: right.type_name(),
            });
        }
        _ => Ordering::Less,
    };
    Ok(ordering)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_parsing_follows_java() {
        assert_eq!(java_parse_double(" 1.5 "), Ok(1.5));
        assert_eq!(java_parse_double("+2."), Ok(2.0));
        assert_eq!(java_parse_double("-.5e1"), Ok(-5.0));
        assert_eq!(java_parse_double("3f"), Ok(3.0));
        assert_eq!(java_parse_double("-Infinity"), Ok(f64::NEG_INFINITY));
        assert!(java_parse_double("NaN").unwrap().is_nan());
        for bad in [
            "", ".", "e5", "1e", "inf", "nan", "1_0", "0x10", "1.5x", "--1",
        ] {
            assert!(java_parse_double(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn int_and_long_parsing_follow_java() {
        assert_eq!(java_parse_int("+7"), Ok(7));
        assert_eq!(java_parse_int("-0"), Ok(0));
        assert!(java_parse_int(" 7").is_err());
        assert!(java_parse_int("2147483648").is_err());
        assert_eq!(java_parse_long("2147483648"), Ok(2147483648));
        assert!(java_parse_long("5.0").is_err());
    }

    #[test]
    fn double_ordering_matches_double_compare() {
        assert_eq!(java_double_cmp(-0.0, 0.0), Ordering::Less);
        assert_eq!(java_double_cmp(f64::NAN, f64::INFINITY), Ordering::Greater);
        assert_eq!(java_double_cmp(f64::NAN, -f64::NAN), Ordering::Equal);
    }

    #[test]
    fn mixed_comparisons() {
        assert_eq!(
            java_compare(Value::Str("5"), Value::Int(1)),
            Ok(Ordering::Greater)
        );
        assert_eq!(
            java_compare(Value::Int(2), Value::Double(2.5)),
            Ok(Ordering::Less)
        );
        assert_eq!(
            java_compare(Value::Str("TRUE"), Value::Bool(true)),
            Ok(Ordering::Equal)
        );
        assert_eq!(
            java_compare(Value::Int(1), Value::Bool(true)),
            Ok(Ordering::Less)
        );
        assert!(java_compare(Value::Str("5.5"), Value::Int(1)).is_err());
        assert!(java_compare(Value::Bool(true), Value::Str("true")).is_err());
        // UTF-16 order puts U+FFFD after a supplementary character's surrogates.
        assert_eq!(java_string_cmp("\u{fffd}", "\u{1f600}"), Ordering::Greater);
    }
}
