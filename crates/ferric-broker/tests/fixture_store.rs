//! Loads what Java RocketMQ 4.9.8 wrote: the `store-clean` fixture's `config/*.json`, and the
//! whole store served by a Ferric broker. Everything is copied to a temp dir first.

mod common;

use std::path::{Path, PathBuf};

use common::capture::java_fixture;
use common::*;
use ferric_broker::BrokerConfig;
use ferric_broker::group_manager::SubscriptionGroupManager;
use ferric_broker::offset_manager::ConsumerOffsetManager;
use ferric_broker::topic_manager::TopicConfigManager;

fn fixture_store() -> PathBuf {
    java_fixture("store-clean")
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn fixture_config(root: &Path) -> BrokerConfig {
    let mut config = BrokerConfig {
        store_path_root_dir: root.display().to_string(),
        broker_name: "broker-a".to_owned(),
        broker_ip1: "127.0.0.1".to_owned(),
        listen_port: 20911,
        mapped_file_size_commit_log: 1_048_576,
        mapped_file_size_consume_queue: 120_000,
        max_hash_slot_num: 1000,
        max_index_num: 4000,
        ..BrokerConfig::default()
    };
    config.finish().expect("valid");
    config
}

#[test]
fn java_config_files_load() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    copy_dir(&fixture_store().join("config"), &dir.path().join("config"))?;
    let config = fixture_config(dir.path());

    let topics = TopicConfigManager::load(&config)?;
    let fx = topics.get("FxTopicA").expect("FxTopicA");
    assert_eq!(
        (fx.read_queue_nums, fx.write_queue_nums, fx.perm),
        (4, 4, 6)
    );
    assert_eq!(
        topics
            .get("%RETRY%CID_fx_push")
            .expect("retry")
            .read_queue_nums,
        1
    );
    assert_eq!(topics.data_version().counter, 13);

    let groups = SubscriptionGroupManager::load(&config)?;
    let push = groups.get("CID_fx_push").expect("group");
    assert_eq!((push.retry_max_times, push.retry_queue_nums), (16, 1));
    assert!(groups.get("CID_ONSAPI_OWNER").is_some());

    let offsets = ConsumerOffsetManager::load(&config)?;
    assert_eq!(offsets.query("CID_fx_push", "FxTopicA", 1), Some(3));
    assert_eq!(
        offsets.query("CID_fx_push", "%RETRY%CID_fx_push", 0),
        Some(1)
    );

    // Written back in the same shape and read again.
    topics.persist()?;
    groups.persist()?;
    offsets.persist()?;
    let reread = ConsumerOffsetManager::load(&config)?;
    assert_eq!(
        reread.offsets_of("CID_fx_push", "FxTopicA"),
        offsets.offsets_of("CID_fx_push", "FxTopicA")
    );
    assert_eq!(TopicConfigManager::load(&config)?.get("FxTopicA"), Some(fx));
    Ok(())
}

#[tokio::test]
async fn a_java_store_is_served() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    copy_dir(&fixture_store(), dir.path())?;
    let broker = TestBroker::start(fixture_config(dir.path())).await?;
    let mut total = 0;
    for queue_id in 0..4 {
        let pulled = broker
            .call(pull("CG_fixture", "FxTopicA", queue_id, 0, "*", None))
            .await?;
        assert_eq!(pulled.code, 0, "queue {queue_id}: {:?}", pulled.remark);
        total += split_records(&pulled.body).len();
    }
    assert!(
        total >= 11,
        "FxTopicA holds the 11 messages of the recording, got {total}"
    );
    broker.stop().await
}
