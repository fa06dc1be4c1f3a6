//! RocketMQ 5 timer messages: `TIMER_DELIVER_MS` (absolute ms), `TIMER_DELAY_SEC` and
//! `TIMER_DELAY_MS` (relative to arrival), delivered by [`TimerMessageService`].
//!
//! # Send side ([`apply_timer`])
//! Like RocketMQ 5's `HookUtils`: a message with `DELAY > 0` ignores (and loses) its timer
//! properties; otherwise the first of `TIMER_DELAY_SEC`, `TIMER_DELAY_MS`, `TIMER_DELIVER_MS`
//! present gives the due time. A value that is not an integer, or a due time more than
//! `timerMaxDelaySec` (default 3 days) ahead, is MESSAGE_ILLEGAL. A due time not in the future
//! means the message is stored normally. Otherwise `TIMER_OUT_MS` (due time), `REAL_TOPIC` and
//! `REAL_QID` are added and the message is stored in `rmq_sys_wheel_timer` queue 0.
//! (RocketMQ rounds the due time down to `timerPrecisionMs`; Ferric delivers at the exact ms.)
//!
//! # Delivery: a heap above a watermark
//! Due times in the timer queue are not monotonic, so it is not scanned like a delay level.
//! The service keeps:
//! * `watermark`: every unit below it has been delivered;
//! * `delivered_above`: the units at or above the watermark already delivered (out of order);
//! * a min-heap of `(due time, queue offset, CommitLog offset)` for every unit read from the
//!   queue (`scanned` = next unit to read) and not yet delivered.
//!
//! Each tick reads the new units into the heap, then pops and re-puts every due one
//! ([`crate::schedule::redeliver`]); the watermark advances over the contiguous delivered
//! prefix. `config/timerOffset.json` (a Ferric file: `{"watermark":N,"deliveredAbove":[…]}`)
//! is written with `delayOffset.json`. After a restart the queue is read again from the
//! watermark, skipping `delivered_above`, so a clean restart neither loses nor repeats a
//! message; a crash between a re-put and the next persist may repeat it (at-least-once).
//!
//! Cost: the heap holds 24 bytes per pending timer message, and `delivered_above` one integer
//! per message delivered ahead of an older, later-due one.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::path::PathBuf;

use ferric_common::message::MessageExt;
use ferric_common::message_const::{
    PROPERTY_DELAY_TIME_LEVEL, PROPERTY_REAL_QUEUE_ID, PROPERTY_REAL_TOPIC,
    PROPERTY_TIMER_DELAY_MS, PROPERTY_TIMER_DELAY_SEC, PROPERTY_TIMER_DELIVER_MS,
};
use ferric_common::sysflag;
use ferric_common::topic::names;
use ferric_protocol::ResponseCode;
use ferric_store::MessageStore;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::config::BrokerConfig;
use crate::error::BrokerError;
use crate::persist::{load_json, save_json};
use crate::schedule::{Delivered, Redelivery, redeliver};

/// Property holding the due time of a parked timer message (RocketMQ 5's name).
pub const PROPERTY_TIMER_OUT_MS: &str = "TIMER_OUT_MS";
/// The queue timer messages are parked in.
pub const TIMER_QUEUE_ID: i32 = 0;
/// Most units read into the heap per tick.
const MAX_SCAN_PER_TICK: usize = 5000;

