//! The scanner and the serde_json reference agree: the same command, or both an error.

use proptest::prelude::*;

use super::{decode_with_scanner, decode_with_serde};

fn assert_agree(header: &[u8]) {
    let scanned = decode_with_scanner(header);
    let reference = decode_with_serde(header);
    match (&scanned, &reference) {
        (Ok(left), Ok(right)) => assert_eq!(left, right, "{}", String::from_utf8_lossy(header)),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "decoders disagree on {:?}: scanner {scanned:?}, serde_json {reference:?}",
            String::from_utf8_lossy(header)
        ),
    }
}

#[test]
fn agree_on_examples() {
    let examples: &[&str] = &[
        r#"{"code":310,"extFields":{"a":"producerGroup","b":"TopicName","c":"TBW102","d":"4","e":"3","f":"0","g":"1700000000000","h":"0","i":"KEYS\u0001k1\u0002UNIQ_KEY\u0001AC11\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002","j":"0","k":"false","l":"0","m":"false","n":"broker-a"},"flag":0,"language":"JAVA","opaque":123,"serializeTypeCurrentRPC":"JSON","version":409}"#,
        "{}",
        r#"{"extFields":{"":"x","b":"2","":"y"}}"#,
        r#"{" code":5,"code ":6,"flag":1}"#,
        r#"{"extFields":{"a": 12 ,"b":	true,"c" :false ,"d": -0,"e": 1.5e3}}"#,
        r#"{"\u0063ode":5,"fla\u0067":2}"#,
        r#"{"code":5,"\u0063ode":6}"#,
        r#"{"serializeTypeCurrentRPC":{"nested":[1,"x"]},"code":7}"#,
        r#"{"codex":1,"c":2,"opaque":3,"opaqu":4}"#,
        r#"{"extFields":{"a":"1","a":null,"b":"2"}}"#,
        r#"{"extFields":{"a":null,"a":"1"}}"#,
        r#"{"extFields":{"a":"1","\u0061":2,"aa":true}}"#,
        " \t\r\n{ } \n",
        "[]",
        "[310]",
        r#"[310,"GO",1,2,3,"r",{"k":"v"}]"#,
        r#"[310,null,1,2,3,null,null]"#,
        r#"[310,null,1,2,3,null,null,8]"#,
        r#"[310,]"#,
        r#"[,310]"#,
        "null",
        "1",
        "\"x\"",
        "",
        "{",
        "{}x",
        "{},",
        r#"{"code":1,}"#,
        r#"{"code":1 "flag":2}"#,
        r#"{"code":1,"code":2}"#,
        r#"{"x":1,"x":2}"#,
        r#"{"co\u0064e":7}"#,
        r#"{"code":-0}"#,
        r#"{"code":1.0}"#,
        r#"{"code":1e2}"#,
        r#"{"code":2147483648}"#,
        r#"{"code":-2147483648}"#,
        r#"{"code":"1"}"#,
        r#"{"code":null}"#,
        r#"{"language":null,"remark":null,"extFields":null}"#,
        r#"{"language":"NODE_JS","remark":"a\"b\\c\/d\b\f\n\r\t"}"#,
        r#"{"language":"klingon"}"#,
        r#"{"language":5}"#,
        r#"{"remark":"\uD83D\uDE00 \u00e9 \u4E2D"}"#,
        r#"{"remark":"\uD83D"}"#,
        r#"{"remark":"\uDE00"}"#,
        r#"{"remark":"\uD83D\u0041"}"#,
        r#"{"remark":"\uD83D\n"}"#,
        r#"{"unknown":"\uDE00"}"#,
        r#"{"unknown":[1,{"a":[true,false,null,"\uD800"]},-1.5e-7,1e999]}"#,
        r#"{"unknown":[1,]}"#,
        r#"{"unknown":{"a":1,}}"#,
        r#"{"unknown":01}"#,
        r#"{"unknown":-}"#,
        r#"{"unknown":tru}"#,
        r#"{"extFields":{}}"#,
        r#"{"extFields":{"a":1,"b":-0,"c":1.0,"d":1e5,"e":true,"f":false,"g":null,"h":-1.5e-3}}"#,
        r#"{"extFields":{"a":18446744073709551615,"b":18446744073709551616,"c":-9223372036854775808,"d":-9223372036854775809}}"#,
        r#"{"extFields":{"a":1e400}}"#,
        r#"{"extFields":{"a":1e-400}}"#,
        r#"{"extFields":{"a":0.1,"b":123456789.123456789,"c":5e-324,"d":1.7976931348623157e308}}"#,
        r#"{"extFields":{"a":"x","a":"y"}}"#,
        r#"{"extFields":{"a":"x","a":null}}"#,
        r#"{"extFields":{"a":[1]}}"#,
        r#"{"extFields":{"a":{}}}"#,
        r#"{"extFields":[]}"#,
        r#"{"extFields":"x"}"#,
        r#"{"extFields":{"\u0000":"\u0000"}}"#,
    ];
    for example in examples {
        assert_agree(example.as_bytes());
    }
    let deep = format!("{{\"x\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
    assert_agree(deep.as_bytes());
    for raw in [
        &b"{\"remark\":\"a\x01\"}"[..],
        b"{\"remark\":\"\xff\"}",
        b"{\"unknown\":\"\xff\"}",
        b"{\"unknown\":\"\x1f\"}",
        b"{\"\xc3\xa9\":1}",
        b"{\"extFields\":{\"k\":\"\xe4\xb8\"}}",
    ] {
        assert_agree(raw);
    }
}

fn whitespace() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(String::new()),
        1 => prop::sample::select(vec![" ", "\n", "\t", "\r", " \r\n\t "]).prop_map(str::to_owned),
    ]
}

