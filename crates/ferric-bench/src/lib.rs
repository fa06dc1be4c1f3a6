//! `ferric-bench`: a load generator for Ferric (and any RocketMQ 4.x broker) over
//! `ferric-client`, in the spirit of RocketMQ's `producer.sh` / `consumer.sh`.
//!
//! What it does:
//! * `producer`: `--clients` producers × `--in-flight` outstanding requests, sync / async /
//!   oneway / batch, closed loop or open loop at `--rate` (latency from each message's
//!   intended send time, so a stalled broker is not hidden: see [`pacing`]).
//! * `consumer`: pull consumers, one outstanding pull per queue; live (long polling) or
//!   `--drain` (catch-up read of a backlog).
//! * `e2e`: both together; bodies carry their send time ([`body`]) for end-to-end latency.
//! * Progress lines every `--interval` in RocketMQ's shape (`Send TPS: … | Max RT(ms): …`)
//!   and a final report ([`report`]): messages/s, MB/s, latency p50/p99/p99.9/max from
//!   HdrHistogram ([`stats`]), failures, and with `--watch-pid` the CPU µs per message and
//!   RSS of a process ([`procfs`]). `--json` prints the report as one JSON object.
//!
//! Counting rules: the warm-up is excluded; an operation counts when it began after the
//! warm-up and completed inside the measured window; a send whose status is not SEND_OK
//! counts as failed; `--retries` defaults to 0 so every failed attempt is visible.
//!
//! What it does not do: create topics (it relies on the broker's auto-creation, with
//! `--queues` queues) or assert anything about performance.
#![deny(unsafe_code)]

pub mod body;
pub mod cli;
pub mod consumer;
pub mod pacing;
pub mod procfs;
pub mod producer;
pub mod report;
pub mod run;
pub mod stats;

use std::time::Instant;

use cli::{Command, ConsumerArgs, E2eArgs, ProducerArgs};
use report::{Report, SideReport};
use run::{Progress, RunState, Window};

/// Runs one command to completion and returns its report.
pub async fn execute(command: Command) -> anyhow::Result<Report> {
    match command {
        Command::Producer(args) => run_producer(args).await,
        Command::Consumer(args) => run_consumer(args).await,
        Command::E2e(args) => run_e2e(args).await,
    }
}

fn settings<T: serde::Serialize>(args: &T) -> serde_json::Value {
    serde_json::to_value(args).unwrap_or(serde_json::Value::Null)
}

async fn join_all(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for task in tasks {
        if let Err(error) = task.await {
            eprintln!("a benchmark task failed: {error}");
        }
    }
}

/// `ferric-bench producer`.
pub async fn run_producer(args: ProducerArgs) -> anyhow::Result<Report> {
    let common = &args.common;
    let producers = producer::start_producers(common, &args.send).await?;
    let state = RunState::new(Window::starting_now(common.warmup(), common.duration()));
    let watch = run::spawn_watch(
        common.watch_pid.clone(),
        state.window.measure_start,
        state.window.end,
    );
    let progress = run::spawn_progress(
        state.clone(),
        Progress {
            interval: common.interval(),
            to_stderr: common.json,
            send: true,
            consume: false,
        },
    );
    join_all(producer::spawn_senders(
        &producers,
        common,
        &args.send,
        state.clone(),
    ))
    .await;
    if let Some(progress) = progress {
        progress.abort();
    }
    let watched = watch.await?;
    producer::shutdown(&producers).await;
    let total = state.send.lock().total.clone();
    Ok(Report {
        command: "producer",
        settings: settings(&args),
        send: Some(SideReport::from_counters(
            &total,
            state.window.measured(),
            false,
        )),
        consume: None,
        processes: watched.usage(total.ok),
    })
}

/// `ferric-bench consumer`.
pub async fn run_consumer(args: ConsumerArgs) -> anyhow::Result<Report> {
    let common = &args.common;
    let consumers = consumer::start_consumers(common, &args.pull).await?;
    let plans = consumer::plan_queues(&consumers, &common.topic, args.from, args.drain).await?;
    let warmup = if args.drain {
        std::time::Duration::ZERO
    } else {
        common.warmup()
    };
    let state = RunState::new(Window::starting_now(warmup, common.duration()));
    let watch = run::spawn_watch(
        common.watch_pid.clone(),
        state.window.measure_start,
        state.window.end,
    );
    let progress = run::spawn_progress(
        state.clone(),
        Progress {
            interval: common.interval(),
            to_stderr: common.json,
            send: false,
            consume: true,
        },
    );
    let (tasks, last) = consumer::spawn_pullers(plans, args.pull.pull_batch, &state);
    join_all(tasks).await;
    if let Some(progress) = progress {
        progress.abort();
    }
    let finished = Instant::now();
    // A drain is measured from the first request to the last response; the watcher then
    // covers the planned window, so its per-message figure is only given for live runs.
    let (elapsed, watched) = if args.drain {
        watch.abort();
        let end = last.lock().unwrap_or(finished);
        (end - state.window.start, run::Watched::default())
    } else {
        (state.window.measured(), watch.await?)
    };
    consumer::shutdown(&consumers).await;
    let total = state.consume.lock().total.clone();
    Ok(Report {
        command: "consumer",
        settings: settings(&args),
        send: None,
        consume: Some(SideReport::from_counters(&total, elapsed, true)),
        processes: watched.usage(total.ok),
    })
}

/// `ferric-bench e2e`.
pub async fn run_e2e(args: E2eArgs) -> anyhow::Result<Report> {
    let common = &args.common;
    let producers = producer::start_producers(common, &args.send).await?;
    // Make sure the topic exists before the consumer looks its queues up.
    let probe = ferric_client::MessageBuilder::new(
        common.topic.clone(),
        body::stamped_body(args.send.size.max(1), 0),
    )
    .build();
    if let Some(first) = producers.first() {
        first.send(probe).await?;
    }
    let consumers = consumer::start_consumers(common, &args.pull).await?;
    let plans =
        consumer::plan_queues(&consumers, &common.topic, cli::StartFrom::Last, false).await?;
    let state = RunState::new(Window::starting_now(common.warmup(), common.duration()));
    let watch = run::spawn_watch(
        common.watch_pid.clone(),
        state.window.measure_start,
        state.window.end,
    );
    let progress = run::spawn_progress(
        state.clone(),
        Progress {
            interval: common.interval(),
            to_stderr: common.json,
            send: true,
            consume: true,
        },
    );
    let (pullers, _) = consumer::spawn_pullers(plans, args.pull.pull_batch, &state);
    join_all(producer::spawn_senders(
        &producers,
        common,
        &args.send,
        state.clone(),
    ))
    .await;
    join_all(pullers).await;
    if let Some(progress) = progress {
        progress.abort();
    }
    let watched = watch.await?;
    producer::shutdown(&producers).await;
    consumer::shutdown(&consumers).await;
    let sent = state.send.lock().total.clone();
    let consumed = state.consume.lock().total.clone();
    let measured = state.window.measured();
    Ok(Report {
        command: "e2e",
        settings: settings(&args),
        send: Some(SideReport::from_counters(&sent, measured, false)),
        consume: Some(SideReport::from_counters(&consumed, measured, true)),
        processes: watched.usage(sent.ok),
    })
}
