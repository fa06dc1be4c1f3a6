//! One interop exchange: a third-party client program produces N messages through Ferric in
//! one send mode, then the same client's push consumer must receive exactly those N.
//!
//! Every client program takes the same command lines (see `interop/*/`):
//!
//! ```text
//! <program> produce --namesrv ADDR --topic T --group G --mode MODE --input FILE
//! <program> consume --namesrv ADDR --topic T --group G --expect N --timeout-secs S [extra]
//! ```

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};

use crate::cluster::FerricCluster;
use crate::command::run_logged;
use crate::interop::{
    BodyBytes, ReceivedMessage, check_exactly, generate_messages, parse_received, write_input,
};
use crate::process::tail;

/// How to run one client program.
#[derive(Debug, Clone)]
pub struct ClientProgram {
    /// Short name (`rust`, `python`, `node`), used in topic and group names.
    pub name: String,
    /// The executable (interpreter or binary).
    pub program: PathBuf,
    /// Arguments before the sub-command (e.g. the script path).
    pub leading_args: Vec<OsString>,
}

impl ClientProgram {
    fn command(&self, cluster: &FerricCluster) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.leading_args)
            .env("HOME", cluster.home_dir())
            .current_dir(cluster.root_dir());
        command
    }
}

/// One produce-then-consume round.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Send mode passed to `--mode`.
    pub mode: String,
    /// Number of messages.
    pub count: usize,
    /// Body alphabet.
    pub bytes: BodyBytes,
    /// Extra consumer arguments (e.g. an orderly flag, property keys to print).
    pub consumer_args: Vec<String>,
    /// Queues of the topic the harness creates.
    pub queues: i32,
    /// How long the consumer may wait for all messages.
    pub consume_timeout: Duration,
    /// Also check that messages sharing an `order` property arrive in send order.
    pub check_order: bool,
}

impl Exchange {
    /// `count` binary messages in `mode` over a 4-queue topic, 60 s to consume.
    pub fn new(mode: &str, count: usize) -> Self {
        Self {
            mode: mode.to_owned(),
            count,
            bytes: BodyBytes::Binary,
            consumer_args: Vec::new(),
            queues: 4,
            consume_timeout: Duration::from_secs(60),
            check_order: false,
        }
    }

    /// Runs the round against `cluster` with `client`: creates the topic, produces, consumes,
    /// and checks the consumer got exactly the sent messages.
    pub fn run(&self, cluster: &FerricCluster, client: &ClientProgram) -> Result<()> {
        let tag = format!("{}_{}", client.name, self.mode);
        let topic = format!("Interop_{tag}");
        let work = cluster.root_dir().join(format!("interop-{tag}"));
        std::fs::create_dir_all(&work)?;
        let admin = cluster.admin();
        crate::runtime()?
            .block_on(admin.create_topic_and_wait(
                &cluster.broker_addr(),
                &topic,
                self.queues,
                Duration::from_secs(30),
            ))
            .with_context(|| format!("creating {topic}"))?;

        let sent = generate_messages(&tag, self.count, self.bytes);
        let input = write_input(&work.join("input.jsonl"), &sent)?;
        let mut produce = client.command(cluster);
        produce
            .arg("produce")
            .args(["--namesrv", &cluster.namesrv_addr(), "--topic", &topic])
            .args(["--group", &format!("P_{tag}"), "--mode", &self.mode])
            .arg("--input")
            .arg(&input);
        run_logged(produce, &work, "producer", Duration::from_secs(120))?
            .expect_success(&format!("{} producer ({} mode)", client.name, self.mode))?;

        let mut consume = client.command(cluster);
        let timeout_secs = self.consume_timeout.as_secs().to_string();
        consume
            .arg("consume")
            .args(["--namesrv", &cluster.namesrv_addr(), "--topic", &topic])
            .args([
                "--group",
                &format!("C_{tag}"),
                "--expect",
                &self.count.to_string(),
            ])
            .args(["--timeout-secs", &timeout_secs])
            .args(&self.consumer_args);
        let output = run_logged(
            consume,
            &work,
            "consumer",
            self.consume_timeout + Duration::from_secs(30),
        )?;
        let received = parse_received(&output.stdout)?;
        check_exactly(&topic, &sent, &received).map_err(|error| {
            anyhow!(
                "{} consumer after {} producer: {error:#}\nconsumer exit: {}\n--- consumer stderr ---\n{}",
                client.name,
                self.mode,
                output.status,
                tail(&output.stderr, 30)
            )
        })?;
        output.expect_success(&format!("{} consumer ({} mode)", client.name, self.mode))?;
        if self.check_order {
            check_order(&received)?;
        }
        Ok(())
    }
}

/// Messages sharing an `order` property must have been received (printed) in `idx` order.
pub fn check_order(received: &[ReceivedMessage]) -> Result<()> {
    let mut last: BTreeMap<&str, usize> = BTreeMap::new();
    for message in received {
        let order = message
            .properties
            .get("order")
            .map(String::as_str)
            .unwrap_or("");
        let index: usize = message
            .properties
            .get("idx")
            .and_then(|idx| idx.parse().ok())
            .context("received message without idx")?;
        if let Some(previous) = last.insert(order, index)
            && previous > index
        {
            bail!("order key {order:?}: idx {index} received after idx {previous}");
        }
    }
    Ok(())
}
