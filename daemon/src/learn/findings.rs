//! What the sessions show, deterministically: failed calls grouped by tool and error template,
//! each with the call that fixed it (the next call of the same tool if it succeeded, else a
//! later one close in what it asked that did); loops (the same call, numbers and `| head -N` aside, three or more times in
//! a session); and `headroom_retrieve` calls that fetched a whole original where a query would
//! have narrowed it. Ranked by recurrence × tokens burned between a failure and its fix.

use super::sessions::{Call, Session};
use crate::compressors::logs::{digits_as, template_tokens};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// How many calls after a failure its fix may come.
const FIX_WITHIN: usize = 15;
/// Least share of words a fix shares with the call it fixes.
const FIX_SIMILARITY: f64 = 0.3;
/// The same call this many times in a session is a loop.
const LOOP_CALLS: usize = 3;

/// Where a call is: the log and its line.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub path: PathBuf,
    pub line: usize,
}

/// A kind of mistake, with its evidence.
#[derive(Debug, Clone)]
pub enum Finding {
    /// Calls of `tool` that failed with errors of one template.
    Failure {
        tool: String,
        error: String,
        /// The first failing call, as asked.
        asked: String,
        failures: Vec<Place>,
        /// What worked instead, and what it changed besides the command.
        fix: Option<(String, Vec<String>, Place)>,
        sessions: usize,
        tokens: u64,
    },
    /// The same call repeated within a session.
    Loop { tool: String, asked: String, calls: Vec<Place>, sessions: usize, tokens: u64 },
    /// Retrievals of whole originals.
    WholeRetrieves { calls: Vec<Place>, tokens: u64 },
}

impl Finding {
    /// Recurrence × tokens burned: the order of the rules.
    pub fn weight(&self) -> u64 {
        match self {
            Finding::Failure { failures, tokens, .. } => failures.len() as u64 * tokens.max(&1),
            Finding::Loop { calls, tokens, .. } => calls.len() as u64 * tokens.max(&1),
            Finding::WholeRetrieves { calls, tokens } => calls.len() as u64 * tokens.max(&1),
        }
    }
}

/// Tokens of a call, estimated from its bytes (4 a token).
fn tokens_of(call: &Call) -> u64 {
    ((call.asked.len() + call.output.len()) / 4) as u64
}

/// The error a failed output shows, as a template: its first error line (else its first
/// line), numbers and paths masked, so errors of one kind group together.
pub fn error_template(output: &str) -> String {
    let lines: Vec<&str> = output.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let marker = |l: &&str| {
        let lower = l.to_ascii_lowercase();
        ["error", "not found", "no such", "denied", "not permitted", "failed", "no matches"].iter().any(|w| lower.contains(w))
    };
    let line = lines.iter().find(|l| marker(l) && !l.starts_with("Exit code") && !l.starts_with("Process exited")).or(lines.first());
    // Paths first (they often hold digits too), then the log compressor's masking of numbers.
    let paths_masked: Vec<&str> = line.copied().unwrap_or("").split_whitespace().map(|t| if t.contains('/') { "<path>" } else { t }).collect();
    let text = template_tokens(&paths_masked.join(" ")).collect::<Vec<_>>().join(" ");
    text.chars().take(160).collect()
}

fn words(text: &str) -> BTreeSet<&str> {
    text.split(|c: char| c.is_whitespace() || "|;&'\"=(),".contains(c)).filter(|w| !w.is_empty()).collect()
}

/// Shared words over all words of the two calls (Jaccard).
fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (words(a), words(b));
    let union = a.union(&b).count();
    if union == 0 { 0.0 } else { a.intersection(&b).count() as f64 / union as f64 }
}

/// The arguments a fix set differently from the failed call, besides the command itself.
fn changed_arguments(failed: &Value, fix: &Value) -> Vec<String> {
    let (Some(failed), Some(fix)) = (failed.as_object(), fix.as_object()) else { return Vec::new() };
    // Settings of the call that matter; the command itself, explanations and output limits do not.
    let skip = ["command", "cmd", "description", "justification", "yield_time_ms", "max_output_tokens", "timeout"];
    fix.iter()
        .filter(|(key, value)| !skip.contains(&key.as_str()) && failed.get(*key) != Some(*value) && value.to_string().len() <= 60)
        .map(|(key, value)| format!("{key}: {}", value.as_str().map_or_else(|| value.to_string(), str::to_string)))
        .collect()
}

/// A call with what varies from run to run masked: numbers, `| head -N` / `| tail -N`.
pub fn loop_key(call: &Call) -> String {
    let mut asked = call.asked.clone();
    for cut in ["| head", "| tail"] {
        if let Some(at) = asked.find(cut) {
            asked.truncate(at);
        }
    }
    // Each run of digits as one `#`: `sed -n '40,180p'` and `sed -n '1800,2180p'` are one call.
    format!("{}\u{0}{}", call.tool, digits_as(&asked, '#').trim())
}

