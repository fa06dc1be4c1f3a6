//! PULL_MESSAGE (11) and LITE_PULL_MESSAGE (361) with RocketMQ's checks (§9.1), status mapping
//! (§9.2) and long polling (§9.4).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use ferric_common::message::MessageExt;
use ferric_common::topic::names;
use ferric_common::{Properties, java_hash, perm};
use ferric_filter::Sql92Filter;
use ferric_protocol::body::SubscriptionData;
use ferric_protocol::header::{
    PULL_FLAG_COMMIT_OFFSET, PULL_FLAG_SUBSCRIPTION, PULL_FLAG_SUSPEND, PullMessageRequestHeader,
    PullMessageResponseHeader,
};
use ferric_protocol::{RemotingCommand, ResponseCode};
use ferric_remoting::Channel;
use ferric_store::{GetMessageResult, GetMessageStatus, MessageStore};

use super::HandlerResult;
use crate::context::BrokerContext;
use crate::error::BrokerError;
use crate::filter::PullFilter;
use crate::long_polling::{HeldPull, HoldCondition};

/// Expression type of tag subscriptions.
pub const EXPRESSION_TAG: &str = "TAG";

/// Builds a tag subscription like RocketMQ's `FilterAPI.build`: empty or `*` means all;
/// otherwise tags split on `||`, trimmed, with their Java hash codes.
pub fn build_subscription(
    topic: &str,
    sub_string: &str,
    expression_type: Option<&str>,
) -> SubscriptionData {
    let expression_type = expression_type
        .filter(|t| !t.is_empty())
        .unwrap_or(EXPRESSION_TAG)
        .to_owned();
    let mut data = SubscriptionData {
        topic: topic.to_owned(),
        sub_string: sub_string.trim().to_owned(),
        expression_type,
        sub_version: crate::persist::now_ms(),
        ..SubscriptionData::default()
    };
    if data.expression_type != EXPRESSION_TAG
        || data.sub_string.is_empty()
        || data.sub_string == "*"
    {
        if data.sub_string.is_empty() {
            data.sub_string = "*".to_owned();
        }
        return data;
    }
    for tag in data
        .sub_string
        .split("||")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        data.tags_set.push(tag.to_owned());
        data.code_set.push(java_hash(tag));
    }
    data
}

/// The tag codes a subscription accepts (`None`: every message; SQL92 subscriptions filter
/// on the record instead).
pub fn tag_codes(subscription: &SubscriptionData) -> Option<Vec<i32>> {
    if subscription.class_filter_mode
        || !crate::filter::is_tag_type(&subscription.expression_type)
        || subscription.sub_string.is_empty()
        || subscription.sub_string == "*"
    {
        None
    } else {
        Some(subscription.code_set.clone())
    }
}

fn refused(code: ResponseCode, remark: String) -> BrokerError {
    BrokerError::refused(code, remark)
}

