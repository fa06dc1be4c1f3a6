//! [`NamesrvProcessor`]: the NameServer's request handlers, one per request
//! code, over the shared [`NamesrvState`]. Codes it does not handle are never
//! registered, so the transport answers them with REQUEST_CODE_NOT_SUPPORTED.

use std::sync::Arc;

use bytes::Bytes;
use ferric_protocol::body::{
    DataVersion, RegisterBrokerBody, TopicConfigSerializeWrapper, TopicList, TopicRouteData,
};
use ferric_protocol::fastjson::{self, JsonStyle};
use ferric_protocol::header::{
    AddWritePermOfBrokerResponseHeader, BrokerHeartbeatRequestHeader, BrokerIdentityRequestHeader,
    BrokerNameRequestHeader, DeleteTopicFromNamesrvRequestHeader, GetKvConfigResponseHeader,
    GetKvListByNamespaceRequestHeader, GetRouteInfoRequestHeader, GetTopicsByClusterRequestHeader,
    KvConfigKeyRequestHeader, PutKvConfigRequestHeader, QueryDataVersionResponseHeader,
    RegisterBrokerRequestHeader, RegisterBrokerResponseHeader, RegisterTopicRequestHeader,
    WipeWritePermOfBrokerResponseHeader,
};
use ferric_protocol::{CommandHeader, ExtFields, RemotingCommand, RequestCode, ResponseCode};
use ferric_remoting::{Channel, ProcessResult, ProcessorError, RequestProcessor};
use futures::future::BoxFuture;

use crate::error::NamesrvError;
use crate::kv::NAMESPACE_ORDER_TOPIC_CONFIG;
use crate::route::BrokerRegistration;
use crate::state::NamesrvState;

/// Request codes the NameServer answers.
pub const HANDLED_CODES: &[RequestCode] = &[
    RequestCode::PUT_KV_CONFIG,
    RequestCode::GET_KV_CONFIG,
    RequestCode::DELETE_KV_CONFIG,
    RequestCode::GET_KVLIST_BY_NAMESPACE,
    RequestCode::REGISTER_BROKER,
    RequestCode::UNREGISTER_BROKER,
    RequestCode::GET_ROUTEINFO_BY_TOPIC,
    RequestCode::GET_BROKER_CLUSTER_INFO,
    RequestCode::WIPE_WRITE_PERM_OF_BROKER,
    RequestCode::ADD_WRITE_PERM_OF_BROKER,
    RequestCode::GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
    RequestCode::DELETE_TOPIC_IN_NAMESRV,
    RequestCode::REGISTER_TOPIC_IN_NAMESRV,
    RequestCode::GET_TOPICS_BY_CLUSTER,
    RequestCode::GET_SYSTEM_TOPIC_LIST_FROM_NS,
    RequestCode::GET_UNIT_TOPIC_LIST,
    RequestCode::GET_HAS_UNIT_SUB_TOPIC_LIST,
    RequestCode::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST,
    RequestCode::QUERY_DATA_VERSION,
    RequestCode::GET_NAMESRV_CONFIG,
    RequestCode::BROKER_HEARTBEAT,
];

/// The remark of a TOPIC_NOT_EXIST route answer, exactly as Java words it.
pub fn topic_not_exist_remark(topic: &str) -> String {
    format!(
        "No topic route info in name server for the topic: {topic}\n\
         See http://rocketmq.apache.org/docs/faq/ for further details."
    )
}

/// Handles every NameServer request code over shared state.
#[derive(Debug, Clone)]
pub struct NamesrvProcessor {
    state: Arc<NamesrvState>,
}

impl NamesrvProcessor {
    /// A processor over `state`.
    pub fn new(state: Arc<NamesrvState>) -> Self {
        Self { state }
    }

