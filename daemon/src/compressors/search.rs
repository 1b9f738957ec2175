//! The search compressor: grep / ripgrep output (`path:line:text`, context lines `path-line-text`,
//! `path:text` without line numbers, ripgrep's heading mode where a path line is followed by
//! its `line:text` hits, and the `line:text` hits of a search of one file, named by the command).
//!
//! Hits are grouped by file in order of first appearance, so each path is written once. Every file
//! stays listed with its hit count; within the budget the hits with the most query words (in the
//! line or in its path) are kept first, then each file's first hit; when no hit has a query word,
//! each file's second, and so on.
//! Each file's line says how many of its hits are shown, and one marker at the end says how many
//! were left out in all.

use crate::request::marker::{self, thousands};
use crate::request::query::{with_identifier_parts, Query};
use crate::request::shell;
use super::{Compressor, Context};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// Compresses grep / ripgrep output.
pub struct Search;

/// Share of the original bytes to aim for when the caller sets no target ratio.
const DEFAULT_RATIO: f64 = 0.35;
/// Lines the query's share of hits is measured on at most: an even sample tells the share as well
/// as every line does, at a bounded cost.
const SHARE_SAMPLE: usize = 1000;
/// Lines [`detect`] reads: enough to tell, and the router stays fast on huge blocks.
const DETECT_LINES: usize = 400;

/// Whether `text` is grep / ripgrep output: at least 5 `path:line:` hits (100 `line:` hits of the
/// one file `ctx`'s command searched; or, from `grep -r` without `-n`, 8 `path:text` hits whose
/// paths have a directory), and 60 % or more of its non-empty lines are hits, context lines,
/// headings or `--` separators.
pub fn detect(text: &str, ctx: &Context) -> bool {
    let sample = match text.match_indices('\n').nth(DETECT_LINES) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    let searched = ctx.command.and_then(shell::file_searched);
    let parsed = parse(sample, searched.as_deref());
    let non_empty = sample.lines().filter(|l| !l.trim().is_empty()).count();
    // A search of one file that found a few dozen places is the list of places the agent asked
    // for (it reads them next by number): only a broad one is shortened.
    let enough = if searched.is_some() { MIN_ONE_FILE_HITS } else { 5 };
    (parsed.numbered >= enough || parsed.plain >= MIN_PLAIN_HITS) && parsed.structural * 10 >= non_empty * 6
}

/// Hits a search of one file has at least before it is shortened.
const MIN_ONE_FILE_HITS: usize = 100;

/// `path:text` hits (no line numbers) an output needs to be taken for grep's.
const MIN_PLAIN_HITS: usize = 8;

impl Compressor for Search {
    fn name(&self) -> &'static str {
        "search"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let searched = ctx.command.and_then(shell::file_searched);
        let parsed = parse(text, searched.as_deref());
        if parsed.files.is_empty() {
            return None;
        }
        let ratio = ctx.target_ratio.map_or(DEFAULT_RATIO, f64::from);
        let keep = choose(&parsed, ctx.query, (text.len() as f64 * ratio) as usize);

        let mut out = String::with_capacity(text.len() / 2);
        let (mut hits_dropped, mut context_dropped, mut files_cut) = (0, 0, 0);
        for item in &parsed.items {
            let file_index = match item {
                Item::Text(line) => {
                    out.push_str(line);
                    out.push('\n');
                    continue;
                }
                Item::File(i) => *i,
            };
            let file = &parsed.files[file_index];
            let kept = &keep[file_index];
            let hits = file.lines.iter().filter(|l| !l.context).count();
            let hits_shown = file.lines.iter().zip(kept).filter(|(l, k)| **k && !l.context).count();
            let context = file.lines.len() - hits;
            let context_shown = kept.iter().filter(|k| **k).count() - hits_shown;
            out.push_str(file.path);
            out.push_str(&format!(" ({}", count(hits, "hit")));
            if hits_shown < hits {
                out.push_str(&format!(", {} shown", thousands(hits_shown)));
            }
            if context_shown < context {
                out.push_str(&format!("; {} not shown", count(context - context_shown, "context line")));
            }
            out.push_str(")\n");
            if hits_shown < hits || context_shown < context {
                files_cut += 1;
            }
            hits_dropped += hits - hits_shown;
            context_dropped += context - context_shown;
            for line in file.lines.iter().zip(kept).filter(|(_, k)| **k).map(|(l, _)| l) {
                out.push_str("  ");
                if let Some(number) = line.number {
                    out.push_str(number);
                    out.push_str(if line.context { "- " } else { ": " });
                }
                out.push_str(line.text.trim_start());
                out.push('\n');
            }
        }
        if hits_dropped + context_dropped > 0 {
            let total_hits = parsed.files.iter().flat_map(|f| &f.lines).filter(|l| !l.context).count();
            let mut what = format!("omitted {} of {}", thousands(hits_dropped), count(total_hits, "hit"));
            if context_dropped > 0 {
                what.push_str(&format!(" and {}", count(context_dropped, "context line")));
            }
            what.push_str(&format!(" in {}; counts per file above", count(files_cut, "file")));
            out.push_str(&marker::marker(ctx.key, &what));
        }
        (out.len() < text.len()).then_some(out)
    }
}

