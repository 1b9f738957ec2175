//! A real agent session (OpenHands CodeAct on a SWE-bench task, tests/fixtures/sessions)
//! replayed call by call through the engine, the way the agent resent its whole history: what
//! each kind of observation becomes, that earlier messages stay byte-stable between calls (and
//! across a restart), and that every marker retrieves its original.

mod common;

use headroom_daemon::engine::Engine;
use headroom_daemon::store::Stores;
use headroom_protocol::CompressOptions;
use serde_json::Value;
use std::time::Duration;

fn session() -> Vec<Value> {
    let text = common::fixture("sessions/openhands-astropy-12907.json");
    let whole: Value = serde_json::from_str(&text).unwrap();
    whole["messages"].as_array().unwrap().clone()
}

fn engine(dir: &std::path::Path) -> Engine {
    Engine::new(Stores::open(dir, 1 << 30).unwrap(), Duration::from_secs(7 * 86_400))
}

/// Each model call's request, compressed: `(request, reply messages, retrieve keys)`.
fn replay(engine: &Engine, messages: &[Value]) -> Vec<(Vec<Value>, Vec<Value>, Vec<String>)> {
    let mut calls = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        if message["role"] != "assistant" || i == 0 {
            continue;
        }
        let request = messages[..i].to_vec();
        let reply = engine.compress(&serde_json::to_vec(&request).unwrap(), &CompressOptions::default()).unwrap();
        let sent: Vec<Value> = serde_json::from_slice(&reply.messages).unwrap();
        calls.push((request, sent, reply.ccr_keys));
    }
    calls
}

fn content(message: &Value) -> &str {
    message["content"].as_str().unwrap_or("")
}

/// A shell command's output seen for the first time, after the task `ask`: the reply, and the
/// text sent in the output's place.
fn first_sight(engine: &Engine, ask: &str, command: &str, output: &str) -> (headroom_protocol::CompressReply, String) {
    tool_first_sight(engine, ask, "execute_bash", serde_json::json!({"command": command}), output)
}

/// [`first_sight`] of the output of any tool called with `arguments`.
fn tool_first_sight(engine: &Engine, ask: &str, tool: &str, arguments: Value, output: &str) -> (headroom_protocol::CompressReply, String) {
    let request = serde_json::json!([
        {"role": "user", "content": ask},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": tool, "arguments": arguments.to_string()}}]},
        {"role": "tool", "tool_call_id": "c1", "content": output}
    ]);
    let reply = engine.compress(&serde_json::to_vec(&request).unwrap(), &CompressOptions::default()).unwrap();
    let sent: Vec<Value> = serde_json::from_slice(&reply.messages).unwrap();
    let text = content(&sent[2]).to_string();
    (reply, text)
}

#[test]
fn a_real_session_shrinks_stays_byte_stable_and_every_marker_redeems() {
    let dir = tempfile::tempdir().unwrap();
    let messages = session();
    let engine = engine(dir.path());
    let calls = replay(&engine, &messages);
    assert_eq!(calls.len(), 10);

    // Earlier messages are re-sent byte for byte, except where a compaction batch rewrote them.
    let rewrites = calls.windows(2).filter(|w| w[1].1[..w[0].1.len()] != w[0].1[..]).count();
    assert!(rewrites <= 1, "{rewrites} calls rewrote earlier messages");

    let (request, sent, keys) = calls.last().unwrap();
    let size = |ms: &[Value]| ms.iter().map(|m| serde_json::to_string(m).unwrap().len()).sum::<usize>();
    assert!(size(sent) * 10 < size(request) * 8, "{} -> {} bytes", size(request), size(sent));
    // Every key retrieves, byte for byte, a tool output or a tool-call argument of the request.
    let mut blocks: Vec<String> = request.iter().map(|m| content(m).to_string()).collect();
    for call in request.iter().filter_map(|m| m["tool_calls"].as_array()).flatten() {
        let arguments: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
        blocks.extend(arguments.as_object().unwrap().values().filter_map(|v| v.as_str().map(str::to_string)));
    }
    assert!(!keys.is_empty());
    for key in keys {
        let original = engine.retrieve(key, None, headroom_daemon::clock::now_ms()).unwrap().content;
        assert!(blocks.contains(&original), "hash={key} retrieves something the request did not hold");
    }

    // Tool-call arguments stay valid JSON whatever was elided from them.
    for message in sent.iter().filter(|m| m["role"] == "assistant") {
        for call in message["tool_calls"].as_array().into_iter().flatten() {
            let arguments = call["function"]["arguments"].as_str().unwrap();
            assert!(serde_json::from_str::<Value>(arguments).is_ok(), "{arguments}");
        }
    }

    // A restarted daemon sends the same bytes.
    drop(engine);
    let again = replay(&self::engine(dir.path()), &messages);
    assert_eq!(again.last().unwrap().1, calls.last().unwrap().1);
}

