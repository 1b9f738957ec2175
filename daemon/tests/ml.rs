//! Models: MiniLM embeddings match sentence-transformers' (a reference computed once
//! with Python onnxruntime), the token classifier's windows and scores match the reference of
//! the seeded test model, and a daemon without models starts, says so once and compresses.
//!
//! The models come from `ml/fetch.sh` (run by `setup.sh`) into `.cache/models`; these tests fail,
//! naming that script, when they are missing.

mod common;

use common::{call, compress_op, conversation, fixture, Home};
use headroom_daemon::config::{MlSettings, Settings};
use headroom_daemon::ml::classify::Classifier;
use headroom_daemon::ml::embed::{cosine, Embedder};
use headroom_daemon::ml::{runtime, Models};
use headroom_daemon::app::App;
use headroom_daemon::{Engine, Stores};
use headroom_protocol::{CompressOptions, CompressReply, ReplyBody};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

fn models_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.cache/models"));
    assert!(dir.join("libonnxruntime.so").is_file(), "no models in {}: run ml/fetch.sh (setup.sh does)", dir.display());
    dir
}

fn reference(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/ml/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

#[test]
fn embeddings_match_sentence_transformers() {
    let dir = models_dir();
    let env = runtime::environment(&dir.join("libonnxruntime.so")).unwrap();
    let embedder = Embedder::load(env, &dir).unwrap();
    let reference = reference("reference-embeddings.json");
    let sentences: Vec<&str> = reference["sentences"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    for (sentence, ids) in sentences.iter().zip(reference["token_ids"].as_array().unwrap()) {
        let expected: Vec<u32> = ids.as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as u32).collect();
        assert_eq!(embedder.token_ids(sentence).unwrap(), expected, "{sentence}");
    }
    // One batch (padded) and one at a time agree with the reference.
    let batched = embedder.embed(&sentences).unwrap().unwrap();
    for (i, expected) in reference["embeddings"].as_array().unwrap().iter().enumerate() {
        let expected = floats(expected);
        let alone = embedder.embed(&[sentences[i]]).unwrap().unwrap().remove(0);
        for got in [&batched[i], &alone] {
            assert_eq!(got.len(), 384);
            let similarity = cosine(got, &expected);
            assert!(similarity >= 0.999, "sentence {i}: cosine {similarity}");
        }
    }
    // Related sentences are closer than unrelated ones.
    let v = embedder.embed(&["the job failed with an out of memory error", "the task crashed: OOM", "a recipe for lemon cake"]).unwrap().unwrap();
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.2);
}

#[test]
fn the_classifier_scores_every_token_through_windows_of_512() {
    let dir = models_dir();
    let env = runtime::environment(&dir.join("libonnxruntime.so")).unwrap();
    let classifier = Classifier::load(env, &dir.join("test-classifier.onnx"), &dir.join("minilm-tokenizer.json")).unwrap();
    let reference = reference("reference-classifier.json");
    for case in reference["texts"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let expected = floats(&case["keep_prob"]);
        assert_eq!(classifier.count_tokens(text).unwrap(), expected.len());
        let scored = classifier.score(text).unwrap().unwrap();
        assert_eq!(scored.keep.len(), expected.len());
        assert_eq!(scored.tokens.len(), expected.len());
        let worst = scored.keep.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 2e-3, "{} tokens, largest difference {worst}", expected.len());
        // Offsets point into the text, in order.
        assert!(scored.tokens.windows(2).all(|w| w[0].start <= w[1].start) && scored.tokens.last().unwrap().end <= text.len());
    }
    let long = reference["texts"].as_array().unwrap().iter().map(|c| c["keep_prob"].as_array().unwrap().len()).max().unwrap();
    assert!(long > 510, "the reference exercises more than one window");
}

