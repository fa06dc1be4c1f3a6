//! One connection, client or server side: a reader loop that decodes frames, completes pending
//! calls with responses and runs incoming requests (each on a task of its own once it waits),
//! and a writer task that owns the socket's write half. Responses the reader's requests queue
//! are written by the reader itself before it waits for the socket again (one write for all it
//! read, without waking another task); everything else (responses of requests that waited,
//! requests this side sends, what the socket did not take at once) by the writer task. The
//! queue lets only one of them write at a time.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Waker};
use std::time::Duration;

use ferric_protocol::RemotingCommand;
use futures::{FutureExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::time::{Instant, Sleep};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::channel::{Channel, Outbound, OutboundBatch};
use crate::codec::RemotingCodec;
use crate::events::ChannelEventListener;
use crate::processor::{
    OVERLOAD_REMARK, ProcessorRegistry, REJECT_REQUEST_REMARK, REQUEST_CODE_NOT_SUPPORTED,
    SYSTEM_BUSY, SYSTEM_ERROR, not_supported_remark,
};

/// Per-connection limits shared by client and server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionSettings {
    pub max_frame_length: usize,
    pub max_idle: Option<Duration>,
    pub outbound_queue: usize,
    pub max_in_flight_requests: usize,
    /// How long a closing connection waits for in-flight requests and for its writer.
    pub drain_timeout: Duration,
}

/// Everything a connection needs besides its socket.
#[derive(Clone)]
pub(crate) struct ConnectionEnv {
    pub settings: ConnectionSettings,
    pub registry: Arc<ProcessorRegistry>,
    pub listener: Option<Arc<dyn ChannelEventListener>>,
    /// Cancelled when the owning server or client shuts down.
    pub shutdown: CancellationToken,
}

/// Why a connection's reader stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseReason {
    PeerClosed,
    ReadError,
    Idle,
    LocalClose,
    Shutdown,
}

/// Wraps a connected socket: returns its [`Channel`] and the future that drives it until it
/// closes. The caller spawns the future.
pub(crate) fn open_connection(
    stream: TcpStream,
    peer: Option<String>,
    env: ConnectionEnv,
) -> std::io::Result<(Channel, impl Future<Output = ()> + Send + 'static)> {
    let remote_addr: SocketAddr = stream.peer_addr()?;
    let local_addr: SocketAddr = stream.local_addr()?;
    // Latency matters more than packet count for request/response traffic.
    stream.set_nodelay(true)?;
    let peer = peer.unwrap_or_else(|| remote_addr.to_string());
    let outbound = Arc::new(Outbound::new(env.settings.outbound_queue));
    let channel = Channel::new(peer, remote_addr, local_addr, Arc::clone(&outbound));
    let (read_half, write_half) = stream.into_split();
    let driver = drive_connection(channel.clone(), read_half, write_half, outbound, env);
    Ok((channel, driver))
}

/// Time of the last frame written, in milliseconds since the connection opened.
struct WriteActivity {
    opened: Instant,
    last_write_millis: AtomicU64,
}

impl WriteActivity {
    fn touch(&self) {
        let millis = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_write_millis.store(millis, Ordering::Relaxed);
    }

    fn last_write(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_write_millis.load(Ordering::Relaxed))
    }
}

async fn drive_connection(
    channel: Channel,
    read_half: OwnedReadHalf,
    write_half: OwnedWriteHalf,
    outbound: Arc<Outbound>,
    env: ConnectionEnv,
) {
    let activity = Arc::new(WriteActivity {
        opened: Instant::now(),
        last_write_millis: AtomicU64::new(0),
    });
    let mut writer = tokio::spawn(run_writer(
        write_half,
        Arc::clone(&outbound),
        channel.close_token().clone(),
        Arc::clone(&activity),
        channel.peer().to_owned(),
    ));
    if let Some(listener) = &env.listener {
        listener.on_connect(&channel);
    }
    tracing::debug!(peer = %channel.peer(), id = channel.id(), "connection open");

    let requests = TaskTracker::new();
    let mut frames = FramedRead::new(
        read_half,
        RemotingCodec::with_max_frame_length(env.settings.max_frame_length),
    );
    let reason = read_frames(&channel, &mut frames, &outbound, &env, &requests, &activity).await;
    outbound.reader_done();
    drop(frames);

    channel.fail_pending();
    requests.close();
    if reason == CloseReason::Shutdown
        && tokio::time::timeout(env.settings.drain_timeout, requests.wait())
            .await
            .is_err()
    {
        tracing::warn!(peer = %channel.peer(), in_flight = requests.len(), "in-flight requests did not finish before shutdown");
    }
    channel.close();
    if tokio::time::timeout(env.settings.drain_timeout, &mut writer)
        .await
        .is_err()
    {
        tracing::warn!(peer = %channel.peer(), "writer did not drain in time, dropping connection");
        writer.abort();
    }
    tracing::debug!(peer = %channel.peer(), id = channel.id(), ?reason, "connection closed");
}

