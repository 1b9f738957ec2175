//! The listing compressor: directory listings as agents produce them — `ls -R` (a `path:` line
//! per directory, then its entries in columns) and path lists (`find`, an editor's "files up to
//! 2 levels deep", one path per line).
//!
//! A listing spends most of its tokens on what repeats: every directory's full path, column
//! padding, and runs of data files of one pattern. The output is the same tree written once:
//! the root's path, then each directory on its own line, indented by depth and named by what its
//! parent's line does not already say, followed by its entries. An entry that has its own line
//! is not repeated in its parent's. Every name of source code (and every name the query
//! mentions) stays; in a directory with many files of one other extension, only the first,
//! second and last are shown with the count of the rest; a directory with no source code below
//! it (docs, data, assets) is written as its name and a count of its files on its parent's
//! line. One marker says how many names were left out. Lines that are not part of the listing
//! (the command echoed, a shell prompt, a truncation notice) stay where they were.

use super::lang::Lang;
use crate::request::marker::{self, thousands};
use crate::request::query::Query;
use super::{Compressor, Context};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Compresses directory listings.
pub struct Listing;

/// Directories (ls -R blocks, or parents in a path list) a listing has at least.
const MIN_DIRECTORIES: usize = 3;
/// Paths a path list has at least.
const MIN_PATHS: usize = 10;
/// Names of one non-code extension in one directory shown whole; above it the run is shortened.
const RUN_SHOWN_WHOLE: usize = 12;

/// One directory and its entries, in the order the listing gave them.
struct Directory<'a> {
    path: &'a str,
    entries: Vec<&'a str>,
}

/// A piece of the listing, in order.
enum Piece<'a> {
    /// A line that is not part of the listing, kept as it is.
    Line(&'a str),
    /// A directory (index into `Parsed::directories`).
    Directory(usize),
}

struct Parsed<'a> {
    pieces: Vec<Piece<'a>>,
    directories: Vec<Directory<'a>>,
}

/// Whether `text` is a directory listing this compressor can rewrite.
pub fn detect(text: &str) -> bool {
    parse(text).is_some()
}

impl Compressor for Listing {
    fn name(&self) -> &'static str {
        "listing"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let parsed = parse(text)?;
        Some(render(&parsed, &Query::new(ctx.query), ctx.key))
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// `ls -R` output, else a path list, else `None`.
fn parse(text: &str) -> Option<Parsed<'_>> {
    parse_recursive(text).or_else(|| parse_paths(text))
}

/// A line `ls -R` writes before a directory's entries: a path ending in `:`.
fn header(line: &str) -> Option<&str> {
    let path = line.strip_suffix(':')?;
    let pathlike = path.starts_with('/') || path.starts_with('.') || path.contains('/');
    (pathlike && !path.contains('\t') && !path.contains("  ") && !path.ends_with('/')).then_some(path)
}

/// Entries of one `ls` line: names separated by tabs or runs of two or more spaces.
fn entries(line: &str) -> impl Iterator<Item = &str> {
    line.split('\t').flat_map(|cell| cell.split("  ")).map(str::trim).filter(|name| !name.is_empty())
}

fn parse_recursive(text: &str) -> Option<Parsed<'_>> {
    let mut parsed = Parsed { pieces: Vec::new(), directories: Vec::new() };
    let (mut open, mut previous_blank, mut listed_lines, mut other_lines) = (false, true, 0usize, 0usize);
    for line in lines(text) {
        if line.trim().is_empty() {
            open = false;
            previous_blank = true;
            parsed.pieces.push(Piece::Line(line));
            continue;
        }
        match header(line) {
            Some(path) if previous_blank || parsed.directories.is_empty() => {
                parsed.directories.push(Directory { path, entries: Vec::new() });
                parsed.pieces.push(Piece::Directory(parsed.directories.len() - 1));
                open = true;
                listed_lines += 1;
            }
            // A bracketed notice (truncation, exit code) is the tool's, not an entry.
            _ if open && !line.starts_with('[') => {
                parsed.directories.last_mut().expect("open").entries.extend(entries(line));
                listed_lines += 1;
            }
            _ => {
                parsed.pieces.push(Piece::Line(line));
                other_lines += 1;
            }
        }
        previous_blank = false;
    }
    let enough = parsed.directories.len() >= MIN_DIRECTORIES && listed_lines >= 4 * other_lines;
    enough.then_some(parsed)
}

