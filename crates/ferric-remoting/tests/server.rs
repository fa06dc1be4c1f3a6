//! Server behaviour over loopback: dispatch, error answers, oneway, malformed frames, idle
//! connections and shutdown.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{
    PATIENCE, RawReader, RunningServer, client_config, expect_closed, server_config, wait_until,
    write_command,
};
use ferric_protocol::{RemotingCommand, SerializeType};
use ferric_remoting::{
    Channel, ChannelEventListener, ProcessResult, ProcessorError, RemotingClient, RemotingServer,
    RequestProcessor, ServerConfig, processor_fn,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const ECHO: i32 = 100;
const FAIL: i32 = 102;
const SLOW: i32 = 103;
const PANIC: i32 = 104;

fn server_with_processors(config: ServerConfig) -> (RemotingServer, Arc<AtomicUsize>) {
    let server = RemotingServer::new(config);
    server.register_processor(
        ECHO,
        processor_fn(|_channel, request: RemotingCommand| async move {
            let mut response = request.response_to(0, None);
            if let Some(value) = request.ext("n") {
                response.set_ext("n", value);
            }
            Ok(Some(response))
        }),
    );
    let failures = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&failures);
    server.register_processor(
        FAIL,
        processor_fn(move |_channel, _request| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Err(ProcessorError::new("disk on fire"))
            }
        }),
    );
    server.register_processor(
        SLOW,
        processor_fn(|_channel, request: RemotingCommand| async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(Some(request.response_to(0, Some("slow done".to_owned()))))
        }),
    );
    server.register_processor(
        PANIC,
        processor_fn(|_channel, _request| async move { explode() }),
    );
    (server, failures)
}

fn explode() -> ProcessResult {
    panic!("processor bug")
}

async fn start() -> anyhow::Result<(RunningServer, Arc<AtomicUsize>)> {
    let (server, failures) = server_with_processors(server_config());
    Ok((RunningServer::start(server).await?, failures))
}

#[tokio::test]
async fn unknown_code_is_answered_with_request_code_not_supported() -> anyhow::Result<()> {
    let (running, _) = start().await?;
    let client = RemotingClient::new(client_config());
    let response = client
        .invoke(
            &running.addr_string(),
            RemotingCommand::request(9999),
            PATIENCE,
        )
        .await?;
    assert_eq!(response.code, 3);
    assert_eq!(
        response.remark.as_deref(),
        Some(" request type 9999 not supported")
    );
    assert!(response.is_response());
    running.stop().await
}

#[tokio::test]
async fn processor_error_becomes_system_error_with_description() -> anyhow::Result<()> {
    let (running, failures) = start().await?;
    let client = RemotingClient::new(client_config());
    let response = client
        .invoke(
            &running.addr_string(),
            RemotingCommand::request(FAIL),
            PATIENCE,
        )
        .await?;
    assert_eq!(response.code, 1);
    assert_eq!(response.remark.as_deref(), Some("disk on fire"));
    assert_eq!(failures.load(Ordering::SeqCst), 1);
    running.stop().await
}

#[tokio::test]
async fn processor_panic_becomes_system_error() -> anyhow::Result<()> {
    let (running, _) = start().await?;
    let client = RemotingClient::new(client_config());
    let addr = running.addr_string();
    let response = client
        .invoke(&addr, RemotingCommand::request(PANIC), PATIENCE)
        .await?;
    assert_eq!(response.code, 1);
    // The connection survives a panicking processor.
    let response = client
        .invoke(&addr, RemotingCommand::request(ECHO), PATIENCE)
        .await?;
    assert_eq!(response.code, 0);
    running.stop().await
}

