//! `headroom learn` on real agent logs (tests/fixtures/agent-logs): the failures and fixes a
//! person reading those logs would name, with the lines they come from; the managed block
//! written, idempotent, the rest of the file and the logs untouched; missing and malformed logs.

use headroom_daemon::learn::findings::{self, Finding};
use headroom_daemon::learn::sessions::{self, Agent};
use headroom_daemon::learn::{self as learning, END, START};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/agent-logs")
}

fn lines(places: &[findings::Place]) -> Vec<usize> {
    places.iter().map(|p| p.line).collect()
}

fn learn(agent: Agent, dir: &str) -> learning::Learned {
    learning::learn(agent, &[fixtures().join(dir)], false).unwrap()
}

#[test]
fn claude_code_logs_show_the_glob_that_matches_nothing_and_what_worked() {
    let learned = learn(Agent::Claude, "claude-code");
    assert_eq!(learned.sessions.len(), 2);
    // session-196820da.jsonl: `ls` of globs that match nothing fail in zsh, at lines 45, 64, 65
    // and 97 (the first two results marked is_error, the others only saying so); listing the
    // folder itself (line 49) worked.
    let Some(Finding::Failure { tool, error, failures, fix, .. }) = learned.findings.first() else { panic!("{:?}", learned.findings) };
    assert_eq!(tool, "Bash");
    assert!(error.contains("no matches found"), "{error}");
    assert_eq!(lines(failures), [45, 64, 65, 97]);
    let (worked, _, at) = fix.as_ref().expect("a fix");
    assert_eq!((worked.as_str(), at.line), ("ls -la ~/.claude/projects/ 2>/dev/null | head -15", 49));
    // session-9eda1058.jsonl line 20: the user refused a Write; that is not the agent's mistake.
    let refused: Vec<&sessions::Call> = learned.sessions.iter().flat_map(|s| &s.calls).filter(|c| c.refused).collect();
    assert_eq!(refused.iter().map(|c| (c.tool.as_str(), c.line)).collect::<Vec<_>>(), [("Write", 20)]);
    assert!(!refused[0].failed);
}

#[test]
fn codex_logs_show_the_sandboxed_ps_and_the_paged_transcript() {
    let learned = learn(Agent::Codex, "codex");
    // Line 46: `ps -ef | rg …` is refused by the sandbox (`operation not permitted: ps`, exit 1);
    // line 49 ran the same command with escalated sandbox permissions and it worked.
    let failure = learned.findings.iter().find_map(|f| match f {
        Finding::Failure { asked, error, failures, fix, .. } => Some((asked, error, failures, fix)),
        _ => None,
    });
    let (asked, error, failures, fix) = failure.expect("a failure");
    assert!(asked.starts_with("ps -ef | rg") && error.contains("operation not permitted: ps"), "{asked} / {error}");
    assert_eq!(lines(failures), [46]);
    let (_, changed, at) = fix.as_ref().expect("a fix");
    assert_eq!(at.line, 49);
    assert!(changed.contains(&"sandbox_permissions: require_escalated".to_string()), "{changed:?}");
    // Lines 12 to 24: the same transcript read with `sed -n` range after range.
    let paged = learned.findings.iter().find_map(|f| match f {
        Finding::Loop { asked, calls, .. } if asked.contains("Demo\\ Prep.vtt") => Some(lines(calls)),
        _ => None,
    });
    assert_eq!(paged, Some(vec![12, 13, 14, 15, 21, 22, 23, 24]));
}

#[test]
fn gemini_logs_in_the_chat_recorders_shape_are_read() {
    let learned = learn(Agent::Gemini, "gemini");
    let Some(Finding::Failure { asked, failures, fix, sessions, .. }) = learned.findings.first() else { panic!("{:?}", learned.findings) };
    assert_eq!(asked, "npm test -- --watch=false");
    assert_eq!((lines(failures), *sessions), (vec![2, 6], 1), "the same mistake again after the fix");
    assert_eq!(fix.as_ref().map(|(cmd, _, at)| (cmd.as_str(), at.line)), Some(("npx jest --watch=false", 3)));
}

/// `headroom learn` with `args`, in `project`.
fn headroom_learn(project: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_headroom")).arg("learn").args(args).current_dir(project).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn digest(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut files: Vec<PathBuf> = sessions::find(dir, Agent::Claude, false);
    files.sort();
    files.into_iter().map(|f| (f.clone(), std::fs::read(&f).unwrap(), std::fs::metadata(&f).unwrap().modified().unwrap())).collect()
}

