//! Delay levels: [`ScheduleMessageService`] parks messages with `DELAY=N>0` in
//! `SCHEDULE_TOPIC_XXXX` queue `N-1` and re-puts them to their real topic when due.
//!
//! # Send side ([`apply_delay_level`])
//! A non-transactional (or committed) message with `DELAY=N>0` is rewritten before the put:
//! `N` is clamped to the highest configured level (and `DELAY` rewritten), `REAL_TOPIC` and
//! `REAL_QID` keep its destination, and it is stored in `SCHEDULE_TOPIC_XXXX` queue `N-1`. The
//! store's dispatch writes `storeTimestamp + delay(N)` into the ConsumeQueue tag slot
//! (`ferric_store::dispatch`), so the due time of a unit is read from the ConsumeQueue alone.
//!
//! # Delivery ([`ScheduleMessageService::deliver_due`])
//! Every [`TICK`] one blocking pass walks each level's queue from its offset. Within one level
//! due times are monotonic (same delay, increasing store time), so the pass stops at the first
//! unit that is not due. A due unit is re-put to `REAL_TOPIC`/`REAL_QID` with the original
//! body, flag, sysflag, born time/host and reconsume times and a new store time; the
//! properties string is stored as it was in the schedule record (`DELAY`, `REAL_TOPIC` and
//! `REAL_QID` stay, exactly like RocketMQ 4.9.8 stores a delivered message). Only after a
//! successful put does the level's offset advance. A due time further in the future than the
//! level's delay (clock moved back) counts as due now, as in RocketMQ.
//!
//! # Offsets
//! `config/delayOffset.json` holds `{"offsetTable":{1:0,2:5,…}}` (level → next ConsumeQueue
//! offset, unquoted integer keys, pretty, with `.bak`), written every
//! `flushDelayOffsetInterval` ms and at shutdown. A clean restart resumes from the persisted
//! offsets, so nothing is lost or delivered twice. Only a crash between a re-put and the next
//! persist can deliver a message again (at-least-once), as in RocketMQ.
//!
//! RocketMQ 5 timer properties (`TIMER_DELIVER_MS`, `TIMER_DELAY_SEC`, `TIMER_DELAY_MS`) are
//! handled in [`crate::timer`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ferric_common::message::MessageExt;
use ferric_common::message_const::{
    PROPERTY_DELAY_TIME_LEVEL, PROPERTY_REAL_QUEUE_ID, PROPERTY_REAL_TOPIC,
};
use ferric_common::sysflag;
use ferric_common::topic::names;
use ferric_protocol::fastjson::IntKeyMap;
use ferric_protocol::{RemotingCommand, ResponseCode};
use ferric_store::MessageStore;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::BrokerConfig;
use crate::context::BrokerContext;
use crate::error::BrokerError;
use crate::persist::{load_json, now_ms, save_json};

/// How often the schedule queues are checked for due messages.
pub const TICK: Duration = Duration::from_millis(100);
/// Most units one level delivers per tick (keeps one pass short).
const MAX_UNITS_PER_TICK: usize = 2000;

/// `delayOffset.json` (4.x shape: only `offsetTable`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct DelayOffsetFile {
    offset_table: IntKeyMap<i32, i64>,
}

/// Parses `messageDelayLevel` (`1s 5s 1m 2h 1d`) into per-level delays in ms; a token that is
/// not `<number><s|m|h|d>` is an error naming the key and the value, as RocketMQ refuses to
/// start with one.
pub fn parse_delay_levels(value: &str) -> Result<Vec<i64>, BrokerError> {
    let invalid = || {
        BrokerError::InvalidConfig(format!(
            "invalid value for messageDelayLevel: {value:?} (expected tokens like 1s 5m 2h 1d)"
        ))
    };
    let mut levels = Vec::new();
    for token in value.split_whitespace() {
        let unit_at = token.len().checked_sub(1).ok_or_else(invalid)?;
        let (number, unit) = token.split_at(unit_at);
        let number: i64 = number.parse().map_err(|_| invalid())?;
        let scale = match unit {
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(invalid()),
        };
        if number < 0 {
            return Err(invalid());
        }
        levels.push(number.checked_mul(scale).ok_or_else(invalid)?);
    }
    if levels.is_empty() {
        return Err(invalid());
    }
    Ok(levels)
}

/// Queue id of `SCHEDULE_TOPIC_XXXX` for a 1-based delay level.
pub fn level_to_queue_id(level: i32) -> i32 {
    level - 1
}

