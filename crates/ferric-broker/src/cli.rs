//! Command-line handling shared by `mqbroker` and `ferric`: options, building the
//! configuration (defaults < `-c` file < trailing `key=value` < `-n`; `$NAMESRV_ADDR` when no
//! NameServer was given), logging setup for binaries, and running until SIGTERM/SIGINT.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;
use tokio::net::TcpListener;

use crate::config::BrokerConfig;
use crate::controller::{BrokerController, BrokerHandle};
use crate::error::BrokerError;

/// `mqbroker` options (RocketMQ's `BrokerStartup` flags).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "mqbroker",
    about = "Ferric broker (RocketMQ-compatible)",
    after_help = "Trailing key=value arguments override broker.conf keys. Precedence, lowest first: \
defaults, the -c file, key=value arguments, -n. NAMESRV_ADDR is used when no NameServer is set."
)]
pub struct BrokerArgs {
    /// Broker config properties file (broker.conf).
    #[arg(short = 'c', long = "configFile")]
    pub config_file: Option<PathBuf>,
    /// NameServer list, e.g. '192.168.0.1:9876;192.168.0.2:9876'.
    #[arg(short = 'n', long = "namesrvAddr")]
    pub namesrv_addr: Option<String>,
    /// Print all config items and exit.
    #[arg(short = 'p', long = "printConfigItem")]
    pub print_config_item: bool,
    /// Print important config items and exit.
    #[arg(short = 'm', long = "printImportantConfig")]
    pub print_important_config: bool,
    /// Log directory (default `$HOME/logs/rocketmqlogs`, or `$FERRIC_LOG_DIR`).
    #[arg(long = "log-dir", env = "FERRIC_LOG_DIR")]
    pub log_dir: Option<PathBuf>,
    /// `key=value` overrides of config keys.
    #[arg(value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

/// A built configuration and the keys nobody knew (warn about each).
#[derive(Debug)]
pub struct BuiltConfig {
    /// The configuration, already checked.
    pub config: BrokerConfig,
    /// Unknown keys from the file and overrides.
    pub unknown_keys: Vec<String>,
}

/// Builds the configuration from `base` defaults (pairs applied over RocketMQ's defaults,
/// e.g. `ferric`'s `storePathRootDir=./store`), the `-c` file, overrides and `-n`.
pub fn build_config(
    args: &BrokerArgs,
    base: &[(String, String)],
) -> Result<BuiltConfig, BrokerError> {
    let mut config = BrokerConfig::default();
    let mut unknown_keys = config.apply(base)?;
    if let Some(path) = &args.config_file {
        let text = std::fs::read_to_string(path).map_err(|error| {
            BrokerError::InvalidConfig(format!(
                "cannot read config file {}: {error}",
                path.display()
            ))
        })?;
        let pairs =
            ferric_common::config_file::parse_properties(&text).map_err(BrokerError::Config)?;
        unknown_keys.extend(config.apply(&pairs)?);
        tracing::info!(path = %path.display(), "load config properties file OK");
    }
    let overrides = args
        .overrides
        .iter()
        .map(|arg| ferric_common::config_file::parse_override(arg))
        .collect::<Result<Vec<_>, _>>()
        .map_err(BrokerError::Config)?;
    unknown_keys.extend(config.apply(&overrides)?);
    if let Some(addr) = &args.namesrv_addr {
        config.namesrv_addr.clone_from(addr);
    }
    if config.namesrv_addr.is_empty()
        && let Ok(addr) = std::env::var("NAMESRV_ADDR")
    {
        config.namesrv_addr = addr;
    }
    config.finish()?;
    Ok(BuiltConfig {
        config,
        unknown_keys,
    })
}

/// The log directory: explicit, else `$HOME/logs/rocketmqlogs`.
pub fn log_dir(explicit: Option<PathBuf>) -> PathBuf {
    explicit.unwrap_or_else(|| {
        let home = std::env::var("HOME").unwrap_or_else(|_| ".".to_owned());
        PathBuf::from(home).join("logs").join("rocketmqlogs")
    })
}

/// Installs the tracing subscriber (binaries only): stderr plus `<dir>/<file_name>`,
/// filtered by `RUST_LOG` (default `info`).
pub fn init_logging(dir: &std::path::Path, file_name: &str) -> Result<(), BrokerError> {
    use tracing_subscriber::fmt::writer::MakeWriterExt;
    std::fs::create_dir_all(dir)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(file_name))?;
    let writer = std::io::stderr.and(std::sync::Mutex::new(file));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(writer)
        .try_init()
        .map_err(|error| BrokerError::InvalidConfig(format!("logging setup failed: {error}")))
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
                }
            }
            Err(error) => {
                tracing::warn!(%error, "SIGTERM handler not installed");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Binds `0.0.0.0:listenPort` and the fast port `listenPort - 2` and starts the broker.
pub async fn bind_and_start(config: BrokerConfig) -> Result<BrokerHandle, BrokerError> {
    let any = Ipv4Addr::UNSPECIFIED;
    let main = TcpListener::bind(SocketAddr::from((any, config.listen_port)))
        .await
        .map_err(|error| {
            BrokerError::InvalidConfig(format!(
                "cannot listen on port {}: {error}",
                config.listen_port
            ))
        })?;
    let fast = match config.listen_port.checked_sub(2) {
        Some(port) if port > 0 => match TcpListener::bind(SocketAddr::from((any, port))).await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(port, %error, "fast port not available");
                None
            }
        },
        _ => None,
    };
    BrokerController::start(config, main, fast).await
}

/// The boot line RocketMQ prints.
pub fn boot_line(config: &BrokerConfig) -> String {
    let mut line = format!(
        "The broker[{}, {}] boot success. serializeType=JSON",
        config.broker_name,
        config.broker_addr()
    );
    if !config.namesrv_addr.is_empty() {
        line.push_str(" and name server is ");
        line.push_str(&config.namesrv_addr);
    }
    line
}
