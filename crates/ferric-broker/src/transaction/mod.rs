//! Transactional messages (RocketMQ 4.9.8's two-phase protocol).
//!
//! 1. A send whose properties carry `TRAN_MSG=true` is stored as a **half message**
//!    ([`half::to_half_message`]): topic `RMQ_SYS_TRANS_HALF_TOPIC`, queue 0, the real
//!    destination kept in `REAL_TOPIC` / `REAL_QID`, and the SYSFLAG transaction bits reset to
//!    NOT_TYPE so that the half topic gets a ConsumeQueue. Consumers of the real topic never
//!    see it.
//! 2. END_TRANSACTION ([`crate::processor::end_transaction`]) commits (the message is stored
//!    again under its real topic and queue with SYSFLAG COMMIT and `preparedTransactionOffset`
//!    = the half record's CommitLog offset) or rolls back; both write an **op record**
//!    ([`half::op_message`]) to `RMQ_SYS_TRANS_OP_HALF_TOPIC` queue 0: tag `d`, body = the
//!    half-queue offset in ASCII decimal, properties `WAIT=true`, `TAGS=d`.
//! 3. The **check service** ([`check`]) scans the half queue every
//!    `transactionCheckInterval` from the offset committed under the internal group
//!    `CID_RMQ_SYS_TRANS`. Half messages with an op record are done. One older than
//!    `transactionTimeOut` (or its `CHECK_IMMUNITY_TIME_IN_SECONDS`) is re-appended to the
//!    half queue with `TRANSACTION_CHECK_TIMES` incremented, and CHECK_TRANSACTION_STATE
//!    (oneway) is sent for the copy to one live producer channel of its `PGROUP`. A message
//!    that was already checked `transactionCheckMax` times is discarded: an op record is
//!    written and the discard is logged under the `transaction` tracing target.
//!
//! Progress (the half and op queues' consumed offsets) lives in `consumerOffset.json` as
//! `RMQ_SYS_TRANS_HALF_TOPIC@CID_RMQ_SYS_TRANS` and `RMQ_SYS_TRANS_OP_HALF_TOPIC@CID_RMQ_SYS_TRANS`,
//! exactly like Java, so it survives restarts.
//!
//! Facts kept from Java 4.9.8 (seen in the recorded store): the committed copy keeps every
//! property of the half message (`TRAN_MSG`, `PGROUP`, `REAL_TOPIC`, `REAL_QID`, and
//! `TRANSACTION_CHECK_TIMES` when it came from a check); op records have no `UNIQ_KEY` and no
//! `CLUSTER`; op bodies hold one offset each (5.x comma-terminated lists are read too).
//!
//! Differences from Java: a half message still inside its `CHECK_IMMUNITY_TIME_IN_SECONDS`
//! window stops the scan until it is due (Java re-appends it with
//! `TRAN_PREPARED_QUEUE_OFFSET`); a round never visits the copies it appended itself.

pub mod check;
pub mod half;

/// Tag of op records ("remove").
pub const REMOVE_TAG: &str = "d";

/// The only half (and op) queue id.
pub const HALF_QUEUE_ID: i32 = 0;

/// Internal group whose committed offsets record the check service's progress.
pub const CHECK_GROUP: &str = ferric_common::topic::names::CID_RMQ_SYS_TRANS;

/// Tracing target of the transaction log (discards, check-backs).
pub const LOG_TARGET: &str = "transaction";