/// The delay-level service: per-level offsets and delivery.
#[derive(Debug)]
pub struct ScheduleMessageService {
    path: PathBuf,
    levels: Vec<i64>,
    offsets: Mutex<BTreeMap<i32, i64>>,
    persist_lock: Mutex<()>,
}

/// A message re-put to its real topic (to wake held pulls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Real topic.
    pub topic: String,
    /// Real queue id.
    pub queue_id: i32,
    /// Queue offset the message got there.
    pub queue_offset: i64,
    /// Its tag code.
    pub tags_code: i64,
}

impl ScheduleMessageService {
    /// A service for `config` with no offsets loaded yet (no I/O; see [`Self::load`]).
    pub fn new(config: &BrokerConfig) -> Self {
        let levels = parse_delay_levels(&config.message_delay_level).unwrap_or_default();
        Self {
            path: config.config_dir().join("delayOffset.json"),
            levels,
            offsets: Mutex::new(BTreeMap::new()),
            persist_lock: Mutex::new(()),
        }
    }

    /// Validates `messageDelayLevel` and reads `config/delayOffset.json` (or its `.bak`).
    pub fn load(&self, config: &BrokerConfig) -> Result<(), BrokerError> {
        parse_delay_levels(&config.message_delay_level)?;
        if let Some(file) = load_json::<DelayOffsetFile>(&self.path)? {
            *self.offsets.lock() = file.offset_table.0;
        }
        Ok(())
    }

    /// The highest delay level.
    pub fn max_level(&self) -> i32 {
        i32::try_from(self.levels.len()).unwrap_or(i32::MAX)
    }

    /// Delay of a 1-based level in ms.
    pub fn delay_millis(&self, level: i32) -> Option<i64> {
        let index = usize::try_from(level.checked_sub(1)?).ok()?;
        self.levels.get(index).copied()
    }

    /// Next offset to deliver of a level (0 when unknown).
    pub fn offset(&self, level: i32) -> i64 {
        self.offsets.lock().get(&level).copied().unwrap_or(0)
    }

    fn set_offset(&self, level: i32, offset: i64) {
        self.offsets.lock().insert(level, offset);
    }

    /// The offset table as JSON (`GET_ALL_DELAY_OFFSET` uses the compact form).
    pub fn encode(&self, pretty: bool) -> Result<Vec<u8>, BrokerError> {
        let file = DelayOffsetFile {
            offset_table: IntKeyMap(self.offsets.lock().clone()),
        };
        Ok(if pretty {
            ferric_protocol::fastjson::to_vec_pretty(&file)?
        } else {
            ferric_protocol::fastjson::to_vec(
                &file,
                ferric_protocol::fastjson::JsonStyle::Fastjson,
            )?
        })
    }

    /// Writes `config/delayOffset.json` (blocking).
    pub fn persist(&self) -> Result<(), BrokerError> {
        let _guard = self.persist_lock.lock();
        let file = DelayOffsetFile {
            offset_table: IntKeyMap(self.offsets.lock().clone()),
        };
        save_json(&self.path, &file)
    }

    /// `scheduleMessageOffset_<level>` → `"<delayOffset>,<maxOffset>"` for the runtime info:
    /// every configured level (offset 0 until something was delivered) and any other level with
    /// a stored offset. Reads consume-queue state, so call it off the reactor.
    pub fn running_stats(&self, store: &MessageStore) -> BTreeMap<String, String> {
        let mut offsets = self.offsets.lock().clone();
        for level in 1..=self.max_level() {
            offsets.entry(level).or_insert(0);
        }
        offsets
            .into_iter()
            .map(|(level, offset)| {
                let max =
                    store.get_max_offset_in_queue(names::SCHEDULE_TOPIC, level_to_queue_id(level));
                (
                    format!("scheduleMessageOffset_{level}"),
                    format!("{offset},{max}"),
                )
            })
            .collect()
    }

    /// One blocking pass over every level: re-puts the due messages and advances the offsets.
    pub fn deliver_due(&self, store: &MessageStore, now: i64) -> Vec<Delivered> {
        let mut delivered = Vec::new();
        for level in 1..=self.max_level() {
            self.deliver_level(store, level, now, &mut delivered);
        }
        delivered
    }

