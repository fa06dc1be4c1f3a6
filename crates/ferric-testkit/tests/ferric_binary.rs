//! The one-process `ferric` binary: NameServer + Broker on reserved ports (`-n` names the
//! NameServer address it serves, `listenPort=` the broker port), send + pull work, SIGTERM
//! exits 0, and `ferric --help` documents that CLI.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use ferric_testkit::binaries::FERRIC;
use ferric_testkit::cluster::{BROKER_BOOT_MARKER, wait_registered};
use ferric_testkit::{
    AdminClient, Node, NodeSpec, OutgoingMessage, TestDir, binary_path, reserve_broker_port,
    reserve_port, runtime,
};

#[test]
fn ferric_standalone_serves_send_and_pull_and_stops_on_sigterm() -> Result<()> {
    let dir = TestDir::new("standalone")?;
    let root = dir.path();
    std::fs::create_dir_all(root.join("home"))?;
    let namesrv_addr = format!("127.0.0.1:{}", reserve_port()?);
    let broker_port = reserve_broker_port()?;
    let broker_addr = format!("127.0.0.1:{broker_port}");
    let store = root.join("store");
    let mut spec = NodeSpec::new("ferric", binary_path(FERRIC)?, root)
        .args([
            OsString::from("standalone"),
            "-n".into(),
            namesrv_addr.clone().into(),
            format!("listenPort={broker_port}").into(),
            format!("storePathRootDir={}", store.display()).into(),
            "brokerIP1=127.0.0.1".into(),
            "brokerName=standalone-a".into(),
        ])
        .env("HOME", root.join("home"));
    spec.boot_marker = Some(BROKER_BOOT_MARKER.to_owned());
    spec.probe_addrs = vec![namesrv_addr.clone(), broker_addr.clone()];
    let mut node = Node::new(spec);
    node.start()?;
    wait_registered(
        &namesrv_addr,
        "standalone-a",
        &broker_addr,
        Instant::now() + Duration::from_secs(30),
    )?;
    ensure!(
        node.find_output_line("The Name Server boot success")
            .is_some(),
        "no NameServer boot line:\n{}",
        node.log_tail()
    );

    let admin = AdminClient::new(namesrv_addr.clone());
    runtime()?.block_on(async {
        admin
            .create_topic_and_wait(&broker_addr, "StandaloneTopic", 2, Duration::from_secs(30))
            .await?;
        let message = OutgoingMessage {
            topic: "StandaloneTopic".to_owned(),
            queue_id: 1,
            tags: Some("S".to_owned()),
            keys: vec!["standalone".to_owned()],
            properties: vec![("p".to_owned(), "v".to_owned())],
            body: b"one process\x00\xff".to_vec(),
        };
        let receipt = admin
            .send(&broker_addr, "standalone-producer", &message)
            .await?;
        let pulled = admin
            .pull_all(
                &broker_addr,
                "standalone-consumer",
                "StandaloneTopic",
                1,
                0,
                10,
            )
            .await?;
        ensure!(pulled.len() == 1, "pulled {pulled:?}");
        ensure!(pulled[0].body == message.body, "body differs");
        ensure!(
            pulled[0].queue_offset == receipt.queue_offset,
            "offset differs"
        );
        ensure!(pulled[0].properties.get("p") == Some("v"), "property lost");
        anyhow::Ok(())
    })?;
    ensure!(
        store.join("commitlog").is_dir(),
        "no commitlog under {}",
        store.display()
    );

    let status = node.stop(Duration::from_secs(30))?;
    ensure!(status.success(), "ferric exit status on SIGTERM: {status}");
    Ok(())
}

#[test]
fn ferric_help_documents_where_the_namesrv_listens() -> Result<()> {
    let dir = TestDir::new("standalone-help")?;
    let output = std::process::Command::new(binary_path(FERRIC)?)
        .arg("--help")
        .env("HOME", dir.path())
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "ferric --help: {}\n{text}",
        output.status
    );
    for expected in [
        "Usage: ferric [standalone]",
        "port of the first -n / namesrvAddr address",
        "listenPort",
        "storePathRootDir",
    ] {
        ensure!(
            text.contains(expected),
            "ferric --help lacks {expected:?}:\n{text}"
        );
    }
    Ok(())
}
