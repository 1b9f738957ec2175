//! The logs compressor: keeps what explains a failure and counts the rest.
//!
//! Lines are grouped into entries (a line with a timestamp or level, plus the continuation lines
//! of a stack trace). Each entry gets a severity and a template (its words with every token that
//! holds a digit or names a file path masked). Kept verbatim, in this order until the budget is
//! spent:
//!
//! 1. error-level entries (ERROR, FATAL, CRITICAL, exceptions, stack traces): one of each
//!    template always, even past the budget, the others while it lasts if they show a trace or
//!    a value that names something (a host, a user, a block) no kept one of theirs showed;
//! 2. the first and last entries;
//! 3. entries matching the query's discriminative words;
//! 4. warning-level entries, one of each template before a second of any, rarest first;
//! 5. entries whose template occurs only once (anomalies).
//!
//! Omitted runs become `[… N lines (a–b) …]`, and one marker at the end names the omitted
//! templates with their counts, the range of their numeric fields and the values that are
//! evidence: hosts and users, the files an install or a build touched (grouped by directory),
//! and the values the question's words pick out.

use crate::request::query::Query;
use super::{add_to_group, Compressor, Context};
use crate::request::marker;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// Compresses log output.
pub struct Logs;

/// Share of the input's bytes the kept entries may use, when the caller sets no target.
pub(crate) const DEFAULT_BUDGET: f64 = 0.08;
/// A budget never below this many bytes, so small logs keep their substance.
const MIN_BUDGET: usize = 2_000;
/// Templates named in the marker.
const TEMPLATES_SHOWN: usize = 6;
/// Longest template text shown in the marker.
const TEMPLATE_CHARS: usize = 110;
/// Query words found in more than this share of entries tell nothing apart.
const QUERY_MAX_SHARE: f64 = 0.05;

/// Whether `text` reads as a log: enough lines, most of them starting like log records — or,
/// whatever its timestamps (epoch seconds, sequence numbers, none), many lines sharing a few
/// templates (see [`repetitive`]).
pub fn detect(text: &str) -> bool {
    let mut lines = 0usize;
    let mut records = 0usize;
    let mut files = 0usize;
    for line in text.lines().filter(|l| !l.trim().is_empty()).take(400) {
        lines += 1;
        if starts_record(line) {
            records += 1;
        }
        if long_listing_entry(line) {
            files += 1;
        }
    }
    // `ls -l` prints a clock on every line, but each line is one file: folding them into
    // templates would part every name from its size and date.
    let listing = files * 2 >= lines;
    !listing && (lines >= 8 && records * 10 >= lines * 6 || repetitive(text))
}

/// Whether `line` is an entry of `ls -l`: a file type and nine permission letters
/// (`drwxr-xr-x`, `-rw-r--r--@`, `lrwxrwxrwx.`) before the link count.
fn long_listing_entry(line: &str) -> bool {
    let Some(mode) = line.split_whitespace().next() else { return false };
    let mode = mode.trim_end_matches(['@', '+', '.']);
    let bytes = mode.as_bytes();
    bytes.len() == 10 && b"-dlcbps".contains(&bytes[0]) && bytes[1..].iter().all(|b| b"rwxsStT-".contains(b))
}

/// Lines a block needs before repetition alone makes it a log.
const MIN_REPETITIVE_LINES: usize = 40;
/// Lines per template, on average, from which a block is repetitive.
const LINES_PER_TEMPLATE: usize = 4;

/// Whether most of a long block's lines share a few templates (their words, with every token
/// holding a digit masked): what makes a log a log, clock or no clock.
pub(crate) fn repetitive(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(400).collect();
    if lines.len() < MIN_REPETITIVE_LINES {
        return false;
    }
    let mut shapes: Vec<u64> = lines.iter().map(|line| shape_of(line)).collect();
    shapes.sort_unstable();
    shapes.dedup();
    shapes.len() * LINES_PER_TEMPLATE <= lines.len()
}

/// `text` with each run of digits written as one `mark`: the shape values share when they
/// differ only in their numbers (`v0.2.158` and `v1.0.0`, `sed -n '40,180p'` and `'1800,2180p'`).
pub fn digits_as(text: &str, mark: char) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with(mark) {
            out.push(mark);
        }
    }
    out
}

/// A line's tokens with every token holding a digit masked as `<*>`: lines of one template
/// (one log statement, one kind of error) come out alike. `headroom learn` groups error texts so.
pub fn template_tokens(line: &str) -> impl Iterator<Item = &str> {
    line.split_whitespace().map(|token| if has_digit(token) { "<*>" } else { token })
}

/// A line's template tokens with file paths masked too: a build's `copying src/a.py -> build/lib`
/// lines are one statement whatever the files, so an install log is a log like any other.
fn shape_tokens(line: &str) -> impl Iterator<Item = &str> {
    line.split_whitespace().map(|token| if has_digit(token) || is_path(token) { "<*>" } else { token })
}

/// Whether a token names a file or directory: a `/` between two names (`docutils/io.py`,
/// `/usr/lib/`), not a ratio's or a date's, which hold digits and are masked anyway.
fn is_path(token: &str) -> bool {
    let token = token.trim_matches(|c: char| "'\"`,;:()[]".contains(c));
    token.len() > 2 && token.contains('/') && !token.contains("://") && token.split('/').filter(|part| !part.is_empty()).count() >= 2
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+~@".contains(&b))
}

/// A hash of a line's template.
fn shape_of(line: &str) -> u64 {
    let mut shape = DefaultHasher::new();
    for token in shape_tokens(line) {
        token.hash(&mut shape);
    }
    shape.finish()
}

/// Whether a line opens a log record: a timestamp near its start, a syslog process tag, or a
/// level word.
fn starts_record(line: &str) -> bool {
    let end = line.char_indices().nth(48).map_or(line.len(), |(i, _)| i);
    let head = &line[..end];
    has_time(head) || has_date(head) || has_process_tag(head) || severity_of_level(line).is_some()
}

/// A syslog process tag (`sshd[4121]:`, `postfix/smtpd[77]:`) among the words of `head`: what
/// opens a daemon's record when the journal or a test fixture leaves the clock out.
fn has_process_tag(head: &str) -> bool {
    head.split_whitespace().any(|word| {
        let Some((name, pid)) = word.strip_suffix("]:").and_then(|w| w.split_once('[')) else { return false };
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b)) && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
    })
}

/// `HH:MM` (with optional `:SS`) somewhere in `head`.
fn has_time(head: &str) -> bool {
    let b = head.as_bytes();
    b.windows(5).any(|w| w[0].is_ascii_digit() && w[1].is_ascii_digit() && w[2] == b':' && w[3].is_ascii_digit() && w[4].is_ascii_digit())
}

