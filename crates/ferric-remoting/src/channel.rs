//! [`Channel`]: a handle to one live connection, and the opaque correlation of the requests
//! this side sends on it. Client and server connections share this code.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ferric_protocol::frame::encode_frame_head;
use ferric_protocol::{FLAG_ONEWAY, FLAG_RESPONSE, FrameError, RemotingCommand, encode_frame};
use parking_lot::Mutex;
use tokio::sync::{Notify, oneshot};
use tokio_util::sync::CancellationToken;

use crate::error::RemotingError;

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

/// Bodies larger than this are written from their own buffer instead of being copied into the
/// outbound queue (pull responses carry stored messages of up to several MiB).
pub(crate) const INLINE_BODY_MAX: usize = 4096;

/// Queue capacity a writer keeps between batches; a larger buffer (after a burst) is freed.
const RETAINED_QUEUE_CAPACITY: usize = 64 * 1024;

/// The frames queued for one connection's writer task.
///
/// Senders encode their frame straight into the queue's buffer, back to back in the order they
/// are queued, so a response costs no allocation of its own; the writer swaps the whole buffer
/// for its empty one and writes it with one call. At most `limit` frames wait; further senders
/// wait for the writer to take them (backpressure when the peer does not read).
pub(crate) struct Outbound {
    queue: Mutex<OutboundQueue>,
    limit: usize,
    /// Wakes the writer when a frame is queued while it waits for one.
    frames_queued: Notify,
    /// Wakes senders waiting for room when the writer takes the queue or the queue closes.
    room: Notify,
}

struct OutboundQueue {
    batch: OutboundBatch,
    /// Frames in `batch`.
    frames: usize,
    /// Set by the writer when it stops; later frames are refused.
    closed: bool,
    /// A sender waits for room.
    senders_waiting: bool,
    /// The writer found the queue empty and waits for [`Outbound::frames_queued`].
    writer_waiting: bool,
    /// The connection's reader is running requests; it writes what they queue itself before it
    /// waits for the socket again ([`Outbound::take_for_reader`]), so a push does not wake the
    /// writer task then (unless the queue is full).
    reader_active: bool,
    /// A batch taken from the queue is being written, by the writer task or by the reader; the
    /// other one does not take frames until [`Outbound::written`] or
    /// [`Outbound::finish_reader_write`], so bytes never interleave on the socket.
    writing: bool,
}

/// Encoded frames in queue order: `bytes` holds frames back to back; each entry of
/// `large_bodies` is a body that follows the first `offset` bytes of `bytes`.
#[derive(Default)]
pub(crate) struct OutboundBatch {
    pub(crate) bytes: BytesMut,
    pub(crate) large_bodies: Vec<(usize, Bytes)>,
}

/// What [`Outbound::try_push`] did with a frame.
pub(crate) enum Pushed {
    Queued,
    Full,
    Closed,
}

impl OutboundBatch {
    /// Appends `command` as one frame; on error nothing is appended.
    pub(crate) fn push(&mut self, command: &RemotingCommand) -> Result<(), FrameError> {
        if command.body.len() > INLINE_BODY_MAX {
            encode_frame_head(command, &mut self.bytes)?;
            self.large_bodies
                .push((self.bytes.len(), command.body.clone()));
        } else {
            encode_frame(command, &mut self.bytes)?;
        }
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty() && self.large_bodies.is_empty()
    }

    /// The batch as the slices to write, in wire order.
    pub(crate) fn io_slices(&self) -> Vec<std::io::IoSlice<'_>> {
        let mut slices = Vec::with_capacity(2 * self.large_bodies.len() + 1);
        let mut start = 0;
        for (offset, body) in &self.large_bodies {
            if *offset > start {
                slices.push(std::io::IoSlice::new(&self.bytes[start..*offset]));
            }
            if !body.is_empty() {
                slices.push(std::io::IoSlice::new(body));
            }
            start = *offset;
        }
        if start < self.bytes.len() {
            slices.push(std::io::IoSlice::new(&self.bytes[start..]));
        }
        slices
    }

    /// Drops the first `written` wire bytes (a partial write), keeping the rest in order.
    pub(crate) fn advance(&mut self, mut written: usize) {
        if written == 0 {
            return;
        }
        let bytes = std::mem::take(&mut self.bytes).freeze();
        let bodies = std::mem::take(&mut self.large_bodies);
        let mut start = 0;
        let mut keep = |part: Bytes, inline: bool, rest: &mut Self| {
            let skip = written.min(part.len());
            written -= skip;
            if skip == part.len() {
                return;
            }
            if inline {
                rest.bytes.extend_from_slice(&part[skip..]);
            } else {
                rest.large_bodies
                    .push((rest.bytes.len(), part.slice(skip..)));
            }
        };
        for (offset, body) in bodies {
            keep(bytes.slice(start..offset), true, self);
            keep(body, false, self);
            start = offset;
        }
        keep(bytes.slice(start..), true, self);
    }

    /// Moves every frame of `other` to the end of this batch.
    fn append_from(&mut self, other: &mut Self) {
        let base = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.large_bodies.extend(
            other
                .large_bodies
                .drain(..)
                .map(|(offset, body)| (base + offset, body)),
        );
        other.bytes.clear();
    }

    /// Empties the batch after it was written, keeping a buffer of moderate size for reuse.
    pub(crate) fn clear(&mut self) {
        if self.bytes.capacity() > RETAINED_QUEUE_CAPACITY {
            self.bytes = BytesMut::new();
        } else {
            self.bytes.clear();
        }
        self.large_bodies.clear();
    }
}

