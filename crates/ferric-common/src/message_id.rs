//! Message ids.
//!
//! * Offset message id (broker-assigned): store host IP (4 or 16 bytes), port
//!   (int32), CommitLog offset (int64), as upper-case hex: 32 chars for IPv4,
//!   56 for IPv6.
//! * Client unique id (`UNIQ_KEY`): client IP (4 or 16 bytes), pid (low 16
//!   bits), a per-process random int (Java uses the class loader's hash code),
//!   ms since the start of the current month (int32), a per-process counter
//!   (low 16 bits); upper-case hex, 32 or 56 chars.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;

/// Hex length of an IPv4 id (16 bytes).
pub const ID_HEX_LEN_V4: usize = 32;
/// Hex length of an IPv6 id (28 bytes).
pub const ID_HEX_LEN_V6: usize = 56;

/// Why a message id could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MessageIdError {
    /// The id is neither 32 nor 56 hex characters.
    #[error("message id has {0} characters, expected 32 or 56")]
    InvalidLength(usize),
    /// A character is not a hex digit.
    #[error("message id contains a non-hex character")]
    InvalidHex,
    /// The port is outside 0..=65535.
    #[error("message id port {0} out of range")]
    InvalidPort(i32),
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0xF)]));
    }
}

fn decode_hex(id: &str) -> Result<Vec<u8>, MessageIdError> {
    let len = id.len();
    if len != ID_HEX_LEN_V4 && len != ID_HEX_LEN_V6 {
        return Err(MessageIdError::InvalidLength(len));
    }
    fn nibble(c: u8) -> Result<u8, MessageIdError> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(MessageIdError::InvalidHex),
        }
    }
    id.as_bytes()
        .chunks_exact(2)
        .map(|pair| Ok(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out.extend_from_slice(&v6.octets()),
    }
}

/// Split decoded id bytes into the IP and the rest (4-byte IP for 16 bytes).
fn split_ip(bytes: &[u8]) -> (IpAddr, &[u8]) {
    if bytes.len() == ID_HEX_LEN_V4 / 2 {
        let mut octets = [0u8; 4];
        octets.copy_from_slice(&bytes[..4]);
        (IpAddr::V4(Ipv4Addr::from(octets)), &bytes[4..])
    } else {
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&bytes[..16]);
        (IpAddr::V6(Ipv6Addr::from(octets)), &bytes[16..])
    }
}

fn be_i32(bytes: &[u8]) -> i32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[..4]);
    i32::from_be_bytes(b)
}

fn be_i64(bytes: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    i64::from_be_bytes(b)
}

fn be_u16(bytes: &[u8]) -> u16 {
    u16::from_be_bytes([bytes[0], bytes[1]])
}

/// The offset message id of the record at `commit_log_offset` stored by `store_host`.
///
/// ```
/// let host = "192.168.1.10:10911".parse().unwrap();
/// assert_eq!(
///     ferric_common::message_id::create_offset_msg_id(host, 12345),
///     "C0A8010A00002A9F0000000000003039"
/// );
/// ```
pub fn create_offset_msg_id(store_host: SocketAddr, commit_log_offset: i64) -> String {
    // One allocation: the id bytes are assembled on the stack.
    let mut bytes = [0u8; ID_HEX_LEN_V6 / 2];
    let ip_len = match store_host.ip() {
        IpAddr::V4(v4) => {
            bytes[..4].copy_from_slice(&v4.octets());
            4
        }
        IpAddr::V6(v6) => {
            bytes[..16].copy_from_slice(&v6.octets());
            16
        }
    };
    bytes[ip_len..ip_len + 4].copy_from_slice(&i32::from(store_host.port()).to_be_bytes());
    bytes[ip_len + 4..ip_len + 12].copy_from_slice(&commit_log_offset.to_be_bytes());
    let bytes = &bytes[..ip_len + 12];
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

/// A decoded offset message id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetMsgId {
    /// The broker's store host.
    pub store_host: SocketAddr,
    /// The CommitLog offset of the record.
    pub commit_log_offset: i64,
}

/// Decode an offset message id (32 hex chars for IPv4, 56 for IPv6).
pub fn decode_offset_msg_id(id: &str) -> Result<OffsetMsgId, MessageIdError> {
    let bytes = decode_hex(id)?;
    let (ip, rest) = split_ip(&bytes);
    let port = be_i32(rest);
    let port = u16::try_from(port).map_err(|_| MessageIdError::InvalidPort(port))?;
    let store_host = match ip {
        IpAddr::V4(v4) => SocketAddr::V4(SocketAddrV4::new(v4, port)),
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, 0)),
    };
    Ok(OffsetMsgId {
        store_host,
        commit_log_offset: be_i64(&rest[4..]),
    })
}

