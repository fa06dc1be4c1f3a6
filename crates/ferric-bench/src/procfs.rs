//! Resource use of another process, from `/proc/<pid>/stat` (CPU time of all its threads) and
//! `/proc/<pid>/status` (`VmRSS`, `VmHWM`).

use std::time::Duration;

use serde::Serialize;

/// CPU time and memory of a process at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProcessSample {
    /// User plus system CPU time of every thread, in clock ticks.
    pub cpu_ticks: u64,
    /// Resident set size, KiB.
    pub rss_kib: u64,
    /// Peak resident set size (`VmHWM`), KiB.
    pub peak_rss_kib: u64,
}

/// Why a `/proc` file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// The file could not be read (the process is gone, or no permission).
    #[error("reading /proc: {0}")]
    Read(std::io::Error),
    /// The text did not have the expected shape.
    #[error("unexpected /proc text: {0}")]
    Malformed(&'static str),
}

/// `utime + stime` (fields 14 and 15) of a `/proc/<pid>/stat` line. The command name (field 2)
/// is in parentheses and may hold spaces or `)`, so fields are counted after the last `)`.
pub fn parse_stat_cpu_ticks(stat: &str) -> Result<u64, ProcError> {
    let close = stat
        .rfind(')')
        .ok_or(ProcError::Malformed("no ')' after the command name"))?;
    // After ") " come field 3 (state), 4, ...: utime is field 14 = index 11 here.
    let mut fields = stat[close + 1..].split_ascii_whitespace().skip(11);
    let mut next_number = |what| {
        fields
            .next()
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or(ProcError::Malformed(what))
    };
    let utime = next_number("utime")?;
    let stime = next_number("stime")?;
    Ok(utime + stime)
}

/// A `kB` field (`VmRSS: 1234 kB`) of `/proc/<pid>/status`, in KiB.
pub fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_ascii_whitespace().next()?.parse().ok()
    })
}

/// Reads one sample of `pid`.
pub fn sample(pid: u32) -> Result<ProcessSample, ProcError> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(ProcError::Read)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(ProcError::Read)?;
    Ok(ProcessSample {
        cpu_ticks: parse_stat_cpu_ticks(&stat)?,
        rss_kib: parse_status_kib(&status, "VmRSS").unwrap_or(0),
        peak_rss_kib: parse_status_kib(&status, "VmHWM").unwrap_or(0),
    })
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), the unit of `/proc/<pid>/stat` times.
pub fn ticks_per_second() -> u64 {
    rustix::param::clock_ticks_per_second()
}

/// What a watched process used during a measured window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ProcessUsage {
    /// The process.
    pub pid: u32,
    /// CPU time used in the window, µs.
    pub cpu_us: u64,
    /// CPU use in the window, percent of one core.
    pub cpu_percent: f64,
    /// CPU µs per message (0 without messages).
    pub cpu_us_per_msg: f64,
    /// RSS at the end of the window, KiB.
    pub rss_kib: u64,
    /// Peak RSS of the process's life so far, KiB.
    pub peak_rss_kib: u64,
}

/// Usage between two samples taken `elapsed` apart, with `messages` processed in between.
pub fn usage(
    pid: u32,
    before: &ProcessSample,
    after: &ProcessSample,
    elapsed: Duration,
    messages: u64,
    ticks_per_second: u64,
) -> ProcessUsage {
    let ticks = after.cpu_ticks.saturating_sub(before.cpu_ticks);
    let cpu_us = ticks * 1_000_000 / ticks_per_second.max(1);
    let seconds = elapsed.as_secs_f64();
    ProcessUsage {
        pid,
        cpu_us,
        cpu_percent: if seconds > 0.0 {
            cpu_us as f64 / 1e4 / seconds
        } else {
            0.0
        },
        cpu_us_per_msg: if messages > 0 {
            cpu_us as f64 / messages as f64
        } else {
            0.0
        },
        rss_kib: after.rss_kib,
        peak_rss_kib: after.peak_rss_kib,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "4242 (mq broker) S 1 4242 4242 0 -1 4194560 2890 0 0 0 1234 567 0 0 20 \
                        0 9 0 123456 1048576000 5000 18446744073709551615 1 1 0 0 0 0 0 4096 \
                        17663 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn stat_cpu_ticks_skip_a_name_with_spaces_and_parens() {
        assert_eq!(parse_stat_cpu_ticks(STAT).ok(), Some(1234 + 567));
        let odd = STAT.replace("(mq broker)", "(a) b) c)");
        assert_eq!(parse_stat_cpu_ticks(&odd).ok(), Some(1801));
        assert!(parse_stat_cpu_ticks("4242 mq S 1").is_err());
        assert!(parse_stat_cpu_ticks("4242 (mq) S 1 2 3").is_err());
    }

    #[test]
    fn status_fields_in_kib() {
        let status = "Name:\tmqbroker\nVmPeak:\t  900000 kB\nVmHWM:\t   40960 kB\n\
                      VmRSS:\t   30720 kB\nThreads:\t9\n";
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(30_720));
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(40_960));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
        assert_eq!(parse_status_kib("VmRSSx:\t1 kB", "VmRSS"), None);
    }

    #[test]
    fn usage_per_message() {
        let before = ProcessSample {
            cpu_ticks: 100,
            rss_kib: 1,
            peak_rss_kib: 1,
        };
        let after = ProcessSample {
            cpu_ticks: 150,
            rss_kib: 2048,
            peak_rss_kib: 4096,
        };
        let used = usage(7, &before, &after, Duration::from_secs(1), 25_000, 100);
        assert_eq!(used.cpu_us, 500_000);
        assert!((used.cpu_percent - 50.0).abs() < 1e-9);
        assert!((used.cpu_us_per_msg - 20.0).abs() < 1e-9);
        assert_eq!((used.rss_kib, used.peak_rss_kib), (2048, 4096));
        let idle = usage(7, &after, &before, Duration::ZERO, 0, 100);
        assert_eq!(
            (idle.cpu_us, idle.cpu_percent, idle.cpu_us_per_msg),
            (0, 0.0, 0.0)
        );
    }

    #[test]
    fn this_process_can_be_sampled() {
        let me = sample(std::process::id());
        assert!(me.is_ok_and(|s| s.rss_kib > 0 && s.peak_rss_kib >= s.rss_kib));
        assert!(ticks_per_second() > 0);
    }
}