/// A line of a path list: no spaces inside, at least one `/`, not a URL.
fn path_line(line: &str) -> bool {
    let line = line.trim_end();
    !line.is_empty() && line.contains('/') && !line.contains(char::is_whitespace) && !line.contains("://")
}

fn parse_paths(text: &str) -> Option<Parsed<'_>> {
    let mut parsed = Parsed { pieces: Vec::new(), directories: Vec::new() };
    // Directory path → its index in `parsed.directories`.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let (mut paths, mut other_lines) = (0usize, 0usize);
    for line in lines(text) {
        if !path_line(line) {
            parsed.pieces.push(Piece::Line(line));
            other_lines += usize::from(!line.trim().is_empty());
            continue;
        }
        paths += 1;
        let path = line.trim_end().trim_end_matches('/');
        let (parent, name) = path.rsplit_once('/').filter(|(p, _)| !p.is_empty()).unwrap_or(("/", path));
        let name = if parent == "/" && path.starts_with('/') { &path[1..] } else { name };
        match index.get(parent) {
            Some(&i) => parsed.directories[i].entries.push(name),
            None => {
                index.insert(parent, parsed.directories.len());
                parsed.directories.push(Directory { path: parent, entries: vec![name] });
                parsed.pieces.push(Piece::Directory(parsed.directories.len() - 1));
            }
        }
    }
    let enough = paths >= MIN_PATHS && parsed.directories.len() >= MIN_DIRECTORIES && paths >= 4 * other_lines;
    enough.then_some(parsed)
}

/// The longest directory path every listed directory lies in (whole path segments).
fn common_root<'a>(directories: &[Directory<'a>]) -> &'a str {
    let first = directories[0].path;
    let mut root = first;
    for d in &directories[1..] {
        while !(d.path == root || d.path.starts_with(root) && d.path[root.len()..].starts_with('/')) {
            match root.rfind('/') {
                Some(0) | None => return if first.starts_with('/') { "/" } else { "" },
                Some(at) => root = &root[..at],
            }
        }
    }
    root
}

