//! Request-reply (remoting.md §2.4 PUSH_REPLY_MESSAGE_TO_CLIENT): the requester sends a message
//! carrying `CORRELATION_ID`, `REPLY_TO_CLIENT` and `TTL`, and the broker pushes the reply back
//! on the requester's connection.

use std::time::{Duration, Instant};

use bytes::Bytes;
use ferric_common::message_const::{
    PROPERTY_CLUSTER, PROPERTY_CORRELATION_ID, PROPERTY_MESSAGE_REPLY_TO_CLIENT,
    PROPERTY_MESSAGE_TTL, PROPERTY_MESSAGE_TYPE,
};
use ferric_common::topic::reply_topic;
use ferric_common::{Message, MessageExt};
use tokio::sync::oneshot;

use super::{Mode, Producer};
use crate::error::{ClientError, Result};

/// `MSG_TYPE` value of reply messages.
pub const REPLY_MESSAGE_FLAG: &str = "reply";

/// A fresh correlation id (128 random bits, UUID-formatted).
pub fn new_correlation_id() -> String {
    let bits: u128 = rand::random();
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Builds the reply to `request` (which must carry the broker-set `CLUSTER` property): topic
/// `<cluster>_REPLY_TOPIC`, `MSG_TYPE=reply`, correlation id, reply-to client and TTL copied.
///
/// ```
/// use ferric_client::producer::request::create_reply_message;
/// use ferric_common::MessageExt;
/// let mut request = MessageExt::default();
/// request.properties.insert("CLUSTER", "DefaultCluster");
/// request.properties.insert("CORRELATION_ID", "c-1");
/// request.properties.insert("REPLY_TO_CLIENT", "10.0.0.1@x");
/// let reply = create_reply_message(&request, "pong").unwrap();
/// assert_eq!(reply.topic, "DefaultCluster_REPLY_TOPIC");
/// assert_eq!(reply.properties.get("MSG_TYPE"), Some("reply"));
/// ```
pub fn create_reply_message(request: &MessageExt, body: impl Into<Bytes>) -> Result<Message> {
    let cluster = request.properties.get(PROPERTY_CLUSTER).ok_or_else(|| {
        ClientError::InvalidMessage("request message has no CLUSTER property".into())
    })?;
    let mut reply = Message::new(reply_topic(cluster), body);
    reply
        .properties
        .insert(PROPERTY_MESSAGE_TYPE, REPLY_MESSAGE_FLAG);
    for key in [
        PROPERTY_CORRELATION_ID,
        PROPERTY_MESSAGE_REPLY_TO_CLIENT,
        PROPERTY_MESSAGE_TTL,
    ] {
        if let Some(value) = request.properties.get(key) {
            reply.properties.insert(key, value);
        }
    }
    Ok(reply)
}

impl Producer {
    /// Sends `msg` and waits up to `timeout` for the reply a consumer sends with
    /// [`create_reply_message`] and [`Producer::send`]; [`ClientError::Timeout`] when none
    /// arrives in time.
    ///
    /// ```no_run
    /// # async fn demo(producer: ferric_client::Producer) -> ferric_client::Result<()> {
    /// use std::time::Duration;
    /// use ferric_client::MessageBuilder;
    /// let reply = producer
    ///     .request(MessageBuilder::new("RequestTopic", "ping").build(), Duration::from_secs(3))
    ///     .await?;
    /// println!("{}", String::from_utf8_lossy(&reply.body));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn request(&self, mut msg: Message, timeout: Duration) -> Result<MessageExt> {
        self.validate(&msg)?;
        let started = Instant::now();
        let instance = &self.inner.instance;
        // The broker finds our connection through the producer heartbeat; make sure the
        // brokers of this topic have it before the reply can arrive.
        self.publish_info(&msg.topic).await?;
        instance.send_heartbeat_now().await;
        let correlation_id = new_correlation_id();
        msg.properties
            .insert(PROPERTY_CORRELATION_ID, correlation_id.clone());
        msg.properties
            .insert(PROPERTY_MESSAGE_REPLY_TO_CLIENT, instance.client_id());
        msg.properties
            .insert(PROPERTY_MESSAGE_TTL, timeout.as_millis().to_string());
        let (sender, receiver) = oneshot::channel();
        instance
            .inner
            .reply_waiters
            .lock()
            .insert(correlation_id.clone(), sender);
        let outcome = async {
            let prepared = self.prepare(&msg)?;
            self.send_with_retries(prepared, Mode::Sync).await?;
            let remaining = timeout.saturating_sub(started.elapsed());
            match tokio::time::timeout(remaining, receiver).await {
                Ok(Ok(reply)) => Ok(reply),
                Ok(Err(_)) => Err(ClientError::Shutdown),
                Err(_) => Err(ClientError::Timeout {
                    what: "request-reply",
                    millis: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                }),
            }
        }
        .await;
        instance.inner.reply_waiters.lock().remove(&correlation_id);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_ids_are_uuid_shaped_and_unique() {
        let a = new_correlation_id();
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_ne!(a, new_correlation_id());
    }

    #[test]
    fn reply_needs_cluster() {
        assert!(create_reply_message(&MessageExt::default(), "x").is_err());
    }
}
