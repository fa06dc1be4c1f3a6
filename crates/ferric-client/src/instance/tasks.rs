//! Background services of a [`ClientInstance`]: route refresh (30 s), heartbeats (30 s and when
//! a new broker appears or a group registers) and rebalancing (20 s and on demand).
//!
//! Tasks hold only a weak reference, so a forgotten instance still stops.

use std::sync::{Arc, Weak};
use std::time::Duration;

use ferric_common::topic::names::CLIENT_INNER_PRODUCER_GROUP;
use ferric_protocol::body::{HeartbeatData, ProducerData};

use super::{ClientInstance, InstanceInner, watched_topics};

/// Rebalance period (`rebalanceInterval`, 20 s).
pub const REBALANCE_INTERVAL: Duration = Duration::from_secs(20);

pub(super) fn start(instance: &ClientInstance) {
    let inner = &instance.inner;
    let weak = Arc::downgrade(inner);
    inner.tasks.spawn(route_loop(
        weak.clone(),
        inner.config.poll_name_server_interval,
    ));
    inner.tasks.spawn(heartbeat_loop(
        weak.clone(),
        inner.config.heartbeat_broker_interval,
    ));
    inner.tasks.spawn(rebalance_loop(weak));
}

fn upgrade(weak: &Weak<InstanceInner>) -> Option<ClientInstance> {
    weak.upgrade()
        .filter(|inner| !inner.shutdown.is_cancelled())
        .map(|inner| ClientInstance { inner })
}

async fn route_loop(weak: Weak<InstanceInner>, period: Duration) {
    let Some(token) = weak.upgrade().map(|inner| inner.shutdown.clone()) else {
        return;
    };
    loop {
        tokio::select! {
            () = token.cancelled() => return,
            () = tokio::time::sleep(period) => {}
        }
        let Some(instance) = upgrade(&weak) else {
            return;
        };
        for topic in watched_topics(&instance) {
            if let Err(error) = instance.update_route(&topic).await {
                tracing::debug!(%topic, %error, "route refresh failed");
            }
        }
    }
}

async fn heartbeat_loop(weak: Weak<InstanceInner>, period: Duration) {
    let Some(token) = weak.upgrade().map(|inner| inner.shutdown.clone()) else {
        return;
    };
    loop {
        let notified = match weak.upgrade() {
            Some(inner) => async move { inner.heartbeat_now.notified().await },
            None => return,
        };
        tokio::select! {
            () = token.cancelled() => return,
            () = tokio::time::sleep(period) => {}
            () = notified => {}
        }
        let Some(instance) = upgrade(&weak) else {
            return;
        };
        send_heartbeat_to_all(&instance).await;
    }
}

async fn rebalance_loop(weak: Weak<InstanceInner>) {
    let Some(token) = weak.upgrade().map(|inner| inner.shutdown.clone()) else {
        return;
    };
    loop {
        let notified = match weak.upgrade() {
            Some(inner) => async move { inner.rebalance_now.notified().await },
            None => return,
        };
        tokio::select! {
            () = token.cancelled() => return,
            () = tokio::time::sleep(REBALANCE_INTERVAL) => {}
            () = notified => {}
        }
        let Some(instance) = upgrade(&weak) else {
            return;
        };
        let consumers: Vec<_> = instance.inner.consumers.read().values().cloned().collect();
        for consumer in consumers {
            consumer.rebalance().await;
        }
    }
}

/// The heartbeat body: every producer group (plus `CLIENT_INNER_PRODUCER`) and consumer.
pub(crate) fn heartbeat_data(instance: &ClientInstance) -> HeartbeatData {
    let mut groups: Vec<String> = instance
        .inner
        .producer_groups
        .read()
        .iter()
        .cloned()
        .collect();
    groups.push(CLIENT_INNER_PRODUCER_GROUP.to_owned());
    groups.sort();
    groups.dedup();
    let mut consumers: Vec<_> = instance
        .inner
        .consumers
        .read()
        .values()
        .map(|c| c.consumer_data())
        .collect();
    consumers.sort_by(|a, b| a.group_name.cmp(&b.group_name));
    HeartbeatData {
        client_id: instance.inner.client_id.clone(),
        producer_data_set: groups
            .into_iter()
            .map(|group_name| ProducerData { group_name })
            .collect(),
        consumer_data_set: consumers,
        heartbeat_fingerprint: None,
        without_sub: None,
    }
}

/// Heartbeats every master (and slaves too when there are consumers).
pub(crate) async fn send_heartbeat_to_all(instance: &ClientInstance) {
    let data = heartbeat_data(instance);
    let only_producers = data.consumer_data_set.is_empty();
    if only_producers && instance.inner.producer_groups.read().is_empty() {
        return;
    }
    let timeout = instance.inner.config.mq_client_api_timeout;
    for (addr, is_master) in instance.all_broker_addrs() {
        if only_producers && !is_master {
            continue;
        }
        match instance.api().heartbeat(&addr, &data, timeout).await {
            Ok(version) => tracing::trace!(%addr, version, "heartbeat sent"),
            Err(error) => tracing::debug!(%addr, %error, "heartbeat failed"),
        }
    }
}