#[tokio::test]
async fn response_mirrors_request_serialize_type_and_opaque() -> anyhow::Result<()> {
    let (running, _) = start().await?;
    let mut stream = TcpStream::connect(running.addr).await?;
    let mut reader = RawReader::new();

    let mut request = RemotingCommand::request(ECHO);
    request.serialize_type = SerializeType::RocketMq;
    request.opaque = 4242;
    request.set_ext("n", "7");
    write_command(&mut stream, &request).await?;
    let response = tokio::time::timeout(PATIENCE, reader.next(&mut stream)).await??;
    let response = response.ok_or_else(|| anyhow::anyhow!("connection closed"))?;
    assert_eq!(response.serialize_type, SerializeType::RocketMq);
    assert_eq!(response.opaque, 4242);
    assert_eq!(response.flag & 1, 1, "response flag bit must be set");
    assert_eq!(response.ext("n"), Some("7"));

    let mut request = RemotingCommand::request(ECHO);
    request.opaque = 4243;
    write_command(&mut stream, &request).await?;
    let response = tokio::time::timeout(PATIENCE, reader.next(&mut stream)).await??;
    let response = response.ok_or_else(|| anyhow::anyhow!("connection closed"))?;
    assert_eq!(response.serialize_type, SerializeType::Json);
    assert_eq!(response.opaque, 4243);
    running.stop().await
}

#[tokio::test]
async fn oneway_requests_are_never_answered() -> anyhow::Result<()> {
    let (running, failures) = start().await?;
    let mut stream = TcpStream::connect(running.addr).await?;
    let mut reader = RawReader::new();

    let mut failing = RemotingCommand::request(FAIL);
    failing.opaque = 5;
    failing.mark_oneway();
    let mut unknown = RemotingCommand::request(9999);
    unknown.opaque = 6;
    unknown.mark_oneway();
    let mut echo = RemotingCommand::request(ECHO);
    echo.opaque = 7;
    echo.mark_oneway();
    let mut probe = RemotingCommand::request(9998);
    probe.opaque = 8;
    for cmd in [&failing, &unknown, &echo, &probe] {
        write_command(&mut stream, cmd).await?;
    }

    let first = tokio::time::timeout(PATIENCE, reader.next(&mut stream)).await??;
    let first = first.ok_or_else(|| anyhow::anyhow!("connection closed"))?;
    assert_eq!(first.opaque, 8, "only the two-way probe may be answered");
    assert_eq!(first.code, 3);
    // Give stray responses to the oneway requests a chance to show up.
    let extra = tokio::time::timeout(Duration::from_millis(200), reader.next(&mut stream)).await;
    assert!(
        extra.is_err(),
        "unexpected frame after the probe: {extra:?}"
    );
    assert_eq!(
        failures.load(Ordering::SeqCst),
        1,
        "the oneway request still ran its processor"
    );
    running.stop().await
}

async fn assert_garbage_closes_only_its_connection(garbage: &[u8]) -> anyhow::Result<()> {
    let (running, _) = start().await?;
    let addr = running.addr_string();
    let client = RemotingClient::new(client_config());
    let good = client
        .invoke(&addr, RemotingCommand::request(ECHO), PATIENCE)
        .await?;
    assert_eq!(good.code, 0);

    let mut bad = TcpStream::connect(running.addr).await?;
    bad.write_all(garbage).await?;
    expect_closed(&mut bad).await?;

    let mut request = RemotingCommand::request(ECHO);
    request.set_ext("n", "after");
    let good = client.invoke(&addr, request, PATIENCE).await?;
    assert_eq!(good.code, 0);
    assert_eq!(good.ext("n"), Some("after"));
    assert_eq!(
        running.server.channels().len(),
        1,
        "only the good connection stays open"
    );
    running.stop().await
}

#[tokio::test]
async fn bad_serialize_type_closes_only_that_connection() -> anyhow::Result<()> {
    // length 10, serialize type 5, header length 2, header "{}"
    assert_garbage_closes_only_its_connection(&[0, 0, 0, 6, 5, 0, 0, 2, b'{', b'}']).await
}

#[tokio::test]
async fn bad_header_length_closes_only_that_connection() -> anyhow::Result<()> {
    // length 8 but header length 100
    assert_garbage_closes_only_its_connection(&[0, 0, 0, 8, 0, 0, 0, 100, 0, 0, 0, 0]).await
}

#[tokio::test]
async fn oversized_length_prefix_closes_only_that_connection() -> anyhow::Result<()> {
    assert_garbage_closes_only_its_connection(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]).await
}

