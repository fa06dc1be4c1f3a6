//! SEND_MESSAGE (10, long header), SEND_MESSAGE_V2 (310, short header) and
//! SEND_BATCH_MESSAGE (320).
//!
//! The path is: decode the header → [`check_topic`] (broker/topic permission, name, auto-create,
//! queue id) → build the stored message(s) → append on the request's task ([`put_messages`])
//! → map the status → wake held pulls. A single message also passes [`super::send_back::apply_send_rules`]: retry-topic
//! messages past their reconsume limit go to the DLQ, timer and delay-level messages are
//! parked (`crate::timer`, `crate::schedule`).

use std::sync::Arc;

use ferric_common::message::MessageExt;
use ferric_common::message_const::PROPERTY_CLUSTER;
use ferric_common::topic::{self, names};
use ferric_common::{Properties, TopicFilterType, perm, sysflag};
use ferric_protocol::header::{
    MSG_REGION_KEY, SendMessageRequestHeader, SendMessageRequestHeaderV2,
    SendMessageResponseHeader, TRACE_ON_KEY,
};
use ferric_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ferric_remoting::Channel;
use ferric_store::put_async::PutProgress;
use ferric_store::{MessageStore, PutMessageResult};
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

/// What a send needs of its topic's config (read without cloning the whole config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicSendView {
    /// Permission bits.
    pub perm: i32,
    /// Readable queues.
    pub read_queue_nums: i32,
    /// Writable queues.
    pub write_queue_nums: i32,
    /// Tag filter type.
    pub topic_filter_type: TopicFilterType,
}

impl TopicSendView {
    fn of(config: &ferric_common::TopicConfig) -> Self {
        Self {
            perm: config.perm,
            read_queue_nums: config.read_queue_nums,
            write_queue_nums: config.write_queue_nums,
            topic_filter_type: config.topic_filter_type,
        }
    }
}

/// Permission, name, existence (auto-creating from the template) and queue checks; returns
/// what the send needs of the topic config and the queue id to write (a random writable queue
/// for `queueId < 0`).
pub fn check_topic(
    ctx: &Arc<BrokerContext>,
    header: &SendMessageRequestHeader,
) -> Result<(TopicSendView, i32), BrokerError> {
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
    let config = match ctx.topics.get_with(topic, TopicSendView::of) {
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
            TopicSendView::of(&config)
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
        // The full config only for the message (it may have changed since; Java shows it too).
        let shown = ctx
            .topics
            .get(topic)
            .map(|config| format!("{config:?}"))
            .unwrap_or_default();
        return Err(BrokerError::refused(
            ResponseCode::INVALID_PARAMETER,
            format!(
                "request queueId[{}] is illegal, {shown} Producer: {}",
                header.queue_id, header.producer_group
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
    config: &TopicSendView,
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
    let mut header = decode_send_header(request)?;
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
    // The header's string becomes the properties' storage (nothing below reads it again).
    let header_properties =
        Properties::from_string(std::mem::take(&mut header.properties).unwrap_or_default());
    let cluster = ctx.config.broker_cluster_name.as_str();
    let transaction_id = header_properties
        .get(ferric_common::message_const::PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX)
        .map(str::to_owned);
    let transaction_prepared =
        !batch && crate::transaction::half::is_transaction_prepared(&header_properties);
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
                    properties.set("WAIT", wait);
                }
                properties.set(PROPERTY_CLUSTER, cluster);
                MessageExt {
                    flag: entry.flag,
                    body: entry.body,
                    properties,
                    ..template.clone()
                }
            })
            .collect::<Vec<_>>()
    } else {
        // The header's properties become the stored ones (nothing below reads them again).
        let mut properties = header_properties;
        properties.set(PROPERTY_CLUSTER, cluster);
        let mut message = MessageExt {
            body: request.body.clone(),
            properties,
            ..template
        };
        super::send_back::apply_send_rules(ctx, &header, request.version, &mut message)?;
        vec![message]
    };
    let (messages, _half) = crate::transaction::half::prepare_send_if(
        ctx.config.reject_transaction_message,
        &ctx.config.broker_ip1,
        transaction_prepared,
        messages,
    )?;
    let put = {
        let store = ctx.store()?;
        if store.is_disk_full() {
            return Err(BrokerError::refused(
                ResponseCode::SERVICE_NOT_AVAILABLE,
                "service not available now, the broker's disk is full, writes are refused until space is freed",
            ));
        }
        start_put(&store, &messages)
    };
    let result = match put {
        Ok(result) => result,
        Err(flushed) => flushed.await.map_err(|_| BrokerError::ShuttingDown)?,
    };
    let (code, remark) = put_status_response(result.status);
    let Some(append) = result.append else {
        return Err(BrokerError::refused(code, remark.unwrap_or_default()));
    };
    // Where the records really went (a delayed message lands in SCHEDULE_TOPIC_XXXX); all
    // records of one send share the topic and queue.
    if let Some(first) = messages.first() {
        for (record, message) in append.records.iter().zip(&messages) {
            wake_held_pulls(
                ctx,
                &first.topic,
                first.queue_id,
                record.queue_offset + 1,
                Some(ferric_common::tags_code(message.properties.get("TAGS"))),
            );
        }
    }
    let response_header = SendMessageResponseHeader {
        msg_id: append.msg_id,
        queue_id,
        queue_offset: append.logics_offset,
        transaction_id,
        ..SendMessageResponseHeader::default()
    };
    let mut response = request
        .response_to(code.0, remark)
        .with_header(&response_header);
    set_send_response_ext(ctx, &mut response);
    Ok(response)
}