#[test]
fn the_listing_names_every_directory_and_source_file_or_counts_what_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let messages = session();
    let calls = replay(&engine(dir.path()), &messages[..5]);
    // The second call is the first to carry the listing.
    let (original, listing) = (content(&messages[3]), content(&calls[1].1[3]));
    assert!(listing.len() * 10 < original.len() * 6, "{} -> {} bytes", original.len(), listing.len());
    // OpenHands cut this listing short: below the top level, a directory of source code the
    // question names nothing in is counted on its parent's line, `name/ (N files)`.
    assert!(original.contains("[... Observation truncated due to length ...]"));
    let counted = |path: &str| path.split('/').any(|above| listing.contains(&format!(" {above}/ (")));
    let mut directory = "";
    for line in original.lines().map(|l| l.trim_end_matches('\r')) {
        // A directory is named, or one above it is counted.
        if let Some(path) = line.strip_suffix(':') {
            directory = path;
            let name = path.rsplit('/').next().unwrap();
            let named = listing.contains(&format!("{name}/")) || listing.contains(&format!("{name}:"));
            assert!(named || counted(path), "directory {path}");
        }
        for name in line.split(['\t', ' ']).filter(|n| n.ends_with(".py")) {
            assert!(listing.contains(name) || counted(directory), "source file {name} in {directory}");
        }
    }
    // The top level keeps its source files' names; some directory below it was counted.
    for name in ["setup.py", "conftest.py", "logger.py", "version.py"] {
        assert!(listing.contains(name), "{name}");
    }
    assert!(listing.contains(" files)"), "{listing}");
}

#[test]
fn a_numbered_view_keeps_the_original_line_numbers_of_what_stays() {
    let dir = tempfile::tempdir().unwrap();
    let messages = session();
    let calls = replay(&engine(dir.path()), &messages[..11]);
    let numbered = |text: &str| -> Vec<(u32, String)> {
        text.lines()
            .filter_map(|l| l.trim_start().split_once('\t'))
            .filter_map(|(n, code)| Some((n.parse().ok()?, code.to_string())))
            .collect()
    };
    let original = numbered(content(&messages[9]));
    let line = |n: u32| original.iter().find(|(m, _)| *m == n).map(|(_, c)| c);
    // First sight: a long view keeps its code under the original numbers; blank lines and the
    // bodies of documentation blocks go, and its marker names what went.
    let first = content(&calls[4].1[9]);
    let kept = numbered(first);
    assert!(kept.len() * 10 < original.len() * 9, "{} of {} lines kept", kept.len(), original.len());
    for (n, code) in &kept {
        assert_eq!(line(*n), Some(code), "line {n}");
    }
    for (n, code) in original.iter().filter(|(_, c)| c.trim_start().starts_with("def ") || c.starts_with("import ")) {
        assert!(kept.contains(&(*n, code.clone())), "line {n} {code}");
    }
    assert!(first.contains("documentation and comment blocks omitted"), "{first}");
    // After the agent edited the file the view was compacted (or kept): what stays of it is
    // the original lines under their original numbers.
    let later = content(&calls.last().unwrap().1[9]);
    for (n, code) in numbered(later) {
        assert_eq!(line(n), Some(&code), "line {n}");
    }
}

