//! `headroom doctor`: checks each part Headroom needs and prints a verdict and a fix for each.

use crate::client::Client;
use crate::config;
use crate::compressors::lang::Lang;
use crate::ml::Models;
use crate::store::shared::Shared;
use crate::store::{Stores, DEFAULT_MAP_SIZE};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// The outcome of one check.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Ok,
    /// Works, but not as well as it could.
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug)]
pub struct Check {
    pub verdict: Verdict,
    pub what: &'static str,
    pub detail: String,
}

fn check(verdict: Verdict, what: &'static str, detail: impl Into<String>) -> Check {
    Check { verdict, what, detail: detail.into() }
}

/// Runs every check.
pub fn run() -> Vec<Check> {
    let mut checks = Vec::new();
    let settings = match config::load(&[]) {
        Ok(loaded) => {
            checks.push(check(Verdict::Ok, "config", format!("{} (or defaults)", config::config_path().display())));
            loaded.settings
        }
        Err(e) => {
            checks.push(check(Verdict::Fail, "config", format!("{e}; fix the file or the variable")));
            return checks;
        }
    };
    checks.extend(socket(&settings.socket));
    checks.push(stores(&settings.state_dir));
    if let Some(url) = &settings.store {
        checks.push(shared_store(url, &settings));
    }
    checks.push(tokenizer());
    checks.push(grammars());
    checks.extend(models(&settings.ml));
    checks
}

/// Loads the models as the daemon does and runs each once.
fn models(settings: &config::MlSettings) -> Vec<Check> {
    let models = Models::load(settings);
    if settings.budget_tokens == 0 {
        return vec![check(Verdict::Ok, "models", "off (ml_budget_tokens = 0): every compressor runs without them")];
    }
    let mut checks = Vec::new();
    let probe = models.for_request("does the embedding model answer?");
    let started = std::time::Instant::now();
    match probe.similarities(&["the embedding model answers"]) {
        Some(_) => checks.push(check(
            Verdict::Ok,
            "embeddings",
            format!("all-MiniLM-L6-v2 from {}, query and one sentence in {} ms", settings.models_dir.display(), started.elapsed().as_millis()),
        )),
        None => checks.push(check(
            Verdict::Warn,
            "embeddings",
            format!("{}; fix: run ml/fetch.sh, or set `models_dir` / `onnxruntime`", models.report.first().cloned().unwrap_or_default()),
        )),
    }
    // The classifier's own line, or the runtime's when it never got that far.
    let said = models.report.iter().find(|r| r.starts_with("token classifier")).or(models.report.first()).cloned().unwrap_or_default();
    checks.push(match (&models.classifier, &settings.classifier_model) {
        (Some(_), _) => check(Verdict::Ok, "token classifier", said),
        (None, None) => check(Verdict::Ok, "token classifier", "not configured (optional: `classifier_model` and `classifier_tokenizer`)"),
        (None, Some(_)) => check(Verdict::Warn, "token classifier", said),
    });
    checks
}

fn socket(path: &Path) -> Vec<Check> {
    let mut checks = Vec::new();
    let uid = nix::unistd::getuid().as_raw();
    if let Some(dir) = path.parent() {
        match std::fs::metadata(dir) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 || m.uid() != uid => checks.push(check(
                Verdict::Fail,
                "socket directory",
                format!("{} is mode {:o}, owner {}; fix: chmod 700 it (and own it)", dir.display(), m.permissions().mode() & 0o777, m.uid()),
            )),
            Ok(_) => checks.push(check(Verdict::Ok, "socket directory", format!("{} is private (0700)", dir.display()))),
            Err(_) => {}
        }
    }
    match std::fs::metadata(path) {
        Err(_) => checks.push(check(Verdict::Fail, "daemon", format!("no socket at {}; fix: `headroom service install` or start `headroomd`", path.display()))),
        Ok(m) => {
            if m.permissions().mode() & 0o077 != 0 {
                checks.push(check(Verdict::Fail, "socket", format!("{} is mode {:o}; fix: restart headroomd", path.display(), m.permissions().mode() & 0o777)));
            }
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime starts");
            let answer = runtime.block_on(async {
                let mut client = Client::connect(path).await?;
                client.stats().await
            });
            checks.push(match answer {
                Ok(s) => check(Verdict::Ok, "daemon", format!("answers on {} (up {} s, {} requests)", path.display(), s.uptime_ms / 1000, s.requests)),
                Err(e) => check(Verdict::Fail, "daemon", format!("{e}; fix: restart headroomd (a stale socket file is replaced)")),
            });
        }
    }
    checks
}

