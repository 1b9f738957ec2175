//! `headroom learn` over 100 MB of Claude Code transcripts (the real fixture session repeated
//! in 131 files): reading, pairing calls with results and finding failures, fixes and loops.
//! The target is seconds, not minutes.

use criterion::{criterion_group, criterion_main, Criterion};
use headroom_daemon::learn::{self, sessions::Agent};
use std::path::Path;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/agent-logs/claude-code/session-196820da.jsonl");
    let session = std::fs::read_to_string(fixture).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copies = (100 << 20) / session.len() + 1;
    for i in 0..copies {
        std::fs::write(dir.path().join(format!("{i:04}.jsonl")), &session).unwrap();
    }
    let paths = [dir.path().to_path_buf()];
    let learned = learn::learn(Agent::Claude, &paths, false).unwrap();
    eprintln!("learn: {} sessions, {} MB, {} findings", learned.sessions.len(), (copies * session.len()) >> 20, learned.findings.len());
    let mut group = c.benchmark_group("learn");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    group.bench_function("claude_code_100_mb", |b| b.iter(|| learn::learn(Agent::Claude, &paths, false).unwrap()));
    group.finish();
}

criterion_group!(learn_benches, benches);
criterion_main!(learn_benches);