#[test]
fn terminal_colours_are_dropped_and_the_output_lines_stay() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::fixture("sessions/openhands-ansi-output.txt");
    let (reply, text) = first_sight(&engine(dir.path()), "fix the failing test", "cd /workspace && python reproduce.py", &output);
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(reply.tokens_after < reply.tokens_before);
    let plain = |s: &str| s.replace("\u{1b}[0m", "").replace("\u{1b}[32;1m", "").replace("\u{1b}[36;1m", "").replace("\u{1b}[1m", "");
    let last = output.trim_end().lines().last().unwrap();
    assert!(text.contains(plain(last).trim_end_matches('\r')), "the last line stays: {last}");
}

#[test]
fn an_install_keeps_its_errors_and_outcome_and_its_progress_bars_collapse() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::fixture("sessions/openhands-pip-output.txt");
    let (reply, text) = first_sight(&engine(dir.path()), "make the postgres backend importable", "pip install psycopg2-binary", &output);
    assert!(reply.tokens_after * 3 < reply.tokens_before, "{} -> {} tokens", reply.tokens_before, reply.tokens_after);
    assert!(!text.contains('\u{1b}') && !text.contains("eta 0:00:01"), "progress redraws go");
    for kept in ["Error: pg_config executable not found.", "Successfully installed psycopg2-binary-2.9.5", "[Command finished with exit code 0]"] {
        assert!(text.contains(kept), "{kept}");
    }
}

#[test]
fn a_build_names_its_progress_steps_in_a_note_and_keeps_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    // A build of 80 crates (a real one has hundreds): enough to pay for the retrieve tool.
    let crates: Vec<String> = (0..80).map(|i| format!("{}-{}", ["serde", "tokio", "regex", "hyper"][i % 4], ["core", "util", "macros", "impl", "derive"][i / 4 % 5]) + &"x".repeat(i / 20)).collect();
    let mut output: String = crates.iter().enumerate().map(|(i, c)| format!("   Compiling {c} v1.{i}.{}\n", i * 7)).collect();
    output.push_str("   Compiling app v0.1.0 (/workspace/app)\nerror[E0425]: cannot find value `port` in this scope\n  --> src/main.rs:9:20\n\nerror: could not compile `app` (bin \"app\") due to 1 previous error\n");
    let (reply, text) = first_sight(&engine, "why does the build fail?", "cargo build", &output);
    assert!(reply.tokens_after * 10 < reply.tokens_before * 7, "{} -> {} tokens", reply.tokens_before, reply.tokens_after);
    // Every step is still named; the first and last lines, the local crate's and the error stay.
    for name in &crates {
        assert!(text.contains(name.as_str()), "{name}: {text}");
    }
    for kept in ["   Compiling serde-core v1.0.0\n", "   Compiling hyper-derivexxx v1.79.553\n", "   Compiling app v0.1.0 (/workspace/app)", "error[E0425]: cannot find value `port`", "  --> src/main.rs:9:20"] {
        assert!(text.contains(kept), "{kept}: {text}");
    }
    let key = &reply.ccr_keys[0];
    assert_eq!(engine.retrieve(key, None, headroom_daemon::clock::now_ms()).unwrap().content, output);
}

