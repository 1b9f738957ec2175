//! Every compressor on arbitrary text: never panics, and any output that omits something
//! carries the block's key.
#![no_main]

use headroom_daemon::compressors::{
    code::Code, diff::Diff, html::Html, json::Json, listing::Listing, logs::Logs, numbered::Numbered, search::Search,
    test_runs::TestRuns, text::Text, transcript::Transcript,
};
use headroom_daemon::engine::router;
use headroom_daemon::{Compressor, Context};
use libfuzzer_sys::fuzz_target;

const KEY: &str = "0123456789abcdef01234567";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let compressors: [&dyn Compressor; 11] = [&Json, &Logs, &Diff, &Search, &Text, &Code, &Listing, &Numbered, &Html, &TestRuns, &Transcript];
    for (path, command) in [(None, None), (Some("x.py"), None), (Some("x.rs"), None), (Some("x.tsx"), None), (Some("x.md"), None), (None, Some("grep -n error x.log"))] {
        let ctx = Context { query: "error in block 13", file_path: path, command, key: KEY, ..Context::default() };
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
