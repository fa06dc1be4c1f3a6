//! Offsets and lookups: UPDATE_CONSUMER_OFFSET (15), QUERY_CONSUMER_OFFSET (14), GET_MAX_OFFSET
//! (30), GET_MIN_OFFSET (31), GET_EARLIEST_MSG_STORETIME (32), SEARCH_OFFSET_BY_TIMESTAMP (29),
//! QUERY_MESSAGE (12), VIEW_MESSAGE_BY_ID (33).

use std::sync::Arc;

use bytes::BytesMut;
use ferric_protocol::header::{
    GetEarliestMsgStoretimeResponseHeader, GetMaxOffsetRequestHeader, OffsetResponseHeader,
    QueryConsumerOffsetRequestHeader, QueryMessageRequestHeader, QueryMessageResponseHeader,
    SearchOffsetRequestHeader, TopicQueueRequestHeader, UNIQUE_KEY_QUERY_KEY,
    UpdateConsumerOffsetRequestHeader, ViewMessageRequestHeader,
};
use ferric_protocol::{RemotingCommand, RequestCode, ResponseCode};

use super::success;
use crate::context::BrokerContext;
use crate::error::BrokerError;

/// UPDATE_CONSUMER_OFFSET.
pub fn update_consumer_offset(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let header: UpdateConsumerOffsetRequestHeader = request.decode_header()?;
    ctx.offsets.commit(
        &header.consumer_group,
        &header.topic,
        header.queue_id,
        header.commit_offset,
    );
    Ok(success(request))
}

/// QUERY_CONSUMER_OFFSET: the committed offset; without one, 0 while the queue still starts
/// at 0 (unless `setZeroIfNotFound=false`), else QUERY_NOT_FOUND.
pub async fn query_consumer_offset(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let header: QueryConsumerOffsetRequestHeader = request.decode_header()?;
    let offset = match ctx
        .offsets
        .query(&header.consumer_group, &header.topic, header.queue_id)
    {
        Some(offset) if offset >= 0 => offset,
        _ => {
            let (topic, queue_id) = (header.topic.clone(), header.queue_id);
            let min = ctx
                .with_store(move |store| store.get_min_offset_in_queue(&topic, queue_id))
                .await?;
            if min > 0 || header.set_zero_if_not_found == Some(false) {
                return Err(BrokerError::refused(
                    ResponseCode::QUERY_NOT_FOUND,
                    "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first",
                ));
            }
            0
        }
    };
    Ok(success(request).with_header(&OffsetResponseHeader { offset }))
}

/// GET_MAX_OFFSET, GET_MIN_OFFSET, GET_EARLIEST_MSG_STORETIME, SEARCH_OFFSET_BY_TIMESTAMP.
pub async fn queue_offsets(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let code = RequestCode(request.code);
    if code == RequestCode::SEARCH_OFFSET_BY_TIMESTAMP {
        let header: SearchOffsetRequestHeader = request.decode_header()?;
        let offset = ctx
            .with_store(move |store| {
                store.get_offset_in_queue_by_time(&header.topic, header.queue_id, header.timestamp)
            })
            .await?;
        return Ok(success(request).with_header(&OffsetResponseHeader { offset }));
    }
    if code == RequestCode::GET_MAX_OFFSET {
        let header: GetMaxOffsetRequestHeader = request.decode_header()?;
        let offset = ctx
            .with_store(move |store| store.get_max_offset_in_queue(&header.topic, header.queue_id))
            .await?;
        return Ok(success(request).with_header(&OffsetResponseHeader { offset }));
    }
    let header: TopicQueueRequestHeader = request.decode_header()?;
    if code == RequestCode::GET_MIN_OFFSET {
        let offset = ctx
            .with_store(move |store| {
                store
                    .get_min_offset_in_queue(&header.topic, header.queue_id)
                    .max(0)
            })
            .await?;
        return Ok(success(request).with_header(&OffsetResponseHeader { offset }));
    }
    let timestamp = ctx
        .with_store(move |store| {
            store
                .get_earliest_message_time(&header.topic, header.queue_id)
                .unwrap_or(-1)
        })
        .await?;
    Ok(success(request).with_header(&GetEarliestMsgStoretimeResponseHeader { timestamp }))
}

/// QUERY_MESSAGE: messages indexed under `topic#key` within the time range.
pub async fn query_message(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let header: QueryMessageRequestHeader = request.decode_header()?;
    let unique_key_query = request
        .ext(UNIQUE_KEY_QUERY_KEY)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let max = if unique_key_query {
        ctx.config.default_query_max_num
    } else {
        usize::try_from(header.max_num.max(1)).unwrap_or(1)
    };
    let found = ctx
        .with_store(move |store| {
            store.query_message(
                &header.topic,
                &header.key,
                max,
                header.begin_timestamp,
                header.end_timestamp,
            )
        })
        .await?;
    if found.messages.is_empty() {
        return Err(BrokerError::refused(
            ResponseCode::QUERY_NOT_FOUND,
            "can not find message, maybe time range not correct",
        ));
    }
    let mut body = BytesMut::new();
    for record in &found.messages {
        body.extend_from_slice(record);
    }
    Ok(success(request)
        .with_header(&QueryMessageResponseHeader {
            index_last_update_timestamp: found.index_last_update_timestamp,
            index_last_update_phyoffset: found.index_last_update_phy_offset,
        })
        .with_body(body.freeze()))
}

/// VIEW_MESSAGE_BY_ID: the raw record at a CommitLog offset.
pub async fn view_message_by_id(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let header: ViewMessageRequestHeader = request.decode_header()?;
    let offset = header.offset;
    let record = ctx
        .with_store(move |store| store.select_one_message_by_offset(offset))
        .await?;
    match record {
        Some(record) => Ok(success(request).with_body(record)),
        None => Err(BrokerError::refused(
            ResponseCode::SYSTEM_ERROR,
            format!("can not find message by the offset, {offset}"),
        )),
    }
}