    /// Answers one request (without the transport's fix-ups); `channel_id`
    /// is the connection a REGISTER_BROKER arrived on.
    pub fn handle(
        &self,
        request: &RemotingCommand,
        channel_id: Option<u64>,
    ) -> Result<RemotingCommand, NamesrvError> {
        let code = RequestCode(request.code);
        match code {
            RequestCode::PUT_KV_CONFIG => self.put_kv_config(request),
            RequestCode::GET_KV_CONFIG => self.get_kv_config(request),
            RequestCode::DELETE_KV_CONFIG => self.delete_kv_config(request),
            RequestCode::GET_KVLIST_BY_NAMESPACE => self.get_kv_list(request),
            RequestCode::REGISTER_BROKER => self.register_broker(request, channel_id),
            RequestCode::UNREGISTER_BROKER => self.unregister_broker(request),
            RequestCode::GET_ROUTEINFO_BY_TOPIC => self.get_route_info(request),
            RequestCode::GET_BROKER_CLUSTER_INFO => {
                let info = self.state.route.read().cluster_info();
                Ok(success(request).with_body(fastjson::to_vec(&info, JsonStyle::Fastjson)?))
            }
            RequestCode::WIPE_WRITE_PERM_OF_BROKER => {
                let header: BrokerNameRequestHeader = read_header(request)?;
                let count = self
                    .state
                    .route
                    .write()
                    .wipe_write_perm_of_broker(&header.broker_name);
                tracing::info!(broker_name = %header.broker_name, wipe_topic_count = count, "write perm wiped");
                let reply = WipeWritePermOfBrokerResponseHeader {
                    wipe_topic_count: count,
                };
                Ok(with_header(success(request), &reply))
            }
            RequestCode::ADD_WRITE_PERM_OF_BROKER => {
                let header: BrokerNameRequestHeader = read_header(request)?;
                let count = self
                    .state
                    .route
                    .write()
                    .add_write_perm_of_broker(&header.broker_name);
                tracing::info!(broker_name = %header.broker_name, add_topic_count = count, "write perm added");
                let reply = AddWritePermOfBrokerResponseHeader {
                    add_topic_count: count,
                };
                Ok(with_header(success(request), &reply))
            }
            RequestCode::GET_ALL_TOPIC_LIST_FROM_NAMESERVER => {
                if !self.state.config.enable_all_topic_list {
                    return Ok(system_error(request, "disable"));
                }
                let list = self.state.route.read().all_topic_list();
                topic_list_response(request, &list)
            }
            RequestCode::DELETE_TOPIC_IN_NAMESRV => {
                let header: DeleteTopicFromNamesrvRequestHeader = read_header(request)?;
                self.state
                    .route
                    .write()
                    .delete_topic(&header.topic, header.cluster_name.as_deref());
                tracing::info!(topic = %header.topic, cluster = ?header.cluster_name, "topic deleted");
                Ok(success(request))
            }
            RequestCode::REGISTER_TOPIC_IN_NAMESRV => {
                let header: RegisterTopicRequestHeader = read_header(request)?;
                if !request.body.is_empty() {
                    let route: TopicRouteData = fastjson::from_slice(&request.body)?;
                    self.state
                        .route
                        .write()
                        .register_topic(&header.topic, &route.queue_datas);
                }
                Ok(success(request))
            }
            RequestCode::GET_TOPICS_BY_CLUSTER => {
                if !self.state.config.enable_topic_list {
                    return Ok(system_error(request, "disable"));
                }
                let header: GetTopicsByClusterRequestHeader = read_header(request)?;
                let list = self.state.route.read().topics_by_cluster(&header.cluster);
                topic_list_response(request, &list)
            }
            RequestCode::GET_SYSTEM_TOPIC_LIST_FROM_NS => {
                let list = self.state.route.read().system_topic_list();
                topic_list_response(request, &list)
            }
            RequestCode::GET_UNIT_TOPIC_LIST
            | RequestCode::GET_HAS_UNIT_SUB_TOPIC_LIST
            | RequestCode::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST => {
                if !self.state.config.enable_topic_list {
                    return Ok(system_error(request, "disable"));
                }
                let route = self.state.route.read();
                let list = match code {
                    RequestCode::GET_UNIT_TOPIC_LIST => route.unit_topic_list(),
                    RequestCode::GET_HAS_UNIT_SUB_TOPIC_LIST => route.has_unit_sub_topic_list(),
                    _ => route.has_unit_sub_ununit_topic_list(),
                };
                topic_list_response(request, &list)
            }
            RequestCode::QUERY_DATA_VERSION => self.query_data_version(request),
            RequestCode::GET_NAMESRV_CONFIG => {
                let text = self.state.config.render_items();
                Ok(success(request).with_body(text.into_bytes()))
            }
            RequestCode::BROKER_HEARTBEAT => {
                let header: BrokerHeartbeatRequestHeader = read_header(request)?;
                let now = self.state.now_ms();
                self.state
                    .route
                    .write()
                    .update_broker_info_update_timestamp(&header.broker_addr, now);
                Ok(success(request))
            }
            other => Err(NamesrvError::Unsupported(other.0)),
        }
    }

