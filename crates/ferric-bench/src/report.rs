//! The final report (JSON and a readable table) and the periodic progress lines.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::procfs::ProcessUsage;
use crate::stats::{Counters, LatencySummary, per_second};

/// One direction of a run (sending or consuming).
#[derive(Debug, Clone, Serialize)]
pub struct SideReport {
    /// Messages that succeeded inside the measured window.
    pub messages: u64,
    /// Messages that failed inside the measured window.
    pub failures: u64,
    /// Seconds the rates are computed over.
    pub seconds: f64,
    /// `messages / seconds`.
    pub msgs_per_sec: f64,
    /// Payload megabytes (10^6 bytes) per second.
    pub mb_per_sec: f64,
    /// Send (or pull) round trip, µs.
    pub latency: LatencySummary,
    /// Stamped send time → receipt, µs (consumers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_to_end: Option<LatencySummary>,
}

impl SideReport {
    /// Builds a side from its measured counters over `elapsed`.
    pub fn from_counters(counters: &Counters, elapsed: Duration, with_e2e: bool) -> Self {
        Self {
            messages: counters.ok,
            failures: counters.failed,
            seconds: elapsed.as_secs_f64(),
            msgs_per_sec: per_second(counters.ok, elapsed),
            mb_per_sec: per_second(counters.bytes, elapsed) / 1e6,
            latency: counters.latency.summary(),
            end_to_end: with_e2e.then(|| counters.e2e.summary()),
        }
    }
}

/// Everything a run reports.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `producer`, `consumer` or `e2e`.
    pub command: &'static str,
    /// The options of the run.
    pub settings: serde_json::Value,
    /// Sending side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send: Option<SideReport>,
    /// Consuming side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consume: Option<SideReport>,
    /// Watched processes over the measured window.
    pub processes: Vec<ProcessUsage>,
}

fn millis(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

fn write_side(out: &mut String, title: &str, side: &SideReport) {
    let _ = writeln!(
        out,
        "{title}: {} msgs in {:.2} s = {:.0} msgs/s, {:.2} MB/s, {} failed",
        side.messages, side.seconds, side.msgs_per_sec, side.mb_per_sec, side.failures
    );
    let mut latency_row = |name: &str, l: &LatencySummary| {
        let _ = writeln!(
            out,
            "  {name:<14} p50 {:>9.3} ms | p99 {:>9.3} ms | p99.9 {:>9.3} ms | max {:>9.3} ms | \
             mean {:>9.3} ms",
            millis(l.p50_us),
            millis(l.p99_us),
            millis(l.p999_us),
            millis(l.max_us),
            l.mean_us / 1000.0
        );
    };
    latency_row("round trip", &side.latency);
    if let Some(e2e) = &side.end_to_end {
        latency_row("end to end", e2e);
    }
}

/// The report as a readable table.
pub fn render_table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "=== ferric-bench {} ===", report.command);
    if let Some(send) = &report.send {
        write_side(&mut out, "send", send);
    }
    if let Some(consume) = &report.consume {
        write_side(&mut out, "consume", consume);
    }
    for process in &report.processes {
        let _ = writeln!(
            out,
            "pid {}: cpu {:.1} % of a core, {:.2} µs/msg, rss {:.1} MiB, peak rss {:.1} MiB",
            process.pid,
            process.cpu_percent,
            process.cpu_us_per_msg,
            process.rss_kib as f64 / 1024.0,
            process.peak_rss_kib as f64 / 1024.0
        );
    }
    out
}

/// A RocketMQ-style progress line for one window of sends.
pub fn send_progress(at: Duration, warm_up: bool, window: &Counters, span: Duration) -> String {
    let summary = window.latency.summary();
    format!(
        "[{:>7.1}s{}] Send TPS: {:.0} | Max RT(ms): {:.3} | Average RT(ms): {:.3} | \
         p99 RT(ms): {:.3} | Send Failed: {}",
        at.as_secs_f64(),
        if warm_up { " warm-up" } else { "" },
        per_second(window.ok, span),
        millis(summary.max_us),
        summary.mean_us / 1000.0,
        millis(summary.p99_us),
        window.failed
    )
}

/// A progress line for one window of consumption.
pub fn consume_progress(at: Duration, warm_up: bool, window: &Counters, span: Duration) -> String {
    let e2e = window.e2e.summary();
    format!(
        "[{:>7.1}s{}] Consume TPS: {:.0} | Average E2E(ms): {:.3} | p99 E2E(ms): {:.3} | \
         Max E2E(ms): {:.3} | Pull Failed: {}",
        at.as_secs_f64(),
        if warm_up { " warm-up" } else { "" },
        per_second(window.ok, span),
        e2e.mean_us / 1000.0,
        millis(e2e.p99_us),
        millis(e2e.max_us),
        window.failed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_json_carry_the_figures() -> Result<(), serde_json::Error> {
        let mut counters = Counters::default();
        for _ in 0..100 {
            counters.success(1, 1000, Duration::from_micros(250));
        }
        counters.failure(3);
        counters.e2e.record(Duration::from_millis(2));
        let side = SideReport::from_counters(&counters, Duration::from_secs(2), true);
        assert_eq!(side.msgs_per_sec, 50.0);
        assert!((side.mb_per_sec - 0.05).abs() < 1e-12);
        let report = Report {
            command: "e2e",
            settings: serde_json::json!({"size": 1000}),
            send: Some(side.clone()),
            consume: Some(side),
            processes: vec![ProcessUsage {
                pid: 9,
                cpu_us: 1,
                cpu_percent: 12.5,
                cpu_us_per_msg: 3.25,
                rss_kib: 2048,
                peak_rss_kib: 4096,
            }],
        };
        let table = render_table(&report);
        assert!(table.contains("100 msgs in 2.00 s = 50 msgs/s"), "{table}");
        assert!(table.contains("p50     0.250 ms"), "{table}");
        assert!(table.contains("3.25 µs/msg, rss 2.0 MiB"), "{table}");
        let json = serde_json::to_value(&report)?;
        assert_eq!(json["send"]["failures"], 3);
        assert_eq!(json["consume"]["end_to_end"]["p50_us"], 2000);
        assert_eq!(json["processes"][0]["pid"], 9);
        Ok(())
    }

    #[test]
    fn progress_lines_have_the_rocketmq_shape() {
        let mut window = Counters::default();
        window.success(10, 10, Duration::from_millis(1));
        window.failure(1);
        let line = send_progress(
            Duration::from_secs(3),
            true,
            &window,
            Duration::from_secs(1),
        );
        assert!(
            line.contains("warm-up] Send TPS: 10 | Max RT(ms): 1.000"),
            "{line}"
        );
        assert!(line.ends_with("Send Failed: 1"), "{line}");
        let line = consume_progress(Duration::from_secs(3), false, &window, Duration::ZERO);
        assert!(line.contains("Consume TPS: 0 |"), "{line}");
    }
}