fn string_piece(wild: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-zA-Z0-9 _.:-]{1,8}",
        2 => prop::sample::select(vec!["\\n", "\\t", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\r"])
            .prop_map(str::to_owned),
        wild => (any::<u16>(), any::<bool>()).prop_map(|(unit, upper)| if upper {
            format!("\\u{unit:04X}")
        } else {
            format!("\\u{unit:04x}")
        }),
        1 => (0xD800u16..0xDC00, 0xDC00u16..0xE000)
            .prop_map(|(high, low)| format!("\\u{high:04X}\\u{low:04x}")),
        2 => prop::sample::select(vec!["\\u0001", "\\u0002", "\\u00e9", "\\u4E2D", "\u{7f}"])
            .prop_map(str::to_owned),
        wild => prop::sample::select(vec!["\\x", "\\u12", "\\uZZZZ", "\\", "\u{1}", "\"", "\\uD800", "\\uDFFF"])
            .prop_map(str::to_owned),
        wild => any::<char>().prop_map(String::from),
        1 => prop::sample::select(vec!["é", "中文", "😀", "\u{80}", "\u{9f}", "\u{a0}"])
            .prop_map(str::to_owned),
    ]
}

fn string_literal() -> impl Strategy<Value = String> {
    string_literal_with(1)
}

fn string_literal_with(wild: u32) -> impl Strategy<Value = String> {
    prop::collection::vec(string_piece(wild), 0..6)
        .prop_map(|pieces| format!("\"{}\"", pieces.concat()))
}

fn number() -> impl Strategy<Value = String> {
    number_with(1)
}

fn number_with(wild: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "0", "-0", "1", "-1", "1.0", "-0.0", "1e5", "1E+5", "1e-5", "-2.5e-3", "0.1e1",
            "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296",
            "18446744073709551615", "18446744073709551616", "-9223372036854775808",
            "-9223372036854775809", "123456789012345678901234567890", "1e-400",
        ])
        .prop_map(str::to_owned),
        wild => prop::sample::select(vec![
            "1e400", "-1e400", "01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "1.5.5",
        ])
        .prop_map(str::to_owned),
        2 => any::<i64>().prop_map(|value| value.to_string()),
        1 => any::<i32>().prop_map(|value| value.to_string()),
        1 => any::<f64>().prop_map(|value| format!("{value:e}")),
        1 => any::<f64>().prop_map(|value| format!("{value:?}")),
        1 => (-1000.0f64..1000.0).prop_map(|value| value.to_string()),
    ]
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => string_literal(),
        3 => number(),
        1 => prop::sample::select(vec!["true", "false", "null", "nul", "True"]).prop_map(str::to_owned),
    ]
}

