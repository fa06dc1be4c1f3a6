//! END_TRANSACTION (37): the producer's outcome for a half message (usually oneway).
//!
//! * On a slave: SLAVE_NOT_AVAILABLE.
//! * `commitOrRollback` 0 (unknown) or any value but 8/12: nothing happens and nothing is
//!   answered.
//! * The half message is read at `commitLogOffset` and must be a record of
//!   `RMQ_SYS_TRANS_HALF_TOPIC` whose `PGROUP` is `producerGroup` and whose queue offset is
//!   `tranStateTableOffset`; otherwise SYSTEM_ERROR with Java's remarks.
//! * Commit (8): the message is stored under its real topic and queue (SYSFLAG COMMIT,
//!   `preparedTransactionOffset` = the half offset), then the op record is written.
//! * Rollback (12): only the op record is written.

use std::sync::Arc;

use ferric_protocol::header::{
    EndTransactionRequestHeader, TRANSACTION_COMMIT_TYPE, TRANSACTION_ROLLBACK_TYPE,
};
use ferric_protocol::{RemotingCommand, ResponseCode};
use ferric_remoting::Channel;
use ferric_store::PutMessageStatus;

use super::{HandlerResult, success};
use crate::config::BrokerRole;
use crate::context::BrokerContext;
use crate::error::{BrokerError, put_status_response};
use crate::persist::now_ms;
use crate::transaction::LOG_TARGET;
use crate::transaction::half::{committed_message, producer_group, write_op_record};

fn system_error(remark: &str) -> BrokerError {
    BrokerError::refused(ResponseCode::SYSTEM_ERROR, remark)
}

/// Handles END_TRANSACTION.
pub async fn end_transaction(
    ctx: &Arc<BrokerContext>,
    channel: &Channel,
    request: &RemotingCommand,
) -> HandlerResult {
    let header: EndTransactionRequestHeader = request.decode_header()?;
    if ctx.config.broker_role == BrokerRole::Slave {
        return Err(BrokerError::refused(
            ResponseCode::SLAVE_NOT_AVAILABLE,
            "Message store is slave mode, so end transaction is forbidden.",
        ));
    }
    let from_check = header.from_transaction_check.unwrap_or(false);
    let commit = match header.commit_or_rollback {
        TRANSACTION_COMMIT_TYPE => true,
        TRANSACTION_ROLLBACK_TYPE => false,
        state => {
            tracing::info!(target: LOG_TARGET, peer = %channel.peer(), producer_group = %header.producer_group, msg_id = %header.msg_id, state, from_check, remark = request.remark.as_deref().unwrap_or(""), "transaction still pending at the producer");
            return Ok(None);
        }
    };
    tracing::debug!(target: LOG_TARGET, peer = %channel.peer(), producer_group = %header.producer_group, msg_id = %header.msg_id, commit, from_check, "end transaction");
    let commit_log_offset = header.commit_log_offset;
    let half = ctx
        .with_store(move |store| store.look_message_by_offset(commit_log_offset))
        .await?;
    let Some(half) = half.filter(|m| m.topic == ferric_common::topic::names::TRANS_HALF_TOPIC)
    else {
        return Err(system_error("Find prepared transaction message failed"));
    };
    if producer_group(&half) != Some(header.producer_group.as_str()) {
        return Err(system_error("The producer group wrong"));
    }
    if half.queue_offset != header.tran_state_table_offset {
        return Err(system_error("The transaction state table offset wrong"));
    }
    if half.commit_log_offset != header.commit_log_offset {
        return Err(system_error("The commit log offset wrong"));
    }
    let half_queue_offset = half.queue_offset;
    let store_host = ctx.store_host;
    if !commit {
        ctx.with_store(move |store| {
            write_op_record(store, half_queue_offset, store_host, now_ms())
        })
        .await?;
        return Ok(Some(success(request)));
    }
    let committed = committed_message(&half)?;
    let (topic, queue_id, tags) = (
        committed.topic.clone(),
        committed.queue_id,
        committed.tags_code(),
    );
    let put = ctx
        .with_store(move |store| {
            let put = store.put_message(committed);
            let stored = matches!(
                put.status,
                PutMessageStatus::PutOk | PutMessageStatus::FlushDiskTimeout
            );
            if stored {
                write_op_record(store, half_queue_offset, store_host, now_ms());
            }
            put
        })
        .await?;
    let Some(append) = put.append.filter(|_| {
        matches!(
            put.status,
            PutMessageStatus::PutOk | PutMessageStatus::FlushDiskTimeout
        )
    }) else {
        let (code, remark) = put_status_response(put.status);
        tracing::warn!(target: LOG_TARGET, %topic, queue_id, status = put.status.as_str(), "committed transaction message not stored");
        return Err(BrokerError::refused(code, remark.unwrap_or_default()));
    };
    tracing::debug!(target: LOG_TARGET, %topic, queue_id, queue_offset = append.logics_offset, half_queue_offset, "transaction committed");
    super::send::wake_held_pulls(ctx, &topic, queue_id, append.logics_offset + 1, Some(tags));
    Ok(Some(success(request)))
}
