//! Open-loop pacing: message `n` of a run at rate `R` is due at `start + n / R`. Latency is
//! measured from that intended time, so a stalled broker shows up as latency instead of being
//! hidden by a load generator that waits for it (coordinated omission).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Hands out send slots: in closed loop a slot is due at once, in open loop at its scheduled
/// time. Shared by every task of a run; `next` is lock-free.
#[derive(Debug)]
pub struct Schedule {
    start: Instant,
    /// Nanoseconds between two messages; `None` = as fast as possible.
    interval_nanos: Option<f64>,
    next_ticket: AtomicU64,
}

/// One send slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Sequence number of the slot in the run (0-based).
    pub ticket: u64,
    /// When the message should be sent (open loop), or `None` in closed loop.
    pub intended: Option<Instant>,
}

impl Schedule {
    /// A schedule starting at `start`; `rate` messages per second, or as fast as possible.
    pub fn new(start: Instant, rate: Option<f64>) -> Self {
        let interval_nanos = rate
            .filter(|rate| rate.is_finite() && *rate > 0.0)
            .map(|rate| 1e9 / rate);
        Self {
            start,
            interval_nanos,
            next_ticket: AtomicU64::new(0),
        }
    }

    /// True for an open-loop (fixed-rate) schedule.
    pub fn is_open_loop(&self) -> bool {
        self.interval_nanos.is_some()
    }

    /// When slot `ticket` is due (open loop), else `None`.
    pub fn intended_time(&self, ticket: u64) -> Option<Instant> {
        let interval = self.interval_nanos?;
        let offset = Duration::from_nanos((ticket as f64 * interval).round() as u64);
        Some(self.start + offset)
    }

    /// Takes `count` consecutive slots (a batch) and returns the first one.
    pub fn next(&self, count: u64) -> Slot {
        let ticket = self.next_ticket.fetch_add(count.max(1), Ordering::Relaxed);
        Slot {
            ticket,
            intended: self.intended_time(ticket),
        }
    }

    /// Slots handed out so far.
    pub fn issued(&self) -> u64 {
        self.next_ticket.load(Ordering::Relaxed)
    }
}

/// How far behind schedule `now` is for a slot due at `intended` (zero when early).
pub fn lag(intended: Instant, now: Instant) -> Duration {
    now.saturating_duration_since(intended)
}

/// Waits until `deadline`: tokio timers have 1 ms resolution, so sleep to about 1 ms before
/// and then yield until the time has come (this keeps the load generator's core busy, which
/// is the price of sub-millisecond send times).
pub async fn wait_until(deadline: Instant) {
    const SPIN: Duration = Duration::from_micros(1_200);
    let now = Instant::now();
    if deadline <= now {
        return;
    }
    if deadline - now > SPIN {
        tokio::time::sleep_until((deadline - SPIN).into()).await;
    }
    while Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_loop_has_no_intended_time() {
        let schedule = Schedule::new(Instant::now(), None);
        assert!(!schedule.is_open_loop());
        assert_eq!(
            schedule.next(1),
            Slot {
                ticket: 0,
                intended: None
            }
        );
        assert_eq!(schedule.next(10).ticket, 1);
        assert_eq!(schedule.next(1).ticket, 11);
        assert_eq!(schedule.issued(), 12);
        assert!(!Schedule::new(Instant::now(), Some(0.0)).is_open_loop());
        assert!(!Schedule::new(Instant::now(), Some(f64::NAN)).is_open_loop());
    }

    #[test]
    fn open_loop_spaces_slots_by_the_rate() {
        let start = Instant::now();
        let schedule = Schedule::new(start, Some(20_000.0));
        assert!(schedule.is_open_loop());
        assert_eq!(schedule.intended_time(0), Some(start));
        assert_eq!(
            schedule.intended_time(1),
            Some(start + Duration::from_micros(50))
        );
        // One second's worth of slots ends exactly one second later: no drift from rounding.
        assert_eq!(
            schedule.intended_time(20_000),
            Some(start + Duration::from_secs(1))
        );
        let third = Schedule::new(start, Some(3.0));
        assert_eq!(
            third.intended_time(1),
            Some(start + Duration::from_nanos(333_333_333))
        );
        assert_eq!(third.intended_time(3), Some(start + Duration::from_secs(1)));
        // A batch of 5 takes 5 slots: the next one is due 5 intervals later.
        let first = schedule.next(5);
        let second = schedule.next(1);
        assert_eq!(second.ticket - first.ticket, 5);
        assert_eq!(
            second.intended.zip(first.intended).map(|(b, a)| b - a),
            Some(Duration::from_micros(250))
        );
    }

    #[test]
    fn lag_is_zero_when_early() {
        let now = Instant::now();
        let later = now + Duration::from_millis(3);
        assert_eq!(lag(later, now), Duration::ZERO);
        assert_eq!(lag(now, later), Duration::from_millis(3));
    }
}
