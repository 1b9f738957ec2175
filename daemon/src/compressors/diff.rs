//! The diff compressor: unified diffs and `git show` / `git log -p` output.
//!
//! A reader of a diff needs to know which files changed and how. So the commit header, every file
//! header and every changed line are kept; unchanged context shrinks to one line either side of a
//! change, and every hunk header is rewritten to count exactly the lines kept (a hunk is split
//! where the context between two changes was cut), so the result is still a valid diff of the
//! lines it shows. Generated files (lockfiles, minified assets, long-line blobs) keep their
//! headers and one line of counts instead of their hunks. Very large hand-written changes keep
//! their query-relevant hunks first and say how many changed lines they left out. One marker at
//! the end sums up what went.

use crate::request::marker::{self, thousands};
use crate::request::query::Query;
use super::{Compressor, Context};
use std::cmp::Reverse;

/// Compresses unified diffs.
pub struct Diff;

/// File names whose content is written by a package manager, not by a person.
const LOCKFILES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "Cargo.lock",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "composer.lock",
    "Gemfile.lock",
    "go.sum",
    "flake.lock",
];

/// A changed line longer than this is machine-written (minified code, inlined data, source maps).
const LONG_LINE: usize = 300;
/// Generated files with at most this many changed lines are shown as they are: a summary line
/// would save next to nothing and hide a version bump the reader may care about.
const SMALL_GENERATED: usize = 10;
/// A hand-written file with more changed lines than this is large enough to trim by relevance.
const LARGE_FILE: usize = 500;
/// Bytes of hunks a large file keeps when the caller sets no target ratio (about 200 lines).
const LARGE_FILE_KEEP: usize = 16 * 1024;
/// The least a large file keeps under a tight target ratio, so its first change stays readable.
const LARGE_FILE_MIN_KEEP: usize = 2 * 1024;

/// Whether `text` holds a diff: a `diff --git` line, or a `---`/`+++` pair followed by a hunk
/// header.
pub fn detect(text: &str) -> bool {
    let (mut before_last, mut last) = ("", "");
    for line in text.lines() {
        if line.starts_with("diff --git ")
            || (line.starts_with("@@ -") && last.starts_with("+++ ") && before_last.starts_with("--- "))
        {
            return true;
        }
        (before_last, last) = (last, line);
    }
    false
}

impl Compressor for Diff {
    fn name(&self) -> &'static str {
        "diff"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let mut omitted = Omitted::default();
        let mut items: Vec<Piece> = parse(text)
            .into_iter()
            .map(|item| match item {
                Item::Text(line) => Piece::Text(line),
                Item::File(file) => Piece::File(shrink(file, &mut omitted)),
            })
            .collect();
        trim_large_files(&mut items, text.len(), ctx, &mut omitted);
        if omitted.is_empty() {
            return None;
        }

        let mut out = String::with_capacity(text.len() / 2);
        for item in &items {
            match item {
                Piece::Text(line) => push_line(&mut out, line),
                Piece::File(file) => file.write(&mut out),
            }
        }
        out.push_str(&marker::marker(ctx.key, &omitted.describe()));
        (out.len() < text.len()).then_some(out)
    }
}

/// What a line of a hunk is, from its first character.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Context,
    Removed,
    Added,
    /// `\ No newline at end of file`: belongs to the line before it and counts on neither side.
    NoNewline,
}

/// The kind of a hunk line, or `None` for a line that cannot be in a hunk. An empty line is
/// context whose trailing space an editor stripped.
fn kind(line: &str) -> Option<Kind> {
    match line.as_bytes().first() {
        None | Some(b' ') => Some(Kind::Context),
        Some(b'-') => Some(Kind::Removed),
        Some(b'+') => Some(Kind::Added),
        Some(b'\\') => Some(Kind::NoNewline),
        Some(_) => None,
    }
}

fn is_change(line: &str) -> bool {
    matches!(kind(line), Some(Kind::Added | Kind::Removed))
}

/// A hunk as read: where it starts on each side (1-based line of its first line, or where that
/// line would be) and its lines with their prefixes.
struct Hunk<'a> {
    old_pos: usize,
    new_pos: usize,
    /// What follows the closing `@@` (git's function context), with its leading space.
    heading: &'a str,
    lines: Vec<&'a str>,
}

