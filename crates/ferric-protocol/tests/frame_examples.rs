//! Hand-checked frames from the protocol reference (§1.3) and edge cases of the frame codec.

use bytes::{BufMut, BytesMut};
use ferric_protocol::{
    DEFAULT_MAX_FRAME_LENGTH, FrameError, LanguageCode, RemotingCommand, SerializeType,
    decode_frame, encode_frame,
};

fn route_request(serialize_type: SerializeType) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(105)
        .with_opaque(1)
        .with_serialize_type(serialize_type);
    cmd.version = 479;
    cmd.set_ext("topic", "TopicTest");
    cmd
}

fn encode(cmd: &RemotingCommand) -> BytesMut {
    let mut out = BytesMut::new();
    let result = encode_frame(cmd, &mut out);
    assert!(result.is_ok(), "encode failed: {result:?}");
    out
}

#[test]
fn binary_worked_example_byte_for_byte() {
    let expected = hex::decode(concat!(
        "0000002d",
        "01000029",
        "0069",
        "00",
        "01df",
        "00000001",
        "00000000",
        "00000000",
        "00000014",
        "0005746f706963",
        "00000009546f70696354657374"
    ))
    .unwrap_or_default();
    let cmd = route_request(SerializeType::RocketMq);
    assert_eq!(encode(&cmd).to_vec(), expected);
    let mut src = BytesMut::from(&expected[..]);
    let decoded = decode_frame(&mut src, DEFAULT_MAX_FRAME_LENGTH)
        .ok()
        .flatten();
    assert_eq!(decoded, Some(cmd));
    assert!(src.is_empty());
}

#[test]
fn json_worked_example_prefix_and_text() {
    let cmd = route_request(SerializeType::Json);
    let frame = encode(&cmd);
    assert_eq!(&frame[..8], &[0, 0, 0, 0x87, 0, 0, 0, 0x83]);
    assert_eq!(
        std::str::from_utf8(&frame[8..]).unwrap_or_default(),
        r#"{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":479}"#
    );
    let mut src = frame.clone();
    assert_eq!(
        decode_frame(&mut src, DEFAULT_MAX_FRAME_LENGTH)
            .ok()
            .flatten(),
        Some(cmd)
    );
}

#[test]
fn json_response_without_ext_fields_matches_java_shape() {
    let mut cmd = RemotingCommand::response(0, None);
    cmd.version = 403;
    let frame = encode(&cmd);
    assert_eq!(
        std::str::from_utf8(&frame[8..]).unwrap_or_default(),
        r#"{"code":0,"flag":1,"language":"JAVA","opaque":0,"serializeTypeCurrentRPC":"JSON","version":403}"#
    );
}

#[test]
fn json_decoding_tolerates_go_client_shape() {
    let header = br#"{"code":105,"language":"GO","version":317,"opaque":9,"flag":0,"remark":"","extFields":{"topic":"T","n":5,"b":true,"z":null},"extra":[1,2]}"#;
    let mut src = BytesMut::new();
    src.put_i32(4 + header.len() as i32 + 4);
    src.put_i32(header.len() as i32);
    src.put_slice(header);
    src.put_slice(b"body");
    let cmd = decode_frame(&mut src, DEFAULT_MAX_FRAME_LENGTH)
        .ok()
        .flatten();
    assert!(cmd.is_some());
    let Some(cmd) = cmd else { return };
    assert_eq!(cmd.code, 105);
    assert_eq!(cmd.language, LanguageCode::Go);
    assert_eq!(cmd.version, 317);
    assert_eq!(cmd.opaque, 9);
    assert_eq!(cmd.remark.as_deref(), Some(""));
    assert_eq!(cmd.ext("topic"), Some("T"));
    assert_eq!(cmd.ext("n"), Some("5"));
    assert_eq!(cmd.ext("b"), Some("true"));
    assert_eq!(cmd.ext("z"), None);
    assert_eq!(&cmd.body[..], b"body");
}

#[test]
fn json_decoding_accepts_minimal_and_null_fields() {
    for header in [
        &br#"{}"#[..],
        br#"{"remark":null,"extFields":null,"code":3}"#,
        br#"{"extFields":{}}"#,
    ] {
        let mut src = BytesMut::new();
        src.put_i32(4 + header.len() as i32);
        src.put_i32(header.len() as i32);
        src.put_slice(header);
        let cmd = decode_frame(&mut src, DEFAULT_MAX_FRAME_LENGTH);
        assert!(
            matches!(cmd, Ok(Some(_))),
            "{:?}",
            std::str::from_utf8(header)
        );
    }
}

#[test]
fn every_strict_prefix_needs_more() {
    for serialize_type in [SerializeType::Json, SerializeType::RocketMq] {
        let frame = encode(&route_request(serialize_type).with_body(&b"0123456789"[..]));
        for cut in 0..frame.len() {
            let mut src = BytesMut::from(&frame[..cut]);
            let result = decode_frame(&mut src, DEFAULT_MAX_FRAME_LENGTH);
            assert!(matches!(result, Ok(None)), "cut {cut}: {result:?}");
            assert_eq!(src.len(), cut);
        }
    }
}