/// `YYYY-MM-DD`, `YY/MM/DD` or a compact `YYMMDD HHMMSS` pair in `head`.
fn has_date(head: &str) -> bool {
    let b = head.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    b.windows(10).any(|w| digits(&w[0..4]) && w[4] == b'-' && digits(&w[5..7]) && w[7] == b'-' && digits(&w[8..10]))
        || b.windows(8).any(|w| digits(&w[0..2]) && w[2] == b'/' && digits(&w[3..5]) && w[5] == b'/' && digits(&w[6..8]))
        || b.windows(13).any(|w| digits(&w[0..6]) && w[6] == b' ' && digits(&w[7..13]))
}

/// Severity tiers: 3 errors, 2 warnings, 1 the rest.
type Severity = u8;

/// The severity named by a level word in the first part of the line, if any.
fn severity_of_level(line: &str) -> Option<Severity> {
    let head = line.get(..line.len().min(160)).unwrap_or(line);
    let head = if head.is_char_boundary(head.len()) { head } else { line };
    for word in head.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| w.len() >= 3) {
        let tier = match word {
            "FATAL" | "CRITICAL" | "ERROR" | "SEVERE" | "EMERG" | "ALERT" | "CRIT" | "PANIC" | "error" | "crit" | "emerg" | "alert" => 3,
            "WARN" | "WARNING" | "warn" | "warning" => 2,
            "INFO" | "DEBUG" | "TRACE" | "NOTICE" | "FINE" | "FINER" | "FINEST" | "VERBOSE" | "info" | "debug" | "notice" | "trace" => 1,
            _ => continue,
        };
        return Some(tier);
    }
    None
}

/// Severity from the words of a line without a level: exceptions are errors, failures warnings.
/// A file's path is not a word of it (`Passed: java/lang/String/Exceptions.java` passed).
fn severity_of_words(line: &str) -> Severity {
    let lower = line.split_whitespace().filter(|token| !is_path(token)).collect::<Vec<_>>().join(" ").to_lowercase();
    let has = |w: &str| lower.contains(w);
    if has("exception") || has("traceback") || has("panic") || has("fatal") || has("segfault") {
        3
    } else if has("error") || has("fail") || has("denied") || has("refused") || has("timed out") || has("timeout") || has("invalid") {
        2
    } else {
        1
    }
}

/// One log record: a first line and its continuation lines.
struct Entry<'t> {
    /// 0-based index of the first line.
    first_line: usize,
    lines: Vec<&'t str>,
    severity: Severity,
    template: usize,
    bytes: usize,
}

/// A masked line shape and what varied in it.
struct Template {
    text: Vec<String>,
    count: usize,
    /// Per masked position: the values seen (first, min, max when all integers).
    fields: Vec<Field>,
}

#[derive(Clone)]
struct Field {
    first: String,
    same: bool,
    range: Option<(i64, i64)>,
    /// The distinct values with their counts, in order of first sight, while there are at most
    /// [`VALUES_KEPT`] of them; `None` past that (a timestamp, a counter).
    values: Option<Vec<(String, usize)>>,
}

impl Field {
    fn new(value: &str) -> Self {
        Field { first: value.to_string(), same: true, range: value.parse().ok().map(|i| (i, i)), values: Some(vec![(value.to_string(), 1)]) }
    }

    fn add(&mut self, value: &str) {
        self.same &= self.first == value;
        self.range = match (self.range, value.parse::<i64>()) {
            (Some((lo, hi)), Ok(v)) => Some((lo.min(v), hi.max(v))),
            _ => None,
        };
        if let Some(values) = &mut self.values {
            if let Some(at) = values.iter().position(|(v, _)| v == value) {
                values[at].1 += 1;
            } else if values.len() < VALUES_KEPT {
                values.push((value.to_string(), 1));
            } else {
                self.values = None;
            }
        }
    }
}

/// A varying field with at most this many distinct values is listed value by value with counts
/// (the hosts of failed logins are the evidence, not their number); more make it a range or `<*>`.
const VALUES_LISTED: usize = 32;
/// Distinct values a field keeps: in a template the question is about, every one of them up to
/// this many is listed, numbers aside (ports and pids say nothing one by one).
const VALUES_KEPT: usize = 256;
/// Templates named in the marker at most, warnings and errors first; templates the question
/// is about may be named past it, within what `render` allows their values.
const TEMPLATES_SHOWN_MAX: usize = 16;

fn is_continuation(line: &str) -> bool {
    let t = line.trim_start();
    line.starts_with([' ', '\t'])
        || t.starts_with("at ")
        || t.starts_with("Caused by")
        || t.starts_with("...")
        || t.starts_with("Traceback")
        || t.starts_with("File \"")
}

fn has_digit(token: &str) -> bool {
    token.bytes().any(|b| b.is_ascii_digit())
}

fn entries_of(text: &str) -> (Vec<Entry<'_>>, Vec<Template>) {
    let mut entries: Vec<Entry> = Vec::new();
    let mut templates: Vec<Template> = Vec::new();
    // Only looked up, never iterated: output order comes from `templates`.
    let mut by_shape: HashMap<u64, usize> = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(last) = entries.last_mut() {
            if !starts_record(line) && (is_continuation(line) || line.trim().is_empty()) {
                last.lines.push(line);
                last.bytes += line.len() + 1;
                if line.contains("Exception") || line.contains("Error") || line.trim_start().starts_with("at ") {
                    last.severity = last.severity.max(3);
                }
                continue;
            }
        }
        let id = *by_shape.entry(shape_of(line)).or_insert_with(|| {
            let text = shape_tokens(line).map(str::to_string).collect();
            templates.push(Template { text, count: 0, fields: Vec::new() });
            templates.len() - 1
        });
        let severity = severity_of_level(line).map_or_else(|| severity_of_words(line), |s| if s < 3 && line.contains("Exception") { 2.max(s) } else { s });
        entries.push(Entry { first_line: n, lines: vec![line], severity, template: id, bytes: line.len() + 1 });
    }
    let templates = merge_templates(templates, &mut entries);
    (entries, templates)
}

/// Least tokens a template needs before its words may be told apart from its variables.
const MERGE_MIN_TOKENS: usize = 4;
/// The most positions two templates may differ in and still be one statement.
const MERGE_MAX_DIFFERENT: usize = 3;

