//! Peak heap of the compressors on large outputs (a compressor's memory within a
//! small multiple of its input). A counting allocator records the most bytes live at once while
//! one compressor runs on one input; the report is that peak as a multiple of the input's size.
//! It is a measurement, not a pass/fail check: `cargo bench --bench peak_memory`.

use headroom_daemon::compressors::{json::Json, logs::Logs};
use headroom_daemon::{Compressor, Context};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The system allocator, counting live bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(live, Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A JSON array of about `bytes` bytes: the GitHub issues fixture's objects, renumbered.
fn json_array(bytes: usize) -> String {
    let items: Vec<serde_json::Value> = serde_json::from_str(&fixture("github/paginate-issues.json")).unwrap();
    let mut out = Vec::new();
    let mut size = 0;
    while size < bytes {
        let mut item = items[out.len() % items.len()].clone();
        item["number"] = serde_json::json!(out.len());
        size += item.to_string().len();
        out.push(item);
    }
    serde_json::to_string_pretty(&out).unwrap()
}

/// Logs of about `bytes` bytes: the HDFS fixture repeated.
fn logs(bytes: usize) -> String {
    let one = fixture("logs/HDFS_2k.log");
    one.repeat(bytes / one.len() + 1)
}

/// The peak heap above what was live before, while `compressor` runs on `input`.
fn peak(compressor: &dyn Compressor, input: &str) -> usize {
    let ctx = Context { query: "which ones failed?", key: "0123456789abcdef01234567", ..Context::default() };
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let out = compressor.compress(input, &ctx);
    let peak = PEAK.load(Relaxed) - before;
    drop(out);
    peak
}

fn main() {
    const MB: usize = 1_000_000;
    for (name, compressor, input) in [
        ("json, 20 MB array of API objects", &Json as &dyn Compressor, json_array(20 * MB)),
        ("logs, 20 MB of HDFS lines", &Logs, logs(20 * MB)),
    ] {
        let peak = peak(compressor, &input);
        println!("{name}: peak heap {:.0} MB, {:.1}× the input", peak as f64 / 1e6, peak as f64 / input.len() as f64);
    }
}
