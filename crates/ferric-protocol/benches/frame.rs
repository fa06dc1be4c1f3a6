//! Encode + decode throughput of a SEND_MESSAGE_V2-shaped request, and the JSON header alone:
//! decoding a SEND_MESSAGE_V2 request frame, encoding a send response frame; and the header work of
//! the broker's send path end to end (request frame to typed header, response header to frame).

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferric_protocol::header::{
    MSG_REGION_KEY, SendMessageRequestHeader, SendMessageRequestHeaderV2,
    SendMessageResponseHeader, TRACE_ON_KEY,
};
use ferric_protocol::{
    DEFAULT_MAX_FRAME_LENGTH, RemotingCommand, RequestCode, SerializeType, decode_frame,
    encode_frame,
};

fn send_v2(serialize_type: SerializeType, body_len: usize) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(RequestCode::SEND_MESSAGE_V2.0)
        .with_opaque(42)
        .with_serialize_type(serialize_type)
        .with_body(Bytes::from(vec![b'x'; body_len]));
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
            "UNIQ_KEY\u{1}C0000202000018B4AAC2135F8E7D0000\u{2}WAIT\u{1}true\u{2}TAGS\u{1}TagA\u{2}",
        ),
        ("j", "0"),
        ("k", "false"),
        ("m", "false"),
    ] {
        cmd.set_ext(key, value);
    }
    cmd
}

fn bench_frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("send_v2_encode_decode");
    for (label, serialize_type) in [
        ("json", SerializeType::Json),
        ("binary", SerializeType::RocketMq),
    ] {
        for body_len in [128usize, 1024] {
            let cmd = send_v2(serialize_type, body_len);
            let mut probe = BytesMut::new();
            if encode_frame(&cmd, &mut probe).is_err() {
                continue;
            }
            group.throughput(Throughput::Bytes(probe.len() as u64));
            group.bench_function(format!("{label}/{body_len}B"), |b| {
                let mut buffer = BytesMut::with_capacity(4096);
                b.iter(|| {
                    let _ = encode_frame(black_box(&cmd), &mut buffer);
                    let decoded = decode_frame(&mut buffer, DEFAULT_MAX_FRAME_LENGTH);
                    black_box(decoded.ok().flatten())
                });
            });
        }
    }
    group.finish();
}

fn send_response() -> RemotingCommand {
    let mut cmd = RemotingCommand::response(0, None).with_opaque(42);
    for (key, value) in [
        ("msgId", "7F00000100002A9F0000000000001F40"),
        ("queueId", "3"),
        ("queueOffset", "123456"),
        ("transactionId", "C0000202000018B4AAC2135F8E7D0000"),
        ("MSG_REGION", "DefaultRegion"),
        ("TRACE_ON", "true"),
    ] {
        cmd.set_ext(key, value);
    }
    cmd
}

fn bench_json_header(c: &mut Criterion) {
    let mut group = c.benchmark_group("json_header");
    let request = send_v2(SerializeType::Json, 128);
    let mut frame = BytesMut::new();
    if encode_frame(&request, &mut frame).is_ok() {
        group.bench_function("decode_send_v2_128B", |b| {
            let mut buffer = BytesMut::with_capacity(4096);
            b.iter(|| {
                buffer.extend_from_slice(black_box(&frame));
                let decoded = decode_frame(&mut buffer, DEFAULT_MAX_FRAME_LENGTH);
                black_box(decoded.ok().flatten())
            });
        });
    }
    let response = send_response();
    group.bench_function("encode_send_response", |b| {
        let mut buffer = BytesMut::with_capacity(4096);
        b.iter(|| {
            buffer.clear();
            let _ = encode_frame(black_box(&response), &mut buffer);
            black_box(buffer.len())
        });
    });
    group.finish();
}

/// What the broker does with the header of one SEND_MESSAGE_V2 request: decode the frame, read
/// the typed header in its long form, build the response's header and encode the response.
fn bench_send_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("send_path_headers");
    let request = send_v2(SerializeType::Json, 128);
    let mut frame = BytesMut::new();
    if encode_frame(&request, &mut frame).is_err() {
        return;
    }
    group.bench_function("json_128B", |b| {
        let mut input = BytesMut::with_capacity(4096);
        let mut output = BytesMut::with_capacity(4096);
        b.iter(|| {
            input.extend_from_slice(black_box(&frame));
            let Ok(Some(request)) = decode_frame(&mut input, DEFAULT_MAX_FRAME_LENGTH) else {
                return 0;
            };
            let Ok(header) = request.decode_header::<SendMessageRequestHeaderV2>() else {
                return 0;
            };
            let header: SendMessageRequestHeader = header.into();
            black_box(&header);
            let response_header = SendMessageResponseHeader {
                msg_id: "7F00000100002A9F0000000000001F40".to_owned(),
                queue_id: 3,
                queue_offset: 123_456,
                ..SendMessageResponseHeader::default()
            };
            let mut response = request.response_to(0, None).with_header(&response_header);
            response.set_ext(MSG_REGION_KEY, "DefaultRegion");
            response.set_ext(TRACE_ON_KEY, "true");
            output.clear();
            let _ = encode_frame(&response, &mut output);
            output.len()
        });
    });
    group.finish();
}

criterion_group!(benches, bench_frames, bench_json_header, bench_send_path);
criterion_main!(benches);
