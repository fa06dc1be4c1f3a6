//! A tiny admin and messaging client over [`ferric_remoting::RemotingClient`] for tests.
//!
//! Topics: UPDATE_AND_CREATE_TOPIC (17) on a broker, then GET_ROUTEINFO_BY_TOPIC (105) on the
//! NameServer until it answers SUCCESS. Messages: SEND_MESSAGE_V2 (310), PULL_MESSAGE (11) with
//! records decoded by `ferric_common::record`, and the consumer-offset calls (14, 15).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ferric_common::Properties;
use ferric_common::message_const::{PROPERTY_KEYS, PROPERTY_TAGS, PROPERTY_WAIT_STORE_MSG_OK};
use ferric_common::record::RecordIter;
use ferric_protocol::body::{ClusterInfo, TopicRouteData};
use ferric_protocol::header::{
    CreateTopicRequestHeader, PULL_FLAG_SUBSCRIPTION, PullMessageRequestHeader,
    PullMessageResponseHeader, QueryConsumerOffsetRequestHeader, SendMessageRequestHeaderV2,
    SendMessageResponseHeader, UpdateConsumerOffsetRequestHeader,
};
use ferric_protocol::{RemotingCommand, RequestCode, ResponseCode, fastjson};
use ferric_remoting::{ClientConfig, RemotingClient};

/// The topic brokers create new topics from.
pub const DEFAULT_TOPIC: &str = "TBW102";

/// A message to send with [`AdminClient::send`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutgoingMessage {
    /// Target topic.
    pub topic: String,
    /// Target queue id.
    pub queue_id: i32,
    /// Tag (`TAGS` property).
    pub tags: Option<String>,
    /// Keys (`KEYS` property, space-separated).
    pub keys: Vec<String>,
    /// User properties.
    pub properties: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// What the broker answered to a send.
#[derive(Debug, Clone, PartialEq)]
pub struct SendReceipt {
    /// Offset message id.
    pub msg_id: String,
    /// Queue the message went to.
    pub queue_id: i32,
    /// Its offset in that queue.
    pub queue_offset: i64,
}

/// One message decoded from a pull response.
#[derive(Debug, Clone, PartialEq)]
pub struct PulledMessage {
    /// Topic.
    pub topic: String,
    /// Queue id.
    pub queue_id: i32,
    /// Offset in the queue.
    pub queue_offset: i64,
    /// CommitLog offset.
    pub commit_log_offset: i64,
    /// Every property (tags, keys and user properties included).
    pub properties: Properties,
    /// Body as stored.
    pub body: Vec<u8>,
    /// True when the stored body CRC matches the body.
    pub body_crc_ok: bool,
}

/// Result of one PULL_MESSAGE.
#[derive(Debug, Clone, PartialEq)]
pub struct PullOutcome {
    /// Response code (SUCCESS, PULL_NOT_FOUND, …).
    pub code: i32,
    /// Remark of the response.
    pub remark: Option<String>,
    /// Where the next pull should start (absent on errors).
    pub next_begin_offset: Option<i64>,
    /// Queue's minimum offset.
    pub min_offset: Option<i64>,
    /// Queue's maximum offset.
    pub max_offset: Option<i64>,
    /// Decoded messages (only on SUCCESS).
    pub messages: Vec<PulledMessage>,
}

/// Admin and messaging calls against one NameServer, with one timeout for every call.
#[derive(Debug, Clone)]
pub struct AdminClient {
    client: RemotingClient,
    namesrv_addr: String,
    timeout: Duration,
}

impl AdminClient {
    /// A client for the NameServer at `namesrv_addr`; calls time out after 5 s.
    pub fn new(namesrv_addr: impl Into<String>) -> Self {
        Self {
            client: RemotingClient::new(ClientConfig::default()),
            namesrv_addr: namesrv_addr.into(),
            timeout: Duration::from_secs(5),
        }
    }

    /// The underlying remoting client.
    pub fn remoting(&self) -> &RemotingClient {
        &self.client
    }

    /// Sends `request` to `addr` and returns the response.
    pub async fn invoke(&self, addr: &str, request: RemotingCommand) -> Result<RemotingCommand> {
        let code = request.code;
        self.client
            .invoke(addr, request, self.timeout)
            .await
            .with_context(|| format!("request {code} to {addr}"))
    }

    /// UPDATE_AND_CREATE_TOPIC on `broker_addr` (perm 6, SINGLE_TAG, not ordered).
    pub async fn create_topic(&self, broker_addr: &str, topic: &str, queues: i32) -> Result<()> {
        let header = CreateTopicRequestHeader {
            topic: topic.to_owned(),
            default_topic: DEFAULT_TOPIC.to_owned(),
            read_queue_nums: queues,
            write_queue_nums: queues,
            perm: 6,
            topic_filter_type: "SINGLE_TAG".to_owned(),
            topic_sys_flag: Some(0),
            order: false,
            ..Default::default()
        };
        let request = RemotingCommand::request(RequestCode::UPDATE_AND_CREATE_TOPIC.value())
            .with_header(&header);
        let response = self.invoke(broker_addr, request).await?;
        expect_success(&response, &format!("creating topic {topic}"))
    }

