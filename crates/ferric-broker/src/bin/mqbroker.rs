//! `mqbroker`: runs a Ferric broker until SIGTERM/SIGINT.

/// mimalloc: the broker allocates and frees small buffers per request; glibc malloc cost
/// about a quarter of its CPU under load (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use ferric_broker::cli::{self, BrokerArgs};

fn main() -> std::process::ExitCode {
    let args = BrokerArgs::parse();
    let built = match cli::build_config(&args, &[]) {
        Ok(built) => built,
        Err(error) => {
            eprintln!("{error}");
            return std::process::ExitCode::from(253);
        }
    };
    if args.print_config_item || args.print_important_config {
        print!(
            "{}",
            built.config.to_properties_text(args.print_important_config)
        );
        return std::process::ExitCode::SUCCESS;
    }
    for key in &built.unknown_keys {
        eprintln!("WARN: unknown config key {key} is ignored");
    }
    match run(args, built) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: BrokerArgs, built: cli::BuiltConfig) -> anyhow::Result<()> {
    cli::init_logging(&cli::log_dir(args.log_dir), "broker.log")?;
    for key in &built.unknown_keys {
        tracing::warn!(key = %key, "unknown config key ignored");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let config = built.config;
        let line = cli::boot_line(&config);
        let broker = cli::bind_and_start(config).await?;
        println!("{line}");
        cli::shutdown_signal().await;
        broker.shutdown().await?;
        anyhow::Ok(())
    })
}
