//! Client behaviour over loopback: correlation under concurrency, timeouts, server-initiated
//! requests, reconnecting and failing pending calls when a connection drops.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{PATIENCE, RunningServer, client_config, server_config, wait_until};
use ferric_protocol::RemotingCommand;
use ferric_remoting::{RemotingClient, RemotingError, RemotingServer, processor_fn};
use tokio::net::TcpListener;

const ECHO: i32 = 100;
const DELAYED: i32 = 101;
const ASK_CLIENT: i32 = 110;
const CLIENT_SIDE: i32 = 40;

/// Echoes ext `n` after a delay derived from it, so responses leave out of order.
fn echo_server() -> RemotingServer {
    let server = RemotingServer::new(server_config());
    server.register_processor(
        ECHO,
        processor_fn(|_channel, request: RemotingCommand| async move {
            let n: u64 = request.ext("n").and_then(|n| n.parse().ok()).unwrap_or(0);
            let delay = n.wrapping_mul(7919) % 5;
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let mut response = request.response_to(0, None);
            response.set_ext("n", n.to_string());
            Ok(Some(response.with_body(request.body.clone())))
        }),
    );
    server.register_processor(
        DELAYED,
        processor_fn(|_channel, request: RemotingCommand| async move {
            let millis: u64 = request
                .ext("delay_ms")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(millis)).await;
            Ok(Some(request.response_to(0, Some("late".to_owned()))))
        }),
    );
    server
}

fn echo_request(n: u64) -> RemotingCommand {
    let mut request = RemotingCommand::request(ECHO);
    request.set_ext("n", n.to_string());
    request.with_body(n.to_be_bytes().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_are_correlated_on_one_connection() -> anyhow::Result<()> {
    let running = RunningServer::start(echo_server()).await?;
    let addr = running.addr_string();
    let client = RemotingClient::new(client_config());
    let channel = client.channel(&addr).await?;

    let mut tasks = Vec::new();
    for task in 0..8u64 {
        let client = client.clone();
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let calls = (0..125u64).map(|i| {
                let n = task * 1000 + i;
                let client = client.clone();
                let addr = addr.clone();
                async move { (n, client.invoke(&addr, echo_request(n), PATIENCE).await) }
            });
            futures::future::join_all(calls).await
        }));
    }
    let mut completed = 0;
    for task in tasks {
        for (n, response) in task.await? {
            let response = response?;
            assert_eq!(response.code, 0);
            assert_eq!(
                response.ext("n"),
                Some(n.to_string().as_str()),
                "response for the wrong request"
            );
            assert_eq!(&response.body[..], &n.to_be_bytes());
            completed += 1;
        }
    }
    assert_eq!(completed, 1000);
    assert_eq!(channel.pending_calls(), 0);
    let again = client.channel(&addr).await?;
    assert_eq!(
        again.id(),
        channel.id(),
        "all calls must share one connection"
    );
    running.stop().await
}

#[tokio::test]
async fn timed_out_call_fails_and_its_late_response_is_dropped() -> anyhow::Result<()> {
    let running = RunningServer::start(echo_server()).await?;
    let addr = running.addr_string();
    let client = RemotingClient::new(client_config());
    let channel = client.channel(&addr).await?;

    let mut slow = RemotingCommand::request(DELAYED);
    slow.set_ext("delay_ms", "300");
    let error = client.invoke(&addr, slow, Duration::from_millis(50)).await;
    let Err(RemotingError::Timeout {
        addr: timed_out_addr,
        millis,
        ..
    }) = error
    else {
        panic!("expected a timeout, got {error:?}");
    };
    assert_eq!(timed_out_addr, addr);
    assert_eq!(millis, 50);
    assert_eq!(
        channel.pending_calls(),
        0,
        "a timed-out call must leave no pending entry"
    );

    // The next call is unaffected, also once the late response has arrived.
    let response = client.invoke(&addr, echo_request(1), PATIENCE).await?;
    assert_eq!(response.ext("n"), Some("1"));
    let mut after_late = RemotingCommand::request(DELAYED);
    after_late.set_ext("delay_ms", "400");
    let response = client.invoke(&addr, after_late, PATIENCE).await?;
    assert_eq!(response.remark.as_deref(), Some("late"));
    let response = client.invoke(&addr, echo_request(2), PATIENCE).await?;
    assert_eq!(response.ext("n"), Some("2"));
    assert!(channel.is_active());
    assert_eq!(channel.pending_calls(), 0);
    running.stop().await
}

