//! Body compression: zlib via flate2; LZ4 and ZSTD are recognised from the
//! SYSFLAG type bits and reported as unsupported.

use std::borrow::Cow;
use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use thiserror::Error;

use crate::sysflag::{CompressionType, is_compressed};

/// Producer threshold: bodies of at least this many bytes are compressed.
pub const COMPRESS_MSG_BODY_OVER_HOWMUCH: usize = 4096;
/// Producer default compression level.
pub const DEFAULT_COMPRESS_LEVEL: u32 = 5;

/// Why a body could not be (de)compressed.
#[derive(Debug, Error)]
pub enum CompressionError {
    /// LZ4 or ZSTD: recognised but not built in.
    #[error("unsupported compression type {0:?}")]
    Unsupported(CompressionType),
    /// Type bits 0x400..=0x700 are not assigned.
    #[error("unknown compression type bits {0:#x}")]
    UnknownType(i32),
    /// The inflated body would exceed the limit.
    #[error("decompressed body exceeds {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The compressed stream is corrupt.
    #[error("corrupt compressed body: {0}")]
    Corrupt(#[from] std::io::Error),
}

/// The body as the client sees it: inflated when `sys_flag` bit 0 is set,
/// borrowed unchanged otherwise. Fails if the result exceeds `max_len`.
pub fn decompress_body(
    sys_flag: i32,
    body: &[u8],
    max_len: usize,
) -> Result<Cow<'_, [u8]>, CompressionError> {
    if !is_compressed(sys_flag) {
        return Ok(Cow::Borrowed(body));
    }
    match CompressionType::from_sys_flag(sys_flag) {
        Some(CompressionType::Zlib) => inflate_zlib(body, max_len).map(Cow::Owned),
        Some(other) => Err(CompressionError::Unsupported(other)),
        None => Err(CompressionError::UnknownType(
            sys_flag & crate::sysflag::COMPRESSION_TYPE_MASK,
        )),
    }
}

fn inflate_zlib(body: &[u8], max_len: usize) -> Result<Vec<u8>, CompressionError> {
    let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(max_len));
    ZlibDecoder::new(body).take(limit).read_to_end(&mut out)?;
    if out.len() > max_len {
        return Err(CompressionError::TooLarge { max: max_len });
    }
    Ok(out)
}

/// SYSFLAG bits a producer sets for a zlib-compressed body (`0x301`).
pub const ZLIB_COMPRESSED_SYS_FLAG: i32 =
    crate::sysflag::COMPRESSED_FLAG | crate::sysflag::COMPRESSION_ZLIB_TYPE;

/// Producer-side compression: bodies of at least
/// [`COMPRESS_MSG_BODY_OVER_HOWMUCH`] bytes are zlib-compressed at level 5 and
/// returned with the SYSFLAG bits to OR in ([`ZLIB_COMPRESSED_SYS_FLAG`]);
/// smaller bodies give `None`. Batches are never compressed.
pub fn compress_body_for_send(body: &[u8]) -> Result<Option<(Vec<u8>, i32)>, CompressionError> {
    if body.len() < COMPRESS_MSG_BODY_OVER_HOWMUCH {
        return Ok(None);
    }
    let packed = compress_zlib(body, DEFAULT_COMPRESS_LEVEL)?;
    Ok(Some((packed, ZLIB_COMPRESSED_SYS_FLAG)))
}

/// zlib-compress `body` at `level` (0..=9; the producer default is 5).
pub fn compress_zlib(body: &[u8], level: u32) -> Result<Vec<u8>, CompressionError> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::new(level.min(9)));
    encoder.write_all(body)?;
    Ok(encoder.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zlib_roundtrip_and_limit() {
        let body = vec![b'a'; 10_000];
        let packed = compress_zlib(&body, DEFAULT_COMPRESS_LEVEL).unwrap();
        assert!(packed.len() < body.len());
        assert_eq!(
            decompress_body(0x301, &packed, 10_000).unwrap().as_ref(),
            &body[..]
        );
        assert_eq!(
            decompress_body(0x1, &packed, 10_000).unwrap().as_ref(),
            &body[..]
        );
        assert!(matches!(
            decompress_body(0x301, &packed, 9_999),
            Err(CompressionError::TooLarge { max: 9_999 })
        ));
        assert_eq!(
            decompress_body(0, &packed, 1).unwrap().as_ref(),
            &packed[..]
        );
    }

    #[test]
    fn producer_threshold() {
        assert!(compress_body_for_send(&[b'a'; 4095]).unwrap().is_none());
        let (packed, flag) = compress_body_for_send(&[b'a'; 4096]).unwrap().unwrap();
        assert_eq!(flag, 0x301);
        assert_eq!(decompress_body(flag, &packed, 4096).unwrap().len(), 4096);
    }

    #[test]
    fn other_types_are_reported() {
        let r = decompress_body(0x101, b"x", 10);
        assert!(matches!(
            r,
            Err(CompressionError::Unsupported(CompressionType::Lz4))
        ));
        let r = decompress_body(0x201, b"x", 10);
        assert!(matches!(
            r,
            Err(CompressionError::Unsupported(CompressionType::Zstd))
        ));
        let r = decompress_body(0x401, b"x", 10);
        assert!(matches!(r, Err(CompressionError::UnknownType(0x400))));
        assert!(decompress_body(0x301, b"not zlib", 10).is_err());
    }
}
