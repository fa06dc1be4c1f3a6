//! HEART_BEAT from clients that are not Java: the body Apache's C++ client sends (enum ordinals,
//! `subVersion` as text, fields left out) registers the consumer, and a body the broker cannot
//! read is answered with SYSTEM_ERROR and logged as a warning naming the code and the peer.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::{TestBroker, test_config};
use ferric_protocol::body::ConsumerIdList;
use ferric_protocol::fastjson::from_slice;
use ferric_protocol::header::GetConsumerListByGroupRequestHeader;
use ferric_protocol::{RemotingCommand, RequestCode, ResponseCode};

/// The HEART_BEAT body of PyPI `rocketmq` 0.4.4 (rocketmq-client-cpp), byte for byte.
const CPP_HEARTBEAT: &[u8] = b"{\"clientID\":\"24575-127.0.0.1@DEFAULT\",\"consumerDataSet\":[{\"consumeFromWhere\":0,\"consumeType\":1,\"groupName\":\"cg_cap2\",\"messageModel\":1,\"subscriptionDataSet\":[{\"subString\":\"*\",\"subVersion\":\"1795315763488\",\"topic\":\"%RETRY%cg_cap2\"},{\"codeSet\":[0,0],\"subString\":\"TagA || TagB\",\"subVersion\":\"1795315763488\",\"tagsSet\":[\"TagA\",\"TagB\"],\"topic\":\"TopicCap\"}]}],\"producerDataSet\":[{\"groupName\":\"pg_cap\"}]}\n";

/// Log lines written by the broker while the test runs.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn heartbeat(body: &'static [u8]) -> RemotingCommand {
    RemotingCommand::request(RequestCode::HEART_BEAT.0).with_body(Bytes::from_static(body))
}

#[tokio::test]
async fn cpp_heartbeat_registers_and_unreadable_heartbeat_is_logged() -> anyhow::Result<()> {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir()?;
    let broker = TestBroker::start(test_config(dir.path())).await?;

    let response = broker.call(heartbeat(CPP_HEARTBEAT)).await?;
    assert_eq!(
        response.code,
        ResponseCode::SUCCESS.0,
        "{:?}",
        response.remark
    );
    let request = RemotingCommand::request(RequestCode::GET_CONSUMER_LIST_BY_GROUP.0).with_header(
        &GetConsumerListByGroupRequestHeader {
            consumer_group: "cg_cap2".to_owned(),
        },
    );
    let response = broker.call(request).await?;
    assert_eq!(
        response.code,
        ResponseCode::SUCCESS.0,
        "{:?}",
        response.remark
    );
    let ids: ConsumerIdList = from_slice(&response.body)?;
    assert_eq!(ids.consumer_id_list, vec!["24575-127.0.0.1@DEFAULT"]);
    assert!(
        !logs.text().contains("request does not parse"),
        "{}",
        logs.text()
    );

    let response = broker
        .call(heartbeat(
            br#"{"consumerDataSet":[{"consumeType":{"x":1}}]}"#,
        ))
        .await?;
    assert_eq!(response.code, ResponseCode::SYSTEM_ERROR.0);
    let text = logs.text();
    let line = text
        .lines()
        .find(|line| line.contains("request does not parse"))
        .unwrap_or_else(|| panic!("no warning for the unreadable heartbeat in:\n{text}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("code=34"), "{line}");
    assert!(line.contains("peer=127.0.0.1:"), "{line}");
    assert!(line.contains("ConsumeType"), "{line}");
    assert!(line.contains(r#"body={\"consumerDataSet\""#), "{line}");

    broker.stop().await
}
