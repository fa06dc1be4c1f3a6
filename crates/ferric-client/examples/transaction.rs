//! Transactional messages: commit, rollback and "unknown" (answered later by the check).
//!
//! `cargo run -p ferric-client --example transaction -- 127.0.0.1:9876`

use std::time::Duration;

use ferric_client::producer::transaction::{LocalTransactionState, TransactionListener};
use ferric_client::{MessageBuilder, Producer, SendResult};
use ferric_common::{Message, MessageExt};

struct Bank;

impl TransactionListener for Bank {
    async fn execute_local_transaction(
        &self,
        msg: &Message,
        _sent: &SendResult,
    ) -> LocalTransactionState {
        match msg.tags() {
            Some("commit") => LocalTransactionState::CommitMessage,
            Some("rollback") => LocalTransactionState::RollbackMessage,
            _ => LocalTransactionState::Unknown,
        }
    }

    async fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState {
        println!("broker asks about {}", msg.msg_id());
        LocalTransactionState::CommitMessage
    }
}

#[tokio::main]
async fn main() -> ferric_client::Result<()> {
    let namesrv = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9876".to_owned());
    let producer = Producer::builder()
        .namesrv_addr(&namesrv)
        .group("transaction_pg")
        .build_transactional(Bank)
        .await?;
    for tag in ["commit", "rollback", "unknown"] {
        let msg = MessageBuilder::new("TransactionTopic", format!("transfer {tag}"))
            .tags(tag)
            .build();
        let result = producer.send_message_in_transaction(msg).await?;
        println!(
            "{tag}: {:?} {}",
            result.local_state, result.send_result.msg_id
        );
    }
    // Stay up so the broker can check the "unknown" one.
    tokio::time::sleep(Duration::from_secs(70)).await;
    producer.shutdown().await;
    Ok(())
}
