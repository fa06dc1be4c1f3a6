//! End to end against the real Ferric binaries: transactional producer (commit, rollback, and
//! "unknown" resolved by the broker's check-back) and request-reply.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, ensure};
use ferric_client::consumer::ConsumeFromWhere;
use ferric_client::consumer::push::{ConsumeConcurrentlyStatus, PushConsumer};
use ferric_client::producer::request::create_reply_message;
use ferric_client::producer::transaction::{LocalTransactionState, TransactionListener};
use ferric_client::{ClientError, MessageBuilder, Producer, SendResult};
use ferric_common::{Message, MessageExt};
use ferric_testkit::ClusterOptions;
use parking_lot::Mutex;
use support::Collector;

const TX_TOPIC: &str = "E2eTxTopic";
const REQUEST_TOPIC: &str = "E2eRequestTopic";

/// Decides by body prefix: `commit-*`, `rollback-*`, and `unknown-commit-*` /
/// `unknown-rollback-*` left open until the broker asks.
#[derive(Clone, Default)]
struct Ledger {
    checked: Arc<Mutex<HashMap<String, usize>>>,
}

fn body_of(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

impl TransactionListener for Ledger {
    async fn execute_local_transaction(
        &self,
        msg: &Message,
        _sent: &SendResult,
    ) -> LocalTransactionState {
        let body = body_of(&msg.body);
        if body.starts_with("commit-") {
            LocalTransactionState::CommitMessage
        } else if body.starts_with("rollback-") {
            LocalTransactionState::RollbackMessage
        } else {
            LocalTransactionState::Unknown
        }
    }

    async fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState {
        let body = body_of(&msg.body);
        *self.checked.lock().entry(body.clone()).or_default() += 1;
        if body.starts_with("unknown-commit-") {
            LocalTransactionState::CommitMessage
        } else {
            LocalTransactionState::RollbackMessage
        }
    }
}

#[test]
fn transactions_deliver_exactly_the_committed_messages() -> Result<()> {
    let rt = ferric_testkit::runtime()?;
    let options = ClusterOptions::default()
        .broker_config("transactionCheckInterval", "1000")
        .broker_config("transactionTimeOut", "1000");
    let cluster = support::cluster_with_options(&rt, options, &[(TX_TOPIC, 4)])?;
    rt.block_on(async {
        let collector = Collector::default();
        let consumer = PushConsumer::builder()
            .client_config(support::client_config(&cluster))
            .group("e2e_tx_cg")
            .subscribe(TX_TOPIC, "*")
            .consume_from_where(ConsumeFromWhere::FirstOffset)
            .register_listener(collector.listener("c"))
            .start()
            .await?;
        let ledger = Ledger::default();
        let producer = Producer::builder()
            .client_config(support::client_config(&cluster))
            .group("e2e_tx_pg")
            .build_transactional(ledger.clone())
            .await?;

        let mut expected = BTreeSet::new();
        for kind in ["commit", "rollback", "unknown-commit", "unknown-rollback"] {
            for i in 0..3 {
                let body = format!("{kind}-{i}");
                let sent = producer
                    .send_message_in_transaction(
                        MessageBuilder::new(TX_TOPIC, body.clone()).build(),
                    )
                    .await?;
                let wanted = if kind.starts_with("unknown") {
                    LocalTransactionState::Unknown
                } else if kind == "commit" {
                    LocalTransactionState::CommitMessage
                } else {
                    LocalTransactionState::RollbackMessage
                };
                ensure!(sent.local_state == wanted, "{body}: {:?}", sent.local_state);
                ensure!(
                    sent.send_result.transaction_id.is_some(),
                    "{body}: no transaction id"
                );
                if kind.ends_with("commit") {
                    expected.insert(body);
                }
            }
        }

        let delivered = collector
            .wait_until(Duration::from_secs(60), |c| c.all().len() >= expected.len())
            .await;
        ensure!(delivered, "delivered only {:?}", collector.all());
        // Give stray deliveries (rolled back or duplicated messages) a chance to show up.
        let checked_all = support::eventually(Duration::from_secs(20), || {
            let checked = ledger.checked.lock();
            (0..3).all(|i| {
                checked.contains_key(&format!("unknown-commit-{i}"))
                    && checked.contains_key(&format!("unknown-rollback-{i}"))
            })
        })
        .await;
        ensure!(checked_all, "check-backs seen: {:?}", ledger.checked.lock());
        tokio::time::sleep(Duration::from_secs(3)).await;
        let all = collector.all();
        let got: BTreeSet<String> = all.iter().cloned().collect();
        ensure!(
            got == expected && all.len() == expected.len(),
            "delivered {all:?}, expected {expected:?}"
        );
        let checked = ledger.checked.lock().clone();
        ensure!(
            checked.keys().all(|body| body.starts_with("unknown-")),
            "the broker checked a decided transaction: {checked:?}"
        );

        producer.shutdown().await;
        consumer.shutdown().await;
        Ok(())
    })
}

#[test]
fn request_returns_the_responders_reply() -> Result<()> {
    let rt = ferric_testkit::runtime()?;
    let cluster = support::cluster_with_topic(&rt, &[(REQUEST_TOPIC, 2)])?;
    rt.block_on(async {
        let replier = support::producer(&cluster, "e2e_reply_pg").await?;
        let responder = {
            let replier = replier.clone();
            PushConsumer::builder()
                .client_config(support::client_config(&cluster))
                .group("e2e_reply_cg")
                .subscribe(REQUEST_TOPIC, "ping")
                .consume_from_where(ConsumeFromWhere::FirstOffset)
                .register_listener(move |msgs: Vec<MessageExt>| {
                    let replier = replier.clone();
                    async move {
                        for msg in msgs {
                            let body = format!("pong to {}", body_of(&msg.body));
                            let sent = match create_reply_message(&msg, body) {
                                Ok(reply) => replier.send(reply).await.map(drop),
                                Err(error) => Err(error),
                            };
                            if sent.is_err() {
                                return ConsumeConcurrentlyStatus::ReconsumeLater;
                            }
                        }
                        ConsumeConcurrentlyStatus::ConsumeSuccess
                    }
                })
                .start()
                .await?
        };
        let requester = support::producer(&cluster, "e2e_request_pg").await?;
        for i in 0..3 {
            let request = MessageBuilder::new(REQUEST_TOPIC, format!("ping-{i}"))
                .tags("ping")
                .build();
            let reply = requester.request(request, Duration::from_secs(30)).await?;
            ensure!(
                body_of(&reply.body) == format!("pong to ping-{i}"),
                "reply {i}: {:?}",
                reply.body
            );
            ensure!(
                reply.properties.get("MSG_TYPE") == Some("reply"),
                "reply properties {:?}",
                reply.properties
            );
            ensure!(
                reply.properties.get("REPLY_TO_CLIENT") == Some(requester.instance().client_id()),
                "reply-to {:?}",
                reply.properties.get("REPLY_TO_CLIENT")
            );
        }

        // Nobody answers tag "silent": the request times out.
        let unanswered = requester
            .request(
                MessageBuilder::new(REQUEST_TOPIC, "nobody")
                    .tags("silent")
                    .build(),
                Duration::from_secs(2),
            )
            .await;
        ensure!(
            matches!(unanswered, Err(ClientError::Timeout { .. })),
            "unanswered request: {unanswered:?}"
        );

        requester.shutdown().await;
        responder.shutdown().await;
        replier.shutdown().await;
        Ok(())
    })
}
