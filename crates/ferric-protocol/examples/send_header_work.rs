//! The header work of the broker's send path, N times, for counting instructions with callgrind
//! (`bench/callgrind.sh` does the same for the whole broker):
//!
//! ```text
//! cargo build --release -p ferric-protocol --example send_header_work
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/send_header_work decode 11000
//! ```
//!
//! Run it with two counts (say 1 000 and 11 000) and divide the difference of the totals by
//! 10 000 to get instructions per request without start-up. `decode`: a SEND_MESSAGE_V2 frame
//! (128 B body, the properties a Java producer sends) to its typed header; `encode`: a send
//! response to its frame; `both`.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use ferric_protocol::header::SendMessageRequestHeaderV2;
use ferric_protocol::{
    DEFAULT_MAX_FRAME_LENGTH, RemotingCommand, RequestCode, decode_frame, encode_frame,
};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "both".to_owned());
    let count: usize = std::env::args()
        .nth(2)
        .and_then(|text| text.parse().ok())
        .unwrap_or(10_000);
    let mut request = RemotingCommand::request(RequestCode::SEND_MESSAGE_V2.0)
        .with_opaque(42)
        .with_body(Bytes::from(vec![b'x'; 128]));
    for (key, value) in [
        ("a", "PID_bench"),
        ("b", "BenchmarkTest"),
        ("c", "TBW102"),
        ("d", "4"),
        ("e", "2"),
        ("f", "0"),
        ("g", "1795307700000"),
        ("h", "0"),
        (
            "i",
            "UNIQ_KEY\u{1}C0000202000018B4AAC2135F8E7D0000\u{2}WAIT\u{1}true\u{2}",
        ),
        ("j", "0"),
        ("k", "false"),
        ("m", "false"),
    ] {
        request.set_ext(key, value);
    }
    let mut frame = BytesMut::new();
    if let Err(error) = encode_frame(&request, &mut frame) {
        eprintln!("cannot encode the request: {error}");
        return;
    }
    let mut response = RemotingCommand::response(0, None).with_opaque(42);
    for (key, value) in [
        ("msgId", "7F00000100002A9F0000000000001F40"),
        ("queueId", "3"),
        ("queueOffset", "123456"),
        ("transactionId", "C0000202000018B4AAC2135F8E7D0000"),
        ("MSG_REGION", "DefaultRegion"),
        ("TRACE_ON", "true"),
    ] {
        response.set_ext(key, value);
    }
    let (decode, encode) = match mode.as_str() {
        "decode" => (true, false),
        "encode" => (false, true),
        _ => (true, true),
    };
    let mut input = BytesMut::with_capacity(4096);
    let mut output = BytesMut::with_capacity(4096);
    let mut total = 0usize;
    for _ in 0..count {
        if decode {
            input.extend_from_slice(&frame);
            if let Ok(Some(request)) = decode_frame(&mut input, DEFAULT_MAX_FRAME_LENGTH)
                && let Ok(header) = request.decode_header::<SendMessageRequestHeaderV2>()
            {
                total += header.b.len();
            }
        }
        if encode {
            output.clear();
            if encode_frame(black_box(&response), &mut output).is_ok() {
                total += output.len();
            }
        }
    }
    println!("{total}");
}
