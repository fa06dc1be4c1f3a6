//! Message domain types: [`Message`] (what a producer sends), [`MessageExt`]
//! (the stored form with every record field) and [`MessageQueue`].

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use bytes::Bytes;

use crate::message_const::{KEY_SEPARATOR, PROPERTY_WAIT_STORE_MSG_OK};
use crate::message_const::{PROPERTY_KEYS, PROPERTY_TAGS, PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX};
use crate::properties::Properties;

/// A message as a producer sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// Topic name.
    pub topic: String,
    /// User flag.
    pub flag: i32,
    /// Body bytes.
    pub body: Bytes,
    /// Properties (tags, keys, user properties, …).
    pub properties: Properties,
}

impl Message {
    /// A message with no properties.
    pub fn new(topic: impl Into<String>, body: impl Into<Bytes>) -> Self {
        Self {
            topic: topic.into(),
            flag: 0,
            body: body.into(),
            properties: Properties::new(),
        }
    }

    /// The `TAGS` property.
    pub fn tags(&self) -> Option<&str> {
        self.properties.get(PROPERTY_TAGS)
    }

    /// Set the `TAGS` property.
    pub fn set_tags(&mut self, tags: impl Into<String>) {
        self.properties.insert(PROPERTY_TAGS, tags);
    }

    /// The `KEYS` property split on single spaces (empty parts dropped).
    pub fn keys(&self) -> Vec<&str> {
        split_keys(self.properties.get(PROPERTY_KEYS))
    }

    /// Set the `KEYS` property to `keys` joined with a space.
    pub fn set_keys<S: AsRef<str>>(&mut self, keys: &[S]) {
        let joined: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
        self.properties
            .insert(PROPERTY_KEYS, joined.join(KEY_SEPARATOR));
    }

    /// The `UNIQ_KEY` property (client unique id).
    pub fn uniq_key(&self) -> Option<&str> {
        self.properties.get(PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX)
    }

    /// `WAIT` property: absent means true.
    pub fn wait_store_msg_ok(&self) -> bool {
        self.properties.get(PROPERTY_WAIT_STORE_MSG_OK) != Some("false")
    }
}

