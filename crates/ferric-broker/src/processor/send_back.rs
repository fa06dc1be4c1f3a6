//! Consumer retry and dead letters: CONSUMER_SEND_MSG_BACK (36) and the retry-topic branch of
//! the send path (RocketMQ 4.9.8 `consumerSendMsgBack` / `handleRetryAndDLQ`, remoting.md §6.4).
//!
//! Send-back: the group must exist (or be auto-creatable); the failed message is read by its
//! CommitLog offset; `%RETRY%<group>` is created with the group's `retryQueueNums` (perm 6).
//! Once `reconsumeTimes >= maxReconsumeTimes` (header value when the request version is
//! ≥ 121, else the group's `retryMaxTimes`), or when `delayLevel < 0`, the message goes to
//! `%DLQ%<group>` (1 queue, perm 6, `DELAY=0`); otherwise to a random retry queue with delay
//! level `delayLevel`, or `3 + reconsumeTimes` when it is 0 — through `SCHEDULE_TOPIC_XXXX`.
//! The new message keeps body, flag, sysflag, born time/host and properties, gets
//! `RETRY_TOPIC` (original topic, if absent), `WAIT=false`, `ORIGIN_MESSAGE_ID` (existing
//! value, else the failed message's offset msgId — RocketMQ ignores the header's
//! `originMsgId` here) and `reconsumeTimes + 1`.
//!
//! A plain send to `%RETRY%<group>` (the client's fallback, and the orderly consumer's path to
//! the DLQ) goes to `%DLQ%<group>` when the header's `reconsumeTimes >= maxReconsumeTimes`.

use std::sync::Arc;

use ferric_common::message::MessageExt;
use ferric_common::message_const::{
    PROPERTY_DELAY_TIME_LEVEL, PROPERTY_ORIGIN_MESSAGE_ID, PROPERTY_RETRY_TOPIC,
    PROPERTY_WAIT_STORE_MSG_OK,
};
use ferric_common::topic::{self, names};
use ferric_common::{TopicConfig, perm};
use ferric_protocol::header::{ConsumerSendMsgBackRequestHeader, SendMessageRequestHeader};
use ferric_protocol::{RemotingCommand, ResponseCode};
use rand::Rng;

use crate::context::BrokerContext;
use crate::error::BrokerError;

/// Request version from which the header's `maxReconsumeTimes` is honoured (V3_4_9).
pub const MAX_RECONSUME_TIMES_MIN_VERSION: i32 = 121;
/// Queues of a `%DLQ%` topic.
pub const DLQ_NUMS_PER_GROUP: i32 = 1;

const FAQ_GROUP: &str = "http://rocketmq.apache.org/docs/faq/";

fn group_not_exist(group: &str) -> BrokerError {
    BrokerError::refused(
        ResponseCode::SUBSCRIPTION_GROUP_NOT_EXIST,
        format!("subscription group not exist, {group} {FAQ_GROUP}"),
    )
}

fn create_topic(ctx: &Arc<BrokerContext>, name: &str, queues: i32) -> TopicConfig {
    let (config, created) =
        ctx.topics
            .create_if_absent(name, queues, perm::PERM_READ | perm::PERM_WRITE);
    if created {
        ctx.topics_changed();
    }
    config
}

