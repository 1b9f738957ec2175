//! A fast first look at a source file: where its function bodies are, found by a scanner that
//! knows the language's comments, strings and brackets but not its grammar. The code compressor
//! blanks those bodies before tree-sitter parses the file, so the parser reads the skeleton — a fraction of the tokens — and every offset and line number in
//! its tree is still the original's.
//!
//! The scanner may be wrong (a literal it does not know, a macro); a blanked file that does not
//! parse cleanly is then parsed whole, so a mistake costs time, never correctness.

use super::lang::Lang;
use std::ops::Range;

/// A source file with the insides of its outermost function bodies blanked: same length, so
/// offsets are the original's. A brace-language body becomes one block comment; a Python body
/// keeps its line breaks and its docstring, or a `0` where its first statement began, because a
/// Python block cannot be empty.
pub struct Skeleton {
    pub text: String,
    /// Where each blanked Python body really ends in the original (its last non-blank byte):
    /// the parser's block ends at the docstring or the `0` left in it.
    pub python_ends: Vec<usize>,
}

/// The skeleton of a file, or `None` when no function body was found.
pub fn skeleton(lang: Lang, text: &str) -> Option<Skeleton> {
    let bodies = match lang {
        Lang::Python => python_bodies(text),
        _ => brace_bodies(lang, text).into_iter().map(|r| (r, false)).collect(),
    };
    if bodies.is_empty() {
        return None;
    }
    let python_ends = match lang {
        Lang::Python => bodies.iter().map(|(r, _)| r.start + text[r.clone()].trim_end().len()).collect(),
        _ => Vec::new(),
    };
    let mut out = text.as_bytes().to_vec();
    for (body, zero) in bodies {
        let (start, end) = (body.start, body.end);
        for b in &mut out[body] {
            if *b != b'\n' || lang != Lang::Python {
                *b = b' ';
            }
        }
        if zero {
            out[start] = b'0';
        }
        // One comment token lexes faster than a run of whitespace; brace languages need no line
        // breaks from the tree (lines are counted in the original).
        if lang != Lang::Python && end - start >= 4 {
            out[start..start + 2].copy_from_slice(b"/*");
            out[end - 2..end].copy_from_slice(b"*/");
        }
    }
    // Blanking whole UTF-8 sequences, and only them, keeps the text valid UTF-8.
    Some(Skeleton { text: String::from_utf8(out).ok()?, python_ends })
}

/// Words that open a declaration whose braces hold members, not statements.
const CONTAINERS: [&str; 12] =
    ["impl", "trait", "struct", "enum", "mod", "class", "interface", "namespace", "union", "extern", "record", "object"];

/// What an open brace was.
#[derive(PartialEq)]
enum Open {
    /// An outermost function body; its inside is blanked.
    Body,
    /// Any other brace.
    Other,
    /// `${` in a template literal: its `}` resumes the template.
    Interpolation,
}

