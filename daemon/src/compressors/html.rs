//! The HTML compressor: a page fetched by an agent (a browse tool, `curl`, a test client's
//! response) is mostly markup, scripts and styles; what the agent reads is its text, its links
//! and its form fields. The page is rewritten as that: one line per block element, links as
//! `[text](href)`, form fields as `[input type name=value]`, entities decoded, scripts, styles
//! and comments dropped. A long page's text keeps its head (title, headline, the error a debug
//! page reports) and the lines on the question, within a budget; the other lines go as
//! `[… N lines …]`. Text before and after the markup (a command echoed, a status line) stays as
//! it was. One marker retrieves the page byte for byte.

use crate::request::marker::{self, thousands};
use crate::request::query::Query;
use super::{Compressor, Context};

/// Compresses HTML pages.
pub struct Html;

/// Closing tags a block of markup has at least to be taken for HTML.
const MIN_CLOSING_TAGS: usize = 8;

/// Elements that are common in pages and rare elsewhere; their closing tags tell HTML apart.
const COMMON: [&str; 24] = [
    "a", "body", "button", "div", "form", "h1", "h2", "h3", "head", "html", "label", "li", "nav", "option", "p", "script",
    "section", "select", "span", "style", "table", "td", "title", "ul",
];

/// Elements after which the text goes on on a new line.
const BLOCKS: [&str; 34] = [
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset", "figure", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "option", "p", "pre", "section", "table",
    "title", "tr", "ul", "body",
];

/// Elements dropped with everything inside them.
const DROPPED: [&str; 4] = ["script", "style", "noscript", "svg"];

/// Whether `text` holds a page of HTML: a doctype or `<html`, or enough closing tags of
/// common elements.
pub fn detect(text: &str) -> bool {
    let mut cut = text.len().min(4096);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = text[..cut].to_ascii_lowercase();
    if head.contains("<!doctype html") || head.contains("<html") {
        return true;
    }
    let closing = text.match_indices("</").filter(|(at, _)| COMMON.contains(&tag_name(&text[at + 2..]).as_str())).count();
    closing >= MIN_CLOSING_TAGS
}

/// The lowercase name of the tag that `rest` (the text after `<` or `</`) begins with.
fn tag_name(rest: &str) -> String {
    rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase()
}

impl Compressor for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let start = markup_start(text)?;
        let end = markup_end(text)?;
        if end <= start {
            return None;
        }
        let page = render(&text[start..end]);
        let (page, lines_omitted) = shorten(&page, ctx.query);
        let mut out = String::with_capacity(text.len() / 3);
        out.push_str(&text[..start]);
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&page);
        out.push('\n');
        let lines = if lines_omitted > 0 { format!(", and {} lines of its text past its head and off the question", thousands(lines_omitted)) } else { String::new() };
        let what = format!("HTML markup, scripts and styles omitted ({} of {} bytes of page){lines}", thousands(end - start - page.len().min(end - start)), thousands(end - start));
        out.push_str(&marker::marker(ctx.key, &what));
        let after = &text[end..];
        if !after.trim().is_empty() {
            out.push('\n');
            out.push_str(after.trim_start_matches(['\r', '\n']));
        }
        Some(out)
    }
}

/// Bytes of a page's text always kept whole.
const PAGE_TEXT_KEPT: usize = 3_000;
/// Share of a longer page's text kept, when that is more than [`PAGE_TEXT_KEPT`].
const PAGE_TEXT_SHARE: f64 = 0.25;
/// Characters a line needs to be kept for the question's words in it.
const MIN_LINE_ON_QUESTION: usize = 12;
/// A page's text lines the question's words may be found in and still tell lines apart.
const QUERY_MAX_SHARE: f64 = 0.05;

/// A page's text within its budget: the lines from the top while they take half of it (what
/// the page is and says first: a debug page's error, its place, the start of its traceback),
/// then the lines with the most of the question's words. Each run left out is `[… N lines …]`.
/// Returns the text and how many lines went.
fn shorten(page: &str, query: &str) -> (String, usize) {
    let budget = PAGE_TEXT_KEPT.max((page.len() as f64 * PAGE_TEXT_SHARE) as usize);
    if page.len() <= budget {
        return (page.to_string(), 0);
    }
    let lines: Vec<&str> = page.lines().collect();
    let mut keep = vec![false; lines.len()];
    let mut used = 0;
    // Keeps line `i` if it fits in `limit`.
    let mut take = |i: usize, limit: usize, keep: &mut Vec<bool>| {
        let fits = !keep[i] && used + lines[i].len() <= limit;
        if fits {
            keep[i] = true;
            used += lines[i].len() + 1;
        }
        fits
    };
    for i in 0..lines.len() {
        if !take(i, budget / 2, &mut keep) {
            break;
        }
    }
    // A bare value (`True`, `0`) says nothing without the line naming it.
    let query = Query::new(query).without_short_numbers().discriminative(lines.iter(), QUERY_MAX_SHARE);
    let mut on_question: Vec<(usize, usize)> =
        lines.iter().enumerate().filter(|(_, l)| l.len() >= MIN_LINE_ON_QUESTION).map(|(i, l)| (query.hits(l), i)).filter(|(hits, _)| *hits > 0).collect();
    on_question.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in on_question {
        take(i, budget, &mut keep);
    }
    let mut out = Vec::with_capacity(lines.len());
    let mut run = 0;
    // A kept line past the end closes the last run; it is popped after.
    for (line, kept) in lines.iter().zip(&keep).chain([(&"", &true)]) {
        if !kept {
            run += 1;
            continue;
        }
        if run > 0 {
            out.push(format!("[… {} lines …]", thousands(run)));
            run = 0;
        }
        out.push(line.to_string());
    }
    out.pop();
    let omitted = keep.iter().filter(|k| !**k).count();
    (out.join("\n"), omitted)
}

