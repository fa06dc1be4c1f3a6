//! Queue allocation strategies for clustering consumers. Each is a pure function of the group's
//! queues and consumer ids; inputs are sorted first, so every consumer of a group computes the
//! same split whatever order it learned them in.
//!
//! [`Averagely`] and [`AveragelyByCircle`] reproduce RocketMQ's assignments exactly, so Ferric
//! and Java consumers can share a group with them. [`ByMachineRoom`] follows RocketMQ's
//! `AllocateMessageQueueByMachineRoom` (broker names `room@name`). [`ConsistentHash`] uses a
//! ring with virtual nodes and a FNV-1a hash (not Java's MD5 ring): use it only in groups of
//! Ferric consumers.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Debug;

use ferric_common::MessageQueue;

/// Decides which queues the consumer `current` gets.
pub trait AllocateStrategy: Send + Sync + Debug + 'static {
    /// The strategy's name (as RocketMQ names it).
    fn name(&self) -> &'static str;

    /// The queues of `all_queues` assigned to `current` among `all_consumers`. A consumer not in
    /// `all_consumers` gets nothing.
    fn allocate(
        &self,
        current: &str,
        all_queues: &[MessageQueue],
        all_consumers: &[String],
    ) -> Vec<MessageQueue>;
}

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    items
}

/// Contiguous, even blocks (`AllocateMessageQueueAveragely`, the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Averagely;

impl AllocateStrategy for Averagely {
    fn name(&self) -> &'static str {
        "AVG"
    }

    fn allocate(
        &self,
        current: &str,
        all_queues: &[MessageQueue],
        all_consumers: &[String],
    ) -> Vec<MessageQueue> {
        let queues = sorted(all_queues);
        let consumers = sorted(all_consumers);
        let Some(index) = consumers.iter().position(|c| c == current) else {
            return Vec::new();
        };
        let (len, count) = (queues.len(), consumers.len());
        if len == 0 {
            return Vec::new();
        }
        let rem = len % count;
        let average = if len <= count {
            1
        } else if rem > 0 && index < rem {
            len / count + 1
        } else {
            len / count
        };
        let start = if rem > 0 && index < rem {
            index * average
        } else {
            index * average + rem
        };
        let range = average.min(len.saturating_sub(start));
        (0..range)
            .map(|i| queues[(start + i) % len].clone())
            .collect()
    }
}

/// Round-robin dealing (`AllocateMessageQueueAveragelyByCircle`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AveragelyByCircle;

impl AllocateStrategy for AveragelyByCircle {
    fn name(&self) -> &'static str {
        "AVG_BY_CIRCLE"
    }

    fn allocate(
        &self,
        current: &str,
        all_queues: &[MessageQueue],
        all_consumers: &[String],
    ) -> Vec<MessageQueue> {
        let queues = sorted(all_queues);
        let consumers = sorted(all_consumers);
        let Some(index) = consumers.iter().position(|c| c == current) else {
            return Vec::new();
        };
        queues
            .into_iter()
            .skip(index)
            .step_by(consumers.len())
            .collect()
    }
}

/// Only queues of brokers in the given machine rooms (`room@brokerName`), split evenly
/// (`AllocateMessageQueueByMachineRoom`).
#[derive(Debug, Clone, Default)]
pub struct ByMachineRoom {
    /// Machine rooms this group consumes from.
    pub consume_idcs: HashSet<String>,
}

impl AllocateStrategy for ByMachineRoom {
    fn name(&self) -> &'static str {
        "MACHINE_ROOM"
    }

    fn allocate(
        &self,
        current: &str,
        all_queues: &[MessageQueue],
        all_consumers: &[String],
    ) -> Vec<MessageQueue> {
        let consumers = sorted(all_consumers);
        let Some(index) = consumers.iter().position(|c| c == current) else {
            return Vec::new();
        };
        let queues: Vec<MessageQueue> = sorted(all_queues)
            .into_iter()
            .filter(|mq| {
                let room = mq.broker_name.split('@').next().unwrap_or_default();
                self.consume_idcs.contains(room)
            })
            .collect();
        let per = queues.len() / consumers.len();
        let rem = queues.len() % consumers.len();
        let mut result: Vec<MessageQueue> = queues[index * per..index * per + per].to_vec();
        if rem > index {
            result.push(queues[index + per * consumers.len()].clone());
        }
        result
    }
}

/// A hash ring with `virtual_nodes` points per consumer; a queue goes to the first consumer
/// point at or after its hash. Adding or removing a consumer moves few queues.
#[derive(Debug, Clone, Copy)]
pub struct ConsistentHash {
    /// Points per consumer (10).
    pub virtual_nodes: usize,
}

impl Default for ConsistentHash {
    fn default() -> Self {
        Self { virtual_nodes: 10 }
    }
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl AllocateStrategy for ConsistentHash {
    fn name(&self) -> &'static str {
        "CONSISTENT_HASH"
    }

    fn allocate(
        &self,
        current: &str,
        all_queues: &[MessageQueue],
        all_consumers: &[String],
    ) -> Vec<MessageQueue> {
        let consumers = sorted(all_consumers);
        if !consumers.iter().any(|c| c == current) {
            return Vec::new();
        }
        let mut ring = BTreeMap::new();
        for consumer in &consumers {
            for node in 0..self.virtual_nodes.max(1) {
                ring.entry(fnv1a(&format!("{consumer}-{node}")))
                    .or_insert_with(|| consumer.clone());
            }
        }
        sorted(all_queues)
            .into_iter()
            .filter(|mq| {
                let key = format!("{}@{}@{}", mq.topic, mq.broker_name, mq.queue_id);
                let hash = fnv1a(&key);
                let owner = ring
                    .range(hash..)
                    .next()
                    .or_else(|| ring.iter().next())
                    .map(|(_, c)| c.as_str());
                owner == Some(current)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
