//! Typed remoting calls (`MQClientAPIImpl`): each builds one request, sends it and maps the
//! response to a value or a [`ClientError`].

use std::time::Duration;

use ferric_common::MessageQueue;
use ferric_protocol::body::{
    ConsumerIdList, HeartbeatData, LockBatchRequestBody, LockBatchResponseBody, SubscriptionData,
    TopicRouteData,
};
use ferric_protocol::fastjson::{self, JsonStyle};
use ferric_protocol::header::{
    ConsumerSendMsgBackRequestHeader, GetConsumerListByGroupRequestHeader,
    GetEarliestMsgStoretimeResponseHeader, GetMaxOffsetRequestHeader, GetRouteInfoRequestHeader,
    OffsetResponseHeader, QueryConsumerOffsetRequestHeader, SearchOffsetRequestHeader,
    TopicQueueRequestHeader, UnregisterClientRequestHeader, UpdateConsumerOffsetRequestHeader,
};
use ferric_protocol::{CommandHeader, LanguageCode, RemotingCommand, RequestCode, ResponseCode};
use ferric_remoting::RemotingClient;

use crate::error::{ClientError, Result};

/// The transport plus the identity every request carries.
#[derive(Debug, Clone)]
pub struct Api {
    /// The shared transport.
    pub remoting: RemotingClient,
    /// Language code of requests.
    pub language: LanguageCode,
}

/// Builds a request with a typed header.
pub fn request<H: CommandHeader>(code: RequestCode, header: &H) -> RemotingCommand {
    RemotingCommand::request(code.value()).with_header(header)
}

/// Builds a request about a queue of `broker_name`: the typed header plus the `bname` field.
fn broker_request<H: CommandHeader>(
    code: RequestCode,
    header: &H,
    broker_name: &str,
) -> RemotingCommand {
    let mut req = request(code, header);
    req.set_ext("bname", broker_name);
    req
}

fn topic_queue_header(mq: &MessageQueue) -> TopicQueueRequestHeader {
    TopicQueueRequestHeader {
        topic: mq.topic.clone(),
        queue_id: mq.queue_id,
    }
}

impl Api {
    /// Sends `request` to `addr` and returns the response whatever its code.
    pub async fn invoke(
        &self,
        addr: &str,
        mut request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        request.language = self.language;
        self.remoting
            .invoke(addr, request, timeout)
            .await
            .map_err(|source| ClientError::remoting(addr, source))
    }

    /// Sends `request` to `addr` and fails unless the response code is SUCCESS.
    pub async fn invoke_ok(
        &self,
        addr: &str,
        request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        let response = self.invoke(addr, request, timeout).await?;
        expect_success(addr, response)
    }

    /// Sends `request` oneway.
    pub async fn invoke_oneway(&self, addr: &str, mut request: RemotingCommand) -> Result<()> {
        request.language = self.language;
        request.mark_oneway();
        self.remoting
            .invoke_oneway(addr, request)
            .await
            .map_err(|source| ClientError::remoting(addr, source))
    }

    /// GET_ROUTEINFO_BY_TOPIC; `Ok(None)` when the NameServer says TOPIC_NOT_EXIST.
    pub async fn get_topic_route(
        &self,
        namesrv: &str,
        topic: &str,
        timeout: Duration,
    ) -> Result<Option<TopicRouteData>> {
        let header = GetRouteInfoRequestHeader {
            topic: topic.to_owned(),
            ..Default::default()
        };
        let response = self
            .invoke(
                namesrv,
                request(RequestCode::GET_ROUTEINFO_BY_TOPIC, &header),
                timeout,
            )
            .await?;
        if response.code == ResponseCode::TOPIC_NOT_EXIST.value() {
            return Ok(None);
        }
        let response = expect_success(namesrv, response)?;
        Ok(Some(fastjson::from_slice(&response.body)?))
    }

