//! The route cache of a [`ClientInstance`]: topic routes fetched from the NameServers (with
//! fail-over between them), the publish and subscribe queue views derived from them, the
//! TBW102 fallback for topics the NameServer does not know yet, and the broker address table.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use ferric_common::MessageQueue;
use ferric_common::topic::names::AUTO_CREATE_TOPIC_KEY_TOPIC;
use ferric_protocol::body::TopicRouteData;

use super::ClientInstance;
use super::route::{self, MASTER_ID, TopicPublishInfo, cap_default_route, subscribe_queues};
use crate::error::{ClientError, Result};

impl ClientInstance {
    /// Fetches `topic`'s route from a NameServer and refreshes every cache derived from it.
    /// `Ok(None)` when the NameServer does not know the topic.
    pub async fn update_route(&self, topic: &str) -> Result<Option<TopicRouteData>> {
        let Some(route) = self.fetch_route(topic).await? else {
            return Ok(None);
        };
        self.apply_route(topic, &route);
        Ok(Some(route))
    }

    async fn fetch_route(&self, topic: &str) -> Result<Option<TopicRouteData>> {
        let addrs = &self.inner.namesrv_addrs;
        let start = self.inner.namesrv_index.load(Ordering::Relaxed);
        let timeout = self.inner.config.mq_client_api_timeout;
        let mut last = None;
        for step in 0..addrs.len() {
            let index = (start + step) % addrs.len();
            match self
                .inner
                .api
                .get_topic_route(&addrs[index], topic, timeout)
                .await
            {
                Ok(route) => {
                    self.inner.namesrv_index.store(index, Ordering::Relaxed);
                    return Ok(route);
                }
                Err(error @ ClientError::Remoting { .. }) => last = Some(error),
                Err(error) => return Err(error),
            }
        }
        Err(last.unwrap_or(ClientError::NoNameServer))
    }

    fn apply_route(&self, topic: &str, route: &TopicRouteData) {
        let mut gained = false;
        {
            let mut table = self.inner.broker_addrs.write();
            for (name, addrs) in route::broker_addr_table(route) {
                let entry = table.entry(name).or_default();
                for (id, addr) in addrs {
                    if entry.insert(id, addr.clone()).as_ref() != Some(&addr) {
                        gained = true;
                    }
                }
            }
        }
        let changed = self.inner.routes.read().get(topic) != Some(route);
        if changed {
            self.inner
                .routes
                .write()
                .insert(topic.to_owned(), route.clone());
            let info = Arc::new(TopicPublishInfo::from_route(topic, route));
            let mut publish = self.inner.publish_infos.write();
            if publish.contains_key(topic) || info.ok() {
                publish.insert(topic.to_owned(), info);
            }
            self.inner
                .subscribe_infos
                .write()
                .insert(topic.to_owned(), subscribe_queues(topic, route));
        }
        if gained {
            self.inner.heartbeat_now.notify_one();
        }
    }

    /// Writable queues of `topic`: cached, else fetched; unknown topics fall back to TBW102's
    /// route capped at `default_topic_queue_nums` so the broker auto-creates the topic.
    pub async fn publish_info(
        &self,
        topic: &str,
        default_topic_queue_nums: i32,
    ) -> Result<Arc<TopicPublishInfo>> {
        if let Some(info) = self
            .inner
            .publish_infos
            .read()
            .get(topic)
            .filter(|i| i.ok())
        {
            return Ok(Arc::clone(info));
        }
        self.inner
            .publish_infos
            .write()
            .entry(topic.to_owned())
            .or_insert_with(|| {
                Arc::new(TopicPublishInfo::from_route(
                    topic,
                    &TopicRouteData::default(),
                ))
            });
        if self.update_route(topic).await?.is_some()
            && let Some(info) = self
                .inner
                .publish_infos
                .read()
                .get(topic)
                .filter(|i| i.ok())
        {
            return Ok(Arc::clone(info));
        }
        let Some(default_route) = self.fetch_route(AUTO_CREATE_TOPIC_KEY_TOPIC).await? else {
            return Err(ClientError::RouteNotFound {
                topic: topic.to_owned(),
            });
        };
        let capped = cap_default_route(default_route, default_topic_queue_nums);
        self.apply_route(AUTO_CREATE_TOPIC_KEY_TOPIC, &capped);
        let info = Arc::new(TopicPublishInfo::from_route(topic, &capped));
        if !info.ok() {
            return Err(ClientError::RouteNotFound {
                topic: topic.to_owned(),
            });
        }
        self.inner
            .publish_infos
            .write()
            .insert(topic.to_owned(), Arc::clone(&info));
        Ok(info)
    }

