//! Feeds arbitrary bytes to the SEND_BATCH_MESSAGE body decoder. It must never
//! panic, whatever the lengths inside claim.
#![no_main]

use ferric_common::batch::decode_batch_with_limit;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode_batch_with_limit(data, "FuzzTopic", 1 << 20);
});