fn count(n: usize, unit: &str) -> String {
    marker::counted(n, unit, &format!("{unit}s"))
}

/// A hit or context line: its line number when the output has them, and its text.
struct Line<'a> {
    number: Option<&'a str>,
    text: &'a str,
    context: bool,
}

/// One file's lines, in the order they came.
struct FileHits<'a> {
    path: &'a str,
    lines: Vec<Line<'a>>,
}

/// Output order: a file where it first appeared, or a line that is not a hit (`Binary file …
/// matches`, a tool's note), kept as it is.
enum Item<'a> {
    File(usize),
    Text(&'a str),
}

struct Parsed<'a> {
    files: Vec<FileHits<'a>>,
    items: Vec<Item<'a>>,
    /// Hits with a line number.
    numbered: usize,
    /// Hits without one, from paths with a directory (`src/a.py:text`).
    plain: usize,
    /// Lines that were hits, context, headings or separators.
    structural: usize,
}

/// Whether `p` reads as a file path: no spaces, quotes or code punctuation, and a directory
/// separator or a file extension.
fn looks_like_path(p: &str) -> bool {
    if p.is_empty() || p.chars().any(|c| c.is_whitespace() || "\"'<>|;=(){},".contains(c)) {
        return false;
    }
    if p.contains('/') || p.contains('\\') {
        return true;
    }
    p.rsplit_once('.').is_some_and(|(_, ext)| {
        (1..=10).contains(&ext.len())
            && ext.bytes().all(|b| b.is_ascii_alphanumeric())
            && ext.bytes().any(|b| b.is_ascii_alphabetic())
    })
}

/// `digits` + separator at the start of `s`: the number, the separator and the rest.
fn numbered(s: &str) -> Option<(&str, u8, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let sep = *s.as_bytes().get(digits)?;
    (digits > 0 && (sep == b':' || sep == b'-')).then(|| (&s[..digits], sep, &s[digits + 1..]))
}

/// `path:NUM:text` (a hit) or `path:NUM-text` (a context line).
fn path_numbered(line: &str) -> Option<(&str, &str, u8, &str)> {
    let (path, rest) = line.split_once(':')?;
    let (number, sep, text) = numbered(rest)?;
    looks_like_path(path).then_some((path, number, sep, text))
}

/// `path-NUM-text`, grep's context line, for a `path` already seen in a hit (a path may itself
/// hold `-NUM-`, so only known paths are trusted; none is longer than `longest`).
fn known_context<'a>(line: &'a str, known: &BTreeSet<&str>, longest: usize) -> Option<(&'a str, &'a str, &'a str)> {
    line.match_indices('-').take_while(|(at, _)| *at <= longest).find_map(|(at, _)| {
        let path = &line[..at];
        let (number, sep, text) = numbered(&line[at + 1..])?;
        (sep == b'-' && known.contains(path)).then_some((path, number, text))
    })
}

