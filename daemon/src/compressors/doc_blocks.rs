//! Documentation and comment blocks in source code: Python docstrings, `/** … */` and `/* … */`
//! comments (Java, JS, TS, C, Go's package documentation), runs of `///` or `//!` lines (Rust, C#) and runs of two or more
//! `# ` or `// ` comment lines. A block's first line of text is its summary; the rest
//! (parameters, examples, notes) is prose a reader skips until they need it, and it is often a
//! third of a well-documented file.

use std::ops::Range;

/// One documentation block: the lines it spans, and the line holding its summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocBlock {
    /// Indices of the block's lines in the lines given to [`find`].
    pub lines: Range<usize>,
    /// The index of the block's first line with text (not only its opening quote or `/**`).
    pub summary: usize,
}

/// The quote a Python docstring opens with, when `code` (trimmed) opens one.
fn docstring_quote(code: &str) -> Option<&'static str> {
    let code = code.strip_prefix(['r', 'R', 'u', 'U']).unwrap_or(code);
    ["\"\"\"", "'''"].into_iter().find(|q| code.starts_with(q))
}

/// The kind of line comment a trimmed line is, if it is one: `///` and `//!` documentation,
/// `//` or `#` comments. `#include`, `#[derive]` and `#!` are code, not comments.
fn line_comment(code: &str) -> Option<&'static str> {
    if code.starts_with("///") || code.starts_with("//!") {
        Some("///")
    } else if code == "//" || code.starts_with("// ") {
        Some("//")
    } else if code == "#" || code.starts_with("# ") {
        Some("#")
    } else {
        None
    }
}

/// Whether a trimmed line is nothing but a block's opening or closing (`"""`, `/**`, `*/`, `*`).
pub fn bare(code: &str) -> bool {
    let rest = code.trim_start_matches(['r', 'R', 'u', 'U']);
    ["\"\"\"", "'''", "/**", "/*", "*/", "*", "///", "//!"].contains(&rest)
}

/// The documentation blocks of `codes` (one entry per source line, without line numbers), in
/// order. A Python docstring counts only where a docstring can stand: first in the file or right
/// after a line ending in `:` (a `def` or `class`), comments aside; a string that merely starts
/// a line elsewhere (an argument, data) is code.
pub fn find(codes: &[&str]) -> Vec<DocBlock> {
    let mut blocks = Vec::new();
    let mut previous: Option<&str> = None; // the last line of code before this one
    let mut i = 0;
    while i < codes.len() {
        let code = codes[i].trim();
        let end = if let Some(quote) = docstring_quote(code).filter(|_| previous.is_none_or(|p| p.ends_with(':'))) {
            let after_open = &code[code.find(quote).expect("opens") + 3..];
            if after_open.contains(quote) {
                None // one line: nothing to shorten
            } else {
                (i + 1..codes.len()).find(|&j| codes[j].contains(quote))
            }
        } else if code.starts_with("/*") && !code.contains("*/") {
            (i + 1..codes.len()).find(|&j| codes[j].contains("*/"))
        } else if let Some(kind) = line_comment(code) {
            let last = (i..codes.len()).take_while(|&j| line_comment(codes[j].trim()) == Some(kind)).last();
            last.filter(|&j| j > i)
        } else {
            None
        };
        match end {
            Some(end) => {
                let lines = i..end + 1;
                let summary = lines.clone().find(|&j| !bare(codes[j].trim()) && !codes[j].trim().is_empty()).unwrap_or(i);
                blocks.push(DocBlock { lines, summary });
                if line_comment(code).is_none() {
                    previous = Some(codes[end].trim());
                }
                i = end + 1;
            }
            None => {
                if !code.is_empty() && line_comment(code).is_none() {
                    previous = Some(code);
                }
                i += 1;
            }
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(source: &str) -> Vec<(Range<usize>, usize)> {
        let codes: Vec<&str> = source.lines().collect();
        find(&codes).into_iter().map(|b| (b.lines, b.summary)).collect()
    }

    #[test]
    fn python_docstrings_after_a_def_or_first_in_the_file_are_blocks() {
        let source = "# licence\n# (c) us\n\"\"\"\nModule summary.\n\nMore.\n\"\"\"\nimport os\n\ndef f(x):\n    \"\"\"Return x.\n\n    Args: x\n    \"\"\"\n    return x\n";
        assert_eq!(blocks(source), vec![(0..2, 0), (2..7, 3), (10..14, 10)]);
    }

    #[test]
    fn a_string_that_starts_a_line_inside_a_call_is_code() {
        let source = "query = run(\n    \"\"\"\n    SELECT 1\n    \"\"\",\n)\n";
        assert_eq!(blocks(source), vec![]);
    }

    #[test]
    fn one_line_docstrings_are_left_alone() {
        assert_eq!(blocks("def f():\n    '''Short.'''\n    return 1\n"), vec![]);
    }

    #[test]
    fn javadoc_and_rust_doc_comments_are_blocks() {
        let source = "/**\n * Adds.\n * @param a\n */\nint add(int a);\n/// Sums.\n///\n/// # Examples\nfn sum() {}\n// plain\n";
        assert_eq!(blocks(source), vec![(0..4, 1), (5..8, 5)]);
    }

    #[test]
    fn plain_block_comments_are_blocks() {
        let source = "/*\nPackage flag parses flags.\n\nUsage: …\n*/\npackage flag\n/* one line */\n";
        assert_eq!(blocks(source), vec![(0..5, 1)]);
    }

    #[test]
    fn runs_of_comment_lines_are_blocks_and_preprocessor_lines_are_not() {
        let source = "# one\n# two\nx = 1\n# alone\n#include <a.h>\n#include <b.h>\n// a\n// b\n";
        assert_eq!(blocks(source), vec![(0..2, 0), (6..8, 6)]);
    }
}
