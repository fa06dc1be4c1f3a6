//! Admin requests: topics (17, 215, 21), subscription groups (200, 207, 201), runtime info (28),
//! topic stats (202), consume stats (208), connections (203, 204), broker config (26) and
//! QUERY_TOPIC_CONSUME_BY_WHO (300).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ferric_common::{TopicConfig, TopicFilterType};
use ferric_protocol::body::{
    ConsumeStats, ConsumerConnection, GroupList, KvTable, OffsetWrapper, ProducerConnection,
    SubscriptionGroupConfig, TopicOffset, TopicStatsTable,
};
use ferric_protocol::fastjson::{MessageQueueBody, MqKeyMap};
use ferric_protocol::header::{
    CreateTopicRequestHeader, DeleteSubscriptionGroupRequestHeader, GetBrokerConfigResponseHeader,
    GetConsumeStatsRequestHeader, GetConsumerConnectionListRequestHeader,
    GetProducerConnectionListRequestHeader, TopicRequestHeader,
};
use ferric_protocol::{CURRENT_VERSION, RemotingCommand, RequestCode, ResponseCode};

use super::{decode_body, encode_body, success};
use crate::context::BrokerContext;
use crate::error::BrokerError;
use crate::stats::CounterSample;
use crate::topic_manager::{system_topics, topic_name_problem};

type AdminResult = Result<RemotingCommand, BrokerError>;

