//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use ferric_common::message::MessageExt;
use ferric_common::record::{Parsed, parse_record};
use ferric_store::{FlushDiskType, MessageStoreConfig};

pub fn small_config(root: &Path, flush: FlushDiskType) -> MessageStoreConfig {
    let mut config = MessageStoreConfig::with_root(root);
    config.mapped_file_size_commit_log = 64 * 1024;
    config.mapped_file_size_consume_queue = 20 * 64;
    config.max_hash_slot_num = 64;
    config.max_index_num = 256;
    config.max_message_size = 16 * 1024;
    config.flush_disk_type = flush;
    config.sync_flush_timeout = Duration::from_secs(10);
    config
}

pub fn message(topic: &str, queue_id: i32, body: Vec<u8>, key: &str) -> MessageExt {
    let mut message = MessageExt {
        topic: topic.into(),
        queue_id,
        body: Bytes::from(body),
        born_timestamp: 1,
        born_host: "127.0.0.1:1234".parse::<SocketAddr>().unwrap(),
        store_host: "127.0.0.1:10911".parse::<SocketAddr>().unwrap(),
        ..MessageExt::default()
    };
    message.properties.insert("KEYS", key);
    message
        .properties
        .insert("TAGS", if queue_id % 2 == 0 { "TagA" } else { "TagB" });
    message
}

pub fn body_of(raw: &[u8]) -> Vec<u8> {
    match parse_record(raw) {
        Ok(Parsed::Message(view)) => {
            assert!(view.verify_body_crc());
            view.body.to_vec()
        }
        other => panic!("not a record: {other:?}"),
    }
}