/// Handles CONSUMER_SEND_MSG_BACK.
pub async fn consumer_send_msg_back(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let header: ConsumerSendMsgBackRequestHeader = request.decode_header()?;
    let group = header.group.as_str();
    let Some((group_config, created)) = ctx.groups.find_or_create(group) else {
        return Err(group_not_exist(group));
    };
    if created {
        ctx.groups_changed();
    }
    super::send::check_broker_writable(ctx)?;
    if group_config.retry_queue_nums <= 0 {
        return Ok(super::success(request));
    }
    let retry_topic = topic::retry_topic(group);
    let retry_config = create_topic(ctx, &retry_topic, group_config.retry_queue_nums);
    if !perm::is_writeable(retry_config.perm) {
        return Err(BrokerError::refused(
            ResponseCode::NO_PERMISSION,
            format!("the topic[{retry_topic}] sending message is forbidden"),
        ));
    }
    let offset = header.offset;
    let Some(mut failed) = ctx
        .with_store(move |store| store.look_message_by_offset(offset))
        .await?
    else {
        return Err(BrokerError::refused(
            ResponseCode::SYSTEM_ERROR,
            format!("look message by offset failed, {offset}"),
        ));
    };
    if !failed.properties.contains_key(PROPERTY_RETRY_TOPIC) {
        let original = failed.topic.clone();
        failed.properties.insert(PROPERTY_RETRY_TOPIC, original);
    }
    failed
        .properties
        .insert(PROPERTY_WAIT_STORE_MSG_OK, "false");
    let max_reconsume_times = match header.max_reconsume_times {
        Some(times) if request.version >= MAX_RECONSUME_TIMES_MIN_VERSION => times,
        _ => group_config.retry_max_times,
    };
    let (target_topic, queue_id, delay_level) =
        if failed.reconsume_times >= max_reconsume_times || header.delay_level < 0 {
            let dlq = topic::dlq_topic(group);
            create_topic(ctx, &dlq, DLQ_NUMS_PER_GROUP);
            let queue_id = rand::rng().random_range(0..DLQ_NUMS_PER_GROUP);
            (dlq, queue_id, 0)
        } else {
            let level = if header.delay_level == 0 {
                3 + failed.reconsume_times
            } else {
                header.delay_level
            };
            let queue_id = rand::rng().random_range(0..group_config.retry_queue_nums);
            (retry_topic, queue_id, level)
        };
    failed
        .properties
        .insert(PROPERTY_DELAY_TIME_LEVEL, delay_level.to_string());
    let origin = failed
        .properties
        .get(PROPERTY_ORIGIN_MESSAGE_ID)
        .filter(|id| !id.trim().is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| failed.offset_msg_id());
    failed.properties.insert(PROPERTY_ORIGIN_MESSAGE_ID, origin);
    let mut message = MessageExt {
        topic: target_topic.clone(),
        queue_id,
        flag: failed.flag,
        sys_flag: failed.sys_flag,
        born_timestamp: failed.born_timestamp,
        born_host: failed.born_host,
        store_host: failed.store_host,
        reconsume_times: failed.reconsume_times.saturating_add(1),
        body: failed.body,
        properties: failed.properties,
        ..MessageExt::default()
    };
    let scheduled = crate::schedule::apply_delay_level(&mut message, ctx.schedule.max_level());
    tracing::debug!(%group, topic = %target_topic, queue_id, delay_level, ?scheduled, reconsume_times = message.reconsume_times, "message sent back");
    let result = super::send::put_messages(ctx, std::slice::from_ref(&message)).await?;
    let Some(append) = result.append else {
        return Err(BrokerError::refused(
            ResponseCode::SYSTEM_ERROR,
            result.status.as_str(),
        ));
    };
    super::send::wake_held_pulls(
        ctx,
        &message.topic,
        message.queue_id,
        append.logics_offset + 1,
        Some(message.tags_code()),
    );
    Ok(super::success(request))
}

/// The send path's retry-topic rule: a message sent to `%RETRY%<group>` whose header
/// `reconsumeTimes >= maxReconsumeTimes` is redirected to `%DLQ%<group>` (with `DELAY=0`).
/// Returns the DLQ topic config when it redirected.
pub fn handle_retry_and_dlq(
    ctx: &Arc<BrokerContext>,
    header: &SendMessageRequestHeader,
    request_version: i32,
    message: &mut MessageExt,
) -> Result<Option<TopicConfig>, BrokerError> {
    let Some(group) = header.topic.strip_prefix(names::RETRY_GROUP_TOPIC_PREFIX) else {
        return Ok(None);
    };
    let Some((group_config, created)) = ctx.groups.find_or_create(group) else {
        return Err(group_not_exist(group));
    };
    if created {
        ctx.groups_changed();
    }
    let max_reconsume_times = match header.max_reconsume_times {
        Some(times) if request_version >= MAX_RECONSUME_TIMES_MIN_VERSION => times,
        _ => group_config.retry_max_times,
    };
    let reconsume_times = header.reconsume_times.unwrap_or(0);
    if reconsume_times < max_reconsume_times {
        return Ok(None);
    }
    let dlq = topic::dlq_topic(group);
    let config = create_topic(ctx, &dlq, DLQ_NUMS_PER_GROUP);
    message.topic = dlq;
    message.queue_id = rand::rng().random_range(0..DLQ_NUMS_PER_GROUP);
    message.properties.insert(PROPERTY_DELAY_TIME_LEVEL, "0");
    tracing::debug!(%group, reconsume_times, max_reconsume_times, "retry send redirected to the dlq");
    Ok(Some(config))
}

/// The rules a single sent message passes before the put, in RocketMQ's order: retry topic →
/// DLQ ([`handle_retry_and_dlq`]), then timer properties ([`crate::timer::apply_timer`]), then
/// delay levels ([`crate::schedule::apply_delay_level`]).
pub fn apply_send_rules(
    ctx: &Arc<BrokerContext>,
    header: &SendMessageRequestHeader,
    request_version: i32,
    message: &mut MessageExt,
) -> Result<(), BrokerError> {
    handle_retry_and_dlq(ctx, header, request_version, message)?;
    // Without a timer property `apply_timer` changes nothing; most sends skip the clock read.
    let timer_keys = [
        ferric_common::message_const::PROPERTY_TIMER_DELAY_SEC,
        ferric_common::message_const::PROPERTY_TIMER_DELAY_MS,
        ferric_common::message_const::PROPERTY_TIMER_DELIVER_MS,
    ];
    if timer_keys
        .iter()
        .any(|key| message.properties.contains_key(key))
    {
        let now = crate::persist::now_ms();
        if crate::timer::apply_timer(message, now, ctx.config.timer_max_delay_sec)? {
            return Ok(());
        }
    }
    crate::schedule::apply_delay_level(message, ctx.schedule.max_level());
    Ok(())
}
