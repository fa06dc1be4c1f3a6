//! The lite pull consumer's queues: rebalancing among the group, adding and dropping queues,
//! start offsets (consume-from-where), seeks and the per-queue long-polling pull loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use ferric_common::MessageQueue;
use ferric_protocol::body::ConsumerData;
use futures::future::BoxFuture;
use parking_lot::Mutex;
use tokio::sync::Notify;

use super::{Batch, LiteInner, LiteQueue};
use crate::consumer::offset_store::ReadOffsetType;
use crate::consumer::pull::{
    BROKER_SUSPEND_MAX_TIME, CONSUMER_TIMEOUT_WHEN_SUSPEND, PullSpec, pull_once, pull_sys_flag,
};
use crate::consumer::pull_result::PullStatus;
use crate::consumer::{
    ConsumeFromWhere, MessageModel, allocate_in_group, build_subscription, now_ms,
};
use crate::error::Result;
use crate::instance::ConsumerHandle;
use crate::instance::route::MASTER_ID;

impl ConsumerHandle for LiteInner {
    fn consumer_data(&self) -> ConsumerData {
        ConsumerData {
            group_name: self.options.group.clone(),
            consume_type: "CONSUME_ACTIVELY".into(),
            message_model: MessageModel::Clustering.name().into(),
            consume_from_where: self.options.consume_from_where.name().into(),
            subscription_data_set: self.subscriptions.clone(),
            unit_mode: false,
        }
    }

    fn rebalance(&self) -> BoxFuture<'_, ()> {
        Box::pin(rebalance(self))
    }

    fn reset_offsets(&self, offsets: Vec<(MessageQueue, i64)>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            for (mq, offset) in offsets {
                seek_queue(self, &mq, offset);
            }
        })
    }
}

pub(super) async fn rebalance(inner: &LiteInner) {
    if inner.assigned_mode.load(Ordering::Acquire) || inner.shutdown.is_cancelled() {
        return;
    }
    let _guard = inner.rebalance_lock.lock().await;
    for sub in &inner.subscriptions {
        let assigned = async {
            let all = inner.instance.subscribe_queues(&sub.topic).await?;
            allocate_in_group(
                &inner.instance,
                inner.strategy.as_ref(),
                &inner.options.group,
                &sub.topic,
                &all,
            )
            .await
        }
        .await;
        match assigned {
            Ok(mqs) => set_queues(inner, Some(&sub.topic), mqs).await,
            Err(error) => tracing::debug!(topic = %sub.topic, %error, "lite rebalance skipped"),
        }
    }
}

pub(super) async fn set_queues(inner: &LiteInner, topic: Option<&str>, mqs: Vec<MessageQueue>) {
    let removed: Vec<(MessageQueue, Arc<LiteQueue>)> = {
        let mut table = inner.queues.lock();
        let gone: Vec<MessageQueue> = table
            .keys()
            .filter(|mq| topic.is_none_or(|t| mq.topic == t) && !mqs.contains(mq))
            .cloned()
            .collect();
        gone.into_iter()
            .filter_map(|mq| table.remove(&mq).map(|q| (mq, q)))
            .collect()
    };
    for (mq, queue) in removed {
        queue.cancel.cancel();
        if let Err(error) = inner.offsets.persist(&mq).await {
            tracing::debug!(?mq, %error, "offset persist on release failed");
        }
        inner.offsets.remove(&mq);
    }
    for mq in mqs {
        if inner.queues.lock().contains_key(&mq) {
            continue;
        }
        let offset = match start_offset(inner, &mq).await {
            Ok(offset) => offset,
            Err(error) => {
                tracing::warn!(?mq, %error, "cannot compute start offset");
                continue;
            }
        };
        let queue = Arc::new(LiteQueue {
            cancel: inner.shutdown.child_token(),
            epoch: AtomicU64::new(0),
            next_offset: Mutex::new(offset),
            consumed: AtomicI64::new(-1),
            seeked: Notify::new(),
        });
        inner.queues.lock().insert(mq.clone(), Arc::clone(&queue));
        if let Some(me) = inner.me.upgrade() {
            inner.tasks.spawn(pull_loop(me, mq, queue));
        }
    }
}

async fn start_offset(inner: &LiteInner, mq: &MessageQueue) -> Result<i64> {
    let stored = inner.offsets.read(mq, ReadOffsetType::Store).await?;
    if stored >= 0 {
        return Ok(stored);
    }
    let addr = inner
        .instance
        .master_addr_or_refresh(&mq.broker_name, &mq.topic)
        .await?;
    let timeout = inner.instance.config().mq_client_api_timeout;
    match inner.options.consume_from_where {
        ConsumeFromWhere::FirstOffset => Ok(0),
        ConsumeFromWhere::LastOffset => inner.instance.api().max_offset(&addr, mq, timeout).await,
        ConsumeFromWhere::Timestamp(ts) => {
            inner
                .instance
                .api()
                .search_offset(&addr, mq, ts, timeout)
                .await
        }
    }
}

pub(super) fn seek_queue(inner: &LiteInner, mq: &MessageQueue, offset: i64) {
    if let Some(queue) = inner.queues.lock().get(mq) {
        let mut next = queue.next_offset.lock();
        *next = offset;
        queue.epoch.fetch_add(1, Ordering::AcqRel);
        queue.consumed.store(offset, Ordering::Release);
        queue.seeked.notify_one();
    }
    inner.offsets.update(mq, offset, false);
}

async fn pull_loop(inner: Arc<LiteInner>, mq: MessageQueue, queue: Arc<LiteQueue>) {
    let sub = inner
        .subscriptions
        .iter()
        .find(|s| s.topic == mq.topic)
        .cloned()
        .unwrap_or_else(|| build_subscription(&mq.topic, "*", now_ms()));
    loop {
        let (epoch, offset) = {
            let next = queue.next_offset.lock();
            (queue.epoch.load(Ordering::Acquire), *next)
        };
        let spec = PullSpec {
            group: &inner.options.group,
            mq: &mq,
            subscription: &sub,
            offset,
            max_nums: inner.options.pull_batch_size,
            sys_flag: pull_sys_flag(false, true, true, true),
            commit_offset: 0,
            suspend: BROKER_SUSPEND_MAX_TIME,
            timeout: CONSUMER_TIMEOUT_WHEN_SUSPEND,
            broker_id: MASTER_ID,
        };
        let outcome = tokio::select! {
            () = queue.cancel.cancelled() => return,
            () = queue.seeked.notified() => continue,
            outcome = pull_once(&inner.instance, spec) => outcome,
        };
        let result = match outcome {
            Ok(result) => result,
            Err(error) => {
                tracing::debug!(?mq, %error, "lite pull failed");
                tokio::select! {
                    () = queue.cancel.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        {
            let mut next = queue.next_offset.lock();
            if queue.epoch.load(Ordering::Acquire) != epoch {
                continue;
            }
            *next = result.next_begin_offset;
        }
        if result.status == PullStatus::Found && !result.messages.is_empty() {
            let batch = Batch {
                mq: mq.clone(),
                epoch,
                msgs: result.messages,
            };
            tokio::select! {
                () = queue.cancel.cancelled() => return,
                sent = inner.tx.send(batch) => if sent.is_err() { return },
            }
        }
    }
}
