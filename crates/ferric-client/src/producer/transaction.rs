//! Transactional messages (remoting.md §10): a half message, the local transaction, then
//! END_TRANSACTION (oneway) with commit 8 / rollback 12 / unknown 0; the broker's
//! CHECK_TRANSACTION_STATE is answered from [`TransactionListener::check_local_transaction`].

use std::future::Future;
use std::sync::Arc;

use ferric_common::message_const::{
    PROPERTY_DELAY_TIME_LEVEL, PROPERTY_PRODUCER_GROUP, PROPERTY_TRANSACTION_PREPARED,
};
use ferric_common::message_id::decode_offset_msg_id;
use ferric_common::{Message, MessageExt};
use ferric_protocol::header::{
    CheckTransactionStateRequestHeader, EndTransactionRequestHeader, TRANSACTION_COMMIT_TYPE,
    TRANSACTION_NOT_TYPE, TRANSACTION_ROLLBACK_TYPE,
};
use ferric_protocol::{RemotingCommand, RequestCode};
use ferric_remoting::Channel;
use futures::future::BoxFuture;

use super::{Producer, ProducerBuilder, SendResult, SendStatus};
use crate::error::Result;
use crate::instance::TransactionCheckHandle;

/// The outcome of a local transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTransactionState {
    /// Deliver the half message.
    CommitMessage,
    /// Discard the half message.
    RollbackMessage,
    /// Not known yet; the broker will ask again.
    Unknown,
}

impl LocalTransactionState {
    /// The `commitOrRollback` value of END_TRANSACTION.
    pub fn commit_or_rollback(self) -> i32 {
        match self {
            Self::CommitMessage => TRANSACTION_COMMIT_TYPE,
            Self::RollbackMessage => TRANSACTION_ROLLBACK_TYPE,
            Self::Unknown => TRANSACTION_NOT_TYPE,
        }
    }
}

/// The application's side of a transaction.
///
/// ```no_run
/// # async fn demo() -> ferric_client::Result<()> {
/// use ferric_client::producer::transaction::{LocalTransactionState, TransactionListener};
/// use ferric_client::{MessageBuilder, Producer, SendResult};
/// use ferric_common::{Message, MessageExt};
///
/// struct Orders;
///
/// impl TransactionListener for Orders {
///     async fn execute_local_transaction(&self, msg: &Message, _: &SendResult) -> LocalTransactionState {
///         // Write the order to the local database here.
///         LocalTransactionState::CommitMessage
///     }
///     async fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState {
///         // Look the order up by msg.msg_id() or a key.
///         LocalTransactionState::RollbackMessage
///     }
/// }
///
/// let producer = Producer::builder()
///     .namesrv_addr("127.0.0.1:9876")
///     .group("order_tx_group")
///     .build_transactional(Orders)
///     .await?;
/// let sent = producer
///     .send_message_in_transaction(MessageBuilder::new("OrderTopic", "order-1").build())
///     .await?;
/// println!("{:?}", sent.local_state);
/// producer.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub trait TransactionListener: Send + Sync + 'static {
    /// Runs the local transaction after the half message was stored.
    fn execute_local_transaction(
        &self,
        msg: &Message,
        send_result: &SendResult,
    ) -> impl Future<Output = LocalTransactionState> + Send;

    /// Answers the broker's check of a half message whose outcome it does not know.
    fn check_local_transaction(
        &self,
        msg: &MessageExt,
    ) -> impl Future<Output = LocalTransactionState> + Send;
}

/// What [`TransactionProducer::send_message_in_transaction`] returns.
#[derive(Debug, Clone)]
pub struct TransactionSendResult {
    /// The half message's send result.
    pub send_result: SendResult,
    /// What the local transaction decided.
    pub local_state: LocalTransactionState,
}

/// A producer of transactional messages: cheap to clone.
#[derive(Debug)]
pub struct TransactionProducer<L> {
    producer: Producer,
    listener: Arc<L>,
}

impl<L> Clone for TransactionProducer<L> {
    fn clone(&self) -> Self {
        Self {
            producer: self.producer.clone(),
            listener: Arc::clone(&self.listener),
        }
    }
}

struct Checker<L> {
    group: String,
    listener: Arc<L>,
}