/// One file's section: the header lines before its first hunk, then its hunks.
struct File<'a> {
    headers: Vec<&'a str>,
    hunks: Vec<Hunk<'a>>,
}

/// A line outside any file section (commit header, message, `--stat`), or a file section.
enum Item<'a> {
    Text(&'a str),
    File(File<'a>),
}

/// The sections of a diff, in order. Hunk lines are taken by the counts in their header, so a
/// removed line that starts with `-- ` is never mistaken for a file header; a hunk whose lines
/// run out early ends there, and the rewritten header counts only what was there.
fn parse(text: &str) -> Vec<Item<'_>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut items = Vec::new();
    let mut file: Option<File> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        // Inside a git section, the first `---`/`+++` pair names its files; anywhere else it
        // starts a plain unified diff's file.
        let names_pending = file.as_ref().is_some_and(|f| {
            f.hunks.is_empty() && f.headers[0].starts_with("diff --git ") && !f.headers.iter().any(|h| h.starts_with("--- "))
        });
        let plain_start =
            !names_pending && line.starts_with("--- ") && lines.get(i + 1).is_some_and(|next| next.starts_with("+++ "));
        if line.starts_with("diff --git ") || plain_start {
            items.extend(file.take().map(Item::File));
            file = Some(File { headers: vec![line], hunks: Vec::new() });
            i += 1;
            continue;
        }
        if let (Some(f), Some((old_pos, old_len, new_pos, new_len, heading))) = (file.as_mut(), hunk_header(line)) {
            let (hunk, next) = read_hunk(&lines, i + 1, (old_pos, old_len), (new_pos, new_len), heading);
            f.hunks.push(hunk);
            i = next;
            continue;
        }
        match file.as_mut() {
            Some(f) if f.hunks.is_empty() => f.headers.push(line),
            _ => {
                items.extend(file.take().map(Item::File));
                items.push(Item::Text(line));
            }
        }
        i += 1;
    }
    items.extend(file.map(Item::File));
    items
}

/// `@@ -a[,b] +c[,d] @@heading` as the 1-based positions of the hunk's first line on each side,
/// the counts, and the heading.
fn hunk_header(line: &str) -> Option<(usize, usize, usize, usize, &str)> {
    let (ranges, heading) = line.strip_prefix("@@ -")?.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |r: &str| -> Option<(usize, usize)> {
        let (start, len) = match r.split_once(',') {
            Some((s, l)) => (s.parse().ok()?, l.parse().ok()?),
            None => (r.parse().ok()?, 1),
        };
        // An empty side names the line *after which* the hunk goes.
        Some((if len == 0 { start + 1 } else { start }, len))
    };
    let (old_pos, old_len) = range(old)?;
    let (new_pos, new_len) = range(new)?;
    Some((old_pos, old_len, new_pos, new_len, heading))
}

/// The hunk whose lines start at `lines[from]`, and the index after it.
fn read_hunk<'a>(
    lines: &[&'a str],
    from: usize,
    (old_pos, mut old_left): (usize, usize),
    (new_pos, mut new_left): (usize, usize),
    heading: &'a str,
) -> (Hunk<'a>, usize) {
    let mut i = from;
    while let Some(&line) = lines.get(i) {
        match kind(line) {
            Some(Kind::Context) if old_left > 0 && new_left > 0 => {
                old_left -= 1;
                new_left -= 1;
            }
            Some(Kind::Removed) if old_left > 0 => old_left -= 1,
            Some(Kind::Added) if new_left > 0 => new_left -= 1,
            Some(Kind::NoNewline) => {}
            _ => break,
        }
        i += 1;
    }
    (Hunk { old_pos, new_pos, heading, lines: lines[from..i].to_vec() }, i)
}

/// A run of lines kept from one hunk, with the header numbers that make it a valid hunk.
#[derive(Clone)]
struct Kept<'a> {
    old_pos: usize,
    old_len: usize,
    new_pos: usize,
    new_len: usize,
    heading: &'a str,
    lines: Vec<&'a str>,
    bytes: usize,
}

