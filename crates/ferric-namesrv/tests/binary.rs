//! Runs the built `mqnamesrv`: `--help`, `-p`, config errors, and a real
//! start / request / SIGTERM cycle with a temporary HOME.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{TIMEOUT, client, request};
use ferric_protocol::RequestCode;
use ferric_protocol::body::ClusterInfo;
use ferric_protocol::fastjson;

const BIN: &str = env!("CARGO_BIN_EXE_mqnamesrv");

fn run(args: &[&str], home: &std::path::Path) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("HOME", home)
        .env_remove("FERRIC_LOG_DIR")
        .output()
        .unwrap()
}

#[test]
fn help_and_print_config_items() {
    let home = tempfile::tempdir().unwrap();
    let help = run(&["--help"], home.path());
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("--configFile") && text.contains("--printConfigItem"),
        "{text}"
    );

    let printed = run(&["-p"], home.path());
    assert!(printed.status.success());
    let text = String::from_utf8_lossy(&printed.stdout);
    assert!(text.lines().any(|l| l == "listenPort=9876"), "{text}");
    let kv_line = format!(
        "kvConfigPath={}",
        home.path().join("namesrv/kvConfig.json").display()
    );
    assert!(text.lines().any(|l| l == kv_line), "{text}");

    // -n is accepted and ignored; overrides win over the file.
    let conf = home.path().join("namesrv.conf");
    std::fs::write(&conf, "listenPort = 9999\nbogusKey=1\n").unwrap();
    let printed = run(
        &[
            "-n",
            "127.0.0.1:9876",
            "-c",
            conf.to_str().unwrap(),
            "-p",
            "listenPort=9877",
        ],
        home.path(),
    );
    assert!(printed.status.success());
    let text = String::from_utf8_lossy(&printed.stdout);
    assert!(text.lines().any(|l| l == "listenPort=9877"), "{text}");
    let warnings = String::from_utf8_lossy(&printed.stderr);
    assert!(warnings.contains("bogusKey"), "{warnings}");
}

#[test]
fn malformed_value_fails_naming_key_and_value() {
    let home = tempfile::tempdir().unwrap();
    let out = run(&["-p", "orderMessageEnable=maybe"], home.path());
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("orderMessageEnable") && text.contains("maybe"),
        "{text}"
    );
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn boots_answers_and_stops_cleanly_on_sigterm() {
    let home = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(BIN)
        .arg(format!("listenPort={port}"))
        .env("HOME", home.path())
        .env_remove("FERRIC_LOG_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let expected =
        format!("The Name Server boot success. serializeType=JSON, address 0.0.0.0:{port}");
    let boot = lines_rx.recv_timeout(Duration::from_secs(30));
    if boot.as_deref() != Ok(expected.as_str()) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("unexpected first stdout line {boot:?}");
    }

    let peer = client();
    let reply = peer
        .invoke(
            &format!("127.0.0.1:{port}"),
            request(RequestCode::GET_BROKER_CLUSTER_INFO, &[]),
            TIMEOUT,
        )
        .await;
    peer.shutdown().await;

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");

    let reply = reply.unwrap();
    assert_eq!(reply.code, 0);
    let info: ClusterInfo = fastjson::from_slice(&reply.body).unwrap();
    assert!(info.broker_addr_table.is_empty());

    let log = std::fs::read_to_string(home.path().join("logs/rocketmqlogs/namesrv.log")).unwrap();
    assert!(log.contains(&expected), "{log}");
    assert!(log.contains("shutdown hook over"), "{log}");
}
