//! [`Channel`]: a handle to one live connection, and the opaque correlation of the requests
//! this side sends on it. Client and server connections share this code.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use ferric_protocol::{FLAG_ONEWAY, FLAG_RESPONSE, RemotingCommand};
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::codec::encode_to_bytes;
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
    outbound: mpsc::Sender<Bytes>,
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
        outbound: mpsc::Sender<Bytes>,
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
        let frame = encode_to_bytes(&request)?;
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);

        let (guard, receiver) = self.register_pending(opaque)?;
        let exchange = async {
            self.enqueue(frame).await?;
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
        let frame = encode_to_bytes(&request)?;
        self.enqueue(frame).await
    }

    /// Sends a response the caller built (its opaque must be the request's); sets the response
    /// flag. Processors that return `Ok(None)` use this to answer later (e.g. long polling).
    pub async fn send_response(&self, mut response: RemotingCommand) -> Result<(), RemotingError> {
        response.flag |= FLAG_RESPONSE;
        let frame = encode_to_bytes(&response)?;
        self.enqueue(frame).await
    }

    /// Hands an encoded frame to the writer task, waiting if its queue is full.
    pub(crate) async fn enqueue(&self, frame: Bytes) -> Result<(), RemotingError> {
        if !self.is_active() {
            return Err(self.closed_error());
        }
        self.shared
            .outbound
            .send(frame)
            .await
            .map_err(|_| self.closed_error())
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
