//! The send kernel, sans-I/O: turning a message into a SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE /
//! SEND_REPLY_MESSAGE_V2 request (remoting.md §2.3, §2.4) and a response into a [`SendResult`].

use bytes::Bytes;
use ferric_common::message_const::{
    PROPERTY_MAX_RECONSUME_TIMES, PROPERTY_MESSAGE_TYPE, PROPERTY_RECONSUME_TIME,
    PROPERTY_TRANSACTION_PREPARED, PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX,
};
use ferric_common::record::{DEFAULT_COMPRESS_LEVEL, ZLIB_COMPRESSED_SYS_FLAG, compress_zlib};
use ferric_common::sysflag::TRANSACTION_PREPARED_TYPE;
use ferric_common::topic::is_retry_topic;
use ferric_common::topic::names::AUTO_CREATE_TOPIC_KEY_TOPIC;
use ferric_common::{Message, MessageQueue, Properties};
use ferric_protocol::header::{
    MSG_REGION_KEY, SendMessageRequestHeaderV2, SendMessageResponseHeader, TRACE_ON_KEY,
};
use ferric_protocol::{RemotingCommand, RequestCode, ResponseCode};

use crate::error::{ClientError, Result};

/// Outcome of a send that reached the broker (remoting.md §2.4 "Send response codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStatus {
    /// Stored (and flushed/replicated as configured).
    SendOk,
    /// Stored in memory, but the flush to disk timed out.
    FlushDiskTimeout,
    /// Stored on the master, but replication to the slave timed out.
    FlushSlaveTimeout,
    /// Stored on the master; no slave is available.
    SlaveNotAvailable,
}

/// What a successful send returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    /// Whether the message was stored cleanly.
    pub status: SendStatus,
    /// The client id (`UNIQ_KEY`); comma-separated for a batch.
    pub msg_id: String,
    /// The broker's offset message id(s).
    pub offset_msg_id: String,
    /// The queue written.
    pub message_queue: MessageQueue,
    /// Consume-queue offset of the (first) message.
    pub queue_offset: i64,
    /// Transaction id (half messages).
    pub transaction_id: Option<String>,
    /// Broker region (`MSG_REGION`).
    pub region_id: Option<String>,
    /// Broker trace switch (`TRACE_ON`).
    pub trace_on: bool,
}

/// A message ready for the wire: properties finalised, body possibly compressed.
#[derive(Debug, Clone)]
pub struct PreparedSend {
    /// Topic.
    pub topic: String,
    /// User flag.
    pub flag: i32,
    /// Body (a batch body for batches).
    pub body: Bytes,
    /// Properties to put in header `i`.
    pub properties: Properties,
    /// SYSFLAG.
    pub sys_flag: i32,
    /// True for SEND_BATCH_MESSAGE.
    pub batch: bool,
    /// `UNIQ_KEY`(s) reported back as the msg id.
    pub msg_id: String,
    /// Header `j`.
    pub reconsume_times: i32,
    /// Header `l`.
    pub max_reconsume_times: Option<i32>,
}

impl PreparedSend {
    /// Prepares one message: sets `UNIQ_KEY` (unless present) from `uniq_id`, compresses a body
    /// of at least `compress_over` bytes (sysFlag `0x301`), marks half messages (sysFlag `0x4`)
    /// and moves retry bookkeeping properties into the header.
    pub fn single(
        msg: &Message,
        uniq_id: impl FnOnce() -> String,
        compress_over: usize,
    ) -> Result<Self> {
        let mut properties = msg.properties.clone();
        if !properties.contains_key(PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX) {
            properties.insert(PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX, uniq_id());
        }
        let msg_id = properties
            .get(PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX)
            .unwrap_or_default()
            .to_owned();
        let mut sys_flag = 0;
        let mut body = msg.body.clone();
        if body.len() >= compress_over {
            body = Bytes::from(compress_zlib(&body, DEFAULT_COMPRESS_LEVEL)?);
            sys_flag |= ZLIB_COMPRESSED_SYS_FLAG;
        }
        if properties.get(PROPERTY_TRANSACTION_PREPARED) == Some("true") {
            sys_flag |= TRANSACTION_PREPARED_TYPE;
        }
        let mut reconsume_times = 0;
        let mut max_reconsume_times = None;
        if is_retry_topic(&msg.topic) {
            if let Some(times) = properties.remove(PROPERTY_RECONSUME_TIME) {
                reconsume_times = times.parse().unwrap_or(0);
            }
            if let Some(max) = properties.remove(PROPERTY_MAX_RECONSUME_TIMES) {
                max_reconsume_times = max.parse().ok();
            }
        }
        Ok(Self {
            topic: msg.topic.clone(),
            flag: msg.flag,
            body,
            properties,
            sys_flag,
            batch: false,
            msg_id,
            reconsume_times,
            max_reconsume_times,
        })
    }