/// Appends `messages` (one record, or a batch in one CommitLog file) on the calling task and
/// returns the final result: at once, or in `SYNC_FLUSH` once the group commit covering the
/// records is done (no thread waits for it).
///
/// The append runs here, on a runtime worker, rather than on a thread of its own: it copies
/// into mapped memory under the CommitLog's lock and never writes to or waits for the disk
/// (RocketMQ appends on its request threads too), and handing each put to another thread cost
/// more CPU (wake-ups, context switches, a boxed job) than the append itself. The slowest
/// append starts a new CommitLog, ConsumeQueue or index file (create, sparse `set_len`,
/// `mmap`: tens of microseconds, once per file), short enough to run on a worker.
pub async fn put_messages(
    ctx: &BrokerContext,
    messages: &[MessageExt],
) -> Result<PutMessageResult, BrokerError> {
    let store = ctx.store()?;
    let put = start_put(&store, messages);
    drop(store);
    match put {
        Ok(result) => Ok(result),
        Err(flushed) => flushed.await.map_err(|_| BrokerError::ShuttingDown),
    }
}

/// Appends `messages`: the result, or in `SYNC_FLUSH` the receiver of the result once the
/// group commit covering the records is done. The caller drops its store handle before
/// awaiting it.
fn start_put(
    store: &MessageStore,
    messages: &[MessageExt],
) -> Result<PutMessageResult, tokio::sync::oneshot::Receiver<PutMessageResult>> {
    match store.append_messages(messages) {
        PutProgress::Done(result) => Ok(result),
        PutProgress::AwaitingFlush(pending) => {
            let (done, flushed) = tokio::sync::oneshot::channel::<PutMessageResult>();
            store.when_flushed(
                pending,
                Box::new(move |result| {
                    let _ = done.send(result);
                }),
            );
            Err(flushed)
        }
    }
}

/// The `MSG_REGION` and `TRACE_ON` ext fields of a send response.
pub fn set_send_response_ext(ctx: &BrokerContext, response: &mut RemotingCommand) {
    response.set_ext(MSG_REGION_KEY, ctx.config.region_id.as_str());
    let trace_on = if ctx.config.trace_on { "true" } else { "false" };
    response.set_ext(TRACE_ON_KEY, trace_on);
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