/// The insides of outermost function bodies in a brace language — a `{` whose item head (the
/// text since the last `;`, `{` or `}`) has a parameter list, no container keyword, and no
/// `=` unless it defines a function (`= function (…) {`, `(…) => {`) — and the comments outside
/// them, in order.
fn brace_bodies(lang: Lang, text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let script = matches!(lang, Lang::JavaScript | Lang::TypeScript | Lang::Tsx);
    let mut bodies = Vec::new();
    let mut opens: Vec<(usize, Open)> = Vec::new();
    let mut in_body = false;
    let mut item_start = 0;
    let mut prev = b';'; // the last significant byte, for telling regexes from division
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        match c {
            b'/' if next == b'/' || next == b'*' => {
                let end = if next == b'/' { line_end(bytes, i) } else { find(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2) };
                // Comments between items are blanked too: the parser has no use for them, and
                // the next item's head starts after them (doc comments hold example code).
                if !in_body {
                    bodies.push(i..end);
                    item_start = end;
                }
                i = end;
                continue;
            }
            // A Rust attribute is not part of the item head (`#[cfg(feature = "std")]`).
            b'#' if lang == Lang::Rust && (next == b'[' || (next == b'!' && bytes.get(i + 2) == Some(&b'['))) => {
                i = find(bytes, i, b"]").map_or(bytes.len(), |e| e + 1);
                item_start = i;
                continue;
            }
            b'#' if matches!(lang, Lang::C | Lang::Cpp) && at_line_start(bytes, i) => {
                i = directive_end(bytes, i);
                item_start = i;
                continue;
            }
            b'"' => {
                i = quoted_end(bytes, i, b'"');
                prev = b'"';
                continue;
            }
            b'\'' if script => {
                i = quoted_end(bytes, i, b'\'');
                prev = b'"';
                continue;
            }
            b'\'' => {
                i = char_literal_end(bytes, i);
                prev = b'"';
                continue;
            }
            b'`' if lang == Lang::Go => {
                i = find(bytes, i + 1, b"`").map_or(bytes.len(), |e| e + 1);
                prev = b'"';
                continue;
            }
            b'`' if script => {
                match template_end(bytes, i + 1) {
                    (end, true) => {
                        opens.push((end - 2, Open::Interpolation));
                        i = end;
                    }
                    (end, false) => i = end,
                }
                prev = b'"';
                continue;
            }
            b'/' if script && b"(,=:[!&|?{};+-*%<>~^".contains(&prev) => {
                if let Some(end) = regex_end(bytes, i) {
                    i = end;
                    prev = b'"';
                    continue;
                }
            }
            b'r' | b'b' if lang == Lang::Rust && !is_word(bytes, i.wrapping_sub(1)) => {
                if let Some(end) = rust_raw_string_end(bytes, i) {
                    i = end;
                    prev = b'"';
                    continue;
                }
            }
            b'{' => {
                let head = &text[item_start..i];
                let skipped = looks_like_body(head, script) || holds_no_functions(lang, head);
                let kind = if !in_body && skipped { Open::Body } else { Open::Other };
                if kind == Open::Body {
                    in_body = true;
                }
                opens.push((i, kind));
                item_start = i + 1;
            }
            b'}' => {
                match opens.pop() {
                    Some((start, Open::Body)) => {
                        in_body = false;
                        bodies.push(start + 1..i);
                    }
                    Some((_, Open::Interpolation)) => {
                        let (end, again) = template_end(bytes, i + 1);
                        if again {
                            opens.push((end - 2, Open::Interpolation));
                        }
                        i = end;
                        prev = b'"';
                        continue;
                    }
                    _ => {}
                }
                item_start = i + 1;
            }
            b';' => item_start = i + 1,
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            prev = c;
        }
        i += 1;
    }
    bodies
}

/// Whether braces after this head can hold no function, so the parser may skip them too: the
/// fields of a Rust, Go or C `struct`/`enum`/`union` (C++ structs have methods).
fn holds_no_functions(lang: Lang, head: &str) -> bool {
    matches!(lang, Lang::Rust | Lang::Go | Lang::C)
        && head.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| matches!(w, "struct" | "enum" | "union"))
        && !head.contains("impl")
}

/// Whether an item head (`pub fn f(x: u8) -> u8 `) introduces a function body. In JavaScript
/// and TypeScript a `=` outside parentheses means an initializer (`x = {…}`) unless a function
/// is being assigned.
fn looks_like_body(head: &str, script: bool) -> bool {
    if !head.contains(')') {
        return false;
    }
    let words = head.split(|c: char| !(c.is_alphanumeric() || c == '_'));
    if words.clone().any(|w| CONTAINERS.contains(&w)) {
        return false;
    }
    if !script {
        return true;
    }
    let mut depth = 0i32;
    let assigns = head.char_indices().any(|(at, c)| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        c == '=' && depth == 0 && !head[at..].starts_with("=>") && !head[at..].starts_with("==") && !head[..at].ends_with(['=', '!', '<', '>'])
    });
    !assigns || head.contains("=>") || words.clone().any(|w| w == "function")
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    find(bytes, from, b"\n").unwrap_or(bytes.len())
}

