//! Shared helpers: an in-process broker on port 0 with a small store in a temp dir, and a
//! remoting client that sends real frames.
#![allow(dead_code)]

pub mod capture;

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use ferric_broker::{BrokerConfig, BrokerController, BrokerHandle};
use ferric_common::message::MessageExt;
use ferric_common::record::{Parsed, parse_record};
use ferric_protocol::header::{
    PULL_FLAG_SUBSCRIPTION, PULL_FLAG_SUSPEND, PullMessageRequestHeader, SendMessageRequestHeaderV2,
};
use ferric_protocol::{RemotingCommand, RequestCode};
use ferric_remoting::{ClientConfig, RemotingClient};
use tokio::net::TcpListener;

pub const TIMEOUT: Duration = Duration::from_secs(10);

pub fn test_config(dir: &Path) -> BrokerConfig {
    let mut config = BrokerConfig {
        store_path_root_dir: dir.display().to_string(),
        broker_name: "broker-t".to_owned(),
        broker_ip1: "127.0.0.1".to_owned(),
        broker_ip2: "127.0.0.1".to_owned(),
        mapped_file_size_commit_log: 1024 * 1024,
        mapped_file_size_consume_queue: 6000 * 20,
        max_hash_slot_num: 1000,
        max_index_num: 4000,
        ..BrokerConfig::default()
    };
    config.finish().expect("test config is valid");
    config
}

pub struct TestBroker {
    pub handle: BrokerHandle,
    pub addr: String,
    pub client: RemotingClient,
}

impl TestBroker {
    pub async fn start(config: BrokerConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let handle = BrokerController::start(config, listener, None).await?;
        let addr = handle.local_addr().to_string();
        Ok(Self {
            handle,
            addr,
            client: RemotingClient::new(ClientConfig::default()),
        })
    }

    pub async fn call(&self, request: RemotingCommand) -> anyhow::Result<RemotingCommand> {
        Ok(self.client.invoke(&self.addr, request, TIMEOUT).await?)
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.client.shutdown().await;
        self.handle.shutdown().await?;
        Ok(())
    }
}

pub fn properties(tags: Option<&str>, keys: Option<&str>, uniq: Option<&str>) -> String {
    let mut props = String::new();
    for (k, v) in [
        ("TAGS", tags),
        ("KEYS", keys),
        ("UNIQ_KEY", uniq),
        ("WAIT", Some("true")),
    ] {
        if let Some(v) = v {
            props.push_str(k);
            props.push('\u{1}');
            props.push_str(v);
            props.push('\u{2}');
        }
    }
    props
}

pub fn send_v2(topic: &str, queue_id: i32, body: &[u8], props: &str) -> RemotingCommand {
    let header = SendMessageRequestHeaderV2 {
        a: "PID_test".to_owned(),
        b: topic.to_owned(),
        c: "TBW102".to_owned(),
        d: 4,
        e: queue_id,
        f: 0,
        g: 1_700_000_000_000,
        h: 0,
        i: Some(props.to_owned()),
        j: Some(0),
        k: Some(false),
        m: Some(false),
        ..SendMessageRequestHeaderV2::default()
    };
    RemotingCommand::request(RequestCode::SEND_MESSAGE_V2.0)
        .with_header(&header)
        .with_body(Bytes::copy_from_slice(body))
}

/// PULL_MESSAGE with a tag subscription; `suspend_ms` asks for a held pull.
pub fn pull(
    group: &str,
    topic: &str,
    queue_id: i32,
    offset: i64,
    subscription: &str,
    suspend_ms: Option<i64>,
) -> RemotingCommand {
    pull_request(
        group,
        topic,
        queue_id,
        offset,
        subscription,
        "TAG",
        suspend_ms,
    )
}

/// PULL_MESSAGE with an `expr` subscription of type `kind` (`TAG` or `SQL92`), not held.
pub fn pull_expr(
    group: &str,
    topic: &str,
    queue_id: i32,
    offset: i64,
    expr: &str,
    kind: &str,
) -> RemotingCommand {
    pull_request(group, topic, queue_id, offset, expr, kind, None)
}

fn pull_request(
    group: &str,
    topic: &str,
    queue_id: i32,
    offset: i64,
    subscription: &str,
    expression_type: &str,
    suspend_ms: Option<i64>,
) -> RemotingCommand {
    let mut sys_flag = PULL_FLAG_SUBSCRIPTION;
    if suspend_ms.is_some() {
        sys_flag |= PULL_FLAG_SUSPEND;
    }
    let header = PullMessageRequestHeader {
        consumer_group: group.to_owned(),
        topic: topic.to_owned(),
        queue_id,
        queue_offset: offset,
        max_msg_nums: 32,
        sys_flag,
        commit_offset: 0,
        suspend_timeout_millis: suspend_ms.unwrap_or(0),
        subscription: Some(subscription.to_owned()),
        sub_version: 0,
        expression_type: Some(expression_type.to_owned()),
        ..PullMessageRequestHeader::default()
    };
    RemotingCommand::request(RequestCode::PULL_MESSAGE.0).with_header(&header)
}

/// Splits a pull/query body into raw records.
pub fn split_records(body: &[u8]) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut rest = body;
    while rest.len() >= 4 {
        let size = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        assert!(size >= 4 && size <= rest.len(), "bad record size {size}");
        out.push(Bytes::copy_from_slice(&rest[..size]));
        rest = &rest[size..];
    }
    assert!(rest.is_empty(), "trailing bytes in body");
    out
}

pub fn decode(record: &[u8]) -> MessageExt {
    match parse_record(record).expect("record parses") {
        Parsed::Message(view) => view.to_message_ext(),
        other => panic!("not a message: {other:?}"),
    }
}
