//! The JSON header decoders side by side in one process: the scanner the frame decoder uses and
//! the serde_json reading it replaced (`serde-reference` feature), on a SEND_MESSAGE_V2 request
//! header and a send response header.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ferric_protocol::header_json_reference::{decode_with_scanner, decode_with_serde};

const SEND_V2: &[u8] = br#"{"code":310,"extFields":{"a":"producerGroup","b":"TopicName","c":"TBW102","d":"4","e":"3","f":"0","g":"1700000000000","h":"0","i":"KEYS\u0001k1\u0002UNIQ_KEY\u0001AC110002000018B4AAC2135F8E7D0000\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002","j":"0","k":"false","l":"0","m":"false","n":"broker-a"},"flag":0,"language":"JAVA","opaque":123,"serializeTypeCurrentRPC":"JSON","version":409}"#;

const SEND_RESPONSE: &[u8] = br#"{"code":0,"extFields":{"queueId":"3","TRACE_ON":"true","MSG_REGION":"DefaultRegion","msgId":"7F00000100002A9F0000000000001F40","transactionId":"AC110002000018B4AAC2135F8E7D0000","queueOffset":"123456"},"flag":1,"language":"JAVA","opaque":123,"serializeTypeCurrentRPC":"JSON","version":409}"#;

fn bench_decoders(c: &mut Criterion) {
    let mut group = c.benchmark_group("json_header_decoders");
    for (label, header) in [("send_v2", SEND_V2), ("send_response", SEND_RESPONSE)] {
        group.bench_function(format!("{label}/scanner"), |b| {
            b.iter(|| black_box(decode_with_scanner(black_box(header)).ok()))
        });
        group.bench_function(format!("{label}/serde_json"), |b| {
            b.iter(|| black_box(decode_with_serde(black_box(header)).ok()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_decoders);
criterion_main!(benches);
