//! INVOKE_BROKER_TO_RESET_OFFSET (222), RocketMQ 4.9's classic client-side reset
//! (remoting.md §2.4 "RESET_CONSUMER_CLIENT_OFFSET"): for every write queue of the topic the
//! broker finds the offset of `timestamp` (-1: the max offset), keeps the committed offset
//! instead when it is smaller and `isForce` is false, pushes RESET_CONSUMER_CLIENT_OFFSET (220)
//! oneway to every online consumer of the group (client version ≥ V3_0_7_SNAPSHOT) and answers
//! with the offsets as a `ResetOffsetBody`. The consumers apply and commit the offsets; the
//! broker's committed offsets are not changed here.

use std::sync::Arc;

use ferric_common::MessageQueue;
use ferric_protocol::body::{MessageQueueForC, ResetOffsetBody, ResetOffsetBodyForC};
use ferric_protocol::fastjson::MqKeyMap;
use ferric_protocol::header::ResetOffsetRequestHeader;
use ferric_protocol::{LanguageCode, RemotingCommand, RequestCode, ResponseCode};

use super::{encode_body, success};
use crate::context::BrokerContext;
use crate::error::BrokerError;

/// Oldest client version that understands RESET_CONSUMER_CLIENT_OFFSET (`V3_0_7_SNAPSHOT`).
const MIN_RESET_CLIENT_VERSION: i32 = 28;

/// Handles INVOKE_BROKER_TO_RESET_OFFSET.
pub async fn invoke_broker_to_reset_offset(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let header: ResetOffsetRequestHeader = request.decode_header()?;
    let Some(topic_config) = ctx.topics.get(&header.topic) else {
        return Err(BrokerError::refused(
            ResponseCode::SYSTEM_ERROR,
            format!(
                "[reset-offset] topic does not exist, topic={}",
                header.topic
            ),
        ));
    };
    let mut offsets = Vec::new();
    for queue_id in 0..topic_config.write_queue_nums {
        let Some(committed) = ctx.offsets.query(&header.group, &header.topic, queue_id) else {
            return Err(BrokerError::refused(
                ResponseCode::SYSTEM_ERROR,
                format!("THe consumer group <{}> not exist", header.group),
            ));
        };
        let (topic, timestamp) = (header.topic.clone(), header.timestamp);
        let by_time = ctx
            .with_store(move |store| {
                if timestamp == -1 {
                    store.get_max_offset_in_queue(&topic, queue_id)
                } else {
                    store.get_offset_in_queue_by_time(&topic, queue_id, timestamp)
                }
            })
            .await?
            .max(0);
        let offset = if header.is_force || by_time < committed {
            by_time
        } else {
            committed
        };
        let mq = MessageQueue::new(
            header.topic.as_str(),
            ctx.config.broker_name.as_str(),
            queue_id,
        );
        offsets.push((mq, offset));
    }
    let body = ResetOffsetBody {
        offset_table: MqKeyMap(
            offsets
                .iter()
                .map(|(mq, offset)| (mq.clone().into(), *offset))
                .collect(),
        ),
    };
    let encoded = encode_body(&body)?;
    let to_clients = if request.language == LanguageCode::Cpp {
        encode_body(&ResetOffsetBodyForC {
            offset_table: offsets
                .iter()
                .map(|(mq, offset)| MessageQueueForC {
                    broker_name: mq.broker_name.clone(),
                    offset: *offset,
                    queue_id: mq.queue_id,
                    topic: mq.topic.clone(),
                })
                .collect(),
        })?
    } else {
        encoded.clone()
    };
    let channels: Vec<_> = ctx
        .consumers
        .group(&header.group)
        .map(|info| info.channels.into_values().collect())
        .unwrap_or_default();
    if channels.is_empty() {
        return Err(BrokerError::refused(
            ResponseCode::CONSUMER_NOT_ONLINE,
            format!(
                "Consumer not online, so can not reset offset, Group: {} Topic: {} Timestamp: {}",
                header.group, header.topic, header.timestamp
            ),
        ));
    }
    let push_header = ResetOffsetRequestHeader {
        queue_id: None,
        offset: None,
        ..header
    };
    for client in channels {
        if client.version < MIN_RESET_CLIENT_VERSION {
            tracing::info!(client_id = %client.client_id, version = client.version, "client too old to reset offsets");
            continue;
        }
        let push = RemotingCommand::request(RequestCode::RESET_CONSUMER_CLIENT_OFFSET.value())
            .with_header(&push_header)
            .with_body(to_clients.clone());
        if let Err(error) = client.channel.send_oneway(push).await {
            tracing::warn!(client_id = %client.client_id, %error, "reset offset push failed");
        }
    }
    Ok(success(request).with_body(encoded))
}
