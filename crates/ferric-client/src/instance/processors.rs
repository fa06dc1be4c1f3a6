//! Handlers for requests brokers send to clients: NOTIFY_CONSUMER_IDS_CHANGED (40),
//! CHECK_TRANSACTION_STATE (39), RESET_CONSUMER_CLIENT_OFFSET (220),
//! PUSH_REPLY_MESSAGE_TO_CLIENT (326) and GET_CONSUMER_RUNNING_INFO (307).

use std::sync::{Arc, Weak};

use ferric_common::message_const::{PROPERTY_CORRELATION_ID, PROPERTY_PRODUCER_GROUP};
use ferric_common::record::{Parsed, parse_record};
use ferric_common::{MessageExt, Properties};
use ferric_protocol::body::ResetOffsetBody;
use ferric_protocol::fastjson::{self, JsonStyle};
use ferric_protocol::header::{
    CheckTransactionStateRequestHeader, GetConsumerRunningInfoRequestHeader,
    NotifyConsumerIdsChangedRequestHeader, ReplyMessageRequestHeader, ResetOffsetRequestHeader,
};
use ferric_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ferric_remoting::{Channel, ProcessResult, ProcessorError, processor_fn};

use super::{ClientInstance, InstanceInner};

/// Largest decompressed reply body accepted.
const MAX_REPLY_BODY: usize = 64 * 1024 * 1024;

pub(super) fn register(instance: &ClientInstance) {
    let remoting = instance.remoting();
    let weak = Arc::downgrade(&instance.inner);
    let w = weak.clone();
    remoting.register_processor(
        RequestCode::NOTIFY_CONSUMER_IDS_CHANGED.value(),
        processor_fn(move |_channel, request| notify_ids_changed(w.clone(), request)),
    );
    let w = weak.clone();
    remoting.register_processor(
        RequestCode::CHECK_TRANSACTION_STATE.value(),
        processor_fn(move |channel, request| check_transaction(w.clone(), channel, request)),
    );
    let w = weak.clone();
    remoting.register_processor(
        RequestCode::RESET_CONSUMER_CLIENT_OFFSET.value(),
        processor_fn(move |_channel, request| reset_offset(w.clone(), request)),
    );
    let w = weak.clone();
    remoting.register_processor(
        RequestCode::PUSH_REPLY_MESSAGE_TO_CLIENT.value(),
        processor_fn(move |_channel, request| push_reply(w.clone(), request)),
    );
    remoting.register_processor(
        RequestCode::GET_CONSUMER_RUNNING_INFO.value(),
        processor_fn(move |_channel, request| running_info(weak.clone(), request)),
    );
}

fn instance_of(weak: &Weak<InstanceInner>) -> Result<ClientInstance, ProcessorError> {
    weak.upgrade()
        .map(|inner| ClientInstance { inner })
        .ok_or_else(|| ProcessorError::new("client is shut down"))
}

async fn notify_ids_changed(weak: Weak<InstanceInner>, request: RemotingCommand) -> ProcessResult {
    let instance = instance_of(&weak)?;
    let header: NotifyConsumerIdsChangedRequestHeader = request
        .decode_header()
        .map_err(ProcessorError::from_error)?;
    tracing::debug!(group = %header.consumer_group, "consumer ids changed, rebalancing");
    instance.rebalance_soon();
    Ok(None)
}

async fn check_transaction(
    weak: Weak<InstanceInner>,
    channel: Channel,
    request: RemotingCommand,
) -> ProcessResult {
    let instance = instance_of(&weak)?;
    let header: CheckTransactionStateRequestHeader = request
        .decode_header()
        .map_err(ProcessorError::from_error)?;
    let msg = match parse_record(&request.body) {
        Ok(Parsed::Message(view)) => view.to_message_ext(),
        _ => {
            return Err(ProcessorError::new(
                "undecodable half message in transaction check",
            ));
        }
    };
    let Some(group) = msg
        .properties
        .get(PROPERTY_PRODUCER_GROUP)
        .map(str::to_owned)
    else {
        return Err(ProcessorError::new("half message without PGROUP"));
    };
    let checker = instance.inner.checkers.read().get(&group).cloned();
    match checker {
        Some(checker) => {
            tokio::spawn(checker.check(channel, header, msg));
        }
        None => tracing::warn!(%group, "transaction check for a group without a listener"),
    }
    Ok(None)
}

