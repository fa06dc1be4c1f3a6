//! Feeds arbitrary text to the Java `.properties` parser that reads `broker.conf` and
//! `namesrv.properties` from disk. It must never panic, whatever escapes and continuations
//! the text holds.
#![no_main]

use ferric_common::config_file::parse_properties;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_properties(text);
    }
});
