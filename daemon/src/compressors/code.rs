//! The code compressor (tree-sitter): a source file keeps its skeleton — imports, module
//! docstring, type declarations with their fields and constants, every signature with its
//! decorators and doc comments — and the bodies of the functions the question is about; other
//! long bodies are elided with a marker, in the language's own comment syntax, naming the
//! function and the original lines it covered.
//!
//! Function bodies, struct fields and comments are blanked before parsing ([`skeleton`]), so the
//! parser reads mostly declarations; offsets and lines stay the original's. When that skeleton
//! does not parse cleanly the whole file is parsed, and a file that does not parse cleanly then
//! goes through untouched: elision on a bad parse could cut the wrong span. (Errors inside bodies
//! the skeleton left out no longer stop compression: those bodies are elided or kept verbatim.)

mod calls;

use super::doc_blocks;
use super::repeated_runs::{self, Repeat};
use crate::request::query::{fold, identifier_parts, with_identifier_parts, words, Query};
use super::lang::Lang;
use super::skeleton;
use super::{Compressor, Context};
use crate::request::marker;
use std::collections::BTreeSet;
use std::ops::Range;
use tree_sitter::{Node, Parser, Tree};

/// Compresses source files.
pub struct Code;

/// Bodies of at most this many lines are kept: eliding them saves little and costs a marker.
const SHORT_BODY_LINES: usize = 4;
/// Bodies kept whole for matching the question's words best, at most.
const MATCHING_BODIES: usize = 3;
/// A body scoring at least this share of the best score is kept with it.
const CLOSE_TO_BEST: f64 = 0.8;
/// A body matching the question this many times better than any body a name of the question's
/// words picked is kept as well.
const FAR_BETTER_THAN_NAMED: f64 = 1.5;
/// A body spanning more lines than this has the functions nested in it decided one by one.
const LONG_BODY_LINES: usize = 60;
/// Parse errors tolerated per this many lines (grammars lag behind language releases).
const LINES_PER_ERROR: usize = 400;

/// Whether `text` is source code the compressor can read (for blocks without a file path).
pub fn detect(text: &str) -> bool {
    Lang::from_content(text).is_some()
}

/// A function found in the tree.
struct Function<'t> {
    name: String,
    node: Node<'t>,
    body: Node<'t>,
    /// Where the body ends in the original (past the tree's end for a blanked Python body).
    end: usize,
    /// The body's first and last lines, 0-based.
    rows: (usize, usize),
}

impl Function<'_> {
    /// Whether its body is short enough that eliding it would save little (see
    /// [`SHORT_BODY_LINES`]).
    fn is_short(&self) -> bool {
        self.rows.1 - self.rows.0 < SHORT_BODY_LINES
    }

    /// Whether its body is long enough to be read as the functions nested in it (see
    /// [`LONG_BODY_LINES`]).
    fn is_long(&self) -> bool {
        self.rows.1 - self.rows.0 > LONG_BODY_LINES
    }
}

/// Where a node's next sibling (or, failing that, its parent's) begins: a body never runs past it.
fn next_start(node: Node, len: usize) -> usize {
    let mut at = Some(node);
    while let Some(n) = at {
        if let Some(next) = n.next_sibling() {
            return next.start_byte();
        }
        at = n.parent();
    }
    len
}

/// Sets where each function's body really ends (a blanked Python body's block ends early in
/// the tree; the scanner knows its end) and the rows it spans.
fn locate(functions: &mut [Function], python_ends: &[usize], lines: &LineStarts, len: usize) {
    for f in functions {
        let start = f.body.start_byte();
        if let Some(&end) = python_ends.get(python_ends.partition_point(|&e| e <= start)) {
            if end <= next_start(f.node, len) {
                f.end = f.end.max(end);
            }
        }
        f.rows = (lines.row(start), lines.row(f.end.saturating_sub(1).max(start)));
    }
}

/// Parses `text`, its skeleton first when `skim`: the tree, where blanked Python bodies really
/// end, and whether the skeleton was used. The skeleton parses in a fraction of the time; when
/// the scanner got something wrong it does not parse cleanly, and the whole file is parsed.
fn parse(parser: &mut Parser, lang: Lang, text: &str, skim: bool) -> Option<(Tree, Vec<usize>, bool)> {
    let skimmed = if skim { skeleton::skeleton(lang, text) } else { None };
    let parsed = skimmed.and_then(|s| parser.parse(&s.text, None).map(|tree| (tree, s.python_ends)));
    match parsed.filter(|(tree, _)| !tree.root_node().has_error()) {
        Some((tree, python_ends)) => Some((tree, python_ends, true)),
        None => Some((parser.parse(text, None)?, Vec::new(), false)),
    }
}

/// `text` with the head of every top-level Rust macro invocation that opens a brace block on
/// its own line and holds functions (`cfg_rt! {` … `fn` … `}`) rewritten as a module head of the
/// same length (`mod mmmm{`), or `None` when there is none. To the grammar a macro's body is a
/// token tree, so the functions inside `cfg_*! { … }` blocks would never be seen as functions; as
/// a module's body they are items, at the same offsets as in `text`. Macros without functions
/// (`thread_local! { static … }`) are left alone: their bodies need not be items.
fn macros_as_modules(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    for (i, line) in lines.iter().enumerate() {
        let head = macro_head_len(line).filter(|_| {
            let body = lines[i + 1..].iter().take_while(|l| l.trim_end() != "}");
            body.map(|l| l.trim_start()).any(|l| l.starts_with("fn ") || l.starts_with("pub fn ") || l.starts_with("pub(") && l.contains(") fn "))
        });
        match head {
            Some(len) => {
                out.push_str("mod ");
                out.push_str(&"m".repeat(len - 5));
                out.push('{');
                out.push_str(&line[len..]);
                changed = true;
            }
            None => out.push_str(line),
        }
    }
    changed.then_some(out)
}

/// The length of `name! {` when `line` is nothing else (at column 0, a name of 3 or more
/// characters, so that `mod ` and a name fit in the same bytes).
fn macro_head_len(line: &str) -> Option<usize> {
    let name_len = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let rest = line[name_len..].strip_prefix('!')?.trim_start();
    let len = line.len() - rest.len() + 1;
    (rest.starts_with('{') && rest[1..].trim().is_empty() && name_len >= 3 && line.starts_with(|c: char| c.is_ascii_alphabetic())).then_some(len)
}

/// Line numbers of byte offsets.
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn new(text: &str) -> Self {
        LineStarts(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }

    /// The 0-based line holding byte `at`.
    fn row(&self, at: usize) -> usize {
        self.0.partition_point(|&start| start <= at) - 1
    }
}

impl Compressor for Code {
    fn name(&self) -> &'static str {
        "code"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        compress_with(text, ctx, true)
    }
}

