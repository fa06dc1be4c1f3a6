//! Shared helpers: Java 4.9.8 capture frames, an in-process NameServer on
//! port 0, request builders.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::BytesMut;
use ferric_namesrv::{NameServer, NameServerHandle, NamesrvConfig};
use ferric_protocol::body::{
    DataVersion, RegisterBrokerBody, TopicConfigBody, TopicConfigSerializeWrapper,
};
use ferric_protocol::{DEFAULT_MAX_FRAME_LENGTH, RemotingCommand, RequestCode, decode_frame};
use ferric_remoting::{ClientConfig, RemotingClient};
use tokio::net::TcpListener;

pub const TIMEOUT: Duration = Duration::from_secs(5);

/// One recorded frame.
#[derive(Debug, Clone)]
pub struct Frame {
    pub file: String,
    pub conn: u64,
    pub dir: String,
    pub kind: String,
    pub t_ms: u64,
    pub command: RemotingCommand,
}

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/java-4.9.8")
}

/// The NameServer frames of one capture file, in file order.
pub fn namesrv_frames(relative: &str) -> Vec<Frame> {
    let path = fixture_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut frames = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        if value["peer"] != "namesrv" {
            continue;
        }
        let bytes = hex::decode(value["hex"].as_str().unwrap()).unwrap();
        let mut buf = BytesMut::from(&bytes[..]);
        let command = decode_frame(&mut buf, DEFAULT_MAX_FRAME_LENGTH)
            .unwrap()
            .expect("a complete frame");
        assert!(buf.is_empty(), "one frame per line");
        frames.push(Frame {
            file: relative.to_string(),
            conn: value["conn"].as_u64().unwrap(),
            dir: value["dir"].as_str().unwrap().to_string(),
            kind: value["kind"].as_str().unwrap().to_string(),
            t_ms: value["t_ms"].as_u64().unwrap(),
            command,
        });
    }
    frames
}

/// A NameServer on 127.0.0.1:0 whose KV config lives at `kv_path`.
pub async fn start_server(mut config: NamesrvConfig, kv_path: &Path) -> (NameServerHandle, String) {
    config.kv_config_path = kv_path.display().to_string();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = NameServer::start(config, listener).await.unwrap();
    let addr = handle.local_addr().to_string();
    (handle, addr)
}

pub fn client() -> RemotingClient {
    RemotingClient::new(ClientConfig::default())
}

pub fn request(code: RequestCode, ext: &[(&str, &str)]) -> RemotingCommand {
    let mut command = RemotingCommand::request(code.0);
    for (key, value) in ext {
        command.set_ext(*key, *value);
    }
    command
}

pub fn topic(name: &str, queues: i32) -> TopicConfigBody {
    TopicConfigBody {
        topic_name: name.to_string(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm: 6,
        ..TopicConfigBody::default()
    }
}

pub fn register_body(counter: i64, topics: &[TopicConfigBody]) -> RegisterBrokerBody {
    RegisterBrokerBody {
        topic_config_serialize_wrapper: TopicConfigSerializeWrapper {
            topic_config_table: topics
                .iter()
                .map(|t| (t.topic_name.clone(), t.clone()))
                .collect(),
            data_version: DataVersion {
                state_version: None,
                timestamp: 1_700_000_000_000,
                counter,
            },
            ..TopicConfigSerializeWrapper::default()
        },
        filter_server_list: Vec::new(),
    }
}

/// A REGISTER_BROKER request for `broker-a` with a JSON body and its CRC.
pub fn register_request(addr: &str, id: i64, body: &RegisterBrokerBody) -> RemotingCommand {
    let bytes = body.to_json().unwrap();
    let crc = ferric_common::crc32_masked(&bytes).to_string();
    let id_text = id.to_string();
    request(
        RequestCode::REGISTER_BROKER,
        &[
            ("brokerName", "broker-a"),
            ("brokerAddr", addr),
            ("clusterName", "DefaultCluster"),
            ("haServerAddr", &addr.replace(":10911", ":10912")),
            ("brokerId", &id_text),
            ("compressed", "false"),
            ("bodyCrc32", &crc),
        ],
    )
    .with_body(bytes)
}
