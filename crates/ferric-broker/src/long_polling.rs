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

/// What a held pull waits for.
#[derive(Debug, Clone)]
pub struct HoldCondition {
    /// The queue offset the consumer asked for.
    pub queue_offset: i64,
    /// When to answer anyway.
    pub deadline: Instant,
    /// Tag codes the subscription accepts (`None` = every message).
    pub tag_codes: Option<Vec<i32>>,
}

impl HoldCondition {
    fn accepts(&self, max_offset: i64, tags_code: Option<i64>) -> bool {
        if max_offset <= self.queue_offset {
            return false;
        }
        match (&self.tag_codes, tags_code) {
            (Some(codes), Some(code)) => codes.iter().any(|c| i64::from(*c) == code),
            _ => true,
        }
    }

    fn is_due(&self, now: Instant, max_offset: i64) -> bool {
        self.deadline <= now || max_offset > self.queue_offset
    }
}

/// An entry of the hold table.
pub trait Held {
    /// What it waits for.
    fn condition(&self) -> &HoldCondition;
}

/// One suspended pull.
#[derive(Debug, Clone)]
pub struct HeldPull {
    /// Where to answer.
    pub channel: Channel,
    /// The original request (answered through its opaque).
    pub request: RemotingCommand,
    /// Its header, decoded once: the pull is re-run from it with suspension disallowed.
    pub header: PullMessageRequestHeader,
    /// What it waits for.
    pub until: HoldCondition,
}

impl Held for HeldPull {
    fn condition(&self) -> &HoldCondition {
        &self.until
    }
}

/// The table of held pulls, by topic and then queue id: a send looks its queue up with the
/// topic it already has, without building a key.
#[derive(Debug)]
pub struct PullRequestHoldService<P = HeldPull> {
    table: Mutex<HashMap<String, HashMap<i32, Vec<P>>>>,
    /// Pulls in `table`, changed under its lock: lets a send skip the lock while nothing is
    /// held, which is the common case.
    held: AtomicUsize,
}

impl<P> Default for PullRequestHoldService<P> {
    fn default() -> Self {
        Self {
            table: Mutex::new(HashMap::new()),
            held: AtomicUsize::new(0),
        }
    }
}

impl<P: Held> PullRequestHoldService<P> {
    /// Holds a pull for `(topic, queue_id)`.
    ///
    /// The caller re-reads the queue's max offset afterwards (a message stored between its read
    /// and the hold saw no held pull): the count is raised before that read, and a send reads
    /// the count after its append, so one of the two sees the other.
    pub fn hold(&self, topic: &str, queue_id: i32, pull: P) {
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
    ) -> Vec<P> {
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
        let ready: Vec<P> = held
            .extract_if(.., |pull| pull.condition().accepts(max_offset, tags_code))
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
    pub fn take_due(&self, now: Instant, max_offset: impl Fn(&str, i32) -> i64) -> Vec<P> {
        let mut table = self.table.lock();
        let mut due = Vec::new();
        for (topic, queues) in table.iter_mut() {
            for (queue_id, held) in queues.iter_mut() {
                let max = max_offset(topic, *queue_id);
                let before = due.len();
                due.extend(held.extract_if(.., |pull| pull.condition().is_due(now, max)));
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[derive(Debug)]
    struct Pull(u32, HoldCondition);

    impl Held for Pull {
        fn condition(&self) -> &HoldCondition {
            &self.1
        }
    }

    fn pull(id: u32, queue_offset: i64, deadline: Instant, tags: Option<Vec<i32>>) -> Pull {
        Pull(
            id,
            HoldCondition {
                queue_offset,
                deadline,
                tag_codes: tags,
            },
        )
    }

    fn ids(pulls: &[Pull]) -> Vec<u32> {
        pulls.iter().map(|p| p.0).collect()
    }

    #[test]
    fn an_arrival_takes_the_pulls_of_its_queue_it_satisfies_in_hold_order() {
        let later = Instant::now() + Duration::from_secs(60);
        let service = PullRequestHoldService::default();
        service.hold("T", 0, pull(1, 5, later, None));
        service.hold("T", 0, pull(2, 9, later, None));
        service.hold("T", 0, pull(3, 5, later, Some(vec![7])));
        service.hold("T", 0, pull(4, 5, later, None));
        service.hold("T", 1, pull(5, 5, later, None));
        service.hold("U", 0, pull(6, 5, later, None));
        assert_eq!(service.len(), 6);

        // Nothing held on other topics or queues is taken, nor at or below its offset.
        assert!(service.take_arrived("V", 0, 10, None).is_empty());
        assert!(service.take_arrived("T", 2, 10, None).is_empty());
        assert!(service.take_arrived("T", 0, 5, None).is_empty());
        // Offset 6 with tag code 8: not pull 2 (offset 9) nor pull 3 (tag 7).
        assert_eq!(ids(&service.take_arrived("T", 0, 6, Some(8))), [1, 4]);
        assert_eq!(service.len(), 4);
        assert_eq!(ids(&service.take_arrived("T", 0, 10, Some(7))), [2, 3]);
        assert_eq!(service.len(), 2);
        assert!(service.take_arrived("T", 0, 20, None).is_empty());
        assert_eq!(ids(&service.take_arrived("T", 1, 6, None)), [5]);
        assert_eq!(ids(&service.take_arrived("U", 0, 6, None)), [6]);
        assert!(service.is_empty());
        assert!(
            service.table.lock().is_empty(),
            "emptied queues and topics are removed"
        );
    }

    #[test]
    fn due_pulls_are_those_out_of_time_or_whose_queue_grew() {
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let service = PullRequestHoldService::default();
        service.hold("T", 0, pull(1, 5, now, None));
        service.hold("T", 0, pull(2, 5, later, None));
        service.hold("T", 1, pull(3, 5, later, None));
        service.hold("U", 3, pull(4, 2, later, None));
        let max = |topic: &str, queue_id: i32| match (topic, queue_id) {
            ("T", 1) => 6,
            _ => 5,
        };
        let mut due = ids(&service.take_due(now, max));
        due.sort_unstable();
        assert_eq!(due, [1, 3, 4]);
        assert_eq!(service.len(), 1);
        assert!(service.take_due(now, max).is_empty());
        service.clear();
        assert!(service.is_empty());
    }
}