/// Everything the sessions show, heaviest first.
pub fn find(sessions: &[Session]) -> Vec<Finding> {
    struct Group {
        tool: String,
        error: String,
        asked: String,
        failures: Vec<Place>,
        fix: Option<(String, Vec<String>, Place)>,
        sessions: BTreeSet<usize>,
        tokens: u64,
    }
    let mut failures: BTreeMap<(String, String), Group> = BTreeMap::new();
    let mut loops: Vec<Finding> = Vec::new();
    let mut whole_retrieves = (Vec::new(), 0u64);
    for (s, session) in sessions.iter().enumerate() {
        let calls = &session.calls;
        let place = |c: &Call| Place { path: session.path.clone(), line: c.line };
        for (i, call) in calls.iter().enumerate().filter(|(_, c)| c.failed) {
            // The next call of the same tool, if it worked, or a later one that asks nearly
            // the same and worked.
            let next_of_tool = calls.iter().enumerate().skip(i + 1).find(|(_, c)| c.tool == call.tool).map(|(j, _)| j);
            let fix_at = calls
                .iter()
                .enumerate()
                .skip(i + 1)
                .take(FIX_WITHIN)
                .filter(|(_, c)| c.tool == call.tool && !c.failed && !c.refused && !c.output.is_empty())
                .find(|(j, c)| Some(*j) == next_of_tool || similarity(&c.asked, &call.asked) >= FIX_SIMILARITY)
                .map(|(j, _)| j);
            let burned: u64 = calls[i..=fix_at.unwrap_or(i)].iter().map(tokens_of).sum();
            let error = error_template(&call.output);
            let group = failures.entry((call.tool.clone(), error.clone())).or_insert_with(|| Group {
                tool: call.tool.clone(),
                error,
                asked: call.asked.clone(),
                failures: Vec::new(),
                fix: None,
                sessions: BTreeSet::new(),
                tokens: 0,
            });
            group.failures.push(place(call));
            group.sessions.insert(s);
            group.tokens += burned;
            if group.fix.is_none() {
                group.fix = fix_at.map(|j| (calls[j].asked.clone(), changed_arguments(&call.args, &calls[j].args), place(&calls[j])));
            }
        }
        let mut repeated: BTreeMap<String, Vec<&Call>> = BTreeMap::new();
        for call in calls.iter().filter(|c| !c.refused) {
            repeated.entry(loop_key(call)).or_default().push(call);
        }
        for same in repeated.into_values().filter(|same| same.len() >= LOOP_CALLS) {
            loops.push(Finding::Loop {
                tool: same[0].tool.clone(),
                asked: same[0].asked.clone(),
                calls: same.iter().map(|c| place(c)).collect(),
                sessions: 1,
                tokens: same.iter().skip(1).map(|c| tokens_of(c)).sum(),
            });
        }
        for call in calls.iter().filter(|c| c.tool.ends_with("headroom_retrieve") && c.args.get("query").is_none_or(Value::is_null)) {
            whole_retrieves.0.push(place(call));
            whole_retrieves.1 += tokens_of(call);
        }
    }
    let mut found: Vec<Finding> = failures
        .into_values()
        .map(|g| Finding::Failure {
            tool: g.tool,
            error: g.error,
            asked: g.asked,
            failures: g.failures,
            fix: g.fix,
            sessions: g.sessions.len(),
            tokens: g.tokens,
        })
        .chain(loops)
        .collect();
    if whole_retrieves.0.len() >= 2 {
        found.push(Finding::WholeRetrieves { calls: whole_retrieves.0, tokens: whole_retrieves.1 });
    }
    // Heaviest first; ties in a fixed order so the output never changes between runs.
    found.sort_by(|a, b| b.weight().cmp(&a.weight()).then_with(|| format!("{a:?}").cmp(&format!("{b:?}"))));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_of_one_kind_share_a_template() {
        let a = error_template("Exit code 1\n(eval):1: no matches found: /Users/a/x/ae6c*.jsonl");
        let b = error_template("Exit code 1\n(eval):1: no matches found: /Users/b/y/6f18*.jsonl");
        assert_eq!(a, b);
        assert_eq!(a, "<*> no matches found: <path>");
        assert!(similarity("ls -lh ~/a/b*.jsonl", "ls -lh ~/a/c*.jsonl") >= FIX_SIMILARITY);
        let call = |asked: &str| Call { line: 1, tool: "Bash".into(), asked: asked.into(), args: Value::Null, output: String::new(), failed: false, refused: false };
        assert_eq!(loop_key(&call("sed -n '1,220p' f.rs | head -40")), loop_key(&call("sed -n '300,520p' f.rs")));
    }

    #[test]
    fn retrievals_of_whole_originals_become_one_finding_and_queried_ones_do_not() {
        let retrieve = |line: usize, args: Value| Call {
            line,
            tool: "mcp__headroom__headroom_retrieve".into(),
            asked: args.to_string(),
            args,
            output: "x".repeat(4_000),
            failed: false,
            refused: false,
        };
        let session = Session {
            agent: super::super::sessions::Agent::Claude,
            path: PathBuf::from("s.jsonl"),
            calls: vec![
                retrieve(3, serde_json::json!({"hash": "a"})),
                retrieve(9, serde_json::json!({"hash": "b", "query": "timeout"})),
                retrieve(12, serde_json::json!({"hash": "c", "query": null})),
            ],
            unreadable_lines: 0,
        };
        let found = find(&[session]);
        let whole: Vec<Vec<usize>> = found
            .iter()
            .filter_map(|f| match f {
                Finding::WholeRetrieves { calls, .. } => Some(calls.iter().map(|p| p.line).collect()),
                _ => None,
            })
            .collect();
        assert_eq!(whole, [vec![3, 12]]);
    }
}
