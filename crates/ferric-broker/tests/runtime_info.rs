//! GET_BROKER_RUNTIME_INFO over real TCP: the delay-level progress
//! `scheduleMessageOffset_<level>` = `"<delayOffset>,<maxOffset>"` for every level.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{TestBroker, send_v2, test_config};
use ferric_protocol::body::KvTable;
use ferric_protocol::fastjson::from_slice;
use ferric_protocol::{RemotingCommand, RequestCode};

/// Level 2 is 1 s; every other level 60 s.
const LEVELS: &str = "60s 1s 60s 60s";

async fn runtime_info(broker: &TestBroker) -> anyhow::Result<BTreeMap<String, String>> {
    let response = broker
        .call(RemotingCommand::request(
            RequestCode::GET_BROKER_RUNTIME_INFO.0,
        ))
        .await?;
    anyhow::ensure!(response.code == 0, "refused: {:?}", response.remark);
    Ok(from_slice::<KvTable>(&response.body)?.table)
}

fn schedule_entries(table: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    table
        .iter()
        .filter(|(key, _)| key.starts_with("scheduleMessageOffset_"))
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect()
}

#[tokio::test]
async fn runtime_info_reports_every_delay_level() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.message_delay_level = LEVELS.to_owned();
    let broker = TestBroker::start(config).await?;

    let table = runtime_info(&broker).await?;
    assert_eq!(
        schedule_entries(&table),
        vec![
            ("scheduleMessageOffset_1", "0,0"),
            ("scheduleMessageOffset_2", "0,0"),
            ("scheduleMessageOffset_3", "0,0"),
            ("scheduleMessageOffset_4", "0,0"),
        ],
        "{table:?}"
    );
    assert!(table.contains_key("commitLogMaxOffset"), "{table:?}");

    let props = "DELAY\u{1}2\u{2}WAIT\u{1}true\u{2}";
    for body in [&b"first"[..], b"second"] {
        let sent = broker.call(send_v2("RI_topic", 0, body, props)).await?;
        assert_eq!(sent.code, 0, "{:?}", sent.remark);
    }
    let sent = broker
        .call(send_v2("RI_topic", 0, b"later", "DELAY\u{1}4\u{2}"))
        .await?;
    assert_eq!(sent.code, 0, "{:?}", sent.remark);

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let table = runtime_info(&broker).await?;
        let level_two = table.get("scheduleMessageOffset_2").map(String::as_str);
        if level_two == Some("2,2") {
            assert_eq!(
                table.get("scheduleMessageOffset_4").map(String::as_str),
                Some("0,1"),
                "{table:?}"
            );
            assert_eq!(
                table.get("scheduleMessageOffset_1").map(String::as_str),
                Some("0,0"),
                "{table:?}"
            );
            break;
        }
        assert!(
            matches!(level_two, Some("0,2" | "1,2")),
            "level 2 progress: {table:?}"
        );
        assert!(
            Instant::now() < deadline,
            "level 2 never delivered: {table:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    broker.stop().await
}