/// Folds templates that are one log statement with a variable that holds no digit (a user name,
/// a host name, a path) into one, that position masked, so the variable's values are listed as
/// evidence instead of splitting the statement into templates of one line each. Two templates
/// fold when they have as many tokens, at least [`MERGE_MIN_TOKENS`], and differ in at most
/// [`MERGE_MAX_DIFFERENT`] positions and in under a third of them. Then counts each template's
/// lines and the values of its masked positions.
fn merge_templates(templates: Vec<Template>, entries: &mut [Entry]) -> Vec<Template> {
    let mut merged: Vec<Template> = Vec::new();
    // Per merged template, the word positions merging masked: a template folds in no more than
    // MERGE_MAX_DIFFERENT in all, so it cannot drift from statement to statement.
    let mut folded: Vec<usize> = Vec::new();
    let mut into = vec![0usize; templates.len()];
    // Merged templates by token count: only those can fold together.
    let mut by_len: HashMap<usize, Vec<usize>> = HashMap::new();
    for (id, template) in templates.into_iter().enumerate() {
        let len = template.text.len();
        // A position already masked matches anything.
        let fits = |at: usize| {
            let different = merged[at].text.iter().zip(&template.text).filter(|(a, b)| a != b && *a != "<*>").count();
            let all = folded[at] + different;
            all <= MERGE_MAX_DIFFERENT && all * 3 < len
        };
        let candidates = by_len.entry(len).or_default();
        let found = if len < MERGE_MIN_TOKENS { None } else { candidates.iter().copied().find(|&at| fits(at)) };
        match found {
            Some(at) => {
                for (mine, theirs) in merged[at].text.iter_mut().zip(&template.text) {
                    if mine != theirs && mine != "<*>" {
                        *mine = "<*>".to_string();
                        folded[at] += 1;
                    }
                }
                into[id] = at;
            }
            None => {
                into[id] = merged.len();
                candidates.push(merged.len());
                merged.push(template);
                folded.push(0);
            }
        }
    }
    for entry in entries.iter_mut() {
        entry.template = into[entry.template];
        let template = &mut merged[entry.template];
        let values = values_of(entry.lines[0], &template.text);
        if template.count == 0 {
            template.fields = values.map(Field::new).collect();
        } else {
            for (field, value) in template.fields.iter_mut().zip(values) {
                field.add(value);
            }
        }
        template.count += 1;
    }
    merged
}

/// The addresses and names in the varying fields of omitted `templates` that the `shown`
/// descriptions do not list — the hosts and users of rarer statements, or of fields with too
/// many values to list — each once with its count, as
/// `; addresses and names in the other lines: 192.0.2.7 ×3, mail.example.org`, within
/// `allowance` bytes. A field whose values differ only in digits (`sshd[411]:`) names nothing,
/// nor does a timestamp's month or day name (`Dec`) or a process tag (`postfix/smtpd[7676]:`).
fn evidence<'t>(templates: impl Iterator<Item = &'t Template>, shown: &str, allowance: usize) -> String {
    // In the order first met, each value's place found by a map (a large log has thousands).
    let mut found: Vec<(String, usize)> = Vec::new();
    let mut place: HashMap<String, usize> = HashMap::new();
    let mut note = |value: &str, n: usize| match place.get(value) {
        Some(&at) => found[at].1 += n,
        None => {
            place.insert(value.to_string(), found.len());
            found.push((value.to_string(), n));
        }
    };
    for template in templates {
        for field in &template.fields {
            // An address is evidence even where it does not vary (a statement seen once).
            if field.same {
                if let Some(address) = address_in(&field.first) {
                    note(address, template.count);
                }
                continue;
            }
            let Some(values) = &field.values else { continue };
            if all_paths(values) && shown.contains(&folded_paths(values)) {
                continue;
            }
            let shapes: std::collections::BTreeSet<String> = values.iter().map(|(v, _)| v.chars().filter(|c| !c.is_ascii_digit()).collect()).collect();
            for (value, n) in values {
                match address_in(value) {
                    Some(address) => note(address, *n),
                    None if shapes.len() > 1 && names_something(value) => {
                        note(value.trim_matches(|c: char| !c.is_alphanumeric()), *n)
                    }
                    None => {}
                }
            }
        }
    }
    found.retain(|(v, _)| !shown.contains(v.as_str()));
    marker::counted_values(&found, allowance).map_or(String::new(), |list| format!("; addresses and names in the other lines: {list}"))
}

/// The IPv4 address inside a token (`rhost=192.0.2.7`, `unknown[192.0.2.7]:`), if it holds one.
pub(crate) fn ipv4_in(token: &str) -> Option<&str> {
    let bytes = token.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if bytes[start].is_ascii_digit() && (start == 0 || !bytes[start - 1].is_ascii_alphanumeric() && bytes[start - 1] != b'.') {
            let end = start + bytes[start..].iter().take_while(|b| b.is_ascii_digit() || **b == b'.').count();
            let candidate = token[start..end].trim_end_matches('.');
            let parts: Vec<&str> = candidate.split('.').collect();
            if parts.len() == 4 && parts.iter().all(|p| (1..=3).contains(&p.len()) && p.parse::<u8>().is_ok()) {
                return Some(candidate);
            }
            start = end.max(start + 1);
        } else {
            start += 1;
        }
    }
    None
}

/// The IPv4 or IPv6 address inside a token (`from=[2001:db8::7]`), if it holds one.
fn address_in(token: &str) -> Option<&str> {
    ipv4_in(token).or_else(|| ipv6_in(token))
}

/// The IPv6 address inside a token: a run of hex digits and colons, not part of a word, with
/// 2 to 7 colons and groups of at most 4 digits, compressed (`::`) or of all 8 groups. A clock
/// (`13:49:31`) or a MAC address (`00:1a:2b:3c:4d:5e`) is none.
fn ipv6_in(token: &str) -> Option<&str> {
    if token.bytes().filter(|b| *b == b':').count() < 2 {
        return None;
    }
    let hexish = |c: char| c.is_ascii_hexdigit() || c == ':';
    let mut rest = token;
    while let Some(start) = rest.find(hexish) {
        let len = rest[start..].find(|c: char| !hexish(c)).unwrap_or(rest.len() - start);
        let bounded = !rest[..start].ends_with(char::is_alphanumeric) && !rest[start + len..].starts_with(char::is_alphanumeric);
        let run = &rest[start..start + len];
        // A colon that ends a run as punctuation (`from 2001:db8::7: 11`) is no part of it.
        let candidate = if run.ends_with(':') && !run.ends_with("::") { &run[..run.len() - 1] } else { run };
        let colons = candidate.matches(':').count();
        let groups: Vec<&str> = candidate.split(':').collect();
        let compressed = candidate.matches("::").count() == 1;
        let whole = colons == 7 && groups.iter().all(|g| !g.is_empty());
        if bounded
            && (2..=7).contains(&colons)
            && (compressed || whole)
            && groups.iter().all(|g| g.len() <= 4)
            && groups.iter().any(|g| !g.is_empty())
        {
            return Some(candidate);
        }
        rest = &rest[start + len..];
    }
    None
}

