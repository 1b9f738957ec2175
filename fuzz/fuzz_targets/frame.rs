//! The frame decoder on arbitrary bytes arriving in arbitrary pieces: never panics, and every
//! complete body that decodes as a request survives re-encoding (bincode accepts longer-than-
//! needed varints, so the bytes may differ from the input; their canonical form may not).
#![no_main]

use bytes::BytesMut;
use headroom_protocol::{decode_request, encode_request, Frame, FrameCodec};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else { return };
    let mut codec = FrameCodec::new(4096);
    let mut buf = BytesMut::new();
    for piece in bytes.chunks(usize::from(split).max(1)) {
        buf.extend_from_slice(piece);
        while let Ok(Some(frame)) = codec.decode(&mut buf) {
            if let Frame::Body(body) = frame {
                if let Ok(request) = decode_request(&body) {
                    let canonical = encode_request(&request);
                    assert_eq!(encode_request(&decode_request(&canonical).unwrap()), canonical);
                }
            }
        }
    }
    let _ = codec.decode_eof(&mut buf);
});