/// Handles an admin code; `None` when the code is not an admin code Ferric serves.
pub async fn handle(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> Option<AdminResult> {
    let result = match RequestCode(request.code) {
        RequestCode::UPDATE_AND_CREATE_TOPIC => update_topic(ctx, request),
        RequestCode::DELETE_TOPIC_IN_BROKER => delete_topic(ctx, request),
        RequestCode::GET_ALL_TOPIC_CONFIG => {
            encode_body(&ctx.topics.wrapper()).map(|body| success(request).with_body(body))
        }
        RequestCode::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP => update_group(ctx, request),
        RequestCode::DELETE_SUBSCRIPTIONGROUP => delete_group(ctx, request),
        RequestCode::GET_ALL_SUBSCRIPTIONGROUP_CONFIG => {
            encode_body(&ctx.groups.wrapper()).map(|body| success(request).with_body(body))
        }
        RequestCode::GET_BROKER_RUNTIME_INFO => runtime_info(ctx, request).await,
        RequestCode::GET_TOPIC_STATS_INFO => topic_stats(ctx, request).await,
        RequestCode::GET_CONSUME_STATS => consume_stats(ctx, request).await,
        RequestCode::GET_CONSUMER_CONNECTION_LIST => consumer_connections(ctx, request),
        RequestCode::GET_PRODUCER_CONNECTION_LIST => producer_connections(ctx, request),
        RequestCode::GET_BROKER_CONFIG => broker_config(ctx, request),
        RequestCode::QUERY_TOPIC_CONSUME_BY_WHO => consume_by_who(ctx, request),
        _ => return None,
    };
    Some(result)
}

fn update_topic(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> AdminResult {
    let header: CreateTopicRequestHeader = request.decode_header()?;
    if let Some(problem) = topic_name_problem(&header.topic) {
        return Err(BrokerError::refused(
            ResponseCode::INVALID_PARAMETER,
            problem,
        ));
    }
    let is_system = system_topics(&ctx.config)
        .iter()
        .any(|t| t.topic_name == header.topic);
    if header.topic == ctx.config.broker_cluster_name || is_system {
        return Err(BrokerError::refused(
            ResponseCode::INVALID_PARAMETER,
            format!("The topic[{}] is conflict with system topic.", header.topic),
        ));
    }
    let mut topic = TopicConfig::with_queues(
        header.topic.clone(),
        header.read_queue_nums,
        header.write_queue_nums,
        header.perm,
    );
    topic.topic_filter_type = header
        .topic_filter_type
        .parse()
        .unwrap_or(TopicFilterType::SingleTag);
    topic.topic_sys_flag = header.topic_sys_flag.unwrap_or(0);
    topic.order = header.order;
    ctx.topics.update(topic);
    ctx.topics_changed();
    Ok(success(request))
}

fn delete_topic(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> AdminResult {
    let header: TopicRequestHeader = request.decode_header()?;
    ctx.topics.delete(&header.topic);
    ctx.offsets.remove_topic(&header.topic);
    ctx.topics_changed();
    Ok(success(request))
}

fn update_group(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> AdminResult {
    let config: SubscriptionGroupConfig = decode_body(request)?;
    if config.group_name.is_empty()
        || !ferric_common::topic::has_only_valid_name_chars(&config.group_name)
    {
        return Err(BrokerError::refused(
            ResponseCode::INVALID_PARAMETER,
            format!("the group name[{}] is illegal", config.group_name),
        ));
    }
    ctx.groups.update(config);
    ctx.groups_changed();
    Ok(success(request))
}

fn delete_group(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> AdminResult {
    let header: DeleteSubscriptionGroupRequestHeader = request.decode_header()?;
    ctx.groups.delete(&header.group_name);
    if header.should_clean_offset() {
        ctx.offsets.remove_group(&header.group_name);
    }
    ctx.groups_changed();
    Ok(success(request))
}

async fn runtime_info(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> AdminResult {
    let store = ctx.store()?;
    let now = crate::persist::now_ms();
    let stats = store.stats();
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    let sample = CounterSample {
        at_ms: now,
        put: load(&stats.put_message_times_total),
        get_found: load(&stats.get_message_times_total_found),
        get_miss: load(&stats.get_message_times_total_miss),
        get_transferred: load(&stats.get_message_transferred_msg_count),
    };
    let size_total = load(&stats.put_message_size_total);
    let schedule_ctx = Arc::clone(ctx);
    let (min, max, earliest, schedule_stats) = ctx
        .with_store(move |s| {
            (
                s.commit_log_min_offset(),
                s.commit_log_max_offset(),
                s.get_earliest_commit_log_time().unwrap_or(-1),
                schedule_ctx.schedule.running_stats(s),
            )
        })
        .await?;
    let mut table = schedule_stats;
    let mut put = |k: &str, v: String| {
        table.insert(k.to_owned(), v);
    };
    put("brokerVersionDesc", "V4_9_8".to_owned());
    put("brokerVersion", CURRENT_VERSION.to_string());
    put("brokerActive", "true".to_owned());
    put("bootTimestamp", ctx.boot_timestamp.to_string());
    put("runtime", format_runtime(now - ctx.boot_timestamp));
    put("startAcceptSendRequestTimeStamp", "0".to_owned());
    put("msgPutTotalTodayNow", sample.put.to_string());
    put("msgPutTotalTodayMorning", "0".to_owned());
    put("msgPutTotalYesterdayMorning", "0".to_owned());
    put("msgGetTotalTodayNow", sample.get_transferred.to_string());
    put("msgGetTotalTodayMorning", "0".to_owned());
    put("msgGetTotalYesterdayMorning", "0".to_owned());
    put("putTps", ctx.stats.tps(sample, |s| s.put));
    put(
        "getTotalTps",
        ctx.stats.tps(sample, |s| s.get_found + s.get_miss),
    );
    put("getFoundTps", ctx.stats.tps(sample, |s| s.get_found));
    put("getMissTps", ctx.stats.tps(sample, |s| s.get_miss));
    put(
        "getTransferedTps",
        ctx.stats.tps(sample, |s| s.get_transferred),
    );
    put("putMessageTimesTotal", sample.put.to_string());
    put("putMessageSizeTotal", size_total.to_string());
    put(
        "putMessageAverageSize",
        format!("{:.1}", size_total as f64 / sample.put.max(1) as f64),
    );
    put("commitLogMinOffset", min.to_string());
    put("commitLogMaxOffset", max.to_string());
    put("earliestMessageTimeStamp", earliest.to_string());
    put("dispatchBehindBytes", "0".to_owned());
    put("pageCacheLockTimeMills", "0".to_owned());
    put(
        "remainHowManyDataToFlush",
        (max - store.flushed_offset()).max(0).to_string(),
    );
    put("sendThreadPoolQueueSize", "0".to_owned());
    put("pullThreadPoolQueueSize", "0".to_owned());
    put("queryThreadPoolQueueSize", "0".to_owned());
    put("sendThreadPoolQueueHeadWaitTimeMills", "0".to_owned());
    put("pullThreadPoolQueueHeadWaitTimeMills", "0".to_owned());
    put("queryThreadPoolQueueHeadWaitTimeMills", "0".to_owned());
    put("heldPullRequests", ctx.held_pulls.len().to_string());
    let body = encode_body(&KvTable { table })?;
    Ok(success(request).with_body(body))
}

fn format_runtime(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    format!(
        "[ {} days, {} hours, {} minutes, {} seconds ]",
        secs / 86_400,
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

async fn topic_stats(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> AdminResult {
    let header: TopicRequestHeader = request.decode_header()?;
    let Some(topic) = ctx.topics.get(&header.topic) else {
        return Err(BrokerError::refused(
            ResponseCode::TOPIC_NOT_EXIST,
            format!("topic[{}] not exist", header.topic),
        ));
    };
    let broker_name = ctx.config.broker_name.clone();
    let table = ctx
        .with_store(move |store| {
            let mut table = BTreeMap::new();
            for queue_id in 0..topic.write_queue_nums {
                let min = store
                    .get_min_offset_in_queue(&topic.topic_name, queue_id)
                    .max(0);
                let max = store.get_max_offset_in_queue(&topic.topic_name, queue_id);
                let last = if max > 0 {
                    store
                        .get_message_store_timestamp(&topic.topic_name, queue_id, max - 1)
                        .unwrap_or(0)
                } else {
                    0
                };
                let queue = MessageQueueBody {
                    broker_name: broker_name.clone(),
                    queue_id,
                    topic: topic.topic_name.clone(),
                };
                table.insert(
                    queue,
                    TopicOffset {
                        min_offset: min,
                        max_offset: max,
                        last_update_timestamp: last,
                    },
                );
            }
            table
        })
        .await?;
    let body = encode_body(&TopicStatsTable {
        offset_table: MqKeyMap(table),
        topic_put_tps: None,
    })?;
    Ok(success(request).with_body(body))
}

async fn consume_stats(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> AdminResult {
    let header: GetConsumeStatsRequestHeader = request.decode_header()?;
    let group = header.consumer_group.clone();
    let topics: Vec<String> = match header.topic.as_deref().filter(|t| !t.is_empty()) {
        Some(topic) => vec![topic.to_owned()],
        None => ctx.offsets.topics_of_group(&group),
    };
    let mut queues = Vec::new();
    for name in topics {
        let Some(topic) = ctx.topics.get(&name) else {
            continue;
        };
        let committed = ctx.offsets.offsets_of(&group, &name);
        for queue_id in 0..topic.read_queue_nums {
            let offset = committed.get(&queue_id).copied().unwrap_or(0).max(0);
            queues.push((name.clone(), queue_id, offset));
        }
    }
    let broker_name = ctx.config.broker_name.clone();
    let table = ctx
        .with_store(move |store| {
            let mut table = BTreeMap::new();
            for (topic, queue_id, consumer_offset) in queues {
                let broker_offset = store.get_max_offset_in_queue(&topic, queue_id);
                let last = if consumer_offset > 0 {
                    store
                        .get_message_store_timestamp(&topic, queue_id, consumer_offset - 1)
                        .unwrap_or(0)
                } else {
                    0
                };
                table.insert(
                    MessageQueueBody {
                        broker_name: broker_name.clone(),
                        queue_id,
                        topic,
                    },
                    OffsetWrapper {
                        broker_offset,
                        consumer_offset,
                        pull_offset: None,
                        last_timestamp: last,
                    },
                );
            }
            table
        })
        .await?;
    let body = encode_body(&ConsumeStats {
        offset_table: MqKeyMap(table),
        consume_tps: 0.0,
    })?;
    Ok(success(request).with_body(body))
}

fn consumer_connections(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> AdminResult {
    let header: GetConsumerConnectionListRequestHeader = request.decode_header()?;
    let Some(info) = ctx.consumers.group(&header.consumer_group) else {
        return Err(BrokerError::refused(
            ResponseCode::CONSUMER_NOT_ONLINE,
            format!("the consumer group[{}] not online", header.consumer_group),
        ));
    };
    let body = ConsumerConnection {
        connection_set: info.channels.values().map(|c| c.connection()).collect(),
        subscription_table: info.subscriptions.clone(),
        consume_type: Some(info.consume_type.clone()),
        message_model: Some(info.message_model.clone()),
        consume_from_where: Some(info.consume_from_where.clone()),
    };
    Ok(success(request).with_body(encode_body(&body)?))
}

fn producer_connections(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> AdminResult {
    let header: GetProducerConnectionListRequestHeader = request.decode_header()?;
    let members = ctx.producers.connections(&header.producer_group);
    if members.is_empty() {
        return Err(BrokerError::refused(
            ResponseCode::SYSTEM_ERROR,
            format!("the producer group[{}] not exist", header.producer_group),
        ));
    }
    let body = ProducerConnection {
        connection_set: members.iter().map(|c| c.connection()).collect(),
    };
    Ok(success(request).with_body(encode_body(&body)?))
}

fn broker_config(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> AdminResult {
    let version = String::from_utf8(encode_body(&ctx.config_version)?)
        .map_err(|e| BrokerError::Task(e.to_string()))?;
    Ok(success(request)
        .with_header(&GetBrokerConfigResponseHeader { version })
        .with_body(ctx.config.to_properties_text(false).into_bytes()))
}

fn consume_by_who(ctx: &Arc<BrokerContext>, request: &RemotingCommand) -> AdminResult {
    let header: TopicRequestHeader = request.decode_header()?;
    let mut groups: BTreeSet<String> = ctx
        .consumers
        .groups_by_topic(&header.topic)
        .into_iter()
        .collect();
    groups.extend(ctx.offsets.groups_of_topic(&header.topic));
    let body = GroupList {
        group_list: groups.into_iter().collect(),
    };
    Ok(success(request).with_body(encode_body(&body)?))
}
