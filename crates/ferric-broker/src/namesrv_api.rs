//! Broker → NameServer calls: REGISTER_BROKER (all topics) and UNREGISTER_BROKER.

use std::time::Duration;

use ferric_common::crc32_masked;
use ferric_protocol::body::{RegisterBrokerBody, TopicConfigSerializeWrapper};
use ferric_protocol::header::{BrokerIdentityRequestHeader, RegisterBrokerRequestHeader};
use ferric_protocol::{RemotingCommand, RequestCode, ResponseCode};
use ferric_remoting::{ClientConfig, RemotingClient};

use crate::config::BrokerConfig;
use crate::error::BrokerError;

/// Who the broker is, as the NameServer sees it.
#[derive(Debug, Clone)]
pub struct BrokerIdentity {
    /// `brokerClusterName`.
    pub cluster_name: String,
    /// `brokerName`.
    pub broker_name: String,
    /// `brokerId`.
    pub broker_id: i64,
    /// `brokerIP1:listenPort`.
    pub broker_addr: String,
    /// `brokerIP2:haListenPort`.
    pub ha_server_addr: String,
}

/// The NameServer client of the broker.
#[derive(Debug)]
pub struct NamesrvApi {
    client: RemotingClient,
    addrs: Vec<String>,
    identity: BrokerIdentity,
    timeout: Duration,
}

impl NamesrvApi {
    /// A client for every NameServer of `config`.
    pub fn new(config: &BrokerConfig) -> Self {
        Self {
            client: RemotingClient::new(ClientConfig::default()),
            addrs: config.namesrv_addrs(),
            identity: BrokerIdentity {
                cluster_name: config.broker_cluster_name.clone(),
                broker_name: config.broker_name.clone(),
                broker_id: config.broker_id,
                broker_addr: config.broker_addr(),
                ha_server_addr: config.ha_server_addr(),
            },
            timeout: Duration::from_millis(
                u64::try_from(config.register_broker_timeout_mills).unwrap_or(6000),
            ),
        }
    }

    /// The NameServer addresses.
    pub fn addrs(&self) -> &[String] {
        &self.addrs
    }

    /// Registers `topics` with every NameServer; oneway when `oneway`. Failures are logged per
    /// NameServer; returns how many accepted (oneway: how many were sent).
    pub async fn register_all(&self, topics: TopicConfigSerializeWrapper, oneway: bool) -> usize {
        let body = RegisterBrokerBody {
            topic_config_serialize_wrapper: topics,
            filter_server_list: Vec::new(),
        };
        let body = match body.to_json() {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(%error, "register body could not be encoded");
                return 0;
            }
        };
        let header = RegisterBrokerRequestHeader {
            broker_name: self.identity.broker_name.clone(),
            broker_addr: self.identity.broker_addr.clone(),
            cluster_name: self.identity.cluster_name.clone(),
            ha_server_addr: self.identity.ha_server_addr.clone(),
            broker_id: self.identity.broker_id,
            compressed: Some(false),
            body_crc32: Some(crc32_masked(&body)),
            ..RegisterBrokerRequestHeader::default()
        };
        let request = RemotingCommand::request(RequestCode::REGISTER_BROKER.0)
            .with_header(&header)
            .with_body(body);
        let calls = self.addrs.iter().map(|addr| {
            let request = request.clone();
            async move {
                let outcome = if oneway {
                    self.client.invoke_oneway(addr, request).await.map(|()| None)
                } else {
                    self.client
                        .invoke(addr, request, self.timeout)
                        .await
                        .map(Some)
                };
                match outcome {
                    Ok(None) => true,
                    Ok(Some(response)) if response.code == ResponseCode::SUCCESS.0 => {
                        tracing::debug!(namesrv = %addr, "broker registered");
                        true
                    }
                    Ok(Some(response)) => {
                        tracing::warn!(namesrv = %addr, code = response.code, remark = ?response.remark, "register broker refused");
                        false
                    }
                    Err(error) => {
                        tracing::warn!(namesrv = %addr, %error, "register broker failed");
                        false
                    }
                }
            }
        });
        futures::future::join_all(calls)
            .await
            .into_iter()
            .filter(|ok| *ok)
            .count()
    }

    /// Sends UNREGISTER_BROKER to every NameServer (clean shutdown).
    pub async fn unregister_all(&self) -> Result<(), BrokerError> {
        let header = BrokerIdentityRequestHeader {
            broker_name: self.identity.broker_name.clone(),
            broker_addr: self.identity.broker_addr.clone(),
            cluster_name: self.identity.cluster_name.clone(),
            broker_id: self.identity.broker_id,
        };
        for addr in &self.addrs {
            let request =
                RemotingCommand::request(RequestCode::UNREGISTER_BROKER.0).with_header(&header);
            match self.client.invoke(addr, request, self.timeout).await {
                Ok(response) => {
                    tracing::info!(namesrv = %addr, code = response.code, "broker unregistered")
                }
                Err(error) => tracing::warn!(namesrv = %addr, %error, "unregister broker failed"),
            }
        }
        Ok(())
    }

    /// Closes the NameServer connections.
    pub async fn shutdown(&self) {
        self.client.shutdown().await;
    }
}