/// The compressor's work, parsing the skeleton first when `skim` (tests compare both ways).
fn compress_with(text: &str, ctx: &Context, skim: bool) -> Option<String> {
    let Plan { lang, mut edits, joined, repeats, bodies, comments, imports } = plan(text, ctx, skim, false)?;
    let repeated = repeats.len();
    edits.extend(joined);
    edits.extend(repeats);
    edits.sort_by_key(|(range, _)| range.start);
    let mut out = String::with_capacity(text.len() / 2);
    let mut at = 0;
    for (range, replacement) in edits {
        out.push_str(&text[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&text[at..]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("{} {}\n", lang.line_comment(), marker::marker(ctx.key, &elisions(bodies, comments, imports, repeated))));
    Some(out)
}

/// The 0-based lines of source `text` (in a language its path or content names) whose content
/// the compressor would leave out — the inner lines of elided bodies, the cut lines of doc
/// comments — so a numbered view can drop them and keep every other line as it was.
pub fn omitted_lines(text: &str, ctx: &Context) -> Option<Vec<bool>> {
    let plan = plan(text, ctx, true, true)?;
    let lines = LineStarts::new(text);
    let mut omitted = vec![false; lines.0.len()];
    for (range, _) in &plan.edits {
        for (row, flag) in omitted.iter_mut().enumerate().skip(lines.row(range.start)) {
            let start = lines.0[row];
            let end = lines.0.get(row + 1).map_or(text.len(), |next| next - 1);
            if start >= range.end {
                break;
            }
            let line = &text[start..end];
            let content = start + (line.len() - line.trim_start().len())..start + line.trim_end().len();
            *flag |= !content.is_empty() && range.start <= content.start && content.end <= range.end;
        }
    }
    Some(omitted)
}

/// What the compressor changes in a file: its edits (byte ranges and what replaces them, in
/// order) and how many bodies and comments they cut.
struct Plan {
    lang: Lang,
    edits: Vec<Edit>,
    /// Doc comments of one or two lines of text written on one line: nothing is left out.
    joined: Vec<Edit>,
    /// Runs of lines the file already showed, each as a note naming the lines it equals.
    repeats: Vec<Edit>,
    bodies: usize,
    comments: usize,
    imports: usize,
}

/// The edits of [`compress_with`], parsing the skeleton first when `skim`; for a numbered
/// `view`, whose question is the agent's whole task, a name alone keeps no body (see
/// [`bodies_to_keep`]): a task's many words name too many functions.
fn plan(text: &str, ctx: &Context, skim: bool, view: bool) -> Option<Plan> {
    let lang = ctx.file_path.and_then(Lang::from_path).or_else(|| Lang::from_content(text))?;
    let mut parser = Parser::new();
    parser.set_language(&lang.grammar()).ok()?;
    // Rust items inside top-level macro invocations parse as items once the head reads as a
    // module; where that parses worse than the file as it is, the file as it is wins.
    let as_modules = (lang == Lang::Rust).then(|| macros_as_modules(text)).flatten();
    let shaped = as_modules.as_deref().and_then(|shaped| parse(&mut parser, lang, shaped, skim));
    let (tree, python_ends, skimmed) = match shaped {
        Some(parsed) if !parsed.0.root_node().has_error() => parsed,
        Some(parsed) => {
            let plain = parse(&mut parser, lang, text, skim)?;
            if errors(parsed.0.root_node()) <= errors(plain.0.root_node()) { parsed } else { plain }
        }
        None => parse(&mut parser, lang, text, skim)?,
    };
    let root = tree.root_node();
    if root.has_error() && errors(root) * LINES_PER_ERROR > text.lines().count().max(LINES_PER_ERROR) {
        return None;
    }
    let lines = LineStarts::new(text);
    let mut functions = Vec::new();
    outermost_functions(root, lang, text, &mut functions);
    locate(&mut functions, &python_ends, &lines, text.len());
    let documents: Vec<String> = functions.iter().map(|f| as_document(text, f, &[])).collect();
    // The question's terms, read once; each use keeps those that tell its units apart.
    let asked = Query::of_code(ctx.query);
    let query = asked.discriminative(documents.iter().map(String::as_str), 0.25);
    let names = names_query(ctx.query, &functions.iter().collect::<Vec<_>>(), view);
    let queries = Queries { bodies: &query, names: &names };
    let mut keep = bodies_to_keep(&functions.iter().collect::<Vec<_>>(), &documents, &queries, ctx.older);
    // A long body kept whole (a factory, a module wrapped in one function) has its own
    // functions decided the same way. When no body is kept for the question, it may be about
    // a function nested in a long one (a callback a method wires up): those are read too.
    let asked_nowhere = !view && !ctx.older && !functions.iter().zip(&keep).any(|(f, kept)| *kept && !f.is_short());
    // Only a long body holding a word of the question can hold a function about it.
    let mut read_inside: Vec<bool> =
        functions.iter().zip(&keep).zip(&documents).map(|((f, kept), document)| f.is_long() && (*kept || asked_nowhere && asked.hits(document) > 0)).collect();
    // The skeleton blanked the nested functions, so the file is parsed whole.
    if skimmed && read_inside.contains(&true) {
        return plan(text, ctx, false, view);
    }
    // The function each nested one was read in.
    let mut parent: Vec<Option<usize>> = vec![None; functions.len()];
    let mut next = 0;
    while next < functions.len() {
        if read_inside[next] {
            let mut inner = Vec::new();
            outermost_functions(functions[next].body, lang, text, &mut inner);
            locate(&mut inner, &python_ends, &lines, text.len());
            let decided = if keep[next] {
                bodies_to_keep(&inner.iter().collect::<Vec<_>>(), &inner.iter().map(|f| as_document(text, f, &[])).collect::<Vec<_>>(), &queries, ctx.older)
            } else {
                vec![false; inner.len()]
            };
            read_inside.extend(inner.iter().zip(&decided).map(|(f, kept)| f.is_long() && (*kept || asked_nowhere)));
            keep.extend(decided);
            parent.resize(parent.len() + inner.len(), Some(next));
            functions.extend(inner);
        }
        next += 1;
    }
    nested_on_the_question(text, ctx.query, &functions, &parent, &mut keep);
    let source: Vec<&str> = text.split('\n').collect();
    // A short test is kept for being short, not for the question: with none of its words, it
    // goes like any other body (runs of them then share one note naming them).
    if !view {
        for (f, kept) in functions.iter().zip(keep.iter_mut()) {
            if *kept && f.is_short() && is_test(lang, &source, lines.row(f.node.start_byte()), f) {
                *kept = query.hits(&as_document(text, f, &[])) > 0;
            }
        }
    }
    if !view && !ctx.older {
        calls::keep_callees(lang, text, &functions, &parent, &query, &asked, &mut keep);
    }
    // The elided bodies among those most on the question keep their part on it.
    let weights = if view || ctx.older || query.is_empty() { Vec::new() } else { line_weights(text, &query) };
    let parts_kept = parts_on_the_question(&functions, &keep, &parent, &weights);
    // Python's docstrings have their own cuts ([`long_docstrings`]); its `#` blocks are comments.
    let mut docs = doc_blocks::find(&source);
    if lang == Lang::Python {
        docs.retain(|b| source[b.lines.start].trim_start().starts_with('#'));
    }
    // Words in a quarter of the long comments tell none of them apart.
    let long_docs = docs.iter().filter(|b| b.lines.len() > LONG_DOC_COMMENT_LINES);
    let doc_query = asked.discriminative(long_docs.map(|b| with_identifier_parts(&source[b.lines.clone()].join("\n"))), 0.25);
    let mut edits: Vec<Edit> = Vec::new();
    let mut bodies = 0;
    // Functions off the question with nothing above them but their doc comment, each with its
    // own edits: runs of them may share a note instead.
    let mut bare: Vec<Bare> = Vec::new();
    let groupable = !view && lang != Lang::Python;
    // The words that tell both bodies and long comments apart: a comment above a function
    // holding none of them is off the question.
    let comment_query = query.only(|term| doc_query.terms().any(|t| t == *term));
    for (i, ((f, &kept), outer)) in functions.iter().zip(&keep).zip(&parent).enumerate() {
        // Its lines begin at the comment lines right above it (a one-line `// Name returns…`
        // too), which must be off the question, as its name must.
        let first_row = above_attributes(&source, lines.row(f.node.start_byte()));
        let top = (0..past_doc(&source, first_row)).rev().take_while(|&row| is_comment(source[row])).last().unwrap_or(first_row);
        let may_join = groupable
            && !names_a_term(&name_words(&f.name), &names)
            && comment_query.hits(&with_identifier_parts(&source[top..first_row].join("\n"))) == 0;
        if kept {
            // A body kept for being short, off the question, may go in a run; alone, it stays.
            // A function outside all others was read whole at the start.
            if may_join && outer.is_none() && f.is_short() && query.hits(&documents[i]) == 0 {
                bare.push(Bare { function: f, top, edits: Vec::new() });
            }
            continue;
        }
        // A function nested in an elided body goes with it.
        if outer.is_some_and(|p| !keep[p]) {
            continue;
        }
        // The doc comment right above an elided body keeps its summary line, or all of it when
        // on the question; the body's marker names the rest.
        let doc = attached_doc(&docs, &source, lines.row(f.node.start_byte()));
        let cut = doc.filter(|b| doc_query.hits(&with_identifier_parts(&source[b.lines.clone()].join("\n"))) == 0).and_then(|b| {
            let first = first_sentence(b, &source);
            cut_block(b, &source, &lines, text.len(), |row| first.contains(&row), None)
        });
        let doc_cut = cut.as_ref().map(|cut| (cut.range.clone(), cut.text.clone()));
        let part_kept = parts_kept.contains(&i);
        let statements = part_kept.then(|| body_statements(&mut parser, lang, text, &lines, f, skimmed)).flatten();
        let body = statements.as_ref().map(|(tree, at)| tree.as_ref().map_or(f.body, |t| node_at(t, lang, *at)));
        if let Some(part) = body.and_then(|body| part_on_the_question(lang, text, &lines, body, &weights, &query)) {
            bodies += usize::from(!part.is_empty());
            edits.extend(doc_cut);
            edits.extend(part);
            continue;
        }
        // A part inside one statement too long to keep is quoted in the note instead.
        let excerpt = if part_kept { excerpt_on_the_question(lang, &source, f, body, &weights) } else { String::new() };
        let shown = if excerpt.is_empty() { lines_on_the_question(&text[f.body.start_byte()..f.end], lines.row(f.body.start_byte()), &query) } else { excerpt };
        let mut rows = cut.as_ref().map_or(Vec::new(), |cut| cut.rows.clone());
        rows.extend(f.rows.0..=f.rows.1);
        let note = elided(&format!("{}{shown}", line_ranges(&rows)));
        let edit = (f.body.start_byte()..f.end, replacement(lang, text, f.body, &note));
        if may_join && shown.is_empty() {
            bare.push(Bare { function: f, top, edits: doc_cut.into_iter().chain([edit]).collect() });
            continue;
        }
        // A short test goes only inside a run sharing one note: alone, its note costs as much.
        if f.is_short() {
            continue;
        }
        bodies += 1;
        edits.extend(doc_cut);
        edits.push(edit);
    }
    let (grouped, elided_in_runs) = grouped_bodies(text, &source, &lines, bare);
    bodies += elided_in_runs;
    edits.extend(grouped);
    if lang == Lang::Rust && !view {
        let (impls, in_impls) = boilerplate_impls(root, text, &lines, &functions, &keep, &query, &edits);
        bodies += in_impls;
        edits.extend(impls);
    }
    let long_kept = functions.iter().zip(&keep).filter(|(f, kept)| **kept && f.is_long()).map(|(f, _)| f.body);
    let branches = if view { Vec::new() } else { branches_off_the_question(lang, text, &lines, long_kept, &edits, ctx.query) };
    bodies += branches.len();
    edits.extend(branches);
    // Python's docstrings, or other languages' member docs; then every language's long comments.
    let mut comments = if lang == Lang::Python {
        let mut cuts = long_docstrings(root, text);
        // A kept function's long docstring too, outside numbered views.
        for (f, _) in functions.iter().zip(&keep).filter(|(f, kept)| **kept && !view && f.rows.1 - f.rows.0 > LONG_DOCSTRING_LINES) {
            if let Some((tree, at)) = body_statements(&mut parser, lang, text, &lines, f, skimmed) {
                let body = tree.as_ref().map_or(f.body, |t| node_at(t, lang, at));
                cuts.extend(docstring_cut(body, text).filter(|(range, _)| !overlaps(&edits, range.start, range.end)));
            }
        }
        let count = cuts.len();
        edits.extend(cuts);
        count
    } else {
        let (members, items) = member_docs(root, &source, &docs, &lines, &functions, &edits, &doc_query);
        edits.extend(members);
        items
    };
    let cuts = long_doc_comments(&source, &docs, &lines, text.len(), &edits, &doc_query);
    comments += cuts.len();
    edits.extend(cuts);
    // A numbered view's question is the agent's whole task, and an agent editing the file
    // writes with the names its imports bring in.
    let cut_imports = if view { Vec::new() } else { imports_off_the_question(root, lang, text, &lines, ctx.query) };
    let imports = cut_imports.len();
    edits.extend(cut_imports);
    let repeats = repeated_runs(lang, &source, &lines, &edits);
    if edits.is_empty() && repeats.is_empty() {
        return None;
    }
    let joined = one_line_doc_comments(&source, &docs, &lines, &[&edits, &repeats]);
    edits.sort_by_key(|(range, _)| range.start);
    Some(Plan { lang, edits, joined, repeats, bodies, comments, imports })
}

/// Each function as BM25 reads it: its words without those of the functions `nested` in it (in
/// order), identifiers split into theirs as well (`getXHRResponse` holds `get`, `xhr` and
/// `response`).
fn as_document(text: &str, f: &Function, nested: &[&Function]) -> String {
    let mut own = String::new();
    let mut at = f.node.start_byte();
    for inner in nested {
        own.push_str(&text[at..inner.node.start_byte()]);
        own.push('\n');
        at = inner.end;
    }
    own.push_str(&text[at..f.end]);
    words(&own).flat_map(identifier_parts).collect::<Vec<_>>().join(" ")
}

/// The question's words that tell `functions`' names apart: a word in most bodies (`retry` in
/// an HTTP client) still names the few functions about it. None for a numbered `view`.
fn names_query(question: &str, functions: &[&Function], view: bool) -> Query {
    if view {
        return Query::default();
    }
    Query::of_code(question).discriminative(functions.iter().map(|f| name_words(&f.name).join(" ")), 0.25)
}

/// Decides the functions nested in bodies no question kept (`parent` holds the body each was
/// read in): they compete as units of their own, each read without the functions nested in
/// it, and one kept for the question keeps the bodies around it, whose other nested functions
/// go as any body does.
fn nested_on_the_question(text: &str, question: &str, functions: &[Function], parent: &[Option<usize>], keep: &mut [bool]) {
    let unkept: Vec<usize> = (0..functions.len()).filter(|&i| parent[i].is_some_and(|p| !keep[p])).collect();
    if unkept.is_empty() {
        return;
    }
    let mut nested: Vec<Vec<&Function>> = vec![Vec::new(); functions.len()];
    for (f, p) in functions.iter().zip(parent) {
        if let Some(p) = p {
            nested[*p].push(f);
        }
    }
    let units: Vec<&Function> = unkept.iter().map(|&i| &functions[i]).collect();
    let documents: Vec<String> = unkept.iter().map(|&i| as_document(text, &functions[i], &nested[i])).collect();
    let query = Query::of_code(question).discriminative(documents.iter().map(String::as_str), 0.25);
    let names = names_query(question, &units, false);
    let decided = bodies_to_keep(&units, &documents, &Queries { bodies: &query, names: &names }, false);
    for (&i, kept) in unkept.iter().zip(decided) {
        keep[i] = kept;
    }
    for i in (0..functions.len()).rev() {
        if let Some(p) = parent[i].filter(|_| keep[i] && !functions[i].is_short()) {
            keep[p] = true;
        }
    }
}

/// Whether a function is a test: under a Rust attribute naming a test (`#[test]`,
/// `#[tokio::test]`, `#[rstest]`), or a Go `TestX`, `BenchmarkX` or `FuzzX` taking `*testing.T`
/// and its kin.
fn is_test(lang: Lang, source: &[&str], first_row: usize, f: &Function) -> bool {
    match lang {
        Lang::Rust => (above_attributes(source, first_row)..first_row).any(|row| source[row].trim_start().starts_with("#[") && source[row].contains("test")),
        Lang::Go => ["Test", "Benchmark", "Fuzz"].iter().any(|p| f.name.starts_with(p)) && source[first_row].contains("*testing."),
        _ => false,
    }
}

/// Elided functions in a row, with nothing between them but blank lines and attributes, that
/// share one note naming them (`// [… lines 40–96: functions a, b, c, d …]`): a test module's
/// signatures cost more than its names.
const GROUPED_FUNCTIONS: usize = 4;

/// A function off the question that a run of its neighbours may take into one note: elided
/// with no line on the question, or kept for being short with none of the question's words.
struct Bare<'f, 't> {
    function: &'f Function<'t>,
    /// The 0-based line it begins on: its doc comment's first, or its attributes'.
    top: usize,
    /// Its edits when it goes alone: its doc comment cut to the summary, its body elided (none
    /// for a short body, which then stays).
    edits: Vec<Edit>,
}

/// The edits eliding the bodies of the `functions` given: each run of [`GROUPED_FUNCTIONS`] or
/// more standing one after the other on lines of their own becomes one note naming them (doc
/// comments and all), the others keep their own edits (a short body, a test let go for the
/// run, stays whole). With how many bodies went.
fn grouped_bodies(text: &str, source: &[&str], lines: &LineStarts, mut functions: Vec<Bare>) -> (Vec<Edit>, usize) {
    functions.sort_by_key(|bare| bare.function.node.start_byte());
    // A function stands on lines of its own when only `export` or what it is assigned to
    // (`SendStream.prototype.isFresh =`) may come before it on its first line, no assignment
    // (`req.get =`) on the line above, and nothing but `;` follows its body on its last.
    let own_lines = |f: &Function| {
        let row = lines.row(f.node.start_byte());
        let head = text[lines.0[row]..f.node.start_byte()].trim();
        let tail = &text[f.end..lines.0.get(lines.row(f.end.saturating_sub(1)) + 1).map_or(text.len(), |next| next - 1)];
        let assigned_to = head.strip_suffix('=').is_some_and(|target| {
            let target = target.trim_end();
            !target.is_empty() && target.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '.'))
        });
        let assigned_above = row > 0 && source[row - 1].trim_end().ends_with('=');
        (matches!(head, "" | "export" | "export default") || assigned_to) && !assigned_above && matches!(tail.trim(), "" | ";")
    };
    let mut runs: Vec<Vec<Bare>> = Vec::new();
    for bare in functions {
        let follows = runs.last().and_then(|run| run.last()).is_some_and(|last| {
            let (previous, f) = (last.function, bare.function);
            own_lines(previous) && own_lines(f) && previous.end <= lines.0[bare.top] && text[previous.end..lines.0[bare.top]].trim().is_empty()
        });
        match runs.last_mut() {
            Some(run) if follows => run.push(bare),
            _ => runs.push(vec![bare]),
        }
    }
    let mut edits = Vec::new();
    let mut went = 0;
    for run in runs {
        if run.len() < GROUPED_FUNCTIONS {
            // A short body (a test with none of the question's words) stays outside a run.
            for bare in run.into_iter().filter(|bare| !bare.function.is_short()) {
                went += 1;
                edits.extend(bare.edits);
            }
            continue;
        }
        went += run.len();
        let (row, last) = (run[0].top, run[run.len() - 1].function);
        let start = lines.0[row] + source[row].len() - source[row].trim_start().len();
        let names: Vec<&str> = run.iter().map(|bare| bare.function.name.as_str()).collect();
        let note = elided(&format!("lines {}–{}: functions {}", row + 1, last.rows.1 + 1, names.join(", ")));
        edits.push((start..last.end, format!("// {note}")));
    }
    (edits, went)
}

/// Rust `impl` blocks in a row, with nothing but blank lines between them, that share one
/// note naming them (`// [… lines 40–96: impl Clone for Buf; impl From<&str> for Buf; …]`)
/// when there are this many: trait boilerplate whose heads say what the type can do.
const GROUPED_IMPLS: usize = 4;

/// The edits writing each run of [`GROUPED_IMPLS`] or more Rust `impl` blocks whose functions
/// are all short bodies kept for being short, with none of the question's words, no message
/// (see [`holds_message`]) and outside what `done` edits, as one note naming their heads. With
/// how many functions went.
fn boilerplate_impls(root: Node, text: &str, lines: &LineStarts, functions: &[Function], keep: &[bool], query: &Query, done: &[Edit]) -> (Vec<Edit>, usize) {
    let mut impls = Vec::new();
    module_impls(root, &mut impls);
    let inside = |range: Range<usize>| functions.iter().zip(keep).filter(move |(f, _)| range.start <= f.node.start_byte() && f.end <= range.end);
    let plain = |node: &Node| {
        inside(node.byte_range()).all(|(f, kept)| *kept && f.is_short())
            && query.hits(&with_identifier_parts(&text[node.byte_range()])) == 0
            && !holds_message(&text[node.byte_range()])
            && !overlaps(done, node.start_byte(), node.end_byte())
    };
    let mut runs: Vec<Vec<Node>> = Vec::new();
    for node in impls {
        if !plain(&node) {
            runs.push(Vec::new());
            continue;
        }
        let follows = runs.last().and_then(|run| run.last()).is_some_and(|last| text[last.end_byte()..node.start_byte()].trim().is_empty());
        match runs.last_mut() {
            Some(run) if follows => run.push(node),
            _ => runs.push(vec![node]),
        }
    }
    let mut edits = Vec::new();
    let mut went = 0;
    for run in runs.into_iter().filter(|run| run.len() >= GROUPED_IMPLS) {
        let heads: Vec<String> = run
            .iter()
            .map(|node| {
                let head = node.child_by_field_name("body").map_or(node.end_byte(), |body| body.start_byte());
                text[node.start_byte()..head].split_whitespace().collect::<Vec<_>>().join(" ")
            })
            .collect();
        went += run.iter().map(|node| inside(node.byte_range()).count()).sum::<usize>();
        let (first, last) = (run[0], run[run.len() - 1]);
        let note = elided(&format!("lines {}–{}: {}", lines.row(first.start_byte()) + 1, lines.row(last.end_byte() - 1) + 1, heads.join("; ")));
        edits.push((first.start_byte()..last.end_byte(), format!("// {note}")));
    }
    (edits, went)
}

/// Whether Rust code holds a message: a string literal of words (`"frame size too big"` in a
/// `Display` impl), what a user sees and searches for.
fn holds_message(code: &str) -> bool {
    code.split('"').skip(1).step_by(2).any(|literal| literal.contains(' ') && literal.contains(char::is_alphabetic))
}

/// The `impl` blocks of a Rust file's modules, in order (not those inside functions).
fn module_impls<'t>(node: Node<'t>, out: &mut Vec<Node<'t>>) {
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        match child.kind() {
            "impl_item" => out.push(child),
            "mod_item" | "declaration_list" => module_impls(child, out),
            _ => {}
        }
    }
}

/// Whether a source line is a comment (or the end of one).
fn is_comment(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("//") || t.starts_with("/*") || t.starts_with('*') || t.ends_with("*/")
}

/// Edits writing each run of lines the file already showed, outside what `done` edits, as a
/// note naming the earlier lines (`// [… lines 120–131 as lines 40–51 …]`).
fn repeated_runs(lang: Lang, source: &[&str], lines: &LineStarts, done: &[Edit]) -> Vec<Edit> {
    let span = |row: usize| lines.0[row]..lines.0[row] + source[row].len();
    let free = |row: usize| {
        let Range { start, end } = span(row);
        !overlaps(done, start, end.max(start + 1))
    };
    let comment = lang.line_comment();
    repeated_runs::repeats(source, free)
        .into_iter()
        .map(|Repeat { rows, first }| {
            let opening = source[rows.start];
            let start = span(rows.start).start + opening.len() - opening.trim_start().len();
            let (from, to) = (rows.start + 1, rows.end);
            let note = elided(&format!("lines {from}–{to} as lines {}–{}", first + 1, first + rows.len()));
            (start..span(rows.end - 1).end, format!("{comment} {note}"))
        })
        .collect()
}

/// Runs of imports spanning at least this many lines have those off the question cut: a
/// module's plumbing (an SDK client importing 200 lines of type names) rarely answers one.
const IMPORT_RUN_LINES: usize = 12;
/// Imports off the question spanning fewer lines than this stay: a note costs as much.
const CUT_IMPORT_LINES: usize = 3;

