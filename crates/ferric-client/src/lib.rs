//! Ferric client SDK.
#![deny(unsafe_code)]

pub mod config;
pub mod error;
pub mod instance;
pub mod message;
pub mod producer;

pub use config::ClientConfig;
pub use error::{ClientError, Result};
pub use instance::ClientInstance;
pub use message::MessageBuilder;
pub use producer::{Producer, ProducerBuilder, SendResult, SendStatus};
pub mod consumer;
