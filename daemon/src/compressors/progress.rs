//! Progress lines: a build or an installer announcing each step on a line of its own — cargo's
//! `Compiling serde v1.0.209`, Django's `Applying auth.0001_initial... OK`, pip's `Collecting
//! requests`, setuptools' `copying src/app/cli.py -> build/lib/app`, an install's `changing
//! mode of /usr/lib/x.so to 755`. Dozens of them say one thing: each step ran. A run of them
//! keeps its first and last lines and names the steps between in one note, `[… 44 more
//! Compiling lines: libc, cfg-if, …]`, paths sharing a directory and an ending written once
//! around a brace list (`src/app/{cli, util}.py`); a step that ended otherwise (`FAILED`, a
//! path after the version) breaks the run and stays, and so does every other line.

use super::logs::digits_as;
use crate::request::marker::{self, thousands};
use std::collections::HashMap;

/// Lines a run has at least: fewer say little more than their note would.
const MIN_RUN: usize = 8;
/// Words a progress line has at most: longer lines are messages, not steps.
const MAX_WORDS: usize = 8;
/// Characters a shared directory and ending must have between them to be written once.
const MIN_FACTORED: usize = 6;

/// A progress line's parts: its indentation, its verb (`Compiling`, `copying`) and the words
/// after it, as written and with each run of digits one `0` (`v0.2.158` and `v1.0.0` are one
/// shape).
struct Step<'a> {
    indent: usize,
    verb: &'a str,
    words: Vec<&'a str>,
    masked: Vec<String>,
}

/// `line` as a progress step: a verb — capitalised (`Compiling`, not a level such as `INFO`:
/// a log's lines are its own compressor's) or a lowercase `-ing` word (`copying`) — and a few
/// words after it.
fn step(line: &str) -> Option<Step<'_>> {
    let indent = line.len() - line.trim_start().len();
    let mut words = line.split_whitespace();
    let verb = words.next()?;
    let words: Vec<&str> = words.collect();
    let mut letters = verb.chars();
    let capitalised = letters.next().is_some_and(|c| c.is_ascii_uppercase()) && letters.all(|c| c.is_ascii_lowercase());
    let participle = verb.ends_with("ing") && verb.chars().all(|c| c.is_ascii_lowercase() || c == '-');
    if verb.len() < 4 || !(capitalised || participle) || words.is_empty() || words.len() + 1 > MAX_WORDS {
        return None;
    }
    let masked = words.iter().map(|w| digits_as(w, '0')).collect();
    Some(Step { indent, verb, words, masked })
}

/// Where `b` differs from `a`, both steps of one verb, indentation and length: `Some(None)`
/// when only in digits, `Some(Some(i))` when in word `i` alone, `None` otherwise.
fn differs_at(a: &Step, b: &Step) -> Option<Option<usize>> {
    if a.indent != b.indent || a.verb != b.verb || a.words.len() != b.words.len() {
        return None;
    }
    let mut at = (0..a.masked.len()).filter(|&i| a.masked[i] != b.masked[i]);
    let first = at.next();
    at.next().is_none().then_some(first)
}

/// The end of the run of steps starting at `at` that differ from it in one word (or digits
/// alone), and that word's index; `None` when the lines there differ in digits alone.
fn run(steps: &[Option<Step>], at: usize) -> (usize, Option<usize>) {
    let Some(first) = &steps[at] else { return (at + 1, None) };
    let mut word = None;
    for (j, step) in steps.iter().enumerate().skip(at + 1) {
        match step.as_ref().and_then(|s| differs_at(first, s)) {
            Some(None) => {}
            Some(Some(i)) if word.is_none_or(|w| w == i) => word = Some(i),
            _ => return (j, word),
        }
    }
    (steps.len(), word)
}

