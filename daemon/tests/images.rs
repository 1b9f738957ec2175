//! Images in requests: a real 3000 × 2000 screenshot comes back at each provider's own
//! downscale (OpenAI Chat, Responses with `detail: low`, Anthropic), still a PNG, smaller,
//! the same bytes on a second identical request, and its original retrievable by key; a photo
//! already within the limits is left as it is.

use base64::Engine as _;
use headroom_daemon::compressors::image::{billed_tokens, provider_size, Provider};
use headroom_daemon::request::marker;
use headroom_daemon::{Engine, Stores};
use headroom_protocol::CompressOptions;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/images").join(name)).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn engine(dir: &Path) -> Engine {
    Engine::new(Stores::open(dir, 256 << 20).unwrap(), Duration::from_secs(86_400))
}

fn openai_chat(data_url: &str, detail: &str) -> Value {
    json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "what does this page say about the settings?"},
            {"type": "image_url", "image_url": {"url": data_url, "detail": detail}}
        ]}
    ]})
}

fn anthropic(data: &str, media_type: &str) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [
        {"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}},
            {"type": "text", "text": "what does this page say about the settings?"}
        ]}
    ]})
}

fn dimensions(bytes: &[u8]) -> (u32, u32) {
    image::load_from_memory(bytes).map(|i| (i.width(), i.height())).unwrap()
}

#[test]
fn a_screenshot_comes_back_at_each_providers_own_downscale_replayed_and_retrievable() {
    let png = fixture("readme-screenshot-3000x2000.png");
    assert_eq!(dimensions(&png), (3000, 2000));
    let cases = [
        ("openai chat", openai_chat(&format!("data:image/png;base64,{}", b64(&png)), "auto"), Provider::OpenAi, false, "/messages/0/content/1/image_url/url"),
        ("openai low", openai_chat(&format!("data:image/png;base64,{}", b64(&png)), "low"), Provider::OpenAi, true, "/messages/0/content/1/image_url/url"),
        ("anthropic", anthropic(&b64(&png), "image/png"), Provider::Anthropic, false, "/messages/0/content/0/source/data"),
    ];
    for (name, request, provider, low, at) in cases {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path());
        let body = serde_json::to_vec(&request).unwrap();
        let reply = engine.compress(&body, &CompressOptions::default()).unwrap();
        let sent: Value = serde_json::from_slice(&reply.messages).unwrap();
        let text = sent.pointer(at).and_then(Value::as_str).unwrap();
        let data = text.rsplit(',').next().unwrap();
        let shrunk = base64::engine::general_purpose::STANDARD.decode(data).unwrap();
        assert_eq!(dimensions(&shrunk), provider_size(provider, low, 3000, 2000), "{name}");
        assert_eq!(image::guess_format(&shrunk).unwrap(), image::ImageFormat::Png, "{name}: the media type stays true");
        assert!(shrunk.len() < png.len(), "{name}: {} -> {} bytes", png.len(), shrunk.len());
        assert_eq!(reply.compressors[0].name, "image");
        // The provider bills the downscaled image either way: the count is honest, not inflated.
        assert_eq!((reply.tokens_before, reply.tokens_after), (billed_tokens(provider, low, 3000, 2000), billed_tokens(provider, low, 3000, 2000)));
        assert!(reply.retrieve_tool.is_none(), "{name}: nothing for the model to redeem");

        let again = engine.compress(&body, &CompressOptions::default()).unwrap();
        assert_eq!(again.messages, reply.messages, "{name}: the same bytes on a second identical request");
        let original = request.pointer(at).and_then(Value::as_str).unwrap();
        let retrieved = engine.retrieve(&marker::key_for(original), None, headroom_daemon::clock::now_ms()).unwrap();
        assert!(retrieved.whole && retrieved.content == original, "{name}: the original is kept under its key");
    }
}

#[test]
fn a_photo_within_the_limits_and_images_by_url_pass_through() {
    let jpeg = fixture("grace_hopper.jpg");
    assert_eq!(dimensions(&jpeg), (512, 600));
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    for request in [anthropic(&b64(&jpeg), "image/jpeg"), openai_chat("https://example.com/photo.jpg", "high")] {
        let body = serde_json::to_vec(&request).unwrap();
        let reply = engine.compress(&body, &CompressOptions::default()).unwrap();
        assert_eq!(reply.messages, body, "left as it is");
    }
    let reply = engine.compress(&serde_json::to_vec(&anthropic(&b64(&jpeg), "image/jpeg")).unwrap(), &CompressOptions::default()).unwrap();
    assert_eq!(reply.tokens_before, (512u64 * 600).div_ceil(750), "its billed tokens are still counted");
}

#[test]
fn a_budget_per_image_lowers_the_bill_below_the_providers_downscale() {
    let png = fixture("readme-screenshot-3000x2000.png");
    let cases = [
        ("openai chat", openai_chat(&format!("data:image/png;base64,{}", b64(&png)), "auto"), Provider::OpenAi, "/messages/0/content/1/image_url/url"),
        ("anthropic", anthropic(&b64(&png), "image/png"), Provider::Anthropic, "/messages/0/content/0/source/data"),
    ];
    for (name, request, provider, at) in cases {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path()).with_image_max_tokens(Some(800));
        let body = serde_json::to_vec(&request).unwrap();
        let reply = engine.compress(&body, &CompressOptions::default()).unwrap();
        let sent: Value = serde_json::from_slice(&reply.messages).unwrap();
        let data = sent.pointer(at).and_then(Value::as_str).unwrap().rsplit(',').next().unwrap().to_string();
        let (w, h) = dimensions(&base64::engine::general_purpose::STANDARD.decode(&data).unwrap());
        assert_eq!(reply.tokens_before, billed_tokens(provider, false, 3000, 2000), "{name}");
        assert_eq!(reply.tokens_after, billed_tokens(provider, false, w, h), "{name}: counted as sent");
        assert!(reply.tokens_after <= 800 && reply.tokens_after < reply.tokens_before, "{name}: {} -> {}", reply.tokens_before, reply.tokens_after);
        assert!(reply.tokens_after > 600, "{name}: the largest size within the budget, not a thumbnail ({w} x {h})");
        let again = engine.compress(&body, &CompressOptions::default()).unwrap();
        assert_eq!(again.messages, reply.messages, "{name}: replayed byte for byte");
        let original = request.pointer(at).and_then(Value::as_str).unwrap();
        let retrieved = engine.retrieve(&marker::key_for(original), None, headroom_daemon::clock::now_ms()).unwrap();
        assert_eq!(retrieved.content, original, "{name}: the full image stays retrievable");
    }
}
