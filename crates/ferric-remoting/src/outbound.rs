//! The frames waiting to be written on one connection, and the rules for who writes them: the
//! connection's reader (responses of the requests it ran) or its writer task (everything else).

use bytes::{Bytes, BytesMut};
use ferric_protocol::frame::encode_frame_head;
use ferric_protocol::{FrameError, RemotingCommand, encode_frame};
use parking_lot::Mutex;
use tokio::sync::Notify;

/// Bodies larger than this are written from their own buffer instead of being copied into the
/// outbound queue (pull responses carry stored messages of up to several MiB).
pub(crate) const INLINE_BODY_MAX: usize = 4096;

/// Queue capacity a writer keeps between batches; a larger buffer (after a burst) is freed.
pub(crate) const RETAINED_QUEUE_CAPACITY: usize = 64 * 1024;

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
    pub(crate) async fn wait_for_room(&self) -> bool {
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
