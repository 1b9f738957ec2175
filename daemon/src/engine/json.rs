//! The JSON compressor. Today: lossless minification — whitespace outside strings is dropped,
//! every other byte (numbers as written, key order, escapes) is kept.

use super::{Compressor, Context};

/// Compresses JSON tool output.
pub struct Json;

impl Compressor for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn compress(&self, text: &str, _ctx: &Context) -> Option<String> {
        let minified = minify(text);
        (minified.len() < text.len()).then_some(minified)
    }
}

/// `text` (valid JSON) without insignificant whitespace.
pub fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_keeps_strings_numbers_and_order() {
        let text = "{\n  \"b\" : [1.10, 2e3 ],\n  \"a\": \"x  \\\" y\\\\\" \n}";
        let out = minify(text);
        assert_eq!(out, r#"{"b":[1.10,2e3],"a":"x  \" y\\"}"#);
        let before: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(before, serde_json::from_str::<serde_json::Value>(&out).unwrap());
    }

    #[test]
    fn already_minified_json_is_left_alone() {
        assert_eq!(Json.compress("[1,2]", &Context::default()), None);
    }
}
