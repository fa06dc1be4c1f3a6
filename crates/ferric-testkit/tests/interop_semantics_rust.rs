//! Broker message semantics end to end with the crates.io client `rocketmq-client-rust`
//! (driver in `interop/rust`, built by `scripts/interop-setup.sh`): consumer retry, dead
//! letters, delay levels and timer delays, transactions with check-back, request/reply, and
//! SQL92 and tag filtering.
//!
//! Every test starts its own NameServer and Broker with short intervals (delay levels of 1 s
//! except level 2 = 2 s, transaction check-back after 1 s, property filtering on) and creates
//! its topics before any client starts, so clients find routes at once.
//!
//! Third-party client limitation: `rocketmq-client-rust` 1.0.0 builds a tag subscription's
//! `codeSet` from the untrimmed pieces of the expression (`FilterAPI::build_subscription_data`
//! hashes `tag`, not `tag.trim()`, unlike RocketMQ's `FilterAPI`), so `TagA || TagB` (with
//! spaces) carries hash codes of `"TagA "` and `" TagB"` and a RocketMQ broker matches nothing.
//! The tag test therefore subscribes with `TagA||TagB`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use ferric_testkit::command::{CommandOutput, RunningCommand, run_logged, spawn_logged};
use ferric_testkit::interop::{hex_encode, repo_root, require_installed};
use ferric_testkit::{ClusterOptions, FerricCluster, PulledMessage};
use serde_json::{Value, json};

/// Delay levels 1..18; level 2 (2 s) is the one the delay test uses, retries use 3 and up.
const DELAY_LEVELS: &str = "1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";
/// Upper slack on delayed delivery for a loaded machine (a functional bound, not a benchmark).
const DELAY_SLACK_MS: i64 = 3_000;

fn driver_path() -> Result<PathBuf> {
    require_installed(
        &repo_root().join("target/interop/rust-target/debug/ferric-interop-rust"),
        "rocketmq-client-rust",
    )
}

struct Harness {
    cluster: FerricCluster,
    driver: PathBuf,
    work: PathBuf,
}

impl Harness {
    fn start(name: &str) -> Result<Self> {
        let driver = driver_path()?;
        let options = ClusterOptions::default()
            .broker_config("messageDelayLevel", DELAY_LEVELS)
            .broker_config("transactionCheckInterval", "1000")
            .broker_config("transactionTimeOut", "1000")
            .broker_config("enablePropertyFilter", "true");
        let cluster = FerricCluster::start_namesrv_and_broker(options)?;
        let work = cluster.root_dir().join(format!("semantics-{name}"));
        std::fs::create_dir_all(&work)?;
        Ok(Self {
            cluster,
            driver,
            work,
        })
    }

    fn create_topic(&self, topic: &str, queues: i32) -> Result<()> {
        ferric_testkit::runtime()?
            .block_on(self.cluster.admin().create_topic_and_wait(
                &self.cluster.broker_addr(),
                topic,
                queues,
                Duration::from_secs(30),
            ))
            .with_context(|| format!("creating {topic}"))?;
        Ok(())
    }

    /// `<driver> <sub> --namesrv ADDR --topic T --group G <args>`.
    fn command(&self, sub: &str, topic: &str, group: &str, args: &[&str]) -> Command {
        let mut command = Command::new(&self.driver);
        command
            .env("HOME", self.cluster.home_dir())
            .current_dir(self.cluster.root_dir())
            .arg(sub)
            .args(["--namesrv", &self.cluster.namesrv_addr()])
            .args(["--topic", topic, "--group", group])
            .args(args);
        command
    }

    fn write_input(&self, name: &str, lines: &[Value]) -> Result<String> {
        let path = self.work.join(name);
        let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
        std::fs::write(&path, text)?;
        Ok(path.display().to_string())
    }

    fn produce(&self, topic: &str, mode: &str, input: &str, name: &str) -> Result<Vec<Value>> {
        let command = self.command(
            "produce",
            topic,
            &format!("P_{name}"),
            &["--mode", mode, "--input", input],
        );
        let output = run_logged(command, &self.work, name, Duration::from_secs(90))?;
        output.expect_success(name)?;
        Ok(json_lines(&output.stdout))
    }

