//! Rebalancing, per-queue long-polling pull loops, offset persistence and orderly locks.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ferric_common::MessageQueue;
use ferric_common::topic::{is_retry_topic, retry_topic};
use ferric_protocol::ResponseCode;
use ferric_protocol::body::LockBatchRequestBody;

use super::process_queue::ProcessQueue;
use super::{Listener, PushInner, consume};
use crate::consumer::offset_store::ReadOffsetType;
use crate::consumer::pull::{PullSpec, pull_once, pull_sys_flag};
use crate::consumer::pull_result::{PullStatus, reset_retry_topic};
use crate::consumer::{ConsumeFromWhere, allocate_in_group, spawn_periodic};
use crate::error::Result;

/// Long-polling hold time the push consumer asks for (`BROKER_SUSPEND_MAX_TIME_MILLIS`).
pub const BROKER_SUSPEND_MAX_TIME: Duration = Duration::from_secs(15);
/// Socket timeout of a long-polling pull (`CONSUMER_TIMEOUT_MILLIS_WHEN_SUSPEND`).
pub const PULL_TIMEOUT_WHEN_SUSPEND: Duration = Duration::from_secs(30);
/// Delay after a failed pull (4.9.8: 3000 ms).
pub const PULL_DELAY_WHEN_EXCEPTION: Duration = Duration::from_secs(3);
/// Delay when flow control stops pulling.
pub const PULL_DELAY_WHEN_FLOW_CONTROL: Duration = Duration::from_millis(50);
/// Orderly lock refresh period (20 s).
pub const LOCK_INTERVAL: Duration = Duration::from_secs(20);

pub(super) fn start_services(inner: &Arc<PushInner>) {
    spawn_periodic(
        &inner.tasks,
        inner.shutdown.clone(),
        inner.instance.config().persist_consumer_offset_interval,
        Arc::downgrade(inner),
        |inner| async move { persist_all(&inner).await },
    );
    if inner.is_orderly() && inner.is_clustering() {
        spawn_periodic(
            &inner.tasks,
            inner.shutdown.clone(),
            LOCK_INTERVAL,
            Arc::downgrade(inner),
            |inner| async move { lock_all(&inner).await },
        );
    }
}

async fn persist_all(inner: &PushInner) {
    let mqs: Vec<MessageQueue> = inner.queues.lock().keys().cloned().collect();
    if let Err(error) = inner.offsets.persist_all(&mqs).await {
        tracing::debug!(%error, "offset persist failed");
    }
}

/// One rebalance round over every subscribed topic.
pub(super) async fn rebalance(inner: &PushInner) {
    if inner.shutdown.is_cancelled() {
        return;
    }
    let _guard = inner.rebalance_lock.lock().await;
    for sub in &inner.subscriptions {
        match allocate(inner, &sub.topic).await {
            Ok(assigned) => update_queues(inner, &sub.topic, assigned).await,
            Err(error) => tracing::debug!(topic = %sub.topic, %error, "rebalance skipped"),
        }
    }
}

async fn allocate(inner: &PushInner, topic: &str) -> Result<Vec<MessageQueue>> {
    let all = match inner.instance.cached_subscribe_queues(topic) {
        Some(queues) => queues,
        None => inner.instance.subscribe_queues(topic).await?,
    };
    if !inner.is_clustering() {
        return Ok(all);
    }
    allocate_in_group(
        &inner.instance,
        inner.strategy.as_ref(),
        &inner.options.group,
        topic,
        &all,
    )
    .await
}

async fn update_queues(inner: &PushInner, topic: &str, assigned: Vec<MessageQueue>) {
    let assigned_set: HashSet<&MessageQueue> = assigned.iter().collect();
    let removed: Vec<(MessageQueue, Arc<ProcessQueue>)> = {
        let mut table = inner.queues.lock();
        let gone: Vec<MessageQueue> = table
            .keys()
            .filter(|mq| mq.topic == topic && !assigned_set.contains(mq))
            .cloned()
            .collect();
        gone.into_iter()
            .filter_map(|mq| table.remove(&mq).map(|pq| (mq, pq)))
            .collect()
    };
    for (mq, pq) in removed {
        release_queue(inner, &mq, &pq).await;
    }
    for mq in assigned {
        if inner.queues.lock().contains_key(&mq) {
            continue;
        }
        if inner.is_orderly()
            && inner.is_clustering()
            && !lock_queues(inner, std::slice::from_ref(&mq))
                .await
                .contains(&mq)
        {
            tracing::debug!(?mq, "queue not locked yet, retry at the next rebalance");
            continue;
        }
        let offset = match compute_pull_from_where(inner, &mq).await {
            Ok(offset) => offset,
            Err(error) => {
                tracing::warn!(?mq, %error, "cannot compute start offset");
                continue;
            }
        };
        let pq = Arc::new(ProcessQueue::new(&inner.shutdown));
        if inner.is_orderly() {
            pq.set_locked(true);
        }
        inner.queues.lock().insert(mq.clone(), Arc::clone(&pq));
        tracing::info!(?mq, offset, "queue assigned");
        let Some(me) = inner.me.upgrade() else { return };
        inner.tasks.spawn(pull_loop(
            Arc::clone(&me),
            mq.clone(),
            Arc::clone(&pq),
            offset,
        ));
        if inner.is_orderly() {
            inner.tasks.spawn(consume::orderly_loop(me, mq, pq));
        }
    }
}

