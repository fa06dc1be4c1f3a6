//! Latency histograms and counters: one [`Recorder`] per run, shared by every sending task, with
//! a window for the periodic progress line and a total for the final report.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency a histogram tracks (60 s, in microseconds); larger values are clamped.
pub const MAX_TRACKED_MICROS: u64 = 60_000_000;

/// A latency histogram in microseconds with 3 significant digits.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    histogram: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

/// Percentiles of a histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Values recorded.
    pub count: u64,
    /// Mean.
    pub mean_us: f64,
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// Largest value.
    pub max_us: u64,
}

impl LatencyHistogram {
    /// An empty histogram covering 1 µs ..= [`MAX_TRACKED_MICROS`].
    pub fn new() -> Self {
        let histogram = Histogram::new_with_bounds(1, MAX_TRACKED_MICROS, 3)
            .expect("constant bounds: low 1, high > 2 * low, 3 significant digits");
        Self { histogram }
    }

    /// Records one latency (clamped to 1 µs ..= [`MAX_TRACKED_MICROS`]).
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.record_micros(micros);
    }

    /// Records one latency given in microseconds (clamped).
    pub fn record_micros(&mut self, micros: u64) {
        let value = micros.clamp(1, MAX_TRACKED_MICROS);
        // In range by construction, so `saturating_record` never drops it.
        self.histogram.saturating_record(value);
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        // Same bounds on both sides: `add` cannot fail; saturate if it ever does.
        if self.histogram.add(&other.histogram).is_err() {
            for value in other.histogram.iter_recorded() {
                self.histogram
                    .saturating_record_n(value.value_iterated_to(), value.count_at_value());
            }
        }
    }

    /// Number of values recorded.
    pub fn len(&self) -> u64 {
        self.histogram.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.histogram.reset();
    }

    /// The value at `quantile` (0.0 ..= 1.0), in microseconds; 0 when empty.
    pub fn quantile_us(&self, quantile: f64) -> u64 {
        if self.histogram.is_empty() {
            return 0;
        }
        self.histogram.value_at_quantile(quantile)
    }

    /// Count, mean, p50/p90/p99/p99.9 and max.
    pub fn summary(&self) -> LatencySummary {
        if self.histogram.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: self.histogram.len(),
            mean_us: self.histogram.mean(),
            p50_us: self.quantile_us(0.50),
            p90_us: self.quantile_us(0.90),
            p99_us: self.quantile_us(0.99),
            p999_us: self.quantile_us(0.999),
            max_us: self.histogram.max(),
        }
    }
}

/// What a run counts: successes with their latency, failures, bytes.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    /// Successful operations (messages).
    pub ok: u64,
    /// Failed operations (messages).
    pub failed: u64,
    /// Payload bytes of the successful operations.
    pub bytes: u64,
    /// Latency of the successful operations (send or pull round trip).
    pub latency: LatencyHistogram,
    /// End-to-end latency of received messages (send time stamped in the body → receipt).
    pub e2e: LatencyHistogram,
}

impl Counters {
    /// Records `messages` successful messages of `bytes` payload bytes taking `latency`.
    pub fn success(&mut self, messages: u64, bytes: u64, latency: Duration) {
        self.ok += messages;
        self.bytes += bytes;
        self.latency.record(latency);
    }

    /// Records `messages` failed messages.
    pub fn failure(&mut self, messages: u64) {
        self.failed += messages;
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Counters) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.bytes += other.bytes;
        self.latency.merge(&other.latency);
        self.e2e.merge(&other.e2e);
    }

    /// Empties the counters.
    pub fn clear(&mut self) {
        self.ok = 0;
        self.failed = 0;
        self.bytes = 0;
        self.latency.clear();
        self.e2e.clear();
    }
}

/// A run's counters: the current progress window and the measured total. Values recorded
/// during warm-up go to the window (so progress lines show them) but never to the total.
#[derive(Debug, Default)]
pub struct Recorder {
    /// Since the last progress line.
    pub window: Counters,
    /// Inside the measured window.
    pub total: Counters,
}

