//! [`Admin`]: the management calls the CLI and dashboard need (remoting.md §2.4 admin and
//! NameServer requests).

use std::collections::BTreeMap;
use std::time::Duration;

use ferric_common::record::RecordIter;
use ferric_common::topic::names::AUTO_CREATE_TOPIC_KEY_TOPIC;
use ferric_common::topic::retry_topic;
use ferric_common::{MessageExt, MessageQueue, TopicConfig};
use ferric_protocol::body::{
    ClusterInfo, ConsumeStats, ConsumerConnection, KvTable, ProducerConnection, ResetOffsetBody,
    SubscriptionGroupConfig, TopicList, TopicRouteData, TopicStatsTable,
};
use ferric_protocol::fastjson::{self, JsonStyle};
use ferric_protocol::header::{
    CreateTopicRequestHeader, DeleteSubscriptionGroupRequestHeader,
    DeleteTopicFromNamesrvRequestHeader, GetConsumeStatsRequestHeader,
    GetConsumerConnectionListRequestHeader, GetProducerConnectionListRequestHeader,
    QueryMessageRequestHeader, ResetOffsetRequestHeader, TopicRequestHeader, UNIQUE_KEY_QUERY_KEY,
    ViewMessageRequestHeader,
};
use ferric_protocol::{RemotingCommand, RequestCode, ResponseCode};

use crate::config::ClientConfig;
use crate::consumer::build_subscription;
use crate::consumer::pull::{PullSpec, pull_once, pull_sys_flag};
use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::instance::api::request;
use crate::instance::route::MASTER_ID;

/// Management client: cheap to clone.
///
/// ```no_run
/// # async fn demo() -> ferric_client::Result<()> {
/// use ferric_client::Admin;
/// let admin = Admin::connect("127.0.0.1:9876").await?;
/// println!("{:?}", admin.topic_list().await?);
/// admin.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Admin {
    instance: ClientInstance,
}

impl Admin {
    /// An admin client for the `;`-separated NameServer list.
    pub async fn connect(namesrv_addr: &str) -> Result<Self> {
        Self::with_config(ClientConfig::new(namesrv_addr)).await
    }

    /// An admin client with explicit settings.
    pub async fn with_config(config: ClientConfig) -> Result<Self> {
        Ok(Self {
            instance: ClientInstance::acquire(&config).await?,
        })
    }

    fn timeout(&self) -> Duration {
        self.instance.config().mq_client_api_timeout
    }

    async fn call(&self, addr: &str, request: RemotingCommand) -> Result<RemotingCommand> {
        self.instance
            .api()
            .invoke_ok(addr, request, self.timeout())
            .await
    }

    async fn call_namesrv(&self, request: RemotingCommand) -> Result<RemotingCommand> {
        let mut last = ClientError::NoNameServer;
        for addr in &self.instance.inner.namesrv_addrs {
            match self.call(addr, request.clone()).await {
                Ok(response) => return Ok(response),
                Err(error @ ClientError::Remoting { .. }) => last = error,
                Err(error) => return Err(error),
            }
        }
        Err(last)
    }

    /// GET_BROKER_CLUSTER_INFO.
    pub async fn cluster_info(&self) -> Result<ClusterInfo> {
        let response = self
            .call_namesrv(RemotingCommand::request(
                RequestCode::GET_BROKER_CLUSTER_INFO.value(),
            ))
            .await?;
        Ok(fastjson::from_slice(&response.body)?)
    }

    /// GET_ROUTEINFO_BY_TOPIC.
    pub async fn topic_route(&self, topic: &str) -> Result<TopicRouteData> {
        self.instance
            .update_route(topic)
            .await?
            .ok_or_else(|| ClientError::RouteNotFound {
                topic: topic.to_owned(),
            })
    }

    /// GET_ALL_TOPIC_LIST_FROM_NAMESERVER.
    pub async fn topic_list(&self) -> Result<Vec<String>> {
        let request =
            RemotingCommand::request(RequestCode::GET_ALL_TOPIC_LIST_FROM_NAMESERVER.value());
        let response = self.call_namesrv(request).await?;
        let list: TopicList = fastjson::from_slice(&response.body)?;
        Ok(list.topic_list)
    }

    /// Master addresses of every broker in `cluster`.
    pub async fn cluster_masters(&self, cluster: &str) -> Result<Vec<String>> {
        let info = self.cluster_info().await?;
        let names = info
            .cluster_addr_table
            .get(cluster)
            .cloned()
            .unwrap_or_default();
        Ok(names
            .iter()
            .filter_map(|name| info.broker_addr_table.get(name))
            .filter_map(|bd| bd.broker_addrs.0.get(&MASTER_ID).cloned())
            .collect())
    }

