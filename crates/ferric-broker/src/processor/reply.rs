//! SEND_REPLY_MESSAGE (324, long header) and SEND_REPLY_MESSAGE_V2 (325, short header): a
//! replier answers a request message.
//!
//! As in RocketMQ 4.9.8 (`ReplyMessageProcessor`): the topic checks of a send apply (the
//! reply topic `<cluster>_REPLY_TOPIC` is a system topic, others are auto-created like a
//! send); the reply is pushed first, with PUSH_REPLY_MESSAGE_TO_CLIENT (326, two-way, 10 s) to
//! the connection of the client named by `REPLY_TO_CLIENT` (producers first, then
//! consumers), its properties extended with `PUSH_REPLY_TIME`; then, when
//! `storeReplyMessageEnable`, it is stored with the properties as sent.
//!
//! Response: SUCCESS when the push succeeded (`msgId` "0", `queueOffset` 0, replaced by the
//! stored record's id and offset when it was stored); SYSTEM_ERROR with a remark when the
//! requester is unknown, offline or failed the push — the reply is stored all the same. A
//! failed store is only logged.

use std::sync::Arc;
use std::time::Duration;

use ferric_common::Properties;
use ferric_common::message::MessageExt;
use ferric_common::message_const::{PROPERTY_MESSAGE_REPLY_TO_CLIENT, PROPERTY_PUSH_REPLY_TIME};
use ferric_protocol::header::{
    ReplyMessageRequestHeader, SendMessageRequestHeader, SendMessageResponseHeader,
};
use ferric_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ferric_remoting::Channel;
use ferric_store::PutMessageStatus;

use super::send::{check_topic, decode_send_header, wake_held_pulls};
use crate::context::BrokerContext;
use crate::error::BrokerError;
use crate::persist::now_ms;

/// How long the broker waits for the requester to acknowledge a pushed reply.
const PUSH_REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Outcome of the push: `Ok` or the remark of the SYSTEM_ERROR answer.
async fn push_reply(
    ctx: &BrokerContext,
    header: &SendMessageRequestHeader,
    message: &MessageExt,
) -> Result<(), String> {
    let Some(requester) = message.properties.get(PROPERTY_MESSAGE_REPLY_TO_CLIENT) else {
        tracing::warn!("reply without REPLY_TO_CLIENT not pushed");
        return Err(format!(
            "reply message properties[{PROPERTY_MESSAGE_REPLY_TO_CLIENT}] is null"
        ));
    };
    let channel = ctx
        .producers
        .find_channel(requester)
        .or_else(|| ctx.consumers.find_channel(requester));
    let Some(channel) = channel else {
        let remark = format!("push reply message fail, channel of <{requester}> not found.");
        tracing::warn!(%requester, "{remark}");
        return Err(remark);
    };
    let now = now_ms();
    let mut properties = Properties::new();
    properties.insert(PROPERTY_PUSH_REPLY_TIME, now.to_string());
    for (key, value) in message.properties.iter() {
        properties.insert(key, value);
    }
    let push_header = ReplyMessageRequestHeader {
        producer_group: header.producer_group.clone(),
        topic: header.topic.clone(),
        default_topic: header.default_topic.clone(),
        default_topic_queue_nums: header.default_topic_queue_nums,
        queue_id: header.queue_id,
        sys_flag: header.sys_flag,
        born_timestamp: header.born_timestamp,
        flag: header.flag,
        properties: Some(String::from_utf8_lossy(&properties.encode()).into_owned()),
        reconsume_times: header.reconsume_times,
        unit_mode: Some(header.unit_mode.unwrap_or(false)),
        born_host: message.born_host.to_string(),
        store_host: ctx.store_host.to_string(),
        store_timestamp: now,
    };
    let push = RemotingCommand::request(RequestCode::PUSH_REPLY_MESSAGE_TO_CLIENT.0)
        .with_header(&push_header)
        .with_body(message.body.clone());
    let failed = format!("push reply message to {requester}fail.");
    match channel.send_request(push, PUSH_REPLY_TIMEOUT).await {
        Ok(answer) if answer.code == ResponseCode::SUCCESS.0 => Ok(()),
        Ok(answer) => {
            tracing::warn!(%requester, code = answer.code, remark = answer.remark.as_deref().unwrap_or(""), "push reply message refused by the requester");
            Err(failed)
        }
        Err(error) => {
            tracing::warn!(%requester, peer = %channel.peer(), %error, "push reply message failed");
            Err(failed)
        }
    }
}

/// Handles SEND_REPLY_MESSAGE and SEND_REPLY_MESSAGE_V2.
pub async fn send_reply(
    ctx: &Arc<BrokerContext>,
    channel: &Channel,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let header = decode_send_header(request)?;
    let (_config, queue_id) = check_topic(ctx, &header)?;
    let properties_text = header.properties.as_deref().unwrap_or("");
    let message = MessageExt {
        topic: header.topic.clone(),
        queue_id,
        flag: header.flag,
        sys_flag: header.sys_flag,
        born_timestamp: header.born_timestamp,
        born_host: channel.remote_addr(),
        store_host: ctx.store_host,
        reconsume_times: header.reconsume_times.unwrap_or(0),
        body: request.body.clone(),
        properties: Properties::decode(properties_text.as_bytes()),
        ..MessageExt::default()
    };
    let pushed = push_reply(ctx, &header, &message).await;
    let mut response_header = SendMessageResponseHeader {
        msg_id: "0".to_owned(),
        queue_id,
        queue_offset: 0,
        ..SendMessageResponseHeader::default()
    };
    if ctx.config.store_reply_message_enable {
        let tags_code = message.tags_code();
        let topic = message.topic.as_str();
        let put = super::send::put_messages(ctx, std::slice::from_ref(&message)).await?;
        let stored = matches!(
            put.status,
            PutMessageStatus::PutOk | PutMessageStatus::FlushDiskTimeout
        );
        match put.append.filter(|_| stored) {
            Some(append) => {
                response_header.msg_id = append.msg_id;
                response_header.queue_offset = append.logics_offset;
                wake_held_pulls(
                    ctx,
                    topic,
                    queue_id,
                    append.logics_offset + 1,
                    Some(tags_code),
                );
            }
            None => {
                tracing::warn!(%topic, status = put.status.as_str(), "reply message not stored");
            }
        }
    }
    let (code, remark) = match pushed {
        Ok(()) => (ResponseCode::SUCCESS, None),
        Err(remark) => (ResponseCode::SYSTEM_ERROR, Some(remark)),
    };
    let mut response = request
        .response_to(code.0, remark)
        .with_header(&response_header);
    super::send::set_send_response_ext(ctx, &mut response);
    Ok(response)
}