    fn deliver_level(
        &self,
        store: &MessageStore,
        level: i32,
        now: i64,
        delivered: &mut Vec<Delivered>,
    ) {
        let Some(delay) = self.delay_millis(level) else {
            return;
        };
        let Some(queue) = store.consume_queue(names::SCHEDULE_TOPIC, level_to_queue_id(level))
        else {
            return;
        };
        let mut offset = self.offset(level);
        let (min, max) = (queue.min_offset(), queue.max_offset());
        if offset < min || offset > max {
            tracing::warn!(
                level,
                offset,
                min,
                max,
                "schedule offset out of range, corrected"
            );
            offset = offset.clamp(min, max);
            self.set_offset(level, offset);
        }
        for entry in queue.units(offset, MAX_UNITS_PER_TICK) {
            let mut due = entry.unit.tags_code;
            if due > now.saturating_add(delay) {
                due = now;
            }
            if due > now {
                return;
            }
            let next = entry.queue_offset + 1;
            let Some(parked) = store.look_message_by_offset(entry.unit.phy_offset) else {
                tracing::warn!(
                    level,
                    queue_offset = entry.queue_offset,
                    "scheduled message gone, skipped"
                );
                self.set_offset(level, next);
                continue;
            };
            match redeliver(store, &parked) {
                Redelivery::Done(result) => {
                    delivered.push(result);
                    self.set_offset(level, next);
                }
                Redelivery::Discard(reason) => {
                    tracing::error!(
                        level,
                        queue_offset = entry.queue_offset,
                        reason,
                        "scheduled message discarded"
                    );
                    self.set_offset(level, next);
                }
                Redelivery::Retry(status) => {
                    tracing::warn!(
                        level,
                        queue_offset = entry.queue_offset,
                        status,
                        "scheduled message not re-put, will retry"
                    );
                    return;
                }
            }
        }
    }
}

/// Outcome of re-putting a parked message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redelivery {
    /// Stored in its real topic.
    Done(Delivered),
    /// Unusable (no real topic, or a transaction half topic): skip it.
    Discard(&'static str),
    /// The put failed (store status): try again later.
    Retry(&'static str),
}

/// Re-puts a parked (schedule or timer) message to `REAL_TOPIC`/`REAL_QID`, keeping its
/// stored properties string.
pub fn redeliver(store: &MessageStore, parked: &MessageExt) -> Redelivery {
    let Some(topic) = parked
        .properties
        .get(PROPERTY_REAL_TOPIC)
        .filter(|t| !t.is_empty())
    else {
        return Redelivery::Discard("no REAL_TOPIC");
    };
    if topic == names::TRANS_HALF_TOPIC {
        return Redelivery::Discard("real topic is the transaction half topic");
    }
    let Some(queue_id) = parked
        .properties
        .get(PROPERTY_REAL_QUEUE_ID)
        .and_then(|q| q.parse::<i32>().ok())
    else {
        return Redelivery::Discard("no REAL_QID");
    };
    let message = MessageExt {
        topic: topic.to_owned(),
        queue_id,
        flag: parked.flag,
        sys_flag: parked.sys_flag,
        born_timestamp: parked.born_timestamp,
        born_host: parked.born_host,
        store_host: parked.store_host,
        reconsume_times: parked.reconsume_times,
        body: parked.body.clone(),
        properties: parked.properties.clone(),
        ..MessageExt::default()
    };
    let tags_code = message.tags_code();
    let topic = message.topic.clone();
    let result = store.put_message(message);
    match result.append {
        Some(append) => Redelivery::Done(Delivered {
            topic,
            queue_id,
            queue_offset: append.logics_offset,
            tags_code,
        }),
        None => Redelivery::Retry(result.status.as_str()),
    }
}

/// Send-side rewrite of a message with `DELAY > 0` (transaction types NOT and COMMIT only):
/// clamps the level, records `REAL_TOPIC`/`REAL_QID` and moves it to `SCHEDULE_TOPIC_XXXX`.
/// Returns the level used, or `None` when the message is not delayed.
pub fn apply_delay_level(message: &mut MessageExt, max_level: i32) -> Option<i32> {
    if !sysflag::is_dispatched_to_consume_queue(message.sys_flag) || max_level <= 0 {
        return None;
    }
    let level = message
        .properties
        .get(PROPERTY_DELAY_TIME_LEVEL)
        .and_then(|l| l.trim().parse::<i32>().ok())
        .filter(|l| *l > 0)?;
    let level = if level > max_level {
        message
            .properties
            .insert(PROPERTY_DELAY_TIME_LEVEL, max_level.to_string());
        max_level
    } else {
        level
    };
    let real_topic = std::mem::replace(&mut message.topic, names::SCHEDULE_TOPIC.to_owned());
    message.properties.insert(PROPERTY_REAL_TOPIC, real_topic);
    message
        .properties
        .insert(PROPERTY_REAL_QUEUE_ID, message.queue_id.to_string());
    message.queue_id = level_to_queue_id(level);
    Some(level)
}

/// Starts the delivery loop and the periodic `delayOffset.json` writer.
pub fn spawn(ctx: &Arc<BrokerContext>, services: &TaskTracker, stop: &CancellationToken) {
    let c = Arc::clone(ctx);
    let stop_delivery = stop.clone();
    services.spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop_delivery.cancelled() => break,
                _ = interval.tick() => deliver_tick(&c).await,
            }
        }
    });
    let c = Arc::clone(ctx);
    let stop_persist = stop.clone();
    let period = Duration::from_millis(ctx.config.flush_delay_offset_interval.max(100));
    services.spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            tokio::select! {
                () = stop_persist.cancelled() => break,
                _ = interval.tick() => persist_offsets(&c).await,
            }
        }
    });
}