/// Edits cutting, in each run of imports of [`IMPORT_RUN_LINES`] or more, the consecutive ones
/// holding no word of the question (as a whole name) that tells the run's imports apart to one note
/// (`// [… lines 3–247: 31 imports …]`).
fn imports_off_the_question(root: Node, lang: Lang, text: &str, lines: &LineStarts, question: &str) -> Vec<Edit> {
    let mut runs = Vec::new();
    import_runs(root, text, &mut runs);
    let mut edits = Vec::new();
    for run in runs {
        let (first, last) = (lines.row(run[0].start_byte()), lines.row(run[run.len() - 1].end_byte()));
        if last - first + 1 < IMPORT_RUN_LINES {
            continue;
        }
        // Whole names only: `BatchRequestCounts` is not about a question's "request".
        let documents: Vec<&str> = run.iter().map(|n| &text[n.byte_range()]).collect();
        let query = Query::of_code(question).discriminative(documents.iter(), 0.25);
        let marked: Vec<(Node, bool)> = run.iter().zip(&documents).map(|(node, document)| (*node, query.hits(document) > 0)).collect();
        for group in marked.chunk_by(|a, b| a.1 == b.1).filter(|group| !group[0].1) {
            let (start, end) = (group[0].0.start_byte(), group[group.len() - 1].0.end_byte());
            let (from, to) = (lines.row(start) + 1, lines.row(end) + 1);
            if to + 1 - from < CUT_IMPORT_LINES {
                continue;
            }
            let note = elided(&format!("lines {from}–{to}: {} imports", group.len()));
            edits.push((start..end, format!("{} {note}", lang.line_comment())));
        }
    }
    edits
}

/// The runs of consecutive imports (comments between them go with them) in `node` and the
/// module-like items inside it: a namespace, an exported or ambient declaration, a Rust `mod`.
fn import_runs<'t>(node: Node<'t>, text: &str, runs: &mut Vec<Vec<Node<'t>>>) {
    let mut run: Vec<Node<'t>> = Vec::new();
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        if is_import(child, text) {
            run.push(child);
            continue;
        }
        if child.kind() == "comment" && !run.is_empty() {
            continue;
        }
        if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
        if matches!(child.kind(), "export_statement" | "ambient_declaration" | "internal_module" | "module" | "statement_block" | "mod_item" | "declaration_list") {
            import_runs(child, text, runs);
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
}

/// Whether a statement only brings names in or passes them on: an import, a Rust `use`, a C
/// `#include`, a CommonJS `const { a } = require('…')`, a list of re-exports.
fn is_import(node: Node, text: &str) -> bool {
    match node.kind() {
        "import_statement" | "import_from_statement" | "future_import_statement" | "import_declaration" | "use_declaration" | "extern_crate_declaration" | "preproc_include" => true,
        "export_statement" => node.child_by_field_name("declaration").is_none() && node.child_by_field_name("value").is_none(),
        "lexical_declaration" | "variable_declaration" => {
            let mut cursor = node.walk();
            let declarators: Vec<Node> = node.named_children(&mut cursor).filter(|d| d.kind() == "variable_declarator").collect();
            declarators.len() == 1
                && declarators[0]
                    .child_by_field_name("value")
                    .filter(|v| v.kind() == "call_expression")
                    .and_then(|call| call.child_by_field_name("function"))
                    .is_some_and(|f| &text[f.byte_range()] == "require")
        }
        _ => false,
    }
}

/// An edit: the bytes it replaces and what replaces them.
type Edit = (Range<usize>, String);

/// Whether any of `done` touches the bytes `start..end`.
fn overlaps(done: &[Edit], start: usize, end: usize) -> bool {
    done.iter().any(|(edit, _)| edit.start < end && start < edit.end)
}

/// Edits writing each `/** … */` that holds one or two lines of text, outside what the lists
/// of edits in `done` change, on one line (`/** Name of the tool. */`): the same words in a
/// third of the lines.
fn one_line_doc_comments(source: &[&str], docs: &[doc_blocks::DocBlock], lines: &LineStarts, done: &[&[Edit]]) -> Vec<Edit> {
    let mut edits = Vec::new();
    for block in docs.iter().filter(|b| (3..=4).contains(&b.lines.len())) {
        let (open, close) = (source[block.lines.start], source[block.lines.end - 1]);
        if open.trim() != "/**" || close.trim() != "*/" {
            continue;
        }
        let text: Option<Vec<&str>> = source[block.lines.start + 1..block.lines.end - 1]
            .iter()
            .map(|line| line.trim().strip_prefix("* ").map(str::trim).filter(|w| !w.is_empty() && !w.contains("*/") && !w.starts_with("```")))
            .collect();
        let Some(text) = text else { continue };
        let start = lines.0[block.lines.start];
        let end = lines.0[block.lines.end - 1] + close.len();
        if done.iter().any(|edits| overlaps(edits, start, end)) {
            continue;
        }
        let indent = &open[..open.len() - open.trim_start().len()];
        edits.push((start..end, format!("{indent}/** {} */", text.join(" "))));
    }
    edits
}

/// What stands where a body or a comment's lines went: `[… lines 40–52 …]`. The one
/// marker at the file's end carries the key; a note costs a few tokens where a marker per body
/// cost thirty.
fn elided(what: &str) -> String {
    format!("[… {what} …]")
}

/// The file marker's description of what its notes stand for.
fn elisions(bodies: usize, comments: usize, imports: usize, repeats: usize) -> String {
    let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if bodies > 0 {
        parts.push(count(bodies, "function body", "function bodies"));
    }
    if comments > 0 {
        parts.push(count(comments, "comment", "comments"));
    }
    if imports > 0 {
        parts.push(count(imports, "run of imports", "runs of imports"));
    }
    if repeats > 0 {
        parts.push(count(repeats, "repeated run of lines", "repeated runs of lines"));
    }
    format!("{} cut to `[… lines a–b …]` notes (retrieve with `lines a–b` to read one)", parts.join(" and "))
}

/// Docstrings longer than this many lines keep only their first paragraph: a module's, a
/// class's, and a kept function's.
const LONG_DOCSTRING_LINES: usize = 12;

/// Edits cutting long module and class docstrings to their first paragraph (see
/// [`docstring_cut`]).
fn long_docstrings(root: Node, text: &str) -> Vec<Edit> {
    let mut owners = vec![root];
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if child.kind() == "class_definition" {
                owners.extend(child.child_by_field_name("body"));
            }
            if !child.kind().contains("function") {
                stack.push(child);
            }
        }
    }
    owners.into_iter().filter_map(|owner| docstring_cut(owner, text)).collect()
}

/// The edit cutting the docstring opening `owner` (a module, or a class's or function's body)
/// to its first paragraph when it is long, the marker inside the string so the file still
/// parses.
fn docstring_cut(owner: Node, text: &str) -> Option<Edit> {
    let string = owner.named_child(0).filter(|s| s.kind() == "expression_statement").and_then(|s| s.named_child(0)).filter(|s| s.kind() == "string")?;
    let (first, last) = (string.start_position().row, string.end_position().row);
    if last - first < LONG_DOCSTRING_LINES {
        return None;
    }
    let literal = &text[string.byte_range()];
    let close = ["\"\"\"", "'''"].into_iter().find(|close| literal.ends_with(close))?;
    let body_start = literal.find(close).map_or(0, |i| i + 3);
    let content = &literal[body_start..];
    let blank_lead = content.len() - content.trim_start_matches('\n').len();
    let lead_end = content[blank_lead..].find("\n\n").map_or(literal.len() - 3, |i| body_start + blank_lead + i);
    let kept_lines = literal[..lead_end].lines().count();
    let note = elided(&format!("lines {}–{}", first + kept_lines + 1, last + 1));
    let indent = " ".repeat(string.start_position().column);
    Some((string.byte_range(), format!("{}\n{indent}{note}\n{indent}{close}", &literal[..lead_end])))
}

/// Doc comments and comment blocks of more than this many lines are long: the question's words
/// common to a quarter of them tell none apart.
const LONG_DOC_COMMENT_LINES: usize = 4;
/// Doc comments and comment blocks (`///`, `//!`, `//`, `/** … */`, `/* … */`) of more than
/// this many lines keep only their first sentence, when at least this many lines of text go:
/// the note standing for them costs about a line.
const CUT_DOC_COMMENT_LINES: usize = 2;

/// A doc block cut to some of its lines.
struct DocCut {
    /// The bytes the block spans.
    range: Range<usize>,
    /// What replaces them: the lines kept, and the block's closing when it has one.
    text: String,
    /// The 0-based rows cut.
    rows: Vec<usize>,
    /// How many of them held text.
    text_lines_cut: usize,
}

/// Whether a comment line holds nothing but comment syntax (a paragraph break).
fn bare_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t == "//" || doc_blocks::bare(t)
}

/// `block` with only the lines `keep` says (and a bare opening line), then the `note` made of
/// the lines cut as a comment line when given, then the closing of a `/* … */` block; `None`
/// when only comment syntax would be cut.
fn cut_block(
    block: &doc_blocks::DocBlock,
    source: &[&str],
    lines: &LineStarts,
    len: usize,
    keep: impl Fn(usize) -> bool,
    note: Option<&dyn Fn(&str) -> String>,
) -> Option<DocCut> {
    let opening = source[block.lines.start];
    let is_block = opening.trim_start().starts_with("/*");
    let last = block.lines.end - 1;
    let kept = |row: usize| keep(row) || (row == block.lines.start && bare_comment(opening));
    let cut_rows: Vec<usize> = block.lines.clone().filter(|&row| !(kept(row) || is_block && row == last && bare_comment(source[row]))).collect();
    if cut_rows.iter().all(|&row| bare_comment(source[row])) || block.lines.clone().filter(|&r| kept(r)).any(|r| is_block && r != last && source[r].contains("*/")) {
        return None;
    }
    let summary = source[block.summary];
    let indent = &summary[..summary.len() - summary.trim_start().len()];
    let mut text: Vec<String> = block.lines.clone().filter(|&row| kept(row) && !(is_block && row == last)).map(|row| source[row].to_string()).collect();
    if let Some(note) = note.map(|note| note(&line_ranges(&cut_rows))) {
        let opener = if is_block { "*" } else { ["///", "//!", "//", "#"].into_iter().find(|o| summary.trim_start().starts_with(o)).unwrap_or("//") };
        text.push(format!("{indent}{opener} {note}"));
    }
    if is_block {
        text.push(if kept(last) || bare_comment(source[last]) { source[last].to_string() } else { format!("{indent} */") });
    }
    let start = lines.0[block.lines.start];
    let end = lines.0.get(block.lines.end).map_or(len, |next| next - 1);
    let text_lines_cut = cut_rows.iter().filter(|&&row| !bare_comment(source[row])).count();
    Some(DocCut { range: start..end, text: text.join("\n"), rows: cut_rows, text_lines_cut })
}

/// 0-based rows, in order, as 1-based line ranges: `line 4`, `lines 8–28, 31–40`.
fn line_ranges(rows: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &row in rows {
        match runs.last_mut() {
            Some((_, to)) if *to + 1 == row => *to = row,
            _ => runs.push((row, row)),
        }
    }
    let single = runs.len() == 1 && runs[0].0 == runs[0].1;
    let shown: Vec<String> = runs.iter().map(|&(from, to)| if from == to { format!("{}", from + 1) } else { format!("{}–{}", from + 1, to + 1) }).collect();
    format!("{} {}", if single { "line" } else { "lines" }, shown.join(", "))
}

/// The rows of `block`'s summary line and of its paragraphs (split at bare comment lines) that
/// have the question's words, with the break before each but the first.
fn paragraphs_on_the_question(block: &doc_blocks::DocBlock, source: &[&str], query: &Query) -> Vec<usize> {
    // A word in a quarter of the comment's paragraphs (the library's name in every example's
    // import) tells none of them apart. The rows are one run, so a paragraph's break is the row
    // before it. An example's import line names the library's symbols, not what its paragraph
    // is about, so it is not read.
    let rows: Vec<usize> = block.lines.clone().collect();
    let read = |rows: &[usize]| with_identifier_parts(&rows.iter().map(|&r| source[r]).filter(|line| !example_import(line)).collect::<Vec<_>>().join(" "));
    let paragraphs: Vec<(&[usize], String)> = rows.split(|&row| bare_comment(source[row])).map(|rows| (rows, read(rows))).collect();
    let query = query.discriminative(paragraphs.iter().map(|(_, text)| text.as_str()), 0.25);
    let mut kept = Vec::new();
    for (rows, text) in &paragraphs {
        if query.hits(text) > 0 {
            if !kept.is_empty() {
                kept.push(rows[0] - 1);
            }
            kept.extend_from_slice(rows);
        } else if rows.contains(&block.summary) {
            kept.extend(first_sentence(block, source));
        }
    }
    kept
}

/// Whether a comment line is an example's import: `import { a } from 'lib';`, `use lib::A;`,
/// `from lib import a`.
fn example_import(line: &str) -> bool {
    let code = line.trim().trim_start_matches(['/', '*', '!', '#']).trim();
    (code.starts_with("import ") && (code.contains(" from ") || code.ends_with(';')))
        || (code.starts_with("use ") && code.ends_with(';'))
        || (code.starts_with("from ") && code.contains(" import "))
}

/// Lines a summary may run over to finish its first sentence.
const SUMMARY_LINES: usize = 3;

/// The rows of `block`'s first sentence: its summary line and the next ones until one ends a
/// sentence, at most [`SUMMARY_LINES`] (a summary cut mid-sentence reads as a different one).
fn first_sentence(block: &doc_blocks::DocBlock, source: &[&str]) -> Range<usize> {
    let last = (block.summary..block.lines.end.min(block.summary + SUMMARY_LINES))
        .take_while(|&row| row == block.summary || !bare_comment(source[row]))
        .find(|&row| {
            let line = source[row].trim_end().trim_end_matches("*/").trim_end();
            line.ends_with('.') || line.ends_with(':') || line.contains(". ")
        });
    block.summary..last.unwrap_or(block.summary) + 1
}

/// The doc block ending right above the 0-based line `first_row` (attributes, annotations and
/// decorators in between), if there is one.
fn attached_doc<'b>(docs: &'b [doc_blocks::DocBlock], source: &[&str], first_row: usize) -> Option<&'b doc_blocks::DocBlock> {
    let row = past_doc(source, above_attributes(source, first_row));
    // The blocks come in order, one after another: the one ending at `row` starts last before it.
    let before = docs.partition_point(|b| b.lines.start < row);
    docs[..before].last().filter(|b| b.lines.end == row)
}

/// Where the comment right above an item's `first_row` ends: `first_row`, or the blank line
/// between them when one sets them apart (JSDoc blocks often stand a line above their function).
fn past_doc(source: &[&str], first_row: usize) -> usize {
    if first_row >= 2 && source[first_row - 1].trim().is_empty() && is_comment(source[first_row - 2]) {
        first_row - 1
    } else {
        first_row
    }
}

/// The 0-based line `first_row` of an item, or of the attributes, annotations and decorators
/// right above it.
fn above_attributes(source: &[&str], first_row: usize) -> usize {
    let mut row = first_row;
    while row > 0 && ["#[", "@"].iter().any(|a| source[row - 1].trim_start().starts_with(a)) {
        row -= 1;
    }
    row
}

/// Edits cutting long doc comments and comment blocks outside what `done` already edits to
/// their summary line — and the paragraphs with the question's words, when they have any: the
/// rest (parameters, examples, notes, licence text) becomes one comment line holding the marker.
fn long_doc_comments(
    source: &[&str],
    docs: &[doc_blocks::DocBlock],
    lines: &LineStarts,
    len: usize,
    done: &[Edit],
    query: &Query,
) -> Vec<Edit> {
    let mut edits = Vec::new();
    for block in docs.iter().filter(|b| b.lines.len() > CUT_DOC_COMMENT_LINES) {
        let (start, end) = (lines.0[block.lines.start], lines.0.get(block.lines.end).map_or(len, |next| next - 1));
        if overlaps(done, start, end) {
            continue;
        }
        let kept = paragraphs_on_the_question(block, source, query);
        let cut = cut_block(block, source, lines, len, |row| kept.contains(&row), Some(&elided));
        edits.extend(cut.filter(|cut| cut.text_lines_cut >= CUT_DOC_COMMENT_LINES).map(|cut| (cut.range, cut.text)));
    }
    edits
}

