//! The transaction check service: one [`run_round`] every `transactionCheckInterval`.
//!
//! A round reads the op queue from its committed offset (collecting the half offsets already
//! resolved), then scans the half queue from its committed offset up to the end it had when
//! the round began ([`scan`], on the blocking pool). Every half message is either resolved
//! (skipped), discarded (checked `transactionCheckMax` times already, or older than
//! `fileReservedTime`), due (older than its immunity time: a copy with
//! `TRANSACTION_CHECK_TIMES + 1` is appended and a check is queued), or not yet due, which
//! ends the scan. The new offsets are committed under `CID_RMQ_SYS_TRANS`; then each queued
//! CHECK_TRANSACTION_STATE goes oneway to one live channel of the message's producer group.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferric_common::message::MessageExt;
use ferric_common::message_const::PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS;
use ferric_common::record::{Parsed, parse_record};
use ferric_common::topic::names::{TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC};
use ferric_protocol::header::CheckTransactionStateRequestHeader;
use ferric_protocol::{RemotingCommand, RequestCode};
use ferric_store::{GetMessageResult, MessageStore, PutMessageStatus};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::half::{self, check_body, check_copy, check_times, parse_op_body, write_op_record};
use super::{CHECK_GROUP, HALF_QUEUE_ID, LOG_TARGET, REMOVE_TAG};
use crate::config::BrokerRole;
use crate::context::BrokerContext;
use crate::persist::now_ms;

/// Op records read per store call.
const OP_BATCH: usize = 32;
/// Upper bound of op records read in one round (the rest wait for the next round).
const MAX_OP_RECORDS_PER_ROUND: usize = 100_000;

/// The knobs of one round.
#[derive(Debug, Clone, Copy)]
pub struct CheckSettings {
    /// `transactionTimeOut` (ms): age after which a half message without an outcome is checked.
    pub transaction_timeout_ms: i64,
    /// `transactionCheckMax`: checks sent before a half message is discarded.
    pub check_max: i32,
    /// `fileReservedTime` in ms: older half messages are discarded unchecked.
    pub file_reserved_ms: i64,
    /// The broker's store host (born/store host of op records).
    pub store_host: SocketAddr,
}

/// A CHECK_TRANSACTION_STATE to send.
#[derive(Debug, Clone)]
pub struct PendingCheck {
    /// `PGROUP` of the half message.
    pub producer_group: String,
    /// Request header (offsets of the appended copy).
    pub header: CheckTransactionStateRequestHeader,
    /// Request body (the copy in stored layout, real topic and queue).
    pub body: Bytes,
}

/// What one scan did.
#[derive(Debug, Clone, Default)]
pub struct ScanOutcome {
    /// Half-queue offset to commit.
    pub half_offset: i64,
    /// Op-queue offset to commit.
    pub op_offset: i64,
    /// Checks to send.
    pub checks: Vec<PendingCheck>,
    /// Half-queue offsets discarded in this round.
    pub discarded: Vec<i64>,
}

fn read_one(store: &MessageStore, topic: &str, offset: i64, max: usize) -> GetMessageResult {
    store.get_message(topic, HALF_QUEUE_ID, offset, max, usize::MAX, None)
}

fn decode(record: &[u8]) -> Option<MessageExt> {
    match parse_record(record) {
        Ok(Parsed::Message(view)) => Some(view.to_message_ext()),
        _ => None,
    }
}

/// Reads op records from `op_offset`: the half offsets they resolve, and per op record (in
/// queue order) its offset and the half offsets it names.
fn read_op_records(store: &MessageStore, op_offset: i64) -> (HashSet<i64>, Vec<(i64, Vec<i64>)>) {
    let mut resolved = HashSet::new();
    let mut records = Vec::new();
    let mut offset = op_offset;
    while records.len() < MAX_OP_RECORDS_PER_ROUND {
        let result = read_one(store, TRANS_OP_HALF_TOPIC, offset, OP_BATCH);
        for (record, queue_offset) in result.messages.iter().zip(&result.queue_offsets) {
            let halves = match decode(record) {
                Some(op) if op.tags() == Some(REMOVE_TAG) => parse_op_body(&op.body),
                Some(_) | None => {
                    tracing::warn!(target: LOG_TARGET, op_offset = queue_offset, "op record without the remove tag ignored");
                    Vec::new()
                }
            };
            resolved.extend(halves.iter().copied());
            records.push((*queue_offset, halves));
        }
        if result.next_begin_offset <= offset {
            break;
        }
        offset = result.next_begin_offset;
    }
    (resolved, records)
}

