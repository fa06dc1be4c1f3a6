//! [`Channel`]: a handle to one live connection, and the opaque correlation of the requests
//! this side sends on it. Client and server connections share this code.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use ferric_protocol::{FLAG_ONEWAY, FLAG_RESPONSE, RemotingCommand};
use tokio_util::sync::CancellationToken;

use crate::error::RemotingError;
#[cfg(test)]
use crate::outbound::{INLINE_BODY_MAX, RETAINED_QUEUE_CAPACITY};
pub(crate) use crate::outbound::{Outbound, OutboundBatch, Pushed};

static NEXT_CHANNEL_ID: AtomicU64 = AtomicU64::new(1);

/// A cheap, cloneable handle to one connection.
///
/// It sends requests (correlated by opaque), oneway requests and late responses through the
/// connection's single writer task, and closes the connection. Processors receive it with every
/// request; servers keep one per connection in their channel table.
#[derive(Clone)]
pub struct Channel {
    shared: Arc<ChannelShared>,
}

struct ChannelShared {
    id: u64,
    peer: String,
    remote_addr: SocketAddr,
    local_addr: SocketAddr,
    outbound: Arc<Outbound>,
    pending: Mutex<PendingCalls>,
    next_opaque: AtomicI32,
    /// Cancelled once the connection is closing: no more sends, the writer drains and exits.
    closed: CancellationToken,
}

/// Requests sent on this channel that still wait for their response, by opaque.
#[derive(Default)]
struct PendingCalls {
    /// Set when the connection stops reading; later calls fail at once.
    closed: bool,
    calls: HashMap<i32, oneshot::Sender<RemotingCommand>>,
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("id", &self.shared.id)
            .field("peer", &self.shared.peer)
            .field("local_addr", &self.shared.local_addr)
            .field("active", &self.is_active())
            .finish()
    }
}

impl Channel {
    /// A channel writing into `outbound`. `peer` names the remote end in errors and logs.
    pub(crate) fn new(
        peer: String,
        remote_addr: SocketAddr,
        local_addr: SocketAddr,
        outbound: Arc<Outbound>,
    ) -> Self {
        Self {
            shared: Arc::new(ChannelShared {
                id: NEXT_CHANNEL_ID.fetch_add(1, Ordering::Relaxed),
                peer,
                remote_addr,
                local_addr,
                outbound,
                pending: Mutex::new(PendingCalls::default()),
                next_opaque: AtomicI32::new(0),
                closed: CancellationToken::new(),
            }),
        }
    }

