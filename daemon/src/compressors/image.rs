//! Images shrunk to what the provider bills for them anyway. A provider downscales a large image
//! before the model sees it and bills the downscaled one, so sending it at that size loses
//! nothing the model would see and saves the bytes (and, where the bill follows the bytes sent,
//! the tokens). Never below the provider's own downscale, never upscaled, PNG kept lossless and
//! JPEG kept JPEG, so the media type stays true to the bytes. Animated and other formats are
//! left as they are.
//!
//! - OpenAI (Chat and Responses): `detail: low` is billed 85 tokens and seen within 512 × 512;
//!   otherwise the image is fitted within 2048 × 2048, then its shortest side to 768, and billed
//!   85 + 170 per 512-pixel tile.
//! - Anthropic: the long edge is capped at 1568 pixels and the area at about 1.15 megapixels;
//!   billed about width × height / 750 tokens.
//!
//! Going below the provider's downscale is the user's choice, never the default: the
//! `image_max_tokens` setting caps each image's bill, at the cost of detail the model would have
//! seen (the original stays retrievable by key).

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{DynamicImage, ImageEncoder, ImageFormat};
use std::io::Cursor;

/// Whose rules size and bill an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    OpenAi,
    Anthropic,
}

/// Anthropic's cap on an image's area, in pixels.
const ANTHROPIC_MAX_PIXELS: u64 = 1_150_000;
/// Anthropic's cap on the long edge.
const ANTHROPIC_MAX_EDGE: u32 = 1568;
/// JPEG quality of a re-encoded photo: what providers' own downscaling keeps, near enough.
const JPEG_QUALITY: u8 = 85;

/// The size the provider would use for a `width` × `height` image.
pub fn provider_size(provider: Provider, low_detail: bool, width: u32, height: u32) -> (u32, u32) {
    let scale_to = |(w, h): (u32, u32), factor: f64| -> (u32, u32) {
        if factor >= 1.0 {
            (w, h)
        } else {
            (((w as f64 * factor).floor() as u32).max(1), ((h as f64 * factor).floor() as u32).max(1))
        }
    };
    let (w, h) = (width, height);
    match provider {
        Provider::OpenAi if low_detail => scale_to((w, h), (512.0 / w.max(h) as f64).min(1.0)),
        Provider::OpenAi => {
            let fitted = scale_to((w, h), (2048.0 / w.max(h) as f64).min(1.0));
            scale_to(fitted, (768.0 / fitted.0.min(fitted.1) as f64).min(1.0))
        }
        Provider::Anthropic => {
            let by_edge = ANTHROPIC_MAX_EDGE as f64 / w.max(h) as f64;
            let by_area = (ANTHROPIC_MAX_PIXELS as f64 / (w as f64 * h as f64)).sqrt();
            scale_to((w, h), by_edge.min(by_area).min(1.0))
        }
    }
}

/// The tokens the provider bills for a `width` × `height` image as sent.
pub fn billed_tokens(provider: Provider, low_detail: bool, width: u32, height: u32) -> u64 {
    let (w, h) = provider_size(provider, low_detail, width, height);
    match provider {
        Provider::OpenAi if low_detail => 85,
        Provider::OpenAi => 85 + 170 * u64::from(w.div_ceil(512)) * u64::from(h.div_ceil(512)),
        Provider::Anthropic => (u64::from(w) * u64::from(h)).div_ceil(750),
    }
}

/// An image made smaller.
#[derive(Debug)]
pub struct Shrunk {
    pub bytes: Vec<u8>,
    pub before: (u32, u32),
    pub after: (u32, u32),
}

/// Whether a PNG is animated (an APNG carries an `acTL` chunk before its image data).
fn animated_png(bytes: &[u8]) -> bool {
    let end = bytes.windows(4).position(|w| w == b"IDAT").unwrap_or(bytes.len());
    bytes[..end].windows(4).any(|w| w == b"acTL")
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match format {
        ImageFormat::Png => {
            let encoder = PngEncoder::new_with_quality(Cursor::new(&mut out), CompressionType::Best, FilterType::Adaptive);
            encoder.write_image(image.as_bytes(), image.width(), image.height(), image.color().into()).ok()?;
        }
        ImageFormat::Jpeg => {
            let rgb = image.to_rgb8();
            JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(&rgb).ok()?;
        }
        _ => return None,
    }
    Some(out)
}

