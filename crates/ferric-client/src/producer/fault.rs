//! Latency-based fault avoidance (`send_latency_fault_enable`): a broker whose last send was slow
//! or failed is avoided for a while, as RocketMQ's `MQFaultStrategy` does.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Latency thresholds (ms) …
const LATENCY_MAX: [u64; 7] = [50, 100, 550, 1000, 2000, 3000, 15000];
/// … and how long (ms) a broker is avoided after a send at least that slow.
const NOT_AVAILABLE_DURATION: [u64; 7] = [0, 0, 30000, 60000, 120000, 180000, 600000];
/// Latency charged to a broker whose send failed outright.
pub const ISOLATION_LATENCY: Duration = Duration::from_millis(30000);

#[derive(Debug, Clone, Copy)]
struct FaultItem {
    latency: Duration,
    available_from: Instant,
}

/// Per-broker availability.
#[derive(Debug, Default)]
pub struct LatencyFaultTolerance {
    items: Mutex<HashMap<String, FaultItem>>,
}

/// How long a broker is avoided after a send that took `latency`.
pub fn not_available_duration(latency: Duration) -> Duration {
    let millis = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    LATENCY_MAX
        .iter()
        .rposition(|max| millis >= *max)
        .map(|index| Duration::from_millis(NOT_AVAILABLE_DURATION[index]))
        .unwrap_or_default()
}

impl LatencyFaultTolerance {
    /// Records a send to `broker` that took `latency` (or failed, with `isolation`) at `now`.
    pub fn update(&self, broker: &str, latency: Duration, isolation: bool, now: Instant) {
        let charged = if isolation {
            ISOLATION_LATENCY
        } else {
            latency
        };
        let item = FaultItem {
            latency: charged,
            available_from: now + not_available_duration(charged),
        };
        self.items.lock().insert(broker.to_owned(), item);
    }

    /// True when `broker` may be used at `now`.
    pub fn is_available(&self, broker: &str, now: Instant) -> bool {
        self.items
            .lock()
            .get(broker)
            .is_none_or(|item| now >= item.available_from)
    }

    /// The least bad broker among the recorded ones (lowest latency, then soonest available).
    pub fn pick_one_at_least(&self) -> Option<String> {
        let items = self.items.lock();
        items
            .iter()
            .min_by_key(|(_, item)| (item.latency, item.available_from))
            .map(|(name, _)| name.clone())
    }

    /// Forgets `broker`.
    pub fn remove(&self, broker: &str) {
        self.items.lock().remove(broker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_the_table() {
        assert_eq!(
            not_available_duration(Duration::from_millis(10)),
            Duration::ZERO
        );
        assert_eq!(
            not_available_duration(Duration::from_millis(120)),
            Duration::ZERO
        );
        assert_eq!(
            not_available_duration(Duration::from_millis(600)),
            Duration::from_millis(30000)
        );
        assert_eq!(
            not_available_duration(Duration::from_millis(20000)),
            Duration::from_millis(600000)
        );
    }

    #[test]
    fn failed_broker_is_avoided_then_released() {
        let faults = LatencyFaultTolerance::default();
        let t0 = Instant::now();
        assert!(faults.is_available("a", t0));
        faults.update("a", Duration::from_millis(5), true, t0);
        faults.update("b", Duration::from_millis(5), false, t0);
        assert!(!faults.is_available("a", t0 + Duration::from_secs(1)));
        assert!(faults.is_available("b", t0));
        assert!(faults.is_available("a", t0 + Duration::from_secs(601)));
        assert_eq!(faults.pick_one_at_least().as_deref(), Some("b"));
        faults.remove("b");
        assert_eq!(faults.pick_one_at_least().as_deref(), Some("a"));
    }
}