impl<'a> Kept<'a> {
    fn new(old_pos: usize, new_pos: usize, heading: &'a str) -> Self {
        // The header's length, near enough for budgeting.
        let bytes = 24 + heading.len();
        Kept { old_pos, old_len: 0, new_pos, new_len: 0, heading, lines: Vec::new(), bytes }
    }

    fn push(&mut self, line: &'a str) {
        match kind(line) {
            Some(Kind::Context) => {
                self.old_len += 1;
                self.new_len += 1;
            }
            Some(Kind::Removed) => self.old_len += 1,
            Some(Kind::Added) => self.new_len += 1,
            Some(Kind::NoNewline) | None => {}
        }
        self.bytes += line.len() + 1;
        self.lines.push(line);
    }

    /// The same hunk cut after its lines fill `max_bytes` (at least one line). A hunk's prefix
    /// is itself a valid hunk.
    fn prefix(&self, max_bytes: usize) -> Kept<'a> {
        let mut cut = Kept::new(self.old_pos, self.new_pos, self.heading);
        for &line in &self.lines {
            let attached = kind(line) == Some(Kind::NoNewline);
            if !cut.lines.is_empty() && !attached && cut.bytes + line.len() >= max_bytes {
                break;
            }
            cut.push(line);
        }
        cut
    }

    fn changed(&self) -> usize {
        self.lines.iter().filter(|l| is_change(l)).count()
    }

    fn write(&self, out: &mut String) {
        let header = format!("@@ -{} +{} @@{}", range(self.old_pos, self.old_len), range(self.new_pos, self.new_len), self.heading);
        push_line(out, &header);
        for line in &self.lines {
            push_line(out, line);
        }
    }
}

/// A side's range as a hunk header writes it: the count is left out when it is 1, and an empty
/// side names the line before the position.
fn range(pos: usize, len: usize) -> String {
    match len {
        0 => format!("{},0", pos.saturating_sub(1)),
        1 => pos.to_string(),
        _ => format!("{pos},{len}"),
    }
}

/// The runs of `hunk` worth keeping: every changed line with at most one context line either
/// side. Returns them and how many context lines were dropped.
fn trim_context<'a>(hunk: &Hunk<'a>) -> (Vec<Kept<'a>>, usize) {
    let lines = &hunk.lines;
    let real: Vec<usize> = (0..lines.len()).filter(|&i| kind(lines[i]) != Some(Kind::NoNewline)).collect();
    let mut keep = vec![false; lines.len()];
    for (k, &i) in real.iter().enumerate() {
        let near = |j: Option<&usize>| j.is_some_and(|&j| is_change(lines[j]));
        keep[i] = is_change(lines[i]) || near(k.checked_sub(1).and_then(|p| real.get(p))) || near(real.get(k + 1));
    }
    for i in 1..lines.len() {
        if kind(lines[i]) == Some(Kind::NoNewline) {
            keep[i] = keep[i - 1];
        }
    }

    let (mut old, mut new) = (hunk.old_pos, hunk.new_pos);
    let mut runs: Vec<Kept> = Vec::new();
    let mut current: Option<Kept> = None;
    let mut dropped = 0;
    for (&line, &kept) in lines.iter().zip(&keep) {
        let line_kind = kind(line);
        if kept {
            let heading = if runs.is_empty() { hunk.heading } else { "" };
            current.get_or_insert_with(|| Kept::new(old, new, heading)).push(line);
        } else {
            if line_kind == Some(Kind::Context) {
                dropped += 1;
            }
            runs.extend(current.take());
        }
        match line_kind {
            Some(Kind::Context) => {
                old += 1;
                new += 1;
            }
            Some(Kind::Removed) => old += 1,
            Some(Kind::Added) => new += 1,
            Some(Kind::NoNewline) | None => {}
        }
    }
    runs.extend(current);
    (runs, dropped)
}

/// What made a file count as generated.
#[derive(Clone, Copy)]
enum Generated {
    Lockfile,
    Minified,
    LongLines,
}

