//! [`NamesrvConfig`]: RocketMQ's NameServer keys (`NamesrvConfig` and the
//! NameServer's `NettyServerConfig`) with their defaults, read from a Java
//! `.properties` file and `key=value` overrides.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferric_common::config_file::{
    ConfigFileError, ConfigStruct, ConfigValue, apply_pairs, parse_override, parse_properties,
    parse_value,
};

/// Default NameServer port.
pub const DEFAULT_LISTEN_PORT: u16 = 9876;
/// A broker not heard from for this long is evicted (`BROKER_CHANNEL_EXPIRED_TIME`).
pub const DEFAULT_BROKER_CHANNEL_EXPIRED_TIME_MS: u64 = 120_000;

/// NameServer settings with RocketMQ's camelCase keys.
#[derive(Debug, Clone, PartialEq)]
pub struct NamesrvConfig {
    /// `rocketmqHome`: `$ROCKETMQ_HOME` when set.
    pub rocketmq_home: String,
    /// `kvConfigPath`: where KV config is persisted (`~/namesrv/kvConfig.json`).
    pub kv_config_path: String,
    /// `configStorePath`: the NameServer's own properties file.
    pub config_store_path: String,
    /// `productEnvName`.
    pub product_env_name: String,
    /// `clusterTest`.
    pub cluster_test: bool,
    /// `orderMessageEnable`: fill `orderTopicConf` in routes from KV namespace
    /// `ORDER_TOPIC_CONFIG`.
    pub order_message_enable: bool,
    /// `returnOrderTopicConfigToBroker`: REGISTER_BROKER responses carry the
    /// `ORDER_TOPIC_CONFIG` KV table.
    pub return_order_topic_config_to_broker: bool,
    /// `scanNotActiveBrokerInterval` in ms.
    pub scan_not_active_broker_interval: u64,
    /// `brokerChannelExpiredTime` in ms (Ferric key; a constant in Java).
    pub broker_channel_expired_time: u64,
    /// `enableAllTopicList`: answer GET_ALL_TOPIC_LIST_FROM_NAMESERVER.
    pub enable_all_topic_list: bool,
    /// `enableTopicList`: answer the per-cluster / unit topic lists.
    pub enable_topic_list: bool,
    /// `supportActingMaster` (accepted, not used).
    pub support_acting_master: bool,
    /// `deleteTopicWithBrokerRegistration` (accepted, not used).
    pub delete_topic_with_broker_registration: bool,
    /// `needWaitForService` (accepted, not used).
    pub need_wait_for_service: bool,
    /// `waitSecondsForService` (accepted, not used).
    pub wait_seconds_for_service: i32,
    /// `clientRequestThreadPoolNums` (accepted, not used).
    pub client_request_thread_pool_nums: i32,
    /// `defaultThreadPoolNums` (accepted, not used).
    pub default_thread_pool_nums: i32,
    /// `listenPort`.
    pub listen_port: u16,
    /// `bindAddress`.
    pub bind_address: String,
    /// `serverWorkerThreads` (accepted, not used).
    pub server_worker_threads: i32,
    /// `serverSelectorThreads` (accepted, not used).
    pub server_selector_threads: i32,
    /// `serverOnewaySemaphoreValue` (accepted, not used).
    pub server_oneway_semaphore_value: i32,
    /// `serverAsyncSemaphoreValue` (accepted, not used).
    pub server_async_semaphore_value: i32,
    /// `serverChannelMaxIdleTimeSeconds`: idle connections are closed (0 = never).
    pub server_channel_max_idle_time_seconds: u64,
}

fn home_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

impl Default for NamesrvConfig {
    fn default() -> Self {
        let home = home_dir();
        let namesrv_dir = home.join("namesrv");
        Self {
            rocketmq_home: std::env::var("ROCKETMQ_HOME").unwrap_or_default(),
            kv_config_path: namesrv_dir.join("kvConfig.json").display().to_string(),
            config_store_path: namesrv_dir.join("namesrv.properties").display().to_string(),
            product_env_name: "center".to_string(),
            cluster_test: false,
            order_message_enable: false,
            return_order_topic_config_to_broker: true,
            scan_not_active_broker_interval: 5_000,
            broker_channel_expired_time: DEFAULT_BROKER_CHANNEL_EXPIRED_TIME_MS,
            enable_all_topic_list: true,
            enable_topic_list: true,
            support_acting_master: false,
            delete_topic_with_broker_registration: false,
            need_wait_for_service: false,
            wait_seconds_for_service: 45,
            client_request_thread_pool_nums: 8,
            default_thread_pool_nums: 16,
            listen_port: DEFAULT_LISTEN_PORT,
            bind_address: "0.0.0.0".to_string(),
            server_worker_threads: 8,
            server_selector_threads: 3,
            server_oneway_semaphore_value: 256,
            server_async_semaphore_value: 64,
            server_channel_max_idle_time_seconds: 120,
        }
    }
}

/// Declares the key table once: `set_config` and `config_items` both come from
/// it, so `-p` prints exactly the keys that are accepted.
macro_rules! namesrv_keys {
    ($($key:literal => $field:ident),* $(,)?) => {
        impl ConfigStruct for NamesrvConfig {
            fn set_config(&mut self, key: &str, value: &str) -> Result<bool, ConfigFileError> {
                match key {
                    $($key => self.$field = parse_value(key, value)?,)*
                    _ => return Ok(false),
                }
                Ok(true)
            }

            fn config_items(&self) -> Vec<(&'static str, String)> {
                vec![$(($key, self.$field.render_config())),*]
            }
        }
    };
}

