//! Memory search over 100,000 facts (target: p50 ≤ 5 ms without embeddings), and the first
//! request's cost of building the index from LMDB.
//!
//! The facts are sentences over a Zipf-distributed vocabulary, so some terms are on thousands of
//! facts (the slow case for an inverted index) and most are rare. All of them are visible to the
//! searching scope, the worst case for scope filtering.

use criterion::{criterion_group, criterion_main, Criterion};
use headroom_daemon::memory::facts::Record;
use headroom_daemon::app::App;
use headroom_daemon::config::Settings;
use headroom_daemon::{Engine, Stores};
use headroom_protocol::{MemoryScope, MemorySearchRequest};
use std::time::Duration;

const FACTS: u64 = 100_000;

/// A deterministic generator (xorshift), so every run searches the same facts.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A word index with Zipf-like frequencies over `n` words.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }
}

fn vocabulary() -> Vec<String> {
    let syllables = ["ka", "lo", "mi", "ren", "tas", "vo", "zu", "pel", "dra", "quin", "sor", "bex", "ny", "gar", "hol", "fi"];
    let mut words = Vec::new();
    for a in syllables {
        for b in syllables {
            for c in ["", "n", "ter", "ost"] {
                words.push(format!("{a}{b}{c}"));
            }
        }
    }
    words
}

fn sentence(rng: &mut Rng, words: &[String]) -> String {
    let len = 6 + (rng.next() % 10) as usize;
    let mut s: Vec<&str> = (0..len).map(|_| words[rng.zipf(words.len())].as_str()).collect();
    s.insert(2, "is");
    s.join(" ") + "."
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let words = vocabulary();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    {
        let stores = Stores::open(dir.path(), 1 << 30).unwrap();
        let rows: Vec<(u64, Vec<u8>)> = (1..=FACTS)
            .map(|id| {
                let agent = (id % 2 == 0).then(|| "ops".to_string());
                let at = 1_700_000_000_000 + id * 60_000;
                let record = Record {
                    scope: MemoryScope { user: "ada".into(), agent, session: None },
                    text: sentence(&mut rng, &words),
                    source: None,
                    key: None,
                    created_ms: at,
                    valid_from_ms: at,
                    valid_to_ms: None,
                    superseded_by: None,
                };
                (id, record.encode())
            })
            .collect();
        stores.memory_write(&rows, &[], None).unwrap();
    }
    let scope = MemoryScope { user: "ada".into(), agent: Some("ops".into()), session: Some("s1".into()) };
    let queries: Vec<String> = (0..64).map(|_| sentence(&mut rng, &words)).map(|s| s.split(' ').take(5).collect::<Vec<_>>().join(" ")).collect();
    let request = |query: &str| MemorySearchRequest { scope: scope.clone(), query: query.into(), as_of_ms: None, limit: 10, budget_tokens: 256 };

    let mut group = c.benchmark_group("memory");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("load the index of 100k facts (first request)", |b| {
        b.iter(|| {
            let engine = App::new(Engine::new(Stores::open(dir.path(), 1 << 30).unwrap(), Duration::from_secs(86_400)), Settings::default());
            engine.memory_search(&request("kaka")).unwrap()
        })
    });
    group.finish();

    let engine = App::new(Engine::new(Stores::open(dir.path(), 1 << 30).unwrap(), Duration::from_secs(86_400)), Settings::default());
    engine.memory_search(&request("warm")).unwrap();
    let mut group = c.benchmark_group("memory");
    let mut i = 0;
    group.bench_function("search 100k facts, 5-word query, top 10 in 256 tokens", |b| {
        b.iter(|| {
            i += 1;
            engine.memory_search(&request(&queries[i % queries.len()])).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
