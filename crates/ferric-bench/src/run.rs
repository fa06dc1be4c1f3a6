//! What every run shares: its time window, the send and consume recorders, the progress
//! printer and the `/proc` watcher.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::task::JoinHandle;

use crate::procfs::{self, ProcessSample, ProcessUsage};
use crate::report::{consume_progress, send_progress};
use crate::stats::Recorder;

/// The phases of a run: warm-up from `start` to `measure_start`, measured until `end`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Start of the warm-up.
    pub start: Instant,
    /// Start of the measured window.
    pub measure_start: Instant,
    /// End of the measured window (no new sends after it).
    pub end: Instant,
}

impl Window {
    /// A window starting now.
    pub fn starting_now(warmup: Duration, duration: Duration) -> Self {
        let start = Instant::now();
        Self {
            start,
            measure_start: start + warmup,
            end: start + warmup + duration,
        }
    }

    /// True when an operation that began at `begin` and completed at `done` counts: it began
    /// after the warm-up and completed inside the window.
    pub fn is_measured(&self, begin: Instant, done: Instant) -> bool {
        begin >= self.measure_start && done <= self.end
    }

    /// Length of the measured window.
    pub fn measured(&self) -> Duration {
        self.end - self.measure_start
    }
}

/// State shared by the tasks of one run.
#[derive(Debug)]
pub struct RunState {
    /// The run's phases.
    pub window: Window,
    /// Sends.
    pub send: Mutex<Recorder>,
    /// Receipts.
    pub consume: Mutex<Recorder>,
}

impl RunState {
    /// Fresh recorders for `window`.
    pub fn new(window: Window) -> Arc<Self> {
        Arc::new(Self {
            window,
            send: Mutex::new(Recorder::default()),
            consume: Mutex::new(Recorder::default()),
        })
    }
}

/// Where progress lines go: stderr when stdout carries the JSON report.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Between two lines; `None` prints nothing.
    pub interval: Option<Duration>,
    /// Print to stderr instead of stdout.
    pub to_stderr: bool,
    /// Print send lines.
    pub send: bool,
    /// Print consume lines.
    pub consume: bool,
}

/// Prints progress lines until the returned task is aborted.
pub fn spawn_progress(state: Arc<RunState>, progress: Progress) -> Option<JoinHandle<()>> {
    let interval = progress.interval?;
    Some(tokio::spawn(async move {
        let mut last = Instant::now();
        let mut ticker = tokio::time::interval_at((last + interval).into(), interval);
        loop {
            ticker.tick().await;
            let now = Instant::now();
            let span = now - last;
            last = now;
            let at = now - state.window.start;
            let warm_up = now <= state.window.measure_start;
            let mut lines = Vec::new();
            if progress.send {
                let window = state.send.lock().take_window();
                lines.push(send_progress(at, warm_up, &window, span));
            }
            if progress.consume {
                let window = state.consume.lock().take_window();
                lines.push(consume_progress(at, warm_up, &window, span));
            }
            for line in lines {
                if progress.to_stderr {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
            }
        }
    }))
}

/// Samples of the watched processes at the start and end of the measured window.
#[derive(Debug, Default)]
pub struct Watched {
    samples: Vec<(u32, ProcessSample, ProcessSample)>,
    elapsed: Duration,
}

impl Watched {
    /// Usage per process for `messages` processed in the window.
    pub fn usage(&self, messages: u64) -> Vec<ProcessUsage> {
        let ticks = procfs::ticks_per_second();
        self.samples
            .iter()
            .map(|(pid, before, after)| {
                procfs::usage(*pid, before, after, self.elapsed, messages, ticks)
            })
            .collect()
    }
}

/// Samples `pids` at `from` and at `to` (a process that cannot be read is left out, with a
/// warning on stderr).
pub fn spawn_watch(pids: Vec<u32>, from: Instant, to: Instant) -> JoinHandle<Watched> {
    tokio::spawn(async move {
        if pids.is_empty() {
            return Watched::default();
        }
        tokio::time::sleep_until(from.into()).await;
        let started = Instant::now();
        let before: Vec<_> = pids.iter().map(|&pid| (pid, procfs::sample(pid))).collect();
        tokio::time::sleep_until(to.into()).await;
        let elapsed = started.elapsed();
        let mut samples = Vec::new();
        for (pid, first) in before {
            match (first, procfs::sample(pid)) {
                (Ok(first), Ok(last)) => samples.push((pid, first, last)),
                (Err(error), _) | (_, Err(error)) => {
                    eprintln!("watch-pid {pid}: {error}");
                }
            }
        }
        Watched { samples, elapsed }
    })
}

/// A runtime with `threads` workers (1 = current-thread).
pub fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if threads <= 1 {
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_means_begun_after_warm_up_and_done_before_the_end() {
        let window = Window::starting_now(Duration::from_secs(2), Duration::from_secs(10));
        let at = |secs: f64| window.start + Duration::from_secs_f64(secs);
        assert!(!window.is_measured(at(1.9), at(2.1)));
        assert!(window.is_measured(at(2.0), at(2.1)));
        assert!(window.is_measured(at(5.0), at(12.0)));
        assert!(!window.is_measured(at(11.9), at(12.1)));
        assert_eq!(window.measured(), Duration::from_secs(10));
    }
}