impl Outbound {
    /// A queue holding at most `limit` frames (at least one).
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            queue: Mutex::new(OutboundQueue {
                batch: OutboundBatch::default(),
                frames: 0,
                closed: false,
                senders_waiting: false,
                writer_waiting: false,
                reader_active: false,
                writing: false,
            }),
            limit: limit.max(1),
            frames_queued: Notify::new(),
            room: Notify::new(),
        }
    }

    /// Encodes `command` at the end of the queue if there is room.
    pub(crate) fn try_push(&self, command: &RemotingCommand) -> Result<Pushed, FrameError> {
        let mut queue = self.queue.lock();
        if queue.closed {
            return Ok(Pushed::Closed);
        }
        if queue.frames >= self.limit {
            // The reader may be the one waiting for room: the writer must drain the queue.
            let wake_writer = std::mem::take(&mut queue.writer_waiting);
            drop(queue);
            if wake_writer {
                self.frames_queued.notify_one();
            }
            return Ok(Pushed::Full);
        }
        queue.batch.push(command)?;
        queue.frames += 1;
        let wake_writer = !queue.reader_active && std::mem::take(&mut queue.writer_waiting);
        drop(queue);
        if wake_writer {
            self.frames_queued.notify_one();
        }
        Ok(Pushed::Queued)
    }

    /// Waits until the queue has room; false once it is closed.
    async fn wait_for_room(&self) -> bool {
        let room = self.room.notified();
        tokio::pin!(room);
        room.as_mut().enable();
        {
            let mut queue = self.queue.lock();
            if queue.closed {
                return false;
            }
            if queue.frames < self.limit {
                return true;
            }
            queue.senders_waiting = true;
        }
        room.await;
        true
    }

    /// True if frames wait in the queue for the writer. If not, the next frame queued (or the
    /// end of the reader's write) wakes [`Outbound::frames_queued`] (once).
    pub(crate) fn has_frames_or_wait(&self) -> bool {
        let mut queue = self.queue.lock();
        if queue.frames > 0 && !queue.writing {
            return true;
        }
        queue.writer_waiting = true;
        false
    }

    /// Resolves once a frame was queued after [`Outbound::has_frames_or_wait`] returned false.
    pub(crate) async fn frames_queued(&self) {
        self.frames_queued.notified().await;
    }

    /// Drops the queued frames, refuses further ones and fails senders waiting for room; for a
    /// writer that stops without writing them (write error, or its task was aborted).
    pub(crate) fn close(&self) {
        let dropped = {
            let mut queue = self.queue.lock();
            queue.closed = true;
            queue.frames = 0;
            std::mem::take(&mut queue.batch)
        };
        drop(dropped);
        self.room.notify_waiters();
    }

    /// For the writer task: swaps the queued frames into `spare` (which must be empty) to be
    /// written, and wakes waiting senders; the caller calls [`Outbound::written`] when done.
    /// False, taking nothing, while the reader writes a batch (its end wakes the writer). With
    /// `close`, the queue refuses frames from now on, taken or not.
    pub(crate) fn take(&self, spare: &mut OutboundBatch, close: bool) -> bool {
        let mut queue = self.queue.lock();
        queue.closed |= close;
        if queue.writing {
            queue.writer_waiting = true;
            return false;
        }
        queue.writing = true;
        self.swap_out(queue, spare, close);
        true
    }

    /// The writer task wrote what it took.
    pub(crate) fn written(&self) {
        self.queue.lock().writing = false;
    }

    /// Marks the reader as running requests: frames they queue wait for
    /// [`Outbound::take_for_reader`] instead of waking the writer task.
    pub(crate) fn reader_active(&self) {
        self.queue.lock().reader_active = true;
    }

    /// For the reader about to wait for the socket: swaps the frames its requests queued into
    /// `spare` (which must be empty) to be written on its own task, then
    /// [`Outbound::finish_reader_write`]. False, leaving them to the writer task, if there are
    /// none or the writer is writing.
    pub(crate) fn take_for_reader(&self, spare: &mut OutboundBatch) -> bool {
        let mut queue = self.queue.lock();
        queue.reader_active = false;
        if queue.frames == 0 || queue.writing {
            return false;
        }
        queue.writing = true;
        self.swap_out(queue, spare, false);
        true
    }

    /// Ends the reader's write: `rest` (what the socket did not take; emptied here) goes back to
    /// the front of the queue, and the writer task is woken if frames wait.
    pub(crate) fn finish_reader_write(&self, rest: &mut OutboundBatch) {
        let mut queue = self.queue.lock();
        queue.writing = false;
        if !rest.is_empty() {
            rest.append_from(&mut queue.batch);
            std::mem::swap(&mut queue.batch, rest);
            queue.frames += 1;
        }
        let wake_writer = queue.frames > 0 && std::mem::take(&mut queue.writer_waiting);
        drop(queue);
        if wake_writer {
            self.frames_queued.notify_one();
        }
    }

    /// The reader stopped: frames queued from now on wake the writer task, as do those waiting.
    pub(crate) fn reader_done(&self) {
        let mut queue = self.queue.lock();
        queue.reader_active = false;
        let wake_writer = queue.frames > 0 && std::mem::take(&mut queue.writer_waiting);
        drop(queue);
        if wake_writer {
            self.frames_queued.notify_one();
        }
    }

    fn swap_out(
        &self,
        mut queue: parking_lot::MutexGuard<'_, OutboundQueue>,
        spare: &mut OutboundBatch,
        close: bool,
    ) {
        std::mem::swap(&mut queue.batch, spare);
        queue.frames = 0;
        let wake = std::mem::take(&mut queue.senders_waiting) || close;
        drop(queue);
        if wake {
            self.room.notify_waiters();
        }
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
