//! [`PullConsumer`]: pull from an explicit queue and offset; query and commit offsets yourself.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ferric_common::MessageQueue;
use ferric_protocol::body::{ConsumerData, SubscriptionData};
use ferric_protocol::header::{
    PULL_FLAG_COMMIT_OFFSET, PULL_FLAG_LITE_PULL_MESSAGE, PULL_FLAG_SUBSCRIPTION,
    PULL_FLAG_SUSPEND, PullMessageRequestHeader,
};
use ferric_protocol::{RemotingCommand, RequestCode};
use futures::future::BoxFuture;
use parking_lot::Mutex;

use super::pull_result::{PullResult, process_pull_response};
use super::{ConsumeFromWhere, MessageModel, build_subscription, now_ms};
use crate::config::ClientConfig;
use crate::error::{ClientError, Result};
use crate::instance::route::MASTER_ID;
use crate::instance::{ClientInstance, ConsumerHandle};

/// Broker hold time of a blocking pull (`brokerSuspendMaxTimeMillis`, 20 s).
pub const BROKER_SUSPEND_MAX_TIME: Duration = Duration::from_secs(20);
/// Socket timeout of a blocking pull (30 s).
pub const CONSUMER_TIMEOUT_WHEN_SUSPEND: Duration = Duration::from_secs(30);

/// Builds the PullSysFlag bits (remoting.md §2.4).
pub fn pull_sys_flag(commit_offset: bool, suspend: bool, subscription: bool, lite: bool) -> i32 {
    let mut flag = 0;
    if commit_offset {
        flag |= PULL_FLAG_COMMIT_OFFSET;
    }
    if suspend {
        flag |= PULL_FLAG_SUSPEND;
    }
    if subscription {
        flag |= PULL_FLAG_SUBSCRIPTION;
    }
    if lite {
        flag |= PULL_FLAG_LITE_PULL_MESSAGE;
    }
    flag
}

/// One PULL_MESSAGE call.
#[derive(Debug, Clone)]
pub(crate) struct PullSpec<'a> {
    pub group: &'a str,
    pub mq: &'a MessageQueue,
    pub subscription: &'a SubscriptionData,
    pub offset: i64,
    pub max_nums: i32,
    pub sys_flag: i32,
    pub commit_offset: i64,
    pub suspend: Duration,
    pub timeout: Duration,
    pub broker_id: i64,
}

/// The PULL_MESSAGE request for `spec` (LITE_PULL_MESSAGE when the lite bit is set).
pub(crate) fn pull_request(spec: &PullSpec<'_>) -> RemotingCommand {
    let send_subscription = spec.sys_flag & PULL_FLAG_SUBSCRIPTION != 0;
    let header = PullMessageRequestHeader {
        consumer_group: spec.group.to_owned(),
        topic: spec.mq.topic.clone(),
        queue_id: spec.mq.queue_id,
        queue_offset: spec.offset,
        max_msg_nums: spec.max_nums,
        sys_flag: spec.sys_flag,
        commit_offset: spec.commit_offset,
        suspend_timeout_millis: i64::try_from(spec.suspend.as_millis()).unwrap_or(i64::MAX),
        subscription: send_subscription.then(|| spec.subscription.sub_string.clone()),
        sub_version: spec.subscription.sub_version,
        expression_type: Some(spec.subscription.expression_type.clone()),
        broker_name: Some(spec.mq.broker_name.clone()),
        ..Default::default()
    };
    let code = if spec.sys_flag & PULL_FLAG_LITE_PULL_MESSAGE != 0 {
        RequestCode::LITE_PULL_MESSAGE
    } else {
        RequestCode::PULL_MESSAGE
    };
    RemotingCommand::request(code.value()).with_header(&header)
}