/// The parts of a client unique id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqIdParts {
    /// Client IP.
    pub ip: IpAddr,
    /// Low 16 bits of the client's process id.
    pub pid: u16,
    /// Per-process random int (Java: class loader hash code).
    pub random: i32,
    /// Milliseconds since the start of the month the id was made in.
    pub ms_since_month_start: i32,
    /// Low 16 bits of the per-process counter.
    pub counter: u16,
}

impl UniqIdParts {
    /// Render as upper-case hex.
    pub fn to_hex(&self) -> String {
        let mut bytes = Vec::with_capacity(28);
        push_ip(&mut bytes, self.ip);
        bytes.extend_from_slice(&self.pid.to_be_bytes());
        bytes.extend_from_slice(&self.random.to_be_bytes());
        bytes.extend_from_slice(&self.ms_since_month_start.to_be_bytes());
        bytes.extend_from_slice(&self.counter.to_be_bytes());
        let mut out = String::with_capacity(bytes.len() * 2);
        push_hex(&mut out, &bytes);
        out
    }
}

/// Decode a client unique id (32 hex chars for IPv4, 56 for IPv6).
pub fn decode_uniq_id(id: &str) -> Result<UniqIdParts, MessageIdError> {
    let bytes = decode_hex(id)?;
    let (ip, rest) = split_ip(&bytes);
    Ok(UniqIdParts {
        ip,
        pid: be_u16(rest),
        random: be_i32(&rest[2..]),
        ms_since_month_start: be_i32(&rest[6..]),
        counter: be_u16(&rest[10..]),
    })
}

/// A random int that differs between processes (seeded by the standard
/// library's per-process hash keys).
pub fn process_random_i32() -> i32 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(u64::from(std::process::id()));
    // Keep the low 32 bits; truncation is the intent.
    hasher.finish() as u32 as i32
}

const MS_PER_DAY: i64 = 86_400_000;

/// Start of the calendar month containing `now_ms`, in ms since the epoch,
/// for a clock `utc_offset_ms` ahead of UTC.
pub fn month_start_ms(now_ms: i64, utc_offset_ms: i64) -> i64 {
    let local_ms = now_ms.saturating_add(utc_offset_ms);
    let days = local_ms.div_euclid(MS_PER_DAY);
    let day_of_month = day_of_month(days);
    (days - (day_of_month - 1)) * MS_PER_DAY - utc_offset_ms
}

/// Day of the month (1-based) of a day count since 1970-01-01 (proleptic
/// Gregorian calendar).
fn day_of_month(days_since_epoch: i64) -> i64 {
    let z = days_since_epoch + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    day_of_year - (153 * month_index + 2) / 5 + 1
}

/// Generator of client unique ids (`MessageClientIDSetter`).
#[derive(Debug)]
pub struct UniqIdGenerator {
    ip: IpAddr,
    pid: u16,
    random: i32,
    utc_offset_ms: i64,
    counter: AtomicU32,
}

impl UniqIdGenerator {
    /// A generator for this process: `ip` is the client IP, the pid and the
    /// random part come from the running process; months follow UTC.
    pub fn for_process(ip: IpAddr) -> Self {
        // Low 16 bits of the pid, as Java does.
        Self::new(ip, std::process::id() as u16, process_random_i32())
    }

    /// A generator with explicit prefix parts; months follow UTC.
    pub fn new(ip: IpAddr, pid: u16, random: i32) -> Self {
        Self {
            ip,
            pid,
            random,
            utc_offset_ms: 0,
            counter: AtomicU32::new(0),
        }
    }

    /// Count months in a time zone `utc_offset_ms` ahead of UTC (Java uses
    /// the local calendar).
    pub fn with_utc_offset_ms(mut self, utc_offset_ms: i64) -> Self {
        self.utc_offset_ms = utc_offset_ms;
        self
    }

    /// The next id at the current wall-clock time.
    pub fn next_id(&self) -> String {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        self.next_id_at(now_ms)
    }

