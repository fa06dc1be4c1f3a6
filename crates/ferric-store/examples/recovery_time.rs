//! Fills a store with about 1 GiB of messages, "crashes" (leaves the `abort` file), and times
//! the abnormal-recovery `open`, then a normal `open` after a clean shutdown.
//!
//! `cargo run --release -p ferric-store --example recovery_time -- [dir] [MiB]`
//! (default: a temp dir under the current directory, 1024 MiB). The directory is deleted.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use ferric_common::message::MessageExt;
use ferric_store::{FlushDiskType, MessageStore, MessageStoreConfig};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let parent = args.next().unwrap_or_else(|| ".".into());
    let mib: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1024);
    let dir = tempfile::tempdir_in(parent)?;
    let mut config = MessageStoreConfig::with_root(dir.path());
    config.flush_disk_type = FlushDiskType::AsyncFlush;

    let store = MessageStore::open(config.clone())?;
    let body = Bytes::from(vec![b'r'; 1024]);
    let started = Instant::now();
    let mut count = 0u64;
    while store.commit_log_max_offset() < (mib * 1024 * 1024) as i64 {
        let batch: Vec<MessageExt> = (0..16)
            .map(|i| {
                let mut message = MessageExt {
                    topic: format!("RecoveryTopic{}", count % 4),
                    queue_id: i % 8,
                    body: body.clone(),
                    born_host: "127.0.0.1:1234".parse::<SocketAddr>().expect("address"),
                    store_host: "127.0.0.1:10911".parse::<SocketAddr>().expect("address"),
                    ..MessageExt::default()
                };
                message
                    .properties
                    .insert("KEYS", format!("key-{count}-{i}"));
                message
            })
            .collect();
        anyhow::ensure!(store.put_messages(batch).is_ok(), "put failed");
        count += 16;
    }
    let bytes = store.commit_log_max_offset();
    println!(
        "filled {count} messages, {bytes} bytes in {:?}",
        started.elapsed()
    );
    store.simulate_crash();

    let started = Instant::now();
    let mut store = MessageStore::open(config.clone())?;
    let (outcome, abnormal) = store.recovery_outcome();
    println!(
        "abnormal={abnormal} open took {:?}: scanned {} records from {} to {}",
        started.elapsed(),
        outcome.records_scanned,
        outcome.scan_start,
        outcome.end_offset
    );
    store.shutdown()?;
    drop(store);

    let started = Instant::now();
    let store = MessageStore::open(config)?;
    println!(
        "normal open took {:?} (abnormal={})",
        started.elapsed(),
        store.recovery_outcome().1
    );
    drop(store);
    dir.close()?;
    Ok(())
}
