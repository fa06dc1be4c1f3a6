//! `mqshutdown broker` stops a running broker. It signals every `mqbroker` and `ferric` process
//! on the machine (found through `/proc`), so the test only runs it when the broker it started
//! is the only such process; otherwise it says so and skips.

use std::process::Command;
use std::time::Duration;

use anyhow::{Result, ensure};
use ferric_testkit::binaries::MQSHUTDOWN;
use ferric_testkit::command::run_logged;
use ferric_testkit::{ClusterOptions, FerricCluster, binary_path};

/// Pids of processes whose argv[0] file name is `mqbroker` or `ferric`.
fn brokers_on_this_machine() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let argv0 = cmdline.split(|byte| *byte == 0).next().unwrap_or_default();
            let name = String::from_utf8_lossy(argv0);
            matches!(name.rsplit('/').next(), Some("mqbroker" | "ferric"))
        })
        .collect()
}

#[test]
fn mqshutdown_broker_stops_the_running_broker() -> Result<()> {
    let mut cluster = FerricCluster::start_namesrv_and_broker(ClusterOptions::default())?;
    let ours = cluster.broker().pid();
    let running = brokers_on_this_machine();
    if running.len() != 1 || ours != running.first().copied() {
        eprintln!(
            "SKIPPED: mqshutdown signals every broker on the machine and other brokers are \
             running (pids {running:?}, ours {ours:?}); not running it"
        );
        return Ok(());
    }
    let mut command = Command::new(binary_path(MQSHUTDOWN)?);
    command.arg("broker").env("HOME", cluster.home_dir());
    let output = run_logged(
        command,
        cluster.root_dir(),
        "mqshutdown",
        Duration::from_secs(30),
    )?;
    output.expect_success("mqshutdown broker")?;
    let pid = ours.unwrap_or_default();
    ensure!(
        output.stdout.contains(&format!("({pid})")),
        "mqshutdown did not name pid {pid}:\n{}",
        output.stdout
    );
    let status = cluster.broker().wait_exit(Duration::from_secs(30))?;
    ensure!(
        status.success(),
        "broker exit status after mqshutdown: {status}"
    );
    ensure!(
        cluster.namesrv().is_running(),
        "mqshutdown broker must leave the NameServer"
    );
    Ok(())
}