/// Writes `delayOffset.json` and the timer offsets on the blocking pool.
pub async fn persist_offsets(ctx: &Arc<BrokerContext>) {
    let c = Arc::clone(ctx);
    let outcome = tokio::task::spawn_blocking(move || {
        c.schedule.persist()?;
        c.timers.persist()
    })
    .await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(%error, "delay offsets not written"),
        Err(error) => tracing::error!(%error, "delay offsets persist task failed"),
    }
}

async fn deliver_tick(ctx: &Arc<BrokerContext>) {
    let c = Arc::clone(ctx);
    let outcome = ctx
        .with_store(move |store| {
            let now = now_ms();
            let mut delivered = c.schedule.deliver_due(store, now);
            delivered.extend(c.timers.deliver_due(store, now));
            delivered
        })
        .await;
    let delivered = match outcome {
        Ok(delivered) => delivered,
        Err(BrokerError::ShuttingDown) => return,
        Err(error) => {
            tracing::warn!(%error, "schedule delivery pass failed");
            return;
        }
    };
    for message in delivered {
        crate::processor::send::wake_held_pulls(
            ctx,
            &message.topic,
            message.queue_id,
            message.queue_offset + 1,
            Some(message.tags_code),
        );
    }
}

/// GET_ALL_DELAY_OFFSET (45): the offset table, compact JSON.
pub fn get_all_delay_offset(
    ctx: &Arc<BrokerContext>,
    request: &RemotingCommand,
) -> Result<RemotingCommand, BrokerError> {
    let body = ctx.schedule.encode(false)?;
    Ok(request
        .response_to(ResponseCode::SUCCESS.0, None)
        .with_body(body))
}

#[cfg(test)]
mod tests {
    use ferric_common::Properties;

    use super::*;

    #[test]
    fn delay_levels_parse_and_refuse_bad_tokens() {
        let levels =
            parse_delay_levels("1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h")
                .expect("default parses");
        assert_eq!(levels.len(), 18);
        assert_eq!(levels[0], 1000);
        assert_eq!(levels[4], 60_000);
        assert_eq!(levels[17], 7_200_000);
        assert_eq!(parse_delay_levels("1d").expect("days"), vec![86_400_000]);
        for bad in ["", "1x", "s", "-1s", "1.5s"] {
            assert!(parse_delay_levels(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn delayed_messages_move_to_the_schedule_topic() {
        let mut properties = Properties::new();
        properties.insert(PROPERTY_DELAY_TIME_LEVEL, "30");
        let mut message = MessageExt {
            topic: "T".to_owned(),
            queue_id: 3,
            properties,
            ..MessageExt::default()
        };
        assert_eq!(apply_delay_level(&mut message, 18), Some(18));
        assert_eq!(message.topic, names::SCHEDULE_TOPIC);
        assert_eq!(message.queue_id, 17);
        assert_eq!(
            message.properties.get(PROPERTY_DELAY_TIME_LEVEL),
            Some("18")
        );
        assert_eq!(message.properties.get(PROPERTY_REAL_TOPIC), Some("T"));
        assert_eq!(message.properties.get(PROPERTY_REAL_QUEUE_ID), Some("3"));

        let mut plain = MessageExt {
            topic: "T".to_owned(),
            ..MessageExt::default()
        };
        plain.properties.insert(PROPERTY_DELAY_TIME_LEVEL, "0");
        assert_eq!(apply_delay_level(&mut plain, 18), None);
        assert_eq!(plain.topic, "T");

        let mut prepared = MessageExt {
            topic: "T".to_owned(),
            sys_flag: sysflag::TRANSACTION_PREPARED_TYPE,
            ..MessageExt::default()
        };
        prepared.properties.insert(PROPERTY_DELAY_TIME_LEVEL, "2");
        assert_eq!(apply_delay_level(&mut prepared, 18), None);
    }
}
