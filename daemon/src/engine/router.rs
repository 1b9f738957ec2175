//! Picks one compressor per content block from the content itself. A block nothing recognises
//! goes through untouched: a misrouted block would be mangled, an unrouted one only costs tokens.

use super::json::Json;
use super::{Compressor, Context};

/// The compressor for `text`, if any fits.
pub fn route(text: &str, _ctx: &Context) -> Option<&'static dyn Compressor> {
    let trimmed = text.trim_start();
    let looks_json = trimmed.starts_with('{') || trimmed.starts_with('[');
    if looks_json && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        return Some(&Json);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_goes_to_json_and_prose_nowhere() {
        let ctx = Context::default();
        assert_eq!(route(" {\"a\": 1}", &ctx).map(|c| c.name()), Some("json"));
        assert!(route("[not json", &ctx).is_none());
        assert!(route("plain words", &ctx).is_none());
    }
}