#[test]
fn a_daemon_without_models_starts_says_so_once_and_compresses() {
    let home = Home::new();
    let log = home.dir.path().join("daemon.log");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_headroomd"))
        .arg("--socket")
        .arg(home.socket())
        .arg("--state-dir")
        .arg(home.state())
        .arg("--models-dir")
        .arg(home.dir.path().join("no-models"))
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let daemon = common::Daemon::adopt(child, &home);
    let mut s = daemon.greeted();
    let hdfs = fixture("logs/HDFS_2k.log");
    for id in 2..5 {
        let reply = call(&mut s, id, compress_op(&conversation("which blocks failed?", "cat", &hdfs)));
        let ReplyBody::Compressed(r) = reply.body else { panic!("{reply:?}") };
        assert!(r.tokens_after < r.tokens_before / 4);
    }
    daemon.stop();
    let said = std::fs::read_to_string(&log).unwrap();
    assert_eq!(said.matches("ONNX Runtime not found").count(), 1, "{said}");
    assert!(said.contains("compressing without models"), "{said}");
}

#[test]
fn models_report_what_is_missing_and_a_zero_budget_turns_them_off() {
    let off = Models::load(&MlSettings { budget_tokens: 0, ..MlSettings::default() });
    assert!(off.embedder.is_none() && off.report[0].contains("ML off"));
    let dir = models_dir();
    let half = Models::load(&MlSettings {
        models_dir: dir.clone(),
        classifier_model: Some(dir.join("test-classifier.onnx")),
        classifier_tokenizer: None,
        ..MlSettings::default()
    });
    assert!(half.embedder.is_some());
    assert!(half.classifier.is_none());
    assert!(half.report.iter().any(|r| r.contains("set both `classifier_model` and `classifier_tokenizer`")), "{:?}", half.report);
    let request = half.for_request("why did the build fail?");
    assert!(request.similarities(&["the build failed: missing header", "lunch menu"]).is_some());
    let long = "word ".repeat(200);
    assert!(request.similarities(&[&long, &long]).is_none(), "over the budget (2 × 202 tokens), no model runs");
    assert!(request.left() > 250, "a refused run spends nothing");
}

/// The application core with the models of `settings` loaded (memory search uses them too).
fn engine_with(settings: MlSettings) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(Engine::new(Stores::open(dir.path(), 64 << 20).unwrap(), Duration::from_secs(86_400)), Settings::default());
    app.engine.load_models(&settings);
    (dir, app)
}

fn tool_text(reply: &CompressReply) -> String {
    let v: Value = serde_json::from_slice(&reply.messages).unwrap();
    v["messages"][3]["content"].as_str().unwrap().to_string()
}

#[test]
fn embeddings_keep_the_sentence_that_answers_in_other_words() {
    // A text block is 1,500 bytes or more, beyond the default budget: this request may spend more.
    let (_dir, engine) = engine_with(MlSettings { models_dir: models_dir(), budget_tokens: 2048, ..MlSettings::default() });
    let filler = [
        "Release notes for the spring update are collected below for everyone.",
        "The marketing team picked a new colour for the landing page after a long vote.",
        "Lunch on Fridays moves to the third floor kitchen starting next month.",
        "Several typos in the employee handbook were corrected by the editors.",
        "The office plants are watered on Mondays now instead of Thursdays.",
        "A new intern joins the design group next week and will sit near the window.",
        "The parking garage gets fresh paint over the long weekend in April.",
        "Quarterly town hall slides were uploaded to the shared drive yesterday.",
    ];
    let mut notes = filler[..4].join(" ");
    notes.push_str(" The Postgres server ran out of memory at 3am and the kernel killed it. ");
    notes.push_str(&filler[4..].join(" "));
    for _ in 0..2 {
        notes.push(' ');
        notes.push_str(&filler.join(" "));
    }
    assert!(notes.len() >= 1500);
    let messages = conversation("why did the database go down?", "read_notes", &notes);
    let reply = engine.compress(&messages, &CompressOptions { target_ratio: Some(0.2), ..Default::default() }).unwrap();
    assert_eq!(reply.compressors[0].name, "text");
    let kept = tool_text(&reply);
    assert!(kept.contains("ran out of memory"), "{kept}");

    // Without models the same request keeps other sentences: no query word is in that one.
    let plain = tempfile::tempdir().unwrap();
    let without = Engine::new(Stores::open(plain.path(), 64 << 20).unwrap(), Duration::from_secs(86_400));
    let reply = without.compress(&messages, &CompressOptions { target_ratio: Some(0.2), ..Default::default() }).unwrap();
    assert!(!tool_text(&reply).contains("ran out of memory"), "{}", tool_text(&reply));
}

