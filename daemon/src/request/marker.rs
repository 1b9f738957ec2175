//! The one marker grammar every compressor uses (docs/architecture.md §3.4) and the keys inside it.
//!
//! A marker reads `[headroom: <what was omitted>; headroom_retrieve hash=<key>]`. The key is the
//! first 24 hex digits of the SHA-256 of the original block, so the same original always gets the
//! same key, and tools that look for `hash=([a-f0-9]{24})` find it.

use sha2::{Digest, Sha256};

/// Length of a key in hex digits.
pub const KEY_LEN: usize = 24;

/// The CCR key of an original block.
pub fn key_for(original: &str) -> String {
    let digest = Sha256::digest(original.as_bytes());
    let mut key = String::with_capacity(KEY_LEN);
    for byte in &digest[..KEY_LEN / 2] {
        key.push_str(&format!("{byte:02x}"));
    }
    key
}

/// A marker saying what was omitted (in the reader's units) and how to get it back.
pub fn marker(key: &str, omitted: &str) -> String {
    format!("[headroom: {omitted}; headroom_retrieve hash={key}]")
}

/// The note standing for omitted lines `from`..=`to` (0-based) of a block whose one marker
/// comes at its end: `[… 12 lines (40–51) …]`.
pub fn omitted_run(from: usize, to: usize) -> String {
    omitted_run_naming(from, to, "")
}

/// [`omitted_run`] naming what the lines held after a colon, unless `what` is empty:
/// `[… 4 lines (15–18): description, elapsed, end, environment …]`.
pub fn omitted_run_naming(from: usize, to: usize, what: &str) -> String {
    let n = to - from + 1;
    let what = if what.is_empty() { String::new() } else { format!(": {what}") };
    format!("[… {n} {} ({}–{}){what} …]\n", if n == 1 { "line" } else { "lines" }, from + 1, to + 1)
}

/// `value`, with its count when it came more than once: `192.0.2.7 ×3`, `mail.example.org`.
pub fn with_count(value: &str, n: usize) -> String {
    if n == 1 { value.to_string() } else { format!("{value} ×{n}") }
}

/// `n` things in words, its digits grouped: `1 directory`, `1,204 directories`.
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Values with their counts, most first as given (`192.0.2.7 ×3, mail.example.org`), listed
/// while within `allowance` bytes and the rest counted (`, and 4 more`); `None` when none fits.
/// Markers name the evidence of what they omit this way.
pub fn counted_values(values: &[(String, usize)], allowance: usize) -> Option<String> {
    let mut listed = Vec::new();
    let mut used = 0;
    for (value, n) in values {
        let item = with_count(value, *n);
        if used + item.len() + 2 > allowance {
            break;
        }
        used += item.len() + 2;
        listed.push(item);
    }
    if listed.is_empty() {
        return None;
    }
    let rest = values.len() - listed.len();
    let rest = if rest > 0 { format!(", and {rest} more") } else { String::new() };
    Some(format!("{}{rest}", listed.join(", ")))
}

/// `n` with its digits grouped by thousands (`12,345`), so counts in omission notes read at a
/// glance.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// Whether `key` has the shape of a key (24 lowercase hex digits).
pub fn is_key(key: &str) -> bool {
    key.len() == KEY_LEN && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Every key that appears after `hash=` in `text`, in order, without repeats.
pub fn keys_in(text: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (at, _) in text.match_indices("hash=") {
        let candidate = text.get(at + 5..at + 5 + KEY_LEN).unwrap_or("");
        if is_key(candidate) && !keys.iter().any(|k| k == candidate) {
            keys.push(candidate.to_string());
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_hex_prefixes_of_sha256() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(key_for("abc"), "ba7816bf8f01cfea414140de");
        assert!(is_key(&key_for("")));
    }

    #[test]
    fn counted_values_fit_their_allowance_and_count_the_rest() {
        let values = vec![("192.0.2.7".to_string(), 3), ("mail.example.org".to_string(), 1), ("198.51.100.4".to_string(), 1)];
        assert_eq!(counted_values(&values, 100).unwrap(), "192.0.2.7 ×3, mail.example.org, 198.51.100.4");
        assert_eq!(counted_values(&values, 40).unwrap(), "192.0.2.7 ×3, mail.example.org, and 1 more");
        assert_eq!(counted_values(&values, 5), None);
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn markers_are_found_again_in_text() {
        let k = key_for("original");
        let text = format!("a\n{}\nb {}", marker(&k, "3 lines"), marker(&k, "again"));
        assert_eq!(keys_in(&text), vec![k]);
        assert!(keys_in("hash=XYZ hash=0123").is_empty());
    }
}
