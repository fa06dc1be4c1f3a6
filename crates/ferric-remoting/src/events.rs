//! Connection lifecycle hooks.

use crate::channel::Channel;
use crate::error::RemotingError;

/// Observes connections opening and closing (a broker evicts a client's producers and
/// consumers when its channel closes).
///
/// Hooks run on the connection's task: keep them short and never block; spawn for real work.
pub trait ChannelEventListener: Send + Sync + 'static {
    /// A connection was established (accepted, or dialled by a client).
    fn on_connect(&self, channel: &Channel) {
        let _ = channel;
    }

    /// The connection closed, whatever the reason; called exactly once per connection, after
    /// the channel left the server's channel table.
    fn on_close(&self, channel: &Channel) {
        let _ = channel;
    }

    /// The connection was idle too long and is being closed (`on_close` follows).
    fn on_idle(&self, channel: &Channel) {
        let _ = channel;
    }

    /// Reading failed (socket error, malformed or oversized frame) and the connection is being
    /// closed (`on_close` follows).
    fn on_error(&self, channel: &Channel, error: &RemotingError) {
        let _ = (channel, error);
    }
}
