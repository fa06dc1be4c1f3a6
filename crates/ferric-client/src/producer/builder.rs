//! [`ProducerOptions`] (RocketMQ's producer defaults) and the [`ProducerBuilder`] that starts a
//! [`Producer`].

use std::sync::Arc;
use std::time::Duration;

use ferric_common::topic::has_only_valid_name_chars;

use super::fault::LatencyFaultTolerance;
use super::{Producer, ProducerInner};
use crate::config::{ClientConfig, option_setter};
use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;

/// Producer settings with RocketMQ's defaults.
#[derive(Debug, Clone)]
pub struct ProducerOptions {
    /// Producer group (`DEFAULT_PRODUCER`).
    pub group: String,
    /// Sync send timeout, retries included (3 s).
    pub send_msg_timeout: Duration,
    /// Extra attempts of a sync send (2).
    pub retry_times_when_send_failed: u32,
    /// Retry on another broker when the status is not SEND_OK (false).
    pub retry_another_broker_when_not_store_ok: bool,
    /// Bodies at least this large are zlib-compressed (4096).
    pub compress_msg_body_over_howmuch: usize,
    /// Largest body accepted (4 MiB).
    pub max_message_size: usize,
    /// Queue count asked for auto-created topics (4).
    pub default_topic_queue_nums: i32,
    /// Avoid slow or failing brokers for a while (false).
    pub send_latency_fault_enable: bool,
}

impl Default for ProducerOptions {
    fn default() -> Self {
        Self {
            group: ferric_common::topic::names::DEFAULT_PRODUCER_GROUP.to_owned(),
            send_msg_timeout: Duration::from_secs(3),
            retry_times_when_send_failed: 2,
            retry_another_broker_when_not_store_ok: false,
            compress_msg_body_over_howmuch: 4096,
            max_message_size: 4 * 1024 * 1024,
            default_topic_queue_nums: 4,
            send_latency_fault_enable: false,
        }
    }
}

/// Builds a [`Producer`].
#[derive(Debug, Clone, Default)]
pub struct ProducerBuilder {
    client: ClientConfig,
    options: ProducerOptions,
}

impl ProducerBuilder {
    /// `;`-separated NameServer addresses.
    pub fn namesrv_addr(mut self, addrs: &str) -> Self {
        self.client.namesrv_addrs = crate::config::parse_namesrv_addrs(addrs);
        self
    }

    /// Producer group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.options.group = group.into();
        self
    }

    /// Instance name (producers/consumers with the same one share a client instance).
    pub fn instance_name(mut self, name: impl Into<String>) -> Self {
        self.client.instance_name = Some(name.into());
        self
    }

    /// Replaces the whole client configuration.
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.client = config;
        self
    }

    option_setter!(/// Sync send timeout.
        send_msg_timeout: Duration);
    option_setter!(/// Extra attempts of a sync send.
        retry_times_when_send_failed: u32);
    option_setter!(/// Retry on another broker when the status is not SEND_OK.
        retry_another_broker_when_not_store_ok: bool);
    option_setter!(/// Compression threshold in bytes.
        compress_msg_body_over_howmuch: usize);
    option_setter!(/// Largest body accepted.
        max_message_size: usize);
    option_setter!(/// Queue count for auto-created topics.
        default_topic_queue_nums: i32);
    option_setter!(/// Latency-based fault avoidance.
        send_latency_fault_enable: bool);

    /// Starts the producer: acquires the client instance and registers the group.
    pub async fn build(self) -> Result<Producer> {
        if !has_only_valid_name_chars(&self.options.group) || self.options.group.is_empty() {
            return Err(ClientError::Config(format!(
                "invalid producer group {:?}",
                self.options.group
            )));
        }
        let instance = ClientInstance::acquire(&self.client).await?;
        instance.register_producer(&self.options.group);
        Ok(Producer {
            inner: Arc::new(ProducerInner {
                instance,
                options: self.options,
                faults: LatencyFaultTolerance::default(),
                closed: tokio_util::sync::CancellationToken::new(),
            }),
        })
    }
}