/// The one shape of process tags that differ only in their pid (`sshd[411]:`, `sshd[5672]:`),
/// the pid as `…`: `sshd[…]:`. Other identifiers with digits (`blk_-16089`, `job_12`) are
/// evidence and stay as they are.
fn one_shape(values: &[(String, usize)]) -> Option<String> {
    let first = digits_as(&values[0].0, '…');
    (has_pid(&values[0].0) && first.chars().any(char::is_alphabetic) && values.iter().all(|(v, _)| digits_as(v, '…') == first)).then_some(first)
}

/// Month and weekday names, which open syslog and Apache timestamps (`Jun 13 20:48:11`,
/// `[Sat Jun 01 02:17:42 2013]`) and are no part of what a line says.
const CLOCK_WORDS: [&str; 19] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Whether `token` is a month or day name of a timestamp (`Jun`, `[Sat`).
fn clock_word(token: &str) -> bool {
    CLOCK_WORDS.contains(&token.trim_start_matches('['))
}

/// The template as shown in the marker: leading timestamps (masked fields, month and day names)
/// dropped, varying fields as their values or their integer range. Up to [`VALUES_LISTED`]
/// values are listed; when `wide`, every value kept of a field of words that repeat (hosts,
/// users) and of file paths, which are grouped by directory (see [`folded_paths`]). Of more
/// values, those the question names are listed (`perl` in package names) and the rest counted.
fn describe(template: &Template, wide: bool, query: &Query) -> String {
    // Past VALUES_LISTED, a field is listed when `wide` and its values are file paths, or words
    // (hosts, users, not numbers) that repeat: the distinct ones are the evidence, the repeats
    // what is dropped.
    let listable = |values: &[(String, usize)]| {
        let repeated = values.iter().map(|(_, n)| n).sum::<usize>() >= values.len() * 2;
        values.len() <= VALUES_LISTED || wide && (all_paths(values) || repeated && values.iter().any(|(v, _)| v.parse::<f64>().is_err()))
    };
    let mut field = template.fields.iter();
    let mut listed_any = false;
    let mut parts: Vec<String> = template
        .text
        .iter()
        .map(|t| {
            if t != "<*>" {
                return t.clone();
            }
            let next = field.next();
            if let Some(shape) = next.filter(|f| !f.same).and_then(|f| f.values.as_deref()).and_then(one_shape) {
                return shape;
            }
            match next {
                Some(f) if f.same => f.first.clone(),
                Some(Field { values: Some(values), .. }) if listable(values) => {
                    listed_any = true;
                    format!("{{{}}}", listing(values))
                }
                Some(Field { values, range, .. }) => match (values.as_deref().and_then(|v| picked_by(v, query)), range) {
                    (Some((picked, rest)), _) => {
                        listed_any = true;
                        format!("{{{}, and {rest} more}}", listing(&picked))
                    }
                    (None, Some((lo, hi))) => format!("{{{lo}–{hi}}}"),
                    (None, None) => "<*>".to_string(),
                },
                None => "<*>".to_string(),
            }
        })
        .collect();
    let skip = template.text.iter().take_while(|t| *t == "<*>" || clock_word(t)).count().min(parts.len().saturating_sub(1));
    parts.drain(..skip);
    let text = parts.join(" ");
    if !listed_any && text.chars().count() > TEMPLATE_CHARS {
        format!("{}…", text.chars().take(TEMPLATE_CHARS).collect::<String>())
    } else {
        text
    }
}

/// The values the question's words pick out of a field's, with how many are left, when they
/// are a few of them (the `perl` packages among those unpacked); a word found in most values
/// picks nothing out.
fn picked_by(values: &[(String, usize)], query: &Query) -> Option<(Vec<(String, usize)>, usize)> {
    let picked: Vec<(String, usize)> = values.iter().filter(|(v, _)| query.hits(v) > 0).cloned().collect();
    let rest = values.len() - picked.len();
    (!picked.is_empty() && picked.len() <= rest).then_some((picked, rest))
}

/// A field's values as the marker lists them: file paths grouped by directory, other values
/// each with its count.
fn listing(values: &[(String, usize)]) -> String {
    if all_paths(values) {
        return folded_paths(values);
    }
    values.iter().map(|(v, n)| marker::with_count(v, *n)).collect::<Vec<_>>().join(", ")
}

/// Whether every value of a field names a file or directory.
fn all_paths(values: &[(String, usize)]) -> bool {
    values.iter().all(|(v, _)| is_path(v))
}

/// Whether a template has a field of file paths: an install's or a build's files, each one
/// evidence of what it did.
fn lists_files(template: &Template) -> bool {
    template.fields.iter().any(|f| !f.same && f.values.as_deref().is_some_and(all_paths))
}

/// File paths grouped by their directory, in order of first sight, each directory written once:
/// `build/lib/docutils/: io.py, core.py ×2; build/scripts-3.11/rst2man.py`.
fn folded_paths(values: &[(String, usize)]) -> String {
    let mut directories: Vec<(&str, Vec<String>)> = Vec::new();
    for (value, n) in values {
        let (directory, name) = value.trim_end_matches('/').rsplit_once('/').map_or(("", value.as_str()), |(d, _)| value.split_at(d.len() + 1));
        add_to_group(&mut directories, directory, marker::with_count(name, *n));
    }
    let groups: Vec<String> = directories
        .into_iter()
        .map(|(directory, names)| if names.len() == 1 { format!("{directory}{}", names[0]) } else { format!("{directory}: {}", names.join(", ")) })
        .collect();
    groups.join("; ")
}

impl Compressor for Logs {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let (mut out, what) = shorten(text, 0, ctx)?;
        out.push_str(&marker::marker(ctx.key, &what));
        if text.ends_with('\n') {
            out.push('\n');
        }
        Some(out)
    }
}

/// The log `text` shortened — its kept entries, each omitted run as `[… N lines (a–b) …]` with
/// line numbers counted from `first_line` — and what the marker says was omitted; `None` when
/// there is nothing to omit. Another compressor calls it for a log inside the output it reads
/// (what a test printed), and adds the description to its own marker.
pub(crate) fn shorten(text: &str, first_line: usize, ctx: &Context) -> Option<(String, String)> {
    let (entries, templates) = entries_of(text);
    if entries.len() < 8 {
        return None;
    }
    let share = ctx.target_ratio.map_or(DEFAULT_BUDGET, |r| f64::from(r).clamp(0.01, 1.0));
    let budget = ((text.len() as f64 * share) as usize).max(MIN_BUDGET);
    let keep = choose(&entries, &templates, budget, ctx.query);
    let query = Query::new(ctx.query);
    render(text, first_line, &entries, &templates, &keep, &query, budget)
}

