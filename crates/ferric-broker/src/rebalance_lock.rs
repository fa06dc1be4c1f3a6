//! Queue locks for orderly consumers (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ): one client per
//! (group, queue), expiring after 60 s without renewal.

use std::collections::{BTreeMap, HashMap};

use ferric_protocol::fastjson::MessageQueueBody;
use parking_lot::Mutex;

/// Lock lifetime (`rocketmq.broker.rebalance.lockMaxLiveTime`).
pub const LOCK_MAX_LIVE_MS: i64 = 60_000;

#[derive(Debug, Clone)]
struct LockEntry {
    client_id: String,
    last_update_ms: i64,
}

/// The lock table.
#[derive(Debug, Default)]
pub struct RebalanceLockManager {
    table: Mutex<HashMap<String, BTreeMap<MessageQueueBody, LockEntry>>>,
}

impl RebalanceLockManager {
    /// Locks (or renews) every queue that is free, expired or already held by `client_id`;
    /// returns the queues now held by it.
    pub fn try_lock_batch(
        &self,
        group: &str,
        queues: &[MessageQueueBody],
        client_id: &str,
        now_ms: i64,
    ) -> Vec<MessageQueueBody> {
        let mut table = self.table.lock();
        let locks = table.entry(group.to_owned()).or_default();
        let mut locked = Vec::new();
        for queue in queues {
            let free = match locks.get(queue) {
                None => true,
                Some(entry) => {
                    entry.client_id == client_id || now_ms - entry.last_update_ms > LOCK_MAX_LIVE_MS
                }
            };
            if free {
                locks.insert(
                    queue.clone(),
                    LockEntry {
                        client_id: client_id.to_owned(),
                        last_update_ms: now_ms,
                    },
                );
                locked.push(queue.clone());
            }
        }
        locked
    }

    /// Releases the queues held by `client_id`.
    pub fn unlock_batch(&self, group: &str, queues: &[MessageQueueBody], client_id: &str) {
        let mut table = self.table.lock();
        if let Some(locks) = table.get_mut(group) {
            for queue in queues {
                if locks.get(queue).is_some_and(|e| e.client_id == client_id) {
                    locks.remove(queue);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mq(id: i32) -> MessageQueueBody {
        MessageQueueBody {
            broker_name: "b".into(),
            queue_id: id,
            topic: "T".into(),
        }
    }

    #[test]
    fn locks_are_exclusive_until_expiry_or_unlock() {
        let locks = RebalanceLockManager::default();
        assert_eq!(locks.try_lock_batch("g", &[mq(0), mq(1)], "c1", 0).len(), 2);
        assert!(locks.try_lock_batch("g", &[mq(0)], "c2", 1000).is_empty());
        assert_eq!(locks.try_lock_batch("g", &[mq(0)], "c1", 1000).len(), 1);
        assert_eq!(
            locks.try_lock_batch("g", &[mq(1)], "c2", 61_001).len(),
            1,
            "expired after 60 s"
        );
        locks.unlock_batch("g", &[mq(0)], "c1");
        assert_eq!(locks.try_lock_batch("g", &[mq(0)], "c2", 61_001).len(), 1);
    }
}
