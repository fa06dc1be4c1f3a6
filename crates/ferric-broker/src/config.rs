//! [`BrokerConfig`]: RocketMQ's broker, store and server keys (camelCase, as in `broker.conf`)
//! with RocketMQ's defaults.
//!
//! Sources of values, lowest precedence first: defaults, the `-c` properties file, trailing
//! `key=value` command-line overrides, then explicit options (`-n`). `namesrvAddr` falls back to
//! `$NAMESRV_ADDR` when nothing else set it. Unknown keys are returned so the caller can warn;
//! a malformed value is an error naming the key and the value.

use std::net::{Ipv4Addr, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use ferric_common::config_file::{ConfigFileError, ConfigStruct, ConfigValue, parse_value};
use ferric_store::{FlushDiskType, MessageStoreConfig};

use crate::error::BrokerError;

/// Replication role of the broker (`brokerRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerRole {
    /// Asynchronous master (default).
    AsyncMaster,
    /// Synchronous master.
    SyncMaster,
    /// Slave.
    Slave,
}

impl BrokerRole {
    /// The Java enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AsyncMaster => "ASYNC_MASTER",
            Self::SyncMaster => "SYNC_MASTER",
            Self::Slave => "SLAVE",
        }
    }
}

impl ConfigValue for BrokerRole {
    const EXPECTED: &'static str = "ASYNC_MASTER, SYNC_MASTER or SLAVE";
    fn parse_config(text: &str) -> Option<Self> {
        match text {
            "ASYNC_MASTER" => Some(Self::AsyncMaster),
            "SYNC_MASTER" => Some(Self::SyncMaster),
            "SLAVE" => Some(Self::Slave),
            _ => None,
        }
    }
    fn render_config(&self) -> String {
        self.as_str().to_owned()
    }
}

/// `flushDiskType` as a config value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushType(pub FlushDiskType);

impl ConfigValue for FlushType {
    const EXPECTED: &'static str = "SYNC_FLUSH or ASYNC_FLUSH";
    fn parse_config(text: &str) -> Option<Self> {
        match text {
            "SYNC_FLUSH" => Some(Self(FlushDiskType::SyncFlush)),
            "ASYNC_FLUSH" => Some(Self(FlushDiskType::AsyncFlush)),
            _ => None,
        }
    }
    fn render_config(&self) -> String {
        match self.0 {
            FlushDiskType::SyncFlush => "SYNC_FLUSH".to_owned(),
            FlushDiskType::AsyncFlush => "ASYNC_FLUSH".to_owned(),
        }
    }
}