/// The checks of §9.1, in order; returns the subscription to filter with and, for SQL92, its
/// compiled expression.
fn check_pull(
    ctx: &Arc<BrokerContext>,
    header: &PullMessageRequestHeader,
) -> Result<(SubscriptionData, Option<Arc<Sql92Filter>>), BrokerError> {
    if !ctx.config.broker_readable() {
        return Err(refused(
            ResponseCode::NO_PERMISSION,
            format!(
                "the broker[{}] pulling message is forbidden",
                ctx.config.broker_ip1
            ),
        ));
    }
    let group = header.consumer_group.as_str();
    let Some((group_config, created)) = ctx.groups.find_or_create(group) else {
        return Err(refused(
            ResponseCode::SUBSCRIPTION_GROUP_NOT_EXIST,
            format!(
                "subscription group [{group}] does not exist, {}",
                "http://rocketmq.apache.org/docs/faq/"
            ),
        ));
    };
    if created {
        ctx.groups_changed();
    }
    if !group_config.consume_enable {
        return Err(refused(
            ResponseCode::NO_PERMISSION,
            format!("subscription group no permission, {group}"),
        ));
    }
    let topic = header.topic.as_str();
    let Some(topic_config) = ctx.topics.get(topic) else {
        return Err(refused(
            ResponseCode::TOPIC_NOT_EXIST,
            format!(
                "topic[{topic}] not exist, apply first please! http://rocketmq.apache.org/docs/faq/"
            ),
        ));
    };
    if !perm::is_readable(topic_config.perm) {
        return Err(refused(
            ResponseCode::NO_PERMISSION,
            format!("the topic[{topic}] pulling message is forbidden"),
        ));
    }
    if header.queue_id < 0 || header.queue_id >= topic_config.read_queue_nums {
        return Err(refused(
            ResponseCode::SYSTEM_ERROR,
            format!(
                "queueId[{}] is illegal, topic:[{topic}] topicConfig.readQueueNums:[{}] consumer:[{}]",
                header.queue_id, topic_config.read_queue_nums, "unknown"
            ),
        ));
    }
    let mut sql92 = None;
    let subscription = if header.sys_flag & PULL_FLAG_SUBSCRIPTION != 0 {
        let subscription = build_subscription(
            topic,
            header.subscription.as_deref().unwrap_or("*"),
            header.expression_type.as_deref(),
        );
        if !crate::filter::is_tag_type(&subscription.expression_type) {
            let compiled = if crate::filter::is_sql92(&subscription) {
                ctx.filters
                    .carried(group, topic, &subscription.sub_string, header.sub_version)
                    .map_err(|error| error.to_string())
            } else {
                Err(format!(
                    "unsupported expression type {}",
                    subscription.expression_type
                ))
            };
            match compiled {
                Ok(compiled) => sql92 = Some(compiled),
                Err(error) => {
                    tracing::warn!(%group, %topic, expression = %subscription.sub_string, %error, "pull subscription does not parse");
                    return Err(refused(
                        ResponseCode::SUBSCRIPTION_PARSE_FAILED,
                        "parse the consumer's subscription failed".to_owned(),
                    ));
                }
            }
        }
        subscription
    } else {
        let Some(info) = ctx.consumers.group(group) else {
            return Err(refused(
                ResponseCode::SUBSCRIPTION_NOT_EXIST,
                format!(
                    "the consumer's group info not exist, {}",
                    "http://rocketmq.apache.org/docs/faq/"
                ),
            ));
        };
        if !group_config.consume_broadcast_enable && info.message_model == "BROADCASTING" {
            return Err(refused(
                ResponseCode::NO_PERMISSION,
                format!("the consumer group[{group}] can not consume by broadcast way"),
            ));
        }
        let Some(subscription) = info.subscriptions.get(topic).cloned() else {
            return Err(refused(
                ResponseCode::SUBSCRIPTION_NOT_EXIST,
                format!(
                    "the consumer's subscription not exist, {}",
                    "http://rocketmq.apache.org/docs/faq/"
                ),
            ));
        };
        if subscription.sub_version < header.sub_version {
            return Err(refused(
                ResponseCode::SUBSCRIPTION_NOT_LATEST,
                "the consumer's subscription not latest".to_owned(),
            ));
        }
        if !crate::filter::is_tag_type(&subscription.expression_type) {
            match ctx.filters.registered(group, &subscription) {
                Ok(compiled) => sql92 = Some(compiled),
                Err(_) => {
                    return Err(refused(
                        ResponseCode::FILTER_DATA_NOT_EXIST,
                        "The broker's consumer filter data is not exist!Your expression may be wrong!"
                            .to_owned(),
                    ));
                }
            }
        }
        subscription
    };
    if !crate::filter::is_tag_type(&subscription.expression_type)
        && !ctx.config.enable_property_filter
    {
        return Err(refused(
            ResponseCode::SYSTEM_ERROR,
            format!(
                "The broker does not support consumer to filter message by {}",
                subscription.expression_type
            ),
        ));
    }
    Ok((subscription, sql92))
}

/// Runs one pull on first processing: it may be held, and its `commitOffset` is stored.
pub async fn pull_message(
    ctx: &Arc<BrokerContext>,
    channel: &Channel,
    request: &RemotingCommand,
) -> HandlerResult {
    let header: PullMessageRequestHeader = request.decode_header()?;
    run_pull(ctx, channel, request, header, true).await
}