    /// A process-unique id of this connection.
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// The remote socket address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.shared.remote_addr
    }

    /// The local socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// The peer as named in errors: the address the client dialled, or the remote socket
    /// address for accepted connections.
    pub fn peer(&self) -> &str {
        &self.shared.peer
    }

    /// False once the connection is closing or closed.
    pub fn is_active(&self) -> bool {
        !self.shared.closed.is_cancelled()
    }

    /// Asks the connection to close: queued frames are still written, then the socket closes
    /// and every pending call fails with [`RemotingError::ConnectionClosed`].
    pub fn close(&self) {
        self.shared.closed.cancel();
    }

    /// Resolves once the connection is closing or closed.
    pub async fn closed(&self) {
        self.shared.closed.cancelled().await;
    }

    pub(crate) fn close_token(&self) -> &CancellationToken {
        &self.shared.closed
    }

    /// Sends `request` with a fresh opaque and waits up to `timeout` for its response.
    ///
    /// On timeout the pending entry is removed and a late response is dropped. If the
    /// connection closes meanwhile, the call fails promptly with `ConnectionClosed`.
    pub async fn send_request(
        &self,
        mut request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, RemotingError> {
        let opaque = self.next_opaque();
        request.opaque = opaque;
        request.flag &= !(FLAG_RESPONSE | FLAG_ONEWAY);
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);

        let (guard, receiver) = self.register_pending(opaque)?;
        let exchange = async {
            self.enqueue(&request).await?;
            receiver.await.map_err(|_| self.closed_error())
        };
        let outcome = tokio::time::timeout(timeout, exchange).await;
        drop(guard);
        match outcome {
            Ok(result) => result,
            Err(_elapsed) => Err(RemotingError::Timeout {
                addr: self.shared.peer.clone(),
                opaque,
                millis,
            }),
        }
    }

    /// Sends `request` as oneway (flag bit 1, fresh opaque); returns once it is queued for the
    /// socket. The peer never answers it.
    pub async fn send_oneway(&self, mut request: RemotingCommand) -> Result<(), RemotingError> {
        request.opaque = self.next_opaque();
        request.flag = (request.flag & !FLAG_RESPONSE) | FLAG_ONEWAY;
        self.enqueue(&request).await
    }

    /// Sends a response the caller built (its opaque must be the request's); sets the response
    /// flag. Processors that return `Ok(None)` use this to answer later (e.g. long polling).
    pub async fn send_response(&self, mut response: RemotingCommand) -> Result<(), RemotingError> {
        response.flag |= FLAG_RESPONSE;
        self.enqueue(&response).await
    }

    /// Encodes `command` into the writer's queue, waiting while the queue is full. An encoding
    /// error is returned before anything is queued.
    pub(crate) async fn enqueue(&self, command: &RemotingCommand) -> Result<(), RemotingError> {
        if !self.is_active() {
            return Err(self.closed_error());
        }
        loop {
            match self.shared.outbound.try_push(command) {
                Ok(Pushed::Queued) => return Ok(()),
                Ok(Pushed::Full) => {}
                Ok(Pushed::Closed) => return Err(self.closed_error()),
                Err(error) => return Err(error.into()),
            }
            if !self.shared.outbound.wait_for_room().await {
                return Err(self.closed_error());
            }
        }
    }

    /// Completes the pending call a response belongs to; unknown or late responses are dropped.
    pub(crate) fn complete(&self, response: RemotingCommand) {
        let opaque = response.opaque;
        let waiter = self.shared.pending.lock().calls.remove(&opaque);
        match waiter {
            Some(sender) => {
                if sender.send(response).is_err() {
                    tracing::debug!(peer = %self.shared.peer, opaque, "response arrived after its caller gave up, dropped");
                }
            }
            None => {
                tracing::debug!(peer = %self.shared.peer, opaque, code = response.code, "late or unknown response dropped");
            }
        }
    }

    /// Fails every pending call and refuses new ones; called when the connection stops reading.
    pub(crate) fn fail_pending(&self) {
        let calls = {
            let mut pending = self.shared.pending.lock();
            pending.closed = true;
            std::mem::take(&mut pending.calls)
        };
        // Dropping the senders wakes every waiter with a "closed" error.
        drop(calls);
    }

    /// Number of calls waiting for a response (for tests and metrics).
    pub fn pending_calls(&self) -> usize {
        self.shared.pending.lock().calls.len()
    }

    fn next_opaque(&self) -> i32 {
        self.shared.next_opaque.fetch_add(1, Ordering::Relaxed)
    }

    fn closed_error(&self) -> RemotingError {
        RemotingError::ConnectionClosed {
            addr: self.shared.peer.clone(),
        }
    }

    fn register_pending(
        &self,
        opaque: i32,
    ) -> Result<(PendingGuard<'_>, oneshot::Receiver<RemotingCommand>), RemotingError> {
        let (sender, receiver) = oneshot::channel();
        let mut pending = self.shared.pending.lock();
        if pending.closed {
            return Err(self.closed_error());
        }
        pending.calls.insert(opaque, sender);
        Ok((
            PendingGuard {
                channel: self,
                opaque,
            },
            receiver,
        ))
    }
}

impl Drop for ChannelShared {
    /// The last handle is gone: nothing can be queued any more, so the writer writes what is
    /// queued and shuts the socket's write side.
    fn drop(&mut self) {
        self.closed.cancel();
    }
}

