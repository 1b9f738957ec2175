//! Picks one compressor per content block from the content itself and, for source files, the
//! file path the tool was given. Structured kinds are tried from the most to the least specific;
//! prose is the fallback; anything else goes through untouched: a misrouted block would be
//! mangled, an unrouted one only costs tokens.

use crate::compressors::code::{self, Code};
use crate::compressors::lang::Lang;
use crate::compressors::delimited::{self, Delimited};
use crate::compressors::diff::{self, Diff};
use crate::compressors::html::{self, Html};
use crate::compressors::json::Json;
use crate::compressors::kompress::Kompress;
use crate::compressors::listing::{self, Listing};
use crate::compressors::logs::{self, Logs};
use crate::compressors::markdown::{self, Markdown};
use crate::compressors::numbered::{self, Numbered};
use crate::compressors::report::{self, Report};
use crate::compressors::search::{self, Search};
use crate::compressors::test_runs::{self, TestRuns};
use crate::compressors::text::{self, Text};
use crate::compressors::transcript::{self, Transcript};
use crate::compressors::{Compressor, Context};

/// The compressor for `text`, if any fits.
pub fn route(text: &str, ctx: &Context) -> Option<&'static dyn Compressor> {
    // A numbered view is a file whatever its path says; its lines must keep their numbers.
    if numbered::detect(text) {
        return Some(&Numbered);
    }
    let trimmed = text.trim_start();
    let looks_json = trimmed.starts_with('{') || trimmed.starts_with('[');
    if looks_json && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        return Some(&Json);
    }
    // Before code and logs: a transcript's words are no source file, its cue times no clock.
    if transcript::detect(text) {
        return Some(&Transcript);
    }
    if ctx.file_path.and_then(Lang::from_path).is_some() {
        return Some(&Code);
    }
    // A long Markdown document keeps its outline; a short one is prose, below.
    if ctx.file_path.is_some_and(markdown::is_markdown) && markdown::detect(text) {
        return Some(&Markdown);
    }
    if diff::detect(text) {
        return Some(&Diff);
    }
    if search::detect(text, ctx) {
        return Some(&Search);
    }
    if listing::detect(text) {
        return Some(&Listing);
    }
    // A React component closes tags as a page does; its imports say it is source.
    if html::detect(text) && !Lang::is_es_module(text) {
        return Some(&Html);
    }
    if test_runs::detect(text) {
        return Some(&TestRuns);
    }
    // Before logs: records of one field list repeat their shape, which alone reads as a log.
    if delimited::detect(text) {
        return Some(&Delimited);
    }
    if logs::detect(text) {
        return Some(&Logs);
    }
    if report::detect(text) {
        return Some(&Report);
    }
    if code::detect(text) {
        return Some(&Code);
    }
    // A command's output is lines (results, listings, progress): sentence selection would
    // reflow it, so it is never taken for prose.
    if ctx.command.is_none() && text::worth_trying(text) {
        let classifier = ctx.ml.is_some_and(|ml| ml.may_classify(text.len()));
        return Some(if classifier { &Kompress } else { &Text });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(text: &str) -> Option<&'static str> {
        route(text, &Context::default()).map(|c| c.name())
    }

    #[test]
    fn every_fixture_goes_to_its_compressor() {
        let fixtures = [
            ("json", include_str!("../../../tests/fixtures/github/labels.json")),
            ("json", include_str!("../../../tests/fixtures/github/git-refs.json")),
            ("json", include_str!("../../../tests/fixtures/github/paginate-issues.json")),
            ("json", include_str!("../../../tests/fixtures/github/search-issues.json")),
            ("diff", include_str!("../../../tests/fixtures/diffs/octokit-fixtures-5946840.diff")),
            ("logs", include_str!("../../../tests/fixtures/logs/Apache_2k.log")),
            ("logs", include_str!("../../../tests/fixtures/logs/HDFS_2k.log")),
            ("logs", include_str!("../../../tests/fixtures/logs/Hadoop_2k.log")),
            ("logs", include_str!("../../../tests/fixtures/logs/OpenSSH_2k.log")),
            ("logs", include_str!("../../../tests/fixtures/logs/OpenStack_2k.log")),
            ("logs", include_str!("../../../tests/fixtures/logs/Spark_2k.log")),
            ("logs", include_str!("../../../tests/fixtures/logs/Zookeeper_2k.log")),
            ("delimited", include_str!("../../../tests/fixtures/tables/umath-validation-set-log2.csv")),
            // A pytest run's failures are read one by one, never folded as a log's repeats.
            ("test_runs", include_str!("../../../tests/fixtures/testruns/stdlib_pytest.txt")),
            ("test_runs", include_str!("../../../tests/fixtures/testruns/configparser_pytest.txt")),
            ("text", include_str!("../../../tests/fixtures/logs/LICENSE-loghub")),
        ];
        for (expected, text) in fixtures {
            assert_eq!(routed(text), Some(expected), "{}", &text[..60]);
        }
    }

    #[test]
    fn grep_output_is_search_and_source_code_is_code() {
        let grep: String = include_str!("mod.rs")
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("fn "))
            .map(|(n, l)| format!("daemon/src/engine/mod.rs:{}:{l}\n", n + 1))
            .collect();
        assert_eq!(routed(&grep), Some("search"));
        let component = "import { FC } from 'react'\nimport Card from './Card'\n\ninterface Props {\n  name: string\n}\n\nexport const Hello: FC<Props> = ({ name }) => (\n  <div className=\"a\"><p>Hi</p><p>{name}</p><span>x</span><a>y</a><li>z</li><button>w</button><p>!</p></div>\n)\n\nexport default Hello\n";
        assert!(html::detect(component));
        assert_eq!(routed(component), Some("code"), "JSX is source, not a page");
        assert_eq!(Lang::from_content(component), Some(Lang::Tsx));
        assert_eq!(routed(include_str!("mod.rs")), Some("code"));
        let by_path = Context { file_path: Some("src/app.tsx"), ..Context::default() };
        assert_eq!(route("const x = 1;", &by_path).map(|c| c.name()), Some("code"));
        assert_eq!(routed("[not json"), None);
        let prose = include_str!("../../../tests/fixtures/logs/LICENSE-loghub");
        let from_shell = Context { command: Some("cat LICENSE"), ..Context::default() };
        assert_eq!(route(prose, &from_shell).map(|c| c.name()), None, "a command's output is not prose");
    }
}