fn render(parsed: &Parsed, query: &Query, key: &str) -> String {
    let root = common_root(&parsed.directories);
    // The harness cut the listing short: the agent will search for what it did not see.
    let cut = parsed.pieces.iter().any(|piece| matches!(piece, Piece::Line(line) if super::harness::cut_short(line)));
    let tree = Tree::new(parsed, root, query, cut);
    let mut out = String::with_capacity(parsed.directories.iter().map(|d| d.path.len() + d.entries.len() * 12).sum());
    let mut stack: &[&str] = &[];
    let (mut omitted, mut shortened_dirs, mut root_written) = (0usize, 0usize, false);
    let (mut folded_files, mut folded_dirs) = (0usize, 0usize);
    for piece in &parsed.pieces {
        let index = match piece {
            // Blank lines only separated `ls -R` blocks; the tree needs none.
            Piece::Line(line) if line.trim().is_empty() => continue,
            Piece::Line(line) => {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            Piece::Directory(i) if tree.hidden[*i] => continue,
            Piece::Directory(i) => *i,
        };
        let path = &tree.segments[index];
        if !root_written {
            out.push_str(if root.is_empty() { "." } else { root });
            out.push(':');
            root_written = true;
            if !path.is_empty() {
                out.push('\n');
            }
        }
        if !path.is_empty() {
            // Named by what the lines above do not already say, indented under its ancestor.
            let shared = stack.iter().zip(path.iter()).take_while(|(a, b)| a == b).count().min(path.len() - 1);
            out.push_str(&"  ".repeat(shared + 1));
            out.push_str(&path[shared..].join("/"));
            for alike in &tree.alike[index] {
                out.push_str("/ ");
                out.push_str(tree.segments[*alike].last().expect("a named directory"));
            }
            out.push_str(if tree.alike[index].is_empty() { "/:" } else { "/ (each):" });
        }
        stack = path;
        let own = &tree.own[index];
        let (shown, left_out) = shorten(own, query);
        if left_out > 0 {
            omitted += left_out;
            shortened_dirs += 1;
        }
        let separator = if own.iter().any(|n| n.contains(' ')) { "  " } else { " " };
        if !shown.is_empty() {
            out.push(' ');
            out.push_str(&shown.join(separator));
        }
        for (name, files) in &tree.folded[index] {
            out.push_str(&format!(" {name}/ ({} files)", thousands(*files)));
            folded_files += files;
            folded_dirs += 1;
        }
        out.push('\n');
    }
    if omitted + folded_files > 0 {
        let mut parts = Vec::new();
        if omitted > 0 {
            parts.push(format!("{} names of non-code files omitted in {} (runs of one extension: first two and last shown; compiled files counted)", thousands(omitted), marker::counted(shortened_dirs, "directory", "directories")));
        }
        if folded_files > 0 {
            let which = if cut { "off the question below the top level (the listing was cut short)" } else { "with no source code below" };
            parts.push(format!("{} names of files in {} {which}, counted", thousands(folded_files), marker::counted(folded_dirs, "directory", "directories")));
        }
        let what = parts.join("; ");
        out.push_str(&marker::marker(key, &what));
        out.push('\n');
    }
    out
}

/// Files a directory with no source code below it holds at least to be written as its name and
/// their count (`_static/ (12 files)`) on its parent's line: docs, data and assets are seldom
/// opened, and a few names cost no more than the count.
const MIN_FOLDED: usize = 4;

/// Sibling directories with the same contents down to the last file (locale folders, one per
/// language) are written once, on one line naming them all, when there are at least this many.
const MIN_ALIKE: usize = 3;

/// The listing's directories as a tree: each one's path below the root, its own entries (the
/// names that have no line of their own), and which siblings are written with it.
struct Tree<'a> {
    segments: Vec<Vec<&'a str>>,
    own: Vec<Vec<&'a str>>,
    /// For a directory written for several: the others, named on its line.
    alike: Vec<Vec<usize>>,
    /// Directories written as part of a sibling's line, or folded into their parent's (they
    /// and everything below them).
    hidden: Vec<bool>,
    /// Per directory: its subdirectories with no source code below them, each as its name
    /// and the number of files below it, written on its line instead of their own.
    folded: Vec<Vec<(&'a str, usize)>>,
}

impl<'a> Tree<'a> {
    /// The tree of `parsed` below `root`; a directory's names stay when the question names it or
    /// a file in it, or when it holds source code — in a listing `cut` short only at the top
    /// level, since the agent will search for the rest.
    fn new(parsed: &Parsed<'a>, root: &str, query: &Query, cut: bool) -> Self {
        let segments: Vec<Vec<&str>> = parsed
            .directories
            .iter()
            .map(|d| d.path.strip_prefix(root).unwrap_or(d.path).split('/').filter(|s| !s.is_empty()).collect())
            .collect();
        let index: HashMap<&[&str], usize> = segments.iter().enumerate().map(|(i, s)| (s.as_slice(), i)).collect();
        let n = segments.len();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, path) in segments.iter().enumerate() {
            if let Some(&parent) = path.split_last().and_then(|(_, up)| index.get(up)) {
                if parent != i {
                    children[parent].push(i);
                }
            }
        }
        let own: Vec<Vec<&str>> = (0..n)
            .map(|i| {
                let named: HashSet<&str> = children[i].iter().filter_map(|&c| segments[c].last().copied()).collect();
                parsed.directories[i].entries.iter().copied().filter(|e| !named.contains(e)).collect()
            })
            .collect();
        // What a directory holds, all the way down, as one comparable string (children before
        // parents in the listing's reverse order).
        let mut shape = vec![String::new(); n];
        for i in (0..n).rev() {
            let mut s = own[i].join("\u{1}");
            for &c in &children[i] {
                s.push('\u{2}');
                s.push_str(segments[c].last().unwrap_or(&""));
                s.push('\u{3}');
                s.push_str(&shape[c]);
                s.push('\u{4}');
            }
            shape[i] = s;
        }
        let mut hidden = vec![false; n];
        let below = |top: usize, j: usize| segments[j].len() >= segments[top].len() && segments[j][..segments[top].len()] == segments[top][..];
        // Files all the way down, and whether any of them (or a directory) is source code or
        // named by the query: deepest directories first, so each child is counted before its
        // parent.
        let mut files: Vec<usize> = own.iter().map(Vec::len).collect();
        // A word in many directories' names (`py`, from a task's `python <filename.py>`) names
        // none of them.
        let contents = (0..n).map(|i| format!("{} {}", segments[i].last().unwrap_or(&""), own[i].join(" ")));
        let query = query.without_short_numbers().discriminative(contents, 0.25);
        let mut wanted: Vec<bool> = (0..n)
            .map(|i| {
                let code_keeps = !cut || segments[i].len() <= 1;
                segments[i].last().is_some_and(|name| query.hits(name) > 0) || own[i].iter().any(|name| (code_keeps && Lang::from_path(name).is_some()) || names_file(&query, name))
            })
            .collect();
        let mut deepest_first: Vec<usize> = (0..n).collect();
        deepest_first.sort_by_key(|&i| std::cmp::Reverse(segments[i].len()));
        for &i in &deepest_first {
            for &c in &children[i] {
                files[i] += files[c];
                wanted[i] |= wanted[c];
            }
        }
        let mut folded = vec![Vec::new(); n];
        for (parent, kids) in children.iter().enumerate() {
            for &c in kids.iter().filter(|&&c| !wanted[c] && files[c] >= MIN_FOLDED) {
                folded[parent].push((segments[c].last().copied().unwrap_or_default(), files[c]));
                (0..n).filter(|&j| below(c, j)).for_each(|j| hidden[j] = true);
            }
        }
        let mut alike = vec![Vec::new(); n];
        for siblings in &children {
            let mut groups: Vec<Vec<usize>> = Vec::new();
            for &c in siblings.iter().filter(|&&c| !hidden[c]) {
                match groups.iter_mut().find(|g| shape[g[0]] == shape[c]) {
                    Some(group) => group.push(c),
                    None => groups.push(vec![c]),
                }
            }
            for group in groups.into_iter().filter(|g| g.len() >= MIN_ALIKE) {
                for &member in &group[1..] {
                    (0..n).filter(|&j| below(member, j)).for_each(|j| hidden[j] = true);
                }
                alike[group[0]] = group[1..].to_vec();
            }
        }
        Tree { segments, own, alike, hidden, folded }
    }
}