async fn reset_offset(weak: Weak<InstanceInner>, request: RemotingCommand) -> ProcessResult {
    let instance = instance_of(&weak)?;
    let header: ResetOffsetRequestHeader = request
        .decode_header()
        .map_err(ProcessorError::from_error)?;
    let body: ResetOffsetBody =
        fastjson::from_slice(&request.body).map_err(ProcessorError::from_error)?;
    let offsets: Vec<_> = body
        .offset_table
        .0
        .into_iter()
        .map(|(mq, offset)| (mq.into(), offset))
        .collect();
    let consumer = instance.inner.consumers.read().get(&header.group).cloned();
    if let Some(consumer) = consumer {
        consumer.reset_offsets(offsets).await;
    }
    Ok(None)
}

/// Turns a PUSH_REPLY_MESSAGE_TO_CLIENT request into the reply message.
pub(crate) fn reply_message(request: &RemotingCommand) -> Result<MessageExt, ProcessorError> {
    let header: ReplyMessageRequestHeader = request
        .decode_header()
        .map_err(ProcessorError::from_error)?;
    let mut msg = MessageExt {
        topic: header.topic,
        queue_id: header.queue_id,
        flag: header.flag,
        sys_flag: header.sys_flag,
        born_timestamp: header.born_timestamp,
        store_timestamp: header.store_timestamp,
        reconsume_times: header.reconsume_times.unwrap_or(0),
        properties: Properties::decode(header.properties.unwrap_or_default().as_bytes()),
        body: request.body.clone(),
        ..MessageExt::default()
    };
    if let Ok(addr) = header.born_host.parse() {
        msg.born_host = addr;
    }
    if let Ok(addr) = header.store_host.parse() {
        msg.store_host = addr;
    }
    msg.decompress_body_in_place(MAX_REPLY_BODY)
        .map_err(ProcessorError::from_error)?;
    Ok(msg)
}

async fn push_reply(weak: Weak<InstanceInner>, request: RemotingCommand) -> ProcessResult {
    let instance = instance_of(&weak)?;
    let msg = reply_message(&request)?;
    let waiter = msg
        .properties
        .get(PROPERTY_CORRELATION_ID)
        .and_then(|id| instance.inner.reply_waiters.lock().remove(id));
    match waiter {
        Some(sender) => {
            // The requester may have timed out meanwhile; nothing to do then.
            let _ = sender.send(msg);
        }
        None => tracing::warn!("reply for an unknown or expired request"),
    }
    Ok(Some(
        request.response_to(ResponseCode::SUCCESS.value(), None),
    ))
}

async fn running_info(weak: Weak<InstanceInner>, request: RemotingCommand) -> ProcessResult {
    let instance = instance_of(&weak)?;
    let header: GetConsumerRunningInfoRequestHeader = request
        .decode_header()
        .map_err(ProcessorError::from_error)?;
    let consumer = instance
        .inner
        .consumers
        .read()
        .get(&header.consumer_group)
        .cloned();
    let Some(consumer) = consumer else {
        return Ok(Some(request.response_to(
            ResponseCode::SYSTEM_ERROR.value(),
            Some(format!(
                "The Consumer Group <{}> not exist in this consumer",
                header.consumer_group
            )),
        )));
    };
    let data = consumer.consumer_data();
    let info = serde_json::json!({
        "properties": {
            "PROP_CLIENT_VERSION": "FERRIC",
            "PROP_CONSUME_TYPE": data.consume_type,
            "PROP_NAMESERVER_ADDR": instance.inner.namesrv_addrs.join(";"),
            "PROP_CONSUMEORDERLY": "false",
        },
        "subscriptionSet": data.subscription_data_set,
        "mqTable": {},
        "statusTable": {},
    });
    let body = fastjson::to_vec(&info, JsonStyle::Fastjson).map_err(ProcessorError::from_error)?;
    Ok(Some(
        request
            .response_to(ResponseCode::SUCCESS.value(), None)
            .with_body(body),
    ))
}