async fn read_frames(
    channel: &Channel,
    frames: &mut FramedRead<OwnedReadHalf, RemotingCodec>,
    outbound: &Outbound,
    env: &ConnectionEnv,
    requests: &TaskTracker,
    activity: &WriteActivity,
) -> CloseReason {
    let mut inline = OutboundBatch::default();
    let mut idle: Option<Pin<Box<Sleep>>> = env
        .settings
        .max_idle
        .map(|max_idle| Box::pin(tokio::time::sleep(max_idle)));
    let mut last_read = Instant::now();
    // Made once: a cancellation future registers with its token when first polled, and making
    // one per frame would register and unregister it every time.
    let shutdown = env.shutdown.cancelled();
    let closed = channel.close_token().cancelled();
    tokio::pin!(shutdown, closed);
    loop {
        let next = tokio::select! {
            () = &mut shutdown => return CloseReason::Shutdown,
            () = &mut closed => return CloseReason::LocalClose,
            () = idle_elapsed(&mut idle) => {
                let (Some(max_idle), Some(sleep)) = (env.settings.max_idle, idle.as_mut()) else {
                    continue;
                };
                let last_activity = last_read.max(activity.last_write());
                if last_activity + max_idle > Instant::now() {
                    sleep.as_mut().reset(last_activity + max_idle);
                    continue;
                }
                tracing::info!(peer = %channel.peer(), idle_secs = max_idle.as_secs(), "closing idle connection");
                if let Some(listener) = &env.listener {
                    listener.on_idle(channel);
                }
                return CloseReason::Idle;
            }
            next = std::future::poll_fn(|cx| {
                let next = frames.poll_next_unpin(cx);
                if next.is_pending() {
                    write_inline(channel, frames.get_ref().as_ref(), outbound, &mut inline, activity);
                }
                next
            }) => next,
        };
        let command = match next {
            None => return CloseReason::PeerClosed,
            Some(Err(error)) => {
                tracing::warn!(peer = %channel.peer(), %error, "closing connection after read error");
                if let Some(listener) = &env.listener {
                    listener.on_error(channel, &error);
                }
                return CloseReason::ReadError;
            }
            Some(Ok(command)) => command,
        };
        last_read = Instant::now();
        if command.is_response() {
            channel.complete(command);
        } else if requests.len() >= env.settings.max_in_flight_requests {
            reject_overloaded(channel, command).await;
        } else {
            outbound.reader_active();
            dispatch(
                requests,
                handle_request(channel.clone(), Arc::clone(&env.registry), command),
            );
        }
    }
}

/// Writes, from the reader's task, the frames its requests queued, as far as the socket takes
/// them without waiting; the writer task writes the rest. A write error closes the connection.
fn write_inline(
    channel: &Channel,
    stream: &TcpStream,
    outbound: &Outbound,
    batch: &mut OutboundBatch,
    activity: &WriteActivity,
) {
    if !outbound.take_for_reader(batch) {
        return;
    }
    let result = try_write_batch(stream, batch);
    outbound.finish_reader_write(batch);
    match result {
        Ok(()) => activity.touch(),
        Err(error) => {
            tracing::debug!(peer = %channel.peer(), %error, "write failed, closing connection");
            channel.close();
        }
    }
}

