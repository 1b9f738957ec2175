//! A JSON reader that remembers where every value sits in the input, and a splicer that
//! replaces some of those places. This is how compressed blocks go back into a request while
//! every other byte leaves exactly as it came (docs/architecture.md §3.6): nothing is ever re-serialised.
//!
//! The input must already be valid JSON (checked with `serde_json` first); this reader only
//! needs to be right on valid input.

use std::borrow::Cow;
use std::ops::Range;

/// A JSON value and the byte range it occupies in the input.
#[derive(Debug)]
pub struct Node<'a> {
    pub span: Range<usize>,
    pub value: Value<'a>,
}

/// The parts of a JSON value the engine looks at. Numbers, booleans and null are only spans.
#[derive(Debug)]
pub enum Value<'a> {
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
    Array(Vec<Node<'a>>),
    String(Cow<'a, str>),
    Scalar,
}

impl<'a> Node<'a> {
    /// The member `key` of an object (the first one, if repeated).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match &self.value {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The string value of member `key`, if it is a string.
    pub fn str_at(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[Node<'a>]> {
        match &self.value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }
}

/// Deepest nesting of arrays and objects a request may have. Real requests stay far below it
/// (provider content is in strings); the reader recurses once per level, so a deeper document
/// is refused before it is read instead of overflowing the stack.
pub const MAX_DEPTH: usize = 128;

/// How deeply arrays and objects nest in `src`, counted without recursion (brackets inside
/// strings do not count). Stops counting past [`MAX_DEPTH`].
pub fn nesting_depth(src: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in src {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > MAX_DEPTH {
                    break;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Parses valid JSON into spanned nodes. Returns `None` on anything it cannot read (which for
/// input that `serde_json` accepted does not happen) and on nesting deeper than [`MAX_DEPTH`].
pub fn parse(src: &str) -> Option<Node<'_>> {
    if nesting_depth(src.as_bytes()) > MAX_DEPTH {
        return None;
    }
    let mut reader = Reader { src, bytes: src.as_bytes(), pos: 0 };
    let node = reader.value()?;
    reader.skip_ws();
    (reader.pos == src.len()).then_some(node)
}

struct Reader<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && matches!(self.bytes[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn value(&mut self) -> Option<Node<'a>> {
        self.skip_ws();
        let start = self.pos;
        let value = match self.peek()? {
            b'{' => self.object()?,
            b'[' => self.array()?,
            b'"' => Value::String(self.string()?),
            _ => {
                while self.pos < self.bytes.len() && !matches!(self.bytes[self.pos], b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                    self.pos += 1;
                }
                if self.pos == start {
                    return None;
                }
                Value::Scalar
            }
        };
        Some(Node { span: start..self.pos, value })
    }

    fn object(&mut self) -> Option<Value<'a>> {
        self.pos += 1;
        let mut members = Vec::new();
        loop {
            self.skip_ws();
            match self.peek()? {
                b'}' => {
                    self.pos += 1;
                    return Some(Value::Object(members));
                }
                b',' => self.pos += 1,
                b'"' => {
                    let key = self.string()?;
                    self.skip_ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    members.push((key, self.value()?));
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self) -> Option<Value<'a>> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek()? {
                b']' => {
                    self.pos += 1;
                    return Some(Value::Array(items));
                }
                b',' => self.pos += 1,
                _ => items.push(self.value()?),
            }
        }
    }

    /// Reads a string literal; borrows it when it has no escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.pos += 1;
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'"' => {
                    self.pos += 1;
                    return Some(Cow::Borrowed(&self.src[start..self.pos - 1]));
                }
                b'\\' => break,
                _ => self.pos += 1,
            }
        }
        let mut out = String::from(&self.src[start..self.pos]);
        loop {
            let b = *self.bytes.get(self.pos)?;
            match b {
                b'"' => {
                    self.pos += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    let esc = *self.bytes.get(self.pos + 1)?;
                    self.pos += 2;
                    match esc {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'u' => out.push(self.unicode_escape()?),
                        other => out.push(other as char),
                    }
                }
                _ => {
                    let run_end = self.bytes[self.pos..]
                        .iter()
                        .position(|&c| c == b'"' || c == b'\\')
                        .map_or(self.bytes.len(), |i| self.pos + i);
                    out.push_str(&self.src[self.pos..run_end]);
                    self.pos = run_end;
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.src.get(self.pos..self.pos + 4)?;
        self.pos += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    /// Decodes `XXXX` after `\u`, joining surrogate pairs; a lone surrogate becomes U+FFFD.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.src[self.pos..].starts_with("\\u") {
            let save = self.pos;
            self.pos += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                return char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00));
            }
            self.pos = save;
        }
        Some(char::from_u32(first).unwrap_or('\u{FFFD}'))
    }
}

/// One replacement: the bytes at `span` become `text`.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub span: Range<usize>,
    pub text: String,
}

/// Applies non-overlapping edits to `src`; bytes outside the edits are copied unchanged.
pub fn splice(src: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| e.span.start);
    let mut out = String::with_capacity(src.len());
    let mut at = 0;
    for edit in edits {
        out.push_str(&src[at..edit.span.start]);
        out.push_str(&edit.text);
        at = edit.span.end;
    }
    out.push_str(&src[at..]);
    out
}

/// A JSON string literal for `text` (quotes included).
pub fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_the_exact_source_bytes() {
        let src = r#" { "a" : [1, "x\"y", {"b": null}] , "c":"d\u00e9\ud83d\ude00" } "#;
        let root = parse(src).unwrap();
        let a = root.get("a").unwrap().as_array().unwrap();
        assert_eq!(&src[a[0].span.clone()], "1");
        assert_eq!(&src[a[1].span.clone()], r#""x\"y""#);
        assert_eq!(a[1].as_str(), Some("x\"y"));
        assert_eq!(&src[a[2].span.clone()], r#"{"b": null}"#);
        assert_eq!(root.str_at("c"), Some("dé😀"));
    }

    #[test]
    fn decoded_strings_match_serde_json() {
        let src = r#"["tab\tnew\nline \\ \/ \b\f\r \u0041 \ud83d\ude00 é", "plain"]"#;
        let theirs: Vec<String> = serde_json::from_str(src).unwrap();
        let ours = parse(src).unwrap();
        let items = ours.as_array().unwrap();
        assert_eq!(items[0].as_str().unwrap(), theirs[0]);
        assert_eq!(items[1].as_str().unwrap(), theirs[1]);
    }

    #[test]
    fn splice_changes_only_the_edited_spans() {
        let src = r#"[{"content":  "aaaa" , "x":1}]"#;
        let root = parse(src).unwrap();
        let content = root.as_array().unwrap()[0].get("content").unwrap();
        let out = splice(src, vec![Edit { span: content.span.clone(), text: quote("b\"") }]);
        assert_eq!(out, r#"[{"content":  "b\"" , "x":1}]"#);
    }

    #[test]
    fn invalid_input_is_refused() {
        assert!(parse("[1,").is_none());
        assert!(parse("{\"a\" 1}").is_none());
        assert!(parse("[] x").is_none());
    }
}