/// Lines of member doc comments (fields, interface members, variants) off the question one
/// item must hold for them to go behind a note: the note costs about a line.
const MEMBER_DOC_LINES: usize = 3;

/// Edits cutting the doc comments of the members of each top-level item (a struct's fields, an
/// interface's members, an enum's variants, a class's properties) that are off the question,
/// with one note after the item's last line naming where they were, and how many items have
/// one: the members' names and types say what the item holds. Items whose first line is on
/// the question, and comments of functions or inside them, stay.
fn member_docs(
    root: Node,
    source: &[&str],
    docs: &[doc_blocks::DocBlock],
    lines: &LineStarts,
    functions: &[Function],
    done: &[Edit],
    query: &Query,
) -> (Vec<Edit>, usize) {
    // Comments are doc blocks and the one-line comments outside them, in order.
    let mut in_doc = vec![false; source.len()];
    for block in docs {
        in_doc[block.lines.clone()].iter_mut().for_each(|d| *d = true);
    }
    let one_line = |row: &usize| {
        let t = source[*row].trim_start();
        !in_doc[*row] && (t.starts_with("//") || t.starts_with("/*") && t.trim_end().ends_with("*/"))
    };
    let mut comments: Vec<Range<usize>> = docs.iter().map(|b| b.lines.clone()).collect();
    comments.extend((0..source.len()).filter(one_line).map(|row| row..row + 1));
    comments.sort_by_key(|rows| rows.start);
    let function_starts: Vec<usize> = functions.iter().map(|f| above_attributes(source, lines.row(f.node.start_byte()))).collect();
    let of_function = |rows: &Range<usize>| {
        function_starts.contains(&rows.end) || functions.iter().any(|f| f.rows.0 <= rows.start && rows.end <= f.rows.1 + 1)
    };
    let span = |rows: &Range<usize>| lines.0[rows.start]..lines.0.get(rows.end).copied().unwrap_or(lines.0[rows.end - 1] + source[rows.end - 1].len());
    let on_the_question = |rows: Range<usize>| query.hits(&with_identifier_parts(&source[rows].join("\n"))) > 0;
    let mut edits = Vec::new();
    let mut items = 0;
    let mut cursor = root.walk();
    for item in root.named_children(&mut cursor) {
        let (first, last) = (lines.row(item.start_byte()), lines.row(item.end_byte().saturating_sub(1).max(item.start_byte())));
        if last <= first || on_the_question(first..first + 1) {
            continue;
        }
        let inside = &comments[comments.partition_point(|rows| rows.start <= first)..comments.partition_point(|rows| rows.start < last)];
        let cut: Vec<&Range<usize>> = inside
            .iter()
            .filter(|rows| rows.end <= last && source[rows.start].starts_with(char::is_whitespace))
            .filter(|rows| !of_function(rows) && !overlaps(done, span(rows).start, span(rows).end) && !on_the_question((*rows).clone()))
            .collect();
        let text_lines: usize = cut.iter().map(|rows| (*rows).clone().filter(|&row| !bare_comment(source[row])).count()).sum();
        let end_of_item = lines.0[last] + source[last].len();
        if text_lines < MEMBER_DOC_LINES || overlaps(done, lines.0[last], end_of_item.max(lines.0[last] + 1)) {
            continue;
        }
        let (from, to) = (cut[0].start + 1, cut[cut.len() - 1].end);
        // A blank line before a cut comment goes with it: the members close up.
        let with_blank = |rows: &Range<usize>| if rows.start > first + 1 && source[rows.start - 1].trim().is_empty() { rows.start - 1..rows.end } else { rows.clone() };
        edits.extend(cut.iter().map(|rows| (span(&with_blank(rows)), String::new())));
        edits.push((end_of_item..end_of_item, format!(" // {}", elided(&format!("comments in lines {from}–{to}")))));
        items += 1;
    }
    (edits, items)
}

fn errors(node: Node) -> usize {
    if !node.has_error() {
        return 0;
    }
    let own = usize::from(node.is_error() || node.is_missing());
    let mut cursor = node.walk();
    own + node.children(&mut cursor).map(errors).sum::<usize>()
}

/// Functions not nested in another function, in source order (nested ones go with their parent).
fn outermost_functions<'t>(node: Node<'t>, lang: Lang, text: &str, out: &mut Vec<Function<'t>>) {
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        if lang.functions().contains(&child.kind()) {
            if let Some(body) = child.child_by_field_name("body").filter(|b| is_block(lang, *b)) {
                out.push(Function { name: function_name(child, body, text), node: child, body, end: body.end_byte(), rows: (0, 0) });
                continue;
            }
        }
        outermost_functions(child, lang, text, out);
    }
}

/// Whether a body is a block of statements (an arrow function's body may be an expression).
fn is_block(lang: Lang, body: Node) -> bool {
    match lang {
        Lang::Python => body.kind() == "block",
        _ => body.kind().ends_with("block") || body.kind() == "compound_statement" || body.kind() == "constructor_body",
    }
}

fn function_name(node: Node, body: Node, text: &str) -> String {
    if let Some(name) = node.child_by_field_name("name") {
        return text[name.byte_range()].to_string();
    }
    // C/C++ declarators, anonymous functions: the last identifier before the parameter list.
    let head = &text[node.start_byte()..body.start_byte()];
    let before_params = head.split('(').next().unwrap_or(head);
    let last = before_params.rsplit(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '~')).find(|w| !w.is_empty());
    if let Some(name) = last.filter(|n| !matches!(*n, "function" | "async" | "fn" | "func")) {
        return name.to_string();
    }
    // A function value is named by what the expression holding it is bound to: a variable, a
    // class field (`regenerate = async () => {…}`, `add = () => queue.run(async () => {…})`), an
    // object's key, or an assignment's target (`this.run`). A statement or block ends the search.
    let mut bound_to = None;
    let mut up = node.parent();
    while let Some(p) = up {
        let kind = p.kind();
        bound_to = match kind {
            "variable_declarator" | "public_field_definition" => p.child_by_field_name("name"),
            "field_definition" => p.child_by_field_name("property"),
            "pair" => p.child_by_field_name("key"),
            "assignment_expression" => p.child_by_field_name("left"),
            _ => None,
        };
        if bound_to.is_some() || kind == "program" || kind.ends_with("statement") || kind.ends_with("block") || kind.ends_with("body") {
            break;
        }
        up = p.parent();
    }
    let name = bound_to.and_then(|n| last_identifier(&text[n.byte_range()]));
    name.map_or_else(|| "an anonymous function".to_string(), str::to_string)
}

/// The last identifier (letters, digits, `_`, `$`) in `text`: `run` of `this.run`.
fn last_identifier(text: &str) -> Option<&str> {
    text.rsplit(|c: char| !is_identifier_char(c)).find(|w| !w.is_empty())
}

/// Whether `c` can be part of an identifier in the languages read here (`$` in JavaScript).
fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// The words of a function's name as the question meets them: its identifier's parts and, for
/// an event handler's all-lowercase name (`onclose`, `onmessage`), the event it handles.
fn name_words(name: &str) -> Vec<String> {
    let mut parts = identifier_parts(name);
    if let Some(event) = name.strip_prefix("on").filter(|e| e.len() > 2 && e.chars().all(|c| c.is_ascii_lowercase())) {
        parts.push(fold(event));
    }
    parts
}

/// Whether a function's name words (see [`name_words`], folded already) hold one of `query`'s
/// terms as they are: folding them again would lose some (`pars` of `parse` to `par`).
fn names_a_term(words: &[String], query: &Query) -> bool {
    query.terms().any(|term| words.iter().any(|word| word == term))
}

/// Whether a term is a word of at most [`MATCHING_BODIES`] of the functions' `name_words`: it
/// names those functions, not a family of them.
fn in_few_names(name_words: &[Vec<String>]) -> impl Fn(&&str) -> bool + '_ {
    move |term| name_words.iter().filter(|words| words.iter().any(|w| w == term)).count() <= MATCHING_BODIES
}

/// The question as bodies are matched to it: its words that tell bodies apart, and those that
/// tell function names apart.
struct Queries<'q> {
    bodies: &'q Query,
    names: &'q Query,
}

/// Which bodies stay whole: short ones, and those whose name has a query word that tells bodies
/// apart and is in the names of few functions. Then the bodies that match the query best (BM25,
/// so a long body does not win by length) — the best and any close to it — when no name has
/// such a word, or the best alone when it scores [`FAR_BETTER_THAN_NAMED`] times any body so
/// named; and every one not long (see [`Function::is_long`]), or long with a name the question
/// spells out whole, named by a word common in bodies but in the names of few functions
/// (`shouldRetry` in an HTTP client whose every body retries). Blocks the conversation read
/// earlier (`older`) keep only name matches of the first kind: the question is about the
/// newest output.
fn bodies_to_keep(functions: &[&Function], bodies: &[String], queries: &Queries, older: bool) -> Vec<bool> {
    let name_words: Vec<Vec<String>> = functions.iter().map(|f| name_words(&f.name)).collect();
    let named_by = |query: &Query| -> Vec<bool> { name_words.iter().map(|words| names_a_term(words, query)).collect() };
    // A word in the names of more functions than are kept for matching (`parse` in a flag
    // parser) names a family, not the ones asked about: the bodies' own words choose among them.
    let few_named = in_few_names(&name_words);
    let named = named_by(&queries.bodies.only(&few_named));
    let mut keep: Vec<bool> = functions
        .iter()
        .zip(&named)
        .map(|(f, named)| *named || f.is_short())
        .collect();
    if older {
        return keep;
    }
    let docs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let scores = queries.bodies.bm25(&docs);
    let by_score = |mut chosen: Vec<usize>| {
        chosen.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
        chosen.into_iter().take(MATCHING_BODIES)
    };
    let best = scores.iter().copied().fold(0.0, f64::max);
    let best_named = (0..functions.len()).filter(|&i| named[i]).map(|i| scores[i]).fold(0.0, f64::max);
    if best > 0.0 && !named.contains(&true) {
        for i in by_score((0..functions.len()).filter(|&i| scores[i] >= best * CLOSE_TO_BEST).collect()) {
            keep[i] = true;
        }
    } else if best > best_named * FAR_BETTER_THAN_NAMED {
        // A name holds one of the question's words, but another body holds far more of them.
        if let Some(i) = (0..functions.len()).find(|&i| scores[i] == best) {
            keep[i] = true;
        }
    }
    let named_in_names = named_by(&queries.names.only(&few_named));
    // A long body is kept on its name alone when the question spells out all of it, in two
    // words or more (`MethodCalled` for "a mocked method is called").
    let name_terms: Vec<&str> = queries.names.terms().collect();
    let spelled_out = |words: &[String]| {
        // The first word is the whole name.
        let parts: BTreeSet<&str> = words[1..].iter().map(String::as_str).collect();
        parts.len() > 1 && parts.iter().all(|part| name_terms.contains(part))
    };
    let named_only = (0..functions.len()).filter(|&i| named_in_names[i] && !keep[i] && (!functions[i].is_long() || spelled_out(&name_words[i]))).collect();
    for i in by_score(named_only) {
        keep[i] = true;
    }
    keep
}

/// Lines of an elided body its marker shows at most, and one more per this many lines of body:
/// those weighing most on the question (see [`line_weights`]).
const LINES_ON_THE_QUESTION: usize = 3;
const BODY_LINES_PER_LINE_SHOWN: usize = 20;
/// Longest such line shown, in characters.
const LINE_ON_THE_QUESTION_CHARS: usize = 160;

/// How much more a line that decides (a condition, a `return`, a `throw`) weighs than one that
/// declares or comments: it says what the code does with the question's words.
const DECISION_WEIGHT: f64 = 2.0;

/// Whether `line` (trimmed) decides: it opens with a branch, a loop's condition or an exit.
fn decides(line: &str) -> bool {
    let line = line.trim_start_matches(['}', ' ']);
    ["if ", "if(", "else if", "elif ", "case ", "when ", "match ", "while ", "switch ", "switch(", "return ", "throw ", "raise ", "guard "]
        .iter()
        .any(|start| line.starts_with(start))
}

/// How much each line of `body` is on the question: BM25 over its lines, identifiers split
/// into their words (`EnablePrefixMatching` has `prefix`), so a rare word weighs more than two
/// common ones; a line that [`decides`] weighs [`DECISION_WEIGHT`] times as much.
fn line_weights(body: &str, query: &Query) -> Vec<f64> {
    let lines: Vec<&str> = body.lines().collect();
    // Code repeats its words: each is split once.
    let mut split: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    let parts: Vec<String> = lines
        .iter()
        .map(|line| {
            let mut parts = String::new();
            for word in words(line) {
                let word_parts = split.entry(word).or_insert_with(|| identifier_parts(word).join(" "));
                if !parts.is_empty() {
                    parts.push(' ');
                }
                parts.push_str(word_parts);
            }
            parts
        })
        .collect();
    let scores = query.bm25(&parts.iter().map(String::as_str).collect::<Vec<_>>());
    scores.into_iter().zip(&lines).map(|(score, line)| if decides(line.trim()) { score * DECISION_WEIGHT } else { score }).collect()
}

/// The lines of an elided `body` (whose first line is row `first_row`) weighing most on the
/// question (see [`line_weights`]), at most [`LINES_ON_THE_QUESTION`] (more for a long body), in
/// order, as `; on the question: L58 `…` · L61 `…`` for the marker. A body that answers the
/// question is not elided away whole.
fn lines_on_the_question(body: &str, first_row: usize, query: &Query) -> String {
    if query.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = body.lines().collect();
    let mut hits: Vec<(f64, usize, &str)> = line_weights(body, query)
        .into_iter()
        .zip(&lines)
        .enumerate()
        .map(|(n, (score, line))| (score, n, line.trim()))
        .filter(|(score, _, line)| *score > 0.0 && !line.is_empty())
        .collect();
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    hits.truncate(LINES_ON_THE_QUESTION.max(lines.len() / BODY_LINES_PER_LINE_SHOWN));
    hits.sort_by_key(|(_, n, _)| *n);
    if hits.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = hits
        .iter()
        .map(|(_, n, line)| {
            // Shown inside a comment: nothing in it may close the comment.
            let line: String = line.replace("*/", "* /").chars().take(LINE_ON_THE_QUESTION_CHARS).collect();
            format!("L{} `{line}`", first_row + n + 1)
        })
        .collect();
    format!("; on the question: {}", shown.join(" · "))
}

/// Lines of an elided body's part on the question at most: a condition and what it does, a
/// few steps in a row.
const PART_ON_THE_QUESTION_LINES: usize = 20;

/// A body's part on the question is kept when it weighs at least this share of the file's part
/// that weighs most.
const PART_CLOSE_TO_BEST: f64 = 0.7;

/// The elided bodies (not kept, and not inside an elided one) whose part on the question is
/// kept (see [`part_on_the_question`]): at most [`MATCHING_BODIES`], those whose
/// [`PART_ON_THE_QUESTION_LINES`] lines in a row weigh most by `weights` (one per line of the
/// file), each near the file's best part, kept bodies' included.
fn parts_on_the_question(functions: &[Function], keep: &[bool], parent: &[Option<usize>], weights: &[f64]) -> Vec<usize> {
    if weights.is_empty() {
        return Vec::new();
    }
    let densest = |f: &Function| weights[f.rows.0..=f.rows.1].windows(PART_ON_THE_QUESTION_LINES.min(f.rows.1 + 1 - f.rows.0)).map(|w| w.iter().sum::<f64>()).fold(0.0, f64::max);
    let parts: Vec<f64> = functions.iter().map(densest).collect();
    let best = parts.iter().copied().fold(0.0, f64::max);
    let mut chosen: Vec<usize> = (0..functions.len())
        .filter(|&i| !keep[i] && !functions[i].is_short() && parent[i].is_none_or(|p| keep[p]) && parts[i] > 0.0 && parts[i] >= best * PART_CLOSE_TO_BEST)
        .collect();
    chosen.sort_by(|a, b| parts[*b].total_cmp(&parts[*a]).then(a.cmp(b)));
    chosen.truncate(MATCHING_BODIES);
    chosen
}