/// Writes `batch` until the socket would block; what it did not take stays in `batch`.
fn try_write_batch(stream: &TcpStream, batch: &mut OutboundBatch) -> std::io::Result<()> {
    let mut written = 0;
    let result = loop {
        let attempt = if batch.large_bodies.is_empty() {
            stream.try_write(&batch.bytes[written..])
        } else {
            let mut slices = batch.io_slices();
            let mut rest: &mut [std::io::IoSlice<'_>] = &mut slices;
            std::io::IoSlice::advance_slices(&mut rest, written);
            let end = rest.len().min(MAX_IO_SLICES);
            stream.try_write_vectored(&rest[..end])
        };
        match attempt {
            Ok(0) => break Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                written += n;
                if written == batch_len(batch) {
                    batch.clear();
                    return Ok(());
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break Ok(()),
            Err(error) => break Err(error),
        }
    };
    batch.advance(written);
    result
}

fn batch_len(batch: &OutboundBatch) -> usize {
    batch.bytes.len()
        + batch
            .large_bodies
            .iter()
            .map(|(_, body)| body.len())
            .sum::<usize>()
}

/// Runs a request's handler up to its first await point on the reader's task and spawns it
/// only if it is still pending then. Most requests (a send in ASYNC_FLUSH, a heartbeat, most
/// pulls) complete in that one poll, and a task per request cost more than the handler. A
/// pending handler continues on its own task, counted by `requests` (the in-flight limit and
/// the drain at shutdown), so requests of one connection still complete in any order; a
/// handler's panic is caught inside [`handle_request`] either way.
fn dispatch(requests: &TaskTracker, handler: impl Future<Output = ()> + Send + 'static) {
    let mut handler = Box::pin(handler);
    // A no-op waker: a pending handler is polled again by its own task right away, which
    // registers that task's waker wherever the handler waits.
    let mut cx = Context::from_waker(Waker::noop());
    if handler.as_mut().poll(&mut cx).is_pending() {
        requests.spawn(handler);
    }
}

/// Answers a request that exceeds the connection's in-flight limit with SYSTEM_BUSY
/// `[OVERLOAD]`; a oneway one is dropped. Waiting for the writer here is backpressure.
async fn reject_overloaded(channel: &Channel, request: RemotingCommand) {
    tracing::warn!(peer = %channel.peer(), code = request.code, opaque = request.opaque, "too many requests in flight, rejecting");
    if request.is_oneway() {
        return;
    }
    let response = request.response_to(SYSTEM_BUSY, Some(OVERLOAD_REMARK.to_owned()));
    if let Err(error) = channel.send_response(response).await {
        tracing::debug!(peer = %channel.peer(), %error, "overload response not sent");
    }
}

async fn idle_elapsed(idle: &mut Option<Pin<Box<Sleep>>>) {
    match idle {
        Some(sleep) => sleep.as_mut().await,
        None => std::future::pending().await,
    }
}

/// Runs the processor for one request and sends its response unless the request is oneway.
#[tracing::instrument(
    level = "debug",
    name = "remoting_request",
    skip_all,
    fields(peer = %channel.peer(), code = request.code, opaque = request.opaque)
)]
async fn handle_request(
    channel: Channel,
    registry: Arc<ProcessorRegistry>,
    request: RemotingCommand,
) {
    let code = request.code;
    let opaque = request.opaque;
    let oneway = request.is_oneway();
    let serialize_type = request.serialize_type;

    let response = match registry.lookup(code) {
        None => Some(RemotingCommand::response(
            REQUEST_CODE_NOT_SUPPORTED,
            Some(not_supported_remark(code)),
        )),
        Some(processor) if processor.reject_request() => Some(RemotingCommand::response(
            SYSTEM_BUSY,
            Some(REJECT_REQUEST_REMARK.to_owned()),
        )),
        Some(processor) => match AssertUnwindSafe(processor.process(&channel, request))
            .catch_unwind()
            .await
        {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                tracing::warn!(peer = %channel.peer(), code, opaque, %error, "request processor failed");
                Some(RemotingCommand::response(
                    SYSTEM_ERROR,
                    Some(error.message().to_owned()),
                ))
            }
            Err(_panic) => {
                tracing::error!(peer = %channel.peer(), code, opaque, "request processor panicked");
                Some(RemotingCommand::response(
                    SYSTEM_ERROR,
                    Some(format!("processor for request code {code} panicked")),
                ))
            }
        },
    };
    if oneway {
        return;
    }
    let Some(mut response) = response else {
        return;
    };
    response.opaque = opaque;
    response.serialize_type = serialize_type;
    response.mark_response();
    match channel.send_response(response).await {
        Ok(()) => {}
        Err(crate::RemotingError::Frame(error)) => {
            tracing::warn!(peer = %channel.peer(), code, opaque, %error, "response could not be encoded");
            let mut fallback = RemotingCommand::response(
                SYSTEM_ERROR,
                Some(format!("response could not be encoded: {error}")),
            );
            fallback.opaque = opaque;
            fallback.mark_response();
            if let Err(error) = channel.send_response(fallback).await {
                tracing::debug!(peer = %channel.peer(), opaque, %error, "error response not sent");
            }
        }
        Err(error) => {
            tracing::debug!(peer = %channel.peer(), code, opaque, %error, "response not sent")
        }
    }
}