/// Runs one pull whose header is decoded. `allow_suspend` is true on first processing (false
/// when a held pull is re-run): only then may the request be held, and only then is
/// `commitOffset` stored. The checks run again on a re-run, as permissions may have changed.
async fn run_pull(
    ctx: &Arc<BrokerContext>,
    channel: &Channel,
    request: &RemotingCommand,
    header: PullMessageRequestHeader,
    allow_suspend: bool,
) -> HandlerResult {
    let (subscription, sql92) = check_pull(ctx, &header)?;
    let codes = tag_codes(&subscription);
    let (topic, queue_id, offset) = (header.topic.clone(), header.queue_id, header.queue_offset);
    let max_count = usize::try_from(header.max_msg_nums.max(1)).unwrap_or(1);
    let max_bytes = header
        .max_msg_bytes
        .and_then(|b| usize::try_from(b).ok())
        .unwrap_or(usize::MAX);
    let read = PullRead {
        topic,
        queue_id,
        offset,
        max_count,
        max_bytes,
        filter: PullFilter {
            tag_codes: codes.clone(),
            sql92,
        },
    };
    // Where the read runs. RocketMQ reads the mapped CommitLog on the request thread: a record
    // in the page cache is a memcpy (about 33 KiB for a pull of 32 messages of 1 KiB), much
    // cheaper than a blocking-pool hop, which costs a thread wake-up and two context switches
    // per pull (the largest kernel cost, ~11 % of broker CPU in `finish_task_switch`, in a
    // profile of a catch-up pull on one core; see docs/benchmarks.md, "Pull path"). So a pull
    // whose first record lies within RocketMQ's in-memory window (the newest 40 % of RAM's
    // worth of CommitLog, `checkInDiskByCommitOffset`) reads on the reactor thread. Older
    // records may have to come from disk, and a major page fault would stall every
    // connection of this worker, so those reads keep the blocking pool.
    let store = ctx.store()?;
    let (result, body) = if store.pull_is_in_memory(&read.topic, queue_id, offset) {
        read.run(&store)
    } else {
        drop(store);
        ctx.with_store(move |store| read.run(store)).await?
    };

    let (code, body) = match result.status {
        GetMessageStatus::Found => (ResponseCode::SUCCESS, body),
        GetMessageStatus::NoMatchedMessage | GetMessageStatus::MessageWasRemoving => {
            (ResponseCode::PULL_RETRY_IMMEDIATELY, bytes::Bytes::new())
        }
        GetMessageStatus::NoMatchedLogicQueue | GetMessageStatus::NoMessageInQueue => {
            if offset != 0 {
                (ResponseCode::PULL_OFFSET_MOVED, bytes::Bytes::new())
            } else {
                (ResponseCode::PULL_NOT_FOUND, bytes::Bytes::new())
            }
        }
        GetMessageStatus::OffsetFoundNull | GetMessageStatus::OffsetOverflowOne => {
            (ResponseCode::PULL_NOT_FOUND, bytes::Bytes::new())
        }
        GetMessageStatus::OffsetOverflowBadly | GetMessageStatus::OffsetTooSmall => {
            (ResponseCode::PULL_OFFSET_MOVED, bytes::Bytes::new())
        }
    };

    let commit = allow_suspend && header.sys_flag & PULL_FLAG_COMMIT_OFFSET != 0;
    if commit {
        ctx.offsets.commit(
            &header.consumer_group,
            &header.topic,
            header.queue_id,
            header.commit_offset,
        );
    }

    if code == ResponseCode::PULL_NOT_FOUND
        && allow_suspend
        && header.sys_flag & PULL_FLAG_SUSPEND != 0
    {
        let hold_ms = if ctx.config.long_polling_enable {
            header.suspend_timeout_millis
        } else {
            ctx.config.short_polling_time_mills
        };
        let hold = Duration::from_millis(u64::try_from(hold_ms.max(0)).unwrap_or(0));
        let (topic, queue_id, queue_offset) =
            (header.topic.clone(), header.queue_id, header.queue_offset);
        ctx.held_pulls.hold(
            &topic,
            queue_id,
            HeldPull {
                channel: channel.clone(),
                request: request.clone(),
                header,
                until: HoldCondition {
                    queue_offset,
                    deadline: Instant::now() + hold,
                    tag_codes: codes,
                },
            },
        );
        // A message may have arrived between the read and the hold.
        let max = ctx.store()?.get_max_offset_in_queue(&topic, queue_id);
        if max > queue_offset {
            super::send::wake_held_pulls(ctx, &topic, queue_id, max, None);
        }
        return Ok(None);
    }

    if code == ResponseCode::PULL_OFFSET_MOVED {
        store_offset_moved_event(ctx, &header, result.next_begin_offset).await;
    }

    let response_header = PullMessageResponseHeader {
        suggest_which_broker_id: 0,
        next_begin_offset: result.next_begin_offset,
        min_offset: result.min_offset,
        max_offset: result.max_offset,
        ..PullMessageResponseHeader::default()
    };
    Ok(Some(
        request
            .response_to(code.0, Some(result.status.as_str().to_owned()))
            .with_header(&response_header)
            .with_body(body),
    ))
}