#[test]
fn two_frames_back_to_back() {
    let first = route_request(SerializeType::Json);
    let second = route_request(SerializeType::RocketMq).with_body(&b"x"[..]);
    let mut src = encode(&first);
    src.extend_from_slice(&encode(&second));
    assert_eq!(
        decode_frame(&mut src, DEFAULT_MAX_FRAME_LENGTH)
            .ok()
            .flatten(),
        Some(first)
    );
    assert_eq!(
        decode_frame(&mut src, DEFAULT_MAX_FRAME_LENGTH)
            .ok()
            .flatten(),
        Some(second)
    );
    assert!(src.is_empty());
}

#[test]
fn bad_lengths_are_errors() {
    let mut src = BytesMut::from(&[0u8, 0, 0, 3, 0, 0, 0][..]);
    assert!(matches!(
        decode_frame(&mut src, 1024),
        Err(FrameError::BadLength(3))
    ));
    let mut src = BytesMut::from(&[0xffu8, 0xff, 0xff, 0xff][..]);
    assert!(matches!(
        decode_frame(&mut src, 1024),
        Err(FrameError::BadLength(-1))
    ));
    let mut src = BytesMut::from(&[0u8, 0, 4, 0][..]);
    let result = decode_frame(&mut src, 1024);
    assert!(
        matches!(
            result,
            Err(FrameError::TooLong {
                length: 1028,
                max: 1024
            })
        ),
        "{result:?}"
    );
    let mut src = BytesMut::from(&[0u8, 0, 0, 5, 0, 0, 0, 2, b'{'][..]);
    let result = decode_frame(&mut src, 1024);
    assert!(matches!(
        result,
        Err(FrameError::BadHeaderLength {
            header_length: 2,
            available: 1
        })
    ));
    let mut src = BytesMut::from(&[0u8, 0, 0, 4, 7, 0, 0, 0][..]);
    assert!(matches!(
        decode_frame(&mut src, 1024),
        Err(FrameError::BadSerializeType(7))
    ));
    let mut src = BytesMut::from(&[0u8, 0, 0, 5, 0, 0, 0, 1, b'['][..]);
    assert!(matches!(
        decode_frame(&mut src, 1024),
        Err(FrameError::BadJsonHeader(_))
    ));
    assert_eq!(src.len(), 9, "errors consume nothing");
}

#[test]
fn binary_lengths_are_bounded_by_the_header() {
    let frame = encode(&route_request(SerializeType::RocketMq));
    // Remark length (offset 8 + 13) claims more than the header holds.
    let mut bad = frame.clone();
    bad[21..25].copy_from_slice(&1000i32.to_be_bytes());
    assert!(matches!(
        decode_frame(&mut bad, 1 << 20),
        Err(FrameError::BadBinaryHeader { .. })
    ));
    let mut bad = frame.clone();
    bad[21..25].copy_from_slice(&(-1i32).to_be_bytes());
    assert!(matches!(
        decode_frame(&mut bad, 1 << 20),
        Err(FrameError::BadBinaryHeader { .. })
    ));
    // Map length larger than what is left.
    let mut bad = frame.clone();
    bad[25..29].copy_from_slice(&21i32.to_be_bytes());
    assert!(matches!(
        decode_frame(&mut bad, 1 << 20),
        Err(FrameError::BadBinaryHeader { .. })
    ));
    // Key length past the map block.
    let mut bad = frame.clone();
    bad[29..31].copy_from_slice(&100i16.to_be_bytes());
    assert!(matches!(
        decode_frame(&mut bad, 1 << 20),
        Err(FrameError::BadBinaryHeader { .. })
    ));
    // Header shorter than the fixed part.
    let mut short = BytesMut::from(&[0u8, 0, 0, 6, 1, 0, 0, 2, 0, 1][..]);
    assert!(matches!(
        decode_frame(&mut short, 1 << 20),
        Err(FrameError::BadBinaryHeader { .. })
    ));
}

#[test]
fn unrepresentable_binary_values_are_encode_errors() {
    let mut out = BytesMut::from(&b"keep"[..]);
    let pop = RemotingCommand::request(200_050).with_serialize_type(SerializeType::RocketMq);
    assert!(matches!(
        encode_frame(&pop, &mut out),
        Err(FrameError::CodeNotRepresentable(200_050))
    ));
    let mut old = RemotingCommand::request(10).with_serialize_type(SerializeType::RocketMq);
    old.version = 40_000;
    assert!(matches!(
        encode_frame(&old, &mut out),
        Err(FrameError::VersionNotRepresentable(_))
    ));
    let mut long_key = RemotingCommand::request(10).with_serialize_type(SerializeType::RocketMq);
    long_key.set_ext("k".repeat(40_000), "v");
    assert!(matches!(
        encode_frame(&long_key, &mut out),
        Err(FrameError::FieldTooLong { .. })
    ));
    assert_eq!(&out[..], b"keep");
    // The same commands encode fine as JSON.
    assert!(encode_frame(&pop.with_serialize_type(SerializeType::Json), &mut out).is_ok());
}
