//! `headroom learn`: reads the sessions coding agents already logged ([`sessions`]), finds the
//! mistakes they keep making and what fixed them ([`findings`]), and writes them as short rules
//! into a managed block of the file the agent reads its instructions from — `CLAUDE.local.md`
//! for Claude Code (not the shared `CLAUDE.md`), `AGENTS.md` for Codex, `GEMINI.md` for Gemini.
//! Deterministic and offline; a dry run unless `--apply`. The logs are only read. With `--llm`
//! ([`llm`]) an OpenAI-compatible model rewords the advice; what was found stays the same.

pub mod findings;
pub mod llm;
pub mod sessions;

use findings::{Finding, Place};
use sessions::{Agent, Session};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the managed block starts and ends; everything outside is the user's.
pub const START: &str = "<!-- headroom:learn:start -->";
pub const END: &str = "<!-- headroom:learn:end -->";

/// The block's sections, in order.
const SECTIONS: [&str; 3] = ["Failures and what fixed them", "Loops", "Retrieving originals"];

/// Most rules a section holds.
const RULES_PER_SECTION: usize = 12;

/// A command or path shortened for a rule line.
fn short(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= 90 {
        return one_line.replace('`', "'");
    }
    let cut: String = one_line.chars().take(87).collect();
    format!("{}...", cut.replace('`', "'"))
}

fn evidence(places: &[Place]) -> String {
    let lines: Vec<String> = places
        .iter()
        .take(4)
        .map(|p| format!("{}:{}", p.path.file_name().map_or_else(|| p.path.display().to_string(), |n| n.to_string_lossy().into_owned()), p.line))
        .collect();
    let more = if places.len() > 4 { format!(" and {} more", places.len() - 4) } else { String::new() };
    format!("{}{more}", lines.join(", "))
}

fn times(n: usize) -> String {
    if n == 1 { "once".into() } else { format!("{n} times") }
}

/// One finding as a rule: its section, its key (what a later run recognises it by), the advice
/// and the evidence. The block shows it as `key — advice (evidence)`.
pub struct Rule {
    pub section: usize,
    pub key: String,
    pub advice: String,
    pub evidence: String,
}

impl Rule {
    /// The rule's line in the block.
    pub fn line(&self) -> String {
        format!("{} — {} ({})", self.key, self.advice, self.evidence)
    }
}

/// The rule a finding makes.
pub fn rule(finding: &Finding) -> Rule {
    match finding {
        Finding::Failure { tool, error, asked, failures, fix, sessions, tokens } => Rule {
            section: 0,
            key: format!("{tool}: `{}` fails with `{error}`", short(asked)),
            advice: match fix {
                Some((_, changed, _)) if !changed.is_empty() => format!("it worked with {}", changed.join(", ")),
                Some((command, _, _)) => format!("this worked instead: `{}`", short(command)),
                None => "no later call fixed it; find out why before running it again".to_string(),
            },
            evidence: format!(
                "{} in {} session{}, ~{tokens} tokens; {}",
                times(failures.len()),
                sessions,
                if *sessions == 1 { "" } else { "s" },
                evidence(failures)
            ),
        },
        Finding::Loop { tool, asked, calls, tokens, .. } => Rule {
            section: 1,
            key: format!("{tool}: `{}` runs again and again", short(asked)),
            advice: "keep what the first run showed, or narrow it".to_string(),
            evidence: format!("{} in one session, ~{tokens} tokens; {}", times(calls.len()), evidence(calls)),
        },
        Finding::WholeRetrieves { calls, tokens } => Rule {
            section: 2,
            key: "headroom_retrieve: fetched whole originals".to_string(),
            advice: "pass `query` with the words you need and only matching lines come back".to_string(),
            evidence: format!("{}, ~{tokens} tokens; {}", times(calls.len()), evidence(calls)),
        },
    }
}

/// The block's rules by section, from an existing file's block: section → (key → line).
fn existing_rules(text: &str) -> BTreeMap<usize, BTreeMap<String, String>> {
    let mut rules: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
    let Some(inside) = text.split_once(START).and_then(|(_, rest)| rest.split_once(END)).map(|(inside, _)| inside) else {
        return rules;
    };
    let mut section = None;
    for line in inside.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            section = SECTIONS.iter().position(|s| *s == heading.trim());
        } else if let (Some(s), Some(rule)) = (section, line.strip_prefix("- ")) {
            let key = rule.split_once(" — ").map_or(rule, |(k, _)| k);
            rules.entry(s).or_default().insert(key.to_string(), rule.to_string());
        }
    }
    rules
}

/// The managed block for `rules`, merged with the block `current` holds: a rule found again
/// replaces its line (new evidence), earlier rules not found this time stay.
pub fn block(current: &str, rules: &[Rule]) -> String {
    let mut earlier_rules = existing_rules(current);
    let mut fresh: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
    for rule in rules {
        fresh.entry(rule.section).or_default().push((rule.key.clone(), rule.line()));
    }
    let mut out = format!("{START}\n## Learned from past sessions\n\nWritten by `headroom learn` from this project's agent logs; edit outside this block.\n");
    for (s, title) in SECTIONS.iter().enumerate() {
        let mut lines: Vec<String> = Vec::new();
        let earlier = earlier_rules.remove(&s).unwrap_or_default();
        let new = fresh.remove(&s).unwrap_or_default();
        for (_, line) in new.iter().take(RULES_PER_SECTION) {
            if !lines.contains(line) {
                lines.push(line.clone());
            }
        }
        for (key, line) in earlier {
            if !new.iter().any(|(k, _)| *k == key) {
                lines.push(line);
            }
        }
        if lines.is_empty() {
            continue;
        }
        out.push_str(&format!("\n### {title}\n\n"));
        for line in lines {
            out.push_str(&format!("- {line}\n"));
        }
    }
    out.push_str(END);
    out
}

