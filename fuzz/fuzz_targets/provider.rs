//! The provider-message reader on arbitrary text: the spanned JSON reader accepts whatever
//! serde_json accepts, its spans point at the right bytes, and reading a conversation never
//! panics.
#![no_main]

use headroom_daemon::request::{provider, spans};
use headroom_protocol::CompressOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
        return;
    }
    let root = spans::parse(text).expect("the spanned reader accepts what serde_json accepts");
    assert_eq!(spans::splice(text, Vec::new()), text);
    for options in [CompressOptions::default(), CompressOptions { protect_recent: 1, frozen: 1, compress_user_messages: true, ..Default::default() }] {
        if let Ok(conversation) = provider::read(&root, &options) {
            for candidate in conversation.candidates {
                let literal = &text[candidate.span.clone()];
                assert_eq!(serde_json::from_str::<String>(literal).ok().as_deref(), Some(candidate.text));
            }
        }
    }
});