/// The entries to show, in order, and how many were left out. A run of more than
/// [`RUN_SHOWN_WHOLE`] names sharing an extension that is not source code keeps its first two
/// names, its last and any the query mentions; `(+N more *.ext)` stands where the others were.
fn shorten<'a>(names: &[&'a str], query: &Query) -> (Vec<Cow<'a, str>>, usize) {
    // (pattern, names in the run, seen so far, hidden since the last shown, how many to show)
    let mut runs: Vec<(String, usize, usize, usize)> = Vec::new();
    for name in names {
        if let Some(pattern) = run_pattern(name) {
            match runs.iter_mut().find(|r| r.0 == pattern) {
                Some(run) => run.1 += 1,
                None => runs.push((pattern, 1, 0, 0)),
            }
        }
    }
    runs.retain(|run| run.1 > RUN_SHOWN_WHOLE || is_compiled(&run.0));
    let mut shown = Vec::with_capacity(names.len());
    let mut omitted = 0;
    let mut flush = |shown: &mut Vec<Cow<'a, str>>, pattern: &str, hidden: &mut usize, any_shown: bool| {
        if *hidden > 0 {
            shown.push(Cow::Owned(if any_shown { format!("(+{hidden} more {pattern})") } else { format!("({hidden} {pattern})") }));
            omitted += *hidden;
            *hidden = 0;
        }
    };
    for name in names {
        let Some(run) = run_pattern(name).and_then(|p| runs.iter_mut().find(|r| r.0 == p)) else {
            shown.push(Cow::Borrowed(*name));
            continue;
        };
        let (pattern, total, seen, hidden) = run;
        *seen += 1;
        // The query names a file by its stem: an extension it mentions (`.py`) names none.
        let stem = name.rsplit_once('.').map_or(*name, |(stem, _)| stem);
        let ends = !is_compiled(pattern) && (*seen <= 2 || *seen == *total);
        if ends || query.hits(stem) > 0 {
            let any_shown = *seen > *hidden + 1;
            flush(&mut shown, pattern, hidden, any_shown);
            shown.push(Cow::Borrowed(*name));
        } else {
            *hidden += 1;
            if *seen == *total {
                let any_shown = *seen > *hidden;
                flush(&mut shown, pattern, hidden, any_shown);
            }
        }
    }
    (shown, omitted)
}

/// The run a name belongs to: `*.ext` for a file that is not source code (every name of
/// source code is kept: an agent opens those).
fn run_pattern(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.').filter(|(stem, _)| !stem.is_empty())?;
    Lang::from_path(name).is_none().then(|| format!("*.{ext}"))
}

