//! [`ProcessQueue`]: the messages of one assigned queue that were pulled but not yet consumed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ferric_common::MessageExt;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A broker lock older than this is treated as lost (`REBALANCE_LOCK_MAX_LIVE_TIME`, 30 s).
pub const LOCK_MAX_LIVE_TIME: Duration = Duration::from_secs(30);

/// Pulled-but-unconsumed messages of one queue, keyed by queue offset.
#[derive(Debug)]
pub struct ProcessQueue {
    msgs: Mutex<BTreeMap<i64, MessageExt>>,
    consuming: Mutex<BTreeMap<i64, MessageExt>>,
    msg_size: AtomicU64,
    queue_offset_max: AtomicI64,
    dropped: AtomicBool,
    locked: AtomicBool,
    last_lock: Mutex<Option<Instant>>,
    /// Broker id to pull from next.
    pub suggested_broker: AtomicI64,
    /// Serialises orderly consumption and unlocking.
    pub consume_lock: tokio::sync::Mutex<()>,
    /// Woken when messages arrive (orderly consumption).
    pub arrived: Notify,
    /// Cancelled when the queue is dropped.
    pub cancel: CancellationToken,
}

impl ProcessQueue {
    /// An empty queue whose tasks stop with `parent`.
    pub fn new(parent: &CancellationToken) -> Self {
        Self {
            msgs: Mutex::default(),
            consuming: Mutex::default(),
            msg_size: AtomicU64::new(0),
            queue_offset_max: AtomicI64::new(0),
            dropped: AtomicBool::new(false),
            locked: AtomicBool::new(false),
            last_lock: Mutex::new(None),
            suggested_broker: AtomicI64::new(0),
            consume_lock: tokio::sync::Mutex::new(()),
            arrived: Notify::new(),
            cancel: parent.child_token(),
        }
    }

    /// Adds pulled messages (duplicates by offset are ignored).
    pub fn put(&self, msgs: &[MessageExt]) {
        let mut tree = self.msgs.lock();
        for msg in msgs {
            if tree.insert(msg.queue_offset, msg.clone()).is_none() {
                self.msg_size
                    .fetch_add(msg.body.len() as u64, Ordering::Relaxed);
            }
            self.queue_offset_max
                .fetch_max(msg.queue_offset, Ordering::Relaxed);
        }
        drop(tree);
        self.arrived.notify_one();
    }

    /// Removes consumed messages; returns the offset to commit (the smallest offset still held,
    /// else max + 1), or -1 when nothing was held.
    pub fn remove(&self, msgs: &[MessageExt]) -> i64 {
        let mut tree = self.msgs.lock();
        if tree.is_empty() {
            return -1;
        }
        let mut result = self.queue_offset_max.load(Ordering::Relaxed) + 1;
        for msg in msgs {
            if let Some(removed) = tree.remove(&msg.queue_offset) {
                self.msg_size
                    .fetch_sub(removed.body.len() as u64, Ordering::Relaxed);
            }
        }
        if let Some((first, _)) = tree.first_key_value() {
            result = *first;
        }
        result
    }

    /// Orderly: takes up to `n` messages in offset order for consumption.
    pub fn take(&self, n: usize) -> Vec<MessageExt> {
        let mut tree = self.msgs.lock();
        let mut consuming = self.consuming.lock();
        let mut taken = Vec::new();
        while taken.len() < n {
            let Some((offset, msg)) = tree.pop_first() else {
                break;
            };
            consuming.insert(offset, msg.clone());
            taken.push(msg);
        }
        taken
    }

    /// Orderly: the taken messages were consumed; returns the offset to commit (-1 if none).
    pub fn commit(&self) -> i64 {
        let mut consuming = self.consuming.lock();
        let next = consuming.last_key_value().map(|(offset, _)| offset + 1);
        let bytes: u64 = consuming.values().map(|m| m.body.len() as u64).sum();
        consuming.clear();
        self.msg_size.fetch_sub(bytes, Ordering::Relaxed);
        next.unwrap_or(-1)
    }

    /// Orderly: puts taken messages back (with their reconsume count raised) for another try.
    pub fn make_available_again(&self, msgs: &[MessageExt]) {
        let mut consuming = self.consuming.lock();
        let mut tree = self.msgs.lock();
        for msg in msgs {
            consuming.remove(&msg.queue_offset);
            let mut again = msg.clone();
            again.reconsume_times += 1;
            tree.insert(again.queue_offset, again);
        }
    }

    /// Messages held (waiting plus being consumed orderly).
    pub fn count(&self) -> usize {
        self.msgs.lock().len() + self.consuming.lock().len()
    }

    /// Body bytes held.
    pub fn size(&self) -> u64 {
        self.msg_size.load(Ordering::Relaxed)
    }

    /// True once the queue was taken away from this consumer.
    pub fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::Acquire)
    }

    /// Drops the queue and stops its tasks.
    pub fn drop_queue(&self) {
        self.dropped.store(true, Ordering::Release);
        self.cancel.cancel();
    }

    /// Records the result of a broker lock attempt.
    pub fn set_locked(&self, locked: bool) {
        self.locked.store(locked, Ordering::Release);
        if locked {
            *self.last_lock.lock() = Some(Instant::now());
        }
    }

    /// True while the broker lock is held and fresh.
    pub fn is_locked(&self) -> bool {
        self.locked.load(Ordering::Acquire)
            && self
                .last_lock
                .lock()
                .is_some_and(|at| at.elapsed() < LOCK_MAX_LIVE_TIME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(offset: i64) -> MessageExt {
        MessageExt {
            queue_offset: offset,
            body: bytes::Bytes::from_static(b"abc"),
            ..MessageExt::default()
        }
    }

    #[test]
    fn remove_returns_lowest_pending_offset() {
        let pq = ProcessQueue::new(&CancellationToken::new());
        let batch: Vec<MessageExt> = (10..15).map(msg).collect();
        pq.put(&batch);
        assert_eq!(pq.count(), 5);
        assert_eq!(pq.size(), 15);
        assert_eq!(pq.remove(&batch[1..3]), 10);
        assert_eq!(pq.remove(&batch[0..1]), 13);
        assert_eq!(pq.remove(&batch[3..]), 15);
        assert_eq!(pq.remove(&batch), -1);
        assert_eq!(pq.size(), 0);
    }

    #[test]
    fn orderly_take_commit_and_retry() {
        let pq = ProcessQueue::new(&CancellationToken::new());
        pq.put(&(0..3).map(msg).collect::<Vec<_>>());
        let first = pq.take(1);
        assert_eq!(first[0].queue_offset, 0);
        pq.make_available_again(&first);
        let again = pq.take(2);
        assert_eq!(again[0].reconsume_times, 1);
        assert_eq!(pq.commit(), 2);
        assert_eq!(pq.count(), 1);
        assert_eq!(pq.commit(), -1);
    }

    #[test]
    fn lock_state() {
        let pq = ProcessQueue::new(&CancellationToken::new());
        assert!(!pq.is_locked());
        pq.set_locked(true);
        assert!(pq.is_locked());
        pq.drop_queue();
        assert!(pq.is_dropped() && pq.cancel.is_cancelled());
    }
}