/// Headers of the statements enclosing an excerpt that begin above it, at most this many (the
/// nearest): the conditions and loops it runs under.
const EXCERPT_HEADERS: usize = 2;

/// The [`PART_ON_THE_QUESTION_LINES`] lines in a row of `f`'s body, around its line weighing
/// most by `weights`, that weigh most together — from the first of them on the question to the
/// last — quoted for its note when no run of its statements can be kept (the part is inside one
/// long statement): `; lines 936, 943–955 on the question:` and each line, dedented, on a line of
/// its own (a `#` comment in Python), after the first lines of the statements around it that
/// begin above it in `body` (see [`EXCERPT_HEADERS`]), a `…` for lines between. Empty when none
/// weighs anything.
fn excerpt_on_the_question(lang: Lang, source: &[&str], f: &Function, body: Option<Node>, weights: &[f64]) -> String {
    let (first, last) = f.rows;
    let len = PART_ON_THE_QUESTION_LINES.min(last + 1 - first);
    let sum = |start: usize| weights[start..start + len].iter().sum::<f64>();
    // The lines around the body's line weighing most.
    let Some(heaviest) = heaviest(weights, first, last).filter(|&row| weights[row] > 0.0) else {
        return String::new();
    };
    let Some(start) = (heaviest.saturating_sub(len - 1).max(first)..=heaviest.min(last + 1 - len)).max_by(|a, b| sum(*a).total_cmp(&sum(*b)).then(b.cmp(a))) else {
        return String::new();
    };
    // From its first line on the question to its last.
    let on = |row: &usize| weights[*row] > 0.0;
    let rows: Vec<usize> = (start..start + len).skip_while(|row| !on(row)).collect();
    let rows = &rows[..rows.iter().rposition(on).map_or(0, |last| last + 1)];
    let headers = body.zip(rows.first()).map_or(Vec::new(), |(body, &first)| enclosing_headers(body, first));
    let indent_of = |line: &str| line.len() - line.trim_start().len();
    let dedent = headers.iter().chain(rows).map(|&row| source[row]).filter(|line| !line.trim().is_empty()).map(indent_of).min().unwrap_or(0);
    let head = source[f.rows.0.min(source.len() - 1)];
    let base = &head[..indent_of(head)];
    let quote = |line: &str| {
        let line = line.get(dedent..).unwrap_or(line.trim_start()).trim_end();
        if lang == Lang::Python { format!("\n{base}# {line}") } else { format!("\n{base}  {}", line.replace("*/", "* /")) }
    };
    // A `…` at the next line's indent stands for the lines between a header and what follows it.
    let mut quoted = Vec::new();
    for (n, &row) in headers.iter().enumerate() {
        quoted.push(quote(source[row]));
        let next = headers.get(n + 1).unwrap_or(&rows[0]);
        if row + 1 < *next {
            quoted.push(quote(&format!("{}…", &source[*next][..indent_of(source[*next])])));
        }
    }
    quoted.extend(rows.iter().map(|&row| quote(source[row])));
    // The note's end goes on a comment line of its own.
    let end = if lang == Lang::Python { format!("\n{base}#") } else { format!("\n{base}") };
    let shown: Vec<usize> = headers.iter().chain(rows).copied().collect();
    format!("; {} on the question:{}{end}", line_ranges(&shown), quoted.concat())
}

/// The first rows of the statements inside `body` that hold row `row` and begin above it, the
/// outermost first, at most [`EXCERPT_HEADERS`] (the nearest).
fn enclosing_headers(body: Node, row: usize) -> Vec<usize> {
    let point = tree_sitter::Point { row, column: 0 };
    let mut node = body.descendant_for_point_range(point, point);
    let mut headers = Vec::new();
    while let Some(n) = node.filter(|n| n.id() != body.id()) {
        let first = n.start_position().row;
        if first < row && n.parent().is_some_and(|p| p.kind() == body.kind() || p.kind().ends_with("block") || p.kind() == "statement_list")
            && headers.last() != Some(&first)
        {
            headers.push(first);
        }
        node = n.parent();
    }
    headers.truncate(EXCERPT_HEADERS);
    headers.reverse();
    headers
}

/// The first of the rows `first` through `last` weighing most by `weights`.
fn heaviest(weights: &[f64], first: usize, last: usize) -> Option<usize> {
    (first..=last).max_by(|a, b| weights[*a].total_cmp(&weights[*b]).then(b.cmp(a)))
}

/// A tree holding `f`'s statements, when the skeleton blanked them: `f` alone parsed again
/// (its bytes only, at their offsets in `text`), with where its body starts; `None` for the
/// tree when the file's own has them.
fn body_statements(parser: &mut Parser, lang: Lang, text: &str, lines: &LineStarts, f: &Function, skimmed: bool) -> Option<(Option<Tree>, usize)> {
    let body = f.body.start_byte();
    if !skimmed {
        return Some((None, body));
    }
    let point = |at: usize| {
        let row = lines.row(at);
        tree_sitter::Point { row, column: at - lines.0[row] }
    };
    let (start, end) = (f.node.start_byte(), f.end);
    parser.set_included_ranges(&[tree_sitter::Range { start_byte: start, end_byte: end, start_point: point(start), end_point: point(end) }]).ok()?;
    let tree = parser.parse(text, None);
    parser.set_included_ranges(&[]).ok()?;
    let tree = tree?;
    is_block(lang, node_at(&tree, lang, body)).then_some((Some(tree), body))
}

/// The block starting at byte `at` in `tree`, or the largest node starting there.
fn node_at(tree: &Tree, lang: Lang, at: usize) -> Node<'_> {
    let mut node = tree.root_node().descendant_for_byte_range(at, at).unwrap_or(tree.root_node());
    while !is_block(lang, node) {
        match node.parent().filter(|parent| parent.start_byte() == at) {
            Some(parent) => node = parent,
            None => break,
        }
    }
    node
}

/// Lines of one statement kept as a body's part on the question at most, when no shorter run
/// of statements holds the body's line weighing most (an object literal of defaults).
const LONG_PART_STATEMENT_LINES: usize = 2 * PART_ON_THE_QUESTION_LINES;

/// Lines a cut around a body's part on the question spans at least.
const CUT_LINES_AT_LEAST: usize = 4;

/// Edits keeping the part of a function's `body` most on the question — the statements in a
/// row, on [`PART_ON_THE_QUESTION_LINES`] lines at most, whose lines weigh most (see
/// [`line_weights`]) — and cutting the statements before and after it to notes that show their own lines on the
/// question. When no such run holds the body's line weighing most, the statement holding it is
/// the part, up to [`LONG_PART_STATEMENT_LINES`]. A Python docstring keeps its first line. None
/// when no part has the question's words, that statement is longer, or statements share a line
/// with the part.
fn part_on_the_question(lang: Lang, text: &str, lines: &LineStarts, body: Node, weights: &[f64], query: &Query) -> Option<Vec<Edit>> {
    // Go's blocks hold their statements in a list.
    let body = body.named_child(0).filter(|list| list.kind() == "statement_list" && body.named_child_count() == 1).unwrap_or(body);
    let mut cursor = body.walk();
    let mut statements: Vec<Node> = body.named_children(&mut cursor).collect();
    let docstring = (lang == Lang::Python)
        .then(|| statements.first().filter(|s| s.kind() == "expression_statement" && s.named_child(0).is_some_and(|d| d.kind() == "string")).copied())
        .flatten();
    if docstring.is_some() {
        statements.remove(0);
    }
    let rows: Vec<(usize, usize)> = statements.iter().map(|s| (lines.row(s.start_byte()), lines.row(s.end_byte() - 1))).collect();
    let weight = |(first, last): (usize, usize)| weights[first..=last].iter().sum::<f64>();
    let mut best: Option<(f64, usize, usize)> = None;
    for i in 0..rows.len() {
        let mut total = 0.0;
        for j in i..rows.len() {
            if rows[j].1 + 1 - rows[i].0 > PART_ON_THE_QUESTION_LINES {
                break;
            }
            total += weight(rows[j]);
            if total > 0.0 && best.is_none_or(|(most, ..)| total > most) {
                best = Some((total, i, j));
            }
        }
    }
    let (_, mut i, mut j) = best?;
    // A part without the body's line that weighs most would show less than the body's note
    // does: the statement holding that line is the part, unless too long to keep.
    let top = heaviest(weights, rows[0].0, rows[rows.len() - 1].1)?;
    if !(rows[i].0..=rows[j].1).contains(&top) {
        let holding = rows.iter().position(|&(from, to)| (from..=to).contains(&top))?;
        if rows[holding].1 + 1 - rows[holding].0 > LONG_PART_STATEMENT_LINES {
            return None;
        }
        (i, j) = (holding, holding);
    }
    let (first, last) = (rows[i].0, rows[j].1);
    let shares_a_line = (i > 0 && rows[i - 1].1 == first) || rows.get(j + 1).is_some_and(|next| next.0 == last);
    if statements[i..=j].iter().all(|s| s.kind().contains("comment")) || shares_a_line {
        return None;
    }
    let line_end = |row: usize| lines.0.get(row + 1).map_or(text.len(), |next| next - 1);
    let indent = |row: usize| {
        let line = &text[lines.0[row]..line_end(row)];
        &line[..line.len() - line.trim_start().len()]
    };
    // The lines from row `from` through `to`, cut to a note at `from`'s indent.
    let note = |from: usize, to: usize| {
        let range = lines.0[from] + indent(from).len()..line_end(to);
        let shown = lines_on_the_question(&text[range.clone()], from, query);
        (range, format!("{} {}", lang.line_comment(), elided(&format!("{}{shown}", line_ranges(&(from..=to).collect::<Vec<_>>())))))
    };
    // Fewer lines than a note is worth stay.
    let worth = |from: usize, to: usize| to + 1 >= from + CUT_LINES_AT_LEAST;
    let mut edits = Vec::new();
    if let Some(doc) = docstring {
        let (doc_first, doc_last) = (lines.row(doc.start_byte()), lines.row(doc.end_byte() - 1));
        let cut_to = if i > 0 { first - 1 } else { doc_last };
        if worth(doc_first + 1, cut_to) {
            let (range, cut) = note(doc_first + 1, cut_to);
            let summary = first_docstring_line(&text[doc.byte_range()]);
            edits.push((doc.start_byte()..range.end, format!("{summary}\n{}{cut}", indent(doc_first))));
        }
    } else if i > 0 && worth(rows[0].0, first - 1) {
        edits.push(note(rows[0].0, first - 1));
    }
    let end = rows[rows.len() - 1].1;
    if j + 1 < rows.len() && worth(rows[j + 1].0, end) {
        edits.push(note(rows[j + 1].0, end));
    }
    Some(edits)
}

/// Branches of a switch or match inside a long body kept whole, of at least this many lines,
/// are elided when they have none of the question's words.
const LONG_BRANCH_LINES: usize = 6;

/// A branch of a switch or match: its label (`case 'x':`, `Event::Open =>`) and its statements.
struct Branch {
    label: Range<usize>,
    statements: Range<usize>,
}

/// Edits eliding the long branches of switches and matches (`case 'x': …`, `Pat => { … }`)
/// inside the long `bodies` kept whole, each to a note after its label, unless the question
/// names the branch (every word of its label that few labels share: `tool-input-error`, the
/// `Reset` of `Event::Reset`) or has words of its label and statements (words in a quarter of
/// the branches tell none apart). Those inside an edit of `done` are left to it. A reducer or a
/// protocol handler kept for one of its cases then shows every label and the cases asked about.
fn branches_off_the_question<'t>(lang: Lang, text: &str, lines: &LineStarts, bodies: impl Iterator<Item = Node<'t>>, done: &[Edit], question: &str) -> Vec<Edit> {
    let mut found: Vec<Branch> = Vec::new();
    for body in bodies {
        collect_branches(lang, body, &mut found);
    }
    found.sort_by_key(|b| b.statements.start);
    found.dedup_by_key(|b| b.statements.start);
    let units: Vec<String> = found.iter().map(|b| with_identifier_parts(&text[b.label.start..b.statements.end])).collect();
    let asked = Query::of_code(question);
    let query = asked.discriminative(units.iter().map(String::as_str), 0.25);
    let label_words: Vec<Vec<String>> = found
        .iter()
        .map(|b| {
            let mut parts: Vec<String> = words(&text[b.label.clone()]).flat_map(identifier_parts).filter(|w| w != "case" && w != "default").collect();
            parts.sort();
            parts.dedup();
            parts
        })
        .collect();
    let shared_by_many = |word: &String| label_words.iter().filter(|l| l.contains(word)).count() * 2 > found.len();
    let mut edits: Vec<Edit> = Vec::new();
    for ((branch, unit), label) in found.iter().zip(&units).zip(&label_words) {
        let statements = branch.statements.clone();
        let rows = (lines.row(statements.start), lines.row(statements.end - 1));
        let distinctive: Vec<&String> = label.iter().filter(|w| !shared_by_many(w)).collect();
        let named = !distinctive.is_empty() && distinctive.iter().all(|w| asked.hits(w) > 0);
        if rows.1 + 1 - rows.0 < LONG_BRANCH_LINES || named || query.hits(unit) > 0 || overlaps(done, statements.start, statements.end) || overlaps(&edits, statements.start, statements.end) {
            continue;
        }
        // Statements opening on the label's line (`case 'x': {`) leave that line shown.
        let first = if lines.row(branch.label.end - 1) == rows.0 { rows.0 + 1 } else { rows.0 };
        let note = elided(&line_ranges(&(first..=rows.1).collect::<Vec<_>>()));
        let replacement = if lang == Lang::Rust { format!("{{ /* {note} */ }}") } else { format!("/* {note} */") };
        edits.push((statements, replacement));
    }
    edits
}

/// Every switch or match branch under `node`: a case's statements after its last `:`
/// (JavaScript, TypeScript, Go, Java, C, C++), a Rust arm's block after `=>`.
fn collect_branches(lang: Lang, node: Node, found: &mut Vec<Branch>) {
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        let kind = child.kind();
        let branch = match lang {
            Lang::Rust if kind == "match_arm" => child
                .child_by_field_name("value")
                .filter(|v| v.kind() == "block")
                .map(|v| Branch { label: child.start_byte()..v.start_byte(), statements: v.byte_range() }),
            Lang::Python | Lang::Rust => None,
            _ if matches!(kind, "switch_case" | "switch_default" | "expression_case" | "type_case" | "default_case" | "communication_case" | "case_statement" | "switch_block_statement_group") => {
                // After the last `:`: Java groups labels (`case A: case B:`) before the statements.
                let mut parts = child.walk();
                let children: Vec<Node> = child.children(&mut parts).collect();
                let colon = children.iter().rposition(|c| c.kind() == ":");
                colon.and_then(|at| children.get(at + 1).map(|first| Branch { label: child.start_byte()..children[at].end_byte(), statements: first.start_byte()..child.end_byte() }))
            }
            _ => None,
        };
        found.extend(branch.filter(|b| !b.statements.is_empty()));
        collect_branches(lang, child, found);
    }
}

/// What replaces an elided body: a block that still parses, holding the docstring's first
/// line (Python) and the marker as a comment.
fn replacement(lang: Lang, text: &str, body: Node, note: &str) -> String {
    if lang != Lang::Python {
        return format!("{{ /* {note} */ }}");
    }
    let line_start = text[..body.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..body.start_byte()];
    let doc = body
        .named_child(0)
        .filter(|s| s.kind() == "expression_statement")
        .and_then(|s| s.named_child(0))
        .filter(|s| s.kind() == "string")
        .map(|s| first_docstring_line(&text[s.byte_range()]));
    match doc {
        Some(doc) => format!("{doc}\n{indent}...  # {note}"),
        None => format!("...  # {note}"),
    }
}

