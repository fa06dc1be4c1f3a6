//! Interop driver: sends and receives messages through Ferric with the independent crates.io
//! client `rocketmq-client-rust`.
//!
//! ```text
//! ferric-interop-rust produce --namesrv ADDR --topic T --group G --mode MODE --input FILE
//! ferric-interop-rust consume --namesrv ADDR --topic T --group G --expect N --timeout-secs S
//! ferric-interop-rust request --namesrv ADDR --topic T --group G --timeout-ms MS --input FILE
//! ```
//!
//! `--input` holds one JSON object per line: `{"tags":..,"keys":[..],"properties":{..},
//! "body_hex":"..","delay_level":N,"delay_ms":MS}` (the last two optional). MODE is `sync`,
//! `async`, `oneway`, `batch`, `ordered` (a queue selector keyed by the `order` property) or
//! `transaction` (each message in a transaction whose local outcome is its `tx` property:
//! `commit`, `rollback`, or `unknown`, which the check-back answers with COMMIT; the producer
//! waits up to `--check-wait-secs` (30) for every check-back and prints `{"checked":idx,..}`
//! for each). The producer prints one JSON line per acknowledged send (`{"sent":i,"msg_id":..}`)
//! and exits 0 when every send succeeded.
//!
//! The consumer (a push consumer, from the first offset; options in [`consume`]) prints one
//! JSON line per received message: `{"topic","tags","keys","properties","body_hex","msg_id",
//! "queue_id","queue_offset","reconsume_times","born_timestamp","store_timestamp",
//! "received_at_ms"}` and exits once it has `--expect` distinct messages, or with status 3 at
//! the timeout. `request` sends one request message and prints the reply ([`request`]).

mod consume;
mod produce;
mod request;
mod spec;

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use rocketmq_client_rust::{ClientRuntime, ClientRuntimeConfig};
use rocketmq_runtime::{RuntimeConfig, RuntimeOwner};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first().cloned() else {
        bail!("usage: ferric-interop-rust produce|consume|request --namesrv ADDR --topic T ...");
    };
    let options = parse_options(&args[1..])?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = ClientHandle::new(&command).await?;
        let result = match command.as_str() {
            "produce" => produce::produce(&client, &options).await,
            "consume" => consume::consume(&client, &options).await,
            "request" => request::request(&client, &options).await,
            other => Err(anyhow!("unknown command {other:?}")),
        };
        client.shutdown().await;
        result
    })
}

fn parse_options(args: &[String]) -> Result<BTreeMap<String, String>> {
    let mut options = BTreeMap::new();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let Some(name) = flag.strip_prefix("--") else {
            bail!("unexpected argument {flag:?}");
        };
        let value = iter
            .next()
            .with_context(|| format!("--{name} needs a value"))?;
        options.insert(name.to_owned(), value.clone());
    }
    Ok(options)
}

fn option<'a>(options: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str> {
    options
        .get(name)
        .map(String::as_str)
        .with_context(|| format!("missing --{name}"))
}

/// The client runtime the crate's builders need.
struct ClientHandle {
    owner: RuntimeOwner,
    runtime: Arc<ClientRuntime>,
    telemetry: rocketmq_observability::TelemetryRuntimeGuard,
}

impl ClientHandle {
    async fn new(scope: &str) -> Result<Self> {
        let owner = RuntimeOwner::plan(RuntimeConfig {
            thread_name: format!("interop-{scope}"),
            ..Default::default()
        })
        .map_err(|error| anyhow!("runtime plan: {error:?}"))?
        .build()
        .map_err(|error| anyhow!("runtime build: {error:?}"))?;
        let telemetry = rocketmq_observability::install_global(
            &rocketmq_observability::TelemetryBootstrapConfig::default(),
        )
        .map_err(|error| anyhow!("telemetry: {error:?}"))?;
        let runtime = ClientRuntime::try_new(
            owner.root_context().component("client"),
            ClientRuntimeConfig::default(),
            telemetry.handle(),
        )
        .map_err(|error| anyhow!("client runtime: {error}"))?;
        Ok(Self {
            owner,
            runtime,
            telemetry,
        })
    }

    async fn shutdown(self) {
        let _ = self.runtime.shutdown().await;
        let _ = self.owner.shutdown_tasks().await;
        let _ = self.owner.shutdown_background();
        let _ = self.telemetry.shutdown();
    }
}
