//! `ferric-bench`: see the library docs and `ferric-bench --help`.

use std::process::ExitCode;

use clap::Parser;
use ferric_bench::cli::{Cli, Command};
use ferric_bench::report::render_table;
use ferric_bench::run::runtime;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (threads, json) = match &cli.command {
        Command::Producer(args) => (args.common.threads, args.common.json),
        Command::Consumer(args) => (args.common.threads, args.common.json),
        Command::E2e(args) => (args.common.threads, args.common.json),
    };
    let outcome = runtime(threads)
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(ferric_bench::execute(cli.command)));
    let report = match outcome {
        Ok(report) => report,
        Err(error) => {
            eprintln!("ferric-bench: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        match serde_json::to_string(&report) {
            Ok(text) => println!("{text}"),
            Err(error) => {
                eprintln!("ferric-bench: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", render_table(&report));
    }
    ExitCode::SUCCESS
}