fn is_word(bytes: &[u8], at: usize) -> bool {
    bytes.get(at).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

fn at_line_start(bytes: &[u8], at: usize) -> bool {
    bytes[..at].iter().rev().take_while(|b| **b != b'\n').all(|b| *b == b' ' || *b == b'\t')
}

/// The end of a preprocessor directive, line continuations included.
fn directive_end(bytes: &[u8], mut at: usize) -> usize {
    loop {
        let end = line_end(bytes, at);
        if end > 0 && bytes[end - 1] == b'\\' && end < bytes.len() {
            at = end + 1;
        } else {
            return end;
        }
    }
}

/// Just past the closing `quote` of a literal opened at `open`, backslash escapes honoured.
fn quoted_end(bytes: &[u8], open: usize, quote: u8) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Past a character literal (`'x'`, `'\n'`, `'\u{1F600}'`); past the `'` alone for a Rust
/// lifetime or label.
fn char_literal_end(bytes: &[u8], open: usize) -> usize {
    if bytes.get(open + 1) == Some(&b'\\') {
        return find(bytes, open + 2, b"'").filter(|&e| e - open <= 12).map_or(open + 1, |e| e + 1);
    }
    let width = match bytes.get(open + 1) {
        Some(b) if *b < 0x80 => 1,
        Some(b) if *b >= 0xF0 => 4,
        Some(b) if *b >= 0xE0 => 3,
        Some(_) => 2,
        None => return open + 1,
    };
    if bytes.get(open + 1 + width) == Some(&b'\'') {
        open + 2 + width
    } else {
        open + 1
    }
}

/// Scans a template literal from just after its backtick (or after an interpolation's `}`):
/// where scanning stops, and whether it stopped at a `${` (true) rather than the closing
/// backtick.
fn template_end(bytes: &[u8], mut i: usize) -> (usize, bool) {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => return (i + 1, false),
            b'$' if bytes.get(i + 1) == Some(&b'{') => return (i + 2, true),
            _ => i += 1,
        }
    }
    (bytes.len(), false)
}

/// Past a regular-expression literal starting at `open`, or `None` when the line has no closing
/// slash (so it was division after all).
fn regex_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    let mut class = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => return None,
            b'\\' => i += 1,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Past a Rust raw (byte) string `r#"…"#` / `br"…"` starting at `at`, if one starts there.
fn rust_raw_string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    if bytes[i] == b'b' {
        i += 1;
    }
    if bytes.get(i) != Some(&b'r') {
        return None;
    }
    i += 1;
    let hashes = bytes[i..].iter().take_while(|b| **b == b'#').count();
    if bytes.get(i + hashes) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    find(bytes, i + hashes + 1, &close).map(|e| e + close.len()).or(Some(bytes.len()))
}

/// Python function bodies: after a `def` header ending in `:` at bracket depth 0, the lines
/// indented deeper than the `def`. A body with a docstring is blanked after it; one without is
/// blanked from its first statement, whose first byte becomes `0` (marked `true`).
fn python_bodies(text: &str) -> Vec<(Range<usize>, bool)> {
    let lines = python_lines(text.as_bytes());
    let mut bodies = Vec::new();
    let mut l = 0;
    while l < lines.len() {
        let line = &lines[l];
        let head = &text[line.code_start..line.end];
        if !line.logical_start || !(head.starts_with("def ") || head.starts_with("async def ")) {
            l += 1;
            continue;
        }
        // The header may span lines (open brackets); it ends at the logical line's end.
        let mut last = l;
        while last + 1 < lines.len() && !lines[last + 1].logical_start {
            last += 1;
        }
        if !text[..lines[last].end].trim_end().ends_with(':') {
            l = last + 1; // a one-line `def f(): return 1`, or a comment after the colon
            continue;
        }
        let mut end = last + 1;
        while end < lines.len() && (!lines[end].logical_start || lines[end].blank || lines[end].indent > line.indent) {
            end += 1;
        }
        // Comment lines after the last statement are not the body's (they may be at any indent).
        let Some(last_code) = (last + 1..end).rev().find(|&b| !lines[b].blank) else {
            l = end;
            continue;
        };
        let body_end = lines[last_code].end;
        if let Some(first) = (last + 1..end).find(|&b| lines[b].logical_start && !lines[b].blank) {
            let code = lines[first].code_start;
            if string_starts(&text[code..]) {
                // The docstring runs to the start of the next logical line.
                let after = (first + 1..end).find(|&b| lines[b].logical_start).map_or(body_end, |next| lines[next].start);
                if after < body_end {
                    bodies.push((after..body_end, false));
                }
            } else {
                bodies.push((code..body_end, true));
            }
        }
        l = end;
    }
    bodies
}

/// Whether Python source starts with a string literal (prefixes such as `r`, `b`, `f` allowed).
fn string_starts(code: &str) -> bool {
    code.trim_start_matches(|c: char| "rRuUbBfF".contains(c)).starts_with(['"', '\'']) && code.len() - code.trim_start_matches(|c: char| "rRuUbBfF".contains(c)).len() <= 2
}

/// A physical line of Python source, with what the scanner learned about it.
struct PyLine {
    start: usize,
    /// Where its code begins (after the indentation).
    code_start: usize,
    end: usize,
    indent: usize,
    /// It begins a logical line (not inside brackets, a string or after a backslash).
    logical_start: bool,
    /// Only whitespace or a comment.
    blank: bool,
}