#[test]
fn an_install_log_is_shortened_as_a_log_and_names_every_file_it_installed() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    // setuptools' `install` as it prints it: no clock, one line per file or directory.
    let packages = ["languages", "parsers", "readers", "transforms", "utils", "writers", "math", "html5"];
    let modules = ["__init__", "core", "io", "nodes", "frontend", "states", "roles", "tables", "lists", "misc"];
    let mut output = String::from("running install\nrunning build\nrunning build_py\n");
    for package in packages {
        output.push_str(&format!("creating build/lib/docutils/{package}\n"));
        for module in modules {
            output.push_str(&format!("copying docutils/{package}/{module}.py -> build/lib/docutils/{package}\n"));
        }
    }
    output.push_str("warning: build_py: byte-compiling is disabled, skipping.\nrunning install_scripts\n");
    let scripts = ["rst2html.py", "rst2latex.py", "rst2man.py", "rst2odt.py", "rst2s5.py", "rst2xml.py", "rst2xetex.py", "rstpep2html.py"];
    for script in scripts {
        output.push_str(&format!("changing mode of /venv/bin/{script} to 755\n"));
    }
    let (reply, text) = first_sight(&engine, "which scripts did the install make executable?", "python setup.py install", &output);
    assert!(reply.compressors.iter().any(|c| c.name == "logs"), "{:?}", reply.compressors);
    assert!(reply.tokens_after * 2 < reply.tokens_before, "{} -> {} tokens", reply.tokens_before, reply.tokens_after);
    assert!(text.contains("warning: build_py: byte-compiling is disabled"), "{text}");
    // The steps' files are listed by directory, not hidden in a collapsed run's brace list.
    assert!(text.contains(&format!("/venv/bin/: {}", scripts.join(", "))), "{text}");
    assert!(!text.contains("more copying lines"), "{text}");
    let key = &reply.ccr_keys[0];
    assert_eq!(engine.retrieve(key, None, headroom_daemon::clock::now_ms()).unwrap().content, output);
}

#[test]
fn a_page_keeps_its_text_links_and_form_fields_and_the_traceback_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::fixture("sessions/openhands-admin-page.txt");
    let engine = engine(dir.path());
    let (reply, text) = first_sight(&engine, "inlines must not be editable with view permission only", "cd /workspace && python3 reproduce.py", &output);
    // The page is most of the markup; the traceback after it stays as it was.
    assert!(reply.tokens_after * 10 < reply.tokens_before * 7, "{} -> {} tokens", reply.tokens_before, reply.tokens_after);
    assert!(!text.contains("<script") && !text.contains("<div"), "markup goes");
    for kept in [
        "[Home](/admin/) › [Test_Project](/admin/test_project/)",
        "[Log out](/admin/logout/)",
        "[hidden Report_photos-0-id=1]",
        "[checkbox Report_photos-0-DELETE]",
        "  File \"/workspace/django__django__3.0/django/forms/formsets.py\", line 94, in management_form",
        "django.core.exceptions.ValidationError: ['ManagementForm data is missing or has been tampered with']",
    ] {
        assert!(text.contains(kept), "{kept}\n{text}");
    }
    // The page comes back whole from its marker.
    let original = engine.retrieve(&reply.ccr_keys[0], None, headroom_daemon::clock::now_ms()).unwrap().content;
    assert_eq!(original, output);
}

#[test]
fn a_traceback_keeps_the_projects_frames_and_counts_the_installed_librarys() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::fixture("sessions/quoted-traceback.txt");
    let (_, text) = first_sight(&engine(dir.path()), "why does exclude fail?", "python -m pytest tests/filtered_relation", &output);
    let frames = |t: &str| t.lines().filter(|l| l.trim_start().starts_with("File \"")).map(str::to_string).collect::<Vec<_>>();
    let (before, after) = (frames(&output), frames(&text));
    assert!(after.len() < before.len() / 2, "{} of {} frames", after.len(), before.len());
    // Frames outside site-packages (the test itself, the standard library's runner) all stay.
    for frame in before.iter().filter(|f| !f.contains("/site-packages/") && !f.contains("/lib/python")) {
        assert!(after.contains(frame), "{frame}");
    }
    assert!(text.contains("more library frames)"));
    assert!(text.contains("django.core.exceptions.FieldError: Cannot resolve keyword 'book_alice' into field."));
}

