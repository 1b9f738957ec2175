//! Compaction: an earlier tool output that a later call superseded — a view of a file the agent
//! has since edited or viewed again, the output of a command it ran again — is dead weight in
//! every later call. Replacing it rewrites the conversation from that point, so the provider
//! writes its cache again once; that pays only when the tokens saved on the calls still to come
//! outweigh the rewrite. docs/compaction.md has the cost model and its numbers.
//!
//! Decisions are recorded under the conversation up to the output (not the output's text, which
//! a later, current copy may share), in the replay cache, and re-emitted byte for byte like any
//! first sight: between batches nothing changes.

use crate::request::marker::{self, thousands};
pub use crate::config::CachePrices;
use crate::compressors::numbered;
use crate::request::provider::{Candidate, Conversation, ToolCall};

/// Tokens a batch must save at the least: batches stay rare and each is worth a cache write.
pub const MIN_BATCH_TOKENS: usize = 1_000;

/// The calls still to come are estimated as the calls made so far divided by this: a cautious
/// guess, since an agent can stop at any call (a fix found, a budget spent) and a rewrite that
/// does not pay is a loss on the user's bill.
const CALLS_AHEAD_DIVISOR: f64 = 2.0;

/// Bytes per token, for the estimates this decision runs on.
const BYTES_PER_TOKEN: usize = 4;

/// The later call that superseded `candidate`, if any: one after it on the same file path (or a
/// patch changing that file), or running the same command.
pub fn superseded_by<'c>(conv: &'c Conversation, candidate: &Candidate) -> Option<&'c ToolCall> {
    candidate.call_at?;
    conv.calls.iter().find(|call| {
        call.at > candidate.span.end
            && (candidate.file_path.as_ref().is_some_and(|path| call.path.as_ref() == Some(path) || call.patched.contains(path))
                || candidate.file_path.is_none() && candidate.command.is_some() && call.command == candidate.command)
    })
}

/// Lines kept on each side of the place a later edit changed, in a compacted view.
const EDIT_CONTEXT_LINES: usize = 20;

/// The text that stands for a superseded output: its first line (a tool's header naming the
/// file) when short; for a numbered view, the lines that define something (the file's outline)
/// and the lines around the place the superseding edit changed, with their numbers; and a
/// marker saying what superseded it.
pub fn compacted(candidate: &Candidate, by: &ToolCall) -> String {
    let text = candidate.text;
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.first().filter(|l| l.len() <= 200 && lines.len() > 1);
    let outline = numbered::detect(text);
    let near_edit = if outline { edited_region(&lines, by) } else { None };
    let mut out = String::new();
    let mut kept = 0;
    for (i, line) in lines.iter().enumerate() {
        let keep = i == 0 && first.is_some() || outline && (defines(line) || near_edit.as_ref().is_some_and(|r| r.contains(&i)));
        if keep {
            out.push_str(line);
            out.push('\n');
            kept += 1;
        }
    }
    let what = match (&candidate.file_path, by.edits) {
        (Some(path), true) => format!("{path} was edited after this output"),
        (Some(path), false) => format!("{path} was read again after this output"),
        (None, _) => "the same command ran again after this output".to_string(),
    };
    let omitted = format!("{} of {} lines superseded: {what}", thousands(lines.len() - kept), thousands(lines.len()));
    out.push_str(&marker::marker(&marker::key_for(text), &omitted));
    out
}

/// The lines of a numbered view around the text `by` replaced, widened by
/// [`EDIT_CONTEXT_LINES`]: what the agent was working on when it edited.
fn edited_region(lines: &[&str], by: &ToolCall) -> Option<std::ops::Range<usize>> {
    let replaced: Vec<&str> = by.replaces.as_deref()?.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let start = lines.iter().position(|l| replaced.first().is_some_and(|r| numbered::code_of(l).trim() == *r))?;
    let end = start + replaced.len();
    Some(start.saturating_sub(EDIT_CONTEXT_LINES)..(end + EDIT_CONTEXT_LINES).min(lines.len()))
}

/// Keywords that begin a definition in the languages agents read most.
const DEFINING: [&str; 12] = ["def", "class", "fn", "func", "function", "struct", "enum", "trait", "impl", "interface", "type", "async"];

/// Whether a numbered line's code begins a definition (`   12\t    def f(x):`).
fn defines(line: &str) -> bool {
    let code = numbered::code_of(line).trim_start();
    let code = code.strip_prefix("pub ").unwrap_or(code);
    code.split(|c: char| !c.is_alphanumeric() && c != '_').next().is_some_and(|word| DEFINING.contains(&word))
}