    fn consume(&self, topic: &str, group: &str, args: &[&str], name: &str) -> Result<Output> {
        let command = self.command("consume", topic, group, args);
        let output = run_logged(command, &self.work, name, Duration::from_secs(120))?;
        output.expect_success(name)?;
        Ok(Output::new(output))
    }

    /// Starts a consumer in the background; its output is logged under `name`.
    fn spawn_consumer(
        &self,
        topic: &str,
        group: &str,
        args: &[&str],
        name: &str,
    ) -> Result<RunningCommand> {
        spawn_logged(
            self.command("consume", topic, group, args),
            &self.work,
            name,
        )
    }

    /// Pulls every message of `topic` queue 0 through the broker, as a separate group.
    fn pull_queue0(&self, topic: &str) -> Result<Vec<PulledMessage>> {
        ferric_testkit::runtime()?.block_on(self.cluster.admin().pull_all(
            &self.cluster.broker_addr(),
            "semantics_inspector",
            topic,
            0,
            0,
            100,
        ))
    }
}

/// A finished client run with its JSON lines.
struct Output {
    raw: CommandOutput,
    lines: Vec<Value>,
}

impl Output {
    fn new(raw: CommandOutput) -> Self {
        let lines = json_lines(&raw.stdout);
        Self { raw, lines }
    }