    fn put_kv_config(&self, request: &RemotingCommand) -> Result<RemotingCommand, NamesrvError> {
        let header: PutKvConfigRequestHeader = read_header(request)?;
        self.state
            .kv
            .lock()
            .put(&header.namespace, &header.key, &header.value)?;
        Ok(success(request))
    }

    fn get_kv_config(&self, request: &RemotingCommand) -> Result<RemotingCommand, NamesrvError> {
        let header: KvConfigKeyRequestHeader = read_header(request)?;
        let value = self
            .state
            .kv
            .lock()
            .get(&header.namespace, &header.key)
            .map(str::to_string);
        match value {
            Some(value) => {
                let reply = GetKvConfigResponseHeader { value: Some(value) };
                Ok(with_header(success(request), &reply))
            }
            None => Ok(request.response_to(
                ResponseCode::QUERY_NOT_FOUND.0,
                Some(format!(
                    "No config item, Namespace: {} Key: {}",
                    header.namespace, header.key
                )),
            )),
        }
    }

    fn delete_kv_config(&self, request: &RemotingCommand) -> Result<RemotingCommand, NamesrvError> {
        let header: KvConfigKeyRequestHeader = read_header(request)?;
        self.state
            .kv
            .lock()
            .delete(&header.namespace, &header.key)?;
        Ok(success(request))
    }

    fn get_kv_list(&self, request: &RemotingCommand) -> Result<RemotingCommand, NamesrvError> {
        let header: GetKvListByNamespaceRequestHeader = read_header(request)?;
        let table = self.state.kv.lock().kv_list(&header.namespace);
        match table {
            Some(table) => {
                Ok(success(request).with_body(fastjson::to_vec(&table, JsonStyle::Fastjson)?))
            }
            None => Ok(request.response_to(
                ResponseCode::QUERY_NOT_FOUND.0,
                Some(format!("No config item, Namespace: {}", header.namespace)),
            )),
        }
    }

    fn register_broker(
        &self,
        request: &RemotingCommand,
        channel_id: Option<u64>,
    ) -> Result<RemotingCommand, NamesrvError> {
        let header: RegisterBrokerRequestHeader = read_header(request)?;
        let expected_crc = header.body_crc32.unwrap_or(0);
        if expected_crc != 0 {
            let actual = ferric_common::crc32_masked(&request.body);
            if actual != expected_crc {
                tracing::warn!(
                    broker_addr = %header.broker_addr,
                    expected_crc,
                    actual_crc = actual,
                    "register broker body crc32 mismatch"
                );
                return Ok(system_error(request, "crc32 not match"));
            }
        }
        let body = if request.body.is_empty() {
            RegisterBrokerBody {
                topic_config_serialize_wrapper: TopicConfigSerializeWrapper::default(),
                filter_server_list: Vec::new(),
            }
        } else if header.compressed.unwrap_or(false) {
            RegisterBrokerBody::decode_compressed(&request.body)?
        } else {
            RegisterBrokerBody::from_json(&request.body)?
        };
        let registration = BrokerRegistration {
            cluster_name: header.cluster_name,
            broker_addr: header.broker_addr,
            broker_name: header.broker_name,
            broker_id: header.broker_id,
            ha_server_addr: header.ha_server_addr,
            topic_config: body.topic_config_serialize_wrapper,
            filter_server_list: body.filter_server_list,
            channel_id,
            heartbeat_timeout_ms: header
                .heartbeat_timeout_millis
                .and_then(|ms| u64::try_from(ms).ok())
                .filter(|ms| *ms > 0),
        };
        let now = self.state.now_ms();
        let result = self.state.route.write().register_broker(registration, now);
        let reply = RegisterBrokerResponseHeader {
            ha_server_addr: result.ha_server_addr,
            master_addr: result.master_addr,
        };
        let mut response = with_header(success(request), &reply);
        if self.state.config.return_order_topic_config_to_broker
            && let Some(table) = self.state.kv.lock().kv_list(NAMESPACE_ORDER_TOPIC_CONFIG)
        {
            response.body = Bytes::from(fastjson::to_vec(&table, JsonStyle::Fastjson)?);
        }
        Ok(response)
    }