#[tokio::test]
async fn malformed_json_header_closes_only_that_connection() -> anyhow::Result<()> {
    // length 8, JSON, header length 4, header "nope"
    assert_garbage_closes_only_its_connection(&[0, 0, 0, 8, 0, 0, 0, 4, b'n', b'o', b'p', b'e'])
        .await
}

#[derive(Default)]
struct CountingListener {
    connects: AtomicUsize,
    closes: AtomicUsize,
    idles: AtomicUsize,
    errors: AtomicUsize,
}

impl ChannelEventListener for CountingListener {
    fn on_connect(&self, _channel: &Channel) {
        self.connects.fetch_add(1, Ordering::SeqCst);
    }
    fn on_close(&self, _channel: &Channel) {
        self.closes.fetch_add(1, Ordering::SeqCst);
    }
    fn on_idle(&self, _channel: &Channel) {
        self.idles.fetch_add(1, Ordering::SeqCst);
    }
    fn on_error(&self, _channel: &Channel, _error: &ferric_remoting::RemotingError) {
        self.errors.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn idle_connection_is_closed_and_events_fire() -> anyhow::Result<()> {
    let config = ServerConfig {
        server_channel_max_idle: Some(Duration::from_millis(150)),
        ..server_config()
    };
    let (server, _) = server_with_processors(config);
    let listener = Arc::new(CountingListener::default());
    server.set_event_listener(Arc::clone(&listener) as Arc<dyn ChannelEventListener>);
    let running = RunningServer::start(server).await?;

    let mut idle = TcpStream::connect(running.addr).await?;
    expect_closed(&mut idle).await?;
    wait_until(|| listener.closes.load(Ordering::SeqCst) == 1).await?;
    assert_eq!(listener.connects.load(Ordering::SeqCst), 1);
    assert_eq!(listener.idles.load(Ordering::SeqCst), 1);
    assert!(running.server.channels().is_empty());

    let mut garbage = TcpStream::connect(running.addr).await?;
    garbage.write_all(&[0x7f, 0xff, 0xff, 0xff]).await?;
    expect_closed(&mut garbage).await?;
    wait_until(|| listener.closes.load(Ordering::SeqCst) == 2).await?;
    assert_eq!(listener.errors.load(Ordering::SeqCst), 1);
    running.stop().await
}

#[tokio::test]
async fn busy_connection_is_not_idle() -> anyhow::Result<()> {
    let config = ServerConfig {
        server_channel_max_idle: Some(Duration::from_millis(200)),
        ..server_config()
    };
    let (server, _) = server_with_processors(config);
    let running = RunningServer::start(server).await?;
    let client = RemotingClient::new(client_config());
    let addr = running.addr_string();
    let channel = client.channel(&addr).await?;
    for _ in 0..10 {
        let response = client
            .invoke(&addr, RemotingCommand::request(ECHO), PATIENCE)
            .await?;
        assert_eq!(response.code, 0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        channel.is_active(),
        "a connection with traffic every 50 ms must stay open"
    );
    running.stop().await
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_then_closes_connections() -> anyhow::Result<()> {
    const STARTED_SLOW: i32 = 105;
    let (server, _) = server_with_processors(server_config());
    let started = Arc::new(tokio::sync::Notify::new());
    let notify = Arc::clone(&started);
    server.register_processor(
        STARTED_SLOW,
        processor_fn(move |_channel, request: RemotingCommand| {
            let notify = Arc::clone(&notify);
            async move {
                notify.notify_one();
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(Some(request.response_to(0, Some("slow done".to_owned()))))
            }
        }),
    );
    let running = RunningServer::start(server).await?;
    let addr = running.addr_string();
    let client = RemotingClient::new(client_config());
    let channel = client.channel(&addr).await?;
    let mut raw = TcpStream::connect(running.addr).await?;

    let slow = client.invoke_async(&addr, RemotingCommand::request(STARTED_SLOW), PATIENCE);
    tokio::time::timeout(PATIENCE, started.notified()).await?;

    let server = running.server.clone();
    running.stop().await?;
    let slow = slow.await??;
    assert_eq!(slow.remark.as_deref(), Some("slow done"));
    expect_closed(&mut raw).await?;
    tokio::time::timeout(PATIENCE, channel.closed()).await?;
    assert!(server.channels().is_empty());
    Ok(())
}

struct Busy;

impl RequestProcessor for Busy {
    fn process<'a>(
        &'a self,
        _channel: &'a Channel,
        request: RemotingCommand,
    ) -> futures::future::BoxFuture<'a, ProcessResult> {
        Box::pin(async move { Ok(Some(request.response_to(0, None))) })
    }

    fn reject_request(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn rejecting_processor_answers_system_busy() -> anyhow::Result<()> {
    let (server, _) = server_with_processors(server_config());
    server.register_processor(106, Arc::new(Busy));
    let running = RunningServer::start(server).await?;
    let client = RemotingClient::new(client_config());
    let response = client
        .invoke(
            &running.addr_string(),
            RemotingCommand::request(106),
            PATIENCE,
        )
        .await?;
    assert_eq!(response.code, 2);
    assert_eq!(
        response.remark.as_deref(),
        Some("[REJECTREQUEST]system busy, start flow control for a while")
    );
    running.stop().await
}

#[tokio::test]
async fn default_processor_handles_unregistered_codes() -> anyhow::Result<()> {
    let (server, _) = server_with_processors(server_config());
    server.set_default_processor(processor_fn(
        |_channel, request: RemotingCommand| async move {
            Ok(Some(request.response_to(
                0,
                Some(format!("default got {}", request.code)),
            )))
        },
    ));
    let running = RunningServer::start(server).await?;
    let client = RemotingClient::new(client_config());
    let addr = running.addr_string();
    let response = client
        .invoke(&addr, RemotingCommand::request(777), PATIENCE)
        .await?;
    assert_eq!(response.code, 0);
    assert_eq!(response.remark.as_deref(), Some("default got 777"));
    let registered = client
        .invoke(&addr, RemotingCommand::request(FAIL), PATIENCE)
        .await?;
    assert_eq!(
        registered.code, 1,
        "registered codes still reach their own processor"
    );
    running.stop().await
}

#[tokio::test]
async fn processor_can_answer_later_through_the_channel() -> anyhow::Result<()> {
    const DEFERRED: i32 = 107;
    let (server, _) = server_with_processors(server_config());
    server.register_processor(
        DEFERRED,
        processor_fn(|channel: Channel, request: RemotingCommand| async move {
            // Like a suspended pull request: answer from another task, return nothing now.
            let response = request.response_to(0, Some("answered later".to_owned()));
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _ = channel.send_response(response).await;
            });
            Ok(None)
        }),
    );
    let running = RunningServer::start(server).await?;
    let client = RemotingClient::new(client_config());
    let response = client
        .invoke(
            &running.addr_string(),
            RemotingCommand::request(DEFERRED),
            PATIENCE,
        )
        .await?;
    assert_eq!(response.remark.as_deref(), Some("answered later"));
    running.stop().await
}

#[tokio::test]
async fn requests_beyond_the_in_flight_limit_get_overload() -> anyhow::Result<()> {
    let config = ServerConfig {
        max_in_flight_requests: 1,
        ..server_config()
    };
    let (server, _) = server_with_processors(config);
    let running = RunningServer::start(server).await?;
    let mut stream = TcpStream::connect(running.addr).await?;
    let mut reader = RawReader::new();
    write_command(&mut stream, &RemotingCommand::request(SLOW).with_opaque(1)).await?;
    write_command(&mut stream, &RemotingCommand::request(ECHO).with_opaque(2)).await?;

    let first = tokio::time::timeout(PATIENCE, reader.next(&mut stream)).await??;
    let first = first.ok_or_else(|| anyhow::anyhow!("connection closed"))?;
    assert_eq!(
        first.opaque, 2,
        "the rejection comes before the slow answer"
    );
    assert_eq!(first.code, 2);
    assert_eq!(
        first.remark.as_deref(),
        Some("[OVERLOAD]system busy, start flow control for a while")
    );
    let second = tokio::time::timeout(PATIENCE, reader.next(&mut stream)).await??;
    let second = second.ok_or_else(|| anyhow::anyhow!("connection closed"))?;
    assert_eq!(second.opaque, 1);
    assert_eq!(second.remark.as_deref(), Some("slow done"));
    running.stop().await
}
