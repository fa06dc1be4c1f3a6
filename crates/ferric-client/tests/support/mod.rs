//! Shared helpers for the end-to-end tests: a real NameServer + Broker from `ferric-testkit`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use ferric_client::consumer::push::ConsumeConcurrentlyStatus;
use ferric_client::{ClientConfig, MessageBuilder, Producer};
use ferric_common::MessageExt;
use ferric_testkit::{ClusterOptions, FerricCluster};
use parking_lot::Mutex;

/// Starts a cluster and creates `topic` with `queues` queues.
pub fn cluster_with_topic(
    rt: &tokio::runtime::Runtime,
    topics: &[(&str, i32)],
) -> Result<FerricCluster> {
    cluster_with_options(rt, ClusterOptions::default(), topics)
}

/// Starts a cluster with `options` (extra `broker.conf` keys) and creates `topics`.
pub fn cluster_with_options(
    rt: &tokio::runtime::Runtime,
    options: ClusterOptions,
    topics: &[(&str, i32)],
) -> Result<FerricCluster> {
    let cluster = FerricCluster::start_namesrv_and_broker(options)?;
    let admin = cluster.admin();
    let broker = cluster.broker_addr();
    rt.block_on(async {
        for (topic, queues) in topics {
            admin
                .create_topic_and_wait(&broker, topic, *queues, Duration::from_secs(30))
                .await
                .with_context(|| format!("creating {topic}"))?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(cluster)
}

/// Client settings for tests: fast route refresh and heartbeats.
pub fn client_config(cluster: &FerricCluster) -> ClientConfig {
    let mut config = ClientConfig::new(&cluster.namesrv_addr());
    config.poll_name_server_interval = Duration::from_secs(2);
    config.heartbeat_broker_interval = Duration::from_secs(2);
    config.persist_consumer_offset_interval = Duration::from_secs(1);
    config
}

/// A started producer.
pub async fn producer(cluster: &FerricCluster, group: &str) -> Result<Producer> {
    Ok(Producer::builder()
        .client_config(client_config(cluster))
        .group(group)
        .build()
        .await?)
}

/// Sends `count` messages with bodies `<prefix>-<i>`.
pub async fn send_numbered(
    producer: &Producer,
    topic: &str,
    prefix: &str,
    count: usize,
) -> Result<()> {
    for i in 0..count {
        let msg = MessageBuilder::new(topic, format!("{prefix}-{i}"))
            .tags("TagA")
            .keys([format!("{prefix}-key-{i}")])
            .build();
        producer
            .send(msg)
            .await
            .with_context(|| format!("send {i}"))?;
    }
    Ok(())
}

/// Collects consumed bodies per consumer name.
#[derive(Clone, Default)]
pub struct Collector {
    pub seen: Arc<Mutex<HashMap<String, Vec<String>>>>,
}

impl Collector {
    /// A concurrent listener that records bodies under `name`.
    pub fn listener(
        &self,
        name: &str,
    ) -> impl Fn(Vec<MessageExt>) -> std::future::Ready<ConsumeConcurrentlyStatus> + Send + Sync + 'static
    {
        let seen = Arc::clone(&self.seen);
        let name = name.to_owned();
        move |msgs| {
            let mut seen = seen.lock();
            let entry = seen.entry(name.clone()).or_default();
            for msg in msgs {
                entry.push(String::from_utf8_lossy(&msg.body).into_owned());
            }
            std::future::ready(ConsumeConcurrentlyStatus::ConsumeSuccess)
        }
    }

    /// Every body seen, across consumers.
    pub fn all(&self) -> Vec<String> {
        self.seen.lock().values().flatten().cloned().collect()
    }

    /// Bodies seen by `name`.
    pub fn of(&self, name: &str) -> Vec<String> {
        self.seen.lock().get(name).cloned().unwrap_or_default()
    }

    /// Waits until `done(self)` or the timeout.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&Self) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if done(self) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        done(self)
    }
}

/// Waits until `check` holds or the timeout passes.
pub async fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    check()
}