fn join(items: Vec<String>, open: &str, close: &str, gaps: Vec<String>) -> String {
    let mut text = String::from(open);
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(gaps.get(index).map_or("", String::as_str));
        text.push_str(&item);
        text.push_str(gaps.get(index + 1).map_or("", String::as_str));
    }
    text.push_str(close);
    text
}

fn any_value() -> impl Strategy<Value = String> {
    scalar().prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            (
                prop::collection::vec(inner.clone(), 0..5),
                prop::collection::vec(whitespace(), 6)
            )
                .prop_map(|(items, gaps)| join(items, "[", "]", gaps)),
            (
                prop::collection::vec((string_literal(), inner), 0..5),
                prop::collection::vec(whitespace(), 6),
            )
                .prop_map(|(members, gaps)| {
                    let members = members
                        .into_iter()
                        .map(|(key, value)| format!("{key}:{value}"));
                    join(members.collect(), "{", "}", gaps)
                }),
        ]
    })
}

fn ext_fields() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (
            prop::collection::vec(
                (
                    prop_oneof![3 => "\"[a-z]{1,3}\"", 1 => string_literal()],
                    prop_oneof![8 => scalar(), 1 => any_value()],
                    whitespace(),
                ),
                0..16,
            ),
            prop::collection::vec(whitespace(), 17),
        )
            .prop_map(|(entries, gaps)| {
                let entries = entries.into_iter().map(|(key, value, gap)| format!("{key}{gap}:{gap}{value}"));
                join(entries.collect(), "{", "}", gaps)
            }),
        1 => Just("null".to_owned()),
        1 => any_value(),
    ]
}

fn int_field() -> impl Strategy<Value = String> {
    prop_oneof![8 => number(), 1 => scalar()]
}

fn text_field() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["\"JAVA\"", "\"GO\"", "\"RUST\"", "\"J\\u0041VA\"", "null"])
            .prop_map(str::to_owned),
        2 => string_literal(),
        1 => scalar(),
    ]
}

fn member() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => int_field().prop_map(|value| format!("\"code\":{value}")),
        1 => int_field().prop_map(|value| format!("\"version\":{value}")),
        1 => int_field().prop_map(|value| format!("\"opaque\":{value}")),
        1 => int_field().prop_map(|value| format!("\"flag\":{value}")),
        1 => text_field().prop_map(|value| format!("\"language\":{value}")),
        1 => text_field().prop_map(|value| format!("\"remark\":{value}")),
        3 => ext_fields().prop_map(|value| format!("\"extFields\":{value}")),
        1 => Just("\"serializeTypeCurrentRPC\":\"JSON\"".to_owned()),
        1 => (string_literal(), any_value()).prop_map(|(key, value)| format!("{key}:{value}")),
        1 => int_field().prop_map(|value| format!("\"c\\u006Fde\":{value}")),
    ]
}

fn valid_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => string_literal_with(0),
        3 => number_with(0),
        1 => prop::sample::select(vec!["true", "false", "null"]).prop_map(str::to_owned),
    ]
}

fn valid_ext_fields() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            (
                prop_oneof![4 => "\"[a-n]\"", 1 => string_literal_with(0)],
                valid_scalar(),
                whitespace(),
            ),
            0..16,
        ),
        prop::collection::vec(whitespace(), 17),
    )
        .prop_map(|(entries, gaps)| {
            let entries = entries
                .into_iter()
                .map(|(key, value, gap)| format!("{key}{gap}:{gap}{value}"));
            join(entries.collect(), "{", "}", gaps)
        })
}