/// The largest size, at most the provider's own downscale of `width` × `height` and of the same
/// shape, that the provider bills at most `max_tokens` for; the provider's downscale when none
/// is (a budget under OpenAI's 85-token floor).
pub fn budget_size(provider: Provider, low_detail: bool, width: u32, height: u32, max_tokens: u64) -> (u32, u32) {
    let (w, h) = provider_size(provider, low_detail, width, height);
    (1..=w)
        .rev()
        .map(|w2| (w2, ((u64::from(h) * u64::from(w2) / u64::from(w)) as u32).max(1)))
        .find(|&(w2, h2)| billed_tokens(provider, low_detail, w2, h2) <= max_tokens)
        .unwrap_or((w, h))
}

/// The image at the provider's own downscale, or smaller where `max_tokens` (the user's budget
/// per image) asks for it; `None` when it is already that small, is not a still PNG or JPEG,
/// cannot be read, or would not come out smaller.
pub fn shrink(bytes: &[u8], provider: Provider, low_detail: bool, max_tokens: Option<u64>) -> Option<Shrunk> {
    let format = image::guess_format(bytes).ok()?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg) || (format == ImageFormat::Png && animated_png(bytes)) {
        return None;
    }
    let decoded = image::load_from_memory_with_format(bytes, format).ok()?;
    let before = (decoded.width(), decoded.height());
    let after = match max_tokens {
        Some(budget) => budget_size(provider, low_detail, before.0, before.1, budget),
        None => provider_size(provider, low_detail, before.0, before.1),
    };
    if after == before {
        return None;
    }
    let resized = decoded.resize_exact(after.0, after.1, image::imageops::FilterType::Lanczos3);
    let out = encode(&resized, format)?;
    (out.len() < bytes.len()).then_some(Shrunk { bytes: out, before, after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_bills_follow_each_providers_rules() {
        // OpenAI: 3000 x 2000 fits 2048 x 1365, then the short side to 768: 1152 x 768, 3 x 2 tiles.
        assert_eq!(provider_size(Provider::OpenAi, false, 3000, 2000), (1152, 768));
        assert_eq!(billed_tokens(Provider::OpenAi, false, 3000, 2000), 85 + 170 * 6);
        assert_eq!(billed_tokens(Provider::OpenAi, true, 3000, 2000), 85);
        assert_eq!(provider_size(Provider::OpenAi, false, 500, 300), (500, 300), "never upscaled");
        // Anthropic: the area cap binds before the edge cap for 3:2.
        let (w, h) = provider_size(Provider::Anthropic, false, 3000, 2000);
        assert!(u64::from(w) * u64::from(h) <= ANTHROPIC_MAX_PIXELS && w <= ANTHROPIC_MAX_EDGE, "{w} x {h}");
        assert_eq!((w, h), (1313, 875));
        assert_eq!(billed_tokens(Provider::Anthropic, false, 3000, 2000), (1313 * 875u64).div_ceil(750));
        assert_eq!(provider_size(Provider::Anthropic, false, 4000, 400), (1568, 156), "the edge cap for a wide strip");
    }

    #[test]
    fn a_budget_picks_the_largest_size_billed_within_it() {
        // 800 tokens buys OpenAI 4 tiles (765): 1024 wide at 3:2.
        assert_eq!(budget_size(Provider::OpenAi, false, 3000, 2000, 800), (1024, 682));
        assert_eq!(billed_tokens(Provider::OpenAi, false, 1024, 682), 765);
        assert_eq!(billed_tokens(Provider::OpenAi, false, 1025, 683), 85 + 170 * 6, "one pixel more is two tiles more");
        let (w, h) = budget_size(Provider::Anthropic, false, 3000, 2000, 800);
        assert!(billed_tokens(Provider::Anthropic, false, w, h) <= 800 && billed_tokens(Provider::Anthropic, false, w + 2, h + 1) > 800, "{w} x {h}");
        // A budget the image already meets changes nothing; one under OpenAI's floor cannot be met.
        assert_eq!(budget_size(Provider::Anthropic, false, 3000, 2000, 5000), provider_size(Provider::Anthropic, false, 3000, 2000));
        assert_eq!(budget_size(Provider::OpenAi, false, 3000, 2000, 50), (1152, 768));
    }
}