/// The only writer of a connection: takes everything queued at once and writes it with one
/// call (a vectored one only when large bodies ride along), and on close writes what is still
/// queued, then shuts the socket's write side.
async fn run_writer(
    mut write_half: OwnedWriteHalf,
    outbound: Arc<Outbound>,
    closed: CancellationToken,
    activity: Arc<WriteActivity>,
    peer: String,
) {
    // However the writer ends (also when its task is aborted), senders must not wait for it.
    let _close_queue = CloseQueueOnDrop(Arc::clone(&outbound));
    let mut batch = OutboundBatch::default();
    let outcome: std::io::Result<()> = async {
        // Made once: a cancellation future registers with its token when first polled.
        let cancelled = closed.cancelled();
        tokio::pin!(cancelled);
        loop {
            if !outbound.has_frames_or_wait() {
                tokio::select! {
                    biased;
                    () = outbound.frames_queued() => {}
                    () = &mut cancelled => {
                        // The reader writes without waiting, so it is done by the next turn.
                        while !outbound.take(&mut batch, true) {
                            tokio::task::yield_now().await;
                        }
                        write_batch(&mut write_half, &mut batch).await?;
                        return Ok(());
                    }
                }
            }
            // A woken task runs right after its waker, so without this the writer would write
            // each response alone while the handlers finishing next in this scheduler round
            // wait: let them queue theirs, then write all in one call.
            tokio::task::yield_now().await;
            if !outbound.take(&mut batch, false) {
                continue;
            }
            if batch.is_empty() {
                outbound.written();
                continue;
            }
            let written = write_batch(&mut write_half, &mut batch).await;
            outbound.written();
            written?;
            activity.touch();
        }
    }
    .await;
    if let Err(error) = outcome {
        tracing::debug!(%peer, %error, "write failed, closing connection");
        closed.cancel();
        outbound.close();
    }
    if let Err(error) = write_half.shutdown().await {
        tracing::trace!(%peer, %error, "socket shutdown failed");
    }
}

/// Closes a writer's queue when the writer ends.
struct CloseQueueOnDrop(Arc<Outbound>);

impl Drop for CloseQueueOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Most buffers handed to one `writev` (Linux accepts 1024).
const MAX_IO_SLICES: usize = 64;

/// Writes every byte of `batch` in order, as few calls as the socket allows, and empties it.
async fn write_batch(
    write_half: &mut OwnedWriteHalf,
    batch: &mut OutboundBatch,
) -> std::io::Result<()> {
    if batch.large_bodies.is_empty() {
        write_half.write_all(&batch.bytes).await?;
        batch.clear();
        return Ok(());
    }
    let mut slices = batch.io_slices();
    let mut rest: &mut [std::io::IoSlice<'_>] = &mut slices;
    while !rest.is_empty() {
        let end = rest.len().min(MAX_IO_SLICES);
        let written = write_half.write_vectored(&rest[..end]).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        std::io::IoSlice::advance_slices(&mut rest, written);
    }
    drop(slices);
    batch.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn write_batch_writes_every_byte_in_order_across_partial_writes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = TcpStream::connect(addr).await.expect("connect");
        let (mut server, _) = listener.accept().await.expect("accept");
        // Larger than the socket buffers (partial writes), more large bodies than one writev
        // takes, and small frames copied into the batch between them.
        let mut frames: Vec<Bytes> = (0..200u32)
            .map(|i| Bytes::from(vec![(i % 251) as u8; (i as usize * 997) % 70_000]))
            .collect();
        frames.insert(3, Bytes::new());
        frames.push(Bytes::from(vec![7u8; 4 << 20]));
        let expected: Vec<u8> = frames.iter().flat_map(|f| f.iter().copied()).collect();
        let mut batch = OutboundBatch::default();
        for frame in frames {
            if frame.len() > crate::outbound::INLINE_BODY_MAX || frame.is_empty() {
                batch.large_bodies.push((batch.bytes.len(), frame));
            } else {
                batch.bytes.extend_from_slice(&frame);
            }
        }
        assert!(batch.large_bodies.len() > MAX_IO_SLICES);
        let reader = tokio::spawn(async move {
            let mut received = Vec::new();
            server.read_to_end(&mut received).await.expect("read");
            received
        });
        let (_read_half, mut write_half) = client.into_split();
        write_batch(&mut write_half, &mut batch)
            .await
            .expect("write");
        assert!(batch.is_empty());
        write_half.shutdown().await.expect("shutdown");
        let received = reader.await.expect("reader");
        assert_eq!(received.len(), expected.len());
        assert!(received == expected);
    }
}