/// `steps` for a note: when most share a directory and an ending, those written once around
/// a brace list (`…/lib-dynload/{_bz2, _ssl}.cpython-311-x86_64-linux-gnu.so`) and the others
/// after it; else the steps as they are.
fn factored(steps: &[&str]) -> String {
    fn most<'a>(steps: &[&'a str], part: impl Fn(&'a str) -> &'a str) -> &'a str {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        steps.iter().for_each(|s| *counts.entry(part(s)).or_default() += 1);
        counts.into_iter().filter(|(_, n)| n * 2 >= steps.len()).max_by_key(|(p, n)| (*n, p.len())).map_or("", |(p, _)| p)
    }
    fn directory(path: &str) -> &str {
        path.rfind('/').map_or("", |i| &path[..=i])
    }
    fn ending(path: &str) -> &str {
        let name = path.rfind('/').map_or(0, |i| i + 1);
        path[name..].find('.').map_or("", |i| &path[name + i..])
    }
    let (prefix, suffix) = (most(steps, directory), most(steps, ending));
    if prefix.len() + suffix.len() < MIN_FACTORED {
        return steps.join(", ");
    }
    let fits = |s: &str| s.len() > prefix.len() + suffix.len() && s.starts_with(prefix) && s.ends_with(suffix);
    let inside: Vec<&str> = steps.iter().filter(|s| fits(s)).map(|s| &s[prefix.len()..s.len() - suffix.len()]).collect();
    let outside: Vec<&str> = steps.iter().copied().filter(|s| !fits(s)).collect();
    let mut out = format!("{prefix}{{{}}}{suffix}", inside.join(", "));
    if !outside.is_empty() {
        out.push_str("; ");
        out.push_str(&outside.join(", "));
    }
    out
}

