//! Frame codec (§1.1): `i32 length | u8 serializeType, u24 headerLength | header | body`.
//!
//! `length` counts everything after itself. The whole frame (prefix included) may be at most
//! `max_frame_length` bytes, as in Java's `LengthFieldBasedFrameDecoder`. Decoding is sans-I/O:
//! incomplete input is `Ok(None)` and consumes nothing.

use bytes::{Buf, BufMut, BytesMut};

use crate::command::{RemotingCommand, SerializeType};
use crate::header_binary;
use crate::header_json::{self, DecodedHeader};
use crate::json_scan::JsonHeaderError;

/// Java's default maximum frame size (`com.rocketmq.remoting.frameMaxLength`), 16 MiB.
pub const DEFAULT_MAX_FRAME_LENGTH: usize = 16 * 1024 * 1024;

/// Largest header length the 24-bit field can carry.
pub const MAX_HEADER_LENGTH: usize = 0x00FF_FFFF;

/// Why a frame could not be decoded or encoded.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The frame (including its 4-byte prefix) is larger than allowed.
    #[error("frame of {length} bytes exceeds the maximum of {max} bytes")]
    TooLong {
        /// Total frame length, prefix included.
        length: usize,
        /// The limit in force.
        max: usize,
    },
    /// The length prefix is smaller than the 4-byte header-length word, or negative.
    #[error("bad frame length prefix {0}")]
    BadLength(i32),
    /// The header length exceeds the bytes the frame holds after the header-length word.
    #[error("bad header length {header_length}: only {available} bytes follow")]
    BadHeaderLength {
        /// Declared header length.
        header_length: usize,
        /// Bytes available for header and body.
        available: usize,
    },
    /// The serialize-type byte is neither 0 (JSON) nor 1 (ROCKETMQ).
    #[error("unknown serialize type {0}")]
    BadSerializeType(u8),
    /// The JSON header does not parse, or a field has the wrong type.
    #[error("bad JSON header: {0}")]
    BadJsonHeader(#[source] JsonHeaderError),
    /// A length inside the binary header points past its end.
    #[error("bad binary header: {reason} needs {needed} bytes, {available} remain")]
    BadBinaryHeader {
        /// Which field was being read.
        reason: &'static str,
        /// Bytes the field needs (0 when its length was negative).
        needed: usize,
        /// Bytes left in the header.
        available: usize,
    },
    /// The encoded header does not fit the 24-bit header-length field.
    #[error("header of {0} bytes is too large to encode")]
    HeaderTooLarge(usize),
    /// The encoded frame does not fit the 32-bit length prefix.
    #[error("frame of {0} bytes is too large to encode")]
    FrameTooLarge(usize),
    /// The binary header stores the code as an `i16`.
    #[error("code {0} cannot be represented in a binary header")]
    CodeNotRepresentable(i32),
    /// The binary header stores the version as an `i16`.
    #[error("version {0} cannot be represented in a binary header")]
    VersionNotRepresentable(i32),
    /// A string is too long for its length field in the binary header.
    #[error("{what} of {length} bytes is too long for a binary header")]
    FieldTooLong {
        /// Which field.
        what: &'static str,
        /// Its length in bytes.
        length: usize,
    },
}

/// Decodes one frame from the front of `src`.
///
/// `Ok(None)`: more bytes are needed; nothing was consumed (capacity may be reserved). On
/// `Ok(Some(_))` the frame's bytes are consumed and the body shares `src`'s allocation. On error
/// nothing is consumed; the stream cannot be resynchronised and should be closed.
pub fn decode_frame(
    src: &mut BytesMut,
    max_frame_length: usize,
) -> Result<Option<RemotingCommand>, FrameError> {
    let Some(prefix) = src.get(..4) else {
        return Ok(None);
    };
    let length = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    if length < 4 {
        return Err(FrameError::BadLength(length));
    }
    let frame_length = length as usize + 4;
    if frame_length > max_frame_length {
        return Err(FrameError::TooLong {
            length: frame_length,
            max: max_frame_length,
        });
    }
    if src.len() < frame_length {
        src.reserve(frame_length - src.len());
        return Ok(None);
    }
    let word = u32::from_be_bytes([src[4], src[5], src[6], src[7]]);
    let type_byte = (word >> 24) as u8;
    let header_length = (word & 0x00FF_FFFF) as usize;
    let available = frame_length - 8;
    if header_length > available {
        return Err(FrameError::BadHeaderLength {
            header_length,
            available,
        });
    }
    let serialize_type =
        SerializeType::from_u8(type_byte).ok_or(FrameError::BadSerializeType(type_byte))?;
    let header_bytes = &src[8..8 + header_length];
    let header: DecodedHeader = match serialize_type {
        SerializeType::Json => {
            header_json::decode(header_bytes).map_err(FrameError::BadJsonHeader)?
        }
        SerializeType::RocketMq => header_binary::decode(header_bytes)?,
    };
    let mut frame = src.split_to(frame_length);
    frame.advance(8 + header_length);
    Ok(Some(RemotingCommand {
        code: header.code,
        language: header.language,
        version: header.version,
        opaque: header.opaque,
        flag: header.flag,
        remark: header.remark,
        ext_fields: header.ext_fields,
        body: frame.freeze(),
        serialize_type,
    }))
}