/// Split a `KEYS` value on single spaces, dropping empty parts.
pub fn split_keys(keys: Option<&str>) -> Vec<&str> {
    keys.map(|k| k.split(KEY_SEPARATOR).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

/// A stored message: every field of the record layout (§4.1), owned.
///
/// `body` is the body as stored (compressed when `sys_flag` says so), and
/// `sys_flag` is the stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExt {
    /// TOTALSIZE of the record (filled by the decoder; ignored by the encoder).
    pub store_size: i32,
    /// Masked CRC32 of the stored body.
    pub body_crc: i32,
    /// Queue id.
    pub queue_id: i32,
    /// User flag.
    pub flag: i32,
    /// Logical offset in the consume queue.
    pub queue_offset: i64,
    /// Physical offset of the record in the CommitLog.
    pub commit_log_offset: i64,
    /// SYSFLAG bits (see [`crate::sysflag`]).
    pub sys_flag: i32,
    /// Producer timestamp (ms).
    pub born_timestamp: i64,
    /// Producer address as seen by the broker.
    pub born_host: SocketAddr,
    /// Broker append timestamp (ms).
    pub store_timestamp: i64,
    /// Broker address (`brokerIP1:listenPort`).
    pub store_host: SocketAddr,
    /// Times the message was re-consumed.
    pub reconsume_times: i32,
    /// Half message offset for committed transactional messages, else 0.
    pub prepared_transaction_offset: i64,
    /// Stored body bytes.
    pub body: Bytes,
    /// Topic name.
    pub topic: String,
    /// Properties.
    pub properties: Properties,
}

impl Default for MessageExt {
    fn default() -> Self {
        let unspecified = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
        Self {
            store_size: 0,
            body_crc: 0,
            queue_id: 0,
            flag: 0,
            queue_offset: 0,
            commit_log_offset: 0,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: unspecified,
            store_timestamp: 0,
            store_host: unspecified,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: Bytes::new(),
            topic: String::new(),
            properties: Properties::new(),
        }
    }
}

impl MessageExt {
    /// The `TAGS` property.
    pub fn tags(&self) -> Option<&str> {
        self.properties.get(PROPERTY_TAGS)
    }

    /// Consume-queue tag code: Java hash of `TAGS` as i64, 0 without a tag.
    pub fn tags_code(&self) -> i64 {
        crate::hash::tags_code(self.tags())
    }

    /// The `KEYS` property split on spaces.
    pub fn keys(&self) -> Vec<&str> {
        split_keys(self.properties.get(PROPERTY_KEYS))
    }

    /// The `UNIQ_KEY` property.
    pub fn uniq_key(&self) -> Option<&str> {
        self.properties.get(PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX)
    }

    /// The offset message id derived from the store host and CommitLog offset.
    pub fn offset_msg_id(&self) -> String {
        crate::message_id::create_offset_msg_id(self.store_host, self.commit_log_offset)
    }

    /// Client-facing id: `UNIQ_KEY` when present, else the offset id.
    pub fn msg_id(&self) -> String {
        match self.uniq_key() {
            Some(id) => id.to_owned(),
            None => self.offset_msg_id(),
        }
    }

    /// Client-side decoding step: inflate a compressed body (at most
    /// `max_len` bytes) and clear SYSFLAG bit 0, as the Java client does. A
    /// body that is not compressed is left alone.
    pub fn decompress_body_in_place(
        &mut self,
        max_len: usize,
    ) -> Result<(), crate::record::CompressionError> {
        if !crate::sysflag::is_compressed(self.sys_flag) {
            return Ok(());
        }
        let inflated = crate::record::decompress_body(self.sys_flag, &self.body, max_len)?;
        self.body = Bytes::from(inflated.into_owned());
        self.sys_flag &= !crate::sysflag::COMPRESSED_FLAG;
        Ok(())
    }

    /// The topic, flag, body and properties as a [`Message`].
    pub fn to_message(&self) -> Message {
        Message {
            topic: self.topic.clone(),
            flag: self.flag,
            body: self.body.clone(),
            properties: self.properties.clone(),
        }
    }
}

/// One queue of a topic on one broker.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageQueue {
    /// Topic name.
    pub topic: String,
    /// Broker name (not address).
    pub broker_name: String,
    /// Queue id.
    pub queue_id: i32,
}

impl MessageQueue {
    /// A queue.
    pub fn new(topic: impl Into<String>, broker_name: impl Into<String>, queue_id: i32) -> Self {
        Self {
            topic: topic.into(),
            broker_name: broker_name.into(),
            queue_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_helpers() {
        let mut m = Message::new("T", Bytes::from_static(b"x"));
        assert!(m.wait_store_msg_ok());
        m.set_tags("TagA");
        m.set_keys(&["k1", "k2"]);
        assert_eq!(m.tags(), Some("TagA"));
        assert_eq!(m.keys(), vec!["k1", "k2"]);
        assert_eq!(m.uniq_key(), None);
        m.properties.insert(PROPERTY_WAIT_STORE_MSG_OK, "false");
        assert!(!m.wait_store_msg_ok());
    }

    #[test]
    fn decompress_in_place_clears_bit_zero() {
        let body = vec![b'z'; 5000];
        let packed = crate::record::compress_zlib(&body, 5).unwrap();
        let mut msg = MessageExt {
            sys_flag: 0x301,
            body: Bytes::from(packed),
            ..MessageExt::default()
        };
        msg.decompress_body_in_place(10_000).unwrap();
        assert_eq!(msg.sys_flag, 0x300);
        assert_eq!(&msg.body[..], &body[..]);
        let before = msg.clone();
        msg.decompress_body_in_place(10).unwrap();
        assert_eq!(msg, before);
    }

    #[test]
    fn split_keys_drops_empty_parts() {
        assert_eq!(split_keys(Some("a  b ")), vec!["a", "b"]);
        assert!(split_keys(None).is_empty());
    }
}
