//! Batches (remoting.md §4.5): validation, splitting by size, and the SEND_BATCH_MESSAGE body.

use bytes::{Bytes, BytesMut};
use ferric_common::batch::{batch_entry_len, encode_batch};
use ferric_common::message_const::{
    PROPERTY_DELAY_TIME_LEVEL, PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX, PROPERTY_WAIT_STORE_MSG_OK,
};
use ferric_common::topic::is_retry_topic;
use ferric_common::{Message, Properties};

use super::send::PreparedSend;
use crate::error::{ClientError, Result};

/// Checks the batch rules: non-empty, one topic, one WAIT flag, no delay, no retry topic.
pub fn validate_batch(messages: &[Message]) -> Result<()> {
    let Some(first) = messages.first() else {
        return Err(ClientError::InvalidMessage("empty batch".into()));
    };
    for msg in messages {
        if msg.topic != first.topic {
            return Err(ClientError::InvalidMessage(
                "all messages of a batch must have the same topic".into(),
            ));
        }
        if msg.wait_store_msg_ok() != first.wait_store_msg_ok() {
            return Err(ClientError::InvalidMessage(
                "all messages of a batch must have the same WAIT flag".into(),
            ));
        }
        if msg.properties.contains_key(PROPERTY_DELAY_TIME_LEVEL) {
            return Err(ClientError::InvalidMessage(
                "delay messages are not supported in a batch".into(),
            ));
        }
    }
    if is_retry_topic(&first.topic) {
        return Err(ClientError::InvalidMessage(
            "retry topics are not supported in a batch".into(),
        ));
    }
    Ok(())
}

/// Splits `messages` (in order) into chunks whose encoded batch bodies are at most `max_bytes`.
/// A single message larger than `max_bytes` is an error.
pub fn split_batch(messages: Vec<Message>, max_bytes: usize) -> Result<Vec<Vec<Message>>> {
    let mut chunks = Vec::new();
    let mut current: Vec<Message> = Vec::new();
    let mut current_len = 0;
    for msg in messages {
        let len = batch_entry_len(&msg);
        if len > max_bytes {
            return Err(ClientError::MessageTooLarge {
                size: len,
                max: max_bytes,
            });
        }
        if current_len + len > max_bytes && !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
            current_len = 0;
        }
        current_len += len;
        current.push(msg);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    Ok(chunks)
}

/// Gives each message its own `UNIQ_KEY` and encodes the chunk as one batch send. The batch's
/// header properties carry only `WAIT`, as the Java 4.9.8 client sends them.
pub fn prepare_batch(
    mut chunk: Vec<Message>,
    mut uniq_id: impl FnMut() -> String,
) -> Result<PreparedSend> {
    let mut ids = Vec::with_capacity(chunk.len());
    for msg in &mut chunk {
        if !msg
            .properties
            .contains_key(PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX)
        {
            msg.properties
                .insert(PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX, uniq_id());
        }
        ids.push(
            msg.properties
                .get(PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX)
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let first = chunk
        .first()
        .ok_or_else(|| ClientError::InvalidMessage("empty batch".into()))?;
    let mut properties = Properties::new();
    properties.insert(
        PROPERTY_WAIT_STORE_MSG_OK,
        if first.wait_store_msg_ok() {
            "true"
        } else {
            "false"
        },
    );
    let mut body = BytesMut::new();
    encode_batch(&chunk, &mut body)
        .map_err(|error| ClientError::InvalidMessage(format!("batch encoding: {error}")))?;
    Ok(PreparedSend {
        topic: first.topic.clone(),
        flag: 0,
        body: Bytes::from(body),
        properties,
        sys_flag: 0,
        batch: true,
        msg_id: ids.join(","),
        reconsume_times: 0,
        max_reconsume_times: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferric_common::batch::decode_batch;
    use proptest::prelude::*;

    fn msg(topic: &str, len: usize) -> Message {
        Message::new(topic, vec![b'x'; len])
    }

    #[test]
    fn batch_rules() {
        assert!(validate_batch(&[]).is_err());
        assert!(validate_batch(&[msg("A", 1), msg("B", 1)]).is_err());
        let mut delayed = msg("A", 1);
        delayed.properties.insert(PROPERTY_DELAY_TIME_LEVEL, "3");
        assert!(validate_batch(&[msg("A", 1), delayed]).is_err());
        assert!(validate_batch(&[msg("%RETRY%g", 1)]).is_err());
        assert!(validate_batch(&[msg("A", 1), msg("A", 2)]).is_ok());
    }

    #[test]
    fn oversized_message_is_rejected() {
        assert!(matches!(
            split_batch(vec![msg("A", 100)], 50),
            Err(ClientError::MessageTooLarge { .. })
        ));
    }

    #[test]
    fn prepared_batch_decodes_with_own_ids() {
        let mut counter = 0;
        let prepared = prepare_batch(vec![msg("A", 3), msg("A", 4)], || {
            counter += 1;
            format!("ID{counter}")
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(prepared.batch);
        assert_eq!(prepared.msg_id, "ID1,ID2");
        assert_eq!(
            prepared.properties.get(PROPERTY_WAIT_STORE_MSG_OK),
            Some("true")
        );
        let decoded = decode_batch(&prepared.body, "A").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[1].uniq_key(), Some("ID2"));
        assert_eq!(decoded[1].body.len(), 4);
    }

    proptest! {
        #[test]
        fn split_keeps_order_and_limits(sizes in proptest::collection::vec(0usize..300, 0..60), max in 330usize..2000) {
            let messages: Vec<Message> = sizes.iter().enumerate().map(|(i, len)| {
                let mut m = msg("T", *len);
                m.flag = i as i32;
                m
            }).collect();
            let chunks = split_batch(messages.clone(), max).unwrap_or_else(|e| panic!("{e}"));
            let flat: Vec<Message> = chunks.iter().flatten().cloned().collect();
            prop_assert_eq!(flat, messages);
            for chunk in &chunks {
                prop_assert!(!chunk.is_empty());
                let total: usize = chunk.iter().map(batch_entry_len).sum();
                prop_assert!(total <= max);
            }
            // Greedy: a chunk plus the next chunk's first message would not fit.
            for pair in chunks.windows(2) {
                let total: usize = pair[0].iter().map(batch_entry_len).sum();
                prop_assert!(total + batch_entry_len(&pair[1][0]) > max);
            }
        }
    }
}