/// Removes a pending entry when its call ends in any way (response, timeout, error, or the
/// caller's future being dropped).
struct PendingGuard<'a> {
    channel: &'a Channel,
    opaque: i32,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.channel
            .shared
            .pending
            .lock()
            .calls
            .remove(&self.opaque);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::{Bytes, BytesMut};
    use ferric_protocol::decode_frame;

    use super::*;

    fn channel(limit: usize) -> (Channel, Arc<Outbound>) {
        let outbound = Arc::new(Outbound::new(limit));
        let addr: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        let channel = Channel::new("test".to_owned(), addr, addr, Arc::clone(&outbound));
        (channel, outbound)
    }

    fn response(opaque: i32, body: usize) -> RemotingCommand {
        let mut response = RemotingCommand::response(0, None);
        response.opaque = opaque;
        response.with_body(Bytes::from(vec![opaque as u8; body]))
    }

    /// The bytes a writer would put on the socket for `batch`.
    fn wire_bytes(batch: &OutboundBatch) -> BytesMut {
        let mut wire = BytesMut::new();
        let mut start = 0;
        for (offset, body) in &batch.large_bodies {
            wire.extend_from_slice(&batch.bytes[start..*offset]);
            wire.extend_from_slice(body);
            start = *offset;
        }
        wire.extend_from_slice(&batch.bytes[start..]);
        wire
    }

    #[tokio::test]
    async fn frames_are_queued_in_order_with_large_bodies_kept_apart() {
        let (channel, outbound) = channel(16);
        let sizes = [0, 10, INLINE_BODY_MAX + 1, 3, 100_000, INLINE_BODY_MAX];
        for (opaque, size) in sizes.iter().enumerate() {
            channel
                .send_response(response(opaque as i32, *size))
                .await
                .expect("queued");
        }
        assert!(outbound.has_frames_or_wait());
        let mut batch = OutboundBatch::default();
        assert!(outbound.take(&mut batch, false));
        outbound.written();
        assert!(!outbound.has_frames_or_wait());
        assert_eq!(batch.large_bodies.len(), 2);

        let mut wire = wire_bytes(&batch);
        for (opaque, size) in sizes.iter().enumerate() {
            let frame = decode_frame(&mut wire, usize::MAX)
                .expect("decode")
                .expect("complete frame");
            assert_eq!(frame.opaque, opaque as i32);
            assert!(frame.is_response());
            assert_eq!(frame.body.len(), *size);
        }
        assert!(wire.is_empty());
    }

    #[tokio::test]
    async fn an_encoding_error_queues_nothing() {
        let (channel, outbound) = channel(16);
        channel.send_response(response(1, 5)).await.expect("queued");
        let mut too_large = response(2, 0);
        too_large.remark = Some("x".repeat(MAX_HEADER_LENGTH_FOR_TEST));
        let error = channel.send_response(too_large).await;
        assert!(matches!(error, Err(RemotingError::Frame(_))), "{error:?}");

        let mut batch = OutboundBatch::default();
        assert!(outbound.take(&mut batch, false));
        outbound.written();
        let mut wire = wire_bytes(&batch);
        let frame = decode_frame(&mut wire, usize::MAX)
            .expect("decode")
            .expect("complete frame");
        assert_eq!(frame.opaque, 1);
        assert!(wire.is_empty());
    }

    /// Starts sending response `opaque` on a channel whose queue is full and checks that the
    /// send waits.
    async fn waiting_sender(
        channel: &Channel,
        opaque: i32,
    ) -> tokio::task::JoinHandle<Result<(), RemotingError>> {
        let sender = channel.clone();
        let mut task = tokio::spawn(async move { sender.send_response(response(opaque, 0)).await });
        let waited = tokio::time::timeout(Duration::from_millis(50), &mut task).await;
        assert!(
            waited.is_err(),
            "a sender must wait while the queue is full"
        );
        task
    }

    const MAX_HEADER_LENGTH_FOR_TEST: usize = ferric_protocol::MAX_HEADER_LENGTH + 1;

    #[tokio::test]
    async fn a_full_queue_holds_senders_until_the_writer_takes_it() {
        let (channel, outbound) = channel(2);
        channel.send_response(response(1, 0)).await.expect("first");
        channel.send_response(response(2, 0)).await.expect("second");
        let third = waiting_sender(&channel, 3).await;

        let mut batch = OutboundBatch::default();
        assert!(outbound.take(&mut batch, false));
        outbound.written();
        third
            .await
            .expect("task")
            .expect("third queued after the take");
        let mut wire = wire_bytes(&batch);
        let mut opaques = Vec::new();
        while let Some(frame) = decode_frame(&mut wire, usize::MAX).expect("decode") {
            opaques.push(frame.opaque);
        }
        assert_eq!(opaques, [1, 2]);
        batch.clear();
        assert!(outbound.take(&mut batch, false));
        outbound.written();
        let frame = decode_frame(&mut wire_bytes(&batch), usize::MAX)
            .expect("decode")
            .expect("complete frame");
        assert_eq!(frame.opaque, 3);
    }

    #[tokio::test]
    async fn closing_the_queue_fails_waiting_and_later_senders() {
        let (channel, outbound) = channel(1);
        channel.send_response(response(1, 0)).await.expect("first");
        let waiting = waiting_sender(&channel, 2).await;

        let mut batch = OutboundBatch::default();
        assert!(outbound.take(&mut batch, true));
        let result = waiting.await.expect("task");
        assert!(
            matches!(result, Err(RemotingError::ConnectionClosed { .. })),
            "{result:?}"
        );
        let later = channel.send_response(response(3, 0)).await;
        assert!(
            matches!(later, Err(RemotingError::ConnectionClosed { .. })),
            "{later:?}"
        );
    }

    #[tokio::test]
    async fn a_writer_that_stops_fails_waiting_senders() {
        let (channel, outbound) = channel(1);
        channel.send_response(response(1, 0)).await.expect("first");
        let waiting = waiting_sender(&channel, 2).await;

        outbound.close();
        let result = waiting.await.expect("task");
        assert!(
            matches!(result, Err(RemotingError::ConnectionClosed { .. })),
            "{result:?}"
        );
        assert!(!outbound.has_frames_or_wait());
        let mut batch = OutboundBatch::default();
        assert!(outbound.take(&mut batch, false));
        outbound.written();
        assert!(batch.is_empty());
    }

    #[test]
    fn dropping_the_last_handle_closes_the_connection() {
        let (channel, _outbound) = channel(1);
        let token = channel.close_token().clone();
        let clone = channel.clone();
        drop(channel);
        assert!(!token.is_cancelled());
        drop(clone);
        assert!(token.is_cancelled());
    }

    fn batch_of(sizes: &[usize]) -> OutboundBatch {
        let mut batch = OutboundBatch::default();
        for (opaque, size) in sizes.iter().enumerate() {
            batch
                .push(&response(opaque as i32, *size))
                .expect("encoded");
        }
        batch
    }

    #[test]
    fn a_partial_write_keeps_every_later_byte_in_order() {
        let sizes = [3, INLINE_BODY_MAX + 7, 0, INLINE_BODY_MAX + 1, 5];
        let wire = wire_bytes(&batch_of(&sizes));
        for written in 0..=wire.len() {
            let mut batch = batch_of(&sizes);
            batch.advance(written);
            assert_eq!(
                wire_bytes(&batch)[..],
                wire[written..],
                "after {written} bytes"
            );
            assert_eq!(batch.is_empty(), written == wire.len());
        }
    }

    #[tokio::test]
    async fn what_the_reader_could_not_write_goes_before_later_frames() {
        let (channel, outbound) = channel(16);
        outbound.reader_active();
        channel.send_response(response(1, 10)).await.expect("first");
        channel
            .send_response(response(2, INLINE_BODY_MAX + 3))
            .await
            .expect("second");
        let mut inline = OutboundBatch::default();
        assert!(outbound.take_for_reader(&mut inline));
        let mut writer_batch = OutboundBatch::default();
        assert!(
            !outbound.take(&mut writer_batch, false),
            "the reader is writing"
        );
        channel.send_response(response(3, 4)).await.expect("third");
        assert!(
            !outbound.has_frames_or_wait(),
            "the reader is still writing"
        );

        let taken = wire_bytes(&inline);
        let written = wire_bytes(&batch_of(&[10])).len() + 5;
        inline.advance(written);
        outbound.finish_reader_write(&mut inline);
        assert!(inline.is_empty());
        assert!(outbound.has_frames_or_wait());
        assert!(outbound.take(&mut writer_batch, false));
        let mut wire = wire_bytes(&writer_batch);
        // The second frame's first five bytes were written; its rest comes first.
        let rest = &taken[written..];
        assert!(wire.starts_with(rest));
        let _ = wire.split_to(rest.len());
        let frame = decode_frame(&mut wire, usize::MAX)
            .expect("decode")
            .expect("complete frame");
        assert_eq!(frame.opaque, 3);
        assert!(wire.is_empty());
    }

    #[test]
    fn a_cleared_batch_frees_a_buffer_grown_by_a_burst() {
        let mut batch = OutboundBatch::default();
        batch.bytes.reserve(RETAINED_QUEUE_CAPACITY + 1);
        batch.bytes.extend_from_slice(b"frame");
        batch.clear();
        assert!(batch.is_empty());
        assert_eq!(batch.bytes.capacity(), 0);

        batch.bytes.reserve(1024);
        batch.bytes.extend_from_slice(b"frame");
        batch.clear();
        assert!(batch.bytes.capacity() >= 1024);
    }
}