/// Appends `cmd` as one frame to `dst`, with the header encoding named by `cmd.serialize_type`.
/// On error `dst` is left as it was.
pub fn encode_frame(cmd: &RemotingCommand, dst: &mut BytesMut) -> Result<(), FrameError> {
    encode_head(cmd, dst, cmd.body.len())?;
    dst.put_slice(&cmd.body);
    Ok(())
}

/// Appends the frame of `cmd` without its body: the length prefix (which counts the body), the
/// header-length word and the header. Writing `cmd.body` right after these bytes completes the
/// frame, so a writer can send a large body from its own buffer instead of copying it.
/// On error `dst` is left as it was.
pub fn encode_frame_head(cmd: &RemotingCommand, dst: &mut BytesMut) -> Result<(), FrameError> {
    encode_head(cmd, dst, 0)
}

/// [`encode_frame_head`], reserving `body_room` more bytes for the caller to append.
fn encode_head(
    cmd: &RemotingCommand,
    dst: &mut BytesMut,
    body_room: usize,
) -> Result<(), FrameError> {
    let start = dst.len();
    let header_length = match cmd.serialize_type {
        SerializeType::RocketMq => {
            let header_length = header_binary::encoded_len(cmd)?;
            check_sizes(header_length, cmd.body.len())?;
            dst.reserve(8 + header_length + body_room);
            dst.put_u64(0);
            header_binary::encode(cmd, dst);
            header_length
        }
        SerializeType::Json => {
            dst.reserve(8 + header_json::estimated_len(cmd) + body_room);
            dst.put_u64(0);
            header_json::encode(cmd, dst);
            let header_length = dst.len() - start - 8;
            if let Err(error) = check_sizes(header_length, cmd.body.len()) {
                dst.truncate(start);
                return Err(error);
            }
            header_length
        }
    };
    let length = (4 + header_length + cmd.body.len()) as u32;
    let word = (u32::from(cmd.serialize_type.as_u8()) << 24) | header_length as u32;
    dst[start..start + 4].copy_from_slice(&length.to_be_bytes());
    dst[start + 4..start + 8].copy_from_slice(&word.to_be_bytes());
    Ok(())
}

fn check_sizes(header_length: usize, body_length: usize) -> Result<(), FrameError> {
    if header_length > MAX_HEADER_LENGTH {
        return Err(FrameError::HeaderTooLarge(header_length));
    }
    let after_prefix = 4usize
        .saturating_add(header_length)
        .saturating_add(body_length);
    if i32::try_from(after_prefix).is_err() {
        return Err(FrameError::FrameTooLarge(after_prefix.saturating_add(4)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn head_followed_by_body_is_the_whole_frame() {
        for serialize_type in [SerializeType::Json, SerializeType::RocketMq] {
            let mut cmd = RemotingCommand::request(11)
                .with_opaque(7)
                .with_serialize_type(serialize_type);
            cmd.set_ext("topic", "TopicTest");
            let cmd = cmd.with_body(Bytes::from(vec![0xAB; 5000]));

            let mut whole = BytesMut::from(&b"prefix"[..]);
            encode_frame(&cmd, &mut whole).expect("encode frame");
            let mut split = BytesMut::from(&b"prefix"[..]);
            encode_frame_head(&cmd, &mut split).expect("encode head");
            assert_eq!(split.len(), whole.len() - cmd.body.len());
            split.extend_from_slice(&cmd.body);
            assert_eq!(split, whole, "{serialize_type:?}");

            let mut frame = whole.split_off(6);
            let decoded = decode_frame(&mut frame, DEFAULT_MAX_FRAME_LENGTH)
                .expect("decode")
                .expect("complete frame");
            assert_eq!(decoded.body, cmd.body);
            assert!(frame.is_empty());
        }
    }

    #[test]
    fn head_reserves_no_room_for_the_body() {
        let cmd = RemotingCommand::request(11).with_body(Bytes::from(vec![1u8; 1 << 20]));
        let mut dst = BytesMut::new();
        encode_frame_head(&cmd, &mut dst).expect("encode head");
        assert!(dst.capacity() < 4096, "capacity {}", dst.capacity());
    }
}
