//! Ferric Broker: the RocketMQ-compatible broker (`mqbroker`) over `ferric-store`.
//!
//! What it does:
//! * configuration with RocketMQ's camelCase keys and defaults ([`config`]);
//! * topics (system topics, auto-creation from `TBW102`), subscription groups and committed
//!   consumer offsets, persisted as `config/topics.json`, `config/subscriptionGroup.json` and
//!   `config/consumerOffset.json` in RocketMQ's pretty fastjson form with `.bak` copies
//!   ([`topic_manager`], [`group_manager`], [`offset_manager`]);
//! * request processing ([`processor`]): send (10/310/320), pull (11/361) with long polling
//!   ([`long_polling`]), heartbeats and client bookkeeping ([`client_manager`]), queue locks
//!   ([`rebalance_lock`]), offsets and message queries, and the admin codes;
//! * transactional messages: half messages, END_TRANSACTION, the check service and its
//!   CHECK_TRANSACTION_STATE check-backs ([`transaction`]); request/reply: SEND_REPLY_MESSAGE
//!   stored in `<cluster>_REPLY_TOPIC` and pushed to the requester ([`processor::reply`]);
//! * consumer retry and dead letters: CONSUMER_SEND_MSG_BACK and retry-topic sends
//!   ([`processor::send_back`]); delay levels through `SCHEDULE_TOPIC_XXXX` with
//!   `config/delayOffset.json` ([`schedule`]); RocketMQ 5 timer properties ([`timer`]);
//!   SQL92 and tag filtering on pulls ([`filter`], SQL92 needs `enablePropertyFilter`);
//! * registration with the NameServers ([`namesrv_api`]);
//! * the lifecycle ([`controller`]): [`BrokerController::start`] takes bound listeners and
//!   returns a [`BrokerHandle`] whose `shutdown` stops accepting, drains connections,
//!   unregisters, persists the config files and shuts the store down;
//! * command-line handling shared by `mqbroker` and `ferric` ([`cli`]).
//!
//! What it does not do (yet): HA replication and ACL; delay levels and timers apply to single
//! sends, not to the entries of a batch. A send with the PREPARED
//! SYSFLAG but without `TRAN_MSG=true` is stored as sent too (and, as in RocketMQ, never
//! reaches a ConsumeQueue).
//!
//! Wire facts this crate relies on: every send response carries `MSG_REGION` and `TRACE_ON`
//! in its extFields; pull responses always carry `suggestWhichBrokerId`, `nextBeginOffset`,
//! `minOffset` and `maxOffset`; a pull body is the raw stored records concatenated
//! (layout in `ferric_common::record`).
//!
//! The store is synchronous: every call that may touch the disk runs on the blocking pool
//! ([`context::BrokerContext::with_store`]).
#![deny(unsafe_code)]

pub mod cli;
pub mod client_manager;
pub mod config;
pub mod context;
pub mod controller;
pub mod error;
pub mod filter;
pub mod group_manager;
pub mod long_polling;
pub mod namesrv_api;
pub mod offset_manager;
pub mod persist;
pub mod processor;
pub mod rebalance_lock;
pub mod schedule;
pub mod stats;
pub mod timer;
pub mod topic_manager;
pub mod transaction;

pub use config::BrokerConfig;
pub use controller::{BrokerController, BrokerHandle};
pub use error::BrokerError;