    fn unregister_broker(
        &self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, NamesrvError> {
        let header: BrokerIdentityRequestHeader = read_header(request)?;
        self.state.route.write().unregister_broker(
            &header.cluster_name,
            &header.broker_addr,
            &header.broker_name,
            header.broker_id,
        );
        Ok(success(request))
    }

    fn get_route_info(&self, request: &RemotingCommand) -> Result<RemotingCommand, NamesrvError> {
        let header: GetRouteInfoRequestHeader = read_header(request)?;
        let route = self
            .state
            .route
            .read()
            .pickup_topic_route_data(&header.topic);
        let Some(mut route) = route else {
            return Ok(request.response_to(
                ResponseCode::TOPIC_NOT_EXIST.0,
                Some(topic_not_exist_remark(&header.topic)),
            ));
        };
        if self.state.config.order_message_enable {
            route.order_topic_conf = self
                .state
                .kv
                .lock()
                .get(NAMESPACE_ORDER_TOPIC_CONFIG, &header.topic)
                .map(str::to_string);
        }
        let body = route.to_json_for(
            request.version,
            header.accept_standard_json_only.unwrap_or(false),
        )?;
        Ok(success(request).with_body(body))
    }

    fn query_data_version(
        &self,
        request: &RemotingCommand,
    ) -> Result<RemotingCommand, NamesrvError> {
        let header: BrokerIdentityRequestHeader = read_header(request)?;
        let data_version: DataVersion = if request.body.is_empty() {
            DataVersion::default()
        } else {
            fastjson::from_slice(&request.body)?
        };
        let now = self.state.now_ms();
        let mut route = self.state.route.write();
        let changed = route.is_broker_topic_config_changed(&header.broker_addr, &data_version);
        if !changed {
            route.update_broker_info_update_timestamp(&header.broker_addr, now);
        }
        let ns_version = route.broker_data_version(&header.broker_addr).cloned();
        drop(route);
        let mut response = with_header(
            success(request),
            &QueryDataVersionResponseHeader { changed },
        );
        if let Some(version) = ns_version {
            response.body = Bytes::from(fastjson::to_vec(&version, JsonStyle::Fastjson)?);
        }
        Ok(response)
    }
}

impl RequestProcessor for NamesrvProcessor {
    fn process<'a>(
        &'a self,
        channel: &'a Channel,
        request: RemotingCommand,
    ) -> BoxFuture<'a, ProcessResult> {
        Box::pin(async move {
            match self.handle(&request, Some(channel.id())) {
                Ok(response) => Ok(Some(response)),
                Err(error) => {
                    tracing::warn!(
                        code = request.code,
                        peer = %channel.remote_addr(),
                        error = %error,
                        "namesrv request failed"
                    );
                    Err(ProcessorError::from_error(error))
                }
            }
        })
    }
}

fn read_header<H: CommandHeader>(request: &RemotingCommand) -> Result<H, NamesrvError> {
    match &request.ext_fields {
        Some(ext) => Ok(H::read(ext)?),
        None => Ok(H::read(&ExtFields::default())?),
    }
}

fn success(request: &RemotingCommand) -> RemotingCommand {
    request.response_to(ResponseCode::SUCCESS.0, None)
}

fn system_error(request: &RemotingCommand, remark: &str) -> RemotingCommand {
    request.response_to(ResponseCode::SYSTEM_ERROR.0, Some(remark.to_string()))
}

fn with_header<H: CommandHeader>(mut response: RemotingCommand, header: &H) -> RemotingCommand {
    let mut ext = ExtFields::default();
    header.write(&mut ext);
    response.ext_fields = Some(ext);
    response
}

fn topic_list_response(
    request: &RemotingCommand,
    list: &TopicList,
) -> Result<RemotingCommand, NamesrvError> {
    Ok(success(request).with_body(fastjson::to_vec(list, JsonStyle::Fastjson)?))
}