    /// HEART_BEAT; returns the broker's version from the response.
    pub async fn heartbeat(
        &self,
        addr: &str,
        data: &HeartbeatData,
        timeout: Duration,
    ) -> Result<i32> {
        let body = fastjson::to_vec(data, JsonStyle::Fastjson)?;
        let request = RemotingCommand::request(RequestCode::HEART_BEAT.value()).with_body(body);
        let response = self.invoke_ok(addr, request, timeout).await?;
        Ok(response.version)
    }

    /// UNREGISTER_CLIENT for one producer or consumer group.
    pub async fn unregister_client(
        &self,
        addr: &str,
        header: UnregisterClientRequestHeader,
        timeout: Duration,
    ) -> Result<()> {
        self.invoke_ok(
            addr,
            request(RequestCode::UNREGISTER_CLIENT, &header),
            timeout,
        )
        .await
        .map(drop)
    }

    /// GET_CONSUMER_LIST_BY_GROUP.
    pub async fn consumer_id_list(
        &self,
        addr: &str,
        group: &str,
        timeout: Duration,
    ) -> Result<Vec<String>> {
        let header = GetConsumerListByGroupRequestHeader {
            consumer_group: group.to_owned(),
        };
        let response = self
            .invoke_ok(
                addr,
                request(RequestCode::GET_CONSUMER_LIST_BY_GROUP, &header),
                timeout,
            )
            .await?;
        let list: ConsumerIdList = fastjson::from_slice(&response.body)?;
        Ok(list.consumer_id_list)
    }

    /// QUERY_CONSUMER_OFFSET; `Ok(None)` on QUERY_NOT_FOUND.
    pub async fn query_consumer_offset(
        &self,
        addr: &str,
        group: &str,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<Option<i64>> {
        let header = QueryConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: mq.topic.clone(),
            queue_id: mq.queue_id,
            set_zero_if_not_found: None,
        };
        let req = broker_request(RequestCode::QUERY_CONSUMER_OFFSET, &header, &mq.broker_name);
        let response = self.invoke(addr, req, timeout).await?;
        if response.code == ResponseCode::QUERY_NOT_FOUND.value() {
            return Ok(None);
        }
        let response = expect_success(addr, response)?;
        Ok(Some(
            response.decode_header::<OffsetResponseHeader>()?.offset,
        ))
    }

