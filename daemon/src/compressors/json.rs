//! The JSON compressor.
//!
//! 1. Cleaning (API responses): null and empty values, URL templates (`…/labels{/name}`) and
//!    URLs that are the object's own `url` plus a suffix are dropped, and counted.
//! 2. Arrays of similar objects become a table: nested objects flattened to dotted columns,
//!    constant columns stated once, and columns derivable from another (`html_url` =
//!    `https://…/issues/{number}`) stated as a pattern.
//! 3. When the table is over budget, rows are chosen: rows matching the query (shown whole),
//!    error/anomaly rows (error-ish words, rare values, numeric outliers), first and last rows,
//!    then the rest in order; omitted rows are counted by their distinguishing fields.
//!
//! JSON that has nothing to clean and no table is only minified (lossless, no marker).

use crate::request::query::{fold, words, Query};
use super::{Compressor, Context};
use crate::request::marker;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Compresses JSON tool output.
pub struct Json;

/// Share of the input's bytes a table may use, when the caller sets no target.
const DEFAULT_BUDGET: f64 = 0.25;
/// A budget never below this many bytes.
const MIN_BUDGET: usize = 4_000;
/// A prefix shared by every value of a string column is stated once when at least this long.
const MIN_SHARED_PREFIX: usize = 16;
/// Strings longer than this are cut in table cells.
const LONG_CELL: usize = 240;
/// Rows matching the query shown whole, at most.
const WHOLE_ROWS: usize = 3;
/// Columns compared when looking for derivable columns.
const MAX_DERIVE_COLUMNS: usize = 80;

/// What cleaning and tabling dropped, for the marker.
#[derive(Default)]
struct Dropped {
    empty: usize,
    templates: usize,
    derived_urls: usize,
    cut_cells: usize,
    rows: Option<(usize, usize, String)>,
}

impl Dropped {
    fn any(&self) -> bool {
        self.empty + self.templates + self.derived_urls + self.cut_cells > 0 || self.rows.is_some()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((omitted, total, by)) = &self.rows {
            parts.push(format!("{omitted} of {total} rows omitted{by}"));
        }
        if self.cut_cells > 0 {
            parts.push(format!("{} long values cut", self.cut_cells));
        }
        if self.derived_urls > 0 {
            parts.push(format!("{} URLs derivable from `url` dropped", self.derived_urls));
        }
        if self.templates > 0 {
            parts.push(format!("{} URL templates dropped", self.templates));
        }
        if self.empty > 0 {
            parts.push(format!("{} null/empty fields dropped", self.empty));
        }
        parts.join("; ")
    }
}

impl Compressor for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let mut dropped = Dropped::default();
        let cleaned = clean(serde_json::from_str::<Value>(text).ok()?, &mut dropped);
        let share = ctx.target_ratio.map_or(DEFAULT_BUDGET, |r| f64::from(r).clamp(0.01, 1.0));
        let budget = ((text.len() as f64 * share) as usize).max(MIN_BUDGET);
        let minified = minify(text);
        let (mut out, tabled) = render(&cleaned, budget, ctx.query, &mut dropped);
        if tabled || dropped.any() {
            let what = if dropped.any() { dropped.describe() } else { "the exact JSON, shown above as a table".to_string() };
            out.push_str(&marker::marker(ctx.key, &what));
            if out.len() < minified.len() {
                return Some(out);
            }
        }
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

fn is_url_template(s: &str) -> bool {
    s.contains("://") && s.contains('{') && s.contains('}')
}

/// Drops null/empty values, URL templates, and URLs that extend the `url` of their object or of
/// an enclosing object (`comments_url` = `url` + `/comments`). Takes the tree and rebuilds it in
/// place of itself, so a large output is never held twice.
fn clean(value: Value, dropped: &mut Dropped) -> Value {
    clean_under(value, &[], dropped)
}