impl<L: TransactionListener> TransactionCheckHandle for Checker<L> {
    fn check(
        &self,
        channel: Channel,
        header: CheckTransactionStateRequestHeader,
        msg: MessageExt,
    ) -> BoxFuture<'static, ()> {
        let listener = Arc::clone(&self.listener);
        let group = self.group.clone();
        Box::pin(async move {
            let state = listener.check_local_transaction(&msg).await;
            let end = EndTransactionRequestHeader {
                topic: None,
                producer_group: group,
                tran_state_table_offset: header.tran_state_table_offset,
                commit_log_offset: header.commit_log_offset,
                commit_or_rollback: state.commit_or_rollback(),
                from_transaction_check: Some(true),
                msg_id: msg
                    .uniq_key()
                    .map(str::to_owned)
                    .or(header.msg_id)
                    .unwrap_or_default(),
                transaction_id: header.transaction_id,
            };
            let mut request =
                RemotingCommand::request(RequestCode::END_TRANSACTION.value()).with_header(&end);
            request.language = ferric_protocol::LanguageCode::Rust;
            request.mark_oneway();
            if let Err(error) = channel.send_oneway(request).await {
                tracing::warn!(%error, "end transaction after check failed");
            }
        })
    }
}

impl ProducerBuilder {
    /// Starts a transactional producer whose local transactions `listener` runs.
    pub async fn build_transactional<L: TransactionListener>(
        self,
        listener: L,
    ) -> Result<TransactionProducer<L>> {
        let producer = self.build().await?;
        let listener = Arc::new(listener);
        let group = producer.inner.options.group.clone();
        let checker = Arc::new(Checker {
            group: group.clone(),
            listener: Arc::clone(&listener),
        });
        producer
            .inner
            .instance
            .inner
            .checkers
            .write()
            .insert(group, checker);
        Ok(TransactionProducer { producer, listener })
    }
}

impl<L: TransactionListener> TransactionProducer<L> {
    /// The underlying producer (for ordinary sends).
    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    /// Sends `msg` as a half message, runs the local transaction, then ends the transaction.
    pub async fn send_message_in_transaction(
        &self,
        mut msg: Message,
    ) -> Result<TransactionSendResult> {
        let group = self.producer.inner.options.group.clone();
        msg.properties.remove(PROPERTY_DELAY_TIME_LEVEL);
        msg.properties.insert(PROPERTY_TRANSACTION_PREPARED, "true");
        msg.properties
            .insert(PROPERTY_PRODUCER_GROUP, group.clone());
        let mut send_result = self.producer.send(msg.clone()).await?;
        let local_state = if send_result.status == SendStatus::SendOk {
            if send_result.transaction_id.is_none() {
                send_result.transaction_id = Some(send_result.msg_id.clone());
            }
            self.listener
                .execute_local_transaction(&msg, &send_result)
                .await
        } else {
            LocalTransactionState::RollbackMessage
        };
        if let Err(error) = self
            .end_transaction(&group, &send_result, local_state)
            .await
        {
            tracing::warn!(%error, msg_id = %send_result.msg_id, "end transaction failed");
        }
        Ok(TransactionSendResult {
            send_result,
            local_state,
        })
    }

    async fn end_transaction(
        &self,
        group: &str,
        result: &SendResult,
        state: LocalTransactionState,
    ) -> Result<()> {
        let instance = &self.producer.inner.instance;
        let mq = &result.message_queue;
        let addr = instance
            .master_addr_or_refresh(&mq.broker_name, &mq.topic)
            .await?;
        let commit_log_offset = decode_offset_msg_id(&result.offset_msg_id)
            .map(|id| id.commit_log_offset)
            .map_err(|e| crate::ClientError::InvalidMessage(format!("bad offset msg id: {e}")))?;
        let header = EndTransactionRequestHeader {
            topic: None,
            producer_group: group.to_owned(),
            tran_state_table_offset: result.queue_offset,
            commit_log_offset,
            commit_or_rollback: state.commit_or_rollback(),
            from_transaction_check: Some(false),
            msg_id: result.msg_id.clone(),
            transaction_id: result.transaction_id.clone(),
        };
        let mut request =
            RemotingCommand::request(RequestCode::END_TRANSACTION.value()).with_header(&header);
        request.set_ext("bname", mq.broker_name.clone());
        instance.api().invoke_oneway(&addr, request).await
    }

    /// Shuts the producer down.
    pub async fn shutdown(&self) {
        self.producer.shutdown().await;
    }
}