/// `"""First line."""` from a docstring literal, keeping its prefix and quotes.
fn first_docstring_line(literal: &str) -> String {
    let open_len = literal.find(['"', '\'']).unwrap_or(0);
    let quote = if literal[open_len..].starts_with("\"\"\"") || literal[open_len..].starts_with("'''") { 3 } else { 1 };
    let (open, inner) = literal.split_at(open_len + quote);
    let inner = &inner[..inner.len().saturating_sub(quote)];
    let first = inner.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let close = &open[open_len..];
    format!("{open}{first}{close}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef01234567";

    fn compress(path: &str, text: &str, query: &str) -> String {
        let ctx = Context { query, file_path: Some(path), key: KEY, ..Context::default() };
        Code.compress(text, &ctx).unwrap_or_else(|| panic!("{path} was not compressed"))
    }

    fn parses_cleanly(lang: Lang, text: &str) -> bool {
        let mut parser = Parser::new();
        parser.set_language(&lang.grammar()).unwrap();
        !parser.parse(text, None).unwrap().root_node().has_error()
    }

    /// Names of every function and class/struct/type declared in `text`.
    fn declared_names(lang: Lang, text: &str) -> Vec<String> {
        let mut parser = Parser::new();
        parser.set_language(&lang.grammar()).unwrap();
        let tree = parser.parse(text, None).unwrap();
        let mut names = Vec::new();
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            if node.kind().contains("function") || node.kind().contains("class") || node.kind().contains("method") || node.kind().ends_with("_item") {
                if let Some(name) = node.child_by_field_name("name") {
                    names.push(text[name.byte_range()].to_string());
                }
            }
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
        names
    }

    /// The source of the function that starts within `range` (inside a Rust macro block too).
    fn function_at(lang: Lang, text: &str, range: Range<usize>) -> &str {
        let mut parser = Parser::new();
        parser.set_language(&lang.grammar()).unwrap();
        let shaped = if lang == Lang::Rust { macros_as_modules(text) } else { None };
        let tree = parser.parse(shaped.as_deref().unwrap_or(text), None).unwrap();
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            if lang.functions().contains(&node.kind()) && range.contains(&node.start_byte()) {
                return &text[node.byte_range()];
            }
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
        panic!("no function starts in {range:?}")
    }

    /// Real files: every declared name survives, the output parses, it is much smaller, the
    /// function the question names survives whole, and every marker carries the key.
    fn check(lang: Lang, path: &str, text: &str, query: &str, whole: &str, at_most: f64) {
        let out = compress(path, text, query);
        assert!(parses_cleanly(lang, &out), "{path}: output does not parse:\n{out}");
        for name in declared_names(lang, text) {
            assert!(out.contains(&name), "{path}: {name} lost");
        }
        let start = text.find(whole).unwrap_or_else(|| panic!("{path}: fixture lacks {whole}"));
        let function = function_at(lang, text, start..start + whole.len());
        assert!(out.contains(function), "{path}: the asked-about function is not whole");
        assert!((out.len() as f64) < text.len() as f64 * at_most, "{path}: {} -> {}", text.len(), out.len());
        // One marker, on the last line, carries the key for every `[… lines a–b …]` note.
        assert_eq!(out.matches("[headroom:").count(), 1, "{path}: {out}");
        assert!(out.trim_end().lines().last().is_some_and(|last| last.contains("[headroom:") && last.contains(KEY)), "{path}: {out}");
        assert!(out.contains("[… lines "), "{path}: {out}");
    }

    #[test]
    fn an_elided_body_shows_its_lines_on_the_question() {
        let body = "{\n    let all = self.commands.iter();\n    if EnablePrefixMatching && cmd.has_name_or_alias_prefix(next) { /* prefix */ }\n    return None;\n}";
        let query = Query::new("how is a subcommand found by prefix matching?");
        assert_eq!(
            lines_on_the_question(body, 40, &query),
            "; on the question: L43 `if EnablePrefixMatching && cmd.has_name_or_alias_prefix(next) { /* prefix * / }`",
            "identifiers split into words; nothing closes the marker's comment"
        );
        assert_eq!(lines_on_the_question(body, 40, &Query::new("what does the tokenizer emit?")), "");
    }

    #[test]
    fn an_elided_body_shows_the_lines_that_decide_on_rare_words_first() {
        // `fromAjax` is 248 lines; `XMLHttpRequest`, `request` and `type` are on many of them,
        // `status` on four, and the one that says which statuses fail is a condition.
        let ajax = include_str!("../../../tests/fixtures/code/rxjs_ajax.ts");
        let question = "In RxJS's ajax implementation, which HTTP statuses make the observable error, what error message is emitted, and how is a plain object request body serialized (which content-type is set)?";
        let body: Vec<&str> = ajax.lines().skip(294).take(248).collect();
        let shown = lines_on_the_question(&body.join("\n"), 294, &Query::of_code(question));
        for line in ["L481 `if (status < 400) {`", "L469 `const msg = 'ajax error' + (status ? ' ' + status : '');`"] {
            assert!(shown.contains(line), "{line} not shown:\n{shown}");
        }
        assert!(!shown.contains("`let xhr: XMLHttpRequest;`"), "a declaration of common words is not: {shown}");
        // Among the bodies most on the question, and its part inside one long statement, the
        // body's note quotes the lines around its heaviest one.
        let out = compress("src/internal/ajax/ajax.ts", ajax, question);
        assert!(parses_cleanly(Lang::TypeScript, &out), "{out}");
        let start = out.find("export function fromAjax").expect("fromAjax kept");
        let marker = &out[start..start + out[start..].find("*/ }").expect("one note")];
        assert!(marker.contains("on the question:\n") && marker.contains(" if (status < 400) {\n") && marker.contains(" const msg = 'ajax error'"), "{marker}");
    }

    #[test]
    fn a_long_python_comment_keeps_its_first_sentence() {
        let standard = include_str!("../../../tests/fixtures/code/botocore_retries_standard.py");
        let out = compress("botocore/retries/standard.py", standard, "In botocore's standard retry mode, how is the delay before the next attempt computed?");
        assert!(parses_cleanly(Lang::Python, &out), "{out}");
        assert!(out.contains("    # Implementation note:  We're not making this a BaseRetryableChecker\n    # because this isn't just a check if we can retry.  This also changes\n    # [… lines 710–712 …]\n\n    def __init__(self, quota"), "{out}");
    }

    #[test]
    fn a_default_keeps_the_constructor_it_hands_over_to() {
        let predicate = include_str!("../../../tests/fixtures/code/tower_http_predicate.rs");
        let out = compress("src/compression/predicate.rs", predicate, "In tower-http, which responses does the default compression predicate refuse to compress?");
        assert!(parses_cleanly(Lang::Rust, &out), "{out}");
        // `default()` is `Self::new()`: the answer is the body of `new`, six lines long.
        assert!(out.contains("    fn default() -> Self {\n        Self::new()\n    }"), "{out}");
        assert!(out.contains("            .and(NotForContentType::IMAGES)\n            .and(NotForContentType::SSE);\n        Self(inner)"), "{out}");
        // Another type's `new` is not the one `Self::new()` names.
        assert!(out.contains("pub fn new(content_type: &str) -> Self { /* [… lines 214–219 …] */ }"), "{out}");
        // Short callees hand the question on: `default` → `new` → `with_capacity` → `from_vec`.
        let bytes_mut = include_str!("../../../tests/fixtures/code/bytes_bytes_mut.rs");
        let out = compress("src/bytes_mut.rs", bytes_mut, "What does a default BytesMut hold?");
        assert!(out.contains("        let original_capacity_repr = original_capacity_to_repr(cap);\n"), "{out}");
    }

    #[test]
    fn a_part_may_be_one_long_statement() {
        let handler = include_str!("../../../tests/fixtures/code/undici_retry_handler.js");
        let out = compress("lib/handler/retry-handler.js", handler, "In undici's RetryHandler, which status codes are retried by default, and what is the longest it waits?");
        assert!(parses_cleanly(Lang::JavaScript, &out), "{out}");
        // The defaults are one 25-line object literal: no run of statements of 20 lines holds
        // the constructor's line on the question, so the statement alone is its part.
        assert!(out.contains("    // [… lines 42–61; on the question: "), "{out}");
        assert!(out.contains("      maxTimeout: maxTimeout ?? 30 * 1000, // 30s,\n"), "{out}");
        assert!(out.contains("      statusCodes: statusCodes ?? [500, 502, 503, 504, 429],\n"), "{out}");
        assert!(out.contains("    }\n\n    // [… lines 87–103 …]\n  }"), "{out}");
    }

    #[test]
    fn a_small_type_the_question_names_hands_it_to_what_its_functions_call() {
        let httparse = include_str!("../../../tests/fixtures/code/httparse_lib.rs");
        let out = compress("src/lib.rs", httparse, "In httparse, what does that error's message say when a request has more headers than the slice given?");
        assert!(parses_cleanly(Lang::Rust, &out), "{out}");
        // `Display` and `std::error::Error` for `Error` both read `description_str`, which is
        // elided for any other question.
        assert!(out.contains("        f.write_str(self.description_str())\n"), "{out}");
        assert!(out.contains("            Error::TooManyHeaders => \"too many headers\",\n"), "{out}");
        let other = compress("src/lib.rs", httparse, "How does httparse find the end of a chunk size line?");
        assert!(other.contains("fn description_str(&self) -> &'static str { /* [… lines 121–131"), "{other}");
    }

    #[test]
    fn a_long_body_keeps_its_part_on_the_question() {
        // click's `Context.__init__` is 154 lines; the 20 that build the environment variables'
        // prefix answer the question, and the lines around them go to notes.
        let core = include_str!("../../../tests/fixtures/code/click_core.py");
        let question = "In click, in what order does a parameter take its value when the command line gives none, and how is an option's environment variable name built from auto_envvar_prefix, subcommands included?";
        let out = compress("src/click/core.py", core, question);
        assert!(parses_cleanly(Lang::Python, &out), "{out}");
        for part in [
            "        # [… lines 365–477; on the question:",
            "                auto_envvar_prefix = (\n                    f\"{parent.auto_envvar_prefix}_{self.info_name.upper()}\"\n",
            "            auto_envvar_prefix = auto_envvar_prefix.replace(\"-\", \"_\")\n\n        self.auto_envvar_prefix = auto_envvar_prefix\n\n        # [… lines 498–518; on the question:",
        ] {
            assert!(out.contains(part), "{part} not in:\n{out}");
        }
        // A docstring keeps its first line, the rest goes with the statements before the part.
        let sessions = include_str!("../../../tests/fixtures/code/requests_sessions.py");
        let out = compress("src/requests/sessions.py", sessions, "When requests follows a redirect, when does it drop the Authorization header, and when does the request's method change?");
        assert!(parses_cleanly(Lang::Python, &out), "{out}");
        let part = "        \"\"\"This method re-evaluates the proxy configuration by considering the\"\"\"\n        # [… lines 340–349; on the question: L345 `This method also replaces the Proxy-Authorization header where` …]\n        assert _is_prepared(prepared_request)\n";
        assert!(out.contains(part), "{out}");
        assert!(out.contains("            del headers[\"Proxy-Authorization\"]\n"), "{out}");
        // aiohttp's `_request` is 490 lines, its redirects deep inside a `try`: the note quotes
        // them, under the first lines of the loop and the condition they run in.
        let client = include_str!("../../../tests/fixtures/code/aiohttp_client.py");
        let out = compress("aiohttp/client.py", client, "In aiohttp's ClientSession, what is the default timeout, how many redirects are followed by default, and when does a redirect turn the request into a GET?");
        assert!(parses_cleanly(Lang::Python, &out), "{out}");
        let quoted = "        ...  # [… lines 604–1093; lines 742, 936, 943–960 on the question:\n        # while True:\n        #     …\n        #     if resp.status in (301, 302, 303, 307, 308) and allow_redirects:\n        #         …\n        #         redirects += 1\n";
        assert!(out.contains(quoted) && out.contains("\n        #             raise TooManyRedirects(\n"), "{out}");
        // Go holds a block's statements in a list.
        let flag = include_str!("../../../tests/fixtures/code/pflag_flag.go");
        let out = compress("flag.go", flag, "In pflag's flag.go, what happens when a single-dash shorthand that no flag defines is parsed? What about -h, and when unknown flags are whitelisted?");
        assert!(parses_cleanly(Lang::Go, &out), "{out}");
        assert!(out.contains("func (f *FlagSet) parseLongArg(s string, args []string, fn parseFunc) (a []string, err error) {\n\t// [… lines 960–968 …]\n\tflag, exists := f.formal[f.normalizeFlagName(name)]\n"), "{out}");
    }

    #[test]
    fn a_kept_function_keeps_the_first_paragraph_of_its_long_docstring() {
        // `build_connection_pool_key_attributes` is kept for its name: one line of code under
        // a 45-line docstring.
        let adapters = include_str!("../../../tests/fixtures/code/requests_adapters.py");
        let out = compress("src/requests/adapters.py", adapters, "In requests' HTTPAdapter, how many retries does it make by default and with what pool size?");
        assert!(parses_cleanly(Lang::Python, &out), "{out}");
        let kept = "        \"\"\"Build the PoolKey attributes used by urllib3 to return a connection.\n        [… lines 407–452 …]\n        \"\"\"\n        return _urllib3_request_context(request, verify, cert, self.poolmanager)\n";
        assert!(out.contains(kept), "{out}");
    }

    #[test]
    fn a_name_with_a_word_found_in_most_bodies_keeps_its_body() {
        // Every body retries; only one function is named for it, and its body holds the answer.
        let method = |name: &str| {
            format!("  {name}(request: Request): void {{\n    const retry = this.retry;\n    retry.count += 1;\n    this.log(request, retry);\n    this.queue.push(request);\n    this.flush();\n  }}\n\n")
        };
        let mut text = String::from("export class Client {\n");
        for name in ["send", "sendLater", "schedule", "record", "cancel", "drain"] {
            text.push_str(&method(name));
        }
        text.push_str("  shouldRetry(res: Response): boolean {\n    if (res.status === 408) return true;\n    if (res.status === 429) return true;\n    if (res.status >= 500) return true;\n    return false;\n  }\n}\n");
        let out = compress("client.ts", &text, "Which requests are retried?");
        assert!(out.contains("if (res.status === 429) return true;"), "{out}");
        assert!(!out.contains("this.queue.push(request);"), "bodies merely using the word go: {out}");
    }

    #[test]
    fn every_function_named_by_a_word_rare_in_names_keeps_its_body() {
        // `retry` is in most bodies of the OpenAI client and in three names: when to retry,
        // how to, and how long to wait are one function each.
        let client = include_str!("../../../tests/fixtures/code/openai_client.ts");
        let out = compress("src/client.ts", client, "When does the OpenAI Node client retry a failed request, and how long does it wait before the next attempt?");
        for line in ["if (response.status === 409) return true;", "const retryAfterMillisHeader = responseHeaders?.get('retry-after-ms');", "const maxRetryDelay = 8.0;"] {
            assert!(out.contains(line), "{line} lost:\n{out}");
        }
    }

    #[test]
    fn a_long_body_whose_whole_name_the_question_spells_out_stays() {
        // `MethodCalled` is 92 lines; "method" and "called" are in most bodies of testify's
        // mock.go, and the question says both.
        let mock = include_str!("../../../tests/fixtures/code/testify_mock.go");
        let question = "In testify's mock package, what happens when a mocked method is called more times than Once()/Times(n) allowed?";
        let out = compress("mock/mock.go", mock, question);
        assert!(out.contains("\tif call.Repeatability == 1 {\n\t\tcall.Repeatability = -1\n"), "{out}");
        // A long body named by one of the question's words alone still goes.
        assert!(!out.contains("\tfunctionPath := runtime.FuncForPC(pc).Name()"), "{out}");
    }

    #[test]
    fn long_runs_of_imports_off_the_question_are_one_note() {
        let client = include_str!("../../../tests/fixtures/code/openai_client.ts");
        let out = compress("src/client.ts", client, "How does the client build its Uploads?");
        // 130 lines of type imports from './resources/…' are one note; the imports naming the
        // question's word stay, whole.
        assert!(out.contains("// [… lines 32–161: 22 imports …]"), "{out}");
        assert!(!out.contains("ChatCompletionContentPartRefusal"), "{out}");
        assert!(out.contains("import * as Uploads from './core/uploads';"), "{out}");
        // A namespace's lists of re-exports are imports too.
        assert!(!out.contains("type VideoRemixParams as VideoRemixParams"), "{out}");
        // A short run stays: its note would cost as much as its lines.
        let short = "import { a } from './a';\nimport { b } from './b';\n\nexport function f() {\n  return a + b;\n}\n";
        let ctx = Context { query: "what is f?", file_path: Some("f.ts"), key: KEY, ..Context::default() };
        assert!(Code.compress(short, &ctx).is_none_or(|out| out.contains("import { b } from './b';")));
        // So are CommonJS requires.
        let fetch = include_str!("../../../tests/fixtures/code/undici_fetch_index.js");
        let out = compress("lib/web/fetch/index.js", fetch, "Which content codings does fetch decode?");
        assert!(out.contains("imports …]") && !out.contains("require('./response')"), "{out}");
    }

    #[test]
    fn functions_off_the_question_share_one_note_doc_comments_and_short_bodies_too() {
        let flag = include_str!("../../../tests/fixtures/code/pflag_flag.go");
        let out = compress("flag.go", flag, "In pflag's flag.go, what happens when a single-dash shorthand that no flag defines is parsed? What about -h, and when unknown flags are whitelisted?");
        assert!(parses_cleanly(Lang::Go, &out), "{out}");
        // `Name` and `SetOutput` are short bodies with one-line and two-line doc comments; the
        // others' bodies were elided: one note names all four.
        assert!(out.contains("\n// [… lines 258–299: functions Output, Name, SetOutput, VisitAll …]\n"), "{out}");
        assert!(!out.contains("// Name returns the name of the flag set."), "{out}");
        // A name with a question word stays, doc comment and all, short body or not.
        assert!(out.contains("// Parsed reports whether f.Parse has been called.\nfunc (f *FlagSet) Parsed() bool {\n\treturn f.parsed\n}"), "{out}");
        // So does a short body with a question word.
        assert!(out.contains("func (f *FlagSet) ShorthandLookup(name string) *Flag {\n\tif name == \"\" {"), "{out}");
    }

    #[test]
    fn a_run_of_lines_the_file_already_showed_is_a_note() {
        let result = "    /** The number of requests made to the model. */\n    num_model_requests: number;\n\n    /** The project the usage is grouped by, when grouped by project. */\n    project_id?: string | null;\n\n    /** The user the usage is grouped by, when grouped by user. */\n    user_id?: string | null;\n  }\n";
        let text = format!("export namespace Speech {{\n  export interface Result {{\n{result}}}\n\nexport namespace Embedding {{\n  export interface Result {{\n{result}}}\n");
        let out = compress("usage.ts", &text, "How is usage grouped?");
        assert!(parses_cleanly(Lang::TypeScript, &out), "{out}");
        assert_eq!(out.matches("num_model_requests: number;").count(), 1, "{out}");
        // The whole interface, its brackets balanced: the namespace around the note still closes.
        assert!(out.contains("export namespace Embedding {\n  // [… lines 15–24 as lines 2–11 …]\n}\n"), "{out}");
        assert!(out.contains("1 repeated run of lines"), "{out}");
    }

    #[test]
    fn a_doc_paragraph_naming_the_question_in_an_identifier_stays() {
        let text = "/// Sets how many of them run tasks.\n///\n/// Overrides the `APP_WORKER_THREADS` environment variable.\n///\n/// Panics when given zero, and logs a line to standard error for each change made to the pool size,\n/// so that operators can follow how the pool grows and shrinks over the life of the process.\npub fn set_pool(&mut self, n: usize) -> &mut Self {\n    assert!(n > 0);\n    self.n = n;\n    self.log();\n    self.touch();\n    self\n}\n";
        let out = compress("pool.rs", text, "How many worker threads are used?");
        assert!(out.contains("/// Overrides the `APP_WORKER_THREADS` environment variable."), "{out}");
        assert!(!out.contains("Panics when given zero"), "{out}");
    }

    #[test]
    fn python_standard_library() {
        let decoder = include_str!("../../../tests/fixtures/code/json_decoder.py");
        check(Lang::Python, "json/decoder.py", decoder, "What error does JSONDecoder raise on trailing data?", "    def decode(self, s, _w=WHITESPACE.match):", 0.6);
        let glob = include_str!("../../../tests/fixtures/code/glob.py");
        check(Lang::Python, "glob.py", glob, "How are magic characters escaped?", "def escape(pathname):", 0.6);
        let client = include_str!("../../../tests/fixtures/code/json_decoder.py");
        let out = compress("json/decoder.py", client, "");
        assert!(out.starts_with("\"\"\"Implementation of JSONDecoder\n"), "{out}");
        let out = compress("glob.py", glob, "");
        assert!(out.contains("    \"\"\"Return a list of paths matching a pathname pattern.\"\"\"\n"), "docstring first lines stay");
        assert!(out.contains("...  # [… lines "), "{out}");
    }

    #[test]
    fn rust_javascript_and_c_from_real_projects() {
        let chain = include_str!("../../../tests/fixtures/code/bytes_chain.rs");
        check(Lang::Rust, "src/buf/chain.rs", chain, "how does chunks_vectored fill the slices?", "    fn chunks_vectored<'a>", 0.7);
        // Long doc comments keep their summary line; their examples go behind a marker.
        let out = compress("src/buf/chain.rs", chain, "how does chunks_vectored fill the slices?");
        assert!(out.contains("/// A `Chain` sequences two buffers.\n/// [… lines 8–28 …]\n"), "{out}");
        assert!(!out.contains("let full: Bytes = buf.copy_to_bytes(11);"), "{out}");
        // Functions inside `cfg_rt! { … }` are functions: their bodies go like any other.
        let context = include_str!("../../../tests/fixtures/code/tokio_context.rs");
        check(Lang::Rust, "src/runtime/context.rs", context, "how is the scheduler set for a closure?", "    pub(super) fn set_scheduler<R>", 0.92);
        let out = compress("src/runtime/context.rs", context, "how is the scheduler set for a closure?");
        assert!(out.contains("pub(crate) fn defer(waker: &Waker) { /* [… lines "), "{out}");
        assert!(out.contains("cfg_rt! {\n"), "the macro stays as written: {out}");
        check(Lang::JavaScript, "lib/commands/config.js", include_str!("../../../tests/fixtures/code/npm_config.js"), "how does config edit open the editor?", "  async edit () {", 0.7);
        check(Lang::C, "src/tree.c", include_str!("../../../tests/fixtures/code/tree_sitter_tree.c"), "how is the root node with an offset computed?", "TSNode ts_tree_root_node_with_offset(", 0.9);
    }

    #[test]
    fn go_doc_comments_keep_their_summary_and_the_paragraphs_on_the_question() {
        let flag = include_str!("../../../tests/fixtures/code/pflag_flag.go");
        let out = compress("flag.go", flag, "Where is the usage message of a deprecated flag printed?");
        assert!(parses_cleanly(Lang::Go, &out), "{out}");
        assert!(out.len() * 10 < flag.len() * 7, "{} of {}", out.len(), flag.len());
        // An elided body takes the rest of its doc comment with it, under its own note.
        assert!(out.contains("// SetNormalizeFunc allows you to add a function which can translate flag names.\nfunc (f *FlagSet) SetNormalizeFunc("), "{out}");
        assert!(out.contains("NormalizedName) { /* [… lines 222–242 …] */ }"), "{out}");
        // A three-line licence header loses two lines: its note costs about one.
        assert!(out.starts_with("// Copyright 2009 The Go Authors. All rights reserved.\n// [… lines 2–3 …]\n"), "{out}");
        // The package comment keeps its summary and the paragraph that has the question's words.
        assert!(out.contains("/*\nPackage pflag is a drop-in replacement for Go's flag package, implementing\n"), "{out}");
        assert!(!out.contains("Integer flags accept 1234, 0664, 0x1234 and may be negative."), "{out}");
        assert!(out.contains("* [… lines 8–27, "), "{out}");
        // What the question is about stays.
        assert!(out.contains("flag.Deprecated") || out.contains("Deprecated          string"), "{out}");
        // A struct's fields stay; their comments, off the question, go behind one note.
        assert!(out.contains("type FlagSet struct {\n\tUsage func()\n"), "{out}");
        assert!(out.contains("\taddedGoFlagSets []*goflag.FlagSet\n} // [… comments in lines 139–148 …]\n"), "{out}");
        assert!(!out.contains("Usage is the function called when an error occurs"), "{out}");
    }

    #[test]
    fn a_function_held_by_a_class_field_is_named_by_the_field() {
        let chat = include_str!("../../../tests/fixtures/code/ai_chat.ts");
        let names = |text: &str| {
            let mut parser = Parser::new();
            parser.set_language(&Lang::TypeScript.grammar()).unwrap();
            let tree = parser.parse(text, None).unwrap();
            let mut functions = Vec::new();
            outermost_functions(tree.root_node(), Lang::TypeScript, text, &mut functions);
            functions.iter().map(|f| f.name.clone()).collect::<Vec<_>>()
        };
        let found = names(chat);
        // `regenerate = async (…) => {…}`, and `addToolOutput = async (…) => this.jobExecutor.run(async () => {…})`.
        for name in ["regenerate", "resumeStream", "clearError", "addToolOutput", "addToolApprovalResponse", "stop"] {
            assert!(found.iter().any(|f| f == name), "{name} not in {found:?}");
        }
        assert_eq!(names("const o = { parse: (s: string) => { return s; } };\nthis.run = function () { go(); };\n"), ["parse", "run"]);
        // Asked about one of them, its body stays.
        let out = compress("src/ui/chat.ts", chat, "After addToolOutput, when does the chat send the next request automatically?");
        let body = &out[out.find("  addToolOutput: ").unwrap()..];
        assert!(body[..body.find("  /** @deprecated").unwrap()].contains("const shouldSend = await this.shouldSendAutomatically();"), "{out}");
    }

    #[test]
    fn a_run_of_elided_functions_shares_one_note_naming_them() {
        let test = |name: &str| format!("    #[test]\n    fn {name}() {{\n{}    }}\n\n", long_body("x"));
        let tests: String = ["parses_empty", "parses_one", "parses_two", "parses_many"].iter().map(|n| test(n)).collect();
        let rust = format!("pub fn parse(s: &str) -> usize {{\n    s.len()\n}}\n\n#[cfg(test)]\nmod tests {{\n    use super::*;\n\n{tests}    #[test]\n    fn overflow_is_an_error() {{\n{}        assert!(parse(\"9999\") > 0);\n    }}\n}}\n", long_body("y"));
        let out = compress("src/parse.rs", &rust, "what happens on overflow?");
        assert!(parses_cleanly(Lang::Rust, &out), "{out}");
        assert!(out.contains("    // [… lines 9–71: functions parses_empty, parses_one, parses_two, parses_many …]\n\n    #[test]\n    fn overflow_is_an_error() {"), "{out}");
        // A numbered view keeps every signature.
        let omitted = omitted_lines(&rust, &Context { query: "what happens on overflow?", file_path: Some("src/parse.rs"), ..Context::default() }).unwrap();
        assert!(!omitted[8] && !omitted[9], "{omitted:?}");
    }

    #[test]
    fn functions_assigned_to_prototypes_under_jsdoc_a_line_above_form_a_run() {
        let method = |name: &str| format!("/**\n * Check {name}.\n *\n * @private\n */\n\nStream.prototype.{name} = function {name} () {{\n{}}}\n\n", long_body("s"));
        let methods: String = ["isCachable", "isFresh", "notModified", "hasTrailingSlash"].iter().map(|n| method(n)).collect();
        let js = format!("{methods}Stream.prototype.range = function range () {{\n  if (ranges === -1) return this.error(416)\n}}\n");
        let out = compress("index.js", &js, "when is a range answered with 416?");
        assert!(parses_cleanly(Lang::JavaScript, &out), "{out}");
        assert!(out.starts_with("// [… lines 1–"), "{out}");
        assert!(out.contains(": functions isCachable, isFresh, notModified, hasTrailingSlash …]\n\nStream.prototype.range = function range () {\n  if (ranges === -1)"), "{out}");
    }

    #[test]
    fn short_tests_off_the_question_join_a_run_and_stay_whole_alone() {
        let short = |name: &str, call: &str| format!("    #[test]\n    fn {name}() {{\n        assert_eq!({call}, 0);\n    }}\n\n");
        let run: String = ["empty", "blank", "spaces", "tabs"].iter().map(|n| short(n, &format!("parse(\"{n}\")"))).collect();
        let rust = format!(
            "pub fn parse(s: &str) -> usize {{\n    s.len()\n}}\n\n#[cfg(test)]\nmod tests {{\n    use super::*;\n\n{run}    #[test]\n    fn overflow_is_an_error() {{\n        assert_eq!(parse(\"9999\"), 4);\n    }}\n\n    fn helper() {{\n{}    }}\n\n{}}}\n",
            long_body("h"),
            short("alone", "parse(\"x\")")
        );
        let out = compress("src/parse.rs", &rust, "what happens on overflow?");
        assert!(parses_cleanly(Lang::Rust, &out), "{out}");
        // Four short tests in a row share one note; the one on the question stays.
        assert!(out.contains("    // [… lines 9–27: functions empty, blank, spaces, tabs …]\n\n    #[test]\n    fn overflow_is_an_error() {\n        assert_eq!(parse(\"9999\"), 4);"), "{out}");
        // A short test with no run to join costs less whole than as a note.
        assert!(out.contains("    fn alone() {\n        assert_eq!(parse(\"x\"), 0);\n    }"), "{out}");
    }

    #[test]
    fn member_comments_on_the_question_stay() {
        let flag = include_str!("../../../tests/fixtures/code/pflag_flag.go");
        let out = compress("flag.go", flag, "Which setting sorts the flags in help and usage messages?");
        assert!(out.contains("\t// SortFlags is used to indicate, if user wants to have sorted flags in\n\t// help/usage messages.\n\tSortFlags bool"), "{out}");
        assert!(!out.contains("ParseErrorsWhitelist is used to configure"), "{out}");
        assert!(parses_cleanly(Lang::Go, &out), "{out}");
    }

    #[test]
    fn a_long_body_kept_whole_has_its_own_functions_decided() {
        let inner = |name: &str| format!("  function {name}() {{\n{}  }}\n", (0..25).map(|i| format!("    {name}Step{i}();\n")).collect::<String>());
        let ts = format!("export function createParser(config: Config) {{\n  const state = {{}};\n{}{}{}  return {{ feed, reset, flush }};\n}}\n", inner("feed"), inner("reset"), inner("flush"));
        let out = compress("parse.ts", &ts, "what does createParser do on reset?");
        assert!(parses_cleanly(Lang::TypeScript, &out), "{out}");
        assert!(out.contains("resetStep24();") && out.contains("const state = {};"), "the function asked about stays: {out}");
        assert!(!out.contains("feedStep3();") && out.contains("function feed() { /* [… lines 3–29"), "{out}");
    }

    #[test]
    fn a_callback_a_long_method_wires_up_stays_when_no_body_is_about_the_question() {
        // Every method's words are the question's: only `socket.onclose = (e) => {…}`, nested
        // in the 104-line `_connectSocket`, answers it.
        let ts = include_str!("../../../tests/fixtures/code/rxjs_websocket_subject.ts");
        let out = compress("WebSocketSubject.ts", ts, "In rxjs's WebSocketSubject, what happens when the socket closes: when does the subject complete and when does it error?");
        assert!(parses_cleanly(Lang::TypeScript, &out), "{out}");
        assert!(out.contains("      if (e.wasClean) {\n        observer.complete();\n      } else {\n        observer.error(e);"), "{out}");
        // The method around it shows its own statements; of its other long callbacks, the one
        // closing the socket on an error stays, the others go.
        assert!(out.contains("    const subscription = new Subscription(() => { /* [… lines "), "{out}");
        assert!(out.contains("            socket!.close(err.code, err.reason);"), "{out}");
        assert!(out.contains("    socket.onmessage = (e: MessageEvent) => { /* [… lines 357–364"), "{out}");
        assert!(out.contains("  protected _subscribe(subscriber: Subscriber<T>): Subscription { /* [… lines "), "{out}");
    }

    #[test]
    fn a_word_in_many_names_does_not_keep_them_all_and_a_branch_label_can_hold_the_question() {
        // `parse` is in eight names of pflag's flag.go; the question is about one of them.
        let flag = include_str!("../../../tests/fixtures/code/pflag_flag.go");
        let out = compress("flag.go", flag, "What happens when a single-dash shorthand that no flag defines is parsed? What about -h, and when unknown flags are whitelisted?");
        assert!(parses_cleanly(Lang::Go, &out), "{out}");
        assert!(out.contains("\t\t\terr = f.failf(\"unknown shorthand flag: %q in -%s\", c, shorthands)"), "{out}");
        assert!(out.contains("func (f *FlagSet) parseArgs(args []string, fn parseFunc) (err error) { /* [… lines 1095–1124"), "{out}");
        // `whitelisted` is only in this branch's label among the kept body's branches.
        assert!(out.contains("\t\t\toutArgs = stripUnknownFlagValue(outArgs)"), "{out}");
    }

    #[test]
    fn a_word_in_most_paragraphs_of_a_doc_comment_keeps_none_of_them() {
        // `multiplex`'s comment says "WebSocketSubject", "error" and "completion" all through;
        // the question asks what closing does, not about `multiplex`.
        let ts = include_str!("../../../tests/fixtures/code/rxjs_websocket_subject.ts");
        let source: Vec<&str> = ts.split('\n').collect();
        let docs = doc_blocks::find(&source);
        let block = docs.iter().find(|b| source[b.summary].contains("Creates an {@link Observable}, that when subscribed to, sends a message,")).unwrap();
        // As the compressor asks: with the words that tell long comments apart.
        let long = docs.iter().filter(|b| b.lines.len() > LONG_DOC_COMMENT_LINES).map(|b| with_identifier_parts(&source[b.lines.clone()].join("\n")));
        let query = Query::new("In rxjs's WebSocketSubject, what happens when the socket closes: when does the subject complete and when does it error?").discriminative(long, 0.25);
        let kept: Vec<&str> = paragraphs_on_the_question(block, &source, &query).into_iter().map(|row| source[row]).collect();
        assert_eq!(kept, first_sentence(block, &source).map(|row| source[row]).collect::<Vec<_>>());
        assert!(!kept.iter().any(|line| line.contains("@param unsubMsg")), "{kept:?}");
    }

    #[test]
    fn an_example_import_naming_the_question_keeps_no_paragraph() {
        // Every example in rxjs's timeout.ts opens with `import { …, timeout } from 'rxjs';`.
        let ts = include_str!("../../../tests/fixtures/code/rxjs_timeout.ts");
        let out = compress("src/internal/operators/timeout.ts", ts, "In rxjs's timeout operator, when is the timer started again, and how is a Date given as `first` turned into a delay?");
        assert!(!out.contains(" * import { interval, timeout } from 'rxjs';"), "{out}");
        assert!(out.contains("each! > 0 && startTimer(each!);") && out.contains("+first - scheduler!.now()"), "{out}");
        assert!(example_import(" * import { interval, timeout } from 'rxjs';") && example_import("/// use bytes::BytesMut;"));
        assert!(!example_import(" * use this operator to fail a slow source."));
    }

    #[test]
    fn an_impl_holding_a_message_stays_out_of_a_run() {
        let error = include_str!("../../../tests/fixtures/code/toml_ser_error.rs");
        let out = compress("src/ser/error.rs", error, "Which Rust types can the TOML serializer not handle?");
        assert!(parses_cleanly(Lang::Rust, &out), "{out}");
        assert!(out.contains("        Self::new(\"an error occurred when writing a value\")\n"), "{out}");
        // The four impls after it hold no message: one note names them.
        assert!(out.contains("// [… lines 48–69: impl serde_core::ser::Error for Error; impl core::fmt::Display for Error; "), "{out}");
    }

    #[test]
    fn runs_of_rust_trait_boilerplate_off_the_question_share_one_note() {
        let bytes_mut = include_str!("../../../tests/fixtures/code/bytes_bytes_mut.rs");
        let out = compress("src/bytes_mut.rs", bytes_mut, "How does BytesMut hash its contents?");
        assert!(parses_cleanly(Lang::Rust, &out), "{out}");
        // The impl the question is about stays, and splits the run of those around it.
        assert!(out.contains("impl hash::Hash for BytesMut {\n    fn hash<H>(&self, state: &mut H)\n"), "{out}");
        assert!(out.contains("// [… lines 1397–1470: impl AsRef<[u8]> for BytesMut; impl Deref for BytesMut; "), "{out}");
        assert!(out.contains("; impl PartialOrd<BytesMut> for [u8]; "), "{out}");
        assert!(!out.contains("impl DerefMut for BytesMut {"), "{out}");
    }

    #[test]
    fn an_event_handler_name_holds_its_event() {
        assert!(name_words("onclose").contains(&fold("close")));
        assert!(name_words("onMessage").contains(&fold("message")), "a camel-case name splits as any identifier");
        assert_eq!(name_words("once"), identifier_parts("once"), "`on` and two letters is a word, not a handler");
    }

    #[test]
    fn a_body_far_better_on_the_question_than_the_one_its_name_picks_stays_too() {
        // `abort()` is named by a word of the question; the iterator's handlers answer it.
        let ts = include_str!("../../../tests/fixtures/code/anthropic_message_stream.ts");
        let out = compress("MessageStream.ts", ts, "When iterating a message stream with for await, what happens to pending readers when the stream is aborted?");
        assert!(parses_cleanly(Lang::TypeScript, &out), "{out}");
        assert!(out.contains("    this.on('abort', (err) => {\n      done = true;\n      for (const reader of readQueue) {\n        reader.reject(err);"), "{out}");
        assert!(out.contains("  abort() {\n"), "{out}");
    }

    #[test]
    fn the_long_branches_of_a_kept_switch_off_the_question_are_elided() {
        let ts = include_str!("../../../tests/fixtures/code/ai_process_ui_message_stream.ts");
        let out = compress("process-ui-message-stream.ts", ts, "When a tool-input-error chunk arrives, which state does the tool part get?");
        assert!(parses_cleanly(Lang::TypeScript, &out), "{out}");
        // The case asked about stays whole; every other label stays, its statements behind a note.
        assert!(out.contains("            case 'tool-input-error': {\n              // When a part already exists"), "{out}");
        assert!(out.contains("                  state: 'output-error',\n                  input: undefined,"), "{out}");
        assert!(out.contains("            case 'text-start': /* [… lines 474–484 …] */\n"), "{out}");
        let labels = |text: &str| text.lines().filter(|l| l.trim_start().starts_with("case '")).count();
        assert_eq!(labels(&out), labels(ts), "{out}");
        assert!(!out.contains("Received text-delta for missing text part"), "{out}");
    }

    #[test]
    fn the_long_arms_of_a_kept_match_off_the_question_are_elided() {
        let arm = |name: &str| format!("        Event::{name} => {{\n{}        }}\n", (0..8).map(|i| format!("            {}_{i}(state);\n", name.to_lowercase())).collect::<String>());
        let arms: String = ["Open", "Read", "Close", "Reset"].iter().map(|n| arm(n)).collect();
        let rs = format!("pub fn handle(state: &mut State, event: Event) {{\n{}    match event {{\n{arms}        Event::Idle => {{}}\n    }}\n}}\n", "    prepare(state);\n".repeat(30));
        let out = compress("events.rs", &rs, "what does handle do when the connection is reset?");
        assert!(parses_cleanly(Lang::Rust, &out), "{out}");
        assert!(out.contains("reset_7(state);"), "{out}");
        assert!(out.contains("        Event::Open => { /* [… lines 34–42 …] */ }\n") && !out.contains("open_0("), "{out}");
        assert!(out.contains("Event::Idle => {}"), "{out}");
    }

    #[test]
    fn grouped_java_labels_all_stay_before_their_elided_statements() {
        let case = |labels: &str, name: &str| format!("      {labels}\n{}        break;\n", (0..7).map(|i| format!("        {name}{i}(state);\n")).collect::<String>());
        let java = format!(
            "class Handler {{\n  void handle(State state, int event) {{\n{}    switch (event) {{\n{}{}    }}\n  }}\n}}\n",
            "    prepare(state);\n".repeat(60),
            case("case OPEN: case REOPEN:", "open"),
            case("case RESET:", "reset")
        );
        let out = compress("Handler.java", &java, "what does handle do on a reset event?");
        assert!(parses_cleanly(Lang::Java, &out), "{out}");
        assert!(out.contains("      case OPEN: case REOPEN:\n        /* [… lines 65–72 …] */\n      case RESET:\n"), "{out}");
        assert!(out.contains("reset6(state);"), "{out}");
    }

    #[test]
    fn a_doc_comment_of_one_or_two_lines_of_text_is_written_on_one_line() {
        let ts = format!(
            "export type Options = {{\n  /**\n   * Headers sent with every request.\n   */\n  headers?: Headers;\n  /**\n   * Seconds to wait for the server before giving up,\n   * for each attempt.\n   */\n  timeout?: number;\n  /**\n   * ```ts\n   * send({{}})\n   * ```\n   */\n  example?: string;\n}};\nexport function send(o: object) {{\n{}  return 1;\n}}\n",
            long_body("a")
        );
        let out = compress("send.ts", &ts, "what do the Options hold?");
        assert!(parses_cleanly(Lang::TypeScript, &out), "{out}");
        assert!(out.contains("  /** Headers sent with every request. */\n  headers?: Headers;"), "{out}");
        assert!(out.contains("  /** Seconds to wait for the server before giving up, for each attempt. */\n  timeout?: number;"), "{out}");
        assert!(!out.contains("/** ```ts"), "an example is never joined: {out}");
        // Nothing was left out of it: a numbered view keeps its lines.
        let omitted = omitted_lines(&ts, &Context { query: "what do the Options hold?", file_path: Some("send.ts"), ..Context::default() }).unwrap();
        assert!(!omitted[1..10].contains(&true) && omitted[19], "{omitted:?}");
    }

    fn long_body(lang: &str) -> String {
        (0..12).map(|i| format!("  {lang}step{i}();\n")).collect()
    }

    #[test]
    fn typescript_go_java_and_cpp_snippets() {
        let ts = format!("import {{ x }} from './x';\ninterface Opts {{ depth: number }}\nexport class Walker {{\n  private seen: Set<string> = new Set();\n  walk(o: Opts): number {{\n{}  return 1;\n  }}\n}}\nexport function resolvePath(p: string): string {{\n{}  return p;\n}}\n", long_body("a"), long_body("b"));
        let out = compress("walk.ts", &ts, "how is a path resolved?");
        assert!(parses_cleanly(Lang::TypeScript, &out), "{out}");
        assert!(out.contains("bstep11") && !out.contains("astep11") && out.contains("private seen: Set<string>"), "{out}");

        let go = format!("package walk\n\nimport \"fmt\"\n\ntype Walker struct {{\n\tDepth int\n}}\n\nfunc (w *Walker) Walk() int {{\n{}\treturn 1\n}}\n\nfunc Resolve(p string) string {{\n{}\treturn p\n}}\n", long_body("a"), long_body("b"));
        let out = compress("walk.go", &go, "resolve");
        assert!(parses_cleanly(Lang::Go, &out) && out.contains("bstep11") && !out.contains("astep11") && out.contains("Depth int"), "{out}");

        let java = format!("import java.util.List;\n\npublic class Walker {{\n  static final int MAX = 3;\n  public int walk(List<String> xs) {{\n{}    return 1;\n  }}\n  public String resolve(String p) {{\n{}    return p;\n  }}\n}}\n", long_body("a"), long_body("b"));
        let out = compress("Walker.java", &java, "resolve");
        assert!(parses_cleanly(Lang::Java, &out) && out.contains("bstep11") && !out.contains("astep11") && out.contains("MAX = 3"), "{out}");

        let cpp = format!("#include <string>\n\nnamespace w {{\nclass Walker {{\n public:\n  int depth = 0;\n  int walk();\n}};\nint Walker::walk() {{\n{}  return 1;\n}}\nstd::string resolve(const std::string& p) {{\n{}  return p;\n}}\n}}\n", long_body("a"), long_body("b"));
        let out = compress("walk.cpp", &cpp, "resolve");
        assert!(parses_cleanly(Lang::Cpp, &out) && out.contains("bstep11") && !out.contains("astep11") && out.contains("int Walker::walk() { /* [… lines "), "{out}");
    }

    #[test]
    fn languages_are_told_apart_without_a_path() {
        assert_eq!(Lang::from_content(include_str!("../../../tests/fixtures/code/glob.py")), Some(Lang::Python));
        assert_eq!(Lang::from_content(include_str!("../../../tests/fixtures/code/bytes_chain.rs")), Some(Lang::Rust));
        assert_eq!(Lang::from_content(include_str!("../../../tests/fixtures/code/tree_sitter_tree.c")), Some(Lang::C));
        assert_eq!(Lang::from_content(include_str!("../../../tests/fixtures/logs/HDFS_2k.log")), None);
        assert_eq!(Lang::from_content(include_str!("../../../tests/fixtures/logs/LICENSE-loghub")), None);
    }

    #[test]
    fn a_file_that_does_not_parse_passes_through() {
        let broken = format!("def f(:\n{}", "    x = (((\n".repeat(50));
        assert_eq!(Code.compress(&broken, &Context { file_path: Some("x.py"), key: KEY, ..Context::default() }), None);
    }

    #[test]
    fn parsing_the_skeleton_first_changes_nothing_in_the_output() {
        let body = long_body("x");
        let cases = [
            ("json/decoder.py", include_str!("../../../tests/fixtures/code/json_decoder.py").to_string(), "trailing data"),
            ("glob.py", include_str!("../../../tests/fixtures/code/glob.py").to_string(), "magic characters"),
            ("src/buf/chain.rs", include_str!("../../../tests/fixtures/code/bytes_chain.rs").to_string(), "chunks_vectored"),
            ("config.js", include_str!("../../../tests/fixtures/code/npm_config.js").to_string(), "editor"),
            ("tree.c", include_str!("../../../tests/fixtures/code/tree_sitter_tree.c").to_string(), "root node offset"),
            ("a.ts", format!("export class A {{\n  run(): number {{\n{body}    return 1;\n  }}\n}}\n"), ""),
            ("a.go", format!("package a\n\nfunc (w *W) Run() int {{\n{body}\treturn 1\n}}\n"), ""),
            ("A.java", format!("class A {{\n  int run() throws E {{\n{body}    return 1;\n  }}\n}}\n"), ""),
            ("a.cpp", format!("namespace n {{\nint W::run() const {{\n{body}  return 1;\n}}\n}}\n"), ""),
        ];
        for (path, text, query) in cases {
            let ctx = Context { query, file_path: Some(path), key: KEY, ..Context::default() };
            let lang = Lang::from_path(path).unwrap();
            let mut parser = Parser::new();
            parser.set_language(&lang.grammar()).unwrap();
            let (_, _, skimmed) = parse(&mut parser, lang, &text, true).unwrap();
            assert!(skimmed, "{path}: the skeleton parses cleanly");
            assert_eq!(compress_with(&text, &ctx, true), compress_with(&text, &ctx, false), "{path}");
        }
    }

}