namesrv_keys! {
    "rocketmqHome" => rocketmq_home,
    "kvConfigPath" => kv_config_path,
    "configStorePath" => config_store_path,
    "productEnvName" => product_env_name,
    "clusterTest" => cluster_test,
    "orderMessageEnable" => order_message_enable,
    "returnOrderTopicConfigToBroker" => return_order_topic_config_to_broker,
    "scanNotActiveBrokerInterval" => scan_not_active_broker_interval,
    "brokerChannelExpiredTime" => broker_channel_expired_time,
    "enableAllTopicList" => enable_all_topic_list,
    "enableTopicList" => enable_topic_list,
    "supportActingMaster" => support_acting_master,
    "deleteTopicWithBrokerRegistration" => delete_topic_with_broker_registration,
    "needWaitForService" => need_wait_for_service,
    "waitSecondsForService" => wait_seconds_for_service,
    "clientRequestThreadPoolNums" => client_request_thread_pool_nums,
    "defaultThreadPoolNums" => default_thread_pool_nums,
    "listenPort" => listen_port,
    "bindAddress" => bind_address,
    "serverWorkerThreads" => server_worker_threads,
    "serverSelectorThreads" => server_selector_threads,
    "serverOnewaySemaphoreValue" => server_oneway_semaphore_value,
    "serverAsyncSemaphoreValue" => server_async_semaphore_value,
    "serverChannelMaxIdleTimeSeconds" => server_channel_max_idle_time_seconds,
}

/// Why a configuration could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum NamesrvConfigError {
    /// The `-c` file could not be read.
    #[error("cannot read config file {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A malformed file line, override or value.
    #[error(transparent)]
    Invalid(#[from] ConfigFileError),
}

/// The outcome of [`NamesrvConfig::load`].
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The configuration.
    pub config: NamesrvConfig,
    /// Keys that were given but are not NameServer keys (warn about each).
    pub unknown_keys: Vec<String>,
}

impl NamesrvConfig {
    /// Builds a configuration from defaults, then the properties file (when
    /// given; it also becomes `configStorePath` like in Java), then the
    /// `key=value` overrides.
    pub fn load(
        config_file: Option<&Path>,
        overrides: &[String],
    ) -> Result<LoadedConfig, NamesrvConfigError> {
        let mut config = NamesrvConfig::default();
        let mut pairs = Vec::new();
        if let Some(path) = config_file {
            let text = std::fs::read_to_string(path).map_err(|error| NamesrvConfigError::Read {
                path: path.to_path_buf(),
                error,
            })?;
            pairs = parse_properties(&text)?;
            config.config_store_path = path.display().to_string();
        }
        for arg in overrides {
            pairs.push(parse_override(arg)?);
        }
        let unknown_keys = apply_pairs(&mut config, &pairs)?;
        Ok(LoadedConfig {
            config,
            unknown_keys,
        })
    }

    /// Every key as `key=value`, one per line (what `mqnamesrv -p` prints).
    pub fn render_items(&self) -> String {
        let mut out = String::new();
        for (key, value) in self.config_items() {
            out.push_str(key);
            out.push('=');
            out.push_str(&value);
            out.push('\n');
        }
        out
    }

    /// `scanNotActiveBrokerInterval` as a duration (at least 1 ms).
    pub fn scan_interval(&self) -> Duration {
        Duration::from_millis(self.scan_not_active_broker_interval.max(1))
    }

    /// The `bindAddress:listenPort` to listen on.
    pub fn listen_addr(&self) -> String {
        format!("{}:{}", self.bind_address, self.listen_port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_rocketmq() {
        let config = NamesrvConfig::default();
        assert_eq!(config.listen_port, 9876);
        assert!(!config.order_message_enable);
        assert!(config.enable_all_topic_list);
        assert_eq!(config.scan_not_active_broker_interval, 5000);
        assert!(config.kv_config_path.ends_with("namesrv/kvConfig.json"));
        let printed = config.render_items();
        assert!(printed.contains("listenPort=9876\n"), "{printed}");
        assert!(printed.contains("orderMessageEnable=false\n"), "{printed}");
    }

    #[test]
    fn file_then_overrides_and_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("namesrv.conf");
        std::fs::write(
            &path,
            "# comment\nlistenPort = 9999\norderMessageEnable=true\nnoSuchKey=1\n",
        )
        .unwrap();
        let loaded = NamesrvConfig::load(Some(&path), &["listenPort=9877".to_string()]).unwrap();
        assert_eq!(loaded.config.listen_port, 9877);
        assert!(loaded.config.order_message_enable);
        assert_eq!(loaded.unknown_keys, vec!["noSuchKey".to_string()]);
        assert_eq!(loaded.config.config_store_path, path.display().to_string());
    }

    #[test]
    fn malformed_value_names_key_and_value() {
        let err = NamesrvConfig::load(None, &["listenPort=abc".to_string()]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("listenPort") && text.contains("abc"),
            "{text}"
        );
    }
}