impl Recorder {
    /// A success; `measured` says whether it belongs to the measured window.
    pub fn success(&mut self, messages: u64, bytes: u64, latency: Duration, measured: bool) {
        self.window.success(messages, bytes, latency);
        if measured {
            self.total.success(messages, bytes, latency);
        }
    }

    /// A failure; `measured` says whether it belongs to the measured window.
    pub fn failure(&mut self, messages: u64, measured: bool) {
        self.window.failure(messages);
        if measured {
            self.total.failure(messages);
        }
    }

    /// An end-to-end latency; `measured` says whether it belongs to the measured window.
    pub fn end_to_end(&mut self, latency: Duration, measured: bool) {
        self.window.e2e.record(latency);
        if measured {
            self.total.e2e.record(latency);
        }
    }

    /// Takes the window's counters and starts a new window.
    pub fn take_window(&mut self) -> Counters {
        std::mem::take(&mut self.window)
    }
}

/// `count / seconds`, 0 for an empty interval.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        return 0.0;
    }
    count as f64 / seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_uniform_distribution() {
        let mut histogram = LatencyHistogram::new();
        for micros in 1..=10_000 {
            histogram.record_micros(micros);
        }
        let summary = histogram.summary();
        assert_eq!(summary.count, 10_000);
        // hdrhistogram with 3 significant digits: values are exact to 0.1 %.
        let near = |value: u64, expected: u64| value.abs_diff(expected) <= expected / 500 + 1;
        assert!(near(summary.p50_us, 5_000), "{summary:?}");
        assert!(near(summary.p90_us, 9_000), "{summary:?}");
        assert!(near(summary.p99_us, 9_900), "{summary:?}");
        assert!(near(summary.p999_us, 9_990), "{summary:?}");
        assert!(near(summary.max_us, 10_000), "{summary:?}");
        assert!((summary.mean_us - 5_000.5).abs() < 10.0, "{summary:?}");
    }

    #[test]
    fn one_slow_outlier_shows_in_the_tail_only() {
        let mut histogram = LatencyHistogram::new();
        for _ in 0..999 {
            histogram.record(Duration::from_micros(100));
        }
        histogram.record(Duration::from_millis(50));
        let summary = histogram.summary();
        assert_eq!(summary.p50_us, 100);
        assert_eq!(summary.p99_us, 100);
        assert!(summary.max_us >= 49_990, "{summary:?}");
        assert!(summary.p999_us <= 100 || summary.p999_us >= 49_990);
    }

    #[test]
    fn empty_and_clamped_values() {
        let mut histogram = LatencyHistogram::new();
        assert_eq!(histogram.summary(), LatencySummary::default());
        histogram.record(Duration::ZERO);
        histogram.record(Duration::from_secs(3_600));
        assert_eq!(histogram.len(), 2);
        assert_eq!(histogram.quantile_us(0.0), 1);
        assert!(histogram.summary().max_us >= MAX_TRACKED_MICROS * 999 / 1000);
    }

    #[test]
    fn warm_up_values_stay_out_of_the_total() {
        let mut recorder = Recorder::default();
        recorder.success(1, 128, Duration::from_micros(10), false);
        recorder.failure(2, false);
        recorder.success(4, 512, Duration::from_micros(20), true);
        recorder.failure(1, true);
        let window = recorder.take_window();
        assert_eq!((window.ok, window.failed, window.bytes), (5, 3, 640));
        assert_eq!(window.latency.len(), 2);
        assert_eq!(recorder.window.ok, 0);
        let total = &recorder.total;
        assert_eq!((total.ok, total.failed, total.bytes), (4, 1, 512));
        let mut merged = Counters::default();
        merged.merge(&window);
        merged.merge(total);
        assert_eq!((merged.ok, merged.failed, merged.latency.len()), (9, 4, 3));
    }

    #[test]
    fn rates() {
        assert_eq!(per_second(10, Duration::ZERO), 0.0);
        assert!((per_second(1_000, Duration::from_millis(500)) - 2_000.0).abs() < 1e-9);
    }
}
