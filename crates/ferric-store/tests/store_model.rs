//! Model-based test: random appends (single and batch), reads, clean reopens, crash reopens and
//! torn tails of the last CommitLog file, checked against a `Vec` model.

mod common;

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use common::{body_of, message, small_config};
use ferric_store::{FlushDiskType, MessageStore, PutMessageStatus};
use proptest::prelude::*;

const TOPICS: [&str; 3] = ["A", "B", "%RETRY%g"];

#[derive(Debug, Clone)]
enum Op {
    Append {
        topic: usize,
        queue: i32,
        size: usize,
        batch: usize,
    },
    Read {
        topic: usize,
        queue: i32,
        from: i64,
    },
    CleanReopen,
    CrashReopen,
    TearTail {
        bytes: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, 0..2i32, 0..3000usize, 1..5usize)
            .prop_map(|(topic, queue, size, batch)| Op::Append { topic, queue, size, batch }),
        2 => (0..3usize, 0..2i32, 0..20i64).prop_map(|(topic, queue, from)| Op::Read { topic, queue, from }),
        1 => Just(Op::CleanReopen),
        1 => Just(Op::CrashReopen),
        1 => (1..600usize).prop_map(|bytes| Op::TearTail { bytes }),
    ]
}

/// One acknowledged message of the model, in CommitLog order.
#[derive(Debug, Clone)]
struct Entry {
    topic: usize,
    queue: i32,
    body: Vec<u8>,
    end: i64,
}

fn body(seq: usize, size: usize) -> Vec<u8> {
    (0..size).map(|i| (seq * 31 + i) as u8).collect()
}

fn check(store: &MessageStore, model: &[Entry]) {
    let mut per_queue: HashMap<(usize, i32), Vec<&Entry>> = HashMap::new();
    for entry in model {
        per_queue
            .entry((entry.topic, entry.queue))
            .or_default()
            .push(entry);
    }
    for (topic, name) in TOPICS.iter().enumerate() {
        for queue in 0..2 {
            let expected = per_queue.get(&(topic, queue)).cloned().unwrap_or_default();
            assert_eq!(
                store.get_max_offset_in_queue(name, queue),
                expected.len() as i64,
                "queue {name}/{queue}"
            );
            let mut offset = 0i64;
            while (offset as usize) < expected.len() {
                let got = store.get_message(name, queue, offset, 32, 1 << 20, None);
                assert!(!got.messages.is_empty(), "nothing at {offset}");
                for (raw, queue_offset) in got.messages.iter().zip(&got.queue_offsets) {
                    assert_eq!(body_of(raw), expected[*queue_offset as usize].body);
                }
                offset = got.next_begin_offset;
            }
        }
    }
}

fn tear_tail(root: &Path, end: i64, bytes: usize) {
    let file_size = 64 * 1024i64;
    let file_start = if end % file_size == 0 {
        end - file_size
    } else {
        end - end % file_size
    };
    if file_start < 0 {
        return;
    }
    let cut_from = (end - bytes as i64).max(file_start);
    let path = root.join(format!("commitlog/{file_start:020}"));
    let mut file = OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start((cut_from - file_start) as u64))
        .unwrap();
    file.write_all(&vec![0u8; (end - cut_from) as usize])
        .unwrap();
}

fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(dir.path(), FlushDiskType::SyncFlush);
    let mut store = Some(MessageStore::open(config.clone()).unwrap());
    let mut model: Vec<Entry> = Vec::new();
    let mut seq = 0usize;
    for op in ops {
        match op {
            Op::Append {
                topic,
                queue,
                size,
                batch,
            } => {
                let Some(live) = store.as_ref() else { continue };
                let bodies: Vec<Vec<u8>> = (0..batch).map(|i| body(seq + i, size)).collect();
                seq += batch;
                let messages: Vec<_> = bodies
                    .iter()
                    .map(|b| message(TOPICS[topic], queue, b.clone(), &format!("k{seq}")))
                    .collect();
                let result = if batch == 1 {
                    live.put_message(messages.into_iter().next().unwrap())
                } else {
                    live.put_messages(messages)
                };
                assert_eq!(result.status, PutMessageStatus::PutOk);
                for (record, body) in result.append.unwrap().records.iter().zip(bodies) {
                    let end = record.wrote_offset + i64::from(record.wrote_bytes);
                    model.push(Entry {
                        topic,
                        queue,
                        body,
                        end,
                    });
                }
            }
            Op::Read { topic, queue, from } => {
                let Some(live) = store.as_ref() else { continue };
                let expected: Vec<&Entry> = model
                    .iter()
                    .filter(|e| e.topic == topic && e.queue == queue)
                    .collect();
                let got = live.get_message(TOPICS[topic], queue, from, 4, 1 << 20, None);
                for (raw, queue_offset) in got.messages.iter().zip(&got.queue_offsets) {
                    assert_eq!(body_of(raw), expected[*queue_offset as usize].body);
                }
                assert_eq!(got.messages.is_empty(), (from as usize) >= expected.len());
            }
            Op::CleanReopen => {
                if let Some(mut live) = store.take() {
                    live.shutdown().unwrap();
                }
                let reopened = MessageStore::open(config.clone()).unwrap();
                assert!(!reopened.recovery_outcome().1);
                check(&reopened, &model);
                store = Some(reopened);
            }
            Op::CrashReopen => {
                if let Some(live) = store.take() {
                    live.simulate_crash();
                }
                let reopened = MessageStore::open(config.clone()).unwrap();
                assert!(reopened.recovery_outcome().1);
                check(&reopened, &model);
                store = Some(reopened);
            }
            Op::TearTail { bytes } => {
                let Some(live) = store.take() else { continue };
                let end = live.commit_log_max_offset();
                live.simulate_crash();
                tear_tail(dir.path(), end, bytes);
                let reopened = MessageStore::open(config.clone()).unwrap();
                let new_end = reopened.commit_log_max_offset();
                assert!(new_end <= end);
                // The store holds a prefix of the model: everything that ends before the cut.
                model.retain(|e| e.end <= new_end);
                assert!(
                    model.last().is_none_or(|e| e.end == new_end) || new_end % (64 * 1024) == 0
                );
                check(&reopened, &model);
                store = Some(reopened);
            }
        }
    }
    if let Some(live) = store.take() {
        check(&live, &model);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_vec_model(ops in proptest::collection::vec(op(), 1..40)) {
        run(ops);
    }
}
