//! Client management: HEART_BEAT (34), UNREGISTER_CLIENT (35), CHECK_CLIENT_CONFIG (46),
//! GET_CONSUMER_LIST_BY_GROUP (38), LOCK_BATCH_MQ (41), UNLOCK_BATCH_MQ (42).

use std::sync::Arc;

use ferric_common::{perm, topic};
use ferric_protocol::body::{
    ConsumerIdList, HeartbeatData, LockBatchRequestBody, LockBatchResponseBody, SubscriptionData,
};
use ferric_protocol::header::{GetConsumerListByGroupRequestHeader, UnregisterClientRequestHeader};
use ferric_protocol::{RemotingCommand, ResponseCode};
use ferric_remoting::Channel;
use serde::Deserialize;

use super::{decode_body, encode_body, success};
use crate::client_manager::{ClientChannelInfo, ConsumerRegistration};
use crate::context::BrokerContext;
use crate::error::BrokerError;
use crate::persist::now_ms;

fn client_info(channel: &Channel, request: &RemotingCommand, client_id: &str) -> ClientChannelInfo {
    ClientChannelInfo {
        channel: channel.clone(),
        client_id: client_id.to_owned(),
        language: request.language,
        version: request.version,
        last_update_ms: now_ms(),
    }
}

/// HEART_BEAT: registers producers and consumers of the client; auto-creates the consumer
/// groups (when allowed) and their `%RETRY%` topics. Groups that do not exist and cannot be
/// created are skipped silently, as in RocketMQ.
pub fn heartbeat(
    ctx: &Arc<BrokerContext>,
    channel: &Channel,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let data: HeartbeatData = decode_body(request)?;
    for consumer in data.consumer_data_set {
        let Some((group_config, created)) = ctx.groups.find_or_create(&consumer.group_name) else {
            tracing::warn!(group = %consumer.group_name, "heartbeat for unknown subscription group skipped");
            continue;
        };
        if created {
            ctx.groups_changed();
        }
        let retry_topic = topic::retry_topic(&consumer.group_name);
        let (_, retry_created) = ctx.topics.create_if_absent(
            &retry_topic,
            group_config.retry_queue_nums.max(1),
            perm::PERM_READ | perm::PERM_WRITE,
        );
        if retry_created {
            ctx.topics_changed();
        }
        let group = consumer.group_name.clone();
        ctx.filters
            .register(&group, &consumer.subscription_data_set);
        let changed = ctx.consumers.register(
            ConsumerRegistration {
                group: consumer.group_name,
                consume_type: consumer.consume_type,
                message_model: consumer.message_model,
                consume_from_where: consumer.consume_from_where,
                subscriptions: consumer.subscription_data_set,
            },
            client_info(channel, request, &data.client_id),
        );
        if changed {
            ctx.notify_consumer_ids_changed(&group);
        }
    }
    for producer in data.producer_data_set {
        ctx.producers.register(
            &producer.group_name,
            client_info(channel, request, &data.client_id),
        );
    }
    Ok(success(request))
}

/// UNREGISTER_CLIENT: removes the channel from the named groups.
pub fn unregister_client(
    ctx: &Arc<BrokerContext>,
    channel: &Channel,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let header: UnregisterClientRequestHeader = request.decode_header()?;
    if let Some(group) = header.producer_group.as_deref().filter(|g| !g.is_empty()) {
        ctx.producers.unregister(group, channel.id());
    }
    if let Some(group) = header.consumer_group.as_deref().filter(|g| !g.is_empty())
        && ctx.consumers.unregister(group, channel.id())
    {
        tracing::info!(%group, client_id = %header.client_id, "consumer unregistered");
        ctx.notify_consumer_ids_changed(group);
    }
    Ok(success(request))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct CheckClientRequestBody {
    client_id: String,
    group: String,
    subscription_data: Option<SubscriptionData>,
}

/// CHECK_CLIENT_CONFIG: TAG subscriptions are fine; SQL92 needs `enablePropertyFilter`
/// (else SYSTEM_ERROR) and an expression that compiles (else SUBSCRIPTION_PARSE_FAILED with
/// the compiler's message).
pub fn check_client_config(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let body: CheckClientRequestBody = decode_body(request)?;
    let Some(subscription) = body.subscription_data.as_ref() else {
        return Ok(success(request));
    };
    let expression_type = subscription.expression_type.as_str();
    if crate::filter::is_tag_type(expression_type) {
        return Ok(success(request));
    }
    if !ctx.config.enable_property_filter {
        tracing::debug!(client_id = %body.client_id, group = %body.group, expression_type, "client config refused: property filter off");
        return Err(BrokerError::refused(
            ResponseCode::SYSTEM_ERROR,
            format!("The broker does not support consumer to filter message by {expression_type}"),
        ));
    }
    let compiled = ferric_filter::MessageFilter::build(
        Some(expression_type),
        subscription.sub_string.as_str(),
    );
    if let Err(error) = compiled {
        tracing::warn!(client_id = %body.client_id, group = %body.group, expression = %subscription.sub_string, %error, "client filter expression does not compile");
        return Err(BrokerError::refused(
            ResponseCode::SUBSCRIPTION_PARSE_FAILED,
            error.to_string(),
        ));
    }
    Ok(success(request))
}

/// GET_CONSUMER_LIST_BY_GROUP: client ids of the online consumers of a group.
pub fn consumer_list_by_group(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let header: GetConsumerListByGroupRequestHeader = request.decode_header()?;
    let mut ids: Vec<String> = ctx
        .consumers
        .group(&header.consumer_group)
        .map(|info| info.channels.into_values().map(|c| c.client_id).collect())
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(BrokerError::refused(
            ResponseCode::SYSTEM_ERROR,
            format!("no consumer for this group, {}", header.consumer_group),
        ));
    }
    ids.sort();
    ids.dedup();
    let body = encode_body(&ConsumerIdList {
        consumer_id_list: ids,
    })?;
    Ok(success(request).with_body(body))
}

/// LOCK_BATCH_MQ: locks what it can, answers with the queues now held by the client.
pub fn lock_batch(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let body: LockBatchRequestBody = decode_body(request)?;
    let locked = ctx.locks.try_lock_batch(
        &body.consumer_group,
        &body.mq_set,
        &body.client_id,
        now_ms(),
    );
    let body = encode_body(&LockBatchResponseBody {
        lock_ok_mq_set: locked,
    })?;
    Ok(success(request).with_body(body))
}

/// UNLOCK_BATCH_MQ.
pub fn unlock_batch(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let body: LockBatchRequestBody = decode_body(request)?;
    ctx.locks
        .unlock_batch(&body.consumer_group, &body.mq_set, &body.client_id);
    Ok(success(request))
}
