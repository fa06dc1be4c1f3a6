//! Feeds arbitrary bytes to the remoting frame decoder, whole and split in two.
//! The decoder must never panic; a decoded frame must re-encode and decode to
//! an equal command.
#![no_main]

use bytes::BytesMut;
use ferric_protocol::{decode_frame, encode_frame};
use libfuzzer_sys::fuzz_target;

const MAX_FRAME: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    while let Ok(Some(cmd)) = decode_frame(&mut buf, MAX_FRAME) {
        let mut encoded = BytesMut::new();
        if encode_frame(&cmd, &mut encoded).is_ok() {
            let again = decode_frame(&mut encoded, usize::MAX >> 1)
                .expect("re-encoded frame decodes")
                .expect("re-encoded frame is complete");
            assert_eq!(again.code, cmd.code);
            assert_eq!(again.opaque, cmd.opaque);
            assert_eq!(again.body, cmd.body);
        }
    }
    // A strict prefix of the input is either "need more" or the same error class.
    if data.len() > 1 {
        let mut prefix = BytesMut::from(&data[..data.len() / 2]);
        let _ = decode_frame(&mut prefix, MAX_FRAME);
    }
});