/// Sends one pull and decodes the answer.
pub(crate) async fn pull_once(instance: &ClientInstance, spec: PullSpec<'_>) -> Result<PullResult> {
    let addr = match instance.broker_addr(&spec.mq.broker_name, spec.broker_id) {
        Some(addr) => addr,
        None => {
            instance.update_route(&spec.mq.topic).await?;
            instance
                .broker_addr(&spec.mq.broker_name, spec.broker_id)
                .ok_or_else(|| ClientError::BrokerNotFound {
                    broker_name: spec.mq.broker_name.clone(),
                })?
        }
    };
    let mut spec = spec;
    if instance.master_addr(&spec.mq.broker_name).as_deref() != Some(addr.as_str()) {
        // Never commit through a slave.
        spec.sys_flag &= !PULL_FLAG_COMMIT_OFFSET;
    }
    let request = pull_request(&spec);
    let response = instance.api().invoke(&addr, request, spec.timeout).await?;
    process_pull_response(&addr, &response, spec.subscription)
}

/// A consumer that pulls from queues you choose.
///
/// ```no_run
/// # async fn demo() -> ferric_client::Result<()> {
/// use ferric_client::consumer::pull::PullConsumer;
/// let consumer = PullConsumer::builder().namesrv_addr("127.0.0.1:9876").group("cg").build().await?;
/// for mq in consumer.fetch_subscribe_message_queues("TopicTest").await? {
///     let offset = consumer.fetch_consume_offset(&mq).await?.unwrap_or(0);
///     let result = consumer.pull(&mq, "*", offset, 32).await?;
///     consumer.update_consume_offset(&mq, result.next_begin_offset).await?;
/// }
/// consumer.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PullConsumer {
    inner: Arc<PullInner>,
}

#[derive(Debug)]
struct PullInner {
    instance: ClientInstance,
    group: String,
    subscriptions: Mutex<BTreeMap<String, SubscriptionData>>,
    pull_timeout: Duration,
}

impl ConsumerHandle for PullInner {
    fn consumer_data(&self) -> ConsumerData {
        ConsumerData {
            group_name: self.group.clone(),
            consume_type: "CONSUME_ACTIVELY".into(),
            message_model: MessageModel::Clustering.name().into(),
            consume_from_where: ConsumeFromWhere::LastOffset.name().into(),
            subscription_data_set: self.subscriptions.lock().values().cloned().collect(),
            unit_mode: false,
        }
    }

    fn rebalance(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn reset_offsets(&self, _offsets: Vec<(MessageQueue, i64)>) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Builds a [`PullConsumer`].
#[derive(Debug, Clone, Default)]
pub struct PullConsumerBuilder {
    client: ClientConfig,
    group: String,
    pull_timeout: Option<Duration>,
}

impl PullConsumerBuilder {
    /// `;`-separated NameServer addresses.
    pub fn namesrv_addr(mut self, addrs: &str) -> Self {
        self.client.namesrv_addrs = crate::config::parse_namesrv_addrs(addrs);
        self
    }

    /// Consumer group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = group.into();
        self
    }

    /// Timeout of a non-blocking pull (3 s).
    pub fn pull_timeout(mut self, timeout: Duration) -> Self {
        self.pull_timeout = Some(timeout);
        self
    }

    /// Replaces the whole client configuration.
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.client = config;
        self
    }

    /// Starts the consumer.
    pub async fn build(self) -> Result<PullConsumer> {
        if self.group.is_empty() {
            return Err(ClientError::Config("consumer group is required".into()));
        }
        let instance = ClientInstance::acquire(&self.client).await?;
        let inner = Arc::new(PullInner {
            pull_timeout: self
                .pull_timeout
                .unwrap_or(instance.config().mq_client_api_timeout),
            instance,
            group: self.group,
            subscriptions: Mutex::default(),
        });
        inner
            .instance
            .register_consumer(&inner.group, Arc::clone(&inner) as Arc<dyn ConsumerHandle>);
        Ok(PullConsumer { inner })
    }
}

impl PullConsumer {
    /// A builder.
    pub fn builder() -> PullConsumerBuilder {
        PullConsumerBuilder::default()
    }

