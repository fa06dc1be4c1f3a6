//! Settings shared by every producer, consumer and admin object: NameServer addresses, client
//! identity, timeouts and background intervals (RocketMQ's `ClientConfig` defaults).

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ferric_protocol::LanguageCode;

use crate::error::{ClientError, Result};

/// Environment variable read when no NameServer address is configured.
pub const NAMESRV_ADDR_ENV: &str = "NAMESRV_ADDR";

/// Settings of a [`crate::ClientInstance`].
///
/// ```
/// use ferric_client::ClientConfig;
/// let config = ClientConfig::new("127.0.0.1:9876;127.0.0.2:9876");
/// assert_eq!(config.namesrv_addrs.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// NameServer `ip:port` list; empty means "read `NAMESRV_ADDR`".
    pub namesrv_addrs: Vec<String>,
    /// Instance name; `None` generates `pid#nanos#random`, unique per client object.
    pub instance_name: Option<String>,
    /// Optional unit name appended to the client id.
    pub unit_name: Option<String>,
    /// Client IP used in the client id and message ids; detected when `None`.
    pub client_ip: Option<IpAddr>,
    /// Route refresh period (`pollNameServerInterval`, 30 s).
    pub poll_name_server_interval: Duration,
    /// Heartbeat period (`heartbeatBrokerInterval`, 30 s).
    pub heartbeat_broker_interval: Duration,
    /// Consumer offset persist period (`persistConsumerOffsetInterval`, 5 s).
    pub persist_consumer_offset_interval: Duration,
    /// Timeout of NameServer and admin-style calls (3 s).
    pub mq_client_api_timeout: Duration,
    /// Language code sent in every request (`RUST`).
    pub language: LanguageCode,
    /// Transport settings.
    pub remoting: ferric_remoting::ClientConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            namesrv_addrs: Vec::new(),
            instance_name: None,
            unit_name: None,
            client_ip: None,
            poll_name_server_interval: Duration::from_secs(30),
            heartbeat_broker_interval: Duration::from_secs(30),
            persist_consumer_offset_interval: Duration::from_secs(5),
            mq_client_api_timeout: Duration::from_secs(3),
            language: LanguageCode::Rust,
            remoting: ferric_remoting::ClientConfig::default(),
        }
    }
}

impl ClientConfig {
    /// Defaults with the given `;`-separated NameServer list.
    pub fn new(namesrv_addr: &str) -> Self {
        Self {
            namesrv_addrs: parse_namesrv_addrs(namesrv_addr),
            ..Self::default()
        }
    }

    /// The NameServer list, falling back to `NAMESRV_ADDR`.
    pub fn resolved_namesrv_addrs(&self) -> Result<Vec<String>> {
        if !self.namesrv_addrs.is_empty() {
            return Ok(self.namesrv_addrs.clone());
        }
        let from_env = std::env::var(NAMESRV_ADDR_ENV).unwrap_or_default();
        let addrs = parse_namesrv_addrs(&from_env);
        if addrs.is_empty() {
            return Err(ClientError::NoNameServer);
        }
        Ok(addrs)
    }

    /// The client IP: configured, else detected from the route to the first NameServer.
    pub fn resolved_client_ip(&self, namesrv_addrs: &[String]) -> IpAddr {
        if let Some(ip) = self.client_ip {
            return ip;
        }
        namesrv_addrs
            .first()
            .and_then(|addr| local_ip_towards(addr))
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
}

/// Splits a `;`-separated NameServer list, trimming blanks.
pub fn parse_namesrv_addrs(list: &str) -> Vec<String> {
    list.split(';')
        .map(str::trim)
        .filter(|addr| !addr.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The local address the OS would use to reach `addr` (no packet is sent).
fn local_ip_towards(addr: &str) -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect(addr).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

/// A fresh instance name: `pid#unix-nanos#random`. The random part keeps ids apart across
/// containers where pids and clocks can coincide.
pub fn generate_instance_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let random: u32 = rand::random();
    format!("{}#{nanos}#{random:08x}", std::process::id())
}

/// Builds the client id `ip@instance[@unit]`.
pub fn build_client_id(ip: IpAddr, instance_name: &str, unit_name: Option<&str>) -> String {
    match unit_name {
        Some(unit) if !unit.is_empty() => format!("{ip}@{instance_name}@{unit}"),
        _ => format!("{ip}@{instance_name}"),
    }
}

/// A builder setter: `pub fn $name(mut self, value: $ty) -> Self` that stores `value` in
/// `self.options.$name`. Shared by the producer and consumer builders.
macro_rules! option_setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.options.$name = value;
            self
        }
    };
}
pub(crate) use option_setter;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn namesrv_list_parsing() {
        assert_eq!(
            parse_namesrv_addrs(" a:1 ; b:2;;"),
            vec!["a:1".to_owned(), "b:2".to_owned()]
        );
        assert!(parse_namesrv_addrs("").is_empty());
    }

    #[test]
    fn client_ids_are_unique() {
        let ip: IpAddr = "10.0.0.5"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let ids: HashSet<String> = (0..2000)
            .map(|_| build_client_id(ip, &generate_instance_name(), None))
            .collect();
        assert_eq!(ids.len(), 2000);
        let one = ids.iter().next().cloned().unwrap_or_default();
        assert!(one.starts_with("10.0.0.5@"));
        assert_eq!(build_client_id(ip, "x", Some("u")), "10.0.0.5@x@u");
    }

    #[test]
    fn explicit_ip_wins() {
        let config = ClientConfig {
            client_ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2))),
            ..ClientConfig::default()
        };
        assert_eq!(
            config.resolved_client_ip(&["127.0.0.1:9876".to_owned()]),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2))
        );
    }
}
