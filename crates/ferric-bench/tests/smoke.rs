//! Smoke: `ferric-bench producer` and `consumer --drain` against a real NameServer and Broker
//! started by `ferric-testkit`. Checks that messages flow and nothing fails; no performance
//! assertions. Needs the workspace binaries (`cargo build --workspace`, or `FERRIC_BIN_DIR`).

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use ferric_testkit::command::run_logged;
use ferric_testkit::{ClusterOptions, FerricCluster, TestDir};

fn bench(dir: &TestDir, name: &str, args: &[&str]) -> Result<serde_json::Value> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferric-bench"));
    command.args(args).env("HOME", dir.path());
    let output = run_logged(command, dir.path(), name, Duration::from_secs(60))?;
    output.expect_success(name)?;
    serde_json::from_str(output.stdout.trim())
        .with_context(|| format!("{name} printed no JSON report:\n{}", output.stdout))
}

#[test]
fn producer_then_drain_report_messages_and_no_failures() -> Result<()> {
    let mut cluster = FerricCluster::start_namesrv_and_broker(ClusterOptions::default())?;
    let dir = TestDir::new("bench-smoke")?;
    let namesrv = cluster.namesrv_addr();
    let common = ["-n", namesrv.as_str(), "-t", "BenchSmoke", "--json"];

    let mut args = common.to_vec();
    args.splice(0..0, ["producer"]);
    args.extend([
        "-d", "2", "--warmup", "0.5", "-c", "2", "-w", "4", "-s", "256", "--tags", "--keys",
    ]);
    let broker_pid = cluster_broker_pid(&mut cluster);
    args.extend(["--watch-pid", broker_pid.as_str()]);
    let report = bench(&dir, "producer", &args)?;
    let sent = report["send"]["messages"].as_u64().unwrap_or(0);
    ensure!(sent > 0, "no message sent: {report}");
    ensure!(report["send"]["failures"] == 0, "failures: {report}");
    ensure!(
        report["send"]["latency"]["p99_us"].as_u64().unwrap_or(0) > 0,
        "no latency: {report}"
    );
    ensure!(
        report["processes"][0]["rss_kib"].as_u64().unwrap_or(0) > 0,
        "no RSS for the broker: {report}"
    );

    let mut args = common.to_vec();
    args.splice(0..0, ["consumer"]);
    args.extend(["--drain", "--from", "first", "-d", "30"]);
    let report = bench(&dir, "consumer", &args)?;
    let consumed = report["consume"]["messages"].as_u64().unwrap_or(0);
    ensure!(
        consumed >= sent,
        "drained {consumed} of at least {sent}: {report}"
    );
    ensure!(report["consume"]["failures"] == 0, "failures: {report}");
    ensure!(
        report["consume"]["end_to_end"]["count"]
            .as_u64()
            .unwrap_or(0)
            == consumed,
        "bodies without a send time: {report}"
    );
    Ok(())
}

fn cluster_broker_pid(cluster: &mut FerricCluster) -> String {
    cluster
        .broker()
        .pid()
        .map(|pid| pid.to_string())
        .unwrap_or_else(|| std::process::id().to_string())
}
