//! SEND_MESSAGE (10, long header), SEND_MESSAGE_V2 (310, short header) and
//! SEND_BATCH_MESSAGE (320).
//!
//! The path is: decode the header → [`check_topic`] (broker/topic permission, name, auto-create,
//! queue id) → build the stored message(s) → put on the blocking pool → map the status → wake
//! held pulls. A single message also passes [`super::send_back::apply_send_rules`]: retry-topic
//! messages past their reconsume limit go to the DLQ, timer and delay-level messages are
//! parked (`crate::timer`, `crate::schedule`).

use std::sync::Arc;

use ferric_common::message::MessageExt;
use ferric_common::message_const::PROPERTY_CLUSTER;
use ferric_common::topic::{self, names};
use ferric_common::{Properties, TopicConfig, TopicFilterType, perm, sysflag};
use ferric_protocol::header::{
    MSG_REGION_KEY, SendMessageRequestHeader, SendMessageRequestHeaderV2,
    SendMessageResponseHeader, TRACE_ON_KEY,
};
use ferric_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ferric_remoting::Channel;
use ferric_store::PutMessageResult;
use rand::Rng;

use crate::context::BrokerContext;
use crate::error::{BrokerError, put_status_response};
use crate::topic_manager::topic_name_problem;

const FAQ_URL: &str = "http://rocketmq.apache.org/docs/faq/";

/// Reads the send header of any send or reply code as the long form: SEND_MESSAGE and
/// SEND_REPLY_MESSAGE carry it as is, the V2 and batch codes carry the short form.
pub fn decode_send_header(
    request: &RemotingCommand,
) -> Result<SendMessageRequestHeader, BrokerError> {
    if request.code == RequestCode::SEND_MESSAGE.0
        || request.code == RequestCode::SEND_REPLY_MESSAGE.0
    {
        Ok(request.decode_header::<SendMessageRequestHeader>()?)
    } else {
        Ok(request
            .decode_header::<SendMessageRequestHeaderV2>()?
            .into())
    }
}

/// NO_PERMISSION while the broker's permission forbids writes.
pub fn check_broker_writable(ctx: &BrokerContext) -> Result<(), BrokerError> {
    if ctx.config.broker_writable() {
        return Ok(());
    }
    Err(BrokerError::refused(
        ResponseCode::NO_PERMISSION,
        format!(
            "the broker[{}] sending message is forbidden",
            ctx.config.broker_ip1
        ),
    ))
}

/// Permission, name, existence (auto-creating from the template) and queue checks; returns
/// the topic config and the queue id to write (a random writable queue for `queueId < 0`).
pub fn check_topic(
    ctx: &Arc<BrokerContext>,
    header: &SendMessageRequestHeader,
) -> Result<(TopicConfig, i32), BrokerError> {
    let topic = header.topic.as_str();
    check_broker_writable(ctx)?;
    let too_long = topic.len() > names::TOPIC_MAX_LENGTH && !topic::is_retry_topic(topic);
    if too_long || topic.len() > names::RETRY_OR_DLQ_TOPIC_MAX_LENGTH {
        return Err(BrokerError::refused(
            ResponseCode::MESSAGE_ILLEGAL,
            format!("message topic length too long {}", topic.len()),
        ));
    }
    if let Some(problem) = topic_name_problem(topic) {
        return Err(BrokerError::refused(
            ResponseCode::INVALID_PARAMETER,
            problem,
        ));
    }
    if topic::is_not_allowed_send_topic(topic) {
        return Err(BrokerError::refused(
            ResponseCode::NO_PERMISSION,
            format!("Sending message to topic[{topic}] is forbidden."),
        ));
    }
    let config = match ctx.topics.get(topic) {
        Some(config) => config,
        None => {
            let created = if topic::is_retry_topic(topic) {
                Some(
                    ctx.topics
                        .create_if_absent(topic, 1, perm::PERM_READ | perm::PERM_WRITE),
                )
            } else {
                ctx.topics.create_in_send(
                    topic,
                    &header.default_topic,
                    header.default_topic_queue_nums,
                    0,
                    ctx.config.auto_create_topic_enable,
                )
            };
            let Some((config, fresh)) = created else {
                return Err(BrokerError::refused(
                    ResponseCode::TOPIC_NOT_EXIST,
                    format!("topic[{topic}] not exist, apply first please! {FAQ_URL}"),
                ));
            };
            if fresh {
                ctx.topics_changed();
            }
            config
        }
    };
    if !perm::is_writeable(config.perm) {
        return Err(BrokerError::refused(
            ResponseCode::NO_PERMISSION,
            format!("the topic[{topic}] sending message is forbidden"),
        ));
    }
    let queue_limit = config.read_queue_nums.max(config.write_queue_nums);
    if header.queue_id >= queue_limit {
        return Err(BrokerError::refused(
            ResponseCode::INVALID_PARAMETER,
            format!(
                "request queueId[{}] is illegal, {:?} Producer: {}",
                header.queue_id, config, header.producer_group
            ),
        ));
    }
    let queue_id = if header.queue_id < 0 {
        if config.write_queue_nums <= 0 {
            return Err(BrokerError::refused(
                ResponseCode::NO_PERMISSION,
                format!("the topic[{topic}] has no writable queue"),
            ));
        }
        rand::rng().random_range(0..config.write_queue_nums)
    } else {
        header.queue_id
    };
    Ok((config, queue_id))
}

