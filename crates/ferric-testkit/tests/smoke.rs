//! Smoke: every binary answers `--help`; a real NameServer and Broker start on reserved ports,
//! the broker registers, TBW102 is routed, and both stop cleanly on SIGTERM.

use std::process::Command;
use std::time::Duration;

use anyhow::{Result, ensure};
use ferric_testkit::binaries::{FERRIC, MQBROKER, MQNAMESRV, MQSHUTDOWN};
use ferric_testkit::command::run_logged;
use ferric_testkit::{ClusterOptions, FerricCluster, TestDir, binary_path, runtime};

#[test]
fn help_works_on_every_binary() -> Result<()> {
    let dir = TestDir::new("help")?;
    for name in [MQNAMESRV, MQBROKER, MQSHUTDOWN, FERRIC] {
        let mut command = Command::new(binary_path(name)?);
        command.arg("--help").env("HOME", dir.path());
        let output = run_logged(command, dir.path(), name, Duration::from_secs(30))?;
        output.expect_success(&format!("{name} --help"))?;
        let text = format!("{}{}", output.stdout, output.stderr).to_lowercase();
        ensure!(
            text.contains("usage"),
            "{name} --help printed no usage:\n{text}"
        );
    }
    Ok(())
}

#[test]
fn namesrv_and_broker_start_and_route_tbw102() -> Result<()> {
    let mut cluster = FerricCluster::start_namesrv_and_broker(ClusterOptions::default())?;
    let namesrv_port = cluster
        .namesrv_addr()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let boot = cluster
        .namesrv()
        .find_output_line("The Name Server boot success");
    let boot = boot.unwrap_or_default();
    ensure!(
        boot.contains("serializeType=JSON"),
        "namesrv boot line: {boot}"
    );
    ensure!(
        boot.ends_with(&format!(":{namesrv_port}")),
        "namesrv boot line: {boot}"
    );
    let expected = format!(
        "The broker[{}, {}] boot success. serializeType=JSON and name server is {}",
        cluster.broker_name(),
        cluster.broker_addr(),
        cluster.namesrv_addr()
    );
    let boot = cluster
        .broker()
        .find_output_line("boot success")
        .unwrap_or_default();
    ensure!(
        boot == expected,
        "broker boot line {boot:?}, want {expected:?}"
    );

    let admin = cluster.admin();
    let route = runtime()?.block_on(admin.wait_for_route("TBW102", Duration::from_secs(30)))?;
    let broker_addr = cluster.broker_addr();
    ensure!(
        route.broker_datas.iter().any(|data| data
            .broker_addrs
            .0
            .values()
            .any(|addr| *addr == broker_addr)),
        "TBW102 route does not name {broker_addr}: {route:?}"
    );
    ensure!(
        cluster.home_dir().join("logs/rocketmqlogs").is_dir(),
        "no logs under the temp HOME ({})",
        cluster.home_dir().display()
    );

    let status = cluster.stop_broker()?;
    ensure!(status.success(), "broker exit status on SIGTERM: {status}");
    let status = cluster.stop_namesrv()?;
    ensure!(status.success(), "namesrv exit status on SIGTERM: {status}");
    Ok(())
}
