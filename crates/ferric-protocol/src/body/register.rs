//! REGISTER_BROKER body (§3.3), plain JSON and the zlib-compressed binary form.
//!
//! Compressed layout (zlib stream; integers big-endian):
//!
//! ```text
//! i32 len, DataVersion JSON
//! i32 topicCount, { i32 len, "topicName read write perm filterType [attributesJSON]" }*
//! i32 len, filterServerList JSON array
//! (5.x brokers ≥ V5_0_0 append a mapping section; it is ignored when reading)
//! ```

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use serde::{Deserialize, Serialize};

use super::config::{DataVersion, TopicConfigBody, TopicConfigSerializeWrapper};
use crate::fastjson::{self, FastjsonError, JsonStyle};

/// Largest decompressed REGISTER_BROKER body accepted.
pub const MAX_DECOMPRESSED_REGISTER_BODY: usize = 64 * 1024 * 1024;

/// REGISTER_BROKER body.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RegisterBrokerBody {
    pub topic_config_serialize_wrapper: TopicConfigSerializeWrapper,
    pub filter_server_list: Vec<String>,
}

/// Why a compressed REGISTER_BROKER body could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RegisterBodyError {
    /// zlib failed.
    #[error("zlib: {0}")]
    Zlib(#[from] std::io::Error),
    /// The decompressed form is larger than [`MAX_DECOMPRESSED_REGISTER_BODY`].
    #[error("decompressed body exceeds {MAX_DECOMPRESSED_REGISTER_BODY} bytes")]
    TooLarge,
    /// A length or count points past the end.
    #[error("truncated compressed body: {0}")]
    Truncated(&'static str),
    /// A topic line does not have the expected fields.
    #[error("bad topic config line {0:?}")]
    BadTopicLine(String),
    /// An embedded JSON part is malformed.
    #[error(transparent)]
    Json(#[from] FastjsonError),
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn i32(&mut self, what: &'static str) -> Result<i32, RegisterBodyError> {
        let bytes = self.take(4, what)?;
        Ok(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], RegisterBodyError> {
        if len > self.0.len() {
            return Err(RegisterBodyError::Truncated(what));
        }
        let (head, tail) = self.0.split_at(len);
        self.0 = tail;
        Ok(head)
    }

    fn block(&mut self, what: &'static str) -> Result<&'a [u8], RegisterBodyError> {
        let len =
            usize::try_from(self.i32(what)?).map_err(|_| RegisterBodyError::Truncated(what))?;
        self.take(len, what)
    }
}

fn parse_topic_line(line: &str) -> Result<TopicConfigBody, RegisterBodyError> {
    let bad = || RegisterBodyError::BadTopicLine(line.to_owned());
    let mut parts = line.splitn(6, ' ');
    let mut next = || parts.next().ok_or_else(bad);
    let topic_name = next()?.to_owned();
    let read_queue_nums = next()?.parse().map_err(|_| bad())?;
    let write_queue_nums = next()?.parse().map_err(|_| bad())?;
    let perm = next()?.parse().map_err(|_| bad())?;
    let topic_filter_type = next()?.to_owned();
    let attributes = match parts.next() {
        Some(text) if !text.trim().is_empty() => Some(fastjson::from_slice(text.as_bytes())?),
        _ => None,
    };
    Ok(TopicConfigBody {
        topic_name,
        read_queue_nums,
        write_queue_nums,
        perm,
        topic_filter_type,
        attributes,
        ..TopicConfigBody::default()
    })
}

impl RegisterBrokerBody {
    /// Plain JSON form (fastjson default style).
    pub fn to_json(&self) -> Result<Vec<u8>, FastjsonError> {
        fastjson::to_vec(self, JsonStyle::Fastjson)
    }

    /// Reads the plain JSON form.
    pub fn from_json(body: &[u8]) -> Result<Self, FastjsonError> {
        fastjson::from_slice(body)
    }

    /// Reads the compressed form.
    pub fn decode_compressed(body: &[u8]) -> Result<Self, RegisterBodyError> {
        let mut plain = Vec::new();
        ZlibDecoder::new(body)
            .take(MAX_DECOMPRESSED_REGISTER_BODY as u64 + 1)
            .read_to_end(&mut plain)?;
        if plain.len() > MAX_DECOMPRESSED_REGISTER_BODY {
            return Err(RegisterBodyError::TooLarge);
        }
        let mut cursor = Cursor(&plain);
        let data_version: DataVersion = fastjson::from_slice(cursor.block("data version")?)?;
        let count = cursor.i32("topic count")?;
        let mut wrapper = TopicConfigSerializeWrapper {
            data_version,
            ..Default::default()
        };
        for _ in 0..count.max(0) {
            let line = cursor.block("topic config")?;
            let topic = parse_topic_line(&String::from_utf8_lossy(line))?;
            wrapper
                .topic_config_table
                .insert(topic.topic_name.clone(), topic);
        }
        let filter_server_list = fastjson::from_slice(cursor.block("filter server list")?)?;
        Ok(Self {
            topic_config_serialize_wrapper: wrapper,
            filter_server_list,
        })
    }

    /// Writes the compressed form (4.x layout: no mapping section).
    pub fn encode_compressed(&self) -> Result<Vec<u8>, RegisterBodyError> {
        let mut plain = Vec::new();
        let wrapper = &self.topic_config_serialize_wrapper;
        let put_block = |plain: &mut Vec<u8>, bytes: &[u8]| -> Result<(), RegisterBodyError> {
            let len = i32::try_from(bytes.len()).map_err(|_| RegisterBodyError::TooLarge)?;
            plain.extend_from_slice(&len.to_be_bytes());
            plain.extend_from_slice(bytes);
            Ok(())
        };
        put_block(
            &mut plain,
            &fastjson::to_vec(&wrapper.data_version, JsonStyle::Fastjson)?,
        )?;
        let count = i32::try_from(wrapper.topic_config_table.len())
            .map_err(|_| RegisterBodyError::TooLarge)?;
        plain.extend_from_slice(&count.to_be_bytes());
        for topic in wrapper.topic_config_table.values() {
            let mut line = format!(
                "{} {} {} {} {}",
                topic.topic_name,
                topic.read_queue_nums,
                topic.write_queue_nums,
                topic.perm,
                topic.topic_filter_type
            );
            if let Some(attributes) = &topic.attributes {
                line.push(' ');
                line.push_str(&String::from_utf8_lossy(&fastjson::to_vec(
                    attributes,
                    JsonStyle::Fastjson,
                )?));
            }
            put_block(&mut plain, line.as_bytes())?;
        }
        put_block(
            &mut plain,
            &fastjson::to_vec(&self.filter_server_list, JsonStyle::Fastjson)?,
        )?;
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&plain)?;
        Ok(encoder.finish()?)
    }
}
