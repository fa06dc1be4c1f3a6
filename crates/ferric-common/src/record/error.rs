//! Errors of the record codec.

use thiserror::Error;

/// Why a record could not be encoded or parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    /// MAGICCODE is neither v1, v2 nor the blank filler.
    #[error("bad magic code {magic:#010x}")]
    BadMagic {
        /// The magic code found.
        magic: i32,
    },
    /// TOTALSIZE and MAGICCODE are both zero: unwritten (pre-allocated) space.
    #[error("zero-filled space where a record was expected")]
    ZeroFilled,
    /// TOTALSIZE is below the smallest record or above the limit.
    #[error("record size {size} out of bounds [{min}, {max}]")]
    SizeOutOfBounds {
        /// Declared TOTALSIZE.
        size: i32,
        /// Smallest acceptable size.
        min: usize,
        /// Largest acceptable size.
        max: usize,
    },
    /// A field or a length-prefixed part runs past TOTALSIZE.
    #[error("{field} overruns the record: needs {needed} bytes, record has {available}")]
    FieldOverrun {
        /// The field.
        field: &'static str,
        /// Bytes needed from the record start.
        needed: usize,
        /// TOTALSIZE.
        available: usize,
    },
    /// A length field is negative.
    #[error("negative {field} length {len}")]
    NegativeLength {
        /// The field.
        field: &'static str,
        /// The value read.
        len: i32,
    },
    /// The fields end before TOTALSIZE.
    #[error("record declares {declared} bytes but its fields take {actual}")]
    SizeMismatch {
        /// Declared TOTALSIZE.
        declared: usize,
        /// Bytes the fields take.
        actual: usize,
    },
    /// The topic is not UTF-8.
    #[error("topic is not valid UTF-8")]
    TopicNotUtf8,
    /// A host port is outside 0..=65535.
    #[error("{field} port {port} out of range")]
    InvalidPort {
        /// The field.
        field: &'static str,
        /// The value read.
        port: i32,
    },
    /// A buffer of consecutive records ends inside a record.
    #[error("buffer ends inside a record: {available} of {needed} bytes present")]
    Truncated {
        /// Bytes present.
        available: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// Topic longer than 255 bytes.
    #[error("topic is {len} bytes, more than 255")]
    TopicTooLong {
        /// Topic length in bytes.
        len: usize,
    },
    /// Properties string longer than 32767 bytes.
    #[error("properties are {len} bytes, more than 32767")]
    PropertiesTooLong {
        /// Encoded properties length.
        len: usize,
    },
    /// Body longer than the configured maximum.
    #[error("body is {len} bytes, more than the maximum {max}")]
    BodyTooLong {
        /// Body length.
        len: usize,
        /// Configured maximum.
        max: usize,
    },
    /// A buffer handed to a patch helper is too short for the field.
    #[error("buffer of {available} bytes too short for a field ending at {needed}")]
    BufferTooShort {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
}

impl RecordError {
    /// True for unwritten space: the normal end of data in a CommitLog file.
    pub fn is_zero_filled(&self) -> bool {
        matches!(self, RecordError::ZeroFilled)
    }
}