/// Extensions of files a build writes (bytecode, objects, libraries): an agent reads and edits
/// the sources, so these are only counted, however few.
const COMPILED: [&str; 9] = ["pyc", "pyo", "so", "o", "a", "obj", "class", "dll", "dylib"];

/// Whether `query` names the file `name`: by its stem (an extension it mentions, `.py`, names
/// none), and never a compiled one, whose name is only counted.
fn names_file(query: &Query, name: &str) -> bool {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    !COMPILED.contains(&ext) && query.hits(stem) > 0
}

/// Whether a run pattern (`*.ext`) is of compiled files.
fn is_compiled(pattern: &str) -> bool {
    pattern.strip_prefix("*.").is_some_and(|ext| COMPILED.contains(&ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(text: &str, query: &str) -> String {
        let ctx = Context { query, key: "0123456789abcdef01234567", ..Context::default() };
        Listing.compress(text, &ctx).expect("a listing")
    }

    const LS_R: &str = "ls -R /w/proj\r\n/w/proj:\r\nREADME.md\t    setup.py\t pkg\r\n\r\n/w/proj/pkg:\r\n__init__.py  core.py  data  tests\r\n\r\n/w/proj/pkg/data:\r\na01.fits  a02.fits  a03.fits  a04.fits  a05.fits\r\na06.fits  a07.fits  a08.fits  a09.fits  a10.fits\r\na11.fits  a12.fits  a13.fits  a14.fits\r\nmake_fits.py  notes.txt\r\n\r\n/w/proj/pkg/tests:\r\n__init__.py  test_core.py\r\n[Command finished with exit code 0]";

    #[test]
    fn ls_r_becomes_one_tree_with_every_code_name_and_the_data_run_shortened() {
        assert!(detect(LS_R));
        let out = compress(LS_R, "fix core");
        assert_eq!(
            out,
            "ls -R /w/proj\n/w/proj: README.md setup.py\n  pkg/: __init__.py core.py\n    data/: a01.fits a02.fits (+11 more *.fits) a14.fits make_fits.py notes.txt\n    tests/: __init__.py test_core.py\n[Command finished with exit code 0]\n[headroom: 11 names of non-code files omitted in 1 directory (runs of one extension: first two and last shown; compiled files counted); headroom_retrieve hash=0123456789abcdef01234567]\n"
        );
    }

    #[test]
    fn sibling_directories_with_the_same_contents_are_written_once() {
        let mut text = String::from("/p/locale:\n");
        let langs = ["af", "ar", "ast", "be", "de"];
        text.push_str(&langs.join("  "));
        text.push_str("  __init__.py\n\n");
        for lang in langs {
            let own = if lang == "ar" || lang == "de" { "__init__.py  formats.py" } else { "" };
            text.push_str(&format!("/p/locale/{lang}:\nLC_MESSAGES  {own}\n\n/p/locale/{lang}/LC_MESSAGES:\ndjango.mo  django.po\n\n"));
        }
        let out = compress(&text, "");
        assert_eq!(
            out,
            "/p/locale: __init__.py\n  af/ ast/ be/ (each):\n    LC_MESSAGES/: django.mo django.po\n  ar/: __init__.py formats.py\n    LC_MESSAGES/: django.mo django.po\n  de/: __init__.py formats.py\n    LC_MESSAGES/: django.mo django.po\n"
        );
    }

    #[test]
    fn a_directory_with_no_code_below_it_is_counted_on_its_parents_line() {
        let mut text = String::from("/w/p:\nsetup.py  docs  src\n\n/w/p/src:\nmain.py\n\n/w/p/docs:\nconf.py  index.rst  api  changes  _static\n\n");
        text.push_str("/w/p/docs/api:\ncore.rst  io.rst  quantity.rst  time.rst\n\n/w/p/docs/changes:\nunits\n\n/w/p/docs/changes/units:\n101.bugfix.rst  102.api.rst  103.feature.rst  104.api.rst\n\n");
        text.push_str("/w/p/docs/_static:\nlogo.svg\n\n/w/p/docs/api/images:\nplot.png\n\n/w/p/docs/whatsnew:\n0.1.rst  5.1.rst  5.2.rst  6.0.rst\n");
        // A version in the question (`5.2`) does not name `5.2.rst`.
        let out = compress(&text, "fix the units parser in 5.2");
        // docs/ holds conf.py: it keeps its line; api/ (5 files down to images/) is counted; a
        // folder of fewer files keeps its names, and so does one the question names.
        assert!(out.contains("  docs/: conf.py index.rst api/ (5 files) whatsnew/ (4 files)\n"), "{out}");
        assert!(!out.contains("core.rst") && !out.contains("images") && !out.contains("5.2.rst"), "{out}");
        assert!(out.contains("_static/: logo.svg") && out.contains("changes/:\n      units/: 101.bugfix.rst 102.api.rst 103.feature.rst 104.api.rst\n"), "{out}");
        assert!(out.contains("9 names of files in 2 directories with no source code below, counted"), "{out}");
    }

    #[test]
    fn a_listing_cut_short_keeps_code_names_only_at_the_top_and_where_the_question_points() {
        let mut text = String::from("/w/p:\nsetup.py  pkg\n\n/w/p/pkg:\n__init__.py  core.py  io  units\n\n");
        text.push_str("/w/p/pkg/io:\n__init__.py  fits.py  ascii.py  votable.py\n\n/w/p/pkg/units:\n__init__.py  core.py  quantity.py  si.py\n\n");
        let whole = compress(&text, "why does the fits header lose its quotes?");
        assert!(whole.contains("units/: __init__.py core.py quantity.py si.py"), "{whole}");
        text.push_str("[... Observation truncated due to length ...]\n");
        // `py`, from the task's own words, is in every directory's names: it names none.
        let cut = compress(&text, "why does the fits header lose its quotes? Reproduce it with `python <filename.py>`.");
        // The top level and the directory the question names keep their names; the other code
        // directory is counted.
        assert!(cut.contains("  pkg/: __init__.py core.py units/ (4 files)\n    io/: __init__.py fits.py ascii.py votable.py\n"), "{cut}");
        assert!(cut.contains("4 names of files in 1 directory off the question below the top level (the listing was cut short), counted"), "{cut}");
    }

    #[test]
    fn a_question_names_a_file_by_its_stem_and_never_a_compiled_one() {
        assert!(names_file(&Query::new("fix the config loader"), "config.py"));
        assert!(!names_file(&Query::new("run it with python script.py"), "core.py"), "an extension names no file");
        assert!(!names_file(&Query::new("Linux-5.10 x86_64"), "_convolve.cpython-39-x86_64-linux-gnu.so"), "compiled names are only counted");
    }

    #[test]
    fn compiled_files_are_only_counted() {
        let text = "/w/p:\nsetup.py  core.py  _speedups.c  _speedups.cpython-39-x86_64-linux-gnu.so  __pycache__\n\n/w/p/__pycache__:\ncore.cpython-39.pyc  setup.cpython-39.pyc\n\n/w/p/docs:\nindex.rst\n";
        let out = compress(text, "");
        assert_eq!(
            out,
            "/w/p: setup.py core.py _speedups.c (1 *.so)\n  __pycache__/: (2 *.pyc)\n  docs/: index.rst\n[headroom: 3 names of non-code files omitted in 2 directories (runs of one extension: first two and last shown; compiled files counted); headroom_retrieve hash=0123456789abcdef01234567]\n"
        );
    }

    #[test]
    fn query_names_in_a_long_run_stay() {
        let out = compress(LS_R, "what is in a07.fits");
        assert!(out.contains("a07.fits"), "{out}");
    }

    #[test]
    fn a_path_list_is_grouped_by_directory() {
        let mut text = String::from("Here's the files and directories up to 2 levels deep in /w/proj, excluding hidden items:\n");
        for p in ["/w/proj", "/w/proj/src", "/w/proj/src/a.rs", "/w/proj/src/b.rs", "/w/proj/docs", "/w/proj/docs/intro.md"] {
            text.push_str(p);
            text.push('\n');
        }
        for i in 0..6 {
            text.push_str(&format!("/w/proj/tests/t{i}.rs\n"));
        }
        assert!(detect(&text));
        let out = compress(&text, "");
        for name in ["a.rs", "b.rs", "intro.md", "t0.rs", "t5.rs", "src/:", "docs/:", "tests/:"] {
            assert!(out.contains(name), "{name} in\n{out}");
        }
        assert!(!out.contains("/w/proj/src"), "paths are written once:\n{out}");
    }

    #[test]
    fn prose_and_logs_are_not_listings() {
        assert!(!detect("Note: see the file below.\nIt was fine.\nDone:\n"));
        assert!(!detect(include_str!("../../../tests/fixtures/logs/HDFS_2k.log")));
        assert!(!detect(include_str!("../engine/mod.rs")));
    }
}