    /// The request code: 320 for batches, 325 for reply messages, else 310.
    pub fn request_code(&self) -> RequestCode {
        if self.batch {
            RequestCode::SEND_BATCH_MESSAGE
        } else if self.properties.get(PROPERTY_MESSAGE_TYPE) == Some("reply") {
            RequestCode::SEND_REPLY_MESSAGE_V2
        } else {
            RequestCode::SEND_MESSAGE_V2
        }
    }

    /// The V2 header for queue `mq` (the short `a`…`n` keys, as the Java producer sends them).
    pub fn header(
        &self,
        group: &str,
        mq: &MessageQueue,
        default_topic_queue_nums: i32,
        born_timestamp: i64,
    ) -> SendMessageRequestHeaderV2 {
        SendMessageRequestHeaderV2 {
            a: group.to_owned(),
            b: self.topic.clone(),
            c: AUTO_CREATE_TOPIC_KEY_TOPIC.to_owned(),
            d: default_topic_queue_nums,
            e: mq.queue_id,
            f: self.sys_flag,
            g: born_timestamp,
            h: self.flag,
            i: Some(String::from_utf8_lossy(&self.properties.encode()).into_owned()),
            j: Some(self.reconsume_times),
            k: Some(false),
            l: self.max_reconsume_times,
            m: Some(self.batch),
            n: Some(mq.broker_name.clone()),
        }
    }

    /// The full request.
    pub fn request(
        &self,
        group: &str,
        mq: &MessageQueue,
        default_topic_queue_nums: i32,
        born_timestamp: i64,
    ) -> RemotingCommand {
        let header = self.header(group, mq, default_topic_queue_nums, born_timestamp);
        RemotingCommand::request(self.request_code().value())
            .with_header(&header)
            .with_body(self.body.clone())
    }
}

/// Maps a send response (remoting.md §2.4) to a [`SendResult`] or a broker error.
pub fn process_send_response(
    addr: &str,
    response: &RemotingCommand,
    mq: &MessageQueue,
    msg_id: &str,
) -> Result<SendResult> {
    let status = match ResponseCode(response.code) {
        ResponseCode::SUCCESS => SendStatus::SendOk,
        ResponseCode::FLUSH_DISK_TIMEOUT => SendStatus::FlushDiskTimeout,
        ResponseCode::FLUSH_SLAVE_TIMEOUT => SendStatus::FlushSlaveTimeout,
        ResponseCode::SLAVE_NOT_AVAILABLE => SendStatus::SlaveNotAvailable,
        _ => {
            return Err(ClientError::broker(
                addr,
                response.code,
                response.remark.as_deref(),
            ));
        }
    };
    let header: SendMessageResponseHeader = response.decode_header()?;
    Ok(SendResult {
        status,
        msg_id: msg_id.to_owned(),
        offset_msg_id: header.msg_id,
        message_queue: MessageQueue::new(
            mq.topic.as_str(),
            mq.broker_name.as_str(),
            header.queue_id,
        ),
        queue_offset: header.queue_offset,
        transaction_id: header.transaction_id,
        region_id: response.ext(MSG_REGION_KEY).map(str::to_owned),
        trace_on: response.ext(TRACE_ON_KEY) != Some("false"),
    })
}

/// Response codes after which the producer retries on another broker (remoting.md §2.1).
pub fn is_retryable_code(code: i32) -> bool {
    matches!(
        ResponseCode(code),
        ResponseCode::TOPIC_NOT_EXIST
            | ResponseCode::SERVICE_NOT_AVAILABLE
            | ResponseCode::SYSTEM_ERROR
            | ResponseCode::SYSTEM_BUSY
            | ResponseCode::NO_PERMISSION
            | ResponseCode::NO_BUYER_ID
            | ResponseCode::NOT_IN_CURRENT_UNIT
            | ResponseCode::GO_AWAY
    )
}

/// True when a failed send is worth another attempt.
pub fn is_retryable(error: &ClientError) -> bool {
    match error {
        ClientError::Broker { code, .. } => is_retryable_code(*code),
        ClientError::Remoting { .. }
        | ClientError::RouteNotFound { .. }
        | ClientError::BrokerNotFound { .. } => true,
        _ => false,
    }
}
