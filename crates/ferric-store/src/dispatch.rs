//! [`DispatchRequest`]: what the ConsumeQueue and the index need to know about one stored
//! record, derived from the record alone (so recovery can rebuild both from the CommitLog).

use ferric_common::record::RecordView;
use ferric_common::sysflag::{TRANSACTION_ROLLBACK_TYPE, transaction_type};

/// The topic of scheduled (delayed) messages; its tag code is the delivery time.
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";

const PROPERTY_DELAY: &str = "DELAY";

/// One record as seen by the dispatcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchRequest {
    /// Topic.
    pub topic: String,
    /// Queue id.
    pub queue_id: i32,
    /// CommitLog offset of the record.
    pub commit_log_offset: i64,
    /// TOTALSIZE.
    pub msg_size: i32,
    /// Consume-queue tag code (Java `hashCode` of TAGS, or the delivery time for
    /// `SCHEDULE_TOPIC_XXXX`).
    pub tags_code: i64,
    /// STORETIMESTAMP.
    pub store_timestamp: i64,
    /// QUEUEOFFSET.
    pub consume_queue_offset: i64,
    /// The `KEYS` values.
    pub keys: Vec<String>,
    /// The `UNIQ_KEY` property.
    pub uniq_key: Option<String>,
    /// SYSFLAG.
    pub sys_flag: i32,
    /// PreparedTransactionOffset.
    pub prepared_transaction_offset: i64,
}

impl DispatchRequest {
    /// Builds the request for a parsed record. `delay_level_millis[level - 1]` is the delay of
    /// each level (see `MessageStoreConfig::delay_level_millis`).
    pub fn from_view(view: &RecordView<'_>, delay_level_millis: &[i64]) -> Self {
        let mut tags_code = view.tags_code();
        if view.topic == SCHEDULE_TOPIC {
            let level = view
                .property(PROPERTY_DELAY)
                .and_then(|level| level.parse::<usize>().ok())
                .filter(|level| *level > 0)
                .map(|level| level.min(delay_level_millis.len()));
            if let Some(level) = level
                && let Some(delay) = delay_level_millis.get(level.wrapping_sub(1))
            {
                tags_code = view.store_timestamp.saturating_add(*delay);
            }
        }
        Self {
            topic: view.topic.to_owned(),
            queue_id: view.queue_id,
            commit_log_offset: view.commit_log_offset,
            msg_size: view.total_size,
            tags_code,
            store_timestamp: view.store_timestamp,
            consume_queue_offset: view.queue_offset,
            keys: view.keys(),
            uniq_key: view.uniq_key().map(|k| k.into_owned()),
            sys_flag: view.sys_flag,
            prepared_transaction_offset: view.prepared_transaction_offset,
        }
    }

    /// NOT_TYPE and COMMIT records go to the ConsumeQueue; PREPARED and ROLLBACK do not.
    pub fn goes_to_consume_queue(&self) -> bool {
        ferric_common::sysflag::is_dispatched_to_consume_queue(self.sys_flag)
    }

    /// Every record except ROLLBACK is indexed.
    pub fn goes_to_index(&self) -> bool {
        transaction_type(self.sys_flag) != TRANSACTION_ROLLBACK_TYPE
    }

    /// CommitLog offset just past this record.
    pub fn end_offset(&self) -> i64 {
        self.commit_log_offset + i64::from(self.msg_size)
    }
}