/// The immunity time (ms) of a half message: its `CHECK_IMMUNITY_TIME_IN_SECONDS` × 1000, or
/// `transactionTimeOut` when absent or malformed.
fn immunity_ms(message: &MessageExt, transaction_timeout_ms: i64) -> i64 {
    message
        .properties
        .get(PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS)
        .and_then(|seconds| seconds.parse::<i64>().ok())
        .map_or(transaction_timeout_ms, |seconds| {
            seconds.saturating_mul(1000)
        })
}

fn pending_check(copy: &MessageExt) -> Option<PendingCheck> {
    let producer_group = half::producer_group(copy)?.to_owned();
    let body = match check_body(copy) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(target: LOG_TARGET, %error, "check body not built");
            return None;
        }
    };
    let uniq_key = copy.uniq_key().map(str::to_owned);
    Some(PendingCheck {
        producer_group,
        header: CheckTransactionStateRequestHeader {
            tran_state_table_offset: copy.queue_offset,
            commit_log_offset: copy.commit_log_offset,
            msg_id: uniq_key.clone(),
            transaction_id: uniq_key,
            offset_msg_id: Some(copy.offset_msg_id()),
            ..CheckTransactionStateRequestHeader::default()
        },
        body,
    })
}

/// Appends the check copy of `message`; returns it with its new offsets.
fn append_copy(store: &MessageStore, message: &MessageExt, times: i32) -> Option<MessageExt> {
    let mut copy = check_copy(message, times);
    let result = store.put_message(copy.clone());
    let ok = matches!(
        result.status,
        PutMessageStatus::PutOk | PutMessageStatus::FlushDiskTimeout
    );
    let append = result.append.filter(|_| ok)?;
    copy.queue_offset = append.logics_offset;
    copy.commit_log_offset = append.wrote_offset;
    copy.store_timestamp = append.store_timestamp;
    Some(copy)
}

/// One scan of the half queue (blocking). `half_offset` / `op_offset` are the committed
/// offsets; `round_start_ms` is when the round began.
pub fn scan(
    store: &MessageStore,
    half_offset: i64,
    op_offset: i64,
    settings: &CheckSettings,
    round_start_ms: i64,
) -> ScanOutcome {
    let (mut resolved, op_records) = read_op_records(store, op_offset);
    let end = store.get_max_offset_in_queue(TRANS_HALF_TOPIC, HALF_QUEUE_ID);
    let mut next = half_offset.max(store.get_min_offset_in_queue(TRANS_HALF_TOPIC, HALF_QUEUE_ID));
    let mut outcome = ScanOutcome::default();
    while next < end {
        if resolved.remove(&next) {
            next += 1;
            continue;
        }
        let read = read_one(store, TRANS_HALF_TOPIC, next, 1);
        let (Some(record), Some(&at)) = (read.messages.first(), read.queue_offsets.first()) else {
            if read.next_begin_offset > next {
                next = read.next_begin_offset;
                continue;
            }
            break;
        };
        if at != next {
            // Units in between are unreadable (expired): skip them.
            next = at;
            continue;
        }
        let Some(message) = decode(record) else {
            next += 1;
            continue;
        };
        let times = check_times(&message);
        let age = now_ms() - message.born_timestamp;
        if times >= settings.check_max || age > settings.file_reserved_ms {
            tracing::warn!(
                target: LOG_TARGET,
                half_offset = next,
                check_times = times,
                producer_group = half::producer_group(&message).unwrap_or(""),
                uniq_key = message.uniq_key().unwrap_or(""),
                real_topic = half::real_destination(&message).map(|d| d.0).unwrap_or_default(),
                "half message discarded: no outcome after the allowed checks"
            );
            write_op_record(store, next, settings.store_host, now_ms());
            outcome.discarded.push(next);
            next += 1;
            continue;
        }
        if message.store_timestamp >= round_start_ms {
            break;
        }
        if (0..immunity_ms(&message, settings.transaction_timeout_ms)).contains(&age) {
            break;
        }
        let Some(copy) = append_copy(store, &message, times.saturating_add(1)) else {
            tracing::warn!(target: LOG_TARGET, half_offset = next, "check copy not appended; retried next round");
            break;
        };
        match pending_check(&copy) {
            Some(check) => outcome.checks.push(check),
            None => {
                tracing::warn!(target: LOG_TARGET, half_offset = next, "half message without producer group not checked");
            }
        }
        next += 1;
    }
    outcome.half_offset = next;
    outcome.op_offset = op_offset;
    for (op_queue_offset, halves) in &op_records {
        if halves.iter().any(|half| *half >= next) {
            break;
        }
        outcome.op_offset = op_queue_offset + 1;
    }
    outcome
}