    /// UPDATE_AND_CREATE_TOPIC on one broker.
    pub async fn create_topic(&self, broker_addr: &str, config: &TopicConfig) -> Result<()> {
        let header = CreateTopicRequestHeader {
            topic: config.topic_name.clone(),
            default_topic: AUTO_CREATE_TOPIC_KEY_TOPIC.to_owned(),
            read_queue_nums: config.read_queue_nums,
            write_queue_nums: config.write_queue_nums,
            perm: config.perm,
            topic_filter_type: config.topic_filter_type.as_str().to_owned(),
            topic_sys_flag: Some(config.topic_sys_flag),
            order: config.order,
            attributes: None,
            force: None,
        };
        self.call(
            broker_addr,
            request(RequestCode::UPDATE_AND_CREATE_TOPIC, &header),
        )
        .await
        .map(drop)
    }

    /// Creates or updates `config` on every master of `cluster`.
    pub async fn create_topic_in_cluster(&self, cluster: &str, config: &TopicConfig) -> Result<()> {
        for addr in self.cluster_masters(cluster).await? {
            self.create_topic(&addr, config).await?;
        }
        Ok(())
    }

    /// Deletes `topic` from every master of `cluster` and from the NameServers.
    pub async fn delete_topic(&self, cluster: &str, topic: &str) -> Result<()> {
        for addr in self.cluster_masters(cluster).await? {
            let header = TopicRequestHeader {
                topic: topic.to_owned(),
            };
            self.call(&addr, request(RequestCode::DELETE_TOPIC_IN_BROKER, &header))
                .await?;
        }
        for addr in &self.instance.inner.namesrv_addrs {
            let header = DeleteTopicFromNamesrvRequestHeader {
                topic: topic.to_owned(),
                cluster_name: Some(cluster.to_owned()),
            };
            self.call(addr, request(RequestCode::DELETE_TOPIC_IN_NAMESRV, &header))
                .await?;
        }
        Ok(())
    }

    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP on one broker.
    pub async fn create_group(
        &self,
        broker_addr: &str,
        config: &SubscriptionGroupConfig,
    ) -> Result<()> {
        let body = fastjson::to_vec(config, JsonStyle::Fastjson)?;
        let request =
            RemotingCommand::request(RequestCode::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP.value())
                .with_body(body);
        self.call(broker_addr, request).await.map(drop)
    }

    /// DELETE_SUBSCRIPTIONGROUP on one broker.
    pub async fn delete_group(
        &self,
        broker_addr: &str,
        group: &str,
        clean_offset: bool,
    ) -> Result<()> {
        let header = DeleteSubscriptionGroupRequestHeader {
            group_name: group.to_owned(),
            clean_offset: Some(clean_offset),
            remove_offset: Some(clean_offset),
        };
        self.call(
            broker_addr,
            request(RequestCode::DELETE_SUBSCRIPTIONGROUP, &header),
        )
        .await
        .map(drop)
    }

    async fn master_addrs_of(&self, topic: &str) -> Result<Vec<String>> {
        let route = self.topic_route(topic).await?;
        Ok(route
            .broker_datas
            .iter()
            .filter_map(|bd| bd.broker_addrs.0.get(&MASTER_ID).cloned())
            .collect())
    }

    /// Masters that may know `group`: those serving its retry topic, or, while that topic's
    /// route is not registered yet (brokers create it on the group's first heartbeat and
    /// register it with the NameServers moments later), every master of the cluster.
    async fn group_master_addrs(&self, group: &str) -> Result<Vec<String>> {
        match self.master_addrs_of(&retry_topic(group)).await {
            Err(ClientError::RouteNotFound { .. }) => Ok(self
                .cluster_info()
                .await?
                .broker_addr_table
                .values()
                .filter_map(|bd| bd.broker_addrs.0.get(&MASTER_ID).cloned())
                .collect()),
            other => other,
        }
    }

    /// GET_TOPIC_STATS_INFO merged over the topic's brokers.
    pub async fn topic_stats(&self, topic: &str) -> Result<TopicStatsTable> {
        let mut merged = TopicStatsTable::default();
        for addr in self.master_addrs_of(topic).await? {
            let header = TopicRequestHeader {
                topic: topic.to_owned(),
            };
            let response = self
                .call(&addr, request(RequestCode::GET_TOPIC_STATS_INFO, &header))
                .await?;
            let table: TopicStatsTable = fastjson::from_slice(&response.body)?;
            merged.offset_table.0.extend(table.offset_table.0);
        }
        Ok(merged)
    }