/// The `sed -n` views of a real Codex CLI rollout (tests/fixtures/agent-logs/codex,
/// Apache-2.0) of files ending in `extension`: `(command, output)`.
fn codex_views(extension: &str) -> Vec<(String, String)> {
    let lines = common::jsonl_fixture("agent-logs/codex/rollout-2026-05-11T13-28-45-019e1695.jsonl");
    let payloads = || lines.iter().map(|l| &l["payload"]);
    let commands: std::collections::HashMap<&str, String> = payloads()
        .filter(|p| p["type"] == "function_call")
        .filter_map(|p| Some((p["call_id"].as_str()?, serde_json::from_str::<Value>(p["arguments"].as_str()?).ok()?["cmd"].as_str()?.to_string())))
        .collect();
    payloads()
        .filter(|p| p["type"] == "function_call_output")
        .filter_map(|p| Some((commands.get(p["call_id"].as_str()?)?.clone(), p["output"].as_str()?.to_string())))
        .filter(|(command, _)| command.starts_with("sed -n") && command.ends_with(extension))
        .collect()
}

#[test]
fn a_meeting_transcript_keeps_every_line_said_in_order_and_drops_its_cue_scaffolding() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let views = codex_views(".vtt");
    assert_eq!(views.len(), 8);
    let (mut before, mut after) = (0, 0);
    for (command, output) in &views {
        let (reply, sent) = first_sight(&engine, "summarise the action items for the demo", command, output);
        assert!(reply.compressors.iter().any(|c| c.name == "transcript"), "{command}");
        before += reply.tokens_before;
        after += reply.tokens_after;
        // Every line said, voice tags aside, is found in order; a rolling caption's repeat of
        // the line before is the only one that may go.
        let mut at = 0;
        let mut previous = "";
        for line in output.lines().skip_while(|l| !l.starts_with("Output:")).skip(1) {
            let said = line.trim_end_matches("</v>");
            let said = said.strip_prefix("<v ").and_then(|s| s.split_once('>')).map_or(said, |(_, s)| s).trim();
            if said.is_empty() || said.contains("-->") || said.starts_with("395eec3e-") {
                continue;
            }
            match sent[at..].find(said) {
                Some(found) => at += found + said.len(),
                None => assert_eq!(said, previous, "{command}: lost {said:?}"),
            }
            previous = said;
        }
        // A cue the view cut off before its text stays as it was; no other timing line does.
        assert!(sent.matches("-->").count() <= 1 && sent.contains("headroom_retrieve hash="), "{sent}");
    }
    // Identifiers and end times were more than a third of the tokens.
    assert!(after * 3 < before * 2, "{before} -> {after}");
}

/// The task and the `Read` of a project guide (`CLAUDE.md`, 772 lines) from a real Claude Code
/// session (tests/fixtures/agent-logs/claude-code, Apache-2.0).
fn claude_code_guide_read() -> (String, String) {
    let lines = common::jsonl_fixture("agent-logs/claude-code/session-196820da.jsonl");
    let blocks = || lines.iter().filter(|l| l["type"] == "user").filter_map(|l| l["message"]["content"].as_array()).flatten();
    let task = lines.iter().filter(|l| l["type"] == "user").filter_map(|l| l["message"]["content"].as_str()).find(|t| t.contains("/clear command")).unwrap();
    let guide = blocks().filter_map(|b| b["content"].as_str()).find(|c| c.starts_with("     1→# Agent System Development Guide")).unwrap();
    (task.to_string(), guide.to_string())
}