/// Runs [`run_round`] every `transactionCheckInterval` (first after one interval) until
/// `stop`; masters only.
pub fn spawn(ctx: &Arc<BrokerContext>, services: &TaskTracker, stop: &CancellationToken) {
    if ctx.config.broker_role == BrokerRole::Slave {
        return;
    }
    let period = Duration::from_millis(
        u64::try_from(ctx.config.transaction_check_interval)
            .unwrap_or(60_000)
            .max(10),
    );
    let ctx = Arc::clone(ctx);
    let stop = stop.clone();
    services.spawn(async move {
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = interval.tick() => run_round(&ctx).await,
            }
        }
    });
}

/// One check round: scan, commit progress, send the checks.
pub async fn run_round(ctx: &Arc<BrokerContext>) {
    let round_start = now_ms();
    let settings = CheckSettings {
        transaction_timeout_ms: ctx.config.transaction_time_out,
        check_max: ctx.config.transaction_check_max,
        file_reserved_ms: i64::try_from(ctx.config.file_reserved_time)
            .unwrap_or(i64::MAX / 3_600_000)
            .saturating_mul(3_600_000),
        store_host: ctx.store_host,
    };
    let committed_half = ctx
        .offsets
        .query(CHECK_GROUP, TRANS_HALF_TOPIC, HALF_QUEUE_ID);
    let committed_op = ctx
        .offsets
        .query(CHECK_GROUP, TRANS_OP_HALF_TOPIC, HALF_QUEUE_ID);
    let scanned = ctx
        .with_store(move |store| {
            let half = committed_half
                .unwrap_or_else(|| store.get_min_offset_in_queue(TRANS_HALF_TOPIC, HALF_QUEUE_ID));
            let op = committed_op.unwrap_or_else(|| {
                store.get_min_offset_in_queue(TRANS_OP_HALF_TOPIC, HALF_QUEUE_ID)
            });
            scan(store, half, op, &settings, round_start)
        })
        .await;
    let outcome = match scanned {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::debug!(target: LOG_TARGET, %error, "transaction check round skipped");
            return;
        }
    };
    if committed_half != Some(outcome.half_offset) {
        ctx.offsets.commit(
            CHECK_GROUP,
            TRANS_HALF_TOPIC,
            HALF_QUEUE_ID,
            outcome.half_offset,
        );
    }
    if committed_op != Some(outcome.op_offset) {
        ctx.offsets.commit(
            CHECK_GROUP,
            TRANS_OP_HALF_TOPIC,
            HALF_QUEUE_ID,
            outcome.op_offset,
        );
    }
    for check in outcome.checks {
        send_check(ctx, check).await;
    }
}

async fn send_check(ctx: &BrokerContext, check: PendingCheck) {
    let Some(channel) = ctx.producers.available_channel(&check.producer_group) else {
        tracing::warn!(target: LOG_TARGET, producer_group = %check.producer_group, commit_log_offset = check.header.commit_log_offset, "check transaction failed: no producer channel of the group");
        return;
    };
    let request = RemotingCommand::request(RequestCode::CHECK_TRANSACTION_STATE.0)
        .with_header(&check.header)
        .with_body(check.body);
    match channel.send_oneway(request).await {
        Ok(()) => {
            tracing::debug!(target: LOG_TARGET, producer_group = %check.producer_group, peer = %channel.peer(), commit_log_offset = check.header.commit_log_offset, "check transaction state sent");
        }
        Err(error) => {
            tracing::warn!(target: LOG_TARGET, producer_group = %check.producer_group, peer = %channel.peer(), %error, "check transaction state not sent");
        }
    }
}
