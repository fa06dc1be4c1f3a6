//! Ferric NameServer: the route registry and broker liveness behind
//! `mqnamesrv`, wire-compatible with Apache RocketMQ's NameServer.
//!
//! What it does:
//! * [`RouteInfoManager`]: the route table as pure state (clusters, broker
//!   names and addresses by id, topic queue data per broker, broker liveness,
//!   filter servers) with RocketMQ's registration, unregistration, eviction and
//!   lookup rules;
//! * [`KvConfigManager`]: namespaced KV config persisted to `kvConfigPath` as
//!   `{"configTable":{namespace:{key:value}}}`;
//! * [`NamesrvProcessor`]: one handler per NameServer request code (KV config,
//!   REGISTER/UNREGISTER_BROKER incl. compressed bodies and the `bodyCrc32`
//!   check, routes, cluster info, topic lists, topic deletion, write perms,
//!   QUERY_DATA_VERSION); other codes get REQUEST_CODE_NOT_SUPPORTED from the
//!   transport;
//! * [`NameServer::start`]: serves on a bound listener, evicts brokers silent
//!   for `brokerChannelExpiredTime` (120 s) every `scanNotActiveBrokerInterval`
//!   (5 s) and at once when their connection closes;
//! * [`NamesrvConfig`]: RocketMQ's keys and defaults, read from a Java
//!   `.properties` file plus `key=value` overrides.
//!
//! What it does not do: no controller mode, no acting master, no static-topic
//! mappings, no TLS; logging is set up by the binary only.
//!
//! Body encodings: route data uses standard JSON (quoted `brokerAddrs` keys)
//! when the request version is ≥ 401 (V4_9_4) or `acceptStandardJsonOnly` is
//! true, fastjson's unquoted numeric keys otherwise; every other body
//! (ClusterInfo, TopicList, KVTable, DataVersion) is always the fastjson
//! default form.
#![deny(unsafe_code)]

pub mod config;
pub mod error;
pub mod kv;
pub mod processor;
pub mod route;
pub mod server;
pub mod state;

pub use config::{LoadedConfig, NamesrvConfig, NamesrvConfigError};
pub use error::NamesrvError;
pub use kv::{KvConfigManager, NAMESPACE_ORDER_TOPIC_CONFIG};
pub use processor::NamesrvProcessor;
pub use route::{BrokerRegistration, RegisterBrokerResult, RouteInfoManager};
pub use server::{NameServer, NameServerHandle};
pub use state::{Clock, NamesrvState, system_clock};
