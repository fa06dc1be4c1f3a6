//! Store benchmarks: appends (128 B / 1 KiB, single and batch of 16), sequential reads, and
//! SYNC_FLUSH group commit with 1/16/64/256 concurrent writers.
//!
//! `append_cpu` times single appends by the CPU time of the appending thread (Linux
//! `/proc/thread-self/schedstat`) instead of the wall clock, so time spent waiting for a core on
//! a shared machine is not counted; elsewhere it falls back to the wall clock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ferric_common::message::MessageExt;
use ferric_store::{FlushDiskType, MessageStore, MessageStoreConfig};

fn message(size: usize) -> MessageExt {
    let mut message = MessageExt {
        topic: "BenchTopic".into(),
        body: Bytes::from(vec![b'x'; size]),
        born_host: "127.0.0.1:1234".parse::<SocketAddr>().unwrap(),
        store_host: "127.0.0.1:10911".parse::<SocketAddr>().unwrap(),
        ..MessageExt::default()
    };
    message.properties.insert("TAGS", "TagA");
    message.properties.insert("KEYS", "bench-key");
    message
}

fn config(root: &std::path::Path, flush: FlushDiskType) -> MessageStoreConfig {
    let mut config = MessageStoreConfig::with_root(root);
    config.mapped_file_size_commit_log = 256 * 1024 * 1024;
    config.max_hash_slot_num = 100_000;
    config.max_index_num = 400_000;
    config.flush_disk_type = flush;
    config
}

fn appends(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = MessageStore::open(config(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let mut group = c.benchmark_group("append_async");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    for size in [128usize, 1024] {
        let single = message(size);
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("single", size), |b| {
            b.iter(|| assert!(store.put_message(single.clone()).is_ok()))
        });
        let batch: Vec<_> = (0..16).map(|_| message(size)).collect();
        group.throughput(Throughput::Elements(16));
        group.bench_function(BenchmarkId::new("batch16", size), |b| {
            b.iter(|| assert!(store.put_messages(batch.clone()).is_ok()))
        });
    }
    group.finish();

    let mut reads = c.benchmark_group("read");
    reads
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    let max = store.get_max_offset_in_queue("BenchTopic", 0);
    reads.throughput(Throughput::Elements(32));
    let mut offset = 0;
    reads.bench_function("sequential_32", |b| {
        b.iter(|| {
            let got = store.get_message("BenchTopic", 0, offset, 32, 1 << 20, None);
            offset = if got.next_begin_offset >= max {
                0
            } else {
                got.next_begin_offset
            };
            got.messages.len()
        })
    });
    reads.finish();
}

/// Fewest appends timed together by `append_cpu` (about 50 ms of work).
const CPU_SAMPLE_PUTS: u64 = 20_000;

/// Nanoseconds the calling thread has run on a CPU, if the kernel reports it.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn appends_cpu(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = MessageStore::open(config(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let mut group = c.benchmark_group("append_cpu");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    for size in [128usize, 1024] {
        let single = message(size);
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("single", size), |b| {
            b.iter_custom(|iterations| {
                // The kernel updates a running thread's CPU time about once per scheduler tick,
                // so every sample runs at least CPU_SAMPLE_PUTS appends and is scaled back.
                let puts = iterations.max(CPU_SAMPLE_PUTS);
                let messages: Vec<_> = (0..puts).map(|_| single.clone()).collect();
                let wall = Instant::now();
                let cpu = thread_cpu_ns();
                for message in messages {
                    assert!(store.put_message(message).is_ok());
                }
                let total = match (cpu, thread_cpu_ns()) {
                    (Some(start), Some(end)) => Duration::from_nanos(end.saturating_sub(start)),
                    _ => wall.elapsed(),
                };
                total.mul_f64(iterations as f64 / puts as f64)
            })
        });
    }
    group.finish();
}

fn group_commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync_flush_group_commit");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(200));
    for writers in [1usize, 16, 64, 256] {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let store =
            Arc::new(MessageStore::open(config(dir.path(), FlushDiskType::SyncFlush)).unwrap());
        let per_writer = 8;
        group.throughput(Throughput::Elements((writers * per_writer) as u64));
        group.bench_function(BenchmarkId::new("writers", writers), |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    std::thread::scope(|scope| {
                        for _ in 0..writers {
                            let store = store.clone();
                            scope.spawn(move || {
                                for _ in 0..per_writer {
                                    assert!(store.put_message(message(128)).is_ok());
                                }
                            });
                        }
                    });
                    total += started.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, appends, appends_cpu, group_commit);
criterion_main!(benches);
