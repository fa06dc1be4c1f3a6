//! [`NamesrvState`]: what the processors and the liveness scan share.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};

use crate::config::NamesrvConfig;
use crate::kv::KvConfigManager;
use crate::route::RouteInfoManager;

/// A source of "now" in ms since the epoch (tests inject their own).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock in ms since the epoch.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    })
}

/// Configuration, route table and KV config of one NameServer.
pub struct NamesrvState {
    /// The configuration it started with.
    pub config: NamesrvConfig,
    /// The route table.
    pub route: RwLock<RouteInfoManager>,
    /// The KV config.
    pub kv: Mutex<KvConfigManager>,
    clock: Clock,
}

impl fmt::Debug for NamesrvState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamesrvState")
            .field("config", &self.config)
            .field("route", &*self.route.read())
            .field("kv", &*self.kv.lock())
            .finish_non_exhaustive()
    }
}

impl NamesrvState {
    /// State over `kv`, with brokers expiring after
    /// `config.broker_channel_expired_time` ms.
    pub fn new(config: NamesrvConfig, kv: KvConfigManager, clock: Clock) -> Self {
        let route = RouteInfoManager::new(config.broker_channel_expired_time);
        Self {
            config,
            route: RwLock::new(route),
            kv: Mutex::new(kv),
            clock,
        }
    }

    /// Now, in ms since the epoch.
    pub fn now_ms(&self) -> u64 {
        (self.clock)()
    }
}
