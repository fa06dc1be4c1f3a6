//! `mqnamesrv`: the Ferric NameServer process. Parses the command line, loads
//! the configuration, sets up logging, binds the port, starts
//! [`ferric_namesrv::NameServer`] and shuts it down on SIGTERM / SIGINT.

/// mimalloc: the broker allocates and frees small buffers per request; glibc malloc cost
/// about a quarter of its CPU under load (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use ferric_namesrv::{NameServer, NamesrvConfig};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Ferric NameServer (RocketMQ-compatible route registry).
#[derive(Debug, Parser)]
#[command(name = "mqnamesrv", version, about)]
struct Cli {
    /// Name server config properties file.
    #[arg(short = 'c', long = "configFile", value_name = "FILE")]
    config_file: Option<PathBuf>,

    /// Print all config items (key=value) and exit.
    #[arg(short = 'p', long = "printConfigItem")]
    print_config_item: bool,

    /// Name server address list; accepted and ignored, like RocketMQ's mqnamesrv.
    #[arg(short = 'n', long = "namesrvAddr", value_name = "ADDR")]
    namesrv_addr: Option<String>,

    /// Directory for namesrv.log (default: $HOME/logs/rocketmqlogs).
    #[arg(long = "log-dir", env = "FERRIC_LOG_DIR", value_name = "DIR")]
    log_dir: Option<PathBuf>,

    /// Config overrides as key=value (applied after the config file).
    #[arg(value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

fn default_log_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join("logs").join("rocketmqlogs")
}

fn init_logging(log_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(log_dir)
        .with_context(|| format!("cannot create log directory {}", log_dir.display()))?;
    let log_path = log_dir.join("namesrv.log");
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open log file {}", log_path.display()))?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Mutex::new(file)),
        )
        .try_init()
        .context("cannot install the log subscriber")?;
    Ok(())
}

async fn shutdown_signal() -> anyhow::Result<&'static str> {
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    Ok(tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    })
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mqnamesrv: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let loaded = NamesrvConfig::load(cli.config_file.as_deref(), &cli.overrides)?;
    if cli.print_config_item {
        for key in &loaded.unknown_keys {
            eprintln!("warning: unknown config key {key} ignored");
        }
        print!("{}", loaded.config.render_items());
        return Ok(());
    }

    init_logging(cli.log_dir.as_deref().unwrap_or(&default_log_dir()))?;
    for key in &loaded.unknown_keys {
        tracing::warn!(key = %key, "unknown config key ignored");
    }
    if let Some(path) = &cli.config_file {
        println!("load config properties file OK, {}", path.display());
        tracing::info!(path = %path.display(), "load config properties file ok");
    }
    if let Some(addr) = &cli.namesrv_addr {
        tracing::debug!(namesrv_addr = %addr, "-n is ignored by the name server");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(loaded.config))
}

async fn serve(config: NamesrvConfig) -> anyhow::Result<()> {
    let listen_addr = config.listen_addr();
    let listener = TcpListener::bind(&listen_addr)
        .await
        .with_context(|| format!("cannot listen on {listen_addr}"))?;
    let handle = NameServer::start(config, listener).await?;
    let boot_line = handle.boot_line();
    println!("{boot_line}");
    tracing::info!("{boot_line}");

    let signal_name = shutdown_signal().await?;
    let started = Instant::now();
    tracing::info!(
        signal = signal_name,
        "shutdown hook was invoked, stopping the name server"
    );
    handle.shutdown().await;
    tracing::info!(
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "shutdown hook over"
    );
    Ok(())
}
