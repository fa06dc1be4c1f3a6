//! Replays the Java 4.9.8 client requests recorded in the fixtures (`captures/a-producer`,
//! `b-push-consumer`, `f-pull-consumer`, connections whose peer is the broker) against a fresh
//! Ferric broker, in order, and checks that each response has the recorded code and the
//! recorded header field names.
//!
//! Documented differences and skips:
//! * CONSUMER_SEND_MSG_BACK (36) is replayed and its code compared. Its `offset` header is the
//!   CommitLog offset of the message to retry on the recording broker (0 in `b-push-consumer`:
//!   the first message stored there). The fresh broker stores the `a-producer` sends first too,
//!   so the same offset names the same message here; the test checks that at least one
//!   send-back was compared.
//! * PULL_MESSAGE is replayed without FLAG_SUSPEND (a recorded hold could last 15 s) and its
//!   code is not compared: it depends on the messages the Java broker had at that moment
//!   (retry messages from send-back, live messages, the capture trimming dropped pulls). Its
//!   header field names are compared when both sides answered with a pull header.
//! * Requests whose recorded response is missing (suspended pulls the client abandoned) are
//!   sent but not compared; oneway requests are sent as oneway.
//! * Send responses carry `transactionId` (the UNIQ_KEY) like RocketMQ 5.x; 4.9.8 omits it.
//!   It is the one extra header name allowed.
//! * QUERY_CONSUMER_OFFSET depends on offsets committed by pulls and send-backs that are
//!   skipped or trimmed, so only its header names are compared when both succeed.

mod common;

use std::collections::HashMap;

use common::capture::{decode_hex, header_names, read_capture};
use common::*;
use ferric_protocol::header::PULL_FLAG_SUSPEND;
use ferric_protocol::{RemotingCommand, RequestCode};

struct Outcome {
    compared: usize,
    send_backs_compared: usize,
    mismatches: Vec<String>,
}

async fn replay(broker: &TestBroker, file: &str) -> anyhow::Result<Outcome> {
    let lines = read_capture(&format!("captures/{file}"))?;
    let mut responses: HashMap<(u64, i64), RemotingCommand> = HashMap::new();
    for line in &lines {
        if line["peer"] == "broker" && line["dir"] == "s2c" && line["kind"] == "response" {
            let key = (
                line["conn"].as_u64().unwrap_or(0),
                line["opaque"].as_i64().unwrap_or(0),
            );
            responses.insert(key, decode_hex(line["hex"].as_str().unwrap_or("")));
        }
    }
    let mut outcome = Outcome {
        compared: 0,
        send_backs_compared: 0,
        mismatches: Vec::new(),
    };
    for line in &lines {
        if line["peer"] != "broker" || line["dir"] != "c2s" {
            continue;
        }
        let mut request = decode_hex(line["hex"].as_str().unwrap_or(""));
        let code = RequestCode(request.code);
        if code == RequestCode::PULL_MESSAGE
            && let Some(flag) = request.ext("sysFlag").and_then(|f| f.parse::<i32>().ok())
        {
            request.set_ext("sysFlag", (flag & !PULL_FLAG_SUSPEND).to_string());
        }
        if request.is_oneway() {
            broker.client.invoke_oneway(&broker.addr, request).await?;
            continue;
        }
        let key = (
            line["conn"].as_u64().unwrap_or(0),
            line["opaque"].as_i64().unwrap_or(0),
        );
        let ours = broker.call(request).await?;
        let Some(recorded) = responses.get(&key) else {
            continue;
        };
        let what = format!("{file} conn {} opaque {} {code}", key.0, key.1);
        let code_depends_on_state =
            code == RequestCode::PULL_MESSAGE || code == RequestCode::QUERY_CONSUMER_OFFSET;
        if !code_depends_on_state && ours.code != recorded.code {
            outcome.mismatches.push(format!(
                "{what}: code {} ({:?}), recorded {} ({:?})",
                ours.code, ours.remark, recorded.code, recorded.remark
            ));
            continue;
        }
        if ours.code == recorded.code {
            let (mut ours_names, recorded_names) = (header_names(&ours), header_names(recorded));
            if !recorded_names.contains("transactionId") {
                ours_names.remove("transactionId");
            }
            if ours_names != recorded_names {
                outcome.mismatches.push(format!(
                    "{what}: header names {ours_names:?}, recorded {recorded_names:?}"
                ));
                continue;
            }
        }
        outcome.compared += 1;
        if code == RequestCode::CONSUMER_SEND_MSG_BACK {
            outcome.send_backs_compared += 1;
        }
    }
    Ok(outcome)
}

#[tokio::test]
async fn java_client_requests_get_the_recorded_codes_and_header_names() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.broker_name = "broker-a".to_owned();
    config.listen_port = 20911;
    config.finish()?;
    let broker = TestBroker::start(config).await?;
    let mut compared = 0;
    let mut send_backs_compared = 0;
    let mut mismatches = Vec::new();
    for file in [
        "a-producer.jsonl",
        "b-push-consumer.jsonl",
        "f-pull-consumer.jsonl",
    ] {
        let outcome = replay(&broker, file).await?;
        compared += outcome.compared;
        send_backs_compared += outcome.send_backs_compared;
        mismatches.extend(outcome.mismatches);
    }
    broker.stop().await?;
    assert!(
        mismatches.is_empty(),
        "mismatches:\n{}",
        mismatches.join("\n")
    );
    assert!(compared >= 30, "only {compared} responses compared");
    assert!(
        send_backs_compared >= 1,
        "no CONSUMER_SEND_MSG_BACK response compared"
    );
    Ok(())
}