    /// GET_CONSUME_STATS merged over the brokers of the group (see `group_master_addrs`).
    pub async fn consume_stats(&self, group: &str, topic: Option<&str>) -> Result<ConsumeStats> {
        let mut merged = ConsumeStats::default();
        for addr in self.group_master_addrs(group).await? {
            let header = GetConsumeStatsRequestHeader {
                consumer_group: group.to_owned(),
                topic: topic.map(str::to_owned),
                topic_list: None,
            };
            let response = self
                .call(&addr, request(RequestCode::GET_CONSUME_STATS, &header))
                .await?;
            let stats: ConsumeStats = fastjson::from_slice(&response.body)?;
            merged.offset_table.0.extend(stats.offset_table.0);
            merged.consume_tps += stats.consume_tps;
        }
        Ok(merged)
    }

    /// GET_CONSUMER_CONNECTION_LIST from the first broker of the group that knows it.
    pub async fn consumer_connections(&self, group: &str) -> Result<ConsumerConnection> {
        let mut last = ClientError::RouteNotFound {
            topic: retry_topic(group),
        };
        for addr in self.group_master_addrs(group).await? {
            let header = GetConsumerConnectionListRequestHeader {
                consumer_group: group.to_owned(),
            };
            match self
                .call(
                    &addr,
                    request(RequestCode::GET_CONSUMER_CONNECTION_LIST, &header),
                )
                .await
            {
                Ok(response) => return Ok(fastjson::from_slice(&response.body)?),
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// GET_PRODUCER_CONNECTION_LIST from the brokers serving `topic`.
    pub async fn producer_connections(
        &self,
        group: &str,
        topic: &str,
    ) -> Result<ProducerConnection> {
        let mut merged = ProducerConnection::default();
        for addr in self.master_addrs_of(topic).await? {
            let header = GetProducerConnectionListRequestHeader {
                producer_group: group.to_owned(),
            };
            let response = self
                .call(
                    &addr,
                    request(RequestCode::GET_PRODUCER_CONNECTION_LIST, &header),
                )
                .await?;
            let conns: ProducerConnection = fastjson::from_slice(&response.body)?;
            merged.connection_set.extend(conns.connection_set);
        }
        Ok(merged)
    }

    /// GET_BROKER_RUNTIME_INFO.
    pub async fn broker_runtime_info(&self, broker_addr: &str) -> Result<BTreeMap<String, String>> {
        let response = self
            .call(
                broker_addr,
                RemotingCommand::request(RequestCode::GET_BROKER_RUNTIME_INFO.value()),
            )
            .await?;
        let table: KvTable = fastjson::from_slice(&response.body)?;
        Ok(table.table)
    }

    /// GET_BROKER_CONFIG as key/value pairs.
    pub async fn broker_config(&self, broker_addr: &str) -> Result<BTreeMap<String, String>> {
        let response = self
            .call(
                broker_addr,
                RemotingCommand::request(RequestCode::GET_BROKER_CONFIG.value()),
            )
            .await?;
        Ok(String::from_utf8_lossy(&response.body)
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect())
    }

    /// UPDATE_BROKER_CONFIG with `key=value` pairs.
    pub async fn update_broker_config(
        &self,
        broker_addr: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<()> {
        let body: String = values.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let request =
            RemotingCommand::request(RequestCode::UPDATE_BROKER_CONFIG.value()).with_body(body);
        self.call(broker_addr, request).await.map(drop)
    }

    /// VIEW_MESSAGE_BY_ID: the message with this offset message id.
    pub async fn view_message(&self, offset_msg_id: &str) -> Result<MessageExt> {
        let id = ferric_common::message_id::decode_offset_msg_id(offset_msg_id)
            .map_err(|e| ClientError::InvalidMessage(format!("bad offset msg id: {e}")))?;
        let header = ViewMessageRequestHeader {
            topic: None,
            offset: id.commit_log_offset,
        };
        let addr = id.store_host.to_string();
        let response = self
            .call(&addr, request(RequestCode::VIEW_MESSAGE_BY_ID, &header))
            .await?;
        decode_all(&response.body)?
            .into_iter()
            .next()
            .ok_or_else(|| ClientError::InvalidMessage("empty VIEW_MESSAGE_BY_ID body".into()))
    }

    /// QUERY_MESSAGE by key over the topic's brokers; hash collisions are filtered out.
    pub async fn query_message_by_key(
        &self,
        topic: &str,
        key: &str,
        max: i32,
        begin: i64,
        end: i64,
    ) -> Result<Vec<MessageExt>> {
        self.query(topic, key, max, begin, end, false).await
    }

    /// QUERY_MESSAGE by unique key (`UNIQ_KEY`).
    pub async fn query_message_by_unique_key(
        &self,
        topic: &str,
        uniq_key: &str,
    ) -> Result<Option<MessageExt>> {
        Ok(self
            .query(topic, uniq_key, 32, 0, i64::MAX, true)
            .await?
            .into_iter()
            .next())
    }

    async fn query(
        &self,
        topic: &str,
        key: &str,
        max: i32,
        begin: i64,
        end: i64,
        unique: bool,
    ) -> Result<Vec<MessageExt>> {
        let mut found = Vec::new();
        for addr in self.master_addrs_of(topic).await? {
            let header = QueryMessageRequestHeader {
                topic: topic.to_owned(),
                key: key.to_owned(),
                max_num: max,
                begin_timestamp: begin,
                end_timestamp: end,
            };
            let mut req = request(RequestCode::QUERY_MESSAGE, &header);
            if unique {
                req.set_ext(UNIQUE_KEY_QUERY_KEY, "true");
            }
            let response = self
                .instance
                .api()
                .invoke(&addr, req, self.timeout())
                .await?;
            if response.code == ResponseCode::QUERY_NOT_FOUND.value() {
                continue;
            }
            let response = crate::instance::api::expect_success(&addr, response)?;
            for msg in decode_all(&response.body)? {
                let matches = if unique {
                    msg.uniq_key() == Some(key)
                } else {
                    msg.keys().contains(&key)
                };
                if matches && msg.topic == topic {
                    found.push(msg);
                }
            }
        }
        Ok(found)
    }

    /// The message at `offset` of `mq` (a one-message pull as the `TOOLS_CONSUMER` group).
    pub async fn query_message_by_queue_offset(
        &self,
        mq: &MessageQueue,
        offset: i64,
    ) -> Result<Option<MessageExt>> {
        let sub = build_subscription(&mq.topic, "*", 0);
        let spec = PullSpec {
            group: ferric_common::topic::names::TOOLS_CONSUMER_GROUP,
            mq,
            subscription: &sub,
            offset,
            max_nums: 1,
            sys_flag: pull_sys_flag(false, false, true, false),
            commit_offset: 0,
            suspend: Duration::ZERO,
            timeout: self.timeout(),
            broker_id: MASTER_ID,
        };
        Ok(pull_once(&self.instance, spec)
            .await?
            .messages
            .into_iter()
            .next())
    }

    /// INVOKE_BROKER_TO_RESET_OFFSET on every broker of `topic`; returns the new offsets.
    pub async fn reset_offset_by_time(
        &self,
        group: &str,
        topic: &str,
        timestamp: i64,
        force: bool,
    ) -> Result<Vec<(MessageQueue, i64)>> {
        let mut offsets = Vec::new();
        for addr in self.master_addrs_of(topic).await? {
            let header = ResetOffsetRequestHeader {
                group: group.to_owned(),
                topic: topic.to_owned(),
                queue_id: None,
                offset: None,
                timestamp,
                is_force: force,
            };
            let response = self
                .call(
                    &addr,
                    request(RequestCode::INVOKE_BROKER_TO_RESET_OFFSET, &header),
                )
                .await?;
            if !response.body.is_empty() {
                let body: ResetOffsetBody = fastjson::from_slice(&response.body)?;
                offsets.extend(
                    body.offset_table
                        .0
                        .into_iter()
                        .map(|(mq, o)| (mq.into(), o)),
                );
            }
        }
        Ok(offsets)
    }

    /// Releases the client instance.
    pub async fn shutdown(&self) {
        self.instance.release().await;
    }
}

fn decode_all(body: &[u8]) -> Result<Vec<MessageExt>> {
    let mut out = Vec::new();
    for record in RecordIter::new(body) {
        let mut msg = record?.to_message_ext();
        msg.decompress_body_in_place(crate::consumer::pull_result::MAX_PULLED_BODY)?;
        out.push(msg);
    }
    Ok(out)
}