#[test]
fn the_classifier_compresses_small_prose_word_by_word_and_the_original_comes_back() {
    let dir = models_dir();
    let (_state, engine) = engine_with(MlSettings {
        classifier_model: Some(dir.join("test-classifier.onnx")),
        classifier_tokenizer: Some(dir.join("minilm-tokenizer.json")),
        models_dir: dir,
        // Enough for three paragraphs: what the classifier saves must pay for the
        // headroom_retrieve definition its marker brings, or the request goes out untouched.
        budget_tokens: 2048,
        ..MlSettings::default()
    });
    let paragraph = "The nightly backup of the accounting database finished late again because the storage \
array was busy with a scrub that someone had scheduled at the very same time. Nobody lost any data, but \
the report at /srv/reports/backup.log shows that the job took 4 hours and 12 minutes instead of the usual \
forty minutes, which in turn delayed the morning reports for the finance team by almost two hours. \
The operations group would like to move the scrub window to the weekend, when the array is mostly idle \
and nobody is waiting for the reports, and to add an alert when a backup runs for more than an hour. \
Please reply to this thread if the weekend window is a problem for your team or for any of your jobs.";
    let note = &[paragraph, paragraph, paragraph].join("\n\n");
    let reply = engine.compress(&conversation("how long did the backup take?", "read", note), &CompressOptions::default()).unwrap();
    assert_eq!(reply.compressors[0].name, "kompress");
    let out = tool_text(&reply);
    let words: Vec<&str> = out.split_whitespace().collect();
    for always in ["/srv/reports/backup.log", "4", "12"] {
        assert!(words.contains(&always), "{always} is always kept: {out}");
    }
    assert!(words.len() < note.split_whitespace().count(), "{out}");
    assert!(out.contains("words dropped by the token classifier; headroom_retrieve hash="), "{out}");
    let original = engine.engine.retrieve(&reply.ccr_keys[0], None, headroom_daemon::clock::now_ms()).unwrap();
    assert_eq!(&original.content, note);
}

#[test]
fn memory_search_finds_facts_said_in_other_words_with_embeddings() {
    use headroom_protocol::{MemoryAddRequest, MemoryScope, MemorySearchRequest};
    let scope = MemoryScope { user: "ada".into(), agent: None, session: None };
    let facts = [
        "Ada is allergic to peanuts.",
        "The quarterly report is due on the fifth.",
        "The staging cluster runs in eu-west-1.",
        "Standups start at half past nine.",
    ];
    let search = |engine: &App| {
        let request = MemorySearchRequest { scope: scope.clone(), query: "which nuts give her a reaction?".into(), as_of_ms: None, limit: 3, budget_tokens: 0 };
        engine.memory_search(&request).unwrap().into_iter().map(|f| f.text).collect::<Vec<_>>()
    };
    for with_models in [true, false] {
        let (_dir, engine) = if with_models {
            engine_with(MlSettings { models_dir: models_dir(), ..MlSettings::default() })
        } else {
            engine_with(MlSettings { budget_tokens: 0, ..MlSettings::default() })
        };
        for text in facts {
            engine.memory_add(&MemoryAddRequest { scope: scope.clone(), text: text.into(), source: None, key: None, valid_from_ms: None }).unwrap();
        }
        let found = search(&engine);
        if with_models {
            assert_eq!(found, vec!["Ada is allergic to peanuts."], "unrelated facts stay below the similarity floor");
        } else {
            assert!(found.is_empty(), "no shared word, no model: {found:?}");
        }
    }
}