/// `text` with each run of [`MIN_RUN`] or more progress lines of one verb, indentation and
/// shape, differing in one word that names a step of its own on each line, written as its
/// first line, a note naming the steps between and its last line, with what a marker should
/// say went; `None` when there is no such run.
pub fn collapse(text: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = text.split('\n').collect();
    let steps: Vec<Option<Step>> = lines.iter().map(|l| step(l.strip_suffix('\r').unwrap_or(l))).collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let (mut runs, mut named) = (0usize, 0usize);
    let mut at = 0;
    while at < lines.len() {
        let (end, word) = run(&steps, at);
        // Steps are distinct things (crates, files); a line said of one thing again and again
        // (`Retrying connection to 10.0.0.5`, differing in digits alone) is no progress list.
        let named_step = |j: usize| steps[j].as_ref().zip(word).map(|(s, w)| s.words[w].trim_end_matches('.'));
        let distinct = || (at..end).filter_map(named_step).collect::<std::collections::HashSet<_>>().len() == end - at;
        if word.is_none() || end - at < MIN_RUN || !distinct() {
            out.extend(lines[at..end].iter().map(|l| l.to_string()));
            at = end;
            continue;
        }
        let Step { indent, verb, .. } = steps[at].as_ref().expect("a step");
        let middle: Vec<&str> = (at + 1..end - 1).filter_map(named_step).collect();
        out.push(lines[at].to_string());
        out.push(format!("{}[… {} more {verb} lines: {} …]", " ".repeat(*indent), thousands(middle.len()), factored(&middle)));
        out.push(lines[end - 1].to_string());
        runs += 1;
        named += middle.len();
        at = end;
    }
    if runs == 0 {
        return None;
    }
    let what = format!("{} progress lines named in {} (each like the lines around it but for its step and digits)", thousands(named), marker::counted(runs, "note", "notes"));
    Some((out.join("\n"), what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_build_steps_keeps_its_ends_and_names_the_rest() {
        let crates = ["libc v0.2.158", "cfg-if v1.0.0", "memchr v2.7.4", "serde v1.0.209", "quote v1.0.37", "syn v2.0.77", "bytes v1.7.1", "itoa v1.0.11", "log v0.4.22", "tokio v1.40.0"];
        let mut text: String = crates.iter().map(|c| format!("   Compiling {c}\n")).collect();
        text.push_str("   Compiling myapp v0.1.0 (/w/myapp)\nerror[E0308]: mismatched types\n");
        let (out, what) = collapse(&text).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "   Compiling libc v0.2.158");
        assert_eq!(lines[1], "   [… 8 more Compiling lines: cfg-if, memchr, serde, quote, syn, bytes, itoa, log …]");
        assert_eq!(lines[2], "   Compiling tokio v1.40.0");
        // The local crate's line ends otherwise (its path): it stays, as does the error.
        assert_eq!(lines[3..5], ["   Compiling myapp v0.1.0 (/w/myapp)", "error[E0308]: mismatched types"]);
        assert_eq!(what, "8 progress lines named in 1 note (each like the lines around it but for its step and digits)");
    }

    #[test]
    fn a_step_that_ended_otherwise_breaks_the_run_and_stays() {
        // Django's own auth migrations, as `migrate` applies them.
        let names = [
            "0001_initial", "0002_alter_permission_name_max_length", "0003_alter_user_email_max_length", "0004_alter_user_username_opts",
            "0005_alter_user_last_login_null", "0006_require_contenttypes_0002", "0007_alter_validators_add_error_messages",
            "0008_alter_user_username_max_length", "0009_alter_user_last_name_max_length", "0010_alter_group_name_max_length",
            "0011_update_proxy_permissions", "0012_alter_user_first_name_max_length",
        ];
        let line = |n: &str, end: &str| format!("  Applying auth.{n}... {end}\n");
        let mut text: String = names[..9].iter().map(|n| line(n, "OK")).collect();
        text.push_str(&line(names[9], "FAILED"));
        text.extend(names[10..].iter().map(|n| line(n, "OK")));
        let (out, _) = collapse(&text).unwrap();
        assert!(out.contains("  [… 7 more Applying lines: auth.0002_alter_permission_name_max_length, "), "{out}");
        assert!(out.contains("\n  Applying auth.0010_alter_group_name_max_length... FAILED\n  Applying auth.0011_update_proxy_permissions... OK\n"), "{out}");
    }

    #[test]
    fn a_setuptools_build_names_every_file_once_around_their_shared_directory() {
        let build = include_str!("../../../tests/fixtures/builds/navv_wheel_build.txt");
        let (out, _) = collapse(build).unwrap();
        // The step is the one word that changes (the source path), wherever it sits; the
        // files of one directory are written once around a brace list.
        assert!(out.contains("\n  copying src/navv/__init__.py -> build/lib/navv\n  [… 12 more copying lines: src/navv/{spreadsheet_tools, commands, validators, data_types, utilities, _version, bll, network_analysis, __main__, zeek, geolocation, elevadr}.py …]\n  copying src/navv/message_handler.py -> build/lib/navv\n"), "{out}");
        // Every file the build added is still named, and every line that is no step stays.
        for line in build.lines() {
            if let Some(file) = line.trim().strip_prefix("adding '").and_then(|f| f.strip_suffix('\'')) {
                assert!(out.contains(file), "{file}");
            } else if !line.trim_start().starts_with("copying ") {
                assert!(out.contains(line), "{line}");
            }
        }
        assert!(out.len() + 1_000 < build.len(), "{} -> {}", build.len(), out.len());
    }

    #[test]
    fn lowercase_progress_is_an_ing_verb() {
        let paths: String = (0..10).map(|i| format!("changing mode of /usr/lib/x/mod{}.so to 755\n", ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"][i])).collect();
        let (out, _) = collapse(&paths).unwrap();
        assert_eq!(out.lines().nth(1), Some("[… 8 more changing lines: /usr/lib/x/{modb, modc, modd, mode, modf, modg, modh, modi}.so …]"));
        let errors: String = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"].iter().map(|m| format!("error loading /usr/lib/x/{m}.so\n")).collect();
        assert_eq!(collapse(&errors), None, "`error` is no verb of progress: each line is evidence");
    }

    #[test]
    fn log_lines_and_repeats_of_one_step_are_no_progress() {
        let levels: String = (0..12).map(|i| format!("INFO Processed batch {i}\n")).collect();
        assert_eq!(collapse(&levels), None);
        let retries: String = (0..12).map(|i| format!("Retrying connection to 10.0.0.{i}\n")).collect();
        assert_eq!(collapse(&retries), None, "the hosts differ only in digits: they are evidence");
    }

    #[test]
    fn prose_code_and_short_runs_are_left_alone() {
        assert_eq!(collapse("Compiling a v1\nCompiling b v1\nCompiling c v1\n"), None);
        assert_eq!(collapse(include_str!("../engine/router.rs")), None);
        assert_eq!(collapse(include_str!("../../../tests/fixtures/logs/LICENSE-loghub")), None);
    }
}
