//! The base64 images of a request, wherever each provider shape puts them: OpenAI Chat
//! `image_url` parts (`{"url": "data:…", "detail": …}`), Responses `input_image` items
//! (`"image_url": "data:…"`), Anthropic `image` blocks with a `base64` source (also inside tool
//! results). Images given by URL are not Headroom's to change.

use super::spans::{Node, Value};
use headroom_protocol::ProviderFormat;
use std::ops::Range;

/// One base64 image and where its string sits in the request.
#[derive(Debug)]
pub struct ImageBlock<'n> {
    /// The JSON string literal holding the image (a data URL or bare base64), quotes included.
    pub span: Range<usize>,
    /// The string's value: what goes back, with `prefix` kept, when the image shrinks.
    pub text: &'n str,
    /// `data:image/png;base64,` for a data URL, empty for bare base64.
    pub prefix: &'n str,
    /// `detail: low` (OpenAI): seen within 512 × 512 and billed 85 tokens whatever its size.
    pub low_detail: bool,
    /// In a frozen message or under `cache_control`: passed through untouched.
    pub hands_off: bool,
}

impl ImageBlock<'_> {
    /// The base64 payload.
    pub fn base64(&self) -> &str {
        &self.text[self.prefix.len()..]
    }
}

/// The prefix of a base64 data URL, if `url` is one.
fn data_prefix(url: &str) -> Option<&str> {
    let comma = url.find(',')?;
    (url.starts_with("data:image/") && url[..comma].ends_with(";base64")).then(|| &url[..=comma])
}

fn walk<'n>(node: &'n Node<'n>, format: ProviderFormat, hands_off: bool, out: &mut Vec<ImageBlock<'n>>) {
    let hands_off = hands_off || node.get("cache_control").is_some();
    match &node.value {
        Value::Object(members) => {
            let low = |holder: &Node| holder.str_at("detail") == Some("low");
            let kind = node.str_at("type");
            let found = match (format, kind) {
                (ProviderFormat::OpenAiChat, Some("image_url")) => node.get("image_url").and_then(|u| Some((u.get("url")?, low(u)))),
                (ProviderFormat::OpenAiResponses, Some("input_image")) => node.get("image_url").map(|u| (u, low(node))),
                (ProviderFormat::Anthropic, Some("image")) => node
                    .get("source")
                    .filter(|s| s.str_at("type") == Some("base64"))
                    .and_then(|s| s.get("data"))
                    .map(|d| (d, false)),
                _ => None,
            };
            if let Some((string, low_detail)) = found {
                if let Some(text) = string.as_str() {
                    let prefix = if format == ProviderFormat::Anthropic { Some("") } else { data_prefix(text) };
                    if let Some(prefix) = prefix {
                        out.push(ImageBlock { span: string.span.clone(), text, prefix, low_detail, hands_off });
                    }
                }
                return;
            }
            for (_, child) in members {
                walk(child, format, hands_off, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, format, hands_off, out);
            }
        }
        _ => {}
    }
}

/// Every base64 image in `messages`; those in the first `frozen` messages are hands-off.
pub fn find<'n>(messages: &'n [Node<'n>], format: ProviderFormat, frozen: usize) -> Vec<ImageBlock<'n>> {
    let mut out = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        walk(message, format, i < frozen, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::spans;

    #[test]
    fn each_shape_yields_its_base64_images_and_no_urls() {
        let chat = r#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]"#;
        let root = spans::parse(chat).unwrap();
        let found = find(root.as_array().unwrap(), ProviderFormat::OpenAiChat, 0);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].prefix, found[0].base64(), found[0].low_detail), ("data:image/png;base64,", "AAAA", true));
        assert_eq!(&chat[found[0].span.clone()], "\"data:image/png;base64,AAAA\"");

        let anthropic = r#"[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"BBBB"}}]},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"CCCC"},"cache_control":{"type":"ephemeral"}}]}]"#;
        let root = spans::parse(anthropic).unwrap();
        let found = find(root.as_array().unwrap(), ProviderFormat::Anthropic, 0);
        assert_eq!(found.iter().map(|f| (f.base64(), f.hands_off)).collect::<Vec<_>>(), [("BBBB", false), ("CCCC", true)]);

        let responses = r#"[{"role":"user","content":[{"type":"input_image","image_url":"data:image/jpeg;base64,DDDD","detail":"high"}]}]"#;
        let root = spans::parse(responses).unwrap();
        let found = find(root.as_array().unwrap(), ProviderFormat::OpenAiResponses, 1);
        assert_eq!((found[0].base64(), found[0].hands_off, found[0].low_detail), ("DDDD", true, false));
    }
}