fn base_message(
    ctx: &BrokerContext,
    channel: &Channel,
    header: &SendMessageRequestHeader,
    config: &TopicConfig,
    queue_id: i32,
) -> MessageExt {
    let mut sys_flag = header.sys_flag;
    if config.topic_filter_type == TopicFilterType::MultiTag {
        sys_flag |= sysflag::MULTI_TAGS_FLAG;
    }
    MessageExt {
        topic: header.topic.clone(),
        queue_id,
        flag: header.flag,
        sys_flag,
        born_timestamp: header.born_timestamp,
        born_host: channel.remote_addr(),
        store_host: ctx.store_host,
        reconsume_times: header.reconsume_times.unwrap_or(0),
        ..MessageExt::default()
    }
}

/// Handles the three send codes.
pub async fn send_message(
    ctx: &Arc<BrokerContext>,
    channel: &Channel,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let header = decode_send_header(request)?;
    let batch = request.code == RequestCode::SEND_BATCH_MESSAGE.0;
    let (config, queue_id) = check_topic(ctx, &header)?;
    let max_size = ctx.config.max_message_size;
    if request.body.len() > max_size {
        return Err(BrokerError::refused(
            ResponseCode::MESSAGE_ILLEGAL,
            format!(
                "the message body size over max value, MAX: {max_size}, body: {}",
                request.body.len()
            ),
        ));
    }
    let header_properties =
        Properties::decode(header.properties.as_deref().unwrap_or("").as_bytes());
    let cluster = ctx.config.broker_cluster_name.clone();
    let template = base_message(ctx, channel, &header, &config, queue_id);
    let messages = if batch {
        if topic::is_retry_topic(&header.topic) {
            return Err(BrokerError::refused(
                ResponseCode::MESSAGE_ILLEGAL,
                format!(
                    "batch request does not support retry group {}",
                    header.topic
                ),
            ));
        }
        let entries =
            ferric_common::batch::decode_batch_with_limit(&request.body, &header.topic, max_size)
                .map_err(|error| {
                BrokerError::refused(
                    ResponseCode::MESSAGE_ILLEGAL,
                    format!("bad batch body: {error}"),
                )
            })?;
        entries
            .into_iter()
            .map(|entry| {
                let mut properties = entry.properties;
                if let Some(wait) = header_properties.get("WAIT") {
                    properties.insert("WAIT", wait);
                }
                properties.insert(PROPERTY_CLUSTER, cluster.as_str());
                MessageExt {
                    flag: entry.flag,
                    body: entry.body,
                    properties,
                    ..template.clone()
                }
            })
            .collect::<Vec<_>>()
    } else {
        let mut properties = header_properties.clone();
        properties.insert(PROPERTY_CLUSTER, cluster.as_str());
        let mut message = MessageExt {
            body: request.body.clone(),
            properties,
            ..template
        };
        super::send_back::apply_send_rules(ctx, &header, request.version, &mut message)?;
        vec![message]
    };
    let (messages, _half) = crate::transaction::half::prepare_send(
        ctx.config.reject_transaction_message,
        &ctx.config.broker_ip1,
        &header_properties,
        batch,
        messages,
    )?;
    if ctx.store()?.is_disk_full() {
        return Err(BrokerError::refused(
            ResponseCode::SERVICE_NOT_AVAILABLE,
            "service not available now, the broker's disk is full, writes are refused until space is freed",
        ));
    }
    let transaction_id = header_properties
        .get(ferric_common::message_const::PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX)
        .map(str::to_owned);
    let tags_codes: Vec<i64> = messages
        .iter()
        .map(|m| ferric_common::tags_code(m.properties.get("TAGS")))
        .collect();
    // Where the records really went (a delayed message lands in SCHEDULE_TOPIC_XXXX).
    let (topic_name, stored_queue_id) = messages
        .first()
        .map_or((header.topic.clone(), queue_id), |m| {
            (m.topic.clone(), m.queue_id)
        });
    // Appended on the store's put thread; a SYNC_FLUSH answer comes from the group commit
    // without a thread blocked per request. `messages` is one record unless `batch`.
    let (done, stored) = tokio::sync::oneshot::channel::<PutMessageResult>();
    ctx.store()?.submit_put(
        messages,
        Box::new(move |result| {
            let _ = done.send(result);
        }),
    );
    let result = stored.await.map_err(|_| BrokerError::ShuttingDown)?;
    let (code, remark) = put_status_response(result.status);
    let Some(append) = result.append else {
        return Err(BrokerError::refused(code, remark.unwrap_or_default()));
    };
    for (record, tags_code) in append.records.iter().zip(tags_codes) {
        wake_held_pulls(
            ctx,
            &topic_name,
            stored_queue_id,
            record.queue_offset + 1,
            Some(tags_code),
        );
    }
    let response_header = SendMessageResponseHeader {
        msg_id: append.msg_id.clone(),
        queue_id,
        queue_offset: append.logics_offset,
        transaction_id,
        ..SendMessageResponseHeader::default()
    };
    let mut response = request
        .response_to(code.0, remark)
        .with_header(&response_header);
    response.set_ext(MSG_REGION_KEY, ctx.config.region_id.clone());
    response.set_ext(TRACE_ON_KEY, ctx.config.trace_on.to_string());
    Ok(response)
}

/// Answers the pulls held on `(topic, queue_id)` that a message with `tags_code` satisfies.
pub fn wake_held_pulls(
    ctx: &Arc<BrokerContext>,
    topic: &str,
    queue_id: i32,
    max_offset: i64,
    tags_code: Option<i64>,
) {
    let ready = ctx
        .held_pulls
        .take_arrived(topic, queue_id, max_offset, tags_code);
    for held in ready {
        let ctx = Arc::clone(ctx);
        tokio::spawn(async move { super::pull::resume(&ctx, held).await });
    }
}

/// The template topic name the Java client puts in `defaultTopic`.
pub const DEFAULT_TEMPLATE_TOPIC: &str = names::AUTO_CREATE_TOPIC_KEY_TOPIC;
