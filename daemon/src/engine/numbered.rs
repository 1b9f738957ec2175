//! The numbered-view compressor: file views as editors and `cat -n` print them, each line
//! behind its number right-aligned in a padded column (`    12\t`). The padding costs about a
//! sixth of such a view's tokens and says nothing; the numbers do (an agent edits by them).
//! Every line is kept, with its own number and its text untouched; only the padding before the
//! number goes. Nothing is omitted, so there is no marker, and the view stays exact enough for
//! a file being edited.

use super::{Compressor, Context};

/// Compresses numbered file views.
pub struct Numbered;

/// Numbered lines a view has at least.
const MIN_LINES: usize = 5;

/// The number and the text of a line `   12\ttext`, when it is one (padding required: an
/// unpadded line has nothing to gain).
fn numbered(line: &str) -> Option<(&str, &str)> {
    let digits_at = line.find(|c: char| c != ' ')?;
    let (number, text) = line[digits_at..].split_once('\t')?;
    (digits_at > 0 && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then_some((number, text))
}

/// A view line's code: the text after its line number and tab (padded or not), or the whole
/// line when it has no number.
pub fn code_of(line: &str) -> &str {
    let numbered = line.trim_start().split_once('\t').filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    numbered.map_or(line, |(_, code)| code)
}

/// Whether `text` is a numbered view: at least [`MIN_LINES`] padded numbered lines, counting
/// up by one, and most of its lines numbered.
pub fn detect(text: &str) -> bool {
    let (mut runs, mut previous, mut lines) = (0usize, None::<u64>, 0usize);
    for line in text.lines().take(2000) {
        lines += 1;
        if let Some(n) = numbered(line).and_then(|(n, _)| n.parse::<u64>().ok()) {
            if previous.is_none_or(|p| p + 1 == n) {
                runs += 1;
            }
            previous = Some(n);
        }
    }
    runs >= MIN_LINES && runs * 10 >= lines * 7
}

impl Compressor for Numbered {
    fn name(&self) -> &'static str {
        "numbered"
    }

    fn compress(&self, text: &str, _ctx: &Context) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
            }
            match numbered(line) {
                Some((number, rest)) => {
                    out.push_str(number);
                    out.push('\t');
                    out.push_str(rest);
                }
                None => out.push_str(line),
            }
        }
        (out.len() < text.len()).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIEW: &str = "Here's the result of running `cat -n` on /w/a.py:\n     1\timport os\n     2\t\n     3\tdef f(x):\n     4\t    return x  # 4\t5\n     5\t\n    10\tz = 1\n    11\ty = 2";

    #[test]
    fn padding_goes_and_every_number_and_line_stays() {
        assert!(detect(VIEW));
        let out = Numbered.compress(VIEW, &Context::default()).unwrap();
        assert_eq!(
            out,
            "Here's the result of running `cat -n` on /w/a.py:\n1\timport os\n2\t\n3\tdef f(x):\n4\t    return x  # 4\t5\n5\t\n10\tz = 1\n11\ty = 2"
        );
    }

    #[test]
    fn unnumbered_text_and_unpadded_numbers_are_not_views() {
        assert!(!detect("a\nb\nc\nd\ne\nf\n"));
        assert!(!detect("1\ta\n2\tb\n3\tc\n4\td\n5\te\n"));
        assert!(!detect(include_str!("../../../tests/fixtures/logs/HDFS_2k.log")));
    }
}