macro_rules! broker_config {
    ($( $(#[$meta:meta])* $field:ident : $ty:ty = $default:expr => $key:literal $(, $important:ident)? ;)*) => {
        /// Broker configuration (BrokerConfig + MessageStoreConfig + NettyServerConfig keys).
        #[derive(Debug, Clone, PartialEq)]
        pub struct BrokerConfig {
            $( $(#[$meta])* #[doc = concat!("`", $key, "`")] pub $field: $ty, )*
        }

        impl Default for BrokerConfig {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl ConfigStruct for BrokerConfig {
            fn set_config(&mut self, key: &str, value: &str) -> Result<bool, ConfigFileError> {
                match key {
                    $( $key => { self.$field = parse_value::<$ty>(key, value)?; Ok(true) } )*
                    _ => Ok(false),
                }
            }

            fn config_items(&self) -> Vec<(&'static str, String)> {
                vec![ $( ($key, ConfigValue::render_config(&self.$field)), )* ]
            }
        }

        impl BrokerConfig {
            /// Keys printed by `mqbroker -m` (RocketMQ's `@ImportantField`s).
            pub const IMPORTANT_KEYS: &'static [&'static str] = &[ $( broker_config!(@important $key $($important)?) ),* ];
        }
    };
    (@important $key:literal important) => { $key };
    (@important $key:literal) => { "" };
}

broker_config! {
    rocketmq_home: String = std::env::var("ROCKETMQ_HOME").unwrap_or_default() => "rocketmqHome", important;
    namesrv_addr: String = String::new() => "namesrvAddr", important;
    broker_ip1: String = default_ip() => "brokerIP1", important;
    broker_ip2: String = default_ip() => "brokerIP2";
    broker_name: String = default_broker_name() => "brokerName", important;
    broker_cluster_name: String = "DefaultCluster".to_owned() => "brokerClusterName", important;
    broker_id: i64 = 0 => "brokerId", important;
    broker_permission: i32 = 6 => "brokerPermission";
    default_topic_queue_nums: i32 = 8 => "defaultTopicQueueNums";
    auto_create_topic_enable: bool = true => "autoCreateTopicEnable", important;
    cluster_topic_enable: bool = true => "clusterTopicEnable", important;
    broker_topic_enable: bool = true => "brokerTopicEnable", important;
    auto_create_subscription_group: bool = true => "autoCreateSubscriptionGroup", important;
    trace_topic_enable: bool = false => "traceTopicEnable", important;
    msg_trace_topic_name: String = "RMQ_SYS_TRACE_TOPIC".to_owned() => "msgTraceTopicName", important;
    trace_on: bool = true => "traceOn";
    region_id: String = "DefaultRegion".to_owned() => "regionId";
    enable_property_filter: bool = false => "enablePropertyFilter";
    long_polling_enable: bool = true => "longPollingEnable";
    short_polling_time_mills: i64 = 1000 => "shortPollingTimeMills";
    register_name_server_period: i64 = 30_000 => "registerNameServerPeriod";
    register_broker_timeout_mills: i64 = 6000 => "registerBrokerTimeoutMills";
    force_register: bool = true => "forceRegister";
    notify_consumer_ids_changed_enable: bool = true => "notifyConsumerIdsChangedEnable";
    channel_expired_timeout: i64 = 120_000 => "channelExpiredTimeout";
    flush_consumer_offset_interval: i64 = 5000 => "flushConsumerOffsetInterval";
    reject_transaction_message: bool = false => "rejectTransactionMessage";
    store_reply_message_enable: bool = true => "storeReplyMessageEnable";
    slave_read_enable: bool = false => "slaveReadEnable";
    transaction_time_out: i64 = 6000 => "transactionTimeOut";
    transaction_check_max: i32 = 15 => "transactionCheckMax";
    transaction_check_interval: i64 = 60_000 => "transactionCheckInterval";
    listen_port: u16 = 10911 => "listenPort", important;
    /// 0 means `listenPort + 1`.
    ha_listen_port: u16 = 0 => "haListenPort";
    server_channel_max_idle_time_seconds: u64 = 120 => "serverChannelMaxIdleTimeSeconds";
    store_path_root_dir: String = default_store_root() => "storePathRootDir", important;
    /// Empty means `<storePathRootDir>/commitlog`.
    store_path_commit_log: String = String::new() => "storePathCommitLog", important;
    broker_role: BrokerRole = BrokerRole::AsyncMaster => "brokerRole", important;
    flush_disk_type: FlushType = FlushType(FlushDiskType::AsyncFlush) => "flushDiskType", important;
    mapped_file_size_commit_log: usize = 1024 * 1024 * 1024 => "mappedFileSizeCommitLog";
    mapped_file_size_consume_queue: usize = 300_000 * 20 => "mappedFileSizeConsumeQueue";
    max_message_size: usize = 4 * 1024 * 1024 => "maxMessageSize";
    file_reserved_time: u64 = 72 => "fileReservedTime";
    delete_when: String = "04".to_owned() => "deleteWhen";
    disk_max_used_space_ratio: u32 = 75 => "diskMaxUsedSpaceRatio";
    disk_space_warning_level_ratio: u32 = 90 => "diskSpaceWarningLevelRatio";
    disk_space_clean_forcibly_ratio: u32 = 85 => "diskSpaceCleanForciblyRatio";
    clean_file_forcibly_enable: bool = true => "cleanFileForciblyEnable";
    flush_interval_commit_log: u64 = 500 => "flushIntervalCommitLog";
    flush_commit_log_least_pages: usize = 4 => "flushCommitLogLeastPages";
    flush_commit_log_thorough_interval: u64 = 10_000 => "flushCommitLogThoroughInterval";
    sync_flush_timeout: u64 = 5000 => "syncFlushTimeout";
    max_hash_slot_num: usize = 5_000_000 => "maxHashSlotNum";
    max_index_num: usize = 20_000_000 => "maxIndexNum";
    message_index_enable: bool = true => "messageIndexEnable";
    message_delay_level: String = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h".to_owned() => "messageDelayLevel";
    flush_delay_offset_interval: u64 = 10_000 => "flushDelayOffsetInterval";
    timer_max_delay_sec: i64 = 259_200 => "timerMaxDelaySec";
    max_transfer_bytes_on_message_in_memory: usize = 262_144 => "maxTransferBytesOnMessageInMemory";
    max_transfer_count_on_message_in_memory: usize = 32 => "maxTransferCountOnMessageInMemory";
    default_query_max_num: usize = 32 => "defaultQueryMaxNum";
    check_crc_on_recover: bool = true => "checkCRCOnRecover";
}

/// Remark of an invalid NameServer list (RocketMQ's wording).
pub fn illegal_namesrv_message(addr: &str) -> String {
    format!(
        "The Name Server Address[{addr}] illegal, please set it as follows, \"127.0.0.1:9876;192.168.0.1:9876\""
    )
}

impl BrokerConfig {
    /// Applies `(key, value)` pairs in order; returns the unknown keys (warn about each).
    pub fn apply(&mut self, pairs: &[(String, String)]) -> Result<Vec<String>, BrokerError> {
        ferric_common::config_file::apply_pairs(self, pairs).map_err(BrokerError::Config)
    }

    /// Checks cross-key rules and fills derived values: masters get brokerId 0, a slave needs
    /// brokerId > 0, the NameServer list must be `host:port[;host:port]*`.
    pub fn finish(&mut self) -> Result<(), BrokerError> {
        match self.broker_role {
            BrokerRole::AsyncMaster | BrokerRole::SyncMaster => self.broker_id = 0,
            BrokerRole::Slave if self.broker_id <= 0 => {
                return Err(BrokerError::InvalidConfig(
                    "Slave's brokerId must be > 0".to_owned(),
                ));
            }
            BrokerRole::Slave => {}
        }
        if self.ha_listen_port == 0 {
            self.ha_listen_port = self.listen_port.saturating_add(1);
        }
        if self.broker_ip2.is_empty() {
            self.broker_ip2 = self.broker_ip1.clone();
        }
        validate_namesrv_addr(&self.namesrv_addr)?;
        Ok(())
    }

    /// The NameServer addresses (empty when none is configured).
    pub fn namesrv_addrs(&self) -> Vec<String> {
        self.namesrv_addr
            .split(';')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `brokerIP1:listenPort`, the address clients and the NameServer see.
    pub fn broker_addr(&self) -> String {
        format!("{}:{}", self.broker_ip1, self.listen_port)
    }

    /// `brokerIP2:haListenPort`.
    pub fn ha_server_addr(&self) -> String {
        let port = if self.ha_listen_port == 0 {
            self.listen_port.saturating_add(1)
        } else {
            self.ha_listen_port
        };
        format!("{}:{}", self.broker_ip2, port)
    }

    /// The store part of the configuration.
    pub fn message_store_config(&self) -> MessageStoreConfig {
        MessageStoreConfig {
            store_path_root_dir: PathBuf::from(&self.store_path_root_dir),
            store_path_commit_log: (!self.store_path_commit_log.is_empty())
                .then(|| PathBuf::from(&self.store_path_commit_log)),
            mapped_file_size_commit_log: self.mapped_file_size_commit_log,
            mapped_file_size_consume_queue: self.mapped_file_size_consume_queue,
            max_hash_slot_num: self.max_hash_slot_num,
            max_index_num: self.max_index_num,
            message_index_enable: self.message_index_enable,
            flush_disk_type: self.flush_disk_type.0,
            sync_flush_timeout: Duration::from_millis(self.sync_flush_timeout),
            flush_interval_commit_log: Duration::from_millis(self.flush_interval_commit_log),
            flush_commit_log_least_pages: self.flush_commit_log_least_pages,
            flush_commit_log_thorough_interval: Duration::from_millis(
                self.flush_commit_log_thorough_interval,
            ),
            file_reserved_time_hours: self.file_reserved_time,
            delete_when: self.delete_when.clone(),
            disk_max_used_space_ratio: self.disk_max_used_space_ratio,
            disk_space_warning_level_ratio: self.disk_space_warning_level_ratio,
            disk_space_clean_forcibly_ratio: self.disk_space_clean_forcibly_ratio,
            max_message_size: self.max_message_size,
            check_crc_on_recover: self.check_crc_on_recover,
            message_delay_level: self.message_delay_level.clone(),
            max_transfer_bytes_on_message_in_memory: self.max_transfer_bytes_on_message_in_memory,
            max_transfer_count_on_message_in_memory: self.max_transfer_count_on_message_in_memory,
            default_query_max_num: self.default_query_max_num,
            ..MessageStoreConfig::default()
        }
    }

    /// `<storePathRootDir>/config`.
    pub fn config_dir(&self) -> PathBuf {
        PathBuf::from(&self.store_path_root_dir).join("config")
    }

    /// Every key as `key=value` lines (the `-p` output and the GET_BROKER_CONFIG body).
    pub fn to_properties_text(&self, important_only: bool) -> String {
        let mut out = String::new();
        for (key, value) in self.config_items() {
            if important_only && !Self::IMPORTANT_KEYS.contains(&key) {
                continue;
            }
            out.push_str(key);
            out.push('=');
            out.push_str(&value);
            out.push('\n');
        }
        out
    }

    /// True when the broker permission allows writes.
    pub fn broker_writable(&self) -> bool {
        ferric_common::perm::is_writeable(self.broker_permission)
    }

    /// True when the broker permission allows reads.
    pub fn broker_readable(&self) -> bool {
        ferric_common::perm::is_readable(self.broker_permission)
    }
}

/// Checks a `;`-separated `host:port` list (empty is allowed: no NameServer).
pub fn validate_namesrv_addr(addr: &str) -> Result<(), BrokerError> {
    for part in addr.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let valid = part
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !valid {
            return Err(BrokerError::InvalidConfig(illegal_namesrv_message(addr)));
        }
    }
    Ok(())
}

/// The first non-loopback IPv4 address of this host (the source address of the default route),
/// else `127.0.0.1`. No packet is sent.
pub fn default_ip() -> String {
    let probe = || -> Option<Ipv4Addr> {
        let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
        socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
        match socket.local_addr().ok()?.ip() {
            std::net::IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
            _ => None,
        }
    };
    probe().unwrap_or(Ipv4Addr::LOCALHOST).to_string()
}

/// The host name (RocketMQ's `brokerName` default), `DEFAULT_BROKER` if unknown.
pub fn default_broker_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "DEFAULT_BROKER".to_owned())
}

/// `$HOME/store`.
pub fn default_store_root() -> String {
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".to_owned());
    PathBuf::from(home).join("store").display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_match_rocketmq() {
        let config = BrokerConfig::default();
        assert_eq!(config.listen_port, 10911);
        assert_eq!(config.broker_cluster_name, "DefaultCluster");
        assert_eq!(config.broker_id, 0);
        assert_eq!(config.broker_role, BrokerRole::AsyncMaster);
        assert_eq!(config.flush_disk_type, FlushType(FlushDiskType::AsyncFlush));
        assert_eq!(config.default_topic_queue_nums, 8);
        assert!(config.auto_create_topic_enable);
        assert!(config.auto_create_subscription_group);
        assert!(!config.enable_property_filter);
        assert!(config.long_polling_enable);
        assert_eq!(config.short_polling_time_mills, 1000);
        assert_eq!(config.register_name_server_period, 30_000);
        assert_eq!(config.max_message_size, 4_194_304);
        assert_eq!(config.region_id, "DefaultRegion");
        assert!(config.trace_on);
        assert_eq!(config.broker_permission, 6);
        assert!(config.store_path_root_dir.ends_with("store"));
        assert!(!config.broker_ip1.is_empty());
    }

    #[test]
    fn apply_reports_unknown_and_rejects_malformed() {
        let mut config = BrokerConfig::default();
        let unknown = config
            .apply(&pairs(&[("brokerName", "broker-a"), ("noSuchKey", "1")]))
            .unwrap();
        assert_eq!(unknown, vec!["noSuchKey".to_owned()]);
        assert_eq!(config.broker_name, "broker-a");
        let error = config
            .apply(&pairs(&[("listenPort", "ten")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("listenPort"), "{error}");
        assert!(error.contains("ten"), "{error}");
    }

    #[test]
    fn finish_validates_namesrv_and_derives_ports() {
        let mut config = BrokerConfig {
            listen_port: 20911,
            namesrv_addr: "127.0.0.1:9876;10.0.0.1:9876".to_owned(),
            ..BrokerConfig::default()
        };
        config.finish().unwrap();
        assert_eq!(config.ha_listen_port, 20912);
        assert_eq!(config.namesrv_addrs().len(), 2);
        config.namesrv_addr = "localhost".to_owned();
        let error = config.finish().unwrap_err().to_string();
        assert!(error.contains("The Name Server Address[localhost] illegal"));
        let mut slave = BrokerConfig {
            broker_role: BrokerRole::Slave,
            ..BrokerConfig::default()
        };
        assert!(slave.finish().is_err());
    }

    #[test]
    fn properties_text_lists_every_key_and_important_subset() {
        let config = BrokerConfig::default();
        let all = config.to_properties_text(false);
        assert!(all.contains("brokerClusterName=DefaultCluster\n"));
        assert!(all.contains("maxMessageSize=4194304\n"));
        let important = config.to_properties_text(true);
        assert!(important.contains("namesrvAddr="));
        assert!(!important.contains("maxMessageSize="));
    }
}