    /// The next id as if the time were `now_ms`.
    pub fn next_id_at(&self, now_ms: i64) -> String {
        let since = now_ms - month_start_ms(now_ms, self.utc_offset_ms);
        let parts = UniqIdParts {
            ip: self.ip,
            pid: self.pid,
            random: self.random,
            // At most 31 days of ms, which fits an i32.
            ms_since_month_start: since as i32,
            // Low 16 bits of the counter, as Java's `(short)` cast.
            counter: self.counter.fetch_add(1, Ordering::Relaxed) as u16,
        };
        parts.to_hex()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_id_example() {
        let host: SocketAddr = "192.168.1.10:10911".parse().unwrap();
        let id = create_offset_msg_id(host, 12345);
        assert_eq!(id, "C0A8010A00002A9F0000000000003039");
        let decoded = decode_offset_msg_id(&id).unwrap();
        assert_eq!(decoded.store_host, host);
        assert_eq!(decoded.commit_log_offset, 12345);
        let lower = decode_offset_msg_id("c0a8010a00002a9f0000000000003039").unwrap();
        assert_eq!(lower, decoded);
    }

    #[test]
    fn offset_id_ipv6() {
        let host: SocketAddr = "[fd00::2]:20911".parse().unwrap();
        let id = create_offset_msg_id(host, 7);
        assert_eq!(id.len(), 56);
        assert_eq!(&id[..32], "FD000000000000000000000000000002");
        assert_eq!(decode_offset_msg_id(&id).unwrap().store_host, host);
    }

    #[test]
    fn bad_ids_are_errors() {
        assert_eq!(
            decode_offset_msg_id("ABC"),
            Err(MessageIdError::InvalidLength(3))
        );
        let bad = "G0A8010A00002A9F0000000000003039";
        assert_eq!(decode_offset_msg_id(bad), Err(MessageIdError::InvalidHex));
        let bad_port = "C0A8010A00FF2A9F0000000000003039";
        assert_eq!(
            decode_offset_msg_id(bad_port),
            Err(MessageIdError::InvalidPort(0xFF2A9F))
        );
        assert!(decode_uniq_id("é0A8010A00002A9F000000000000303").is_err());
    }

    #[test]
    fn decodes_recorded_uniq_keys() {
        let parts = decode_uniq_id("C0000202387130946E096C4594CA0000").unwrap();
        assert_eq!(parts.ip, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
        assert_eq!(parts.pid, 0x3871);
        assert_eq!(parts.random, 0x3094_6E09);
        assert_eq!(parts.ms_since_month_start, 0x6C45_94CA);
        assert_eq!(parts.counter, 0);
        assert_eq!(parts.to_hex(), "C0000202387130946E096C4594CA0000");
        let v6 =
            decode_uniq_id("FD00000000000000000000000000000248E330946E096C4B29DC0000").unwrap();
        assert_eq!(v6.ip, "fd00::2".parse::<IpAddr>().unwrap());
        assert_eq!(v6.pid, 0x48E3);
        assert_eq!(v6.counter, 0);
    }

    #[test]
    fn month_start() {
        // 2026-11-22T00:35:00Z -> 2026-11-01T00:00:00Z = 1793491200000.
        let now = 1_795_307_700_000;
        assert_eq!(month_start_ms(now, 0), 1_793_491_200_000);
        // The recorded ids' time field (0x6C4594CA ms) is about 21 days: the
        // recording host's month started 1795307699403 - 0x6C4594CA ms before.
        assert_eq!(month_start_ms(1_793_491_200_000, 0), 1_793_491_200_000);
        assert_eq!(
            month_start_ms(1_793_491_199_999, 0),
            1_793_491_200_000 - 31 * MS_PER_DAY
        );
        // 2024-02-29 is in a leap February starting 2024-02-01 (1706745600000).
        assert_eq!(month_start_ms(1_709_164_800_000, 0), 1_706_745_600_000);
        // One hour ahead of UTC, 2026-10-31T23:30Z is already November.
        let offset = 3_600_000;
        assert_eq!(
            month_start_ms(1_793_491_200_000 - 1_800_000, offset),
            1_793_491_200_000 - offset
        );
    }

    #[test]
    fn generator_layout_and_counter() {
        let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        let generator = UniqIdGenerator::new(ip, 0x3871, 0x3094_6E09);
        let now = 1_793_491_200_000 + 5_000;
        let first = generator.next_id_at(now);
        let second = generator.next_id_at(now);
        assert_eq!(first, "C0000202387130946E09000013880000");
        assert_eq!(second, "C0000202387130946E09000013880001");
        let parts = decode_uniq_id(&second).unwrap();
        assert_eq!(parts.ms_since_month_start, 5_000);
        assert_eq!(parts.counter, 1);
        let live = UniqIdGenerator::for_process(ip).next_id();
        assert_eq!(live.len(), 32);
        let v6 = UniqIdGenerator::new("fd00::2".parse().unwrap(), 1, 2).next_id_at(now);
        assert_eq!(v6.len(), 56);
        assert_eq!(decode_uniq_id(&v6).unwrap().pid, 1);
    }
}