#[test]
fn a_guide_read_whole_keeps_its_outline_and_the_sections_the_task_is_about() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let (task, guide) = claude_code_guide_read();
    let arguments = serde_json::json!({"file_path": "/Users/user/repo/src/agents/CLAUDE.md"});
    let (reply, sent) = tool_first_sight(&engine, &task, "Read", arguments, &guide);
    assert!(reply.tokens_after * 2 < reply.tokens_before, "{} -> {}", reply.tokens_before, reply.tokens_after);
    assert!(sent.contains(" lines of sections off the question"), "{sent}");
    // Every line shown is the guide's own line under its own number.
    // (Claude Code appends a `<system-reminder>` after the numbered lines.)
    let original: Vec<&str> = guide.lines().filter_map(|l| l.split_once('→')).map(|(_, text)| text).collect();
    let shown: Vec<(usize, &str)> = sent.lines().filter_map(|l| l.split_once('→')).map(|(n, text)| (n.parse().unwrap(), text)).collect();
    for (number, text) in &shown {
        assert_eq!(original[number - 1], *text);
    }
    let has = |line: &str| shown.iter().any(|(_, text)| *text == line);
    // The outline stays: every heading outside code.
    assert!(original.iter().filter(|l| l.starts_with("## ")).all(|l| has(l)));
    // The section on how a session completes, which the task is about, stays whole.
    let from = original.iter().position(|l| l.starts_with("#### Two-Phase Session Completion Pattern")).unwrap();
    let to = from + 1 + original[from + 1..].iter().position(|l| l.starts_with('#')).unwrap();
    assert!(original[from..to].iter().filter(|l| !l.trim().is_empty()).all(|l| has(l)), "{sent}");
    // A section about packaging a pip-based agent keeps its heading and first line only.
    let pip = original.iter().position(|l| l.starts_with("#### Non-npm Plugin")).unwrap();
    let next = pip + 1 + original[pip + 1..].iter().position(|l| l.starts_with('#') && !l.starts_with("# ")).unwrap();
    let numbers: Vec<usize> = shown.iter().map(|(n, _)| n - 1).filter(|n| (pip..next).contains(n)).collect();
    assert_eq!(numbers.len(), 2, "{sent}");
    assert!(has(original[pip]) && next - pip > 40);
}

#[test]
fn a_react_component_read_with_sed_is_source_behind_codexs_preamble() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let views = codex_views(".tsx");
    assert!(views.len() >= 10);
    for (command, output) in &views {
        let (reply, sent) = first_sight(&engine, "prepare a demo of budgets and analytics", command, output);
        // The file's path comes from the command: JSX is parsed as TSX, never stripped as a page.
        assert!(reply.compressors.iter().all(|c| c.name == "code"), "{command}: {:?}", reply.compressors);
        // Codex's lines before the output stay as they were.
        let preamble = &output[..output.find("Output:\n").unwrap() + "Output:\n".len()];
        assert!(sent.starts_with(preamble), "{command}");
    }
}

#[test]
fn a_long_listing_keeps_each_file_on_its_line_with_its_size_and_date() {
    // The `ls -l` outputs of a real Claude Code session (tests/fixtures/agent-logs, Apache-2.0):
    // a clock on every line, but each line is one file, not a log record.
    let lines = common::jsonl_fixture("agent-logs/claude-code/session-196820da.jsonl");
    let blocks: Vec<&Value> = lines.iter().filter_map(|l| l["message"]["content"].as_array()).flatten().collect();
    let listings: Vec<(String, String)> = blocks
        .iter()
        .filter(|b| b["type"] == "tool_use" && b["input"]["command"].as_str().is_some_and(|c| c.starts_with("ls -l")))
        .filter_map(|call| {
            let result = blocks.iter().find(|b| b["type"] == "tool_result" && b["tool_use_id"] == call["id"])?;
            Some((call["input"]["command"].as_str()?.to_string(), result["content"].as_str()?.to_string()))
        })
        .filter(|(_, output)| output.lines().count() >= 8)
        .collect();
    assert!(listings.len() >= 3);
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    for (command, output) in &listings {
        let (reply, sent) = first_sight(&engine, "when did the previous session end?", command, output);
        assert!(reply.compressors.iter().all(|c| c.name != "logs"), "{command}");
        assert!(output.lines().all(|line| sent.contains(line)), "{command}: {sent}");
    }
}
