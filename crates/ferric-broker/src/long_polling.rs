//! Held pull requests (long polling): a PULL_MESSAGE that found nothing and carries
//! FLAG_SUSPEND waits here, keyed by `(topic, queueId)`, until a message arrives for that queue
//! or its hold time ends; then the pull is run again and answered through its channel.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::time::Instant;

use ferric_protocol::RemotingCommand;
use ferric_protocol::header::PullMessageRequestHeader;
use ferric_remoting::Channel;
use parking_lot::Mutex;

/// One suspended pull.
#[derive(Debug, Clone)]
pub struct HeldPull {
    /// Where to answer.
    pub channel: Channel,
    /// The original request (answered through its opaque).
    pub request: RemotingCommand,
    /// Its header, decoded once: the pull is re-run from it with suspension disallowed.
    pub header: PullMessageRequestHeader,
    /// The queue offset the consumer asked for.
    pub queue_offset: i64,
    /// When to answer anyway.
    pub deadline: Instant,
    /// Tag codes the subscription accepts (`None` = every message).
    pub tag_codes: Option<Vec<i32>>,
}

impl HeldPull {
    fn accepts(&self, max_offset: i64, tags_code: Option<i64>) -> bool {
        if max_offset <= self.queue_offset {
            return false;
        }
        match (&self.tag_codes, tags_code) {
            (Some(codes), Some(code)) => codes.iter().any(|c| i64::from(*c) == code),
            _ => true,
        }
    }
}

/// The table of held pulls, by topic and then queue id: a send looks its queue up with the
/// topic it already has, without building a key.
#[derive(Debug, Default)]
pub struct PullRequestHoldService {
    table: Mutex<HashMap<String, HashMap<i32, Vec<HeldPull>>>>,
    /// Pulls in `table`, changed under its lock: lets a send skip the lock while nothing is
    /// held, which is the common case.
    held: AtomicUsize,
}

impl PullRequestHoldService {
    /// Holds a pull for `(topic, queue_id)`.
    ///
    /// The caller re-reads the queue's max offset afterwards (a message stored between its read
    /// and the hold saw no held pull): the count is raised before that read, and a send reads
    /// the count after its append, so one of the two sees the other.
    pub fn hold(&self, topic: &str, queue_id: i32, pull: HeldPull) {
        let mut table = self.table.lock();
        let queues = match table.get_mut(topic) {
            Some(queues) => queues,
            None => table.entry(topic.to_owned()).or_default(),
        };
        queues.entry(queue_id).or_default().push(pull);
        self.held.fetch_add(1, Ordering::SeqCst);
    }

    /// Takes the pulls a newly stored message (queue max offset now `max_offset`, tag code
    /// `tags_code`) satisfies, in the order they were held.
    pub fn take_arrived(
        &self,
        topic: &str,
        queue_id: i32,
        max_offset: i64,
        tags_code: Option<i64>,
    ) -> Vec<HeldPull> {
        // Orders the caller's append before the load (see `hold`).
        fence(Ordering::SeqCst);
        if self.held.load(Ordering::SeqCst) == 0 {
            return Vec::new();
        }
        let mut table = self.table.lock();
        let Some(queues) = table.get_mut(topic) else {
            return Vec::new();
        };
        let Some(held) = queues.get_mut(&queue_id) else {
            return Vec::new();
        };
        let ready: Vec<HeldPull> = held
            .extract_if(.., |pull| pull.accepts(max_offset, tags_code))
            .collect();
        self.held.fetch_sub(ready.len(), Ordering::SeqCst);
        if held.is_empty() {
            queues.remove(&queue_id);
            if queues.is_empty() {
                table.remove(topic);
            }
        }
        ready
    }

    /// Takes the pulls whose hold time is over or whose queue grew past their offset
    /// (`max_offset` gives a queue's current max offset).
    pub fn take_due(&self, now: Instant, max_offset: impl Fn(&str, i32) -> i64) -> Vec<HeldPull> {
        let mut table = self.table.lock();
        let mut due = Vec::new();
        for (topic, queues) in table.iter_mut() {
            for (queue_id, held) in queues.iter_mut() {
                let max = max_offset(topic, *queue_id);
                let before = due.len();
                due.extend(
                    held.extract_if(.., |pull| pull.deadline <= now || max > pull.queue_offset),
                );
                self.held.fetch_sub(due.len() - before, Ordering::SeqCst);
            }
            queues.retain(|_, held| !held.is_empty());
        }
        table.retain(|_, queues| !queues.is_empty());
        due
    }

    /// Number of held pulls.
    pub fn len(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every held pull (shutdown: their connections are closing).
    pub fn clear(&self) {
        let mut table = self.table.lock();
        table.clear();
        self.held.store(0, Ordering::SeqCst);
    }
}
