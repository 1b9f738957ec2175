//! Each compressor on 1 MiB of real-looking input, first sight (docs/architecture.md §5: structural
//! compressors ≤ 20 ms per MiB; the code compressor, parse included, ≥ 10 MB/s).

use criterion::{criterion_group, criterion_main, Criterion};
use headroom_daemon::compressors::{code::Code, diff::Diff, json::Json, logs::Logs, search::Search, text::Text, transcript::Transcript};
use headroom_daemon::{Compressor, Context};

const MIB: usize = 1 << 20;

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// `unit` repeated (with `vary` applied to each copy) until at least 1 MiB.
fn to_mib(vary: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    let mut i = 0;
    while out.len() < MIB {
        out.push_str(&vary(i));
        i += 1;
    }
    out
}

/// One compressor's bench: its name, the compressor, 1 MiB of input, the query and the path.
type Input = (&'static str, &'static dyn Compressor, String, &'static str, Option<&'static str>);

fn inputs() -> Vec<Input> {
    let logs: String = ["HDFS", "Hadoop", "OpenStack", "Zookeeper", "Spark", "Apache"]
        .iter()
        .map(|n| fixture(&format!("logs/{n}_2k.log")))
        .collect::<String>();
    let logs = logs[..logs[..MIB].rfind('\n').unwrap() + 1].to_string();
    let issues: Vec<serde_json::Value> = serde_json::from_str::<Vec<serde_json::Value>>(&fixture("github/paginate-issues.json"))
        .unwrap()
        .into_iter()
        .filter_map(|r| r["response"].as_array().cloned())
        .flatten()
        .collect();
    let mut rows = Vec::new();
    while serde_json::to_string(&rows).unwrap().len() < MIB {
        let mut row = issues[rows.len() % issues.len()].clone();
        row["number"] = serde_json::json!(rows.len());
        rows.push(row);
    }
    let json = serde_json::to_string_pretty(&rows).unwrap();
    let one_diff = fixture("diffs/octokit-fixtures-5946840.diff");
    let diff = to_mib(|i| if i == 0 { one_diff.clone() } else { one_diff[one_diff.find("diff --git").unwrap()..].to_string() });
    let hdfs = fixture("logs/HDFS_2k.log");
    let search = to_mib(|i| hdfs.lines().enumerate().map(|(n, l)| format!("logs/part{i}/hdfs.log:{}:{l}\n", n + 1)).collect());
    let licence = fixture("logs/LICENSE-loghub").replace('\n', " ");
    let text = to_mib(|i| format!("## Section {i}\n\nParagraph {i} restates the terms. {licence} It was revised in year {}.\n\n", 1990 + i % 30));
    let python = [fixture("code/glob.py"), fixture("code/json_decoder.py")].concat();
    let code = to_mib(|i| python.replace("def ", &format!("def v{i}_")));
    // A meeting's WebVTT export, as Teams writes it: a UUID a cue, two speakers taking turns.
    let vtt = to_mib(|i| {
        let speaker = if i % 7 < 4 { "Ann Lee" } else { "Bo Chen" };
        let (m, s) = (i / 20 % 60, i * 3 % 60);
        format!("6b1d2f3a-0c4e-4f1a-9d2e-{i:012x}/{i}-0\n{:02}:{m:02}:{s:02}.250 --> {:02}:{m:02}:{:02}.900\n<v {speaker}>we went over item {i} of the plan\nand agreed on the next step</v>\n\n", i / 1200, i / 1200, (s + 2) % 60)
    });
    vec![
        ("logs", &Logs, logs, "which errors explain the failure?", None),
        ("transcript", &Transcript, vtt, "what did Bo agree to?", None),
        ("json", &Json, json, "what is the state of issue 13?", None),
        ("diff", &Diff, diff, "which dependencies were removed from package.json?", None),
        ("search", &Search, search, "which blocks were deleted?", None),
        ("text", &Text, text, "may the data sets be redistributed?", None),
        ("code", &Code, code, "how are magic characters escaped?", Some("big.py")),
    ]
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("compress_1mib");
    group.sample_size(20);
    for (name, compressor, input, query, file_path) in inputs() {
        let ctx = Context { query, file_path, key: "0123456789abcdef01234567", ..Context::default() };
        let out = compressor.compress(&input, &ctx).expect("the input compresses");
        eprintln!("{name}: {} -> {} bytes", input.len(), out.len());
        group.bench_function(name, |b| b.iter(|| compressor.compress(&input, &ctx)));
    }
    group.finish();
}

/// The code compressor per language, on real files repeated (with renamed functions) to 1 MiB.
fn code_by_language(c: &mut Criterion) {
    let mut group = c.benchmark_group("code_1mib");
    group.sample_size(10);
    let files = [
        ("python", "big.py", [fixture("code/glob.py"), fixture("code/json_decoder.py")].concat(), "def "),
        ("rust", "big.rs", fixture("code/bytes_chain.rs"), "fn "),
        ("javascript", "big.js", fixture("code/npm_config.js"), "function "),
        ("c", "big.c", fixture("code/tree_sitter_tree.c"), "ts_tree_"),
    ];
    for (name, path, source, def) in files {
        let input = to_mib(|i| source.replace(def, &format!("{def}v{i}_")));
        let ctx = Context { query: "how are magic characters escaped?", file_path: Some(path), key: "0123456789abcdef01234567", ..Context::default() };
        assert!(Code.compress(&input, &ctx).is_some(), "{name} compresses");
        group.throughput(criterion::Throughput::Bytes(input.len() as u64));
        group.bench_function(name, |b| b.iter(|| Code.compress(&input, &ctx)));
    }
    group.finish();
}

criterion_group!(compressors, benches, code_by_language);
criterion_main!(compressors);