#[tokio::test]
async fn server_sends_request_to_client_over_the_same_connection() -> anyhow::Result<()> {
    let server = echo_server();
    server.register_processor(
        ASK_CLIENT,
        processor_fn(|channel, request: RemotingCommand| async move {
            let mut question = RemotingCommand::request(CLIENT_SIDE);
            question.set_ext("question", "who are you");
            let answer = channel.send_request(question, PATIENCE).await?;
            let mut response = request.response_to(0, answer.remark.clone());
            response.set_ext("answered_with", answer.code.to_string());
            Ok(Some(response))
        }),
    );
    let running = RunningServer::start(server).await?;
    let addr = running.addr_string();
    let client = RemotingClient::new(client_config());
    client.register_processor(
        CLIENT_SIDE,
        processor_fn(|_channel, request: RemotingCommand| async move {
            let asked = request.ext("question").unwrap_or_default().to_owned();
            Ok(Some(
                request.response_to(0, Some(format!("client heard: {asked}"))),
            ))
        }),
    );

    let response = client
        .invoke(&addr, RemotingCommand::request(ASK_CLIENT), PATIENCE)
        .await?;
    assert_eq!(response.code, 0);
    assert_eq!(
        response.remark.as_deref(),
        Some("client heard: who are you")
    );
    assert_eq!(response.ext("answered_with"), Some("0"));

    // The server can also push through its channel table, and the client answers unknown codes
    // with REQUEST_CODE_NOT_SUPPORTED.
    let channels = running.server.channels();
    assert_eq!(channels.len(), 1);
    let pushed = channels[0]
        .send_request(RemotingCommand::request(CLIENT_SIDE), PATIENCE)
        .await?;
    assert_eq!(pushed.remark.as_deref(), Some("client heard: "));
    let unknown = channels[0]
        .send_request(RemotingCommand::request(4321), PATIENCE)
        .await?;
    assert_eq!(unknown.code, 3);
    assert_eq!(
        unknown.remark.as_deref(),
        Some(" request type 4321 not supported")
    );
    running.stop().await
}

#[tokio::test]
async fn oneway_from_client_reaches_the_server() -> anyhow::Result<()> {
    let server = RemotingServer::new(server_config());
    let (seen, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    server.register_processor(
        ECHO,
        processor_fn(move |_channel, request: RemotingCommand| {
            let seen = seen.clone();
            async move {
                let _ = seen.send((request.is_oneway(), request.ext("n").map(str::to_owned)));
                Ok(Some(request.response_to(0, None)))
            }
        }),
    );
    let running = RunningServer::start(server).await?;
    let addr = running.addr_string();
    let client = RemotingClient::new(client_config());
    client.invoke_oneway(&addr, echo_request(9)).await?;
    let received = tokio::time::timeout(PATIENCE, seen_rx.recv()).await?;
    assert_eq!(received, Some((true, Some("9".to_owned()))));
    running.stop().await
}

#[tokio::test]
async fn client_reconnects_after_server_restart_on_the_same_port() -> anyhow::Result<()> {
    let running = RunningServer::start(echo_server()).await?;
    let addr = running.addr_string();
    let socket_addr = running.addr;
    let client = RemotingClient::new(client_config());
    let first = client.invoke(&addr, echo_request(1), PATIENCE).await?;
    assert_eq!(first.ext("n"), Some("1"));
    let old_channel = client.channel(&addr).await?;

    running.stop().await?;
    tokio::time::timeout(PATIENCE, old_channel.closed()).await?;
    let while_down = client.invoke(&addr, echo_request(2), PATIENCE).await;
    assert!(
        while_down
            .as_ref()
            .is_err_and(RemotingError::is_connection_error),
        "expected a connection error while the server is down, got {while_down:?}"
    );

    let listener = TcpListener::bind(socket_addr).await?;
    let restarted = RunningServer::start_on(echo_server(), listener)?;
    let after = client.invoke(&addr, echo_request(3), PATIENCE).await?;
    assert_eq!(after.ext("n"), Some("3"));
    let new_channel = client.channel(&addr).await?;
    assert_ne!(new_channel.id(), old_channel.id());
    restarted.stop().await
}

#[tokio::test]
async fn pending_calls_fail_promptly_when_the_connection_closes() -> anyhow::Result<()> {
    let server = echo_server();
    let running = RunningServer::start(server).await?;
    let addr = running.addr_string();
    let client = RemotingClient::new(client_config());
    let channel = client.channel(&addr).await?;

    let mut slow = RemotingCommand::request(DELAYED);
    slow.set_ext("delay_ms", "60000");
    let call = client.invoke_async(&addr, slow, Duration::from_secs(60));
    wait_until(|| channel.pending_calls() == 1).await?;
    channel.close();
    let outcome = tokio::time::timeout(PATIENCE, call).await??;
    assert!(
        matches!(outcome, Err(RemotingError::ConnectionClosed { .. })),
        "expected ConnectionClosed, got {outcome:?}"
    );
    assert_eq!(channel.pending_calls(), 0);
    running.stop().await
}

#[tokio::test]
async fn connect_failure_is_reported_with_the_address() -> anyhow::Result<()> {
    // Reserve a port, then free it so nothing listens there.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    drop(listener);
    let client = RemotingClient::new(client_config());
    let outcome = client
        .invoke(&addr, RemotingCommand::request(ECHO), PATIENCE)
        .await;
    let Err(RemotingError::Connect { addr: failed, .. }) = outcome else {
        panic!("expected a connect error, got {outcome:?}");
    };
    assert_eq!(failed, addr);
    Ok(())
}

#[tokio::test]
async fn client_shutdown_closes_connections_and_refuses_calls() -> anyhow::Result<()> {
    let running = RunningServer::start(echo_server()).await?;
    let addr = running.addr_string();
    let client = RemotingClient::new(client_config());
    let channel = client.channel(&addr).await?;
    client.shutdown().await;
    assert!(!channel.is_active());
    let server = Arc::new(running.server.clone());
    wait_until(|| server.channels().is_empty()).await?;
    let outcome = client.invoke(&addr, echo_request(1), PATIENCE).await;
    assert!(
        matches!(outcome, Err(RemotingError::Shutdown)),
        "got {outcome:?}"
    );
    running.stop().await
}