async fn release_queue(inner: &PushInner, mq: &MessageQueue, pq: &ProcessQueue) {
    pq.drop_queue();
    let _consuming = tokio::time::timeout(Duration::from_secs(1), pq.consume_lock.lock()).await;
    if let Err(error) = inner.offsets.persist(mq).await {
        tracing::debug!(?mq, %error, "offset persist on release failed");
    }
    inner.offsets.remove(mq);
    if inner.is_orderly() && inner.is_clustering() {
        unlock_queues(inner, std::slice::from_ref(mq)).await;
    }
    tracing::info!(?mq, "queue released");
}

/// The first offset to pull for a queue new to this consumer (remoting.md §2.4
/// QUERY_CONSUMER_OFFSET: no stored offset means "apply consume-from-where"). Like Java's
/// broker, Ferric answers a group without a committed offset with 0 while the queue still
/// starts at offset 0, so consume-from-where only decides once the queue's min offset is > 0.
async fn compute_pull_from_where(inner: &PushInner, mq: &MessageQueue) -> Result<i64> {
    let stored = inner.offsets.read(mq, ReadOffsetType::Store).await?;
    if stored >= 0 {
        return Ok(stored);
    }
    let api = inner.instance.api();
    let timeout = inner.instance.config().mq_client_api_timeout;
    let addr = inner
        .instance
        .master_addr_or_refresh(&mq.broker_name, &mq.topic)
        .await?;
    // As Java's RebalancePushImpl: a retry topic starts at 0 for LAST and at its max offset
    // for TIMESTAMP.
    match inner.options.consume_from_where {
        ConsumeFromWhere::FirstOffset => Ok(0),
        ConsumeFromWhere::LastOffset if is_retry_topic(&mq.topic) => Ok(0),
        ConsumeFromWhere::LastOffset => api.max_offset(&addr, mq, timeout).await,
        ConsumeFromWhere::Timestamp(_) if is_retry_topic(&mq.topic) => {
            api.max_offset(&addr, mq, timeout).await
        }
        ConsumeFromWhere::Timestamp(ts) => api.search_offset(&addr, mq, ts, timeout).await,
    }
}

async fn pull_loop(
    inner: Arc<PushInner>,
    mq: MessageQueue,
    pq: Arc<ProcessQueue>,
    mut next_offset: i64,
) {
    let Some(sub) = inner.subscription(&mq.topic).cloned() else {
        return;
    };
    let retry = retry_topic(&inner.options.group);
    let size_limit = inner
        .options
        .pull_threshold_size_for_queue
        .saturating_mul(1024 * 1024);
    loop {
        if pq.is_dropped() {
            return;
        }
        let wait = if pq.count() > inner.options.pull_threshold_for_queue || pq.size() > size_limit
        {
            Some(PULL_DELAY_WHEN_FLOW_CONTROL)
        } else if inner.is_orderly() && inner.is_clustering() && !pq.is_locked() {
            Some(PULL_DELAY_WHEN_EXCEPTION)
        } else {
            None
        };
        if let Some(wait) = wait {
            tokio::select! {
                () = pq.cancel.cancelled() => return,
                () = tokio::time::sleep(wait) => continue,
            }
        }
        let commit_offset = if inner.is_clustering() {
            inner
                .offsets
                .read(&mq, ReadOffsetType::Memory)
                .await
                .unwrap_or(-1)
        } else {
            0
        };
        let spec = PullSpec {
            group: &inner.options.group,
            mq: &mq,
            subscription: &sub,
            offset: next_offset,
            max_nums: inner.options.pull_batch_size,
            sys_flag: pull_sys_flag(
                inner.is_clustering() && commit_offset > 0,
                true,
                false,
                false,
            ),
            commit_offset: commit_offset.max(0),
            suspend: BROKER_SUSPEND_MAX_TIME,
            timeout: PULL_TIMEOUT_WHEN_SUSPEND,
            broker_id: pq.suggested_broker.load(Ordering::Relaxed),
        };
        let outcome = tokio::select! {
            () = pq.cancel.cancelled() => return,
            outcome = pull_once(&inner.instance, spec) => outcome,
        };
        let result = match outcome {
            Ok(result) => result,
            Err(error) => {
                let delay = if error.response_code() == Some(ResponseCode::FLOW_CONTROL.value()) {
                    Duration::from_millis(20)
                } else {
                    PULL_DELAY_WHEN_EXCEPTION
                };
                tracing::debug!(?mq, %error, "pull failed");
                tokio::select! {
                    () = pq.cancel.cancelled() => return,
                    () = tokio::time::sleep(delay) => continue,
                }
            }
        };
        pq.suggested_broker
            .store(result.suggest_which_broker_id, Ordering::Relaxed);
        match result.status {
            PullStatus::Found => {
                next_offset = result.next_begin_offset;
                let mut msgs = result.messages;
                if msgs.is_empty() {
                    continue;
                }
                for msg in &mut msgs {
                    reset_retry_topic(msg, &retry);
                }
                pq.put(&msgs);
                if let Listener::Concurrent(_) = inner.listener {
                    consume::submit_concurrent(&inner, &mq, &pq, msgs);
                }
            }
            PullStatus::NoNewMsg | PullStatus::NoMatchedMsg => {
                next_offset = result.next_begin_offset;
                if pq.count() == 0 {
                    inner.offsets.update(&mq, next_offset, false);
                }
            }
            PullStatus::OffsetIllegal => {
                tracing::warn!(?mq, next = result.next_begin_offset, "pull offset illegal");
                pq.drop_queue();
                inner.offsets.update(&mq, result.next_begin_offset, false);
                if let Err(error) = inner.offsets.persist(&mq).await {
                    tracing::debug!(%error, "offset persist failed");
                }
                inner.queues.lock().remove(&mq);
                inner.instance.rebalance_soon();
                return;
            }
        }
    }
}