impl Generated {
    fn label(self) -> &'static str {
        match self {
            Generated::Lockfile => "lockfile",
            Generated::Minified => "minified file",
            Generated::LongLines => "generated file (long lines)",
        }
    }
}

/// The path a file section is about: the new name, or the old one for a deletion.
fn path_of<'a>(headers: &[&'a str]) -> &'a str {
    let named = |prefix: &str| {
        headers.iter().find_map(|h| {
            let p = h.strip_prefix(prefix)?;
            let p = p.split('\t').next().unwrap_or(p);
            (p != "/dev/null").then(|| p.strip_prefix("a/").or_else(|| p.strip_prefix("b/")).unwrap_or(p))
        })
    };
    named("+++ ")
        .or_else(|| named("--- "))
        .or_else(|| headers.first().and_then(|h| h.strip_prefix("diff --git ")).and_then(|h| h.rsplit(" b/").next()))
        .unwrap_or("")
}

fn generated(path: &str, hunks: &[Hunk<'_>]) -> Option<Generated> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if LOCKFILES.contains(&name) {
        return Some(Generated::Lockfile);
    }
    if name.ends_with(".min.js") || name.ends_with(".min.css") {
        return Some(Generated::Minified);
    }
    let (mut changed, mut long) = (0, 0);
    for line in hunks.iter().flat_map(|h| &h.lines).filter(|l| is_change(l)) {
        changed += 1;
        if line.len() > LONG_LINE + 1 {
            long += 1;
        }
    }
    (long * 2 > changed).then_some(Generated::LongLines)
}

/// A file section as it will be written.
struct FileOut<'a> {
    path: &'a str,
    headers: Vec<&'a str>,
    /// A line standing for hunks that are not all shown.
    note: Option<String>,
    kept: Vec<Kept<'a>>,
    added: usize,
    removed: usize,
    /// Whether the file's hunks were replaced by a summary.
    summarised: bool,
}

impl FileOut<'_> {
    fn write(&self, out: &mut String) {
        for header in &self.headers {
            push_line(out, header);
        }
        if let Some(note) = &self.note {
            push_line(out, note);
        }
        for kept in &self.kept {
            kept.write(out);
        }
    }

    fn hunk_bytes(&self) -> usize {
        self.kept.iter().map(|k| k.bytes).sum()
    }

    fn other_bytes(&self) -> usize {
        self.headers.iter().map(|h| h.len() + 1).sum::<usize>() + self.note.as_ref().map_or(0, |n| n.len() + 1)
    }

    fn is_large(&self) -> bool {
        !self.summarised && self.added + self.removed > LARGE_FILE
    }
}

/// A section of the output.
enum Piece<'a> {
    Text(&'a str),
    File(FileOut<'a>),
}

/// What was left out, in the reader's units.
#[derive(Default)]
struct Omitted {
    context: usize,
    index: usize,
    generated_lines: usize,
    generated_files: usize,
    large_lines: usize,
    large_files: usize,
}

impl Omitted {
    fn is_empty(&self) -> bool {
        self.context + self.index + self.generated_lines + self.large_lines == 0
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.large_lines > 0 {
            parts.push(format!("{} changed lines of {}", thousands(self.large_lines), files(self.large_files, "large")));
        }
        if self.generated_lines > 0 {
            parts.push(format!(
                "{} changed lines of {}",
                thousands(self.generated_lines),
                files(self.generated_files, "generated")
            ));
        }
        if self.context > 0 {
            parts.push(format!("{} unchanged context lines", thousands(self.context)));
        }
        if self.index > 0 {
            parts.push(format!("{} index lines", thousands(self.index)));
        }
        format!("omitted {}", parts.join(", "))
    }
}

fn files(n: usize, adjective: &str) -> String {
    marker::counted(n, &format!("{adjective} file"), &format!("{adjective} files"))
}

/// A file section without its `index` line, with its context trimmed or, for a generated file,
/// its hunks replaced by their counts.
fn shrink<'a>(file: File<'a>, omitted: &mut Omitted) -> FileOut<'a> {
    let path = path_of(&file.headers);
    let mut headers = file.headers;
    let before = headers.len();
    headers.retain(|h| !h.starts_with("index "));
    omitted.index += before - headers.len();

    let (mut added, mut removed) = (0, 0);
    for line in file.hunks.iter().flat_map(|h| &h.lines) {
        match kind(line) {
            Some(Kind::Added) => added += 1,
            Some(Kind::Removed) => removed += 1,
            _ => {}
        }
    }
    let changed = added + removed;
    if let Some(what) = generated(path, &file.hunks).filter(|_| changed > SMALL_GENERATED) {
        omitted.generated_lines += changed;
        omitted.generated_files += 1;
        let note = format!(
            "[{}: {} lines changed (+{} -{}) omitted]",
            what.label(),
            thousands(changed),
            thousands(added),
            thousands(removed)
        );
        return FileOut { path, headers, note: Some(note), kept: Vec::new(), added, removed, summarised: true };
    }
    let mut kept = Vec::new();
    for hunk in &file.hunks {
        let (runs, dropped) = trim_context(hunk);
        omitted.context += dropped;
        kept.extend(runs);
    }
    FileOut { path, headers, note: None, kept, added, removed, summarised: false }
}