    /// GET_ROUTEINFO_BY_TOPIC on the NameServer; `None` when it has no route (TOPIC_NOT_EXIST).
    pub async fn route(&self, topic: &str) -> Result<Option<TopicRouteData>> {
        let mut request = RemotingCommand::request(RequestCode::GET_ROUTEINFO_BY_TOPIC.value());
        request.set_ext("topic", topic);
        let response = self.invoke(&self.namesrv_addr, request).await?;
        if response.code == ResponseCode::TOPIC_NOT_EXIST.value() {
            return Ok(None);
        }
        expect_success(&response, &format!("route of {topic}"))?;
        let route = fastjson::from_slice(&response.body)
            .with_context(|| format!("decoding the route of {topic}"))?;
        Ok(Some(route))
    }

    /// Polls [`AdminClient::route`] until the NameServer routes `topic`, up to `timeout`.
    pub async fn wait_for_route(&self, topic: &str, timeout: Duration) -> Result<TopicRouteData> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.route(topic).await {
                Ok(Some(route)) if !route.queue_datas.is_empty() => return Ok(route),
                Ok(_) => "no route yet".to_owned(),
                Err(error) => format!("{error:#}"),
            };
            if Instant::now() >= deadline {
                bail!("the NameServer did not route {topic} within {timeout:?} ({last})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Creates `topic` on `broker_addr` and waits until the NameServer routes it.
    pub async fn create_topic_and_wait(
        &self,
        broker_addr: &str,
        topic: &str,
        queues: i32,
        timeout: Duration,
    ) -> Result<TopicRouteData> {
        self.create_topic(broker_addr, topic, queues).await?;
        self.wait_for_route(topic, timeout).await
    }

    /// GET_BROKER_CLUSTER_INFO on the NameServer.
    pub async fn cluster_info(&self) -> Result<ClusterInfo> {
        let request = RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO.value());
        let response = self.invoke(&self.namesrv_addr, request).await?;
        expect_success(&response, "cluster info")?;
        fastjson::from_slice(&response.body).context("decoding cluster info")
    }

    /// SEND_MESSAGE_V2 of one message, waiting for the store (`WAIT=true`).
    pub async fn send(
        &self,
        broker_addr: &str,
        group: &str,
        message: &OutgoingMessage,
    ) -> Result<SendReceipt> {
        let mut properties = Properties::new();
        if let Some(tags) = &message.tags {
            properties.insert(PROPERTY_TAGS, tags.clone());
        }
        if !message.keys.is_empty() {
            properties.insert(PROPERTY_KEYS, message.keys.join(" "));
        }
        properties.insert(PROPERTY_WAIT_STORE_MSG_OK, "true");
        for (key, value) in &message.properties {
            properties.insert(key.clone(), value.clone());
        }
        let encoded = String::from_utf8(properties.encode()).context("properties are UTF-8")?;
        let header = SendMessageRequestHeaderV2 {
            a: group.to_owned(),
            b: message.topic.clone(),
            c: DEFAULT_TOPIC.to_owned(),
            d: 4,
            e: message.queue_id,
            f: 0,
            g: now_millis(),
            h: 0,
            i: Some(encoded),
            j: Some(0),
            k: Some(false),
            l: None,
            m: Some(false),
            n: None,
        };
        let request = RemotingCommand::request(RequestCode::SEND_MESSAGE_V2.value())
            .with_header(&header)
            .with_body(message.body.clone());
        let response = self.invoke(broker_addr, request).await?;
        expect_success(&response, &format!("sending to {}", message.topic))?;
        let header: SendMessageResponseHeader = response
            .decode_header()
            .context("decoding the send response header")?;
        Ok(SendReceipt {
            msg_id: header.msg_id,
            queue_id: header.queue_id,
            queue_offset: header.queue_offset,
        })
    }

    /// One PULL_MESSAGE without suspension, subscription `*`.
    pub async fn pull(
        &self,
        broker_addr: &str,
        group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_messages: i32,
    ) -> Result<PullOutcome> {
        let header = PullMessageRequestHeader {
            consumer_group: group.to_owned(),
            topic: topic.to_owned(),
            queue_id,
            queue_offset: offset,
            max_msg_nums: max_messages,
            // Subscription carried in the request: no heartbeat needed first.
            sys_flag: PULL_FLAG_SUBSCRIPTION,
            commit_offset: 0,
            suspend_timeout_millis: 0,
            subscription: Some("*".to_owned()),
            sub_version: 0,
            expression_type: Some("TAG".to_owned()),
            ..Default::default()
        };
        let request =
            RemotingCommand::request(RequestCode::PULL_MESSAGE.value()).with_header(&header);
        let response = self.invoke(broker_addr, request).await?;
        let mut outcome = PullOutcome {
            code: response.code,
            remark: response.remark.clone(),
            next_begin_offset: None,
            min_offset: None,
            max_offset: None,
            messages: Vec::new(),
        };
        if let Ok(header) = response.decode_header::<PullMessageResponseHeader>() {
            outcome.next_begin_offset = Some(header.next_begin_offset);
            outcome.min_offset = Some(header.min_offset);
            outcome.max_offset = Some(header.max_offset);
        }
        if response.code == ResponseCode::SUCCESS.value() {
            outcome.messages = decode_records(&response.body)?;
        }
        Ok(outcome)
    }

    /// Pulls queue `queue_id` from `offset` until PULL_NOT_FOUND / no progress; bounded by
    /// `max_total` messages. Any other response code is an error.
    pub async fn pull_all(
        &self,
        broker_addr: &str,
        group: &str,
        topic: &str,
        queue_id: i32,
        mut offset: i64,
        max_total: usize,
    ) -> Result<Vec<PulledMessage>> {
        let mut all = Vec::new();
        while all.len() < max_total {
            let outcome = self
                .pull(broker_addr, group, topic, queue_id, offset, 32)
                .await?;
            if outcome.code == ResponseCode::PULL_NOT_FOUND.value() {
                break;
            }
            if outcome.code != ResponseCode::SUCCESS.value() {
                bail!(
                    "pull {topic}/{queue_id} at {offset}: code {} ({}), remark {:?}",
                    outcome.code,
                    ResponseCode(outcome.code).name().unwrap_or("unknown"),
                    outcome.remark
                );
            }
            if outcome.messages.is_empty() {
                break;
            }
            let next = outcome.next_begin_offset.unwrap_or(offset);
            all.extend(outcome.messages);
            if next <= offset {
                break;
            }
            offset = next;
        }
        Ok(all)
    }

    /// [`AdminClient::pull_all`] from offset 0 of queues `0..queues`, in queue order.
    pub async fn pull_all_queues(
        &self,
        broker_addr: &str,
        group: &str,
        topic: &str,
        queues: i32,
        max_per_queue: usize,
    ) -> Result<Vec<PulledMessage>> {
        let mut all = Vec::new();
        for queue_id in 0..queues {
            all.extend(
                self.pull_all(broker_addr, group, topic, queue_id, 0, max_per_queue)
                    .await?,
            );
        }
        Ok(all)
    }

    /// UPDATE_CONSUMER_OFFSET for one queue.
    pub async fn update_consumer_offset(
        &self,
        broker_addr: &str,
        group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
    ) -> Result<()> {
        let header = UpdateConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: topic.to_owned(),
            queue_id,
            commit_offset: offset,
        };
        let request = RemotingCommand::request(RequestCode::UPDATE_CONSUMER_OFFSET.value())
            .with_header(&header);
        let response = self.invoke(broker_addr, request).await?;
        expect_success(&response, "updating a consumer offset")
    }