/// Which entries to keep, by the priorities in the module documentation.
fn choose(entries: &[Entry], templates: &[Template], budget: usize, query: &str) -> Vec<bool> {
    let mut keep = vec![false; entries.len()];
    let mut used = 0usize;
    // An entry said again word for word tells nothing the kept one did not: it is counted.
    let mut shown: HashSet<&[&str]> = HashSet::new();
    // Per template, whether one of its entries is kept and the naming values kept ones showed.
    let mut template_shown = vec![false; templates.len()];
    let mut named: HashSet<(usize, &str)> = HashSet::new();
    let mut take = |i: usize, keep: &mut Vec<bool>, how: Take| {
        let e = &entries[i];
        let values = || values_of(e.lines[0], &templates[e.template].text).filter(|v| names_something(v));
        let first = !template_shown[e.template];
        let repeat = || !first && e.lines.len() == 1 && values().all(|v| named.contains(&(e.template, v)));
        let past_budget = used + e.bytes > budget && !(how == Take::Always || how == Take::FirstAlways && first);
        if keep[i] || shown.contains(e.lines.as_slice()) || past_budget || matches!(how, Take::IfNew | Take::FirstAlways) && repeat() {
            return;
        }
        keep[i] = true;
        shown.insert(&e.lines);
        used += e.bytes;
        template_shown[e.template] = true;
        named.extend(values().map(|v| (e.template, v)));
    };
    // Errors: one of each template always, even past the budget; the others while it lasts.
    for (i, _) in entries.iter().enumerate().filter(|(_, e)| e.severity >= 3) {
        take(i, &mut keep, Take::FirstAlways);
    }
    take(0, &mut keep, Take::Always);
    take(entries.len() - 1, &mut keep, Take::Always);

    let query = Query::new(query).discriminative(entries.iter().map(|e| e.lines[0]), QUERY_MAX_SHARE);
    let mut matching: Vec<(usize, usize)> =
        entries.iter().enumerate().map(|(i, e)| (e.lines.iter().map(|l| query.hits(l)).max().unwrap_or(0), i)).filter(|(h, _)| *h > 0).collect();
    matching.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in matching {
        take(i, &mut keep, Take::IfNew);
    }

    // Warnings: every template's first occurrence, then second ones, ..., rarest template first.
    let mut seen_of_template = vec![0usize; templates.len()];
    let mut warnings: Vec<(usize, usize, usize)> = Vec::new();
    for (i, e) in entries.iter().enumerate().filter(|(_, e)| e.severity == 2) {
        let round = seen_of_template[e.template];
        seen_of_template[e.template] += 1;
        warnings.push((round, templates[e.template].count, i));
    }
    warnings.sort();
    for (_, _, i) in warnings {
        take(i, &mut keep, Take::IfNew);
    }

    for (i, e) in entries.iter().enumerate() {
        if templates[e.template].count == 1 {
            take(i, &mut keep, Take::InBudget);
        }
    }
    keep
}

/// How [`choose`] takes an entry.
#[derive(Clone, Copy, PartialEq)]
enum Take {
    /// Even past the budget.
    Always,
    /// The first of its template even past the budget, the others as [`Take::IfNew`].
    FirstAlways,
    /// While the budget lasts.
    InBudget,
    /// While the budget lasts, unless a kept entry of its template is there and it shows no
    /// trace and no value that names something (a host, a user, a block) kept ones did not: a
    /// repeat that differs in its clock and counters is counted, and the marker lists those.
    IfNew,
}

/// The values of a line's masked positions, in order: what it says in place of its template
/// `text`'s `<*>`.
fn values_of<'t>(line: &'t str, text: &'t [String]) -> impl Iterator<Item = &'t str> {
    line.split_whitespace().zip(text).filter(|(_, t)| *t == "<*>").map(|(v, _)| v)
}

/// Whether a value names something (a host, a user, a block, a file) rather than counting or
/// timing: numbers, clocks, dates, a day's or month's name and a process tag's pid do not.
fn names_something(value: &str) -> bool {
    address_in(value).is_some() || value.chars().any(char::is_alphabetic) && !clock_word(value) && !has_pid(value)
}

/// Whether a token holds a process tag's pid: digits between brackets (`sshd[411]:`).
fn has_pid(token: &str) -> bool {
    token.split('[').skip(1).any(|rest| rest.split_once(']').is_some_and(|(pid, _)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())))
}

