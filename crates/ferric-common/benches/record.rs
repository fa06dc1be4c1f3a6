//! Encode and parse throughput of stored-message records.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferric_common::record::{self, Parsed};
use ferric_common::{MessageExt, Properties};

fn message(body_len: usize) -> MessageExt {
    let mut properties = Properties::new();
    properties.insert("TAGS", "TagA");
    properties.insert("KEYS", "bench-key-1");
    properties.insert("UNIQ_KEY", "C0000202387130946E096C4594CA0000");
    properties.insert("CLUSTER", "DefaultCluster");
    properties.insert("WAIT", "true");
    MessageExt {
        queue_id: 1,
        queue_offset: 1000,
        commit_log_offset: 1 << 20,
        born_timestamp: 1_795_307_699_403,
        born_host: "127.0.0.1:52138".parse().unwrap(),
        store_timestamp: 1_795_307_699_454,
        store_host: "127.0.0.1:20911".parse().unwrap(),
        body: Bytes::from(vec![b'x'; body_len]),
        topic: "BenchmarkTopic".to_owned(),
        properties,
        ..MessageExt::default()
    }
}

fn bench(c: &mut Criterion) {
    for (name, body_len) in [("128B", 128usize), ("1KiB", 1024)] {
        let msg = message(body_len);
        let mut encoded = BytesMut::new();
        record::encode_record(&msg, &mut encoded).unwrap();
        let record_len = encoded.len() as u64;

        let mut group = c.benchmark_group(format!("record/{name}"));
        group.throughput(Throughput::Bytes(record_len));
        let mut buf = BytesMut::with_capacity(4096);
        group.bench_function("encode", |b| {
            b.iter(|| {
                buf.clear();
                record::encode_record(black_box(&msg), &mut buf).unwrap()
            })
        });
        group.bench_function("parse", |b| {
            b.iter(
                || match record::parse_record(black_box(&encoded)).unwrap() {
                    Parsed::Message(view) => view.total_size,
                    _ => unreachable!(),
                },
            )
        });
        group.bench_function("parse+verify_crc+tags_code", |b| {
            b.iter(
                || match record::parse_record(black_box(&encoded)).unwrap() {
                    Parsed::Message(view) => (view.verify_body_crc(), view.tags_code()),
                    _ => unreachable!(),
                },
            )
        });
        group.bench_function("parse+to_message_ext", |b| {
            b.iter(
                || match record::parse_record(black_box(&encoded)).unwrap() {
                    Parsed::Message(view) => view.to_message_ext(),
                    _ => unreachable!(),
                },
            )
        });
        group.finish();

        let mut group = c.benchmark_group(format!("record/{name}/elements"));
        group.throughput(Throughput::Elements(1));
        group.bench_function("encode", |b| {
            b.iter(|| {
                buf.clear();
                record::encode_record(black_box(&msg), &mut buf).unwrap()
            })
        });
        group.bench_function("parse", |b| {
            b.iter(
                || match record::parse_record(black_box(&encoded)).unwrap() {
                    Parsed::Message(view) => view.total_size,
                    _ => unreachable!(),
                },
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
