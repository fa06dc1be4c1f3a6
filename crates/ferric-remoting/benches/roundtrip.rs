//! Request/response round trips per second over loopback, with 1 and 64 calls in flight on one
//! client connection. The server echoes each request's body.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferric_protocol::RemotingCommand;
use ferric_remoting::{ClientConfig, RemotingClient, RemotingServer, ServerConfig, processor_fn};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

const ECHO: i32 = 100;
const TIMEOUT: Duration = Duration::from_secs(10);

struct Loopback {
    runtime: Runtime,
    client: RemotingClient,
    addr: String,
    stop: Option<oneshot::Sender<()>>,
}

fn start_loopback() -> Loopback {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (stop, stopped) = oneshot::channel::<()>();
    let addr = runtime.block_on(async {
        let server = RemotingServer::new(ServerConfig::default());
        server.register_processor(
            ECHO,
            processor_fn(|_channel, request: RemotingCommand| async move {
                let body = request.body.clone();
                Ok(Some(request.response_to(0, None).with_body(body)))
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr").to_string();
        tokio::spawn(async move {
            let _ = server
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await;
        });
        addr
    });
    let client = RemotingClient::new(ClientConfig::default());
    Loopback {
        runtime,
        client,
        addr,
        stop: Some(stop),
    }
}

fn request() -> RemotingCommand {
    let mut request = RemotingCommand::request(ECHO);
    request.set_ext("topic", "BenchTopic");
    request.with_body(vec![0u8; 128])
}

async fn sequential_calls(client: &RemotingClient, addr: &str, calls: u64) {
    for _ in 0..calls {
        let response = client
            .invoke(addr, request(), TIMEOUT)
            .await
            .expect("round trip");
        assert_eq!(response.code, 0);
    }
}

fn roundtrip(c: &mut Criterion) {
    let mut loopback = start_loopback();
    // Dial once outside the measurement.
    loopback
        .runtime
        .block_on(sequential_calls(&loopback.client, &loopback.addr, 10));

    let mut group = c.benchmark_group("roundtrip");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));

    group.bench_function("in_flight_1", |b| {
        b.iter_custom(|iters| {
            loopback.runtime.block_on(async {
                let start = Instant::now();
                sequential_calls(&loopback.client, &loopback.addr, iters).await;
                start.elapsed()
            })
        })
    });

    const IN_FLIGHT: u64 = 64;
    group.bench_function("in_flight_64", |b| {
        b.iter_custom(|iters| {
            loopback.runtime.block_on(async {
                let start = Instant::now();
                let workers = (0..IN_FLIGHT).map(|worker| {
                    let share = iters / IN_FLIGHT + u64::from(worker < iters % IN_FLIGHT);
                    let client = loopback.client.clone();
                    let addr = loopback.addr.clone();
                    tokio::spawn(async move { sequential_calls(&client, &addr, share).await })
                });
                for joined in futures::future::join_all(workers).await {
                    joined.expect("worker task");
                }
                start.elapsed()
            })
        })
    });
    group.finish();

    if let Some(stop) = loopback.stop.take() {
        let _ = stop.send(());
    }
}

criterion_group!(benches, roundtrip);
criterion_main!(benches);
