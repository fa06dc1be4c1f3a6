//! Sending: `--clients` producers (each its own client instance, so its own connection), each
//! with `--in-flight` requests outstanding, closed loop or paced by a [`Schedule`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use ferric_client::{MessageBuilder, Producer, SendStatus};
use ferric_common::Message;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::body::{WallClock, stamped_body};
use crate::cli::{CommonArgs, SendArgs, SendMode};
use crate::pacing::{Schedule, wait_until};
use crate::run::RunState;

/// Starts `send.clients` producers.
pub async fn start_producers(
    common: &CommonArgs,
    send: &SendArgs,
) -> anyhow::Result<Vec<Producer>> {
    let mut producers = Vec::with_capacity(send.clients.max(1));
    for index in 0..send.clients.max(1) {
        let producer = Producer::builder()
            .namesrv_addr(&common.namesrv)
            .group(send.producer_group.clone())
            .instance_name(format!("ferric-bench-{}-p{index}", std::process::id()))
            .send_msg_timeout(Duration::from_millis(send.timeout_ms))
            .retry_times_when_send_failed(send.retries)
            .default_topic_queue_nums(send.queues)
            // Benchmark bodies are filler: compressing them would measure zlib, not the broker.
            .compress_msg_body_over_howmuch(usize::MAX)
            .build()
            .await
            .with_context(|| format!("starting producer {index}"))?;
        producers.push(producer);
    }
    Ok(producers)
}

/// What every send task needs.
#[derive(Debug)]
struct Plan {
    topic: String,
    send: SendArgs,
    state: Arc<RunState>,
    schedule: Schedule,
    clock: WallClock,
}

impl Plan {
    fn messages_per_request(&self) -> u64 {
        match self.send.mode {
            SendMode::Batch => self.send.batch_size.max(1) as u64,
            _ => 1,
        }
    }

    fn message(&self, ticket: u64, begin: Instant) -> Message {
        let mut builder = MessageBuilder::new(
            self.topic.clone(),
            stamped_body(self.send.size, self.clock.micros_at(begin)),
        );
        if self.send.tags {
            builder = builder.tags("TagA");
        }
        if self.send.keys {
            builder = builder.keys([format!("fb{}-{ticket}", std::process::id())]);
        }
        builder.build()
    }

    /// Takes the next slot and waits for it; `None` once the window is over.
    async fn next_slot(&self) -> Option<(u64, Instant)> {
        let slot = self.schedule.next(self.messages_per_request());
        let begin = match slot.intended {
            Some(intended) => {
                if intended >= self.state.window.end {
                    return None;
                }
                wait_until(intended).await;
                intended
            }
            None => Instant::now(),
        };
        (begin < self.state.window.end).then_some((slot.ticket, begin))
    }

    /// Sends the request of slot `ticket` and records the outcome.
    async fn send_one(&self, producer: &Producer, ticket: u64, begin: Instant) {
        let count = self.messages_per_request();
        let ok = match self.send.mode {
            SendMode::Sync | SendMode::Async => producer
                .send(self.message(ticket, begin))
                .await
                .map(|result| result.status == SendStatus::SendOk),
            SendMode::Oneway => producer
                .send_oneway(self.message(ticket, begin))
                .await
                .map(|()| true),
            SendMode::Batch => {
                let batch = (0..count)
                    .map(|i| self.message(ticket + i, begin))
                    .collect();
                producer
                    .send_batch(batch)
                    .await
                    .map(|results| results.iter().all(|r| r.status == SendStatus::SendOk))
            }
        };
        let done = Instant::now();
        let measured = self.state.window.is_measured(begin, done);
        let mut recorder = self.state.send.lock();
        match ok {
            Ok(true) => {
                recorder.success(count, count * self.send.size as u64, done - begin, measured)
            }
            Ok(false) | Err(_) => recorder.failure(count, measured),
        }
    }
}

async fn task_loop(plan: Arc<Plan>, producer: Producer) {
    while let Some((ticket, begin)) = plan.next_slot().await {
        plan.send_one(&producer, ticket, begin).await;
    }
}

async fn dispatcher_loop(plan: Arc<Plan>, producer: Producer, in_flight: usize) {
    let permits = Arc::new(Semaphore::new(in_flight));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let Some((ticket, begin)) = plan.next_slot().await else {
            break;
        };
        let plan = plan.clone();
        let producer = producer.clone();
        tokio::spawn(async move {
            plan.send_one(&producer, ticket, begin).await;
            drop(permit);
        });
    }
    let all = u32::try_from(in_flight).unwrap_or(u32::MAX);
    let _drained = permits.acquire_many(all).await;
}

/// Spawns the send tasks of every producer; they end when the window is over and their last
/// request has completed.
pub fn spawn_senders(
    producers: &[Producer],
    common: &CommonArgs,
    send: &SendArgs,
    state: Arc<RunState>,
) -> Vec<JoinHandle<()>> {
    let plan = Arc::new(Plan {
        topic: common.topic.clone(),
        send: send.clone(),
        schedule: Schedule::new(state.window.start, send.rate),
        state,
        clock: WallClock::now(),
    });
    let in_flight = send.in_flight.max(1);
    let mut tasks = Vec::new();
    for producer in producers {
        if send.mode == SendMode::Async {
            tasks.push(tokio::spawn(dispatcher_loop(
                plan.clone(),
                producer.clone(),
                in_flight,
            )));
            continue;
        }
        for _ in 0..in_flight {
            tasks.push(tokio::spawn(task_loop(plan.clone(), producer.clone())));
        }
    }
    tasks
}

/// Stops every producer.
pub async fn shutdown(producers: &[Producer]) {
    for producer in producers {
        producer.shutdown().await;
    }
}
