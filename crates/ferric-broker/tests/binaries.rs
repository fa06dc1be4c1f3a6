//! Runs the real binaries: `mqbroker -p`, a malformed override, `mqshutdown` usage, and a
//! broker registering with a real `mqnamesrv` (when that binary has been built).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn target_bin(name: &str) -> PathBuf {
    let own = PathBuf::from(env!("CARGO_BIN_EXE_mqbroker"));
    own.with_file_name(name)
}

#[test]
fn mqbroker_prints_config_and_rejects_bad_values() -> anyhow::Result<()> {
    let output = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .args(["-p", "brokerName=broker-x", "noSuchKey=1"])
        .env_remove("NAMESRV_ADDR")
        .output()?;
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout)?;
    assert!(text.contains("brokerName=broker-x\n"), "{text}");
    assert!(text.contains("listenPort=10911\n"));
    assert!(text.contains("brokerClusterName=DefaultCluster\n"));

    let important = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .arg("-m")
        .output()?;
    let important = String::from_utf8(important.stdout)?;
    assert!(important.contains("namesrvAddr="));
    assert!(!important.contains("maxTransferCountOnMessageInMemory="));

    let bad = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .args(["-p", "listenPort=abc"])
        .output()?;
    assert!(!bad.status.success());
    let err = String::from_utf8(bad.stderr)?;
    assert!(err.contains("listenPort") && err.contains("abc"), "{err}");

    let bad_namesrv = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .args(["-p", "-n", "nohost"])
        .output()?;
    assert!(!bad_namesrv.status.success());
    assert!(String::from_utf8(bad_namesrv.stderr)?.contains(
        "The Name Server Address[nohost] illegal, please set it as follows, \"127.0.0.1:9876;192.168.0.1:9876\""
    ));
    Ok(())
}

#[test]
fn mqshutdown_prints_usage() -> anyhow::Result<()> {
    let output = Command::new(env!("CARGO_BIN_EXE_mqshutdown")).output()?;
    assert!(!output.status.success());
    assert!(String::from_utf8(output.stdout)?.contains("Usage: mqshutdown broker | namesrv"));
    let help = Command::new(env!("CARGO_BIN_EXE_mqshutdown"))
        .arg("--help")
        .output()?;
    assert!(help.status.success(), "mqshutdown --help: {}", help.status);
    assert!(String::from_utf8(help.stdout)?.contains("Usage: mqshutdown broker | namesrv"));
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[test]
fn mqbroker_registers_with_a_real_mqnamesrv() -> anyhow::Result<()> {
    let namesrv_bin = target_bin("mqnamesrv");
    if !namesrv_bin.exists() {
        eprintln!("mqnamesrv not built; skipping (build ferric-namesrv to run this)");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let ns_port = free_port()?;
    let mut namesrv = Command::new(&namesrv_bin)
        .arg(format!("listenPort={ns_port}"))
        .arg(format!(
            "kvConfigPath={}",
            dir.path().join("kv.json").display()
        ))
        .env("HOME", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    // Broker ports: listenPort and listenPort - 2 must be free.
    let port = loop {
        let p = free_port()?;
        if p > 1024 && std::net::TcpListener::bind(("0.0.0.0", p - 2)).is_ok() {
            break p;
        }
    };
    let mut broker = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .args(["-n", &format!("127.0.0.1:{ns_port}")])
        .arg(format!("listenPort={port}"))
        .arg(format!(
            "storePathRootDir={}",
            dir.path().join("store").display()
        ))
        .arg("brokerName=broker-bin")
        .arg("brokerIP1=127.0.0.1")
        .arg("mappedFileSizeCommitLog=1048576")
        .arg("maxHashSlotNum=1000")
        .arg("maxIndexNum=4000")
        .arg("--log-dir")
        .arg(dir.path().join("logs"))
        .env("HOME", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = broker
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let expected = format!(
        "The broker[broker-bin, 127.0.0.1:{port}] boot success. serializeType=JSON and name server is 127.0.0.1:{ns_port}"
    );
    let boot_ok = line.trim_end() == expected;

    // The NameServer learns the broker's topics: wait for TBW102's route.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let routed = runtime.block_on(async {
        let client = ferric_remoting::RemotingClient::new(ferric_remoting::ClientConfig::default());
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut found = false;
        while Instant::now() < deadline {
            let mut request = ferric_protocol::RemotingCommand::request(105);
            request.set_ext("topic", "TBW102");
            if let Ok(response) = client
                .invoke(
                    &format!("127.0.0.1:{ns_port}"),
                    request,
                    Duration::from_secs(3),
                )
                .await
                && response.code == 0
            {
                found =
                    String::from_utf8_lossy(&response.body).contains(&format!("127.0.0.1:{port}"));
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        client.shutdown().await;
        found
    });

    // Clean shutdown on SIGTERM.
    let pid = rustix::process::Pid::from_raw(i32::try_from(broker.id())?)
        .ok_or_else(|| anyhow::anyhow!("pid"))?;
    rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
    let status = broker.wait()?;
    let _ = namesrv.kill();
    let _ = namesrv.wait();
    assert!(boot_ok, "boot line {line:?}, expected {expected:?}");
    assert!(routed, "the NameServer has the broker's TBW102 route");
    assert!(status.success(), "mqbroker exit status {status:?}");
    assert!(
        !dir.path().join("store/abort").exists(),
        "clean shutdown removes abort"
    );
    let log = std::fs::read_to_string(dir.path().join("logs/broker.log"))?;
    assert!(log.contains("boot success"), "broker.log has the boot line");
    Ok(())
}