    /// UPDATE_CONSUMER_OFFSET, oneway (`oneway`) or waiting for the answer.
    pub async fn update_consumer_offset(
        &self,
        addr: &str,
        group: &str,
        mq: &MessageQueue,
        offset: i64,
        oneway: bool,
        timeout: Duration,
    ) -> Result<()> {
        let header = UpdateConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: mq.topic.clone(),
            queue_id: mq.queue_id,
            commit_offset: offset,
        };
        let req = broker_request(
            RequestCode::UPDATE_CONSUMER_OFFSET,
            &header,
            &mq.broker_name,
        );
        if oneway {
            self.invoke_oneway(addr, req).await
        } else {
            self.invoke_ok(addr, req, timeout).await.map(drop)
        }
    }

    /// GET_MAX_OFFSET.
    pub async fn max_offset(
        &self,
        addr: &str,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<i64> {
        let header = GetMaxOffsetRequestHeader {
            topic: mq.topic.clone(),
            queue_id: mq.queue_id,
            committed: None,
        };
        self.offset_call(addr, mq, RequestCode::GET_MAX_OFFSET, &header, timeout)
            .await
    }

    /// GET_MIN_OFFSET.
    pub async fn min_offset(
        &self,
        addr: &str,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<i64> {
        let header = topic_queue_header(mq);
        self.offset_call(addr, mq, RequestCode::GET_MIN_OFFSET, &header, timeout)
            .await
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP.
    pub async fn search_offset(
        &self,
        addr: &str,
        mq: &MessageQueue,
        timestamp: i64,
        timeout: Duration,
    ) -> Result<i64> {
        let header = SearchOffsetRequestHeader {
            topic: mq.topic.clone(),
            queue_id: mq.queue_id,
            timestamp,
            boundary_type: None,
        };
        self.offset_call(
            addr,
            mq,
            RequestCode::SEARCH_OFFSET_BY_TIMESTAMP,
            &header,
            timeout,
        )
        .await
    }

    /// GET_EARLIEST_MSG_STORETIME.
    pub async fn earliest_msg_store_time(
        &self,
        addr: &str,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<i64> {
        let header = topic_queue_header(mq);
        let req = broker_request(
            RequestCode::GET_EARLIEST_MSG_STORETIME,
            &header,
            &mq.broker_name,
        );
        let response = self.invoke_ok(addr, req, timeout).await?;
        Ok(response
            .decode_header::<GetEarliestMsgStoretimeResponseHeader>()?
            .timestamp)
    }

    /// A request about `mq` answered by an [`OffsetResponseHeader`].
    async fn offset_call<H: CommandHeader>(
        &self,
        addr: &str,
        mq: &MessageQueue,
        code: RequestCode,
        header: &H,
        timeout: Duration,
    ) -> Result<i64> {
        let req = broker_request(code, header, &mq.broker_name);
        let response = self.invoke_ok(addr, req, timeout).await?;
        Ok(response.decode_header::<OffsetResponseHeader>()?.offset)
    }

    /// CONSUMER_SEND_MSG_BACK.
    pub async fn send_msg_back(
        &self,
        addr: &str,
        broker_name: &str,
        header: ConsumerSendMsgBackRequestHeader,
        timeout: Duration,
    ) -> Result<()> {
        let req = broker_request(RequestCode::CONSUMER_SEND_MSG_BACK, &header, broker_name);
        self.invoke_ok(addr, req, timeout).await.map(drop)
    }

    /// CHECK_CLIENT_CONFIG: asks the broker whether it can filter with `subscription`.
    pub async fn check_client_config(
        &self,
        addr: &str,
        group: &str,
        client_id: &str,
        subscription: &SubscriptionData,
        timeout: Duration,
    ) -> Result<()> {
        let body = CheckClientRequestBody {
            client_id,
            group,
            subscription_data: subscription,
        };
        let payload = fastjson::to_vec(&body, JsonStyle::Fastjson)?;
        let req =
            RemotingCommand::request(RequestCode::CHECK_CLIENT_CONFIG.value()).with_body(payload);
        self.invoke_ok(addr, req, timeout).await.map(drop)
    }

    /// LOCK_BATCH_MQ; returns the queues the broker locked for us.
    pub async fn lock_batch_mq(
        &self,
        addr: &str,
        body: &LockBatchRequestBody,
        timeout: Duration,
    ) -> Result<Vec<MessageQueue>> {
        let payload = fastjson::to_vec(body, JsonStyle::Fastjson)?;
        let req = RemotingCommand::request(RequestCode::LOCK_BATCH_MQ.value()).with_body(payload);
        let response = self.invoke_ok(addr, req, timeout).await?;
        let locked: LockBatchResponseBody = fastjson::from_slice(&response.body)?;
        Ok(locked.lock_ok_mq_set.into_iter().map(Into::into).collect())
    }

    /// UNLOCK_BATCH_MQ.
    pub async fn unlock_batch_mq(
        &self,
        addr: &str,
        body: &LockBatchRequestBody,
        timeout: Duration,
    ) -> Result<()> {
        let payload = fastjson::to_vec(body, JsonStyle::Fastjson)?;
        let req = RemotingCommand::request(RequestCode::UNLOCK_BATCH_MQ.value()).with_body(payload);
        self.invoke_ok(addr, req, timeout).await.map(drop)
    }
}

/// The CHECK_CLIENT_CONFIG body (Java's `CheckClientRequestBody`).
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckClientRequestBody<'a> {
    client_id: &'a str,
    group: &'a str,
    subscription_data: &'a SubscriptionData,
}

/// Passes a SUCCESS response through; anything else becomes [`ClientError::Broker`].
pub fn expect_success(addr: &str, response: RemotingCommand) -> Result<RemotingCommand> {
    if response.code == ResponseCode::SUCCESS.value() {
        Ok(response)
    } else {
        Err(ClientError::broker(
            addr,
            response.code,
            response.remark.as_deref(),
        ))
    }
}