/// Applies offsets pushed by RESET_CONSUMER_CLIENT_OFFSET: drop the queues, store the new
/// offsets, rebalance.
pub(super) async fn reset_offsets(inner: &PushInner, offsets: Vec<(MessageQueue, i64)>) {
    for (mq, offset) in offsets {
        if let Some(pq) = inner.queues.lock().remove(&mq) {
            pq.drop_queue();
        }
        inner.offsets.update(&mq, offset, false);
        if let Err(error) = inner.offsets.persist(&mq).await {
            tracing::warn!(?mq, %error, "reset offset persist failed");
        }
        inner.offsets.remove(&mq);
    }
    inner.instance.rebalance_soon();
}

fn by_broker(mqs: &[MessageQueue]) -> BTreeMap<String, Vec<MessageQueue>> {
    let mut map: BTreeMap<String, Vec<MessageQueue>> = BTreeMap::new();
    for mq in mqs {
        map.entry(mq.broker_name.clone())
            .or_default()
            .push(mq.clone());
    }
    map
}

fn lock_body(inner: &PushInner, mqs: Vec<MessageQueue>) -> LockBatchRequestBody {
    LockBatchRequestBody {
        consumer_group: inner.options.group.clone(),
        client_id: inner.instance.client_id().to_owned(),
        only_this_broker: None,
        mq_set: mqs.into_iter().map(Into::into).collect(),
    }
}

/// LOCK_BATCH_MQ per broker; returns the queues locked.
pub(super) async fn lock_queues(inner: &PushInner, mqs: &[MessageQueue]) -> Vec<MessageQueue> {
    let timeout = inner.instance.config().mq_client_api_timeout;
    let mut locked = Vec::new();
    for (broker, queues) in by_broker(mqs) {
        let Ok(addr) = inner
            .instance
            .master_addr_or_refresh(&broker, &queues[0].topic)
            .await
        else {
            continue;
        };
        match inner
            .instance
            .api()
            .lock_batch_mq(&addr, &lock_body(inner, queues), timeout)
            .await
        {
            Ok(ok) => locked.extend(ok),
            Err(error) => tracing::debug!(%broker, %error, "lock batch failed"),
        }
    }
    locked
}

async fn unlock_queues(inner: &PushInner, mqs: &[MessageQueue]) {
    let timeout = inner.instance.config().mq_client_api_timeout;
    for (broker, queues) in by_broker(mqs) {
        let Some(addr) = inner.instance.master_addr(&broker) else {
            continue;
        };
        if let Err(error) = inner
            .instance
            .api()
            .unlock_batch_mq(&addr, &lock_body(inner, queues), timeout)
            .await
        {
            tracing::debug!(%broker, %error, "unlock batch failed");
        }
    }
}

async fn lock_all(inner: &PushInner) {
    let held: Vec<(MessageQueue, Arc<ProcessQueue>)> = inner
        .queues
        .lock()
        .iter()
        .map(|(mq, pq)| (mq.clone(), Arc::clone(pq)))
        .collect();
    let mqs: Vec<MessageQueue> = held.iter().map(|(mq, _)| mq.clone()).collect();
    let locked: HashSet<MessageQueue> = lock_queues(inner, &mqs).await.into_iter().collect();
    for (mq, pq) in held {
        pq.set_locked(locked.contains(&mq));
    }
}

/// At shutdown: commit every offset (waiting for answers) and release orderly locks.
pub(super) async fn persist_and_release_all(inner: &PushInner) {
    let mqs: Vec<MessageQueue> = inner.queues.lock().keys().cloned().collect();
    if inner.offsets.is_local() {
        if let Err(error) = inner.offsets.persist_all(&mqs).await {
            tracing::warn!(%error, "offset persist at shutdown failed");
        }
    } else {
        for mq in &mqs {
            if let Err(error) = inner.offsets.persist(mq).await {
                tracing::warn!(?mq, %error, "offset persist at shutdown failed");
            }
        }
    }
    if inner.is_orderly() && inner.is_clustering() {
        unlock_queues(inner, &mqs).await;
    }
    inner.queues.lock().clear();
}
