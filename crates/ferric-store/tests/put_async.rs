//! Non-blocking puts: `put_messages_with` and `append_messages` in both flush modes, and many
//! concurrent SYNC_FLUSH puts from several threads completed by shared group commits.

mod common;

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use common::{message, small_config};
use ferric_store::put_async::PutProgress;
use ferric_store::result::PutMessageResult;
use ferric_store::{FlushDiskType, MessageStore, PutMessageStatus};

fn channel_callback() -> (
    ferric_store::put_async::PutCallback,
    mpsc::Receiver<PutMessageResult>,
) {
    let (sender, receiver) = mpsc::channel();
    (
        Box::new(move |result| {
            let _ = sender.send(result);
        }),
        receiver,
    )
}

#[test]
fn put_with_callback_in_both_modes() {
    for mode in [FlushDiskType::AsyncFlush, FlushDiskType::SyncFlush] {
        let dir = tempfile::tempdir().unwrap();
        let store = MessageStore::open(small_config(dir.path(), mode)).unwrap();
        let (done, results) = channel_callback();
        store.put_messages_with(&[message("T", 0, vec![1; 100], "k")], done);
        let result = results.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(result.status, PutMessageStatus::PutOk, "{mode:?}");
        assert_eq!(result.append.unwrap().logics_offset, 0);
        if mode == FlushDiskType::SyncFlush {
            assert!(store.flushed_offset() > 0);
        }
        let (done, results) = channel_callback();
        store.put_messages_with(&[], done);
        let refused = results.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(refused.status, PutMessageStatus::MessageIllegal);
    }
}

#[test]
fn append_messages_is_final_at_once_only_without_a_sync_wait() {
    for mode in [FlushDiskType::AsyncFlush, FlushDiskType::SyncFlush] {
        let dir = tempfile::tempdir().unwrap();
        let store = MessageStore::open(small_config(dir.path(), mode)).unwrap();
        match store.append_messages(&[message("T", 0, vec![1; 100], "k")]) {
            PutProgress::Done(result) => {
                assert_eq!(mode, FlushDiskType::AsyncFlush);
                assert_eq!(result.status, PutMessageStatus::PutOk);
            }
            PutProgress::AwaitingFlush(pending) => {
                assert_eq!(mode, FlushDiskType::SyncFlush);
                let (done, results) = channel_callback();
                store.when_flushed(pending, done);
                let result = results.recv_timeout(Duration::from_secs(30)).unwrap();
                assert_eq!(result.status, PutMessageStatus::PutOk);
                assert!(store.flushed_offset() > 0);
            }
        }
        match store.append_messages(&[]) {
            PutProgress::Done(refused) => {
                assert_eq!(refused.status, PutMessageStatus::MessageIllegal);
            }
            PutProgress::AwaitingFlush(_) => panic!("an empty put must be refused"),
        }
    }
}

#[test]
fn concurrent_sync_puts_share_group_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        Arc::new(MessageStore::open(small_config(dir.path(), FlushDiskType::SyncFlush)).unwrap());
    let (sender, results) = mpsc::channel();
    let threads: Vec<_> = (0..4u32)
        .map(|thread| {
            let store = Arc::clone(&store);
            let sender = sender.clone();
            std::thread::spawn(move || {
                for i in 0..50u32 {
                    let sender = sender.clone();
                    let batch = [message("T", thread as i32, vec![i as u8; 64], "k")];
                    store.put_messages_with(
                        &batch,
                        Box::new(move |result| {
                            let _ = sender.send(result);
                        }),
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let mut offsets = Vec::new();
    for _ in 0..200 {
        let result = results.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(result.status, PutMessageStatus::PutOk);
        offsets.push(result.append.unwrap().wrote_offset);
    }
    offsets.sort_unstable();
    offsets.dedup();
    assert_eq!(offsets.len(), 200);
    for queue in 0..4 {
        assert_eq!(store.get_max_offset_in_queue("T", queue), 50);
    }
    assert!(store.flushed_offset() > *offsets.last().unwrap());
}
