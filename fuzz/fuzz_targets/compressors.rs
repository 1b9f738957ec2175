//! Every compressor on arbitrary text: never panics, and any output that omits something
//! carries the block's key.
#![no_main]

use headroom_daemon::compressors::{
    code::Code, diff::Diff, html::Html, json::Json, listing::Listing, logs::Logs, numbered::Numbered, search::Search,
    test_runs::TestRuns, text::Text,
};
use headroom_daemon::engine::router;
use headroom_daemon::{Compressor, Context};
use libfuzzer_sys::fuzz_target;

const KEY: &str = "0123456789abcdef01234567";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let compressors: [&dyn Compressor; 10] = [&Json, &Logs, &Diff, &Search, &Text, &Code, &Listing, &Numbered, &Html, &TestRuns];
    for path in [None, Some("x.py"), Some("x.rs"), Some("x.tsx")] {
        let ctx = Context { query: "error in block 13", file_path: path, key: KEY, ..Context::default() };
        let routed = router::route(text, &ctx);
        for compressor in compressors.iter().copied().chain(routed) {
            if let Some(out) = compressor.compress(text, &ctx) {
                if out.contains("[headroom:") && !text.contains("[headroom:") {
                    assert!(out.contains(KEY), "{} omitted without its key", compressor.name());
                }
            }
        }
    }
});