/// Whether compacting outputs that now take `current_bytes` of the request down to
/// `compacted_bytes` (both as JSON strings), the first of them at `first_at`, pays for
/// rewriting the cached conversation from there.
///
/// The previous call's request ended where the latest assistant message begins: the provider
/// caches up to there, and compaction makes it write that part again. The calls still to come
/// are estimated as many as were made so far.
pub fn pays(conv: &Conversation, prices: CachePrices, first_at: usize, current_bytes: usize, compacted_bytes: usize) -> bool {
    let saved = current_bytes.saturating_sub(compacted_bytes) / BYTES_PER_TOKEN;
    if saved < MIN_BATCH_TOKENS {
        return false;
    }
    let cached_end = conv.latest_assistant_at.unwrap_or(first_at).max(first_at);
    let rewritten = ((cached_end - first_at) / BYTES_PER_TOKEN).saturating_sub(saved);
    let calls_ahead = conv.assistant_turns.max(1) as f64 / CALLS_AHEAD_DIVISOR;
    prices.read * saved as f64 * calls_ahead > (prices.write - prices.read) * rewritten as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::spans::parse;
    use headroom_protocol::CompressOptions;

    fn conversation(calls: &[(&str, &str, &str)]) -> String {
        let mut messages = vec![serde_json::json!({"role": "user", "content": "fix the bug"})];
        for (i, (command, path, output)) in calls.iter().enumerate() {
            let args = serde_json::json!({"command": command, "path": path}).to_string();
            messages.push(serde_json::json!({"role": "assistant", "content": "", "tool_calls": [
                {"id": format!("c{i}"), "type": "function", "function": {"name": "str_replace_editor", "arguments": args}}]}));
            messages.push(serde_json::json!({"role": "tool", "tool_call_id": format!("c{i}"), "content": output}));
        }
        serde_json::to_string(&messages).unwrap()
    }

    #[test]
    fn a_view_is_superseded_by_a_later_edit_of_its_file_and_not_by_other_files() {
        let view = format!("Here's the result of running `cat -n` on /w/a.py:\n{}", "     1\tx = 1\n".repeat(50));
        let src = conversation(&[("view", "/w/a.py", &view), ("view", "/w/b.py", "b"), ("str_replace", "/w/a.py", "edited")]);
        let root = parse(&src).unwrap();
        let conv = crate::request::provider::read(&root, &CompressOptions::default()).unwrap();
        let by: Vec<Option<bool>> = conv.candidates.iter().map(|c| superseded_by(&conv, c).map(|s| s.edits)).collect();
        assert_eq!(by, vec![Some(true), None, None]);
        let text = compacted(&conv.candidates[0], superseded_by(&conv, &conv.candidates[0]).unwrap());
        assert!(text.starts_with("Here's the result of running `cat -n` on /w/a.py:\n[headroom: 50 of 51 lines superseded: /w/a.py was edited"), "{text}");
        assert!(text.contains(&marker::key_for(&view)));
    }

    #[test]
    fn a_compacted_view_keeps_its_outline_with_line_numbers() {
        let view = "Here's the result of running `cat -n` on /w/a.py:\n     1\timport os\n     2\tclass Table:\n     3\t    def add_column(self, col):\n     4\t        self.cols.append(col)\n     5\t        return None\n     6\tx = 1\n";
        let src = conversation(&[("view", "/w/a.py", view), ("str_replace", "/w/a.py", "edited")]);
        let root = parse(&src).unwrap();
        let conv = crate::request::provider::read(&root, &CompressOptions::default()).unwrap();
        let by = superseded_by(&conv, &conv.candidates[0]).unwrap();
        let text = compacted(&conv.candidates[0], by);
        assert!(text.contains("     2\tclass Table:\n     3\t    def add_column(self, col):\n[headroom: 4 of 7"), "{text}");
    }

    #[test]
    fn a_batch_pays_when_the_saving_over_the_calls_ahead_beats_the_rewrite() {
        let big = "     1\tx = 1\n".repeat(2_000);
        let src = conversation(&[("view", "/w/a.py", &big), ("str_replace", "/w/a.py", "edited")]);
        let root = parse(&src).unwrap();
        let conv = crate::request::provider::read(&root, &CompressOptions::default()).unwrap();
        let view = &conv.candidates[0];
        let prices = CachePrices::default();
        assert!(pays(&conv, prices, view.span.start, view.span.len(), 100));
        // Too little to save: no batch.
        assert!(!pays(&conv, prices, view.span.start, 3_000, 100));
    }

    #[test]
    fn a_batch_does_not_pay_when_a_long_cached_tail_would_be_written_again() {
        let view = "     1\tx = 1\n".repeat(500);
        let tail = "later output line\n".repeat(20_000);
        let src = conversation(&[("view", "/w/a.py", &view), ("view", "/w/c.py", &tail), ("str_replace", "/w/a.py", "edited")]);
        let root = parse(&src).unwrap();
        let conv = crate::request::provider::read(&root, &CompressOptions::default()).unwrap();
        let first = &conv.candidates[0];
        assert!(!pays(&conv, CachePrices::default(), first.span.start, first.span.len(), 100));
        // Where a cached token costs as much as a fresh one, rewriting is free and always pays.
        assert!(pays(&conv, CachePrices { read: 1.0, write: 1.0 }, first.span.start, first.span.len(), 100));
    }
}