    /// Forgets the cached publish info of `topic` so the next send fetches it again.
    pub(crate) fn invalidate_publish_info(&self, topic: &str) {
        self.inner.publish_infos.write().remove(topic);
    }

    /// Readable queues of `topic`, fetching the route if it is not cached.
    pub async fn subscribe_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        if let Some(queues) = self.inner.subscribe_infos.read().get(topic) {
            return Ok(queues.clone());
        }
        match self.update_route(topic).await? {
            Some(route) => Ok(subscribe_queues(topic, &route)),
            None => Err(ClientError::RouteNotFound {
                topic: topic.to_owned(),
            }),
        }
    }

    /// Cached readable queues of `topic` (no fetch).
    pub(crate) fn cached_subscribe_queues(&self, topic: &str) -> Option<Vec<MessageQueue>> {
        self.inner.subscribe_infos.read().get(topic).cloned()
    }

    /// The master address of `broker_name`, if known.
    pub fn master_addr(&self, broker_name: &str) -> Option<String> {
        self.inner
            .broker_addrs
            .read()
            .get(broker_name)
            .and_then(|addrs| addrs.get(&MASTER_ID).cloned())
    }

    /// The master address of `broker_name`, refreshing `topic`'s route once if unknown.
    pub async fn master_addr_or_refresh(&self, broker_name: &str, topic: &str) -> Result<String> {
        if let Some(addr) = self.master_addr(broker_name) {
            return Ok(addr);
        }
        self.update_route(topic).await?;
        self.master_addr(broker_name)
            .ok_or_else(|| ClientError::BrokerNotFound {
                broker_name: broker_name.to_owned(),
            })
    }

    /// Any address of `broker_name`, preferring `broker_id`, then the master.
    pub fn broker_addr(&self, broker_name: &str, broker_id: i64) -> Option<String> {
        let table = self.inner.broker_addrs.read();
        let addrs = table.get(broker_name)?;
        addrs
            .get(&broker_id)
            .or_else(|| addrs.get(&MASTER_ID))
            .or_else(|| addrs.values().next())
            .cloned()
    }

    /// Every known broker address, with whether it is a master.
    pub(crate) fn all_broker_addrs(&self) -> Vec<(String, bool)> {
        self.inner
            .broker_addrs
            .read()
            .values()
            .flat_map(|addrs| {
                addrs
                    .iter()
                    .map(|(id, addr)| (addr.clone(), *id == MASTER_ID))
            })
            .collect()
    }

    /// Any address among the brokers serving `topic` (for GET_CONSUMER_LIST_BY_GROUP).
    pub(crate) async fn any_broker_addr_of(&self, topic: &str) -> Result<String> {
        let cached = self.inner.routes.read().get(topic).cloned();
        let route = match cached {
            Some(route) => route,
            None => self
                .update_route(topic)
                .await?
                .ok_or_else(|| ClientError::RouteNotFound {
                    topic: topic.to_owned(),
                })?,
        };
        let names: Vec<String> = route
            .broker_datas
            .iter()
            .map(|b| b.broker_name.clone())
            .collect();
        if names.is_empty() {
            return Err(ClientError::RouteNotFound {
                topic: topic.to_owned(),
            });
        }
        let pick = rand::random::<u32>() as usize % names.len();
        self.broker_addr(&names[pick], MASTER_ID)
            .ok_or_else(|| ClientError::BrokerNotFound {
                broker_name: names[pick].clone(),
            })
    }
}