fn stores(dir: &Path) -> Check {
    if !dir.exists() {
        return check(Verdict::Warn, "stores", format!("{} does not exist yet; the daemon creates it on start", dir.display()));
    }
    match Stores::open(dir, DEFAULT_MAP_SIZE) {
        Ok(stores) => {
            let (ccr, replay) = stores.entry_counts().unwrap_or((0, 0));
            let size = std::fs::metadata(dir.join("data.mdb")).map(|m| m.len()).unwrap_or(0);
            let map = stores.map_size() as u64;
            check(
                Verdict::Ok,
                "stores",
                format!("{}: {ccr} originals, {replay} replay entries, {} MiB used of a {} MiB map (grows when full)", dir.display(), size >> 20, map >> 20),
            )
        }
        Err(e) => check(Verdict::Fail, "stores", format!("{e}")),
    }
}

/// Whether the shared store answers within the daemon's timeout.
fn shared_store(url: &str, settings: &config::Settings) -> Check {
    let shared = match Shared::new(url, settings.store_timeout, settings.ccr_idle_expiry) {
        Ok(shared) => shared,
        Err(e) => return check(Verdict::Fail, "shared store", e),
    };
    match shared.memory_generation() {
        Some(_) => check(Verdict::Ok, "shared store", format!("{} answers within {} ms", shared.shown(), settings.store_timeout.as_millis())),
        None => check(
            Verdict::Warn,
            "shared store",
            format!(
                "{} does not answer within {} ms; replicas serve from their own LMDB until it does (fix: start it, or raise store_timeout_ms)",
                shared.shown(),
                settings.store_timeout.as_millis()
            ),
        ),
    }
}

fn tokenizer() -> Check {
    let started = std::time::Instant::now();
    let tokens = tiktoken_rs::o200k_base_singleton().encode_ordinary("Headroom checks its tokenizer.").len();
    let _ = tiktoken_rs::cl100k_base_singleton();
    if tokens > 0 {
        check(Verdict::Ok, "tokenizer", format!("o200k and cl100k built in {} ms", started.elapsed().as_millis()))
    } else {
        check(Verdict::Fail, "tokenizer", "o200k counted no tokens; reinstall headroom")
    }
}

fn grammars() -> Check {
    let samples = [
        ("x.py", "def f():\n    return 1\n"),
        ("x.js", "function f() { return 1; }\n"),
        ("x.ts", "function f(): number { return 1; }\n"),
        ("x.tsx", "const f = () => <div/>;\n"),
        ("x.rs", "fn f() -> u8 { 1 }\n"),
        ("x.go", "package x\nfunc f() int { return 1 }\n"),
        ("x.java", "class X { int f() { return 1; } }\n"),
        ("x.c", "int f(void) { return 1; }\n"),
        ("x.cpp", "namespace x { int f() { return 1; } }\n"),
    ];
    let broken: Vec<&str> = samples.iter().filter(|(path, code)| !Lang::from_path(path).is_some_and(|l| l.parses(code))).map(|(p, _)| *p).collect();
    if broken.is_empty() {
        check(Verdict::Ok, "grammars", "Python, JavaScript, TypeScript, TSX, Rust, Go, Java, C, C++ parse")
    } else {
        check(Verdict::Fail, "grammars", format!("cannot parse {}; reinstall headroom", broken.join(", ")))
    }
}
