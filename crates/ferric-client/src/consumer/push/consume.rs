//! Feeding listeners: concurrent batches on bounded workers with send-back of failures, and
//! orderly consumption one batch at a time per locked queue.

use std::sync::Arc;
use std::time::Duration;

use ferric_common::{MessageExt, MessageQueue};
use ferric_protocol::header::ConsumerSendMsgBackRequestHeader;
use futures::future::BoxFuture;

use super::process_queue::ProcessQueue;
use super::{ConsumeConcurrentlyStatus, ConsumeOrderlyStatus, Listener, PushInner};
use crate::error::Result;

/// Default redeliveries before the dead-letter queue.
pub const DEFAULT_MAX_RECONSUME_TIMES: i32 = 16;
/// Delay before retrying locally a batch whose send-back failed.
pub const LOCAL_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Splits pulled messages into listener batches and runs each on a worker.
pub(super) fn submit_concurrent(
    inner: &Arc<PushInner>,
    mq: &MessageQueue,
    pq: &Arc<ProcessQueue>,
    msgs: Vec<MessageExt>,
) {
    let batch = inner.options.consume_message_batch_max_size.max(1);
    for chunk in msgs.chunks(batch) {
        inner.tasks.spawn(consume_batch(
            Arc::clone(inner),
            mq.clone(),
            Arc::clone(pq),
            chunk.to_vec(),
            Duration::ZERO,
        ));
    }
}

fn consume_batch(
    inner: Arc<PushInner>,
    mq: MessageQueue,
    pq: Arc<ProcessQueue>,
    msgs: Vec<MessageExt>,
    delay: Duration,
) -> BoxFuture<'static, ()> {
    Box::pin(consume_batch_inner(inner, mq, pq, msgs, delay))
}

async fn consume_batch_inner(
    inner: Arc<PushInner>,
    mq: MessageQueue,
    pq: Arc<ProcessQueue>,
    msgs: Vec<MessageExt>,
    delay: Duration,
) {
    if !delay.is_zero() {
        tokio::select! {
            () = pq.cancel.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
    let Listener::Concurrent(listener) = inner.listener.clone() else {
        return;
    };
    let permit = tokio::select! {
        () = pq.cancel.cancelled() => return,
        permit = Arc::clone(&inner.workers).acquire_owned() => permit,
    };
    let Ok(_permit) = permit else { return };
    if pq.is_dropped() {
        return;
    }
    let status =
        match tokio::time::timeout(inner.options.consume_timeout, listener(msgs.clone())).await {
            Ok(status) => status,
            Err(_) => {
                tracing::warn!(?mq, "listener timed out; messages will be redelivered");
                ConsumeConcurrentlyStatus::ReconsumeLater
            }
        };
    let mut failed = Vec::new();
    if status == ConsumeConcurrentlyStatus::ReconsumeLater {
        if inner.is_clustering() {
            for msg in &msgs {
                if let Err(error) = send_back(&inner, &mq, msg, 0).await {
                    tracing::debug!(%error, msg_id = %msg.msg_id(), "send back failed, retrying locally");
                    failed.push(msg.clone());
                }
            }
        } else {
            tracing::warn!(
                ?mq,
                count = msgs.len(),
                "broadcast consumption failed; messages dropped"
            );
        }
    }
    let done: Vec<MessageExt> = msgs
        .iter()
        .filter(|m| !failed.iter().any(|f| f.queue_offset == m.queue_offset))
        .cloned()
        .collect();
    let offset = pq.remove(&done);
    if offset >= 0 && !pq.is_dropped() {
        inner.offsets.update(&mq, offset, true);
    }
    if !failed.is_empty() {
        for msg in &mut failed {
            msg.reconsume_times += 1;
        }
        inner.tasks.spawn(consume_batch(
            Arc::clone(&inner),
            mq,
            pq,
            failed,
            LOCAL_RETRY_DELAY,
        ));
    }
}

/// CONSUMER_SEND_MSG_BACK for a failed message (delay level 0: the broker picks
/// `3 + reconsumeTimes`; -1 sends straight to the DLQ).
async fn send_back(
    inner: &PushInner,
    mq: &MessageQueue,
    msg: &MessageExt,
    delay_level: i32,
) -> Result<()> {
    let addr = inner
        .instance
        .master_addr_or_refresh(&mq.broker_name, &mq.topic)
        .await?;
    let header = ConsumerSendMsgBackRequestHeader {
        offset: msg.commit_log_offset,
        group: inner.options.group.clone(),
        delay_level,
        origin_msg_id: Some(msg.msg_id()),
        origin_topic: Some(msg.topic.clone()),
        unit_mode: Some(false),
        max_reconsume_times: Some(max_reconsume_times(inner)),
    };
    let timeout = inner.instance.config().mq_client_api_timeout;
    inner
        .instance
        .api()
        .send_msg_back(&addr, &mq.broker_name, header, timeout)
        .await
}

fn max_reconsume_times(inner: &PushInner) -> i32 {
    inner
        .options
        .max_reconsume_times
        .unwrap_or(if inner.is_orderly() {
            i32::MAX
        } else {
            DEFAULT_MAX_RECONSUME_TIMES
        })
}

/// Orderly consumption of one queue: one batch at a time, under the broker lock in clustering.
pub(super) async fn orderly_loop(inner: Arc<PushInner>, mq: MessageQueue, pq: Arc<ProcessQueue>) {
    let Listener::Orderly(listener) = inner.listener.clone() else {
        return;
    };
    let batch = inner.options.consume_message_batch_max_size.max(1);
    loop {
        if pq.is_dropped() {
            return;
        }
        if inner.is_clustering() && !pq.is_locked() {
            let locked = super::rebalance::lock_queues(&inner, std::slice::from_ref(&mq)).await;
            pq.set_locked(locked.contains(&mq));
            if !pq.is_locked() {
                tokio::select! {
                    () = pq.cancel.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        }
        let arrived = pq.arrived.notified();
        let guard = pq.consume_lock.lock().await;
        let msgs = pq.take(batch);
        if msgs.is_empty() {
            drop(guard);
            tokio::select! {
                () = pq.cancel.cancelled() => return,
                () = arrived => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        let status = tokio::time::timeout(inner.options.consume_timeout, listener(msgs.clone()))
            .await
            .unwrap_or(ConsumeOrderlyStatus::SuspendCurrentQueueAMoment);
        let commit = match status {
            ConsumeOrderlyStatus::Success => true,
            ConsumeOrderlyStatus::SuspendCurrentQueueAMoment => {
                let exhausted = msgs
                    .iter()
                    .any(|m| m.reconsume_times >= max_reconsume_times(&inner));
                if exhausted && inner.is_clustering() {
                    // Give up on the batch: dead-letter it and move on.
                    let mut all_sent = true;
                    for msg in &msgs {
                        all_sent &= send_back(&inner, &mq, msg, -1).await.is_ok();
                    }
                    all_sent
                } else {
                    false
                }
            }
        };
        if commit {
            let offset = pq.commit();
            if offset >= 0 && !pq.is_dropped() {
                inner.offsets.update(&mq, offset, false);
            }
            drop(guard);
        } else {
            pq.make_available_again(&msgs);
            drop(guard);
            tokio::select! {
                () = pq.cancel.cancelled() => return,
                () = tokio::time::sleep(inner.options.suspend_current_queue_time) => {}
            }
        }
    }
}
