//! The request decoder on arbitrary bodies: never panics, never allocates what a lying length
//! claims, and whatever decodes re-encodes to the same bytes.
#![no_main]

use headroom_protocol::{decode_reply, decode_request, encode_reply, encode_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = decode_request(data) {
        assert_eq!(encode_request(&request), data);
    }
    if let Ok(reply) = decode_reply(data) {
        assert_eq!(encode_reply(&reply), data);
    }
});