/// `current` with its managed block replaced by `block`, or the block appended after a blank line.
pub fn merged(current: &str, block: &str) -> String {
    match current.split_once(START).and_then(|(before, rest)| rest.split_once(END).map(|(_, after)| (before, after))) {
        Some((before, after)) => format!("{before}{block}{after}"),
        None if current.trim().is_empty() => format!("{block}\n"),
        None => format!("{}\n\n{block}\n", current.trim_end()),
    }
}

/// The lines that change from `old` to `new`, as `-`/`+` lines.
pub fn diff(old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let mut out = String::new();
    for line in old_lines.iter().filter(|l| !new_lines.contains(l)) {
        out.push_str(&format!("-{line}\n"));
    }
    for line in new_lines.iter().filter(|l| !old_lines.contains(l)) {
        out.push_str(&format!("+{line}\n"));
    }
    out
}

/// Claude Code's folder name for a project: its absolute path with every character that is not
/// a letter, digit or `-` as `-`.
pub fn claude_project_dir(project: &Path) -> String {
    project.to_string_lossy().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect()
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

/// Where `agent` keeps its logs for `project`.
pub fn log_dir(agent: Agent, project: &Path) -> PathBuf {
    match agent {
        Agent::Claude => {
            let config = std::env::var_os("CLAUDE_CONFIG_DIR").map_or_else(|| home().join(".claude"), PathBuf::from);
            config.join("projects").join(claude_project_dir(project))
        }
        Agent::Codex => home().join(".codex/sessions"),
        Agent::Gemini => home().join(".gemini/tmp"),
    }
}

/// The file `agent` reads its project instructions from.
pub fn default_target(agent: Agent, project: &Path) -> PathBuf {
    project.join(match agent {
        Agent::Claude => "CLAUDE.local.md",
        Agent::Codex => "AGENTS.md",
        Agent::Gemini => "GEMINI.md",
    })
}

/// What one run read and found.
pub struct Learned {
    pub sessions: Vec<Session>,
    pub findings: Vec<Finding>,
}

/// Reads every log under `paths` (files, or folders searched for `agent`'s logs) and finds
/// what they show. A path that does not exist, or holds no log, is an error that says so.
pub fn learn(agent: Agent, paths: &[PathBuf], main_only: bool) -> Result<Learned, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(sessions::find(path, agent, main_only));
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("no {} logs at {}: it does not exist", agent.name(), path.display()));
        }
    }
    if files.is_empty() {
        let places: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("no {} session logs in {}", agent.name(), places.join(", ")));
    }
    let sessions = files.iter().map(|f| sessions::read(f)).collect::<Result<Vec<_>, _>>()?;
    let findings = findings::find(&sessions);
    Ok(Learned { sessions, findings })
}

/// `headroom learn`: reads the logs, prints what it found and the block, and writes the block
/// into `target` with `apply` (else shows the change it would make). Returns the report.
pub fn run(
    agent: Agent,
    project: &Path,
    logs: &[PathBuf],
    target: Option<PathBuf>,
    apply: bool,
    main_only: bool,
    llm: Option<&llm::Endpoint>,
) -> Result<String, String> {
    let paths = if logs.is_empty() { vec![log_dir(agent, project)] } else { logs.to_vec() };
    let learned = learn(agent, &paths, main_only)?;
    let target = target.unwrap_or_else(|| default_target(agent, project));
    let current = match std::fs::read_to_string(&target) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", target.display())),
    };
    let calls: usize = learned.sessions.iter().map(|s| s.calls.len()).sum();
    let failed: usize = learned.sessions.iter().flat_map(|s| &s.calls).filter(|c| c.failed).count();
    let unreadable: usize = learned.sessions.iter().map(|s| s.unreadable_lines).sum();
    let mut report = format!(
        "read {} {} session(s): {calls} tool calls, {failed} failed; {} finding(s){}\n\n",
        learned.sessions.len(),
        agent.name(),
        learned.findings.len(),
        if unreadable > 0 { format!("; {unreadable} line(s) that were not JSON skipped") } else { String::new() }
    );
    let mut rules: Vec<Rule> = learned.findings.iter().map(rule).collect();
    if let Some(endpoint) = llm {
        let advice = llm::reword(endpoint, &rules)?;
        for (rule, advice) in rules.iter_mut().zip(advice) {
            rule.advice = advice;
        }
    }
    let block = block(&current, &rules);
    let updated = merged(&current, &block);
    report.push_str(&block);
    report.push('\n');
    if updated == current {
        report.push_str(&format!("\n{} already holds this block; nothing to change\n", target.display()));
    } else if apply {
        std::fs::write(&target, &updated).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        report.push_str(&format!("\nwrote the block into {}\n", target.display()));
    } else {
        report.push_str(&format!("\nchanges to {} (run again with --apply to write them):\n{}", target.display(), diff(&current, &updated)));
    }
    Ok(report)
}
