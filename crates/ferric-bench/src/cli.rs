//! Command-line options of `ferric-bench`.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

/// Load generator for Ferric (and any RocketMQ 4.x broker), in the spirit of RocketMQ's
/// `producer.sh` / `consumer.sh`, with latency percentiles from HdrHistogram.
#[derive(Debug, Parser)]
#[command(name = "ferric-bench", version, about, long_about = None)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The three runs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send messages (closed loop, or open loop with --rate).
    Producer(ProducerArgs),
    /// Pull messages: follow new ones (long polling), or --drain the backlog.
    Consumer(ConsumerArgs),
    /// Produce and consume together; reports send and end-to-end latency.
    E2e(E2eArgs),
}

/// Options every run takes.
#[derive(Debug, Clone, Args, Serialize)]
pub struct CommonArgs {
    /// NameServer address(es), `;`-separated.
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    pub namesrv: String,
    /// Topic.
    #[arg(short = 't', long, default_value = "BenchmarkTest")]
    pub topic: String,
    /// Measured seconds (after warm-up). In --drain mode: the longest a drain may take.
    #[arg(short = 'd', long, default_value_t = 10.0)]
    pub duration: f64,
    /// Warm-up seconds, excluded from the totals.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Seconds between progress lines (0 = none).
    #[arg(long, default_value_t = 1.0)]
    pub interval: f64,
    /// Print the final report as one JSON object on stdout (progress goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Report CPU µs per message and RSS of this process over the measured window
    /// (repeatable).
    #[arg(long = "watch-pid")]
    pub watch_pid: Vec<u32>,
    /// Tokio worker threads (1 = a current-thread runtime, meant for `taskset -c 0`).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
}

impl CommonArgs {
    /// Warm-up as a duration.
    pub fn warmup(&self) -> Duration {
        seconds(self.warmup)
    }

    /// Measured window as a duration.
    pub fn duration(&self) -> Duration {
        seconds(self.duration)
    }

    /// Progress interval, `None` for no progress lines.
    pub fn interval(&self) -> Option<Duration> {
        (self.interval > 0.0).then(|| seconds(self.interval))
    }
}

/// A non-negative, finite number of seconds as a duration.
pub fn seconds(value: f64) -> Duration {
    if value.is_finite() && value > 0.0 {
        Duration::from_secs_f64(value)
    } else {
        Duration::ZERO
    }
}

/// How each message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SendMode {
    /// `send().await` in each of the in-flight tasks.
    Sync,
    /// One dispatcher per client spawns sends, at most `--in-flight` outstanding.
    Async,
    /// `send_oneway`: latency is the time to hand the frame to the connection.
    Oneway,
    /// `send_batch` of `--batch-size` messages per request.
    Batch,
}

/// Producer options.
#[derive(Debug, Clone, Args, Serialize)]
pub struct SendArgs {
    /// Message body size in bytes (≥ 12 carries the send time for end-to-end latency).
    #[arg(short = 's', long, default_value_t = 128)]
    pub size: usize,
    /// Producer clients, each with its own client instance (connection).
    #[arg(short = 'c', long, default_value_t = 1)]
    pub clients: usize,
    /// Requests in flight per client.
    #[arg(short = 'w', long = "in-flight", default_value_t = 1)]
    pub in_flight: usize,
    /// Send mode.
    #[arg(long, value_enum, default_value_t = SendMode::Sync)]
    pub mode: SendMode,
    /// Messages per batch request (`--mode batch`).
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Give every message the tag `TagA`.
    #[arg(long)]
    pub tags: bool,
    /// Give every message a unique key (indexed by the broker).
    #[arg(long)]
    pub keys: bool,
    /// Open loop: messages per second over all clients, latency measured from each
    /// message's intended send time. Without it: as fast as the in-flight limit allows.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Producer group.
    #[arg(long, default_value = "benchmark_producer")]
    pub producer_group: String,
    /// Send timeout in milliseconds.
    #[arg(long, default_value_t = 3000)]
    pub timeout_ms: u64,
    /// Extra attempts of a failed send (RocketMQ's default is 2; 0 counts every failure).
    #[arg(long, default_value_t = 0)]
    pub retries: u32,
    /// Queues asked for when the broker auto-creates the topic.
    #[arg(long, default_value_t = 8)]
    pub queues: i32,
}

/// Where a consumer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StartFrom {
    /// The oldest message of each queue.
    First,
    /// Only messages stored after the start.
    Last,
}

/// Consumer options.
#[derive(Debug, Clone, Args, Serialize)]
pub struct PullArgs {
    /// Consumer group.
    #[arg(long, default_value = "benchmark_consumer")]
    pub consumer_group: String,
    /// Consumer clients; queues are shared among them round-robin.
    #[arg(long = "consumers", default_value_t = 1)]
    pub consumers: usize,
    /// Messages per pull.
    #[arg(long, default_value_t = 32)]
    pub pull_batch: i32,
}

/// `ferric-bench producer`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct ProducerArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Send options.
    #[command(flatten)]
    pub send: SendArgs,
}

/// `ferric-bench consumer`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct ConsumerArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Pull options.
    #[command(flatten)]
    pub pull: PullArgs,
    /// Start position.
    #[arg(long, value_enum, default_value_t = StartFrom::Last)]
    pub from: StartFrom,
    /// Catch-up: pull every queue from `--from` up to its max offset at the start, then stop
    /// (no warm-up; --duration caps the time).
    #[arg(long)]
    pub drain: bool,
}

/// `ferric-bench e2e`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct E2eArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Send options.
    #[command(flatten)]
    pub send: SendArgs,
    /// Pull options.
    #[command(flatten)]
    pub pull: PullArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn options_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn producer_defaults_and_flags() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from([
            "ferric-bench",
            "producer",
            "-s",
            "1024",
            "-c",
            "4",
            "-w",
            "64",
            "--rate",
            "5000",
            "--mode",
            "async",
            "--tags",
            "--watch-pid",
            "1",
            "--watch-pid",
            "2",
        ])?;
        let Command::Producer(args) = cli.command else {
            panic!("not a producer run");
        };
        assert_eq!(
            (args.send.size, args.send.clients, args.send.in_flight),
            (1024, 4, 64)
        );
        assert_eq!(args.send.mode, SendMode::Async);
        assert_eq!(args.send.rate, Some(5000.0));
        assert!(args.send.tags && !args.send.keys);
        assert_eq!(args.common.watch_pid, vec![1, 2]);
        assert_eq!(args.common.namesrv, "127.0.0.1:9876");
        assert_eq!(args.common.interval(), Some(Duration::from_secs(1)));
        Ok(())
    }

    #[test]
    fn seconds_are_clamped() {
        assert_eq!(seconds(-1.0), Duration::ZERO);
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
        assert_eq!(seconds(1.5), Duration::from_millis(1500));
    }
}
