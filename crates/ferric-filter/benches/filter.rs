//! Compile and evaluate cost of a typical SQL92 selector, and tag-code checks.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ferric_filter::{Sql92Filter, TagExpression};

const TYPICAL: &str = "fxColor = 'red' AND fxNum > 1";
const WIDER: &str = "(region IN ('eu-west', 'eu-central', 'us-east') OR vip = 'true') \
    AND price BETWEEN 10.0 AND 200.5 AND TAGS <> 'TagZ' AND shop IS NOT NULL";

fn properties() -> HashMap<String, String> {
    [
        ("fxColor", "red"),
        ("fxNum", "7"),
        ("region", "eu-central"),
        ("price", "99.90"),
        ("TAGS", "TagA"),
        ("shop", "s-17"),
        ("KEYS", "FX-KEY-ORDER"),
        ("UNIQ_KEY", "C0000202387130946E096C4596990006"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn bench(c: &mut Criterion) {
    let props = properties();
    let typical = Sql92Filter::compile(TYPICAL).unwrap();
    let wider = Sql92Filter::compile(WIDER).unwrap();
    assert!(typical.evaluate(&props));
    assert!(wider.evaluate(&props));

    c.bench_function("compile typical", |b| {
        b.iter(|| Sql92Filter::compile(black_box(TYPICAL)))
    });
    c.bench_function("compile wider", |b| {
        b.iter(|| Sql92Filter::compile(black_box(WIDER)))
    });
    c.bench_function("evaluate typical", |b| {
        b.iter(|| black_box(&typical).evaluate(black_box(&props)))
    });
    c.bench_function("evaluate wider", |b| {
        b.iter(|| black_box(&wider).evaluate(black_box(&props)))
    });

    let tags = TagExpression::parse("TagA || TagB || TagC").unwrap();
    c.bench_function("tag code match", |b| {
        b.iter(|| black_box(&tags).matches_tag_code(black_box(2598919)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
