//! Consuming with [`PullConsumer`]s: one task per queue with one pull outstanding. Live mode
//! follows new messages with long polling; drain mode pulls each queue up to the max offset it
//! had at the start (a catch-up read of a backlog).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use ferric_client::consumer::pull::PullConsumer;
use ferric_client::consumer::pull_result::PullStatus;
use ferric_common::MessageQueue;
use parking_lot::Mutex;
use tokio::task::JoinHandle;

use crate::body::{end_to_end, epoch_micros};
use crate::cli::{CommonArgs, PullArgs, StartFrom};
use crate::run::RunState;

/// How long a consumer may keep pulling after the window ends (live mode).
const GRACE: Duration = Duration::from_millis(500);

/// Starts `pull.consumers` pull consumers.
pub async fn start_consumers(
    common: &CommonArgs,
    pull: &PullArgs,
) -> anyhow::Result<Vec<PullConsumer>> {
    let mut consumers = Vec::new();
    for index in 0..pull.consumers.max(1) {
        let mut config = ferric_client::ClientConfig::new(&common.namesrv);
        config.instance_name = Some(format!("ferric-bench-{}-c{index}", std::process::id()));
        let consumer = PullConsumer::builder()
            .client_config(config)
            .group(pull.consumer_group.clone())
            .build()
            .await
            .with_context(|| format!("starting consumer {index}"))?;
        consumers.push(consumer);
    }
    Ok(consumers)
}

/// One queue's pull loop and where it starts and stops.
#[derive(Debug, Clone)]
pub struct QueuePlan {
    /// The queue.
    pub mq: MessageQueue,
    /// First offset to pull.
    pub from: i64,
    /// Drain mode: stop once this offset is reached.
    pub until: Option<i64>,
}

/// How long [`plan_queues`] waits for a new topic's route.
const ROUTE_WAIT: Duration = Duration::from_secs(10);

/// Looks up the queues of `topic` and their start (and, draining, end) offsets.
pub async fn plan_queues(
    consumers: &[PullConsumer],
    topic: &str,
    from: StartFrom,
    drain: bool,
) -> anyhow::Result<Vec<(PullConsumer, QueuePlan)>> {
    let first = consumers.first().context("no consumer")?;
    // A topic created by the first send reaches the NameServer with the broker's next
    // registration, a moment later: retry the lookup for a while before giving up.
    let deadline = tokio::time::Instant::now() + ROUTE_WAIT;
    let queues = loop {
        match first.fetch_subscribe_message_queues(topic).await {
            Ok(queues) if !queues.is_empty() => break queues,
            Ok(_) | Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(_) => anyhow::bail!("topic {topic} has no readable queues"),
            Err(error) => {
                return Err(error).with_context(|| format!("looking up the queues of {topic}"));
            }
        }
    };
    let mut plans = Vec::new();
    for (index, mq) in queues.into_iter().enumerate() {
        let consumer = consumers[index % consumers.len()].clone();
        let max = consumer.max_offset(&mq).await?;
        let start = match from {
            StartFrom::First => consumer.min_offset(&mq).await?,
            StartFrom::Last => max,
        };
        let until = drain.then_some(max);
        plans.push((
            consumer,
            QueuePlan {
                mq,
                from: start,
                until,
            },
        ));
    }
    Ok(plans)
}

/// Time of the last pull response of a drain.
pub type LastResponse = Arc<Mutex<Option<Instant>>>;

async fn queue_loop(
    consumer: PullConsumer,
    plan: QueuePlan,
    batch: i32,
    state: Arc<RunState>,
    last: LastResponse,
) {
    let mut offset = plan.from;
    let stop_at = state.window.end + GRACE;
    loop {
        if plan.until.is_some_and(|until| offset >= until) {
            return;
        }
        let begin = Instant::now();
        if begin >= state.window.end {
            return;
        }
        let pulled = if plan.until.is_some() {
            tokio::time::timeout_at(stop_at.into(), consumer.pull(&plan.mq, "*", offset, batch))
                .await
        } else {
            tokio::time::timeout_at(
                stop_at.into(),
                consumer.pull_block_if_not_found(&plan.mq, "*", offset, batch),
            )
            .await
        };
        let done = Instant::now();
        let received = epoch_micros(SystemTime::now());
        // A receipt counts when it arrives inside the measured window.
        let measured = done >= state.window.measure_start && done <= state.window.end;
        let Ok(result) = pulled else {
            return;
        };
        match result {
            Ok(result) => {
                *last.lock() = Some(done);
                offset = result.next_begin_offset.max(offset);
                let messages = result.messages.len() as u64;
                let bytes: usize = result.messages.iter().map(|m| m.body.len()).sum();
                let mut recorder = state.consume.lock();
                if messages > 0 {
                    recorder.success(messages, bytes as u64, done - begin, measured);
                }
                for message in &result.messages {
                    if let Some(latency) = end_to_end(&message.body, received) {
                        recorder.end_to_end(latency, measured);
                    }
                }
                drop(recorder);
                if result.status == PullStatus::NoNewMsg && plan.until.is_some() {
                    return;
                }
            }
            Err(error) => {
                state.consume.lock().failure(1, measured);
                eprintln!("pull {}: {error}", plan.mq.queue_id);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Spawns one pull loop per queue.
pub fn spawn_pullers(
    plans: Vec<(PullConsumer, QueuePlan)>,
    batch: i32,
    state: &Arc<RunState>,
) -> (Vec<JoinHandle<()>>, LastResponse) {
    let last: LastResponse = Arc::new(Mutex::new(None));
    let tasks = plans
        .into_iter()
        .map(|(consumer, plan)| {
            tokio::spawn(queue_loop(
                consumer,
                plan,
                batch,
                state.clone(),
                last.clone(),
            ))
        })
        .collect();
    (tasks, last)
}

/// Stops every consumer.
pub async fn shutdown(consumers: &[PullConsumer]) {
    for consumer in consumers {
        consumer.shutdown().await;
    }
}
