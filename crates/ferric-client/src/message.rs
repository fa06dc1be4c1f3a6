//! [`MessageBuilder`]: a convenient way to build a [`Message`] with tags, keys, a delay level
//! and user properties.

use bytes::Bytes;
use ferric_common::Message;
use ferric_common::message_const::{
    PROPERTY_DELAY_TIME_LEVEL, PROPERTY_KEYS, PROPERTY_TAGS, PROPERTY_WAIT_STORE_MSG_OK,
};

/// Builds a [`Message`]; like Java's `Message` constructor it sets `WAIT=true`.
///
/// ```
/// use ferric_client::MessageBuilder;
/// let msg = MessageBuilder::new("TopicTest", "hello")
///     .tags("TagA")
///     .keys(["order-1", "user-7"])
///     .delay_level(3)
///     .property("region", "eu")
///     .build();
/// assert_eq!(msg.tags(), Some("TagA"));
/// assert_eq!(msg.keys(), vec!["order-1", "user-7"]);
/// assert_eq!(msg.properties.get("DELAY"), Some("3"));
/// ```
#[derive(Debug, Clone)]
pub struct MessageBuilder {
    msg: Message,
}

impl MessageBuilder {
    /// A message for `topic` with `body`.
    pub fn new(topic: impl Into<String>, body: impl Into<Bytes>) -> Self {
        let mut msg = Message::new(topic, body);
        msg.properties.insert(PROPERTY_WAIT_STORE_MSG_OK, "true");
        Self { msg }
    }

    /// Sets the tag (`TAGS`).
    pub fn tags(mut self, tags: impl Into<String>) -> Self {
        self.msg.properties.insert(PROPERTY_TAGS, tags);
        self
    }

    /// Sets the keys (`KEYS`, space-separated).
    pub fn keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let keys: Vec<String> = keys.into_iter().map(|k| k.as_ref().to_owned()).collect();
        self.msg.properties.insert(PROPERTY_KEYS, keys.join(" "));
        self
    }

    /// Sets the delay level 1..=18 (`DELAY`); 0 leaves the message undelayed.
    pub fn delay_level(mut self, level: u32) -> Self {
        if level > 0 {
            self.msg
                .properties
                .insert(PROPERTY_DELAY_TIME_LEVEL, level.to_string());
        }
        self
    }

    /// Whether the broker should wait for flush/replication before answering (`WAIT`).
    pub fn wait_store_msg_ok(mut self, wait: bool) -> Self {
        self.msg.properties.insert(
            PROPERTY_WAIT_STORE_MSG_OK,
            if wait { "true" } else { "false" },
        );
        self
    }

    /// Sets the user flag.
    pub fn flag(mut self, flag: i32) -> Self {
        self.msg.flag = flag;
        self
    }

    /// Adds a user property.
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.msg.properties.insert(key, value);
        self
    }

    /// The message.
    pub fn build(self) -> Message {
        self.msg
    }
}