/// `text` parsed; `searched` is the one file the command searched, whose hits come as
/// `NUM:text` with no path.
fn parse<'a>(text: &'a str, searched: Option<&'a str>) -> Parsed<'a> {
    let lines: Vec<&str> = text.lines().collect();
    let with_paths: Vec<_> = lines.iter().map(|l| path_numbered(l)).collect();
    let known: BTreeSet<&str> = with_paths.iter().flatten().filter(|h| h.2 == b':').map(|h| h.0).collect();
    let longest = known.iter().map(|p| p.len()).max().unwrap_or(0);
    let mut parsed = Parsed { files: Vec::new(), items: Vec::new(), numbered: 0, plain: 0, structural: 0 };
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut heading: Option<&str> = None;
    for (i, &line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            heading = None;
            continue;
        }
        let (path, number, context, text) = if line == "--" {
            parsed.structural += 1;
            continue;
        } else if let Some((path, (number, sep, text))) = heading.or(searched).zip(numbered(line)) {
            (path, Some(number), sep == b'-', text)
        } else if let Some((path, number, b':', text)) = with_paths[i] {
            (path, Some(number), false, text)
        } else if let Some((path, number, text)) = known_context(line, &known, longest) {
            (path, Some(number), true, text)
        } else if let Some((path, number, _, text)) = with_paths[i] {
            (path, Some(number), true, text)
        } else if let Some((path, text)) = line.split_once(':').filter(|(p, _)| looks_like_path(p)) {
            (path, None, false, text)
        } else if looks_like_path(line) && lines.get(i + 1).and_then(|next| numbered(next)).is_some() {
            heading = Some(line);
            parsed.structural += 1;
            continue;
        } else {
            parsed.items.push(Item::Text(line));
            continue;
        };
        parsed.structural += 1;
        if number.is_some() && !context {
            parsed.numbered += 1;
        }
        if number.is_none() && path.contains('/') {
            parsed.plain += 1;
        }
        let at = *index.entry(path).or_insert_with(|| {
            parsed.files.push(FileHits { path, lines: Vec::new() });
            parsed.items.push(Item::File(parsed.files.len() - 1));
            parsed.files.len() - 1
        });
        parsed.files[at].lines.push(Line { number, text, context });
    }
    parsed
}

