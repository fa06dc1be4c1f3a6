//! Feeds arbitrary bytes to the stored-message record parser, as the CommitLog
//! recovery scan and a client reading a pull body would. It must never panic;
//! a parsed message must convert to the owned form and check its CRC.
#![no_main]

use ferric_common::record::{Parsed, RecordIter, parse_record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Parsed::Message(view)) = parse_record(data) {
        let _ = view.verify_body_crc();
        let owned = view.to_message_ext();
        assert_eq!(owned.topic.len(), view.topic.len());
        let _ = view.decompressed_body(1 << 20);
        let _ = view.keys();
        let _ = view.tags_code();
    }
    for item in RecordIter::new(data) {
        if item.is_err() {
            break;
        }
    }
});
