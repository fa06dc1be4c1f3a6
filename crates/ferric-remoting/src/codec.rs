//! [`RemotingCodec`]: the tokio-util codec over `ferric-protocol`'s sans-I/O frame functions.

use bytes::BytesMut;
use ferric_protocol::{DEFAULT_MAX_FRAME_LENGTH, RemotingCommand, decode_frame, encode_frame};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::RemotingError;

/// Frames [`RemotingCommand`]s on a byte stream.
///
/// Decoding delegates to [`ferric_protocol::decode_frame`], which bounds the length prefix by
/// `max_frame_length` before buffering anything; an incomplete frame yields `Ok(None)`.
/// Encoding delegates to [`ferric_protocol::encode_frame`].
#[derive(Debug, Clone, Copy)]
pub struct RemotingCodec {
    max_frame_length: usize,
}

impl RemotingCodec {
    /// A codec accepting frames up to [`DEFAULT_MAX_FRAME_LENGTH`] (16 MiB, as Java RocketMQ).
    pub fn new() -> Self {
        Self::with_max_frame_length(DEFAULT_MAX_FRAME_LENGTH)
    }

    /// A codec accepting frames whose length prefix is at most `max_frame_length`.
    pub fn with_max_frame_length(max_frame_length: usize) -> Self {
        Self { max_frame_length }
    }

    /// The largest accepted frame length.
    pub fn max_frame_length(&self) -> usize {
        self.max_frame_length
    }
}

impl Default for RemotingCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder for RemotingCodec {
    type Item = RemotingCommand;
    type Error = RemotingError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<RemotingCommand>, RemotingError> {
        Ok(decode_frame(src, self.max_frame_length)?)
    }
}

impl Encoder<RemotingCommand> for RemotingCodec {
    type Error = RemotingError;

    fn encode(&mut self, item: RemotingCommand, dst: &mut BytesMut) -> Result<(), RemotingError> {
        self.encode(&item, dst)
    }
}

impl Encoder<&RemotingCommand> for RemotingCodec {
    type Error = RemotingError;

    fn encode(&mut self, item: &RemotingCommand, dst: &mut BytesMut) -> Result<(), RemotingError> {
        Ok(encode_frame(item, dst)?)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn round_trip_through_codec() {
        let mut codec = RemotingCodec::new();
        let mut request = RemotingCommand::request(105);
        request.opaque = 42;
        request.set_ext("topic", "TopicTest");
        let request = request.with_body(Bytes::from_static(b"hello"));

        let mut buf = BytesMut::new();
        codec.encode(&request, &mut buf).expect("encode");
        let full = buf.clone();

        // Every strict prefix is "need more", never an error.
        for cut in 0..full.len() {
            let mut partial = BytesMut::from(&full[..cut]);
            let decoded = codec.decode(&mut partial).expect("prefix must not error");
            assert!(decoded.is_none(), "prefix of {cut} bytes decoded a frame");
        }

        let decoded = codec
            .decode(&mut buf)
            .expect("decode")
            .expect("complete frame");
        assert_eq!(decoded.code, 105);
        assert_eq!(decoded.opaque, 42);
        assert_eq!(decoded.ext("topic"), Some("TopicTest"));
        assert_eq!(&decoded.body[..], b"hello");
        assert!(buf.is_empty());
    }

    #[test]
    fn oversized_length_prefix_is_an_error() {
        let mut codec = RemotingCodec::with_max_frame_length(1024);
        let mut buf = BytesMut::from(&[0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00][..]);
        let result = codec.decode(&mut buf);
        assert!(result.is_err(), "frame of 1 MiB must exceed a 1 KiB limit");
    }

    #[test]
    fn owned_encoder_matches_borrowed_encoder() {
        let mut codec = RemotingCodec::default();
        let request = RemotingCommand::request(10);
        let mut by_ref = BytesMut::new();
        let mut by_value = BytesMut::new();
        codec.encode(&request, &mut by_ref).expect("encode");
        codec
            .encode(request.clone(), &mut by_value)
            .expect("encode");
        assert_eq!(by_ref, by_value);
    }
}