/// Which lines of each file to show within `budget` bytes. In order: lines with the most query
/// words (the path's matching words count for each of its lines), hits before context lines,
/// then each file's first hit, second hit, and so on. The most relevant hit is kept even past the
/// budget.
fn choose(parsed: &Parsed<'_>, query: &str, budget: usize) -> Vec<Vec<bool>> {
    let query = Query::new(query);
    let texts: Vec<String> = parsed.files.iter().flat_map(|f| &f.lines).map(|l| with_identifier_parts(l.text)).collect();
    let step = texts.len().div_ceil(SHARE_SAMPLE).max(1);
    let text_query = query.discriminative(texts.iter().step_by(step).map(String::as_str), 0.5);
    let path_query = query.discriminative(parsed.files.iter().map(|f| f.path), 0.5);

    let mut spent: usize = parsed.files.iter().map(|f| f.path.len() + 12).sum::<usize>()
        + parsed.items.iter().map(|i| if let Item::Text(t) = i { t.len() + 1 } else { 0 }).sum::<usize>();
    // (score, context?, rank within the file, file, line): sorted, this is the order of keeping.
    let mut order = Vec::new();
    let mut texts = texts.iter();
    for (f, file) in parsed.files.iter().enumerate() {
        let path_score = path_query.hits(file.path);
        let mut rank = 0;
        for (l, line) in file.lines.iter().enumerate() {
            let score = texts.next().map_or(0, |text| text_query.hits(text));
            let score = if score > 0 || !line.context { score + path_score } else { 0 };
            order.push((Reverse(score), line.context, rank, f, l));
            if !line.context {
                rank += 1;
            }
        }
    }
    order.sort_unstable();

    // When the question's words pick out hits, the others show only each file's first.
    let picked = order.first().is_some_and(|&(Reverse(score), ..)| score > 0);
    let mut keep: Vec<Vec<bool>> = parsed.files.iter().map(|f| vec![false; f.lines.len()]).collect();
    for (n, &(Reverse(score), _, rank, f, l)) in order.iter().enumerate() {
        if picked && score == 0 && rank > 0 {
            break;
        }
        let line = &parsed.files[f].lines[l];
        let cost = 4 + line.number.map_or(0, str::len) + line.text.trim_start().len();
        if spent + cost <= budget || (n == 0 && score > 0) {
            keep[f][l] = true;
            spent += cost;
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(query: &str) -> Context<'_> {
        Context { query, key: "0123456789abcdef01234567", ..Context::default() }
    }

    /// `grep -rn "def "` over a CPython-like tree: a few hundred definitions in 24 files.
    fn grep_defs() -> String {
        let files = [
            "Lib/asyncio/base_events.py",
            "Lib/asyncio/events.py",
            "Lib/asyncio/streams.py",
            "Lib/asyncio/selector_events.py",
            "Lib/asyncio/proactor_events.py",
            "Lib/asyncio/unix_events.py",
            "Lib/asyncio/tasks.py",
            "Lib/asyncio/futures.py",
            "Lib/http/client.py",
            "Lib/http/server.py",
            "Lib/socket.py",
            "Lib/ssl.py",
            "Lib/json/decoder.py",
            "Lib/json/encoder.py",
            "Lib/urllib/request.py",
            "Lib/urllib/parse.py",
            "Lib/logging/__init__.py",
            "Lib/logging/handlers.py",
            "Lib/subprocess.py",
            "Lib/threading.py",
            "Lib/selectors.py",
            "Lib/email/message.py",
            "Lib/pathlib/_local.py",
            "Lib/shutil.py",
        ];
        let names = [
            "__init__", "__repr__", "close", "is_closed", "run_forever", "run_until_complete", "stop",
            "call_soon", "call_later", "call_at", "time", "create_future", "create_task", "getaddrinfo",
            "getnameinfo", "sock_connect", "sock_accept", "sock_recv", "sock_sendall", "connect_read_pipe",
            "connect_write_pipe", "subprocess_shell", "subprocess_exec", "add_reader", "remove_reader",
            "add_writer", "remove_writer", "set_exception_handler", "default_exception_handler",
            "call_exception_handler", "get_debug", "set_debug", "shutdown_asyncgens", "_check_closed",
            "_make_socket_transport", "_make_ssl_transport", "_process_events", "_write_to_self",
        ];
        let mut out = String::new();
        for (f, path) in files.iter().enumerate() {
            let count = 8 + (f * 7) % 11;
            for k in 0..count {
                let name = names[(f * 5 + k * 3) % names.len()];
                let line = 40 + k * 37 + f;
                let indent = if k % 3 == 0 { "" } else { "    " };
                out.push_str(&format!("{path}:{line}:{indent}def {name}(self, *args, **kwargs):\n"));
                if f == 0 && k == 6 {
                    out.push_str(&format!(
                        "{path}:1029:    async def create_connection(self, protocol_factory, host=None, port=None, *, ssl=None):\n"
                    ));
                }
            }
        }
        out
    }

    #[test]
    fn grep_output_keeps_the_definition_asked_for() {
        let text = grep_defs();
        assert!(text.lines().count() > 250);
        assert!(detect(&text, &Context::default()));
        let out = Search.compress(&text, &ctx("Where is create_connection defined in asyncio?")).unwrap();
        assert!(out.len() * 2 <= text.len(), "{} of {} bytes", out.len(), text.len());
        let file = out.lines().position(|l| l.starts_with("Lib/asyncio/base_events.py (")).unwrap();
        let hit = out.lines().position(|l| l.contains("1029: async def create_connection(self")).unwrap();
        assert!(hit > file && out.lines().skip(file + 1).take(hit - file).all(|l| l.starts_with("  ")));
        for path in text.lines().map(|l| l.split(':').next().unwrap()) {
            assert!(out.contains(&format!("\n{path} (")) || out.starts_with(&format!("{path} (")), "{path} is listed");
        }
        // Files off the question show their first hit only.
        assert!(out.contains("Lib/shutil.py (15 hits, 1 shown)\n  63: def __repr__("), "{out}");
        assert_eq!(marker::keys_in(&out), vec!["0123456789abcdef01234567".to_string()]);
        assert_eq!(out.matches("[headroom: ").count(), 1);
    }

    #[test]
    fn the_question_s_words_are_found_inside_identifiers() {
        let text = include_str!("../../../tests/fixtures/code/pflag_grep_func.txt");
        let tight = Context { target_ratio: Some(0.1), ..ctx("Which functions mark something deprecated or hidden?") };
        let out = Search.compress(text, &tight).unwrap();
        assert!(out.len() * 5 <= text.len(), "{} of {} bytes", out.len(), text.len());
        // `MarkDeprecated` holds the question's words only as parts of its name, among 71 hits
        // of its file.
        for name in ["MarkDeprecated(", "MarkShorthandDeprecated(", "MarkHidden("] {
            assert!(out.contains(name), "{name} lost: {out}");
        }
    }

    #[test]
    fn every_file_keeps_its_first_hit_when_the_budget_allows() {
        let text = grep_defs();
        let out = Search.compress(&text, &ctx("")).unwrap();
        let mut seen = BTreeSet::new();
        for line in text.lines() {
            let (path, number, _, hit) = path_numbered(line).unwrap();
            if seen.insert(path) {
                assert!(out.contains(&format!("  {number}: {}\n", hit.trim_start())), "{path} shows its first hit");
            }
        }
        assert_eq!(seen.len(), 24);
    }

    #[test]
    fn context_lines_headings_and_plain_hits_are_read() {
        let rg = "src/a-1-b.rs-9-fn before() {}\nsrc/a-1-b.rs:10:fn hit() {}\nsrc/a-1-b.rs-11-}\n--\nsrc/c.rs:3:x\n";
        let parsed = parse(rg, None);
        assert_eq!(parsed.files.len(), 2);
        let a = &parsed.files[0];
        assert_eq!(a.path, "src/a-1-b.rs");
        let shape: Vec<_> = a.lines.iter().map(|l| (l.number, l.context, l.text)).collect();
        assert_eq!(shape, vec![(Some("9"), true, "fn before() {}"), (Some("10"), false, "fn hit() {}"), (Some("11"), true, "}")]);

        let heading = "src/lib.rs\n12:pub fn one() {}\n40-// context\n\nsrc/main.rs\n3:fn main() {}\n";
        let parsed = parse(heading, None);
        assert_eq!(parsed.files.iter().map(|f| (f.path, f.lines.len())).collect::<Vec<_>>(), vec![("src/lib.rs", 2), ("src/main.rs", 1)]);
        assert_eq!(parsed.numbered, 2);

        let plain = parse("README.md:see the docs\nBinary file x.bin matches\n", None);
        assert_eq!(plain.files[0].lines[0].number, None);
        assert!(matches!(plain.items[1], Item::Text("Binary file x.bin matches")));
    }

    #[test]
    fn a_search_of_one_file_is_read_with_the_path_its_command_gave() {
        let hits: String = (0..120).map(|i| format!("{}:    value{i} = parse(card)\n", i * 7 + 3)).collect();
        assert!(!detect(&hits, &Context::default()), "numbers alone are no search");
        let command = Context { command: Some("grep -n parse astropy/io/fits/card.py"), ..Context::default() };
        assert!(detect(&hits, &command));
        let out = Search.compress(&hits, &Context { query: "where is value7 parsed?", ..command }).unwrap();
        assert!(out.starts_with("astropy/io/fits/card.py (120 hits, "), "{out}");
        let few: String = hits.lines().take(60).map(|l| format!("{l}\n")).collect();
        assert!(!detect(&few, &command), "a few dozen places are what the agent asked for");
        assert!(out.contains("  52: value7 = parse(card)\n"), "{out}");
    }

    #[test]
    fn logs_and_prose_are_not_search_output() {
        let logs = include_str!("../../../tests/fixtures/logs/OpenStack_2k.log");
        assert!(!detect(logs, &Context::default()));
        let zookeeper = include_str!("../../../tests/fixtures/logs/Zookeeper_2k.log");
        assert!(!detect(zookeeper, &Context::default()));
        assert!(!detect(include_str!("../../../tests/fixtures/logs/LICENSE-loghub"), &Context::default()));
        assert!(!detect("a/b.py:1:x\nc/d.py:2:y\n", &Context::default()), "too few hits to tell");
    }

    #[test]
    fn grep_without_line_numbers_is_search_output() {
        let defs: String = ["hdu/base.py", "hdu/hdulist.py", "header.py", "card.py"]
            .iter()
            .flat_map(|f| (0..3).map(move |i| format!("astropy/io/fits/{f}:    x{i} = Header.fromstring(data)\n")))
            .collect();
        assert!(detect(&defs, &Context::default()));
        let out = Search.compress(&defs, &ctx("where is fromstring called?")).unwrap();
        assert_eq!(out.matches("astropy/io/fits/header.py").count(), 1, "{out}");
        // Paths without a directory are too likely to be something else: `note: text` lines.
        assert!(!detect(&"README.md: see the docs\n".repeat(10), &Context::default()));
    }

    #[test]
    fn small_outputs_are_regrouped_without_a_marker() {
        let text = "src/engine/router.rs:10:use super::json::Json;\nsrc/engine/router.rs:11:use super::logs::Logs;\n\
                    src/engine/router.rs:12:use super::diff::Diff;\nsrc/engine/mod.rs:6:pub mod diff;\n";
        let out = Search.compress(text, &Context { target_ratio: Some(1.0), ..ctx("") }).unwrap();
        assert_eq!(
            out,
            "src/engine/router.rs (3 hits)\n  10: use super::json::Json;\n  11: use super::logs::Logs;\n  12: use super::diff::Diff;\n\
             src/engine/mod.rs (1 hit)\n  6: pub mod diff;\n"
        );
    }
}