fn valid_member(name: &'static str) -> BoxedStrategy<String> {
    let value: BoxedStrategy<String> = match name {
        "language" => prop_oneof![
            3 => prop::sample::select(vec!["\"JAVA\"", "\"GO\"", "\"J\\u0041VA\"", "null"]).prop_map(str::to_owned),
            1 => string_literal_with(0),
        ]
        .boxed(),
        "remark" => prop_oneof![Just("null".to_owned()), string_literal_with(0)].boxed(),
        "extFields" => prop_oneof![8 => valid_ext_fields(), 1 => Just("null".to_owned())].boxed(),
        "serializeTypeCurrentRPC" => Just("\"JSON\"".to_owned()).boxed(),
        "unknown" => any_value().boxed(),
        _ => prop_oneof![8 => any::<i32>().prop_map(|v| v.to_string()), 1 => number_with(0)].boxed(),
    };
    let key = if name == "unknown" {
        string_literal_with(0).boxed()
    } else {
        Just(format!("\"{name}\"")).boxed()
    };
    (key, whitespace(), value)
        .prop_map(|(key, gap, value)| format!("{key}{gap}:{gap}{value}"))
        .boxed()
}

fn valid_object() -> impl Strategy<Value = String> {
    let names = vec![
        "code",
        "extFields",
        "flag",
        "language",
        "opaque",
        "remark",
        "serializeTypeCurrentRPC",
        "version",
        "unknown",
        "unknown",
    ];
    (
        prop::sample::subsequence(names, 0..=10).prop_shuffle(),
        prop::collection::vec(whitespace(), 12),
    )
        .prop_flat_map(|(names, gaps)| {
            let members: Vec<BoxedStrategy<String>> = names.into_iter().map(valid_member).collect();
            (members, Just(gaps))
        })
        .prop_map(|(members, gaps)| join(members, "{", "}", gaps))
}

fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => valid_object(),
        8 => (prop::collection::vec(member(), 0..9), prop::collection::vec(whitespace(), 10))
            .prop_map(|(members, gaps)| join(members, "{", "}", gaps)),
        1 => (
            int_field(),
            text_field(),
            prop::collection::vec(int_field(), 3),
            text_field(),
            ext_fields(),
            0usize..9,
        )
            .prop_map(|(code, language, ints, remark, ext, len)| {
                let mut items = vec![code, language];
                items.extend(ints);
                items.extend([remark, ext, "1".to_owned()]);
                items.truncate(len);
                join(items, "[", "]", Vec::new())
            }),
        1 => any_value(),
    ]
}

/// One byte-level change, so that malformed input near valid input is covered too.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![
        prop::sample::select(b"{}[]\",:\\ \n0-1.eEntfu".to_vec()),
        any::<u8>(),
    ];
    prop_oneof![
        12 => Just(Mutation::None),
        1 => any::<usize>().prop_map(Mutation::Delete),
        1 => (any::<usize>(), byte.clone()).prop_map(|(at, byte)| Mutation::Insert(at, byte)),
        1 => (any::<usize>(), byte).prop_map(|(at, byte)| Mutation::Replace(at, byte)),
    ]
}

fn mutate(text: String, mutation: &Mutation) -> Vec<u8> {
    let mut bytes = text.into_bytes();
    let len = bytes.len();
    match *mutation {
        Mutation::None => {}
        Mutation::Delete(at) if len > 0 => {
            bytes.remove(at % len);
        }
        Mutation::Insert(at, byte) => bytes.insert(at % (len + 1), byte),
        Mutation::Replace(at, byte) if len > 0 => bytes[at % len] = byte,
        _ => {}
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn scanner_agrees_with_serde_json(
        (outer, text, change) in (whitespace(), header_text(), mutation())
    ) {
        let header = mutate(format!("{outer}{text}{outer}"), &change);
        assert_agree(&header);
    }

    #[test]
    fn scanner_agrees_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        assert_agree(&bytes);
    }
}
