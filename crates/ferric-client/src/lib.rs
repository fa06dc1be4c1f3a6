//! Ferric client SDK: producers, push / pull / lite-pull consumers and admin calls for
//! RocketMQ-compatible brokers, speaking RocketMQ's remoting protocol like the Java 4.9.8 client.
//!
//! # What is here
//!
//! * [`ClientInstance`]: the hub shared by producers and consumers of one client id
//!   (`ip@instance`): NameServer list (`;`-separated or `NAMESRV_ADDR`), route cache refreshed
//!   every 30 s and on errors, the TBW102 fallback for unknown topics, the broker address table,
//!   heartbeats every 30 s, rebalancing every 20 s and on NOTIFY_CONSUMER_IDS_CHANGED, and the
//!   handlers for requests brokers push (CHECK_TRANSACTION_STATE, RESET_CONSUMER_CLIENT_OFFSET,
//!   PUSH_REPLY_MESSAGE_TO_CLIENT, GET_CONSUMER_RUNNING_INFO).
//! * [`Producer`]: sync send (SEND_MESSAGE_V2 with the short `a`…`n` header), oneway, batch
//!   (SEND_BATCH_MESSAGE, split by size), send to a queue or through a selector, retries on
//!   another broker, latency fault avoidance, zlib compression over 4 KiB (sysFlag `0x301`);
//!   [`producer::transaction`] and [`producer::request`] add transactions and request-reply.
//! * [`consumer::pull::PullConsumer`], [`consumer::push::PushConsumer`] (concurrent or orderly
//!   listeners, clustering or broadcasting, retries through `%RETRY%<group>` and the dead-letter
//!   queue after `max_reconsume_times`) and [`consumer::lite_pull::LitePullConsumer`];
//!   subscriptions filter by tag or by SQL92 ([`consumer::MessageSelector`], compiled locally
//!   with `ferric-filter` and checked with CHECK_CLIENT_CONFIG at start);
//!   [`consumer::allocate`] holds the queue allocation strategies.
//! * [`Admin`]: topics, groups, cluster/route/stats queries, message queries, offset reset.
//!
//! # What is not here
//!
//! The client does not evaluate SQL92 itself (the broker filters, as with Java's client); no
//! message tracing, no ACL signing, no namespaces, no pop consumption, no gRPC. The crate never
//! depends on the broker, store or NameServer crates.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> ferric_client::Result<()> {
//! use ferric_client::{MessageBuilder, Producer};
//! let producer = Producer::builder().namesrv_addr("127.0.0.1:9876").group("pg").build().await?;
//! let sent = producer.send(MessageBuilder::new("TopicTest", "hello").tags("TagA").build()).await?;
//! println!("{} -> {:?}", sent.msg_id, sent.message_queue);
//! producer.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![deny(unsafe_code)]

pub mod admin;
pub mod config;
pub mod consumer;
pub mod error;
pub mod instance;
pub mod message;
pub mod producer;

pub use admin::Admin;
pub use config::ClientConfig;
pub use error::{ClientError, Result};
pub use instance::ClientInstance;
pub use message::MessageBuilder;
pub use producer::{Producer, ProducerBuilder, SendResult, SendStatus};
