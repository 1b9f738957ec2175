//! What a terminal shows rather than what a program wrote: ANSI escape sequences (colours,
//! cursor moves) and carriage-return redraws (progress bars rewritten in place). A model reads
//! the bytes, not the screen: the escapes are noise, and of a line redrawn many times only its
//! last state is what the screen ended with.

use crate::request::marker::{self, thousands};

/// `text` as the screen would end up showing it, or `None` when it has no escapes or redraws.
/// Dropped redraws are told by a marker carrying `key`.
pub fn clean(text: &str, key: &str) -> Option<String> {
    if !text.contains('\u{1b}') && !has_redraw(text) {
        return None;
    }
    let plain = strip_escapes(text);
    let mut out = String::with_capacity(plain.len());
    let mut redraws = 0usize;
    for (i, line) in plain.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let (body, crlf) = match line.strip_suffix('\r') {
            Some(body) => (body, true),
            None => (line, false),
        };
        match body.rsplit_once('\r') {
            Some((before, last)) => {
                redraws += before.matches('\r').count() + 1;
                out.push_str(last);
            }
            None => out.push_str(body),
        }
        if crlf {
            out.push('\r');
        }
    }
    if redraws > 0 {
        out.push_str(&format!("\n{}", marker::marker(key, &format!("{} earlier states of lines redrawn in place omitted", thousands(redraws)))));
    }
    Some(out)
}

/// A `\r` that does not end a line.
fn has_redraw(text: &str) -> bool {
    text.as_bytes().windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n')
}

/// `text` without CSI (`ESC [ … letter`), OSC (`ESC ] … BEL` or `ESC \`) and two-byte escapes.
fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || c == '\u{1b}' && chars.next_if_eq(&'\\').is_some() {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef01234567";

    #[test]
    fn colours_go_and_lines_keep_their_endings() {
        let text = "  Applying auth.0001_initial...\u{1b}[32;1m OK\u{1b}[0m\r\nSystem check\r\n";
        assert_eq!(clean(text, KEY).unwrap(), "  Applying auth.0001_initial... OK\r\nSystem check\r\n");
        assert_eq!(clean("plain\r\ntext\n", KEY), None);
    }

    #[test]
    fn a_progress_bar_keeps_its_last_state_and_says_how_many_went() {
        let text = "Downloading\n 10%\r 50%\r100%\ndone\n";
        let out = clean(text, KEY).unwrap();
        assert!(out.starts_with("Downloading\n100%\ndone\n"), "{out}");
        assert!(out.contains("2 earlier states of lines redrawn in place omitted") && out.contains(KEY), "{out}");
    }
}