/// Whether `name` is an element of HTML (of those pages use most): `<module>` in a traceback
/// next to a page is not.
fn is_element(name: &str) -> bool {
    COMMON.contains(&name) || BLOCKS.contains(&name) || ["meta", "link", "img", "input", "textarea", "em", "strong", "b", "i", "code", "th", "thead", "tbody", "caption", "fieldset", "legend"].contains(&name)
}

/// Where the markup begins: the first doctype, comment or tag of an HTML element.
fn markup_start(text: &str) -> Option<usize> {
    text.match_indices('<').map(|(at, _)| at).find(|&at| {
        let rest = &text[at + 1..];
        rest.starts_with('!') || is_element(&tag_name(rest))
    })
}

/// Where the markup ends: after `</html>`, else after the last closing tag of an HTML element.
fn markup_end(text: &str) -> Option<usize> {
    let closing = text.match_indices("</").filter(|(at, _)| is_element(&tag_name(&text[at + 2..])));
    let (at, _) = closing.last()?;
    Some(at + text[at..].find('>')? + 1)
}

/// The text of a page: block elements on their own lines, links and form fields kept.
fn render(page: &str) -> String {
    let mut out = String::with_capacity(page.len() / 3);
    let mut link: Option<(String, usize)> = None; // href, where the link's text begins in `out`
    let mut rest = page;
    while let Some(at) = rest.find('<') {
        push_text(&mut out, &rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(close) = rest.find('>') else {
            push_text(&mut out, rest);
            rest = "";
            break;
        };
        let tag = &rest[1..close];
        rest = &rest[close + 1..];
        let closing = tag.starts_with('/');
        let name = tag_name(tag.trim_start_matches('/'));
        if !closing && DROPPED.contains(&name.as_str()) {
            // Skipped to its closing tag, found without copying the rest of the page per element.
            let closing_at = rest.match_indices("</").map(|(at, _)| at).find(|&at| tag_name(&rest[at + 2..]) == name);
            rest = closing_at.and_then(|e| rest[e..].find('>').map(|c| &rest[e + c + 1..])).unwrap_or("");
            continue;
        }
        match (name.as_str(), closing) {
            ("a", false) => link = attribute(tag, "href").filter(|h| !h.starts_with('#') && !h.starts_with("javascript:")).map(|h| (h, out.len())),
            ("a", true) => {
                if let Some((href, from)) = link.take() {
                    let text = out[from..].trim().to_string();
                    out.truncate(from);
                    push_word(&mut out, &if text.is_empty() { href } else { format!("[{text}]({href})") });
                }
            }
            ("input" | "select" | "textarea", false) => {
                let kind = if name == "input" { attribute(tag, "type").unwrap_or_else(|| "text".into()) } else { name.clone() };
                let field = match (attribute(tag, "name"), attribute(tag, "value")) {
                    (Some(n), Some(v)) if !v.is_empty() => format!("[{kind} {n}={v}]"),
                    (Some(n), _) => format!("[{kind} {n}]"),
                    _ => format!("[{kind}]"),
                };
                push_word(&mut out, &field);
            }
            _ => {}
        }
        if BLOCKS.contains(&name.as_str()) && !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
    }
    push_text(&mut out, rest);
    out.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// Appends the text between tags, entities decoded and runs of whitespace made one space.
fn push_text(out: &mut String, text: &str) {
    let decoded = decode(text);
    for word in decoded.split_whitespace() {
        push_word(out, word);
    }
    if decoded.ends_with(char::is_whitespace) && !out.ends_with(['\n', ' ']) && !out.is_empty() {
        out.push(' ');
    }
}

/// Appends one word, with a space before it unless a line or a space ends `out` already.
fn push_word(out: &mut String, word: &str) {
    if !out.is_empty() && !out.ends_with(['\n', ' ']) {
        out.push(' ');
    }
    out.push_str(word);
}

/// The value of attribute `name` in a tag's text (`a href="x"`), decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let at = from + found;
        from = at + name.len();
        let before_ok = at > 0 && lower.as_bytes()[at - 1].is_ascii_whitespace();
        let after = lower[from..].trim_start();
        if !before_ok || !after.starts_with('=') {
            continue;
        }
        let value_at = tag.len() - after.len() + 1;
        let value = tag[value_at..].trim_start();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value.split(|c: char| c.is_whitespace() || c == '>').next().unwrap_or(""),
        };
        return Some(decode(value));
    }
    None
}