/// One store read of a pull.
struct PullRead {
    topic: String,
    queue_id: i32,
    offset: i64,
    max_count: usize,
    max_bytes: usize,
    filter: PullFilter,
}

impl PullRead {
    /// Reads the records straight into the response body (one copy per record).
    fn run(&self, store: &MessageStore) -> (GetMessageResult, Bytes) {
        let mut body = BytesMut::new();
        let result = store.get_message_into(
            &self.topic,
            self.queue_id,
            self.offset,
            self.max_count,
            self.max_bytes,
            Some(&self.filter),
            &mut body,
        );
        (result, body.freeze())
    }
}

/// Re-runs a held pull and answers it through its channel.
pub async fn resume(ctx: &Arc<BrokerContext>, held: HeldPull) {
    if !held.channel.is_active() {
        return;
    }
    let request = held.request;
    let response = match run_pull(ctx, &held.channel, &request, held.header, false).await {
        Ok(Some(response)) => response,
        Ok(None) => return,
        Err(error) => error.to_response(&request),
    };
    if let Err(error) = held.channel.send_response(response).await {
        tracing::debug!(peer = %held.channel.peer(), %error, "held pull answer not sent");
    }
}

/// Stores an OFFSET_MOVED_EVENT message like RocketMQ 4.x (tag and key = group, body =
/// OffsetMovedEvent JSON).
async fn store_offset_moved_event(
    ctx: &Arc<BrokerContext>,
    header: &PullMessageRequestHeader,
    offset_new: i64,
) {
    let event = serde_json::json!({
        "consumerGroup": header.consumer_group,
        "messageQueue": {
            "brokerName": ctx.config.broker_name,
            "queueId": header.queue_id,
            "topic": header.topic,
        },
        "offsetNew": offset_new,
        "offsetRequest": header.queue_offset,
    });
    let body = match super::encode_body(&event) {
        Ok(body) => body,
        Err(error) => {
            tracing::warn!(%error, "offset moved event not encoded");
            return;
        }
    };
    let mut properties = Properties::new();
    properties.insert("TAGS", header.consumer_group.as_str());
    properties.insert("KEYS", header.consumer_group.as_str());
    properties.insert("WAIT", "true");
    let message = MessageExt {
        topic: names::OFFSET_MOVED_EVENT.to_owned(),
        queue_id: 0,
        born_timestamp: crate::persist::now_ms(),
        born_host: ctx.store_host,
        store_host: ctx.store_host,
        body: body.into(),
        properties,
        ..MessageExt::default()
    };
    tracing::warn!(group = %header.consumer_group, topic = %header.topic, queue_id = header.queue_id, requested = header.queue_offset, offset_new, "pull offset moved");
    match ctx
        .with_store(move |store| store.put_message(message))
        .await
    {
        Ok(result) if result.append.is_some() => {}
        Ok(result) => tracing::warn!(
            status = result.status.as_str(),
            "offset moved event not stored"
        ),
        Err(error) => tracing::warn!(%error, "offset moved event not stored"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_parse_like_filter_api() {
        let all = build_subscription("T", "*", None);
        assert!(tag_codes(&all).is_none());
        let tags = build_subscription("T", "TagA || TagB ||", Some("TAG"));
        assert_eq!(tags.tags_set, vec!["TagA".to_owned(), "TagB".to_owned()]);
        assert_eq!(tags.code_set[0], 2_598_919);
        let filter = PullFilter {
            tag_codes: tag_codes(&tags),
            sql92: None,
        };
        assert!(ferric_store::MessageFilter::matches_tags_code(
            &filter, 2_598_919
        ));
        assert!(!ferric_store::MessageFilter::matches_tags_code(&filter, 0));
        let sql = build_subscription("T", "a > 1", Some("SQL92"));
        assert_eq!(sql.expression_type, "SQL92");
        assert!(tag_codes(&sql).is_none());
    }
}