/// Cuts the hunks of large hand-written files down to an allowance of bytes each, keeping the
/// hunks with the most query-matching changed lines first. The allowance is a share of what the
/// target ratio leaves after everything else, or [`LARGE_FILE_KEEP`] without a target.
fn trim_large_files(items: &mut [Piece<'_>], original: usize, ctx: &Context, omitted: &mut Omitted) {
    let (mut fixed, mut large) = (0, 0);
    for item in items.iter() {
        match item {
            Piece::Text(line) => fixed += line.len() + 1,
            Piece::File(f) if f.is_large() => {
                fixed += f.other_bytes();
                large += f.hunk_bytes();
            }
            Piece::File(f) => fixed += f.other_bytes() + f.hunk_bytes(),
        }
    }
    if large == 0 {
        return;
    }
    let query = Query::new(ctx.query);
    for item in items.iter_mut() {
        let Piece::File(file) = item else { continue };
        if !file.is_large() {
            continue;
        }
        let size = file.hunk_bytes();
        let allowance = match ctx.target_ratio {
            Some(ratio) => {
                let left = ((original as f64 * f64::from(ratio)) as usize).saturating_sub(fixed);
                (left as f64 * size as f64 / large as f64) as usize
            }
            None => LARGE_FILE_KEEP,
        }
        .max(LARGE_FILE_MIN_KEEP);
        if size <= allowance {
            continue;
        }
        let changed_lines = file.kept.iter().flat_map(|k| &k.lines).filter(|l| is_change(l)).map(|l| &l[1..]);
        let query = query.discriminative(changed_lines, 0.5);
        let kept = keep_relevant(&file.kept, &query, allowance);
        let shown: usize = kept.iter().map(Kept::changed).sum();
        let changed = file.added + file.removed;
        omitted.large_lines += changed - shown;
        omitted.large_files += 1;
        file.note = Some(format!(
            "[large change to {}: {} lines changed (+{} -{}), {} of them not shown]",
            file.path,
            thousands(changed),
            thousands(file.added),
            thousands(file.removed),
            thousands(changed - shown)
        ));
        file.kept = kept;
    }
}

/// The hunks to show out of `hunks` within `allowance` bytes, in their original order: the ones
/// with the most query-matching changed lines first, then the earliest. If not even one fits, the
/// best one's beginning.
fn keep_relevant<'a>(hunks: &[Kept<'a>], query: &Query, allowance: usize) -> Vec<Kept<'a>> {
    let score = |k: &Kept| k.lines.iter().filter(|l| is_change(l) && query.hits(&l[1..]) > 0).count();
    let mut order: Vec<(usize, usize)> = hunks.iter().enumerate().map(|(i, k)| (i, score(k))).collect();
    order.sort_by_key(|&(i, s)| (Reverse(s), i));
    let mut take = vec![false; hunks.len()];
    let mut left = allowance;
    for &(i, _) in &order {
        if hunks[i].bytes <= left {
            take[i] = true;
            left -= hunks[i].bytes;
        }
    }
    if !take.contains(&true) {
        return order.first().map(|&(i, _)| vec![hunks[i].prefix(allowance)]).unwrap_or_default();
    }
    hunks.iter().zip(take).filter(|(_, t)| *t).map(|(k, _)| k.clone()).collect()
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../../tests/fixtures/diffs/octokit-fixtures-5946840.diff");

    fn ctx<'a>(query: &'a str) -> Context<'a> {
        Context { query, key: "0123456789abcdef01234567", ..Context::default() }
    }

    /// The `+`/`-` lines of one file's section in a diff.
    fn changed_lines<'a>(diff: &'a str, path: &str) -> Vec<&'a str> {
        let header = format!("diff --git a/{path} b/{path}");
        let Some(start) = diff.find(&header) else { return Vec::new() };
        let section = &diff[start + header.len()..];
        let section = &section[..section.find("\ndiff --git ").unwrap_or(section.len())];
        section
            .lines()
            .filter(|l| is_change(l) && !l.starts_with("--- ") && !l.starts_with("+++ ") && !l.is_empty())
            .collect()
    }

    /// Checks that every hunk header of `diff` counts exactly the lines under it.
    fn assert_hunks_are_valid(diff: &str) {
        let lines: Vec<&str> = diff.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some((_, old_len, _, new_len, _)) = hunk_header(line) else { continue };
            let (mut old, mut new) = (0, 0);
            for l in &lines[i + 1..] {
                match kind(l) {
                    Some(Kind::Context) if !l.is_empty() => {
                        old += 1;
                        new += 1;
                    }
                    Some(Kind::Removed) if !l.starts_with("--- ") => old += 1,
                    Some(Kind::Added) if !l.starts_with("+++ ") => new += 1,
                    Some(Kind::NoNewline) => {}
                    _ => break,
                }
            }
            assert_eq!((old, new), (old_len, new_len), "hunk header {line:?}");
        }
    }

    #[test]
    fn fixture_keeps_every_file_and_change_and_shrinks_by_more_than_60_percent() {
        assert!(detect(FIXTURE));
        let out = Diff.compress(FIXTURE, &ctx("what changed in the archive normalizer?")).unwrap();
        assert!(out.len() * 10 <= FIXTURE.len() * 4, "{} of {} bytes", out.len(), FIXTURE.len());
        for line in FIXTURE.lines().filter(|l| l.starts_with("diff --git ")) {
            assert!(out.contains(line), "{line} is missing");
        }
        for path in ["package.json", "lib/normalize/archive.js", "bin/record.js", "vite.config.js"] {
            let before = changed_lines(FIXTURE, path);
            assert!(!before.is_empty());
            assert_eq!(changed_lines(&out, path), before, "changed lines of {path}");
        }
        assert!(out.contains("Author: renovate[bot]") && out.contains("chore(deps): modernize dependencies (#741)"));
        assert!(out.contains("new file mode 100644"));
        assert!(!out.contains("\nindex "));
        assert!(out.contains("[lockfile: "), "package-lock.json is summarised");
        assert_eq!(marker::keys_in(&out), vec!["0123456789abcdef01234567".to_string()]);
        assert_eq!(out.matches("[headroom: ").count(), 1);
        assert_hunks_are_valid(&out);
    }

    #[test]
    fn lockfile_summary_counts_its_lines() {
        let out = Diff.compress(FIXTURE, &ctx("")).unwrap();
        let lock = changed_lines(FIXTURE, "package-lock.json");
        let added = lock.iter().filter(|l| l.starts_with('+')).count();
        let removed = lock.len() - added;
        let summary = format!(
            "[lockfile: {} lines changed (+{} -{}) omitted]",
            thousands(lock.len()),
            thousands(added),
            thousands(removed)
        );
        assert!(out.contains(&summary), "expected {summary}");
        assert!(out.contains(&format!("{} changed lines of 1 generated file", thousands(lock.len()))));
    }

    #[test]
    fn hunks_split_where_context_is_cut_and_headers_are_rewritten() {
        let mut text = String::from("diff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n@@ -10,30 +10,30 @@ def f():\n");
        for n in 10..40 {
            let line = format!("    line {n}");
            match n {
                12 | 35 => text.push_str(&format!("-{line}\n+{line} changed\n")),
                _ => text.push_str(&format!(" {line}\n")),
            }
        }
        let out = Diff.compress(&text, &ctx("")).unwrap();
        let expected = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n\
            @@ -11,3 +11,3 @@ def f():\n     line 11\n-    line 12\n+    line 12 changed\n     line 13\n\
            @@ -34,3 +34,3 @@\n     line 34\n-    line 35\n+    line 35 changed\n     line 36\n";
        assert!(out.starts_with(expected), "{out}");
        let end = "[headroom: omitted 24 unchanged context lines, 1 index lines; headroom_retrieve hash=0123456789abcdef01234567]";
        assert!(out.ends_with(end), "{out}");
        assert_hunks_are_valid(&out);
    }

    #[test]
    fn pure_additions_and_missing_newlines_keep_valid_headers() {
        let mut text = String::from("--- a/notes.txt\n+++ b/notes.txt\n@@ -1,40 +1,41 @@\n");
        for n in 1..=40 {
            text.push_str(&format!(" note {n}\n"));
        }
        text.push_str("+note 41\n\\ No newline at end of file\n");
        let out = Diff.compress(&text, &ctx("")).unwrap();
        let expected = "--- a/notes.txt\n+++ b/notes.txt\n@@ -40 +40,2 @@\n note 40\n+note 41\n\\ No newline at end of file\n";
        assert!(out.starts_with(expected), "{out}");
        let created = "--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n";
        let (runs, dropped) = trim_context(&read_created(created));
        assert_eq!(dropped, 0);
        let mut written = String::new();
        runs[0].write(&mut written);
        assert_eq!(written, "@@ -0,0 +1,2 @@\n+a\n+b\n");
    }

    fn read_created(text: &str) -> Hunk<'_> {
        let Item::File(mut file) = parse(text).remove(0) else { panic!("not a file") };
        file.hunks.remove(0)
    }

    #[test]
    fn a_removed_line_starting_with_dashes_stays_in_its_hunk() {
        let text = "--- a/s.sql\n+++ b/s.sql\n@@ -1,2 +1,2 @@\n--- a comment\n+++ x\n keep\n";
        let items = parse(text);
        assert_eq!(items.len(), 1);
        let Item::File(file) = &items[0] else { panic!("not a file") };
        assert_eq!(file.hunks[0].lines, vec!["--- a comment", "+++ x", " keep"]);
    }

    #[test]
    fn large_files_keep_query_relevant_hunks_and_their_counts() {
        let mut text = String::from("diff --git a/big.rs b/big.rs\n--- a/big.rs\n+++ b/big.rs\n");
        for h in 0..200 {
            let start = 1 + h * 10;
            text.push_str(&format!("@@ -{start},5 +{start},5 @@\n a\n b\n-old {h}\n+new {h}\n c\n"));
        }
        text.push_str("@@ -5000,3 +5000,3 @@\n a\n-fn parse_token() {}\n+fn parse_token(x: u8) {}\n b\n");
        for h in 0..200 {
            let start = 6000 + h * 10;
            text.push_str(&format!("@@ -{start},3 +{start},3 @@\n a\n-filler line number {h} of the refactor\n+filler line number {h} of the new refactor\n b\n"));
        }
        let out = Diff.compress(&text, &Context { target_ratio: Some(0.1), ..ctx("where is parse_token changed?") }).unwrap();
        assert!(out.contains("+fn parse_token(x: u8) {}"), "the relevant hunk is kept");
        assert!(out.contains("[large change to big.rs: 802 lines changed (+401 -401), "), "{out}");
        assert!(out.len() < text.len() / 4);
        assert_eq!(out.matches("[headroom: ").count(), 1);
        assert_hunks_are_valid(&out);
    }

    #[test]
    fn detection_and_nothing_to_gain() {
        assert!(detect("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"));
        assert!(!detect("--- a list\n+++ not a diff\nplain text\n"));
        assert!(!detect("just some prose\nabout diffs\n"));
        assert_eq!(Diff.compress("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", &ctx("")), None);
    }
}