#[test]
fn the_block_is_written_once_merged_by_section_and_nothing_else_changes() {
    let project = tempfile::tempdir().unwrap();
    let logs = fixtures().join("claude-code");
    let logs_arg = logs.to_str().unwrap();
    let before_logs = digest(&logs);
    let target = project.path().join("CLAUDE.local.md");
    let mine = "# My notes\n\nRun the linter before committing.\n";
    let earlier = format!("{START}\n## Learned from past sessions\n\n### Loops\n\n- Read: `big.log` runs again and again — keep what the first run showed (3 times in one session, ~9 tokens; x.jsonl:1)\n{END}\n");
    std::fs::write(&target, format!("{mine}\n{earlier}\nAfter the block.\n")).unwrap();

    // A dry run shows the change and writes nothing.
    let (ok, shown) = headroom_learn(project.path(), &["--logs", logs_arg]);
    assert!(ok, "{shown}");
    assert!(shown.contains("run again with --apply") && shown.contains("+- Bash: `ls -lh"), "{shown}");
    assert!(std::fs::read_to_string(&target).unwrap().contains("big.log") && !std::fs::read_to_string(&target).unwrap().contains("Bash"));

    let (ok, shown) = headroom_learn(project.path(), &["--logs", logs_arg, "--apply"]);
    assert!(ok && shown.contains("wrote the block into"), "{shown}");
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.starts_with(mine) && written.ends_with("\nAfter the block.\n"), "outside the block untouched:\n{written}");
    assert_eq!(written.matches(START).count(), 1);
    assert!(written.contains("fails with `<*> no matches found: <path>` — this worked instead: `ls -la ~/.claude/projects/"), "{written}");
    assert!(written.contains("- Read: `big.log` runs again and again — keep"), "an earlier rule not found again stays");

    let (ok, shown) = headroom_learn(project.path(), &["--logs", logs_arg, "--apply"]);
    assert!(ok && shown.contains("already holds this block; nothing to change"), "{shown}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), written, "running it twice changes nothing");
    assert_eq!(digest(&logs), before_logs, "the logs are only read");
}

/// A one-shot OpenAI-compatible endpoint on 127.0.0.1 that records the request it gets and
/// answers `content`.
fn fake_endpoint(content: &str) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let body = serde_json::json!({"choices": [{"message": {"role": "assistant", "content": content}}]}).to_string();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            let n = stream.read(&mut buf).unwrap();
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                let length = head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse::<usize>().unwrap()));
                if rest.len() >= length.unwrap_or(0) {
                    break;
                }
            }
        }
        let reply = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
        stream.write_all(reply.as_bytes()).unwrap();
        String::from_utf8_lossy(&request).to_string()
    });
    (url, handle)
}

#[test]
fn llm_words_the_advice_and_keeps_what_was_found() {
    let project = tempfile::tempdir().unwrap();
    let (url, request) = fake_endpoint("1. Quote globs or use `find`: zsh fails on a pattern that matches nothing.");
    let out = Command::new(env!("CARGO_BIN_EXE_headroom"))
        .args(["learn", "--llm", "--logs", fixtures().join("claude-code").to_str().unwrap()])
        .current_dir(project.path())
        .env("HEADROOM_LEARN_BASE_URL", &url)
        .env("HEADROOM_LEARN_MODEL", "test-model")
        .env("HEADROOM_LEARN_API_KEY", "sk-test")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(shown.contains("fails with `<*> no matches found: <path>` — Quote globs or use `find`: zsh fails"), "{shown}");
    assert!(shown.contains("(4 times in 1 session"), "the evidence stays: {shown}");
    let request = request.join().unwrap();
    assert!(request.starts_with("POST /v1/chat/completions") && request.contains("authorization: Bearer sk-test"), "{request}");
    assert!(request.contains("\"model\":\"test-model\"") && request.contains("1. Bash: `ls -lh"), "{request}");
}

#[test]
fn missing_and_malformed_logs_are_said_plainly() {
    let project = tempfile::tempdir().unwrap();
    let (ok, shown) = headroom_learn(project.path(), &["--logs", "/nonexistent/claude"]);
    assert!(!ok && shown.contains("no Claude Code logs at /nonexistent/claude: it does not exist"), "{shown}");
    let empty = tempfile::tempdir().unwrap();
    let (ok, shown) = headroom_learn(project.path(), &["--agent", "codex", "--logs", empty.path().to_str().unwrap()]);
    assert!(!ok && shown.contains("no Codex session logs in"), "{shown}");

    // A transcript cut short by a crash: its broken line is skipped and counted.
    let logs = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixtures().join("claude-code/session-196820da.jsonl")).unwrap();
    std::fs::write(logs.path().join("cut.jsonl"), format!("{text}{{\"type\": \"assistant\", \"message\": {{\"content\": [")).unwrap();
    let (ok, shown) = headroom_learn(project.path(), &["--logs", logs.path().to_str().unwrap()]);
    assert!(ok && shown.contains("1 line(s) that were not JSON skipped") && shown.contains("no matches found"), "{shown}");
}
