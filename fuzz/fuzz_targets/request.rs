//! The request decoder on arbitrary bodies: never panics, never allocates what a lying length
//! claims, and whatever decodes survives re-encoding.
#![no_main]

use headroom_protocol::{decode_reply, decode_request, encode_reply, encode_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Compared as canonical bytes: a decoded NaN ratio is not equal to itself.
    if let Ok(request) = decode_request(data) {
        let canonical = encode_request(&request);
        assert_eq!(encode_request(&decode_request(&canonical).unwrap()), canonical);
    }
    if let Ok(reply) = decode_reply(data) {
        let canonical = encode_reply(&reply);
        assert_eq!(encode_reply(&decode_reply(&canonical).unwrap()), canonical);
    }
});
