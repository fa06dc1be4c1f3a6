//! Reading the Java 4.9.8 recordings under `shared/fixtures/java-4.9.8`: capture files are
//! JSON lines whose `hex` field holds one whole remoting frame.

use std::collections::BTreeSet;
use std::path::PathBuf;

use bytes::BytesMut;
use ferric_protocol::{RemotingCommand, decode_frame};
use serde_json::Value;

/// `name` under the Java 4.9.8 fixtures (`captures/…`, `store-clean`, …).
pub fn java_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/java-4.9.8")
        .join(name)
}

/// Every line of a capture file, in recorded order.
pub fn read_capture(name: &str) -> anyhow::Result<Vec<Value>> {
    let text = std::fs::read_to_string(java_fixture(name))?;
    Ok(text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?)
}

/// Decodes the hex text of one recorded frame.
pub fn decode_hex(hex_text: &str) -> RemotingCommand {
    let mut bytes = BytesMut::from(hex::decode(hex_text).expect("hex").as_slice());
    decode_frame(&mut bytes, 16 * 1024 * 1024)
        .expect("frame decodes")
        .expect("complete frame")
}

/// The header field names of a command.
pub fn header_names(command: &RemotingCommand) -> BTreeSet<String> {
    command
        .ext_fields
        .as_ref()
        .map(|ext| ext.keys().map(str::to_owned).collect())
        .unwrap_or_default()
}
