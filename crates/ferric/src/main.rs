//! `ferric`: NameServer and Broker in one process, for one machine.
//!
//! `ferric` alone is `ferric standalone`: the NameServer on 9876 and the Broker on 10911 (and
//! its fast port 10909) with `storePathRootDir=./store` and `namesrvAddr=127.0.0.1:9876`.
//! It accepts `mqbroker`'s options (`-c broker.conf`, `-n`, `-p`, `-m`, `--log-dir`) and
//! trailing `key=value` broker overrides; precedence, lowest first: Ferric's standalone
//! defaults, the `-c` file, `key=value` arguments, `-n`. SIGTERM or SIGINT shuts both down
//! cleanly (broker first, so it unregisters from the NameServer).

use std::process::ExitCode;

use clap::Parser;
use ferric_broker::cli::{self, BrokerArgs};
use ferric_namesrv::{NameServer, NamesrvConfig};
use tokio::net::TcpListener;

fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("standalone") {
        argv.remove(1);
    }
    let args = BrokerArgs::parse_from(argv);
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
        let namesrv_config = NamesrvConfig::default();
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