/// Splits Python source into lines, following brackets, strings (all prefixes, triple quotes)
/// and comments so continuation lines are known.
fn python_lines(bytes: &[u8]) -> Vec<PyLine> {
    let mut lines = Vec::new();
    let mut depth = 0usize;
    let mut string: Option<(u8, bool, bool)> = None; // quote, triple, raw
    let mut continued = false;
    let mut start = 0;
    while start < bytes.len() {
        let end = line_end(bytes, start);
        let logical_start = depth == 0 && string.is_none() && !continued;
        let indent = bytes[start..end].iter().take_while(|b| **b == b' ' || **b == b'\t').count();
        let code_start = start + indent;
        let blank = logical_start && (code_start == end || bytes[code_start] == b'#' || bytes[code_start] == b'\r');
        continued = false;
        let mut i = start;
        while i < end {
            let c = bytes[i];
            if let Some((quote, triple, raw)) = string {
                if c == b'\\' && !raw {
                    i += 2;
                    continue;
                }
                if c == quote && (!triple || bytes[i..].starts_with(&[quote; 3])) {
                    string = None;
                    i += if triple { 3 } else { 1 };
                    continue;
                }
                if c == b'\\' {
                    i += 2;
                    continue;
                }
                i += 1;
                continue;
            }
            match c {
                b'#' => break,
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                b'\\' if i + 1 == end => continued = true,
                b'"' | b'\'' => {
                    let prefix = bytes[start..i].iter().rev().take_while(|b| b.is_ascii_alphabetic()).count();
                    let raw = bytes[i - prefix..i].iter().any(|b| *b == b'r' || *b == b'R');
                    let triple = bytes[i..].starts_with(&[c; 3]);
                    string = Some((c, triple, raw));
                    i += if triple { 3 } else { 1 };
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        // A one-quote string does not run past its line, unless a backslash ends the line.
        if matches!(string, Some((_, false, _))) && !(end > start && bytes[end - 1] == b'\\') {
            string = None;
        }
        lines.push(PyLine { start, code_start, end, indent, logical_start, blank });
        start = end + 1;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brace_bodies_are_blanked_and_declarations_are_not() {
        let rust = "struct S { a: u8 }\nimpl S where S: Fn(u8) {\n    fn f(&self) -> u8 {\n        let c = '}'; let s = r#\"}\"#; 'outer: loop { break 'outer; }\n        1\n    }\n}\n";
        let kept = |lang, text: &str| {
            let out = skeleton(lang, text).expect("bodies found").text;
            assert_eq!(out.len(), text.len());
            out
        };
        let out = kept(Lang::Rust, rust);
        assert!(out.contains("struct S {") && out.contains("impl S where S: Fn(u8) {") && out.contains("fn f(&self) -> u8 {"), "{out}");
        assert!(!out.contains("let c") && !out.contains("a: u8"), "bodies and fields are skipped: {out}");

        let js = "const re = /[}]/g;\nconst f = (a) => {\n  return `x${ {a}.a }}`;\n};\nclass A {\n  m(x) { return '}' + x; }\n}\nconst o = { k: 1 };\n";
        let out = kept(Lang::JavaScript, js);
        assert!(out.contains("class A {") && out.contains("m(x) {") && out.contains("const o = { k: 1 };"), "{out}");
        assert!(!out.contains("return"), "{out}");
    }

    #[test]
    fn python_bodies_keep_their_docstring_or_become_zero() {
        let py = "import os\n\nclass A:\n    x = {'a': 1}\n\n    def f(self, a=(1,\n              2)):\n        \"\"\"Doc.\n\n        More.\"\"\"\n        return a\n\n    async def g(self):\n        s = '''\n  dedented\n'''\n        return s\n\ndef h(): return 1\n";
        let Skeleton { text: out, python_ends: ends } = skeleton(Lang::Python, py).unwrap();
        assert_eq!(ends.iter().map(|&e| &py[e - 8..e]).collect::<Vec<_>>(), ["return a", "return s"]);
        assert_eq!(out.len(), py.len());
        assert!(out.contains("\"\"\"Doc.\n\n        More.\"\"\"") && !out.contains("return a"), "{out}");
        assert!(out.contains("        0") && !out.contains("dedented") && !out.contains("return s"), "{out}");
        assert!(out.contains("x = {'a': 1}") && out.contains("def h(): return 1"), "{out}");
    }

}