    /// The readable queues of `topic`.
    pub async fn fetch_subscribe_message_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        self.inner.instance.subscribe_queues(topic).await
    }

    fn subscription(&self, topic: &str, expression: &str) -> SubscriptionData {
        let mut subs = self.inner.subscriptions.lock();
        let sub = subs
            .entry(topic.to_owned())
            .or_insert_with(|| build_subscription(topic, expression, now_ms()));
        if sub.sub_string != expression {
            *sub = build_subscription(topic, expression, now_ms());
        }
        sub.clone()
    }

    async fn do_pull(
        &self,
        mq: &MessageQueue,
        expression: &str,
        offset: i64,
        max: i32,
        block: bool,
    ) -> Result<PullResult> {
        if offset < 0 || max <= 0 {
            return Err(ClientError::Config(format!(
                "bad pull offset {offset} or max {max}"
            )));
        }
        let sub = self.subscription(&mq.topic, expression);
        let (suspend, timeout) = if block {
            (BROKER_SUSPEND_MAX_TIME, CONSUMER_TIMEOUT_WHEN_SUSPEND)
        } else {
            (self.inner.pull_timeout, self.inner.pull_timeout)
        };
        let spec = PullSpec {
            group: &self.inner.group,
            mq,
            subscription: &sub,
            offset,
            max_nums: max,
            sys_flag: pull_sys_flag(false, block, true, false),
            commit_offset: 0,
            suspend,
            timeout,
            broker_id: MASTER_ID,
        };
        pull_once(&self.inner.instance, spec).await
    }

    /// Pulls up to `max` messages of `mq` from `offset`, filtered by the tag `expression`.
    pub async fn pull(
        &self,
        mq: &MessageQueue,
        expression: &str,
        offset: i64,
        max: i32,
    ) -> Result<PullResult> {
        self.do_pull(mq, expression, offset, max, false).await
    }

    /// Like [`PullConsumer::pull`], but the broker holds the request up to 20 s for new messages.
    pub async fn pull_block_if_not_found(
        &self,
        mq: &MessageQueue,
        expression: &str,
        offset: i64,
        max: i32,
    ) -> Result<PullResult> {
        self.do_pull(mq, expression, offset, max, true).await
    }

    async fn addr(&self, mq: &MessageQueue) -> Result<String> {
        self.inner
            .instance
            .master_addr_or_refresh(&mq.broker_name, &mq.topic)
            .await
    }

    fn timeout(&self) -> Duration {
        self.inner.instance.config().mq_client_api_timeout
    }

    /// The queue's max offset (next offset to be written).
    pub async fn max_offset(&self, mq: &MessageQueue) -> Result<i64> {
        let addr = self.addr(mq).await?;
        self.inner
            .instance
            .api()
            .max_offset(&addr, mq, self.timeout())
            .await
    }

    /// The queue's min offset.
    pub async fn min_offset(&self, mq: &MessageQueue) -> Result<i64> {
        let addr = self.addr(mq).await?;
        self.inner
            .instance
            .api()
            .min_offset(&addr, mq, self.timeout())
            .await
    }

    /// The offset of the first message stored at or after `timestamp` (ms).
    pub async fn search_offset(&self, mq: &MessageQueue, timestamp: i64) -> Result<i64> {
        let addr = self.addr(mq).await?;
        self.inner
            .instance
            .api()
            .search_offset(&addr, mq, timestamp, self.timeout())
            .await
    }

    /// Store time (ms) of the queue's earliest message.
    pub async fn earliest_msg_store_time(&self, mq: &MessageQueue) -> Result<i64> {
        let addr = self.addr(mq).await?;
        self.inner
            .instance
            .api()
            .earliest_msg_store_time(&addr, mq, self.timeout())
            .await
    }

    /// The group's committed offset of `mq`; `None` when the broker has none.
    pub async fn fetch_consume_offset(&self, mq: &MessageQueue) -> Result<Option<i64>> {
        let addr = self.addr(mq).await?;
        self.inner
            .instance
            .api()
            .query_consumer_offset(&addr, &self.inner.group, mq, self.timeout())
            .await
    }

    /// Commits `offset` for `mq` and waits for the broker's answer.
    pub async fn update_consume_offset(&self, mq: &MessageQueue, offset: i64) -> Result<()> {
        let addr = self.addr(mq).await?;
        self.inner
            .instance
            .api()
            .update_consumer_offset(&addr, &self.inner.group, mq, offset, false, self.timeout())
            .await
    }

    /// Unregisters the group and releases the client instance.
    pub async fn shutdown(&self) {
        self.inner
            .instance
            .unregister_consumer(&self.inner.group)
            .await;
        self.inner.instance.release().await;
    }
}