fn render(text: &str, first_line: usize, entries: &[Entry], templates: &[Template], keep: &[bool], query: &Query, budget: usize) -> Option<(String, String)> {
    let total_lines = text.lines().count();
    let mut out = String::with_capacity(text.len() / 8);
    let mut omitted_lines = 0usize;
    // Per template: entries omitted, and the highest severity among them.
    let mut omitted_by_template: BTreeMap<usize, (usize, Severity)> = BTreeMap::new();
    let mut run: Option<(usize, usize)> = None;
    let flush = |run: &mut Option<(usize, usize)>, out: &mut String| {
        if let Some((from, to)) = run.take() {
            out.push_str(&marker::omitted_run(first_line + from, first_line + to));
        }
    };
    for (e, kept) in entries.iter().zip(keep) {
        if *kept {
            flush(&mut run, &mut out);
            for line in &e.lines {
                out.push_str(line);
                out.push('\n');
            }
        } else {
            let last = e.first_line + e.lines.len() - 1;
            run = Some(run.map_or((e.first_line, last), |(from, _)| (from, last)));
            omitted_lines += e.lines.len();
            let omitted = omitted_by_template.entry(e.template).or_default();
            omitted.0 += 1;
            omitted.1 = omitted.1.max(e.severity);
        }
    }
    flush(&mut run, &mut out);
    if omitted_lines == 0 {
        return None;
    }
    // The most omitted templates and every warning or error template that lost entries (its
    // varying values are evidence), up to a limit; then the templates the question is about and
    // those naming files, with every value, while what they add stays within a quarter of the
    // budget (or MIN_BUDGET, so a small log can list its evidence).
    let mut ranked: Vec<(usize, usize, Severity)> = omitted_by_template.into_iter().map(|(t, (n, s))| (t, n, s)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut shown = Vec::new();
    let mut added = 0;
    for (rank, (t, n, severity)) in ranked.iter().enumerate() {
        // A statement whose lines were all alike lists no values: past the first few, quoting
        // it costs as much as the line would, and its addresses are in the evidence below.
        let varies = templates[*t].fields.iter().any(|f| !f.same);
        let named = (rank < TEMPLATES_SHOWN || *severity >= 2 && varies) && shown.len() < TEMPLATES_SHOWN_MAX;
        let plain = named.then(|| describe(&templates[*t], false, query));
        let described = match (varies && query.hits(&templates[*t].text.join(" ")) > 0 || lists_files(&templates[*t]), plain) {
            (true, plain) => {
                let wide = describe(&templates[*t], true, query);
                let extra = wide.len().saturating_sub(plain.as_ref().map_or(0, String::len));
                if added + extra <= (budget / 4).max(MIN_BUDGET) {
                    added += extra;
                    Some(wide)
                } else {
                    plain
                }
            }
            (false, plain) => plain,
        };
        if let Some(described) = described {
            shown.push(format!("{n}× \"{described}\""));
        }
    }
    let more = ranked.len() - shown.len();
    let more = if more > 0 { format!(", and {more} more templates") } else { String::new() };
    // MIN_BUDGET of its own: enough for a small log's every host, a small share of a large
    // log's output.
    let shown = shown.join(", ");
    let evidence = evidence(ranked.iter().map(|(t, _, _)| &templates[*t]), &shown, MIN_BUDGET);
    let what = format!("{omitted_lines} of {total_lines} log lines omitted ({} templates): {shown}{more}{evidence}", ranked.len());
    Some((out, what))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HDFS: &str = include_str!("../../../tests/fixtures/logs/HDFS_2k.log");
    const ZOOKEEPER: &str = include_str!("../../../tests/fixtures/logs/Zookeeper_2k.log");
    const SPARK: &str = include_str!("../../../tests/fixtures/logs/Spark_2k.log");

    fn ctx<'a>(query: &'a str, key: &'a str) -> Context<'a> {
        Context { query, key, ..Context::default() }
    }

    #[test]
    fn every_fixture_log_is_detected_and_code_is_not() {
        for log in [HDFS, ZOOKEEPER, SPARK, include_str!("../../../tests/fixtures/logs/Apache_2k.log"),
                    include_str!("../../../tests/fixtures/logs/OpenSSH_2k.log"), include_str!("../../../tests/fixtures/logs/OpenStack_2k.log"),
                    include_str!("../../../tests/fixtures/logs/Hadoop_2k.log")] {
            assert!(detect(log), "{}", &log[..80]);
        }
        assert!(!detect(include_str!("../../../tests/fixtures/github/labels.json")));
        assert!(!detect(include_str!("../engine/mod.rs")));
        assert!(long_listing_entry("drwxr-xr-x@  18 user  staff   576 Jan  8 22:57 .") && long_listing_entry("-rw-r--r--. 1 root root 9 Dec  4 10:01 x"));
        assert!(!long_listing_entry("2015-10-18 18:01:47,978 INFO") && !long_listing_entry("drwxr-xr-x/"));
    }

    #[test]
    fn errors_are_kept_verbatim_and_the_rest_is_counted() {
        let key = marker::key_for(ZOOKEEPER);
        let out = Logs.compress(ZOOKEEPER, &ctx("Why did the ensemble lose quorum?", &key)).unwrap();
        for line in ZOOKEEPER.lines().filter(|l| l.contains(" ERROR ")) {
            assert!(out.contains(line), "lost: {line}");
        }
        assert!(out.len() * 6 < ZOOKEEPER.len(), "{} -> {}", ZOOKEEPER.len(), out.len());
        assert_eq!(marker::keys_in(&out), vec![key]);
        assert!(out.contains("log lines omitted"));
    }

    #[test]
    fn a_test_named_for_an_exception_that_passed_is_no_error() {
        // jtreg's summary: 396 `Passed:` lines, 28 of them naming tests of exceptions, timeouts
        // or failures (`Passed: java/net/httpclient/ConnectExceptionTest.java`), and 5 failures.
        let summary = include_str!("../../../tests/fixtures/testruns/jtreg-output-9400-9800.log");
        assert!(detect(summary));
        let out = Logs.compress(summary, &ctx("Which jdk tests did not pass in this run?", "k")).unwrap();
        for line in summary.lines().filter(|l| !l.starts_with("Passed: ")) {
            assert!(out.contains(line), "lost: {line}");
        }
        let named = summary.lines().filter(|l| l.starts_with("Passed: ") && severity_of_words(l) == 1 && ["Exception", "Timeout", "Failure"].iter().any(|w| l.contains(w)));
        assert!(named.count() > 20);
        assert_eq!(severity_of_words("java.lang.NullPointerException at Foo.bar"), 3, "a class name is a word");
        assert!(out.len() * 10 < summary.len(), "{} -> {}", summary.len(), out.len());
    }

    #[test]
    fn rare_warnings_survive_and_query_words_pull_lines_in() {
        let out = Logs.compress(HDFS, &ctx("Which blocks show exceptions?", "k")).unwrap();
        for line in HDFS.lines().filter(|l| l.contains(" WARN ")) {
            assert!(out.contains(line), "lost warning: {line}");
        }
        let needle = HDFS.lines().find(|l| l.contains("blk_-6867873931012347356")).unwrap();
        let out = Logs.compress(HDFS, &ctx("what happened to blk_-6867873931012347356", "k")).unwrap();
        assert!(out.contains(needle));
    }

    #[test]
    fn omitted_runs_name_their_line_ranges_and_templates_their_numeric_ranges() {
        let out = Logs.compress(SPARK, &ctx("", "k")).unwrap();
        assert!(out.starts_with(SPARK.lines().next().unwrap()));
        assert!(out.contains(SPARK.lines().last().unwrap()));
        assert!(out.contains(" lines ("), "{}", &out[..500.min(out.len())]);
        assert!(out.contains('×'));
    }

    #[test]
    fn same_input_same_output() {
        let a = Logs.compress(HDFS, &ctx("blocks", "k"));
        assert_eq!(a, Logs.compress(HDFS, &ctx("blocks", "k")));
    }

    const OPENSSH: &str = include_str!("../../../tests/fixtures/logs/OpenSSH_2k.log");

    #[test]
    fn a_statement_whose_variable_has_no_digits_is_one_template_listing_its_values() {
        // "Failed password for NAME from HOST": the names hold no digit, so masking digits alone
        // made a template per name; folded, the names are listed as the evidence they are.
        let out = Logs.compress(OPENSSH, &ctx("", "k")).unwrap();
        let marker = out.lines().last().unwrap();
        let templates: Vec<&str> = marker.split("\", ").collect();
        let failed = templates.iter().find(|t| t.contains("password for {")).unwrap_or_else(|| panic!("{marker}"));
        for user in ["root ×", "uucp ×", "ftp ×", "git ×"] {
            assert!(failed.contains(user), "{user} in {failed}");
        }
        // Folding stays within one statement: two statements never share a template.
        assert!(!templates.iter().any(|t| t.contains("Invalid") && t.contains("input_userauth_request")), "{marker}");
        assert!(!templates.iter().any(|t| t.contains("Received") && t.contains("Disconnecting")), "{marker}");
    }

    #[test]
    fn every_host_of_the_failed_logins_stays_visible() {
        let out = Logs.compress(OPENSSH, &ctx("which hosts failed to authenticate?", "k")).unwrap();
        let hosts: std::collections::BTreeSet<&str> = OPENSSH
            .lines()
            .filter(|l| l.contains("authentication failure;"))
            .filter_map(|l| l.split("rhost=").nth(1))
            .map(|rest| rest.split_whitespace().next().unwrap_or(""))
            .collect();
        assert!(hosts.len() > 5, "{hosts:?}");
        for host in &hosts {
            assert!(out.contains(host), "host {host} lost:\n{out}");
        }
        assert!(out.len() * 4 < OPENSSH.len(), "{} -> {}", OPENSSH.len(), out.len());
    }

    #[test]
    fn a_repeated_error_is_kept_once_per_value_it_names() {
        // Apache's error log: 539 `mod_jk child workerEnv in error state N` lines in 5 states,
        // among the refused clients and the children missing from the scoreboard.
        let log = include_str!("../../../tests/fixtures/logs/Apache_2k.log");
        let out = Logs.compress(log, &ctx("Which clients were refused a directory index, and which children could jk2_init not find?", "k")).unwrap();
        let states: HashSet<&str> = log.lines().filter_map(|l| l.split("workerEnv in error state ").nth(1)).collect();
        let kept = out.lines().filter(|l| l.contains("workerEnv in error state") && !l.starts_with("[headroom")).count();
        assert!((1..=states.len()).contains(&kept), "{kept} kept for {} states", states.len());
        for line in log.lines().filter(|l| l.contains("Directory index forbidden") || l.contains("Can't find child")) {
            let value = line.split("[client ").nth(1).or(line.split("find child ").nth(1)).unwrap().split([']', ' ']).next().unwrap();
            assert!(out.contains(value), "lost {value}");
        }
        assert!(out.len() * 15 < log.len(), "{} -> {}", log.len(), out.len());
    }

    /// A fail2ban test log without its annotations, and the hosts its `failJSON` lines mark as
    /// failed logins.
    fn annotated(raw: &str) -> (String, std::collections::BTreeSet<String>) {
        let mut hosts = std::collections::BTreeSet::new();
        for note in raw.lines().filter(|l| l.starts_with("# failJSON:") && l.contains("\"match\": true")) {
            if let Some(host) = note.split("\"host\": \"").nth(1).and_then(|rest| rest.split('"').next()) {
                hosts.insert(host.to_string());
            }
        }
        let log: String = raw.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(|l| format!("{l}\n")).collect();
        (log, hosts)
    }

    #[test]
    fn the_hosts_of_rarer_statements_stay_visible_in_mail_server_logs() {
        for raw in [include_str!("../../../tests/fixtures/logs/fail2ban-postfix"), include_str!("../../../tests/fixtures/logs/fail2ban-dovecot")] {
            let (log, hosts) = annotated(raw);
            assert!(hosts.len() > 20, "{hosts:?}");
            let out = Logs.compress(&log, &ctx("Which remote hosts failed to authenticate? List every source address.", "k")).unwrap();
            for host in &hosts {
                assert!(out.contains(host.as_str()), "host {host} lost:\n{out}");
            }
            assert!(out.len() < log.len(), "{} -> {}", log.len(), out.len());
            // Statements seen once are quoted among the first few templates only: past them a
            // quote costs what the line would, and their hosts are in the evidence.
            assert!(out.matches("1× \"").count() <= TEMPLATES_SHOWN, "{out}");
            // A timestamp's month is no name (these lines are stamped in eight months, `Dec 13 …`).
            let names = out.split("addresses and names in the other lines: ").nth(1).unwrap_or("");
            assert!(!names.split(", ").any(|n| clock_word(n.split(" ×").next().unwrap())), "{names}");
            // Nor is a process tag (`postfix/smtpd[7676]:`, whose pid changes from line to line).
            assert!(!names.contains("smtpd["), "{names}");
        }
    }

    #[test]
    fn a_journal_without_a_clock_reads_as_a_log_by_its_process_tags() {
        let (log, hosts) = annotated(include_str!("../../../tests/fixtures/logs/fail2ban-sshd-journal"));
        let lines = log.lines().count();
        let head = |l: &str| l[..l.char_indices().nth(48).map_or(l.len(), |(i, _)| i)].to_string();
        let by_clock_or_level = log.lines().filter(|l| has_time(&head(l)) || has_date(&head(l)) || severity_of_level(l).is_some()).count();
        assert!(by_clock_or_level * 10 < lines * 6, "{by_clock_or_level} of {lines}: a clock or level alone would do");
        assert!(detect(&log));
        let out = Logs.compress(&log, &ctx("Which remote hosts failed to authenticate? List every source address.", "k")).unwrap();
        for host in &hosts {
            assert!(out.contains(host.as_str()), "host {host} lost:\n{out}");
        }
        assert!(out.len() < log.len(), "{} -> {}", log.len(), out.len());
        // The marker lists hosts one by one; pids are no evidence one by one.
        assert!(out.contains("\"srv sshd[…]: Connection closed by {192.0.2.111 ×2, "), "{out}");
        // A fatal line said three times word for word is shown once.
        let fatal = "srv sshd[32686]: fatal: Read from socket failed: Connection reset by peer [preauth]";
        assert_eq!((log.lines().filter(|l| *l == fatal).count(), out.lines().filter(|l| *l == fatal).count()), (3, 1), "{out}");
        assert!(has_process_tag("srv postfix/smtpd[77]: NOQUEUE"));
        assert!(!has_process_tag("see [1]: the notes") && !has_process_tag("x[12a]: y"));
    }

    #[test]
    fn repeated_errors_keep_one_of_each_and_list_what_varies() {
        let log: String = (0..240)
            .map(|i| format!("2024-03-01 10:{:02}:{:02} ERROR sshd: authentication failure for admin from 198.51.100.{} port {}\n", i / 60, i % 60, i % 40, 40000 + i))
            .collect();
        let out = Logs.compress(&log, &ctx("Which hosts failed to authenticate?", "k")).unwrap();
        for host in (0..40).map(|n| format!("198.51.100.{n}")) {
            // Whole: `198.51.100.1` must not pass for being the start of `198.51.100.17`.
            assert!(out.match_indices(&host).any(|(at, _)| !out[at + host.len()..].starts_with(|c: char| c.is_ascii_digit())), "{host} lost:\n{out}");
        }
        let kept = out.lines().filter(|l| l.contains(" ERROR ")).count();
        assert!(kept < 60, "{kept} of 240 errors kept:\n{out}");
        assert!(out.len() * 3 < log.len(), "{} -> {}", log.len(), out.len());
    }

    #[test]
    fn a_template_lists_hosts_users_and_ports_but_gives_pids_by_their_shape() {
        let lines: String = [("411", "alice", "10.0.0.1", "5001"), ("412", "bob", "10.0.0.2", "5002"), ("413", "alice", "10.0.0.3", "6003"), ("511", "carol", "10.0.0.1", "5004")]
            .iter()
            .map(|(pid, user, host, port)| format!("Dec 10 06:55:46 srv sshd[{pid}]: Failed password for {user} from {host} port {port} ssh2\n"))
            .collect();
        let (_, templates) = entries_of(&lines);
        assert_eq!(templates.len(), 1);
        // The timestamp goes: the lines' places are in the marker's runs, not in a template.
        assert_eq!(describe(&templates[0], false, &Query::default()), "srv sshd[…]: Failed password for {alice ×2, bob, carol} from {10.0.0.1 ×2, 10.0.0.2, 10.0.0.3} port {5001, 5002, 6003, 5004} ssh2");
    }

    #[test]
    fn addresses_are_found_inside_tokens() {
        assert_eq!(ipv4_in("unknown[192.0.2.7]:"), Some("192.0.2.7"));
        assert_eq!(ipv4_in("rhost=10.1.2.3"), Some("10.1.2.3"));
        assert_eq!(ipv4_in("v1.2.3.4"), None, "part of a word");
        assert_eq!(ipv4_in("1.2.3.4.5"), None);
        assert_eq!(ipv4_in("256.1.1.1"), None);
        assert_eq!(address_in("from=[2001:db8::7]"), Some("2001:db8::7"));
        assert_eq!(address_in("aaaa:bbbb:cccc:1234::1:1"), Some("aaaa:bbbb:cccc:1234::1:1"));
        assert_eq!(address_in("2001:db8:0:0:0:0:2:1:"), Some("2001:db8:0:0:0:0:2:1"));
        assert_eq!(address_in("::1"), Some("::1"));
        assert_eq!(address_in("::ffff:1.2.3.4"), Some("1.2.3.4"));
        assert_eq!(address_in("13:49:31"), None, "a clock");
        assert_eq!(address_in("00:1a:2b:3c:4d:5e"), None, "a MAC address");
        assert_eq!(address_in("8c:e3:aa:0f:64:51:02:f7:14:79:89:3f:65:84:7c:30,"), None, "a key fingerprint");
        assert_eq!(address_in("std::vector"), None, "part of a word");
    }

    #[test]
    fn every_source_of_every_failed_login_statement_the_question_names_is_listed() {
        let query = "list every host with a failed SSH login: Failed password, invalid user, authentication failure";
        let out = Logs.compress(OPENSSH, &ctx(query, "k")).unwrap();
        let failed = |l: &&str| l.contains("Failed password") || l.contains("Invalid user") || l.contains("authentication failure;");
        let hosts: std::collections::BTreeSet<&str> = OPENSSH
            .lines()
            .filter(failed)
            .filter_map(|l| l.split(" from ").nth(1).or_else(|| l.split("rhost=").nth(1)))
            .map(|rest| rest.split_whitespace().next().unwrap_or(""))
            .collect();
        assert!(hosts.len() > 20, "{hosts:?}");
        for host in &hosts {
            assert!(out.contains(host), "host {host} lost:\n{out}");
        }
        assert!(out.len() * 4 < OPENSSH.len(), "{} -> {}", OPENSSH.len(), out.len());
    }

    #[test]
    fn a_log_without_a_clock_is_recognised_by_its_repeating_lines() {
        // The same records' messages alone: no clock, no process tag.
        let clockless: String = OPENSSH.lines().map(|l| l.splitn(6, ' ').nth(5).unwrap_or(l)).collect::<Vec<_>>().join("\n");
        assert!(clockless.lines().take(50).all(|l| !starts_record(l) || l.contains("error")), "no clock is left");
        assert!(detect(&clockless));
        let out = Logs.compress(&clockless, &ctx("", "k")).unwrap();
        assert!(out.len() * 4 < clockless.len(), "{} -> {}", clockless.len(), out.len());
        // Prose and code with few repeats are not logs.
        assert!(!detect(include_str!("../../../tests/fixtures/logs/LICENSE-loghub")));
        assert!(!detect(include_str!("../engine/mod.rs")));
    }

    /// An install log as setuptools prints it: no clock, each line naming other files.
    fn install_log() -> String {
        let mut log = String::from("running install\nrunning build_py\n");
        for package in ["languages", "parsers", "readers", "transforms", "utils", "writers"] {
            log.push_str(&format!("creating build/lib/docutils/{package}\n"));
            for module in ["__init__", "misc", "references", "universal", "parts", "components", "core", "io", "nodes", "frontend"] {
                log.push_str(&format!("copying docutils/{package}/{module}.py -> build/lib/docutils/{package}\n"));
            }
        }
        log.push_str("warning: build_py: byte-compiling is disabled, skipping.\nrunning install_scripts\n");
        for script in ["rst2html.py", "rst2latex.py", "rst2man.py", "rst2xml.py"] {
            log.push_str(&format!("changing mode of /venv/bin/{script} to 755\n"));
        }
        log
    }

    #[test]
    fn an_install_log_is_a_log_and_its_files_stay_listed_by_directory() {
        let log = install_log();
        assert!(detect(&log), "copying and creating lines are two templates whatever their paths");
        let out = Logs.compress(&log, &ctx("", "k")).unwrap();
        assert!(out.len() < log.len() / 2, "{out}");
        assert!(out.contains("byte-compiling is disabled"), "{out}");
        assert!(out.contains("/venv/bin/: rst2html.py, rst2latex.py, rst2man.py, rst2xml.py"), "{out}");
        assert!(out.contains("docutils/transforms/: __init__.py, misc.py, references.py, universal.py, parts.py, components.py, core.py"), "{out}");
        assert!(!out.contains("addresses and names"), "files listed by directory are not listed again: {out}");
        assert!(is_path("docutils/io.py") && is_path("/usr/lib/") && !is_path("io.py"));
        assert!(!is_path("https://example.org/a/b") && !is_path("/") && is_path("'build/lib/x.py'"));
    }
}
