//! Property tests of the frame codec in both header encodings.

use bytes::{Bytes, BytesMut};
use ferric_protocol::{
    ExtFields, LanguageCode, RemotingCommand, SerializeType, decode_frame, encode_frame,
};
use proptest::prelude::*;

fn command(serialize_type: SerializeType) -> impl Strategy<Value = RemotingCommand> {
    (
        (any::<i16>(), 0u8..14, any::<i16>(), any::<i32>(), 0i32..4),
        proptest::option::of("\\PC{1,40}"),
        proptest::option::of(proptest::collection::hash_map(
            "[a-zA-Z_%\\x01]{1,12}",
            "\\PC{0,30}",
            0..20,
        )),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(
            move |((code, language, version, opaque, flag), remark, ext, body)| RemotingCommand {
                code: i32::from(code),
                language: LanguageCode::from_u8(language).unwrap_or_default(),
                version: i32::from(version),
                opaque,
                flag,
                remark,
                ext_fields: ext.map(|map| map.into_iter().collect::<ExtFields>()),
                body: Bytes::from(body),
                serialize_type,
            },
        )
}

fn normalise_binary(mut cmd: RemotingCommand) -> RemotingCommand {
    // The binary header cannot tell an empty map from no map.
    if cmd.ext_fields.as_ref().is_some_and(ExtFields::is_empty) {
        cmd.ext_fields = None;
    }
    cmd
}

fn round_trip(cmd: &RemotingCommand) -> Result<(RemotingCommand, BytesMut), TestCaseError> {
    let mut out = BytesMut::new();
    prop_assert!(encode_frame(cmd, &mut out).is_ok());
    let mut src = out.clone();
    let decoded = decode_frame(&mut src, 1 << 20);
    prop_assert!(src.is_empty());
    match decoded {
        Ok(Some(decoded)) => Ok((decoded, out)),
        other => Err(TestCaseError::fail(format!("{other:?}"))),
    }
}

proptest! {
    #[test]
    fn json_frames_round_trip(cmd in command(SerializeType::Json)) {
        let (decoded, _) = round_trip(&cmd)?;
        prop_assert_eq!(decoded, cmd);
    }

    #[test]
    fn binary_frames_round_trip_to_the_same_bytes(cmd in command(SerializeType::RocketMq)) {
        let (decoded, bytes) = round_trip(&cmd)?;
        prop_assert_eq!(&decoded, &normalise_binary(cmd));
        let (_, again) = round_trip(&decoded)?;
        prop_assert_eq!(again, bytes);
    }

    #[test]
    fn strict_prefixes_need_more(cmd in command(SerializeType::RocketMq), json in any::<bool>()) {
        let cmd = if json { cmd.with_serialize_type(SerializeType::Json) } else { cmd };
        let mut out = BytesMut::new();
        prop_assert!(encode_frame(&cmd, &mut out).is_ok());
        for cut in 0..out.len() {
            let mut src = BytesMut::from(&out[..cut]);
            prop_assert!(matches!(decode_frame(&mut src, 1 << 20), Ok(None)));
            prop_assert_eq!(src.len(), cut);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut src = BytesMut::from(&bytes[..]);
        let _ = decode_frame(&mut src, 1 << 16);
    }

    #[test]
    fn random_headers_never_panic(
        binary in any::<bool>(),
        header in proptest::collection::vec(any::<u8>(), 0..120),
        body in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut src = BytesMut::new();
        src.extend_from_slice(&((4 + header.len() + body.len()) as i32).to_be_bytes());
        src.extend_from_slice(&((u32::from(binary) << 24) | header.len() as u32).to_be_bytes());
        src.extend_from_slice(&header);
        src.extend_from_slice(&body);
        if let Ok(Some(cmd)) = decode_frame(&mut src, 1 << 16) {
            prop_assert_eq!(&cmd.body[..], &body[..]);
        }
    }
}