/// `text` with the entities pages use most decoded.
fn decode(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = rest.find(';').filter(|&end| end <= 10).map(|end| &rest[1..end]);
        let decoded = entity.and_then(|e| match e {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            "rsaquo" => Some('›'),
            "lsaquo" => Some('‹'),
            "raquo" => Some('»'),
            "laquo" => Some('«'),
            "mdash" => Some('—'),
            "ndash" => Some('–'),
            "hellip" => Some('…'),
            "middot" => Some('·'),
            "copy" => Some('©'),
            _ => e.strip_prefix("#x").or_else(|| e.strip_prefix("#X")).map_or_else(
                || e.strip_prefix('#').and_then(|n| n.parse().ok()).and_then(char::from_u32),
                |hex| u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
            ),
        });
        match (decoded, entity) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e.len() + 2..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "Response status: 200\n<!DOCTYPE html>\n<html><head><title>Change photo | Admin</title>\n<style>body { color: red }</style><script>var x = '<p>';</script></head>\n<body><!-- nav -->\n<div id=\"content\"><h1>Change photo</h1>\n<p>Fields &amp; values:</p>\n<form method=\"post\"><input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"abc\">\n<label>Title:</label> <input type=\"text\" name=\"title\" value=\"Photo 1\">\n<select name=\"report\"><option value=\"1\">Report 1</option></select>\n<a href=\"/admin/photo/1/delete/\">Delete</a> <a href=\"#top\">top</a></form></div></body></html>\n[Command finished with exit code 0]";

    #[test]
    fn a_page_becomes_its_text_links_and_fields() {
        assert!(detect(PAGE));
        let ctx = Context { key: "0123456789abcdef01234567", ..Context::default() };
        let out = Html.compress(PAGE, &ctx).unwrap();
        let text: Vec<&str> = out.lines().collect();
        assert_eq!(
            text,
            [
                "Response status: 200",
                "Change photo | Admin",
                "Change photo",
                "Fields & values:",
                "[hidden csrfmiddlewaretoken=abc] Title: [text title=Photo 1] [select report]",
                "Report 1",
                "[Delete](/admin/photo/1/delete/) top",
                "[headroom: HTML markup, scripts and styles omitted (363 of 536 bytes of page); headroom_retrieve hash=0123456789abcdef01234567]",
                "[Command finished with exit code 0]",
            ]
        );
        assert!(!out.contains("color: red") && !out.contains("var x"));
    }

    #[test]
    fn a_long_page_keeps_its_head_and_the_lines_on_the_question() {
        // A debug page: the error first, then a long dump of settings.
        let mut page = String::from("<html><head><title>DisallowedHost at /admin/</title></head><body><h1>DisallowedHost at /admin/</h1><p>Invalid HTTP_HOST header: 'testserver'.</p><table>");
        for i in 0..400 {
            page.push_str(&format!("<tr><td>SETTING_NUMBER_{i}</td><td>'value {i}'</td></tr>"));
        }
        page.push_str("<tr><td>ALLOWED_HOSTS</td><td>['localhost']</td></tr></table></body></html>");
        let ctx = Context { query: "why is testserver rejected? check ALLOWED_HOSTS", key: "0123456789abcdef01234567", ..Context::default() };
        let out = Html.compress(&page, &ctx).unwrap();
        assert!(out.starts_with("DisallowedHost at /admin/\nDisallowedHost at /admin/\nInvalid HTTP_HOST header: 'testserver'.\nSETTING_NUMBER_0 'value 0'\n"), "{out}");
        assert!(out.contains("\nALLOWED_HOSTS ['localhost']\n"), "{out}");
        assert!(!out.contains("SETTING_NUMBER_399") && out.contains(" lines …]\nALLOWED_HOSTS"), "{out}");
        assert!(out.len() < page.len() / 4 && out.contains(" lines of its text past its head and off the question; headroom_retrieve"), "{out}");
    }

    #[test]
    fn prose_code_and_xml_fragments_are_not_pages() {
        assert!(!detect("a < b and c > d\nfn main() { if a < b {} }"));
        assert!(!detect("<config><item>1</item><item>2</item></config>"));
    }

    #[test]
    fn entities_decode_and_unknown_ones_stay() {
        assert_eq!(decode("a &lt;b&gt; &#39;c&#x27; &bogus; & d"), "a <b> 'c' &bogus; & d");
    }
}
