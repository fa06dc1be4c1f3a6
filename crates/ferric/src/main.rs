//! `ferric`: NameServer and Broker in one process, for one machine.
//!
//! `ferric` alone is `ferric standalone`: the NameServer on 9876 and the Broker on 10911 (and
//! its fast port 10909) with `storePathRootDir=./store` and `namesrvAddr=127.0.0.1:9876`.
//! It accepts `mqbroker`'s options (`-c broker.conf`, `-n`, `-p`, `-m`, `--log-dir`) and
//! trailing `key=value` broker overrides; precedence, lowest first: Ferric's standalone
//! defaults, the `-c` file, `key=value` arguments, `-n`. The in-process NameServer listens (on
//! all interfaces) on the port of the first `namesrvAddr` entry, and the broker registers with
//! every entry, so `ferric -n 127.0.0.1:19876 listenPort=20911` serves the NameServer on 19876.
//! SIGTERM or SIGINT shuts both down cleanly (broker first, so it unregisters from the
//! NameServer).

/// mimalloc: the broker allocates and frees small buffers per request; glibc malloc cost
/// about a quarter of its CPU under load (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use ferric_broker::BrokerConfig;
use ferric_broker::cli::{self, BrokerArgs};
use ferric_namesrv::{NameServer, NamesrvConfig};
use tokio::net::TcpListener;

/// `ferric --help` after the options.
const AFTER_HELP: &str = "\
`ferric` and `ferric standalone` are the same. One process runs a NameServer and a Broker.

The NameServer listens on all interfaces on the port of the first -n / namesrvAddr address \
(default 127.0.0.1:9876, so port 9876); the broker registers with every address in the list. \
Trailing key=value arguments are broker.conf keys (listenPort, storePathRootDir, brokerName, \
brokerIP1, ...). Precedence, lowest first: Ferric's defaults (storePathRootDir=./store, \
namesrvAddr=127.0.0.1:9876), the -c file, key=value arguments, -n.

Example: ferric -n 127.0.0.1:19876 listenPort=20911 storePathRootDir=/tmp/ferric
  NameServer on port 19876, broker on 20911 (fast port 20909), data under /tmp/ferric.";

/// `ferric`'s command line: `mqbroker`'s options under `ferric`'s name and help.
fn command() -> clap::Command {
    BrokerArgs::command()
        .name("ferric")
        .bin_name("ferric")
        .override_usage("ferric [standalone] [OPTIONS] [KEY=VALUE]...")
        .about("Ferric on one machine: NameServer and Broker in one process (RocketMQ-compatible)")
        .after_help(AFTER_HELP)
}

/// Parses `argv` (program name first, `standalone` already removed); exits on `--help` or an
/// error, as clap does.
fn parse_args(argv: Vec<String>) -> BrokerArgs {
    let matches = command().get_matches_from(argv);
    BrokerArgs::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// The port the in-process NameServer listens on: the port of the first `namesrvAddr` entry,
/// or 9876 when the list is empty.
fn namesrv_listen_port(config: &BrokerConfig) -> anyhow::Result<u16> {
    let Some(first) = config.namesrv_addrs().into_iter().next() else {
        return Ok(NamesrvConfig::default().listen_port);
    };
    first
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .ok_or_else(|| anyhow::anyhow!("namesrvAddr {first:?} has no port"))
}

fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("standalone") {
        argv.remove(1);
    }
    let args = parse_args(argv);
    let base = vec![
        ("storePathRootDir".to_owned(), "./store".to_owned()),
        ("namesrvAddr".to_owned(), "127.0.0.1:9876".to_owned()),
    ];
    let built = match cli::build_config(&args, &base) {
        Ok(built) => built,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(253);
        }
    };
    if args.print_config_item || args.print_important_config {
        print!(
            "{}",
            built.config.to_properties_text(args.print_important_config)
        );
        return ExitCode::SUCCESS;
    }
    match run(args, built) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: BrokerArgs, built: cli::BuiltConfig) -> anyhow::Result<()> {
    cli::init_logging(&cli::log_dir(args.log_dir), "broker.log")?;
    for key in &built.unknown_keys {
        tracing::warn!(key = %key, "unknown config key ignored");
        eprintln!("WARN: unknown config key {key} is ignored");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let namesrv_config = NamesrvConfig {
            listen_port: namesrv_listen_port(&built.config)?,
            ..NamesrvConfig::default()
        };
        let namesrv_listener = TcpListener::bind(namesrv_config.listen_addr()).await?;
        let namesrv = NameServer::start(namesrv_config, namesrv_listener).await?;
        println!("{}", namesrv.boot_line());
        tracing::info!("{}", namesrv.boot_line());

        let config = built.config;
        let line = cli::boot_line(&config);
        let broker = match cli::bind_and_start(config).await {
            Ok(broker) => broker,
            Err(error) => {
                namesrv.shutdown().await;
                return Err(error.into());
            }
        };
        println!("{line}");

        cli::shutdown_signal().await;
        let broker_result = broker.shutdown().await;
        namesrv.shutdown().await;
        broker_result?;
        anyhow::Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> BrokerConfig {
        let mut argv = vec!["ferric".to_owned()];
        argv.extend(args.iter().map(|a| (*a).to_owned()));
        let args = parse_args(argv);
        let base = vec![("namesrvAddr".to_owned(), "127.0.0.1:9876".to_owned())];
        cli::build_config(&args, &base)
            .expect("config builds")
            .config
    }

    #[test]
    fn namesrv_port_follows_the_first_namesrv_address() {
        assert_eq!(namesrv_listen_port(&config(&[])).ok(), Some(9876));
        assert_eq!(
            namesrv_listen_port(&config(&["-n", "127.0.0.1:19876"])).ok(),
            Some(19876)
        );
        assert_eq!(
            namesrv_listen_port(&config(&["namesrvAddr=10.0.0.1:29876;10.0.0.2:9876"])).ok(),
            Some(29876)
        );
        assert_eq!(
            namesrv_listen_port(&config(&["-n", "127.0.0.1:39876", "namesrvAddr=h:1"])).ok(),
            Some(39876)
        );
        assert_eq!(
            namesrv_listen_port(&config(&["namesrvAddr="])).ok(),
            Some(9876)
        );
    }

    #[test]
    fn help_documents_the_namesrv_port() {
        let help = command().render_long_help().to_string();
        assert!(help.contains("Usage: ferric [standalone]"), "{help}");
        assert!(help.contains("port of the first -n"), "{help}");
        assert!(help.contains("--namesrvAddr"), "{help}");
    }
}
