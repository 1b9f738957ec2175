//! Model costs on this machine: MiniLM embedding throughput (sentences per second,
//! one at a time and in batches) and the token classifier's time per 512-token window. Needs the
//! models `ml/fetch.sh` installs in `.cache/models`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use headroom_daemon::ml::classify::Classifier;
use headroom_daemon::ml::embed::Embedder;
use headroom_daemon::ml::runtime;
use std::path::PathBuf;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.cache/models"));
    let env = runtime::environment(&dir.join("libonnxruntime.so")).expect("run ml/fetch.sh first");
    let embedder = Embedder::load(env, &dir).unwrap();
    let licence = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/code/LICENSE-python.txt")).unwrap();
    let sentences: Vec<&str> = licence.split_inclusive(['.', '\n']).map(str::trim).filter(|s| s.len() > 40).take(16).collect();
    assert_eq!(sentences.len(), 16);
    let tokens: usize = sentences.iter().map(|s| embedder.token_ids(s).unwrap().len()).sum();
    println!("{} sentences, {:.1} tokens each on average", sentences.len(), tokens as f64 / sentences.len() as f64);

    let mut group = c.benchmark_group("ml");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(sentences.len() as u64));
    group.bench_function("embed 16 sentences one at a time", |b| {
        b.iter(|| sentences.iter().map(|s| embedder.embed(&[s]).unwrap().unwrap()).count())
    });

    let classifier = Classifier::load(env, &dir.join("test-classifier.onnx"), &dir.join("minilm-tokenizer.json")).unwrap();
    let mut text = String::new();
    while classifier.count_tokens(&text).unwrap() < 510 {
        text.push_str(sentences[text.len() % sentences.len()]);
    }
    let window: String = {
        let mut t = String::new();
        for word in text.split(' ') {
            if classifier.count_tokens(&format!("{t} {word}")).unwrap() > 510 {
                break;
            }
            t = format!("{t} {word}");
        }
        t
    };
    group.throughput(Throughput::Elements(1));
    group.bench_function("classify one 512-token window", |b| b.iter(|| classifier.score(&window).unwrap().unwrap()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
