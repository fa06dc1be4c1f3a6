//! Feeds arbitrary UTF-8 to the SQL92 selector compiler, as a broker does with
//! a subscription from a heartbeat or pull request. Compiling and evaluating
//! must never panic; a compiled tree must print to text that parses back to
//! the same tree.
#![no_main]

use ferric_filter::sql92::parse;
use ferric_filter::{MessageFilter, Sql92Filter, TagExpression};
use libfuzzer_sys::fuzz_target;

const PROPERTIES: &[(&str, &str)] = &[
    ("a", "1"),
    ("b", "red"),
    ("n", "2.5"),
    ("TAGS", "TagA"),
    ("big", "9223372036854775807"),
    ("t", "true"),
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(filter) = Sql92Filter::compile(text) {
        let _ = filter.evaluate(PROPERTIES);
        let _ = filter.evaluate_detailed(&[][..]);
        let printed = filter.expression().to_string();
        assert_eq!(
            parse(&printed).as_ref(),
            Ok(filter.expression()),
            "printed as {printed:?}"
        );
    }
    if let Ok(tags) = TagExpression::parse(text) {
        let _ = tags.matches_tag_code(2598919);
        let _ = tags.matches_tag("TagA");
    }
    let _ = MessageFilter::build(Some("SQL92"), text);
});