    /// Lines that describe a received message.
    fn messages(&self) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|line| line.get("msg_id").is_some() && line.get("body_hex").is_some())
            .collect()
    }

    /// The `idx` of every received message, in receive order.
    fn indexes(&self) -> Vec<String> {
        self.messages().iter().map(|line| idx(line)).collect()
    }

    fn context(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr (tail) ---\n{}",
            self.raw.stdout,
            tail(&self.raw.stderr, 20)
        )
    }
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|line| line.starts_with('{'))
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn idx(line: &Value) -> String {
    line["properties"]["idx"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn int(line: &Value, key: &str) -> i64 {
    line[key].as_i64().unwrap_or(i64::MIN)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn message(idx: usize, tags: &str, properties: &[(&str, &str)], body: &[u8]) -> Value {
    let mut map: BTreeMap<String, String> = properties
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    map.insert("idx".to_owned(), idx.to_string());
    json!({"tags": tags, "keys": [format!("key-{idx}")], "properties": map,
        "body_hex": hex_encode(body)})
}

/// Polls `path` until one of its JSON lines satisfies `wanted`.
fn wait_for_line(path: &Path, timeout: Duration, wanted: impl Fn(&Value) -> bool) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if json_lines(&text).iter().any(&wanted) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "no expected line in {} within {timeout:?}:\n{text}",
                path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn failed_deliveries_are_retried_with_increasing_reconsume_times() -> Result<()> {
    let harness = Harness::start("retry")?;
    let (topic, group) = ("Semantics_retry", "C_semantics_retry");
    harness.create_topic(topic, 1)?;
    let input = harness.write_input("retry.jsonl", &[message(0, "TagA", &[], b"retry me")])?;
    let sent = harness.produce(topic, "sync", &input, "retry-producer")?;
    let args = [
        "--expect",
        "3",
        "--timeout-secs",
        "60",
        "--fail-times",
        "2",
        "--every-delivery",
        "true",
        "--linger-secs",
        "3",
    ];
    let output = harness.consume(topic, group, &args, "retry-consumer")?;
    let deliveries = output.messages();
    let context = output.context();
    let reconsume: Vec<i64> = deliveries
        .iter()
        .map(|line| int(line, "reconsume_times"))
        .collect();
    ensure!(
        reconsume == [0, 1, 2],
        "reconsumeTimes {reconsume:?}, want [0, 1, 2]\n{context}"
    );
    let statuses: Vec<&str> = deliveries
        .iter()
        .map(|line| line["status"].as_str().unwrap_or_default())
        .collect();
    ensure!(
        statuses == ["later", "later", "success"],
        "{statuses:?}\n{context}"
    );
    let uniq_key = sent[0]["msg_id"].as_str().unwrap_or_default();
    for (number, line) in deliveries.iter().enumerate() {
        ensure!(
            line["topic"] == topic,
            "delivery {number}: topic\n{context}"
        );
        ensure!(
            line["body_hex"] == hex_encode(b"retry me"),
            "delivery {number}: body\n{context}"
        );
        ensure!(
            line["properties"]["UNIQ_KEY"] == uniq_key,
            "delivery {number}: UNIQ_KEY, want {uniq_key}\n{context}"
        );
    }
    for (number, line) in deliveries.iter().enumerate().skip(1) {
        ensure!(
            line["properties"]["RETRY_TOPIC"] == topic,
            "delivery {number} did not come through %RETRY%{group}\n{context}"
        );
        // Retry level 3 + reconsumeTimes is 1 s here: no redelivery before it elapsed.
        let gap = int(line, "received_at_ms") - int(deliveries[number - 1], "received_at_ms");
        ensure!(
            gap >= 1_000,
            "delivery {number} only {gap} ms after the previous\n{context}"
        );
    }
    Ok(())
}

#[test]
fn messages_failing_past_max_reconsume_times_go_to_the_dlq() -> Result<()> {
    let harness = Harness::start("dlq")?;
    let (topic, group) = ("Semantics_dlq", "C_semantics_dlq");
    harness.create_topic(topic, 1)?;
    let body = b"dead letter";
    let input = harness.write_input("dlq.jsonl", &[message(0, "TagA", &[], body)])?;
    let sent = harness.produce(topic, "sync", &input, "dlq-producer")?;
    let uniq_key = sent[0]["msg_id"].as_str().unwrap_or_default().to_owned();
    let args = [
        "--expect",
        "3",
        "--timeout-secs",
        "60",
        "--fail-times",
        "-1",
        "--max-reconsume-times",
        "2",
        "--every-delivery",
        "true",
        "--linger-secs",
        "4",
    ];
    let output = harness.consume(topic, group, &args, "dlq-consumer")?;
    let context = output.context();
    let reconsume: Vec<i64> = output
        .messages()
        .iter()
        .map(|line| int(line, "reconsume_times"))
        .collect();
    // Two retries, then the third failure sends it to the DLQ: no fourth delivery while the
    // consumer lingers for several retry intervals.
    ensure!(
        reconsume == [0, 1, 2],
        "reconsumeTimes {reconsume:?}, want [0, 1, 2]\n{context}"
    );

    let dlq = harness.pull_queue0(&format!("%DLQ%{group}"))?;
    ensure!(dlq.len() == 1, "DLQ holds {} messages: {dlq:?}", dlq.len());
    let dead = &dlq[0];
    ensure!(dead.body == body, "DLQ body {:?}", dead.body);
    ensure!(
        dead.properties.get("UNIQ_KEY") == Some(uniq_key.as_str()),
        "DLQ message {dead:?}, want UNIQ_KEY {uniq_key}"
    );
    ensure!(
        dead.properties.get("RETRY_TOPIC") == Some(topic),
        "DLQ message {dead:?}"
    );
    ensure!(dead.properties.get("idx") == Some("0"), "{dead:?}");
    // The retry topic saw exactly the two retries, none after the DLQ.
    let retries = harness.pull_queue0(&format!("%RETRY%{group}"))?;
    let retry_times: Vec<Option<&str>> = retries
        .iter()
        .map(|retry| retry.properties.get("idx"))
        .collect();
    ensure!(
        retry_times == [Some("0"), Some("0")],
        "%RETRY%{group} holds {retries:?}"
    );
    Ok(())
}

#[test]
fn delay_level_and_timer_delay_hold_messages_back() -> Result<()> {
    let harness = Harness::start("delay")?;
    let (topic, group) = ("Semantics_delay", "C_semantics_delay");
    harness.create_topic(topic, 1)?;
    let consumer = harness.spawn_consumer(
        topic,
        group,
        &["--expect", "3", "--timeout-secs", "60"],
        "delay-consumer",
    )?;
    // A plain message first: once it arrives the consumer is known to be pulling.
    let warm_up = harness.write_input("warm.jsonl", &[message(0, "TagA", &[], b"now")])?;
    harness.produce(topic, "sync", &warm_up, "warm-producer")?;
    wait_for_line(
        &harness.work.join("delay-consumer.stdout"),
        Duration::from_secs(60),
        |line| idx(line) == "0",
    )?;
    let mut level = message(1, "TagA", &[], b"level 2");
    level["delay_level"] = json!(2);
    let mut timer = message(2, "TagA", &[], b"timer 3000 ms");
    timer["delay_ms"] = json!(3000);
    let delayed = harness.write_input("delayed.jsonl", &[level, timer])?;
    harness.produce(topic, "sync", &delayed, "delay-producer")?;
    let output = Output::new(consumer.wait(Duration::from_secs(90))?);
    output.raw.expect_success("delay consumer")?;
    let context = output.context();
    let by_idx: BTreeMap<String, &Value> = output
        .messages()
        .into_iter()
        .map(|line| (idx(line), line))
        .collect();
    ensure!(
        by_idx.keys().map(String::as_str).eq(["0", "1", "2"]),
        "received {:?}\n{context}",
        output.indexes()
    );
    for (key, delay_ms) in [("1", 2_000), ("2", 3_000)] {
        let line = by_idx[key];
        let waited = int(line, "received_at_ms") - int(line, "born_timestamp");
        ensure!(
            waited >= delay_ms,
            "idx={key} received {waited} ms after it was sent, before its {delay_ms} ms delay\n{context}"
        );
        ensure!(
            waited <= delay_ms + DELAY_SLACK_MS,
            "idx={key} received {waited} ms after it was sent (delay {delay_ms} ms)\n{context}"
        );
        ensure!(line["topic"] == topic, "idx={key} topic\n{context}");
    }
    ensure!(
        by_idx["1"]["body_hex"] == hex_encode(b"level 2"),
        "{context}"
    );
    ensure!(
        by_idx["2"]["body_hex"] == hex_encode(b"timer 3000 ms"),
        "{context}"
    );
    Ok(())
}

#[test]
fn transactions_commit_rollback_and_check_back() -> Result<()> {
    let harness = Harness::start("transaction")?;
    let (topic, group) = ("Semantics_tx", "C_semantics_tx");
    harness.create_topic(topic, 2)?;
    let input = harness.write_input(
        "tx.jsonl",
        &[
            message(0, "TagA", &[("tx", "commit")], b"committed"),
            message(1, "TagA", &[("tx", "rollback")], b"rolled back"),
            message(2, "TagA", &[("tx", "unknown")], b"checked back"),
        ],
    )?;
    let produced = harness.produce(topic, "transaction", &input, "tx-producer")?;
    let states: Vec<&str> = produced
        .iter()
        .filter(|line| line.get("sent").is_some())
        .map(|line| line["local_state"].as_str().unwrap_or_default())
        .collect();
    ensure!(
        states == ["CommitMessage", "RollbackMessage", "Unknown"],
        "producer output {produced:?}"
    );
    let checked: BTreeSet<&str> = produced
        .iter()
        .filter_map(|line| line["checked"].as_str())
        .collect();
    ensure!(
        checked == BTreeSet::from(["2"]),
        "check-backs for {checked:?}, want only idx 2: {produced:?}"
    );

    let output = harness.consume(
        topic,
        group,
        &[
            "--expect",
            "2",
            "--timeout-secs",
            "60",
            "--linger-secs",
            "3",
        ],
        "tx-consumer",
    )?;
    let context = output.context();
    let mut received = output.indexes();
    received.sort();
    ensure!(
        received == ["0", "2"],
        "received idx {received:?}, want 0 (committed) and 2 (checked back)\n{context}"
    );
    for line in output.messages() {
        let want = if idx(line) == "0" {
            hex_encode(b"committed")
        } else {
            hex_encode(b"checked back")
        };
        ensure!(line["body_hex"] == want, "{line}");
        ensure!(line["topic"] == topic, "{line}");
    }
    Ok(())
}

#[test]
fn request_returns_the_responders_reply() -> Result<()> {
    let harness = Harness::start("reply")?;
    let (topic, group) = ("Semantics_request", "C_semantics_responder");
    harness.create_topic(topic, 1)?;
    let responder = harness.spawn_consumer(
        topic,
        group,
        &["--expect", "1", "--timeout-secs", "60", "--reply", "true"],
        "responder",
    )?;
    let input = harness.write_input("request.jsonl", &[message(0, "", &[], b"ping")])?;
    let timeout_ms = 20_000;
    let request = harness.command(
        "request",
        topic,
        "P_semantics_requester",
        &["--timeout-ms", &timeout_ms.to_string(), "--input", &input],
    );
    let requested = run_logged(request, &harness.work, "requester", Duration::from_secs(90))?;
    let responded = Output::new(responder.wait(Duration::from_secs(90))?);
    requested.expect_success(&format!("requester\n{}", responded.context()))?;
    responded.raw.expect_success("responder")?;
    let lines = json_lines(&requested.stdout);
    let reply = lines
        .iter()
        .find(|line| line.get("reply_body_hex").is_some())
        .with_context(|| format!("no reply printed:\n{}", requested.stdout))?;
    ensure!(
        reply["reply_body_hex"] == hex_encode(b"reply:ping"),
        "{reply}"
    );
    ensure!(reply["reply_properties"]["MSG_TYPE"] == "reply", "{reply}");
    ensure!(
        reply["reply_topic"] == "DefaultCluster_REPLY_TOPIC",
        "{reply}"
    );
    let waited = int(reply, "replied_at_ms") - int(reply, "sent_at_ms");
    ensure!((0..timeout_ms).contains(&waited), "reply after {waited} ms");
    let request_line = responded
        .messages()
        .into_iter()
        .next()
        .with_context(|| responded.context())?;
    ensure!(
        reply["reply_properties"]["CORRELATION_ID"] == request_line["properties"]["CORRELATION_ID"],
        "reply {reply} does not correlate with request {request_line}"
    );
    Ok(())
}

#[test]
fn sql92_and_tag_subscriptions_receive_exactly_the_matching_messages() -> Result<()> {
    let harness = Harness::start("filter")?;
    let topic = "Semantics_filter";
    harness.create_topic(topic, 4)?;
    let messages: Vec<Value> = (0..12)
        .map(|index| {
            let a = index.to_string();
            let color = if index % 2 == 0 { "red" } else { "blue" };
            let tags = ["TagA", "TagB", "TagC"][index % 3];
            message(
                index,
                tags,
                &[("a", &a), ("color", color)],
                format!("filter {index}").as_bytes(),
            )
        })
        .collect();
    let input = harness.write_input("filter.jsonl", &messages)?;
    harness.produce(topic, "sync", &input, "filter-producer")?;

    let sql_expected = ["6", "8", "10"];
    let tag_expected = ["0", "1", "3", "4", "6", "7", "9", "10"];
    let sql = harness.spawn_consumer(
        topic,
        "C_semantics_sql",
        &[
            "--expect",
            &sql_expected.len().to_string(),
            "--timeout-secs",
            "60",
            "--linger-secs",
            "3",
            "--selector-type",
            "SQL92",
            "--selector",
            "a > 5 AND color = 'red'",
        ],
        "sql-consumer",
    )?;
    let tag = harness.spawn_consumer(
        topic,
        "C_semantics_tag",
        &[
            "--expect",
            &tag_expected.len().to_string(),
            "--timeout-secs",
            "60",
            "--linger-secs",
            "3",
            "--selector-type",
            "TAG",
            "--selector",
            "TagA||TagB",
        ],
        "tag-consumer",
    )?;
    for (name, running, expected) in [
        ("SQL92", sql, &sql_expected[..]),
        ("tag", tag, &tag_expected[..]),
    ] {
        let output = Output::new(running.wait(Duration::from_secs(90))?);
        output.raw.expect_success(name)?;
        let received = output.indexes();
        let distinct: BTreeSet<&str> = received.iter().map(String::as_str).collect();
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        ensure!(
            distinct == expected && received.len() == expected.len(),
            "{name} subscription received idx {received:?}, want {expected:?}\n{}",
            output.context()
        );
    }
    Ok(())
}
