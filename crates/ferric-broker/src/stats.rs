//! Broker counters for GET_BROKER_RUNTIME_INFO: TPS over 10 s / 60 s / 600 s windows, sampled
//! once a second from the store's totals.

use std::collections::VecDeque;

use parking_lot::Mutex;

/// One sample of the cumulative counters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CounterSample {
    /// Sample time (ms).
    pub at_ms: i64,
    /// Messages put so far.
    pub put: u64,
    /// Gets that found messages.
    pub get_found: u64,
    /// Gets that found nothing.
    pub get_miss: u64,
    /// Messages transferred by gets.
    pub get_transferred: u64,
}

/// Samples of the last 10 minutes.
#[derive(Debug, Default)]
pub struct BrokerStats {
    samples: Mutex<VecDeque<CounterSample>>,
}

const KEEP_MS: i64 = 610_000;

impl BrokerStats {
    /// Records a sample and drops those older than the largest window.
    pub fn record(&self, sample: CounterSample) {
        let mut samples = self.samples.lock();
        samples.push_back(sample);
        while samples
            .front()
            .is_some_and(|s| sample.at_ms - s.at_ms > KEEP_MS)
        {
            samples.pop_front();
        }
    }

    /// `"<10s> <60s> <600s>"` per-second rates of the counter `pick` selects, up to `now`.
    pub fn tps(&self, now: CounterSample, pick: impl Fn(&CounterSample) -> u64) -> String {
        let samples = self.samples.lock();
        let rate = |window_ms: i64| -> f64 {
            let oldest = samples
                .iter()
                .find(|s| now.at_ms - s.at_ms <= window_ms)
                .copied();
            match oldest {
                Some(start) if now.at_ms > start.at_ms => {
                    let delta = pick(&now).saturating_sub(pick(&start)) as f64;
                    delta * 1000.0 / (now.at_ms - start.at_ms) as f64
                }
                _ => 0.0,
            }
        };
        format!(
            "{:.2} {:.2} {:.2}",
            rate(10_000),
            rate(60_000),
            rate(600_000)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tps_over_windows() {
        let stats = BrokerStats::default();
        stats.record(CounterSample {
            at_ms: 0,
            put: 0,
            ..CounterSample::default()
        });
        let now = CounterSample {
            at_ms: 5000,
            put: 50,
            ..CounterSample::default()
        };
        assert_eq!(stats.tps(now, |s| s.put), "10.00 10.00 10.00");
    }
}
