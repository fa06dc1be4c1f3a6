//! Differential test of the JSON header decoder: the hand-written scanner the frame decoder uses
//! and the serde_json reading it replaced must agree on every input, the same command or both an
//! error.
#![no_main]

use ferric_protocol::header_json_reference::{decode_with_scanner, decode_with_serde};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scanned = decode_with_scanner(data);
    let reference = decode_with_serde(data);
    match (&scanned, &reference) {
        (Ok(left), Ok(right)) => assert_eq!(left, right),
        (Err(_), Err(_)) => {}
        _ => panic!("decoders disagree: scanner {scanned:?}, serde_json {reference:?}"),
    }
});