    /// QUERY_CONSUMER_OFFSET for one queue; `None` when the broker has none (QUERY_NOT_FOUND).
    pub async fn query_consumer_offset(
        &self,
        broker_addr: &str,
        group: &str,
        topic: &str,
        queue_id: i32,
    ) -> Result<Option<i64>> {
        let header = QueryConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: topic.to_owned(),
            queue_id,
            set_zero_if_not_found: Some(false),
        };
        let request = RemotingCommand::request(RequestCode::QUERY_CONSUMER_OFFSET.value())
            .with_header(&header);
        let response = self.invoke(broker_addr, request).await?;
        if response.code == ResponseCode::QUERY_NOT_FOUND.value() {
            return Ok(None);
        }
        expect_success(&response, "querying a consumer offset")?;
        let offset = response
            .ext("offset")
            .context("QUERY_CONSUMER_OFFSET response without `offset`")?;
        Ok(Some(offset.parse().with_context(|| {
            format!("offset {offset:?} is not a number")
        })?))
    }
}

/// Decodes every record of a pull body.
pub fn decode_records(body: &[u8]) -> Result<Vec<PulledMessage>> {
    let mut messages = Vec::new();
    for parsed in RecordIter::new(body) {
        let view = parsed.context("decoding a pulled record")?;
        messages.push(PulledMessage {
            topic: view.topic.to_owned(),
            queue_id: view.queue_id,
            queue_offset: view.queue_offset,
            commit_log_offset: view.commit_log_offset,
            properties: view.decode_properties(),
            body: view.body.to_vec(),
            body_crc_ok: view.verify_body_crc(),
        });
    }
    Ok(messages)
}

fn expect_success(response: &RemotingCommand, what: &str) -> Result<()> {
    if response.code != ResponseCode::SUCCESS.value() {
        bail!(
            "{what}: response code {} ({}), remark {:?}",
            response.code,
            ResponseCode(response.code).name().unwrap_or("unknown"),
            response.remark
        );
    }
    Ok(())
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
