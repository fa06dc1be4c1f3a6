//! Message bodies that carry their send time, for end-to-end latency.
//!
//! Layout (bodies of at least [`STAMP_LEN`] bytes): `"FBT1"` magic, then the intended send
//! time as a big-endian `u64` of microseconds since the Unix epoch, then `x` filler up to the
//! requested size. Smaller bodies are all filler and carry no time.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};

/// Magic at the start of a stamped body.
pub const MAGIC: &[u8; 4] = b"FBT1";
/// Bytes taken by the magic and the timestamp.
pub const STAMP_LEN: usize = 12;

/// Microseconds since the Unix epoch of `time` (0 before the epoch).
pub fn epoch_micros(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Maps monotonic instants to wall-clock microseconds from one reference pair, so every body
/// of a run is stamped on one consistent clock.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    instant: Instant,
    epoch_micros: u64,
}

impl WallClock {
    /// A mapping taken now.
    pub fn now() -> Self {
        Self {
            instant: Instant::now(),
            epoch_micros: epoch_micros(SystemTime::now()),
        }
    }

    /// Wall-clock microseconds of `at`.
    pub fn micros_at(&self, at: Instant) -> u64 {
        let delta = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        if at >= self.instant {
            self.epoch_micros.saturating_add(delta(at - self.instant))
        } else {
            self.epoch_micros.saturating_sub(delta(self.instant - at))
        }
    }
}

/// A body of `size` bytes stamped with `sent_micros` when it is large enough.
pub fn stamped_body(size: usize, sent_micros: u64) -> Bytes {
    let mut body = BytesMut::with_capacity(size);
    if size >= STAMP_LEN {
        body.put_slice(MAGIC);
        body.put_u64(sent_micros);
    }
    body.resize(size, b'x');
    body.freeze()
}

/// The send time stamped in `body`, if it has one.
pub fn read_stamp(body: &[u8]) -> Option<u64> {
    let rest = body.strip_prefix(MAGIC.as_slice())?;
    let stamp: [u8; 8] = rest.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(stamp))
}

/// End-to-end latency of a body received at `received_micros`; `None` for unstamped bodies.
/// A receive time before the stamp (clock step) counts as zero.
pub fn end_to_end(body: &[u8], received_micros: u64) -> Option<Duration> {
    let sent = read_stamp(body)?;
    Some(Duration::from_micros(received_micros.saturating_sub(sent)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_round_trip() {
        let body = stamped_body(128, 1_700_000_000_123_456);
        assert_eq!(body.len(), 128);
        assert_eq!(read_stamp(&body), Some(1_700_000_000_123_456));
        assert!(body[STAMP_LEN..].iter().all(|&b| b == b'x'));
        assert_eq!(
            end_to_end(&body, 1_700_000_000_124_456),
            Some(Duration::from_millis(1))
        );
        assert_eq!(end_to_end(&body, 0), Some(Duration::ZERO));
    }

    #[test]
    fn small_and_foreign_bodies_have_no_stamp() {
        let small = stamped_body(STAMP_LEN - 1, 42);
        assert_eq!(small.len(), STAMP_LEN - 1);
        assert_eq!(read_stamp(&small), None);
        assert_eq!(read_stamp(&stamped_body(STAMP_LEN, 42)), Some(42));
        assert_eq!(read_stamp(b"Hello RocketMQ"), None);
        assert_eq!(read_stamp(b"FBT1abc"), None);
    }

    #[test]
    fn wall_clock_maps_instants_both_ways() {
        let clock = WallClock::now();
        let base = clock.micros_at(clock.instant);
        assert_eq!(base, clock.epoch_micros);
        let later = clock.instant + Duration::from_millis(5);
        assert_eq!(clock.micros_at(later), base + 5_000);
        if let Some(earlier) = clock.instant.checked_sub(Duration::from_millis(2)) {
            assert_eq!(clock.micros_at(earlier), base - 2_000);
        }
    }
}