fn clean_under(value: Value, bases: &[String], dropped: &mut Dropped) -> Value {
    match value {
        Value::Object(members) => {
            let own = members.get("url").and_then(Value::as_str).map(|u| format!("{u}/"));
            let derivable = |key: &str, s: &str| {
                let extends = |b: &String| s.starts_with(b.as_str());
                (key.ends_with("_url") && own.as_ref().is_some_and(extends)) || (key.ends_with("url") && bases.iter().any(extends))
            };
            let mut inner: Vec<String> = bases.to_vec();
            inner.extend(own.clone());
            let mut out = Map::new();
            for (key, v) in members {
                match &v {
                    Value::Null => dropped.empty += 1,
                    Value::String(s) if s.is_empty() => dropped.empty += 1,
                    Value::Array(a) if a.is_empty() => dropped.empty += 1,
                    Value::Object(o) if o.is_empty() => dropped.empty += 1,
                    Value::String(s) if is_url_template(s) => dropped.templates += 1,
                    Value::String(s) if derivable(&key, s) => dropped.derived_urls += 1,
                    _ => {
                        let cleaned = clean_under(v, &inner, dropped);
                        out.insert(key, cleaned);
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|v| clean_under(v, bases, dropped)).collect()),
        other => other,
    }
}

/// Whether `items` is worth a table: at least two, nearly all objects, mostly sharing their
/// keys (a table of unrelated objects would be mostly empty cells).
fn tabular(items: &[Value]) -> bool {
    let objects: Vec<&Map<String, Value>> = items.iter().filter_map(Value::as_object).collect();
    if items.len() < 2 || objects.len() * 10 < items.len() * 9 {
        return false;
    }
    let mut keys: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &objects {
        for k in o.keys() {
            *keys.entry(k).or_default() += 1;
        }
    }
    let filled: usize = keys.values().sum();
    filled * 10 >= keys.len() * objects.len() * 6
}

/// Renders the cleaned value: a table for the root array or the largest tabular member of the
/// root object (other members as `key: value` lines), else compact JSON. Also says whether a
/// table was made.
fn render(value: &Value, budget: usize, query: &str, dropped: &mut Dropped) -> (String, bool) {
    match value {
        Value::Array(items) if tabular(items) => (table(items, budget, query, dropped), true),
        Value::Object(members) => {
            let largest = members
                .iter()
                .filter_map(|(k, v)| v.as_array().filter(|a| tabular(a)).map(|a| (k, a)))
                .max_by_key(|(_, a)| a.len());
            let Some((table_key, items)) = largest else { return (compact(value), false) };
            let mut out = String::new();
            for (k, v) in members {
                if k == table_key {
                    out.push_str(&format!("{k}: {} items\n", items.len()));
                    out.push_str(&table(items, budget, query, dropped));
                } else {
                    out.push_str(&format!("{k}: {}\n", compact(v)));
                }
            }
            (out, true)
        }
        _ => (compact(value), false),
    }
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value always serialises")
}

/// The leaves of `value` under dotted keys (`user.login`), borrowed: a table of a large array
/// must not hold a second copy of it.
fn flatten<'v>(prefix: &str, value: &'v Value, out: &mut Vec<(String, &'v Value)>) {
    match value {
        Value::Object(members) if !members.is_empty() => {
            for (k, v) in members {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.to_string(), other)),
    }
}

/// A cell as table text: strings bare unless they would break the row, long ones cut.
fn cell_text(value: &Value, dropped: &mut Dropped) -> String {
    let text = match value {
        Value::String(s) if !s.contains(" | ") && !s.contains('\n') && s.trim() == s => s.clone(),
        other => compact(other),
    };
    if text.chars().count() > LONG_CELL {
        dropped.cut_cells += 1;
        let kept: String = text.chars().take(LONG_CELL / 2).collect();
        format!("{kept}…[+{} chars]", text.chars().count() - LONG_CELL / 2)
    } else {
        text
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A column equal to `prefix + other column + suffix` in every row.
fn derivation(rows: &[BTreeMap<&str, &Value>], column: &str, columns: &[&str]) -> Option<(String, String, String)> {
    let first = rows[0].get(column)?.as_str()?;
    for other in columns.iter().filter(|c| **c != column) {
        let Some(seed) = rows[0].get(other).and_then(|v| scalar_text(v)) else { continue };
        if seed.is_empty() || !first.ends_with(&seed) && !first.contains(&seed) {
            continue;
        }
        let at = first.rfind(&seed)?;
        let (prefix, suffix) = (&first[..at], &first[at + seed.len()..]);
        let holds = rows.iter().all(|r| {
            match (r.get(column).and_then(|v| v.as_str()), r.get(other).and_then(|v| scalar_text(v))) {
                (Some(c), Some(o)) => c.len() == prefix.len() + o.len() + suffix.len() && c.starts_with(prefix) && c.ends_with(suffix) && c[prefix.len()..c.len() - suffix.len()] == *o,
                _ => false,
            }
        });
        if holds {
            return Some((other.to_string(), prefix.to_string(), suffix.to_string()));
        }
    }
    None
}

fn table(items: &[Value], budget: usize, query: &str, dropped: &mut Dropped) -> String {
    let flat: Vec<Vec<(String, &Value)>> = items
        .iter()
        .map(|item| {
            let mut cells = Vec::new();
            flatten("", item, &mut cells);
            cells
        })
        .collect();
    let mut columns: Vec<&str> = Vec::new();
    for row in &flat {
        for (k, _) in row {
            if !columns.contains(&k.as_str()) {
                columns.push(k);
            }
        }
    }
    let rows: Vec<BTreeMap<&str, &Value>> = flat.iter().map(|r| r.iter().map(|(k, v)| (k.as_str(), *v)).collect()).collect();

    let mut header = Vec::new();
    let mut varying: Vec<&str> = Vec::new();
    for column in &columns {
        let first = rows[0].get(column);
        if let Some(value) = first.filter(|_| rows.iter().all(|r| r.get(column) == first)) {
            header.push(format!("{column}={}", cell_text(value, dropped)));
        } else {
            varying.push(column);
        }
    }
    let mut derived_notes = Vec::new();
    if varying.len() <= MAX_DERIVE_COLUMNS {
        let candidates = varying.clone();
        varying.retain(|column| match derivation(&rows, column, &candidates) {
            Some((other, prefix, suffix)) if !derived_notes.iter().any(|(c, _): &(String, String)| *c == other) => {
                derived_notes.push((column.to_string(), format!("{column}={prefix}{{{other}}}{suffix}")));
                false
            }
            _ => true,
        });
    }

    let prefixes: Vec<usize> = varying.iter().map(|c| shared_prefix(&rows, c)).collect();
    for (column, len) in varying.iter().zip(&prefixes).filter(|(_, len)| **len > 0) {
        let example = rows.iter().find_map(|r| r.get(column).and_then(|v| v.as_str())).unwrap_or("");
        derived_notes.push((column.to_string(), format!("{column}={}{{…}}", &example[..*len])));
    }
    let row_text = |r: &BTreeMap<&str, &Value>, dropped: &mut Dropped| -> String {
        let cells = varying.iter().zip(&prefixes).map(|(c, len)| match r.get(c) {
            Some(Value::String(s)) if *len > 0 => cell_text(&Value::String(s[*len..].to_string()), dropped),
            Some(v) => cell_text(v, dropped),
            None => String::new(),
        });
        cells.collect::<Vec<_>>().join(" | ")
    };
    let mut scratch = Dropped::default();
    let texts: Vec<String> = rows.iter().map(|r| row_text(r, &mut scratch)).collect();

    let query = Query::new(query).discriminative(items.iter().map(compact), 0.2);
    let scores: Vec<usize> = rows.iter().map(|r| query_score(&query, r)).collect();
    let mut whole: Vec<usize> = (0..rows.len()).filter(|i| scores[*i] > 0).collect();
    whole.sort_by(|a, b| scores[*b].cmp(&scores[*a]).then(a.cmp(b)));
    whole.truncate(WHOLE_ROWS);
    whole.sort();

    let keep = choose_rows(&rows, &texts, &scores, &whole, budget);
    let mut out = String::new();
    let mut note = format!("[{} rows", rows.len());
    if !header.is_empty() {
        note.push_str(&format!("; in every row: {}", header.join(", ")));
    }
    for (_, d) in &derived_notes {
        note.push_str(&format!("; {d}"));
    }
    note.push_str("]\n");
    out.push_str(&note);
    out.push_str(&varying.join(" | "));
    out.push('\n');
    for (i, r) in rows.iter().enumerate() {
        if keep[i] && !whole.contains(&i) {
            out.push_str(&row_text(r, dropped));
            out.push('\n');
        }
    }
    for i in &whole {
        out.push_str(&format!("row {} matches the question, whole: {}\n", i + 1, compact(&items[*i])));
    }
    let omitted: Vec<usize> = (0..rows.len()).filter(|i| !keep[*i] && !whole.contains(i)).collect();
    if !omitted.is_empty() {
        dropped.rows = Some((omitted.len(), rows.len(), distinguishing(&rows, &varying, &omitted)));
    }
    out
}

/// Length of the prefix every value of a string column shares (ending at a `/`, `=`, `-` or
/// `_` so it reads as a template), or 0 when shorter than [`MIN_SHARED_PREFIX`] or when a row
/// has another kind of value.
fn shared_prefix(rows: &[BTreeMap<&str, &Value>], column: &str) -> usize {
    let mut values = rows.iter().filter_map(|r| r.get(column));
    let Some(first) = values.next().and_then(|v| v.as_str()) else { return 0 };
    let mut len = first.len();
    for v in values {
        let Some(s) = v.as_str() else { return 0 };
        len = first.bytes().zip(s.bytes()).take(len).take_while(|(a, b)| a == b).count();
    }
    let cut = first[..len].rfind(['/', '=', '-', '_']).map_or(0, |i| i + 1);
    if cut >= MIN_SHARED_PREFIX && rows.iter().all(|r| r.get(column).is_some_and(|v| v.is_string())) { cut } else { 0 }
}

/// How strongly a row matches the query: numbers must equal a whole cell, words match words.
fn query_score(query: &Query, row: &BTreeMap<&str, &Value>) -> usize {
    let mut score = 0;
    for term in query.terms() {
        let numeric = term.chars().all(|c| c.is_ascii_digit());
        let hit = row.values().any(|v| match v {
            Value::Number(n) => numeric && n.to_string() == term,
            Value::String(s) if numeric => s == term,
            Value::String(s) => words(s).any(|w| fold(w) == term),
            _ => false,
        });
        score += usize::from(hit);
    }
    score
}

fn error_ish(row: &BTreeMap<&str, &Value>) -> bool {
    row.values().any(|v| {
        v.as_str().is_some_and(|s| {
            words(s).any(|w| matches!(fold(w).as_str(), "error" | "failed" | "failure" | "fail" | "exception" | "fatal" | "denied" | "invalid" | "timeout"))
        })
    })
}

/// Rows whose value in a low-cardinality column is rare, or whose number is an outlier.
fn anomalies(rows: &[BTreeMap<&str, &Value>], columns: &[&str]) -> Vec<bool> {
    let mut flagged = vec![false; rows.len()];
    if rows.len() < 10 {
        return flagged;
    }
    for column in columns {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut numbers = Vec::new();
        for r in rows {
            if let Some(v) = r.get(column) {
                *counts.entry(compact(v)).or_default() += 1;
                if let Some(x) = v.as_f64() {
                    numbers.push(x);
                }
            }
        }
        if (2..=8).contains(&counts.len()) {
            let rare = (rows.len() / 20).max(1);
            for (i, r) in rows.iter().enumerate() {
                if r.get(column).is_some_and(|v| counts[&compact(v)] <= rare) {
                    flagged[i] = true;
                }
            }
        }
        if numbers.len() == rows.len() {
            let mean = numbers.iter().sum::<f64>() / numbers.len() as f64;
            let sd = (numbers.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / numbers.len() as f64).sqrt();
            if sd > 0.0 {
                for (i, x) in numbers.iter().enumerate() {
                    if (x - mean).abs() > 3.0 * sd {
                        flagged[i] = true;
                    }
                }
            }
        }
    }
    flagged
}

fn choose_rows(rows: &[BTreeMap<&str, &Value>], texts: &[String], scores: &[usize], whole: &[usize], budget: usize) -> Vec<bool> {
    let n = rows.len();
    let total: usize = texts.iter().map(|t| t.len() + 1).sum();
    if total <= budget {
        return vec![true; n];
    }
    let mut keep = vec![false; n];
    let mut used = 0;
    let mut take = |i: usize, keep: &mut Vec<bool>| {
        if !keep[i] && used + texts[i].len() < budget {
            keep[i] = true;
            used += texts[i].len() + 1;
        }
    };
    for &i in whole {
        keep[i] = true;
    }
    let mut by_score: Vec<usize> = (0..n).filter(|i| scores[*i] > 0).collect();
    by_score.sort_by(|a, b| scores[*b].cmp(&scores[*a]).then(a.cmp(b)));
    for i in by_score {
        take(i, &mut keep);
    }
    let columns: Vec<&str> = rows.iter().flat_map(|r| r.keys().copied()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let odd = anomalies(rows, &columns);
    for i in 0..n {
        if error_ish(&rows[i]) || odd[i] {
            take(i, &mut keep);
        }
    }
    for i in [0, 1, 2, n - 1, n - 2] {
        take(i.min(n - 1), &mut keep);
    }
    for i in 0..n {
        take(i, &mut keep);
    }
    keep
}

/// For omitted rows, value counts of the columns with few distinct values.
fn distinguishing(rows: &[BTreeMap<&str, &Value>], columns: &[&str], omitted: &[usize]) -> String {
    let mut parts = Vec::new();
    for column in columns {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for r in rows {
            counts.entry(r.get(column).map_or("-".into(), |v| cell_text(v, &mut Dropped::default()))).or_default();
        }
        if !(2..=6).contains(&counts.len()) {
            continue;
        }
        let mut among: BTreeMap<String, usize> = BTreeMap::new();
        for &i in omitted {
            *among.entry(rows[i].get(column).map_or("-".into(), |v| cell_text(v, &mut Dropped::default()))).or_default() += 1;
        }
        let listed: Vec<String> = among.iter().map(|(v, c)| format!("{v} {c}")).collect();
        parts.push(format!("{column}: {}", listed.join(", ")));
        if parts.len() == 3 {
            break;
        }
    }
    if parts.is_empty() { String::new() } else { format!(" ({})", parts.join("; ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API responses recorded in a fixture (a list of request/response records), the way
    /// a tool would return them: arrays concatenated, else the largest object.
    fn responses(fixture: &str) -> String {
        let records: Vec<Value> = serde_json::from_str(fixture).unwrap();
        let arrays: Vec<Value> = records.iter().filter_map(|r| r["response"].as_array()).flatten().cloned().collect();
        if !arrays.is_empty() {
            return serde_json::to_string_pretty(&arrays).unwrap();
        }
        let listing = records.iter().map(|r| &r["response"]).find(|r| r.get("items").is_some()).unwrap();
        serde_json::to_string_pretty(listing).unwrap()
    }

    fn issues() -> String {
        responses(include_str!("../../../tests/fixtures/github/paginate-issues.json"))
    }

    fn ctx<'a>(query: &'a str) -> Context<'a> {
        Context { query, key: "0123456789abcdef01234567", ..Context::default() }
    }

    #[test]
    fn minify_keeps_strings_numbers_and_order() {
        let text = "{\n  \"b\" : [1.10, 2e3 ],\n  \"a\": \"x  \\\" y\\\\\" \n}";
        let out = minify(text);
        assert_eq!(out, r#"{"b":[1.10,2e3],"a":"x  \" y\\"}"#);
        assert_eq!(Json.compress(text, &ctx("")), Some(out));
        assert_eq!(Json.compress("[1,2]", &ctx("")), None);
    }

    #[test]
    fn arrays_of_api_objects_become_a_much_smaller_table_with_one_marker() {
        let labels_text = responses(include_str!("../../../tests/fixtures/github/labels.json"));
        let out = Json.compress(&labels_text, &ctx("")).unwrap();
        assert!(out.len() * 5 < labels_text.len() * 3, "{} -> {}\n{out}", labels_text.len(), out.len());
        assert_eq!(marker::keys_in(&out).len(), 1);
        let labels: Value = serde_json::from_str(&labels_text).unwrap();
        let names: Vec<String> = collect_strings(&labels, "name");
        assert!(!names.is_empty());
        for name in names {
            assert!(out.contains(&name), "label {name} lost:\n{out}");
        }
    }

    #[test]
    fn every_kept_value_stays_on_the_row_of_the_object_it_came_from() {
        let text = issues();
        let items: Vec<Value> = serde_json::from_str(&text).unwrap();
        let out = Json.compress(&text, &ctx("")).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        let at = lines.iter().position(|l| l.starts_with('[') && l.contains(" rows")).expect("a table");
        let columns: Vec<&str> = lines[at + 1].split(" | ").collect();
        let number = columns.iter().position(|c| *c == "number").expect("issues are numbered");
        let rows: Vec<Vec<&str>> = lines[at + 2..].iter().take_while(|l| !l.starts_with("[headroom:") && !l.starts_with("row ")).map(|l| l.split(" | ").collect()).collect();
        assert!(rows.len() >= 2 && columns.len() >= 2, "{out}");
        for row in rows {
            assert_eq!(row.len(), columns.len(), "a row with a cell too many or too few: {row:?}");
            let item = items.iter().find(|i| i["number"].to_string() == row[number]).unwrap_or_else(|| panic!("no issue {}", row[number]));
            for (column, cell) in columns.iter().zip(&row) {
                let value = &item[*column];
                let rendered = value.as_str().map_or_else(|| value.to_string(), str::to_string);
                // A cell may hold the value after a prefix the header states once, or its start.
                let cell = cell.split("…[+").next().unwrap();
                assert!(rendered.ends_with(cell) || rendered.starts_with(cell), "issue {}: {column} = {cell:?}, its own is {rendered:?}", row[number]);
            }
        }
    }

    fn collect_strings(v: &Value, key: &str) -> Vec<String> {
        let mut found = Vec::new();
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == key {
                        if let Some(s) = x.as_str() {
                            found.push(s.to_string());
                        }
                    }
                    found.extend(collect_strings(x, key));
                }
            }
            Value::Array(a) => a.iter().for_each(|x| found.extend(collect_strings(x, key))),
            _ => {}
        }
        found
    }

    #[test]
    fn a_row_the_question_names_is_shown_whole() {
        let issues: Vec<Value> = (1..=40)
            .map(|n| serde_json::json!({
                "url": format!("https://api.example.com/repos/o/r/issues/{n}"),
                "comments_url": format!("https://api.example.com/repos/o/r/issues/{n}/comments"),
                "labels_url": format!("https://api.example.com/repos/o/r/issues/{n}/labels{{/name}}"),
                "html_url": format!("https://example.com/o/r/issues/{n}"),
                "number": n, "state": "open", "title": format!("Issue number {n} about things"),
                "body": null, "created_at": format!("2022-07-19T04:{:02}:13Z", n),
            }))
            .collect();
        let text = serde_json::to_string_pretty(&issues).unwrap();
        let out = Json.compress(&text, &ctx("What is the URL of issue #13?")).unwrap();
        assert!(out.contains("https://example.com/o/r/issues/13\""), "{out}");
        assert!(out.contains("html_url=https://example.com/o/r/issues/{number}"), "{out}");
        assert!(out.contains("state=open"));
        assert!(out.len() * 4 < text.len(), "{} -> {}", text.len(), out.len());
    }

    #[test]
    fn over_budget_tables_keep_errors_and_count_the_rest() {
        let rows: Vec<Value> = (0..500)
            .map(|i| serde_json::json!({"id": i, "status": if i == 321 { "error: disk full" } else { "ok" }, "latency_ms": 10 + i % 7}))
            .collect();
        let text = serde_json::to_string(&rows).unwrap();
        let out = Json.compress(&text, &ctx("")).unwrap();
        assert!(out.contains("321 | error: disk full"), "{out}");
        assert!(out.contains("rows omitted (status: ok "), "{out}");
        assert!(out.len() * 3 < text.len());
    }

    #[test]
    fn wrapped_search_results_keep_their_scalars() {
        let search = responses(include_str!("../../../tests/fixtures/github/search-issues.json"));
        let out = Json.compress(&search, &ctx("who opened it")).unwrap();
        assert!(out.contains("total_count: "), "{out}");
        assert!(out.len() < search.len() / 2, "{} -> {}\n{out}", search.len(), out.len());
    }

    #[test]
    fn same_input_same_output() {
        let issues = issues();
        assert_eq!(Json.compress(&issues, &ctx("13")), Json.compress(&issues, &ctx("13")));
    }
}