/// Send-side rewrite of a timer message (see the module docs). `Ok(true)` when the message
/// was moved to the timer topic.
pub fn apply_timer(
    message: &mut MessageExt,
    now: i64,
    max_delay_sec: i64,
) -> Result<bool, BrokerError> {
    if !sysflag::is_dispatched_to_consume_queue(message.sys_flag)
        || message.topic == names::TIMER_TOPIC
        || message.properties.contains_key(PROPERTY_TIMER_OUT_MS)
    {
        return Ok(false);
    }
    let delayed = message
        .properties
        .get(PROPERTY_DELAY_TIME_LEVEL)
        .and_then(|l| l.trim().parse::<i32>().ok())
        .is_some_and(|l| l > 0);
    let timer_keys = [
        PROPERTY_TIMER_DELAY_SEC,
        PROPERTY_TIMER_DELAY_MS,
        PROPERTY_TIMER_DELIVER_MS,
    ];
    if delayed {
        for key in timer_keys {
            message.properties.remove(key);
        }
        return Ok(false);
    }
    let illegal = |what: String| BrokerError::refused(ResponseCode::MESSAGE_ILLEGAL, what);
    let parse = |key: &str| -> Result<Option<i64>, BrokerError> {
        match message.properties.get(key) {
            None => Ok(None),
            Some(value) => value.trim().parse::<i64>().map(Some).map_err(|_| {
                illegal(format!(
                    "timer message illegal, {key}={value} is not a number"
                ))
            }),
        }
    };
    let due = if let Some(sec) = parse(PROPERTY_TIMER_DELAY_SEC)? {
        now.saturating_add(sec.saturating_mul(1000))
    } else if let Some(ms) = parse(PROPERTY_TIMER_DELAY_MS)? {
        now.saturating_add(ms)
    } else if let Some(at) = parse(PROPERTY_TIMER_DELIVER_MS)? {
        at
    } else {
        return Ok(false);
    };
    if due <= now {
        return Ok(false);
    }
    let max_delay_ms = max_delay_sec.saturating_mul(1000);
    if due - now > max_delay_ms {
        return Err(illegal(format!(
            "timer message illegal, the delay time should not be bigger than the max delay {max_delay_ms}ms"
        )));
    }
    let real_topic = std::mem::replace(&mut message.topic, names::TIMER_TOPIC.to_owned());
    message
        .properties
        .insert(PROPERTY_TIMER_OUT_MS, due.to_string());
    message.properties.insert(PROPERTY_REAL_TOPIC, real_topic);
    message
        .properties
        .insert(PROPERTY_REAL_QUEUE_ID, message.queue_id.to_string());
    message.queue_id = TIMER_QUEUE_ID;
    Ok(true)
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TimerOffsetFile {
    watermark: i64,
    delivered_above: Vec<i64>,
}

#[derive(Debug, Default)]
struct TimerState {
    watermark: i64,
    delivered_above: BTreeSet<i64>,
    scanned: i64,
    heap: BinaryHeap<Reverse<(i64, i64, i64)>>,
}

impl TimerState {
    fn mark_delivered(&mut self, queue_offset: i64) {
        if queue_offset != self.watermark {
            self.delivered_above.insert(queue_offset);
            return;
        }
        self.watermark += 1;
        while self.delivered_above.remove(&self.watermark) {
            self.watermark += 1;
        }
    }
}

/// The timer-message service.
#[derive(Debug)]
pub struct TimerMessageService {
    path: PathBuf,
    state: Mutex<TimerState>,
    persist_lock: Mutex<()>,
}

impl TimerMessageService {
    /// A service with no state loaded (no I/O; see [`Self::load`]).
    pub fn new(config: &BrokerConfig) -> Self {
        Self {
            path: config.config_dir().join("timerOffset.json"),
            state: Mutex::new(TimerState::default()),
            persist_lock: Mutex::new(()),
        }
    }

    /// Reads `config/timerOffset.json` (or its `.bak`).
    pub fn load(&self) -> Result<(), BrokerError> {
        if let Some(file) = load_json::<TimerOffsetFile>(&self.path)? {
            let mut state = self.state.lock();
            state.watermark = file.watermark.max(0);
            state.scanned = state.watermark;
            state.delivered_above = file
                .delivered_above
                .into_iter()
                .filter(|o| *o >= file.watermark)
                .collect();
        }
        Ok(())
    }

    /// Writes `config/timerOffset.json` (blocking).
    pub fn persist(&self) -> Result<(), BrokerError> {
        let _guard = self.persist_lock.lock();
        let file = {
            let state = self.state.lock();
            TimerOffsetFile {
                watermark: state.watermark,
                delivered_above: state.delivered_above.iter().copied().collect(),
            }
        };
        save_json(&self.path, &file)
    }

    /// Timer messages read and not yet delivered.
    pub fn pending(&self) -> usize {
        self.state.lock().heap.len()
    }

    /// One blocking pass: reads new units, re-puts the due ones.
    pub fn deliver_due(&self, store: &MessageStore, now: i64) -> Vec<Delivered> {
        let Some(queue) = store.consume_queue(names::TIMER_TOPIC, TIMER_QUEUE_ID) else {
            return Vec::new();
        };
        let mut state = self.state.lock();
        let min = queue.min_offset();
        if state.watermark < min {
            tracing::warn!(
                watermark = state.watermark,
                min,
                "timer queue truncated, watermark moved"
            );
            state.watermark = min;
            state.delivered_above.retain(|o| *o >= min);
        }
        let from = state.scanned.max(state.watermark);
        let mut scanned = from;
        for entry in queue.units(from, MAX_SCAN_PER_TICK) {
            scanned = entry.queue_offset + 1;
            if state.delivered_above.contains(&entry.queue_offset) {
                continue;
            }
            let due = store
                .look_message_by_offset(entry.unit.phy_offset)
                .and_then(|m| {
                    m.properties
                        .get(PROPERTY_TIMER_OUT_MS)
                        .and_then(|v| v.parse::<i64>().ok())
                })
                .unwrap_or(now);
            state
                .heap
                .push(Reverse((due, entry.queue_offset, entry.unit.phy_offset)));
        }
        state.scanned = scanned;
        let mut delivered = Vec::new();
        while let Some(Reverse((due, queue_offset, phy_offset))) = state.heap.peek().copied() {
            if due > now {
                break;
            }
            let Some(parked) = store.look_message_by_offset(phy_offset) else {
                tracing::warn!(queue_offset, "timer message gone, skipped");
                state.heap.pop();
                state.mark_delivered(queue_offset);
                continue;
            };
            match redeliver(store, &parked) {
                Redelivery::Done(result) => {
                    delivered.push(result);
                    state.heap.pop();
                    state.mark_delivered(queue_offset);
                }
                Redelivery::Discard(reason) => {
                    tracing::error!(queue_offset, reason, "timer message discarded");
                    state.heap.pop();
                    state.mark_delivered(queue_offset);
                }
                Redelivery::Retry(status) => {
                    tracing::warn!(queue_offset, status, "timer message not re-put, will retry");
                    break;
                }
            }
        }
        delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_with(key: &str, value: &str) -> MessageExt {
        let mut message = MessageExt {
            topic: "T".to_owned(),
            queue_id: 2,
            ..MessageExt::default()
        };
        message.properties.insert(key, value);
        message
    }

    #[test]
    fn timer_properties_park_the_message() {
        let now = 1_000_000;
        let mut m = message_with(PROPERTY_TIMER_DELAY_SEC, "5");
        assert!(apply_timer(&mut m, now, 259_200).expect("legal"));
        assert_eq!(m.topic, names::TIMER_TOPIC);
        assert_eq!(m.queue_id, 0);
        assert_eq!(m.properties.get(PROPERTY_TIMER_OUT_MS), Some("1005000"));
        assert_eq!(m.properties.get(PROPERTY_REAL_TOPIC), Some("T"));
        assert_eq!(m.properties.get(PROPERTY_REAL_QUEUE_ID), Some("2"));

        let mut past = message_with(PROPERTY_TIMER_DELIVER_MS, "999");
        assert!(!apply_timer(&mut past, now, 259_200).expect("legal"));
        assert_eq!(past.topic, "T");

        let mut too_far = message_with(PROPERTY_TIMER_DELAY_MS, "259200001");
        let error = apply_timer(&mut too_far, now, 259_200).expect_err("beyond max");
        assert_eq!(error.response_code(), ResponseCode::MESSAGE_ILLEGAL);

        let mut garbage = message_with(PROPERTY_TIMER_DELIVER_MS, "soon");
        assert!(apply_timer(&mut garbage, now, 259_200).is_err());

        let mut both = message_with(PROPERTY_TIMER_DELAY_SEC, "5");
        both.properties.insert(PROPERTY_DELAY_TIME_LEVEL, "2");
        assert!(!apply_timer(&mut both, now, 259_200).expect("legal"));
        assert!(!both.properties.contains_key(PROPERTY_TIMER_DELAY_SEC));
    }

    #[test]
    fn watermark_advances_over_the_delivered_prefix() {
        let mut state = TimerState::default();
        state.mark_delivered(2);
        state.mark_delivered(1);
        assert_eq!(state.watermark, 0);
        state.mark_delivered(0);
        assert_eq!(state.watermark, 3);
        assert!(state.delivered_above.is_empty());
        state.mark_delivered(5);
        assert_eq!(state.watermark, 3);
        assert_eq!(state.delivered_above.len(), 1);
    }
}
