//! The JSON compressor.
//!
//! 1. Cleaning (API responses): null and empty values, URL templates (`…/labels{/name}`) and
//!    URLs that are the object's own `url` plus a suffix are dropped, and counted.
//! 2. Arrays of similar objects become a table: nested objects flattened to dotted columns,
//!    constant columns stated once, and columns derivable from another (`html_url` =
//!    `https://…/issues/{number}`) stated as a pattern.
//! 3. When the table is over budget, rows are chosen: rows matching the query (shown whole),
//!    the highest and lowest of a numeric column the question names, error rows, anomalies
//!    (rare values of categorical columns, rarest first; numeric outliers), first and last rows,
//!    then the rest in order; omitted rows are counted by their distinguishing fields, every
//!    value of a column the question names is listed, and so is every host only they hold
//!    (those of rows on the question under the cells they matched: `conn_state=RSTO`).
//!    An object whose members are similar objects (`{"node_modules/x": {"version": …}, …}`) is
//!    a table too, its member names in the first column; a member's members of the same kind
//!    (sub-features) are rows of their own, and members sharing no field with the rows are
//!    shown above the table. Wrappers of one member (`{"data": {"items": …}}`) are a path.
//!    Rows of more than [`WIDE_COLUMNS`] columns stay JSON objects under short labels, so every
//!    value keeps its key beside it.
//!    Rows sent as arrays of one length (`"data": [[…], …]`) are named by a sibling list of
//!    column names (`"fields"`, `"columns"`) and tabled the same way.
//! 4. A document with no table (an API description, a schema, a config) that is over budget
//!    keeps its structure and every short value; its long prose strings are cut to their first
//!    sentence, except the few the question is most about (with the keys leading to them), and
//!    while it is still over budget its sentence-long strings to their first words.
//!
//! JSON that has nothing to clean and no table is only minified (lossless, no marker).

use crate::request::query::{fold, identifier_parts, words, Query};
use super::logs::ipv4_in;
use super::media_types;
use super::{add_to_group, Compressor, Context};
use crate::request::marker;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// Compresses JSON tool output.
pub struct Json;

/// Share of the input's bytes a table may use, when the caller sets no target.
pub(crate) const DEFAULT_BUDGET: f64 = 0.15;
/// A budget never below this many bytes.
pub(crate) const MIN_BUDGET: usize = 4_000;
/// A prefix shared by every value of a string column is stated once when at least this long.
const MIN_SHARED_PREFIX: usize = 16;
/// Strings longer than this are cut in table cells.
const LONG_CELL: usize = 240;
/// Rows matching the query shown whole, at most.
const WHOLE_ROWS: usize = 3;
/// Columns compared when looking for derivable columns.
const MAX_DERIVE_COLUMNS: usize = 80;
/// Members an object needs before its similar members read as rows of a table.
const MIN_MAP_ROWS: usize = 4;
/// A table's cells must be at least this share filled: an empty cell costs ` | `, a filled
/// one saves its key, so sparser rows make a wider text than the JSON.
const MIN_FILLED: f64 = 0.4;
/// Distinct keys from which a nested object whose keys vary from row to row is a map.
const MIN_MAP_KEYS: usize = 6;
/// Strings longer than this (in characters, with spaces) are prose a document may cut.
const LONG_PROSE: usize = 200;
/// A cut prose string keeps its first sentence, at most this many characters.
const FIRST_SENTENCE_MAX: usize = 160;
/// Long prose strings the question is most about, kept whole, at most.
const PROSE_WHOLE_MAX: usize = 8;
/// Rows kept at each end of a numeric column the question names.
const EXTREME_ROWS: usize = 3;
/// Columns past which a table's rows (from JSON) are written as objects (see [`wide_row`]).
const WIDE_COLUMNS: usize = 10;
/// Distinct values (over all rows) a column may have for the omitted rows to be counted by it.
const DISTINGUISHING_VALUES: usize = 12;
/// Bytes the hosts of omitted rows may take in the marker, at most.
const HOSTS_LISTED: usize = 2_000;
/// The share of [`HOSTS_LISTED`] (one part in this many) the hosts of omitted rows off the
/// question get when the question picked out rows.
const OFF_QUESTION_SHARE: usize = 4;
/// Groups of omitted rows on the question listed apart by the cells they matched, at most.
const MATCH_GROUPS: usize = 3;
/// Characters of a matched cell that may name its group.
const MATCHED_CELL: usize = 40;
/// Endings that make a dotted name a file's, not a host's.
const FILE_EXTENSIONS: &[&str] =
    &["html", "htm", "js", "css", "json", "xml", "txt", "log", "exe", "dll", "pdf", "png", "jpg", "gif", "zip", "gz", "jar", "class", "php", "py", "rs", "go", "java", "ts"];
/// The first column of a table made from an object's members: the member names.
const MEMBER_COLUMN: &str = "(name)";
/// The last column of a table whose rows carry rare fields: those fields, by name, as JSON.
const OTHER_COLUMN: &str = "(other)";
/// Columns filled in fewer than this share of the rows are rare (see [`rare_columns`]).
const RARE_COLUMN: f64 = 0.1;
/// Rows a table needs before any column counts as rare.
const MIN_RARE_ROWS: usize = 10;

/// What cleaning and tabling dropped, for the marker.
#[derive(Default)]
struct Dropped {
    empty: usize,
    templates: usize,
    derived_urls: usize,
    own_names: usize,
    cut_cells: usize,
    rows: Option<(usize, usize, String)>,
}

impl Dropped {
    fn any(&self) -> bool {
        self.empty + self.templates + self.derived_urls + self.own_names + self.cut_cells > 0 || self.rows.is_some()
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
        if self.own_names > 0 {
            parts.push(format!("{} fields repeating the key of their object dropped", self.own_names));
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
        let cleaned = positional_rows(clean(serde_json::from_str::<Value>(text).ok()?, &mut dropped));
        let budget = table_budget(text, ctx, DEFAULT_BUDGET);
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

/// The bytes a table of `text` may use: the caller's target share, else `default_share`
/// ([`DEFAULT_BUDGET`] but for a log written as a table).
pub(crate) fn table_budget(text: &str, ctx: &Context, default_share: f64) -> usize {
    let share = ctx.target_ratio.map_or(default_share, |r| f64::from(r).clamp(0.01, 1.0));
    ((text.len() as f64 * share) as usize).max(MIN_BUDGET)
}

/// `rows` (objects sharing their columns, read from another format such as tab-separated
/// values) as this compressor's table, its rows chosen to fit `budget`, with its marker.
pub(crate) fn rows_as_table(rows: &[Value], budget: usize, ctx: &Context) -> String {
    let collection = Collection { rows: rows.iter().map(Cow::Borrowed).collect(), names: None, maps: BTreeSet::new(), apart: Vec::new(), keyed: false };
    let mut dropped = Dropped::default();
    let mut out = table(&collection, budget, ctx.query, &mut dropped);
    let what = if dropped.any() { dropped.describe() } else { "the exact text, shown above as a table".to_string() };
    out.push_str(&marker::marker(ctx.key, &what));
    out.push('\n');
    out
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
                        let cleaned = clean_under(without_own_name(v, &key, dropped), &inner, dropped);
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

/// `value` without the string fields that repeat the key it is under (`"AuditConfig": {"id":
/// "AuditConfig", …}`, as API descriptions name their schemas): the key says it.
fn without_own_name(value: Value, key: &str, dropped: &mut Dropped) -> Value {
    let Value::Object(mut members) = value else { return value };
    let before = members.len();
    members.retain(|_, v| v.as_str() != Some(key));
    dropped.own_names += before - members.len();
    Value::Object(members)
}

/// Rows given as arrays of one length — the root, or a member of the root object (`"data":
/// [[…], …]`, as SQL results, pandas' `split` orient and archive APIs send them) — as objects
/// under their column names, so they table like any records. The names come from a sibling
/// member listing one per column (strings, or objects with a `name`), else by position.
fn positional_rows(value: Value) -> Value {
    match value {
        Value::Array(items) if positional(&items) => {
            let width = items[0].as_array().map_or(0, Vec::len);
            Value::Array(named_cells(items, &default_names(width)))
        }
        Value::Object(mut members) => {
            let keys: Vec<String> = members.iter().filter(|(_, v)| v.as_array().is_some_and(|a| positional(a))).map(|(k, _)| k.clone()).collect();
            for key in keys {
                let width = members[&key][0].as_array().map_or(0, Vec::len);
                let names = members.iter().filter(|(k, _)| **k != key).find_map(|(_, v)| column_names(v, width)).unwrap_or_else(|| default_names(width));
                let Some(Value::Array(rows)) = members.get_mut(&key).map(std::mem::take) else { continue };
                members[&key] = Value::Array(named_cells(rows, &names));
            }
            Value::Object(members)
        }
        other => other,
    }
}

/// Whether `items` are rows as arrays: at least two, all arrays of one length of at least two.
fn positional(items: &[Value]) -> bool {
    let width = items.first().and_then(Value::as_array).map_or(0, Vec::len);
    items.len() >= 2 && width >= 2 && items.iter().all(|row| row.as_array().is_some_and(|r| r.len() == width))
}

/// A list of `width` distinct column names: strings, or objects naming themselves by `name`.
fn column_names(value: &Value, width: usize) -> Option<Vec<String>> {
    let names: Vec<String> = value
        .as_array()?
        .iter()
        .map(|c| c.as_str().or_else(|| c.get("name").and_then(Value::as_str)).map(str::to_string))
        .collect::<Option<_>>()?;
    let distinct: BTreeSet<&String> = names.iter().collect();
    (names.len() == width && distinct.len() == width).then_some(names)
}

fn default_names(width: usize) -> Vec<String> {
    (1..=width).map(|i| format!("column {i}")).collect()
}

/// Each row's cells as an object under `names`.
fn named_cells(rows: Vec<Value>, names: &[String]) -> Vec<Value> {
    rows.into_iter()
        .map(|row| match row {
            Value::Array(cells) => Value::Object(names.iter().cloned().zip(cells).collect()),
            other => other,
        })
        .collect()
}

/// A collection a table can show, with how to lay out its rows.
struct Collection<'v> {
    /// The records, borrowed; a record some of whose members became rows of their own is a copy
    /// without them.
    rows: Vec<Cow<'v, Value>>,
    /// The row names, when the rows are an object's members (`parent.child` for nested ones).
    names: Option<Vec<String>>,
    /// Nested objects kept whole in one cell (see [`nested_maps`]).
    maps: BTreeSet<String>,
    /// Members of the object sharing no field with its rows (an interface's own record beside
    /// those of its features), shown as they are above the table.
    apart: Vec<(&'v str, &'v Value)>,
    /// Whether the source wrote each value next to its key (JSON, not a delimited table's
    /// header): then a wide table's rows keep them together.
    keyed: bool,
}

/// A collection a table can show: an array of similar objects, or an object of at least
/// [`MIN_MAP_ROWS`] of them (whose member names become the first column). In an object, the
/// members of a row that are records of the same kind (a feature's sub-features) are rows too.
fn collection(value: &Value) -> Option<Collection<'_>> {
    let (rows, names, apart): (Vec<Cow<Value>>, _, _) = match value {
        Value::Array(items) => (items.iter().map(Cow::Borrowed).collect(), None, Vec::new()),
        Value::Object(members) if members.len() >= MIN_MAP_ROWS => {
            let fields = row_fields(members.values());
            let shares = |v: &Value| v.as_object().is_none_or(|o| o.keys().any(|k| fields.contains(k.as_str())));
            let apart: Vec<(&str, &Value)> = members.iter().filter(|(_, v)| !shares(v)).map(|(k, v)| (k.as_str(), v)).collect();
            let (mut rows, mut names) = (Vec::new(), Vec::new());
            for (name, member) in members.iter().filter(|(_, v)| shares(v)) {
                push_rows(name.clone(), member, &fields, &mut rows, &mut names);
            }
            (rows, Some(names), apart)
        }
        _ => return None,
    };
    let borrowed: Vec<&Value> = rows.iter().map(AsRef::as_ref).collect();
    let (maps, long_maps) = nested_maps(&borrowed);
    // An object's members holding long maps of their own are documents (an API's shapes with
    // their members), which a table of cut cells would gut; arrays of records table as before.
    if names.is_some() && long_maps {
        return None;
    }
    tabular(&borrowed, &maps).then_some(Collection { rows, names, maps, apart, keyed: true })
}

/// The fields at least half of the object `members` have: what makes a member one of its rows.
fn row_fields<'v>(members: impl Iterator<Item = &'v Value>) -> BTreeSet<&'v str> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut objects = 0;
    for member in members.filter_map(Value::as_object) {
        objects += 1;
        member.keys().for_each(|k| *counts.entry(k.as_str()).or_default() += 1);
    }
    counts.into_iter().filter(|(_, n)| n * 2 >= objects).map(|(k, _)| k).collect()
}

/// `record` as a row named `name`, and each of its members that is a record with the rows'
/// `fields` as a row of its own, named `name.member` (recursively), taken out of it.
fn push_rows<'v>(name: String, record: &'v Value, fields: &BTreeSet<&str>, rows: &mut Vec<Cow<'v, Value>>, names: &mut Vec<String>) {
    let is_row = |(k, v): &(&String, &Value)| !fields.contains(k.as_str()) && v.as_object().is_some_and(|o| o.keys().any(|f| fields.contains(f.as_str())));
    let Some(members) = record.as_object().filter(|m| m.iter().any(|member| is_row(&member))) else {
        rows.push(Cow::Borrowed(record));
        names.push(name);
        return;
    };
    let own: Map<String, Value> = members.iter().filter(|member| !is_row(member)).map(|(k, v)| (k.clone(), v.clone())).collect();
    rows.push(Cow::Owned(Value::Object(own)));
    names.push(name.clone());
    for (key, member) in members.iter().filter(|member| is_row(member)) {
        push_rows(format!("{name}.{key}"), member, fields, rows, names);
    }
}

/// Whether `items` is worth a table: at least two, nearly all objects, their leaves filling
/// enough cells of the table they would make that it reads shorter than the JSON.
fn tabular(items: &[&Value], maps: &BTreeSet<String>) -> bool {
    let objects: Vec<&Value> = items.iter().copied().filter(|v| v.is_object()).collect();
    if items.len() < 2 || objects.len() * 10 < items.len() * 9 {
        return false;
    }
    let flat: Vec<Vec<(String, &Value)>> = objects.iter().map(|item| leaves(item, maps)).collect();
    let counts = column_counts(&flat);
    let rare = rare_columns(&counts, flat.len());
    let with_rare = flat.iter().filter(|row| row.iter().any(|(c, _)| rare.contains(c))).count();
    let columns = counts.len() - rare.len() + usize::from(with_rare > 0);
    let filled = counts.iter().filter(|(c, _)| !rare.contains(*c)).map(|(_, n)| n).sum::<usize>() + with_rare;
    filled as f64 >= (columns * flat.len()) as f64 * MIN_FILLED
}

/// The leaves of one row (see [`flatten`]).
fn leaves<'v>(item: &'v Value, maps: &BTreeSet<String>) -> Vec<(String, &'v Value)> {
    let mut cells = Vec::new();
    flatten("", item, maps, &mut cells);
    cells
}

/// How many rows fill each column.
fn column_counts(flat: &[Vec<(String, &Value)>]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (column, _) in flat.iter().flatten() {
        *counts.entry(column.clone()).or_default() += 1;
    }
    counts
}

/// Columns too rarely filled to have their own (a field a few records carry): their cells go
/// together, with their names, into one [`OTHER_COLUMN`] cell.
fn rare_columns(counts: &BTreeMap<String, usize>, rows: usize) -> BTreeSet<String> {
    if rows < MIN_RARE_ROWS {
        return BTreeSet::new();
    }
    counts.iter().filter(|(_, n)| (**n as f64) < rows as f64 * RARE_COLUMN).map(|(c, _)| c.clone()).collect()
}

/// The dotted paths of nested objects whose keys vary from row to row (a package's
/// `dependencies`, named by what they hold): each stays whole in one cell, as a column per key
/// would leave most cells empty. Such objects too long, on average, for a cell are flattened as
/// any other, and the second value says there were some.
fn nested_maps(items: &[&Value]) -> (BTreeSet<String>, bool) {
    /// Per path: occurrences, members in all, bytes in all, distinct member names.
    type Seen<'v> = BTreeMap<String, (usize, usize, usize, BTreeSet<&'v str>)>;
    /// Records `value`'s nested objects in `seen`; returns its length as compact JSON.
    fn walk<'v>(path: &str, value: &'v Value, seen: &mut Seen<'v>) -> usize {
        match value {
            Value::Object(members) => {
                let len = 1 + members.iter().map(|(k, v)| k.len() + 4 + walk(&dotted(path, k), v, seen)).sum::<usize>();
                if !path.is_empty() {
                    let (times, children, bytes, keys) = seen.entry(path.to_string()).or_default();
                    *times += 1;
                    *children += members.len();
                    *bytes += len;
                    keys.extend(members.keys().map(String::as_str));
                }
                len
            }
            // Arrays stay whole in a cell: what they hold is not laid out as columns.
            other => compact(other).len(),
        }
    }
    let mut seen = Seen::new();
    items.iter().for_each(|item| {
        walk("", item, &mut seen);
    });
    let mut maps = BTreeSet::new();
    let mut long_maps = false;
    for (path, (times, children, bytes, keys)) in seen {
        if keys.len() >= MIN_MAP_KEYS && keys.len() * times > 2 * children {
            if bytes > LONG_CELL * times {
                long_maps = true;
            } else {
                maps.insert(path);
            }
        }
    }
    (maps, long_maps)
}

fn dotted(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

/// Renders the cleaned value: a table for the root collection or the largest tabular member of
/// the root object (other members as `key: value` lines), else the document (see
/// [`document`]). Also says whether a table was made.
fn render(value: &Value, budget: usize, query: &str, dropped: &mut Dropped) -> (String, bool) {
    // Wrappers of one member (`{"data": {"items": …}}`) are a path to what they hold.
    let mut keys = Vec::new();
    let mut inner = value;
    while let Some((key, next)) = sole(inner) {
        keys.push(key.as_str());
        inner = next;
    }
    if !keys.is_empty() {
        let (out, tabled) = render(inner, budget, query, dropped);
        if tabled {
            return (format!("{}:\n{out}", keys.join(".")), true);
        }
        let open: String = keys.iter().map(|k| format!("{{{}:", Value::String(k.to_string()))).collect();
        return (format!("{open}{out}{}", "}".repeat(keys.len())), false);
    }
    if let Some(rows) = collection(value) {
        return (table(&rows, budget, query, dropped), true);
    }
    let Value::Object(members) = value else { return (document(value, budget, query, dropped), false) };
    // Every member that is a collection becomes a table, the budget shared by their sizes (an
    // API's response rows and its column list side by side).
    let tables: BTreeMap<&String, (Collection, usize)> =
        members.iter().filter_map(|(k, v)| collection(v).map(|c| (k, (c, compact(v).len())))).collect();
    if tables.is_empty() {
        return (document(value, budget, query, dropped), false);
    }
    let table_bytes: usize = tables.values().map(|(_, size)| size).sum();
    // The other members as they are, in order, unless together they are over budget: then with
    // their long prose cut.
    let rest = || members.iter().filter(|(k, _)| !tables.contains_key(k));
    let mut others: Vec<String> = rest().map(|(_, v)| compact(v)).collect();
    if others.iter().map(String::len).sum::<usize>() > budget {
        let cut = cut_long_prose(Value::Object(rest().map(|(k, v)| (k.clone(), v.clone())).collect()), budget, query, dropped);
        others = cut.as_object().into_iter().flat_map(|m| m.values()).map(compact).collect();
    }
    let mut others = others.into_iter();
    let mut out = String::new();
    for k in members.keys() {
        match tables.get(k) {
            Some((rows, size)) => {
                let share = (budget as f64 * *size as f64 / table_bytes as f64) as usize;
                out.push_str(&format!("{k}: {} items\n", rows.rows.len()));
                out.push_str(&table(rows, share.max(MIN_BUDGET.min(budget)), query, dropped));
            }
            None => out.push_str(&format!("{k}: {}\n", others.next().unwrap_or_default())),
        }
    }
    (out, true)
}

/// The one member of an object that has only it, when that member is an object itself.
fn sole(value: &Value) -> Option<(&String, &Value)> {
    value.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next()).filter(|(_, inner)| inner.is_object())
}

/// A value with no table, as compact JSON: whole when within budget, else with its long prose
/// cut (see [`cut_long_prose`]).
fn document(value: &Value, budget: usize, query: &str, dropped: &mut Dropped) -> String {
    let whole = compact(value);
    if whole.len() <= budget {
        return whole;
    }
    compact(&cut_long_prose(value.clone(), budget, query, dropped))
}

/// `value` (over `budget`) with every long prose string (over [`LONG_PROSE`] characters, words
/// with spaces) cut to its first sentence, except those the question is most about (by BM25
/// over the strings and the keys leading to them, up to a quarter of the budget). Keys,
/// numbers, short strings and the shape stay as they were, so every kept value stays under the
/// key that names it.
fn cut_long_prose(mut value: Value, budget: usize, query: &str, dropped: &mut Dropped) -> Value {
    let query = Query::new(query);
    for cut in &PROSE_CUTS {
        let mut prose = Vec::new();
        collect_prose("", &value, cut, &mut prose);
        let docs: Vec<&str> = prose.iter().map(String::as_str).collect();
        // A word in a quarter of the strings (`applies` in an API's descriptions) tells none apart.
        let scores = query.discriminative(docs.iter(), 0.25).bm25(&docs);
        let mut ranked: Vec<usize> = (0..docs.len()).filter(|i| scores[*i] > 0.0).collect();
        ranked.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
        let mut whole = vec![false; docs.len()];
        let mut used = 0;
        for i in ranked.into_iter().take(PROSE_WHOLE_MAX) {
            if used + docs[i].len() <= budget / 4 {
                whole[i] = true;
                used += docs[i].len();
            }
        }
        value = cut_prose(value, cut, &mut whole.into_iter(), dropped);
        if compact(&value).len() <= budget {
            break;
        }
    }
    value
}

/// Each prose string longer than `cut` allows, with the dotted keys that lead to it, as one
/// text, in the order [`cut_prose`] meets them.
fn collect_prose(path: &str, value: &Value, cut: &ProseCut, out: &mut Vec<String>) {
    match value {
        Value::String(s) if cut.applies(s) => out.push(format!("{path} {s}")),
        Value::Object(members) => members.iter().for_each(|(k, v)| collect_prose(&format!("{path}.{k}"), v, cut, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_prose(path, v, cut, out)),
        _ => {}
    }
}

/// Cuts each prose string `cut` applies to, unless the next of `whole` says to keep it.
fn cut_prose(value: Value, cut: &ProseCut, whole: &mut impl Iterator<Item = bool>, dropped: &mut Dropped) -> Value {
    match value {
        Value::String(s) if cut.applies(&s) => {
            if whole.next().unwrap_or(true) {
                return Value::String(s);
            }
            // A string an earlier pass cut is cut again from what it kept, its count carried on.
            let (text, before) = match s.rsplit_once("…[+").and_then(|(text, n)| Some((text, n.strip_suffix(" chars]")?.parse::<usize>().ok()?))) {
                Some((text, n)) => (text, n),
                None => {
                    dropped.cut_cells += 1;
                    (s.as_str(), 0)
                }
            };
            Value::String(first_sentence(text, cut.keep, before))
        }
        Value::Object(members) => Value::Object(members.into_iter().map(|(k, v)| (k, cut_prose(v, cut, whole, dropped))).collect()),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| cut_prose(v, cut, whole, dropped)).collect()),
        other => other,
    }
}

/// One pass of prose cutting: strings of more than `over` characters and six words are cut to
/// their first sentence, at most `keep` characters.
struct ProseCut {
    over: usize,
    keep: usize,
}

impl ProseCut {
    fn applies(&self, s: &str) -> bool {
        s.chars().count() > self.over && s.split_whitespace().nth(5).is_some()
    }
}

/// The passes over a document's prose, while it is over budget: long prose to its first
/// sentence, then sentence-long strings to their first words, then shorter ones.
const PROSE_CUTS: [ProseCut; 3] = [ProseCut { over: LONG_PROSE, keep: FIRST_SENTENCE_MAX }, ProseCut { over: 80, keep: 60 }, ProseCut { over: 48, keep: 32 }];

/// The first sentence of `s` (to the first `. ` past a few words), at most `max` characters
/// ending at a word, with the count of characters cut (`before` of them cut earlier).
fn first_sentence(s: &str, max: usize, before: usize) -> String {
    let limit = s.char_indices().nth(max).map_or(s.len(), |(i, _)| i);
    let head = &s[..limit];
    let end = head
        .match_indices(". ")
        .chain(head.match_indices(".\n"))
        .map(|(i, _)| i + 1)
        .filter(|i| *i >= 24)
        .min()
        .or_else(|| head.rfind(char::is_whitespace))
        .unwrap_or(limit);
    let kept = s[..end].trim_end();
    format!("{kept}…[+{} chars]", s[kept.len()..].chars().count() + before)
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value always serialises")
}

/// The leaves of `value` under dotted keys (`user.login`), borrowed: a table of a large array
/// must not hold a second copy of it. Objects at the paths in `maps` are leaves.
fn flatten<'v>(prefix: &str, value: &'v Value, maps: &BTreeSet<String>, out: &mut Vec<(String, &'v Value)>) {
    match value {
        Value::Object(members) if !members.is_empty() && !maps.contains(prefix) => {
            for (k, v) in members {
                flatten(&dotted(prefix, k), v, maps, out);
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

/// The table of a collection, its rows chosen to fit `budget`.
fn table(collection: &Collection, budget: usize, query_text: &str, dropped: &mut Dropped) -> String {
    let Collection { rows: items, names, maps, apart, keyed } = collection;
    let name_cells: Vec<Value> = names.iter().flatten().map(|s| Value::String(s.clone())).collect();
    let mut flat: Vec<Vec<(String, &Value)>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut cells = leaves(item, maps);
            if let Some(name) = name_cells.get(i) {
                cells.insert(0, (MEMBER_COLUMN.to_string(), name));
            }
            cells
        })
        .collect();
    let rare = rare_columns(&column_counts(&flat), flat.len());
    let others: Vec<Value> = flat
        .iter_mut()
        .map(|row| {
            let (rare_cells, own): (Vec<_>, Vec<_>) = std::mem::take(row).into_iter().partition(|(c, _)| rare.contains(c));
            *row = own;
            Value::Object(rare_cells.into_iter().map(|(c, v)| (c, v.clone())).collect())
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
    if others.iter().any(|o| o.as_object().is_some_and(|o| !o.is_empty())) {
        columns.push(OTHER_COLUMN);
    }
    let rows: Vec<BTreeMap<&str, &Value>> = flat
        .iter()
        .zip(&others)
        .map(|(r, other)| {
            let mut row: BTreeMap<&str, &Value> = r.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            if other.as_object().is_some_and(|o| !o.is_empty()) {
                row.insert(OTHER_COLUMN, other);
            }
            row
        })
        .collect();

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
    // A wide row stays a JSON object under short labels: a value many cells from its column's
    // name is one a reader cannot place. There a column equal to another stays, beside its key.
    let wide = *keyed && varying.len() > WIDE_COLUMNS;
    let mut derived_notes = Vec::new();
    if varying.len() <= MAX_DERIVE_COLUMNS {
        let candidates = varying.clone();
        varying.retain(|column| match derivation(&rows, column, &candidates) {
            Some((_, prefix, suffix)) if wide && prefix.is_empty() && suffix.is_empty() => true,
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
    let labels = if wide { short_labels(&varying) } else { Vec::new() };
    let row_text = |r: &BTreeMap<&str, &Value>, dropped: &mut Dropped| -> String {
        if wide {
            return wide_row(r, &varying, &labels, dropped);
        }
        let cells = varying.iter().zip(&prefixes).map(|(c, len)| match r.get(c) {
            Some(Value::String(s)) if *len > 0 => cell_text(&Value::String(s[*len..].to_string()), dropped),
            Some(v) => cell_text(v, dropped),
            None => String::new(),
        });
        cells.collect::<Vec<_>>().join(" | ")
    };
    let mut scratch = Dropped::default();
    let texts: Vec<String> = rows.iter().map(|r| row_text(r, &mut scratch)).collect();

    let compacted: Vec<String> = items.iter().map(|i| compact(i)).collect();
    let query = Query::new(query_text).discriminative(compacted.iter(), 0.2);
    let scores: Vec<usize> = rows.iter().map(|r| query_score(&query, r)).collect();
    let mut whole: Vec<usize> = (0..rows.len()).filter(|i| scores[*i] > 0).collect();
    whole.sort_by(|a, b| scores[*b].cmp(&scores[*a]).then(a.cmp(b)));
    whole.truncate(WHOLE_ROWS);
    whole.sort();

    let extremes = extremes(&rows, &varying, query_text);
    let mut keep = choose_rows(&rows, &texts, &scores, &whole, &extremes, budget);
    let mut out = String::new();
    for (name, value) in apart {
        out.push_str(&format!("{name}: {}\n", document(value, budget / 4, query_text, dropped)));
    }
    let mut note = format!("[{} rows", rows.len());
    if !header.is_empty() {
        note.push_str(&format!("; in every row: {}", header.join(", ")));
    }
    for (_, d) in &derived_notes {
        note.push_str(&format!("; {d}"));
    }
    note.push_str("]\n");
    out.push_str(&note);
    if !wide {
        out.push_str(&varying.join(" | "));
        out.push('\n');
    }
    // A matching row whose cells are all shown as they are (none cut, no column written as a
    // pattern) is whole as a row of the table too.
    let whole_in_table = |r: &BTreeMap<&str, &Value>| {
        let mut cuts = Dropped::default();
        row_text(r, &mut cuts);
        derived_notes.is_empty() && cuts.cut_cells == 0
    };
    whole.retain(|&i| {
        let in_table = whole_in_table(&rows[i]);
        keep[i] |= in_table;
        !in_table
    });
    for (i, r) in rows.iter().enumerate() {
        if keep[i] && !whole.contains(&i) {
            out.push_str(&row_text(r, dropped));
            out.push('\n');
        }
    }
    for i in &whole {
        // The member as the source wrote it.
        let name = names.as_ref().map_or_else(String::new, |n| format!("{}: ", Value::String(n[*i].clone())));
        out.push_str(&format!("row {} matches the question, whole: {name}{}\n", i + 1, compact(&items[*i])));
    }
    let omitted: Vec<usize> = (0..rows.len()).filter(|i| !keep[*i] && !whole.contains(i)).collect();
    if !omitted.is_empty() {
        // Omitted rows with the question's words (words in up to half the rows too: `S0` in a
        // connection log still says which rows) are what it asks for.
        let asked = Query::new(query_text).discriminative(compacted.iter(), 0.5);
        let (matching, other): (Vec<usize>, Vec<usize>) = omitted.iter().partition(|&&i| query_score(&asked, &rows[i]) > 0);
        let mut by = distinguishing(&rows, &varying, &omitted);
        by.push_str(&named_values(&rows, &varying, &omitted, &matching, query_text, budget / 4, budget.max(HOSTS_LISTED)));
        // The hosts of omitted rows on the question first, with as much room again as the rows
        // had. Then the other omitted rows'.
        let hosts = host_cells(&rows, &varying);
        let allowance = budget.max(HOSTS_LISTED);
        let mut evidence = String::new();
        for (cells, group) in by_matched_cells(&asked, &rows, &varying, &matching) {
            let label = cells.map_or_else(|| "hosts only in omitted rows that match the question".to_string(), |c| format!("hosts only in omitted rows with {c}"));
            let listed = omitted_hosts(&hosts, &group, &[&out, &evidence], &label, allowance.saturating_sub(evidence.len()));
            evidence += &listed;
        }
        // Rows off the question get a hint of their hosts when the question picked other rows.
        let (rest, room) = if matching.is_empty() {
            ("hosts only in the omitted rows", HOSTS_LISTED.min(budget / 4))
        } else {
            ("hosts only in the other omitted rows", HOSTS_LISTED.min(budget / 4) / OFF_QUESTION_SHARE)
        };
        let listed = omitted_hosts(&hosts, &other, &[&out, &evidence], rest, room);
        evidence += &listed;
        by.push_str(&evidence);
        dropped.rows = Some((omitted.len(), rows.len(), by));
    }
    out
}

/// A wide row as a JSON object of its own values under their `labels` (its name, when it has
/// one, as the member it was): each value beside its key and in its own form. Long values are
/// cut as cells are.
fn wide_row(row: &BTreeMap<&str, &Value>, columns: &[&str], labels: &[String], dropped: &mut Dropped) -> String {
    let mut object = Map::new();
    for (column, label) in columns.iter().zip(labels).filter(|(c, _)| **c != MEMBER_COLUMN) {
        if let Some(value) = row.get(column) {
            let whole = compact(value);
            let kept = if whole.chars().count() > LONG_CELL { Value::String(cell_text(value, dropped)) } else { (*value).clone() };
            object.insert(label.clone(), kept);
        }
    }
    let object = compact(&Value::Object(object));
    match row.get(MEMBER_COLUMN) {
        Some(name) => format!("{}: {object}", compact(name)),
        None => object,
    }
}

/// `column` and each part of it after a dot, longest first.
fn tails(column: &str) -> Vec<&str> {
    std::iter::once(column).chain(column.match_indices('.').map(|(i, _)| &column[i + 1..])).collect()
}

/// Each column's shortest trailing part of its dotted path that no other column ends with
/// (`__compat.support.chrome.version_added` is `chrome.version_added`), without a last part
/// most columns end with (`chrome`): a wide row's labels stay short and readable.
fn short_labels(columns: &[&str]) -> Vec<String> {
    // Every trailing part (after a dot, or whole) of every column, with how many columns end so.
    let mut ending: BTreeMap<&str, usize> = BTreeMap::new();
    columns.iter().flat_map(|c| tails(c)).for_each(|tail| *ending.entry(tail).or_default() += 1);
    let labels: Vec<&str> = columns.iter().map(|column| tails(column).into_iter().rev().find(|tail| ending[tail] == 1).unwrap_or(column)).collect();
    let mut last_parts: BTreeMap<&str, usize> = BTreeMap::new();
    labels.iter().filter_map(|l| l.rsplit_once('.')).for_each(|(_, last)| *last_parts.entry(last).or_default() += 1);
    let common = last_parts.into_iter().max_by_key(|(_, n)| *n).filter(|(_, n)| n * 2 >= labels.len()).map(|(last, _)| format!(".{last}"));
    labels.iter().map(|l| common.as_ref().and_then(|c| l.strip_suffix(c.as_str())).unwrap_or(l).to_string()).collect()
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

/// How strongly a row matches the query: numbers must equal a whole cell, words match words —
/// a media type's too (`application/x-dosexec` for "Windows executables").
fn query_score(query: &Query, row: &BTreeMap<&str, &Value>) -> usize {
    query.terms().filter(|term| row.values().any(|v| says(v, term))).count()
}

/// Whether a cell holds the query's (folded) `term`: a number equal to it, a word of a string,
/// or a word for a media type the string lists.
fn says(value: &Value, term: &str) -> bool {
    let numeric = term.chars().all(|c| c.is_ascii_digit());
    match value {
        Value::Number(n) => numeric && n.to_string() == term,
        Value::String(s) if numeric => s == term,
        Value::String(s) => {
            let said = |text: &str| words(text).any(|w| fold(w) == term);
            said(s) || s.split(',').filter_map(media_types::words_for).any(said)
        }
        _ => false,
    }
}

/// The `matching` rows grouped by the cells the question's terms are in (`conn_state=RSTO`),
/// largest group first, so the evidence of each group is listed under what made it match.
/// Over [`MATCH_GROUPS`] groups, or where a matched cell is long, one group with no cells.
fn by_matched_cells(query: &Query, rows: &[BTreeMap<&str, &Value>], columns: &[&str], matching: &[usize]) -> Vec<(Option<String>, Vec<usize>)> {
    let cells_of = |i: usize| -> Option<String> {
        let mut cells: Vec<String> = Vec::new();
        for term in query.terms() {
            let Some((column, value)) = columns.iter().find_map(|c| rows[i].get(c).filter(|v| says(v, term)).map(|v| (c, v))) else { continue };
            let text = cell_text(value, &mut Dropped::default());
            let cell = (text.chars().count() <= MATCHED_CELL).then(|| format!("{column}={text}"))?;
            if !cells.contains(&cell) {
                cells.push(cell);
            }
        }
        (!cells.is_empty()).then(|| cells.join(", "))
    };
    let mut groups: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    for &i in matching {
        add_to_group(&mut groups, cells_of(i), i);
    }
    if groups.len() > MATCH_GROUPS || groups.iter().any(|(c, _)| c.is_none()) {
        return vec![(None, matching.to_vec())];
    }
    groups.sort_by_key(|(_, group)| std::cmp::Reverse(group.len()));
    groups
}

fn error_ish(row: &BTreeMap<&str, &Value>) -> bool {
    row.values().any(|v| {
        v.as_str().is_some_and(|s| {
            words(s).any(|w| matches!(fold(w).as_str(), "error" | "failed" | "failure" | "fail" | "exception" | "fatal" | "denied" | "invalid" | "timeout"))
        })
    })
}

/// For each row holding a rare value of a categorical column (one with few distinct values
/// for its rows) or an outlying number, how often its rarest such value occurs: the lower, the
/// more the row stands out.
fn anomalies(rows: &[BTreeMap<&str, &Value>], columns: &[&str]) -> Vec<Option<usize>> {
    let mut rarity: Vec<Option<usize>> = vec![None; rows.len()];
    if rows.len() < 10 {
        return rarity;
    }
    let mut flag = |i: usize, count: usize| rarity[i] = Some(rarity[i].map_or(count, |c: usize| c.min(count)));
    let categorical = 8.max(rows.len() / 10);
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
        if (2..=categorical).contains(&counts.len()) {
            let rare = (rows.len() / 20).max(1);
            for (i, r) in rows.iter().enumerate() {
                if let Some(count) = r.get(column).map(|v| counts[&compact(v)]).filter(|c| *c <= rare) {
                    flag(i, count);
                }
            }
        }
        if numbers.len() == rows.len() {
            let mean = numbers.iter().sum::<f64>() / numbers.len() as f64;
            let sd = (numbers.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / numbers.len() as f64).sqrt();
            if sd > 0.0 {
                for (i, x) in numbers.iter().enumerate() {
                    if (x - mean).abs() > 3.0 * sd {
                        flag(i, 1);
                    }
                }
            }
        }
    }
    rarity
}

fn choose_rows(rows: &[BTreeMap<&str, &Value>], texts: &[String], scores: &[usize], whole: &[usize], extremes: &[usize], budget: usize) -> Vec<bool> {
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
    for i in by_score.into_iter().chain(extremes.iter().copied()) {
        take(i, &mut keep);
    }
    let columns: Vec<&str> = rows.iter().flat_map(|r| r.keys().copied()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    for i in (0..n).filter(|i| error_ish(&rows[*i])) {
        take(i, &mut keep);
    }
    let rarity = anomalies(rows, &columns);
    let mut odd: Vec<(usize, usize)> = rarity.iter().enumerate().filter_map(|(i, r)| r.map(|count| (count, i))).collect();
    odd.sort();
    for (_, i) in odd {
        take(i, &mut keep);
    }
    for i in [0, 1, 2, n - 1, n - 2] {
        take(i.min(n - 1), &mut keep);
    }
    for i in 0..n {
        take(i, &mut keep);
    }
    keep
}

/// The rows holding the highest and lowest values of the numeric columns the question names
/// (`NumVisits` for "which have the most visits?"), [`EXTREME_ROWS`] each way.
fn extremes(rows: &[BTreeMap<&str, &Value>], columns: &[&str], query: &str) -> Vec<usize> {
    let query = Query::new(query);
    let mut found = Vec::new();
    for column in columns.iter().filter(|c| query.hits(&identifier_parts(c).join(" ")) > 0) {
        let mut numbers: Vec<(f64, usize)> = rows.iter().enumerate().filter_map(|(i, r)| r.get(column).and_then(|v| v.as_f64()).map(|x| (x, i))).collect();
        if numbers.len() * 2 < rows.len() {
            continue;
        }
        numbers.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        found.extend(numbers.iter().take(EXTREME_ROWS).map(|(_, i)| *i));
        found.extend(numbers.iter().rev().take(EXTREME_ROWS).map(|(_, i)| *i));
    }
    found
}

/// For omitted rows, value counts of the columns with few distinct values: first those that
/// tell omitted rows apart, fewest values first, then those one value fills in all of them
/// (`status: ok 499`). Identifiers (ids, hashes) are not categories, however few.
fn distinguishing(rows: &[BTreeMap<&str, &Value>], columns: &[&str], omitted: &[usize]) -> String {
    let mut candidates: Vec<(usize, String)> = Vec::new();
    for (order, column) in columns.iter().enumerate() {
        let distinct: BTreeSet<String> = rows.iter().map(|r| cell_or_dash(r, column)).collect();
        if !(2..=DISTINGUISHING_VALUES).contains(&distinct.len()) || distinct.iter().any(|v| identifier(v)) {
            continue;
        }
        let mut among: BTreeMap<String, usize> = BTreeMap::new();
        for &i in omitted {
            *among.entry(cell_or_dash(&rows[i], column)).or_default() += 1;
        }
        let listed: Vec<String> = among.iter().map(|(v, c)| format!("{v} {c}")).collect();
        let rank = if among.len() == 1 { DISTINGUISHING_VALUES + 1 } else { among.len() };
        candidates.push((rank * columns.len() + order, format!("{column}: {}", listed.join(", "))));
    }
    candidates.sort();
    let parts: Vec<String> = candidates.into_iter().take(3).map(|(_, part)| part).collect();
    if parts.is_empty() { String::new() } else { format!(" ({})", parts.join("; ")) }
}

/// Whether a cell is an identifier (`C3FEbf1UE7vMLkkQLc`, a hex digest): one long run of
/// letters and digits holding both.
fn identifier(cell: &str) -> bool {
    cell.len() >= 12
        && cell.bytes().all(|b| b.is_ascii_alphanumeric())
        && cell.bytes().any(|b| b.is_ascii_digit())
        && cell.bytes().any(|b| b.is_ascii_alphabetic())
}

/// A row's cell as the table shows it, `-` when the row has none.
fn cell_or_dash(row: &BTreeMap<&str, &Value>, column: &str) -> String {
    row.get(column).map_or("-".into(), |v| cell_text(v, &mut Dropped::default()))
}

/// Each row's hosts (addresses and host names), from the columns holding them (a network log's
/// responders, a TLS log's server names): a column holds hosts when half the rows with a value
/// there (not `-`, a log's unset field) do. Read once per table, for each list of omitted rows.
fn host_cells(rows: &[BTreeMap<&str, &Value>], columns: &[&str]) -> Vec<Vec<String>> {
    let mut by_row = vec![Vec::new(); rows.len()];
    for column in columns {
        let mut set = 0;
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                let Some(v) = r.get(column) else { return Vec::new() };
                let text = cell_text(v, &mut Dropped::default());
                set += usize::from(text.chars().any(char::is_alphanumeric));
                text.split([',', ' ']).filter(|t| is_host(t)).map(str::to_string).collect()
            })
            .collect();
        if cells.iter().filter(|h| !h.is_empty()).count() * 2 < set.max(1) {
            continue;
        }
        for (row, hosts) in by_row.iter_mut().zip(cells) {
            row.extend(hosts);
        }
    }
    by_row
}

/// The hosts of the `omitted` rows (from [`host_cells`]) that none of the `shown` texts holds,
/// each once with its count, as in a log's marker: the hosts are the evidence a question over
/// such a table asks for. Listed, after `label`, while within `allowance` bytes, the rest counted.
fn omitted_hosts(hosts: &[Vec<String>], omitted: &[usize], shown: &[&str], label: &str, allowance: usize) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for host in omitted.iter().flat_map(|&i| &hosts[i]).filter(|host| !shown.iter().any(|s| s.contains(host.as_str()))) {
        *counts.entry(host).or_default() += 1;
    }
    let mut found: Vec<(String, usize)> = counts.into_iter().map(|(host, n)| (host.to_string(), n)).collect();
    found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    marker::counted_values(&found, allowance).map_or(String::new(), |list| format!("; {label}: {list}"))
}

/// Whether `token` is an IPv4 address or a host name (`cdn.example.org`: dotted labels of
/// letters, digits and hyphens, ending in letters that are not a file's extension).
fn is_host(token: &str) -> bool {
    let labels: Vec<&str> = token.split('.').collect();
    let ipv4 = ipv4_in(token) == Some(token);
    let name = labels.len() >= 2
        && token.len() <= 253
        && labels.iter().all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()) && !FILE_EXTENSIONS.contains(&tld.to_ascii_lowercase().as_str()));
    ipv4 || name
}

/// For omitted rows, every distinct value (with its count) of each column the question names
/// (`host`, `user`): as in a log, the distinct values are the evidence and the repeats what is
/// dropped. A column is listed only while the whole stays within `allowance` bytes; past it,
/// the values of the `matching` rows (those on the question) are, as many as fit in
/// `matching_allowance` over all columns, the rest counted.
fn named_values(
    rows: &[BTreeMap<&str, &Value>],
    columns: &[&str],
    omitted: &[usize],
    matching: &[usize],
    query: &str,
    allowance: usize,
    matching_allowance: usize,
) -> String {
    let query = Query::new(query);
    let values_of = |among: &[usize], column: &str| -> Vec<(String, usize)> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for &i in among {
            if let Some(v) = rows[i].get(column) {
                *counts.entry(cell_text(v, &mut Dropped::default())).or_default() += 1;
            }
        }
        let mut values: Vec<(String, usize)> = counts.into_iter().collect();
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        values
    };
    let mut out = String::new();
    let mut matching_used = 0;
    for column in columns.iter().filter(|c| query.hits(c) > 0) {
        let values = values_of(omitted, column);
        let listed: Vec<String> = values.iter().map(|(v, n)| marker::with_count(v, *n)).collect();
        let part = format!("; {column} of the omitted rows: {}", listed.join(", "));
        if !listed.is_empty() && out.len() + part.len() <= allowance {
            out.push_str(&part);
            continue;
        }
        // Too many to list them all: those of the rows on the question, as many as fit.
        let room = matching_allowance.saturating_sub(matching_used);
        if let Some(list) = marker::counted_values(&values_of(matching, column), room) {
            let part = format!("; {column} of the omitted rows that match the question: {list}");
            matching_used += part.len();
            out.push_str(&part);
        }
    }
    out
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

    #[test]
    fn a_media_type_matches_the_words_for_its_kind() {
        let mime = Value::String("text/html,application/x-dosexec".into());
        let row: BTreeMap<&str, &Value> = [("resp_mime_types", &mime)].into_iter().collect();
        assert_eq!(query_score(&Query::new("which URIs served Windows executables?"), &row), 2);
        assert_eq!(query_score(&Query::new("which served archives?"), &row), 0);
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
    fn a_response_with_rows_and_their_field_list_tables_both() {
        let text = include_str!("../../../tests/fixtures/json/astroquery-mast-hsc.json");
        let out = Json.compress(text, &ctx("which matches have the most visits?")).unwrap();
        assert!(out.len() * 2 < text.len(), "{} -> {}\n{out}", text.len(), out.len());
        // The 28 data rows are a table (the larger collection), not JSON beside a table of the 46 fields.
        assert!(out.contains("data: 28 items\n[28 rows; in every row: AbsCorr=Y"), "{out}");
        assert!(out.contains("fields: 46 items\n"), "{out}");
        let response: Value = serde_json::from_str(text).unwrap();
        let rows = response["data"].as_array().unwrap();
        let most = rows.iter().max_by_key(|r| r["NumVisits"].as_u64()).unwrap();
        let line = out.lines().find(|l| l.contains(&most["MatchID"].to_string())).expect("the row with the most visits");
        // Rows this wide name each value: a value many cells from its column could not be placed.
        assert!(line.contains(&format!(",\"NumVisits\":{},", most["NumVisits"])), "its visits on its row: {line}");
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
        // Counted by what tells the omitted rows apart first, then by what they all share.
        assert!(out.contains("rows omitted (latency_ms: 10 "), "{out}");
        assert!(out.contains("; status: ok 208)"), "{out}");
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
    fn an_object_of_similar_objects_is_a_table_keyed_by_member_name() {
        let text = include_str!("../../../client-ts/package-lock.json");
        let lock: Value = serde_json::from_str(text).unwrap();
        let packages = lock["packages"].as_object().unwrap();
        let out = Json.compress(text, &ctx("which version of undici is locked?")).unwrap();
        assert!(out.contains(&format!("packages: {} items", packages.len())), "{out}");
        // A row per package, its name first and each value beside its field's name.
        let mut rows = 0;
        for line in out.lines().filter(|l| l.starts_with("\"node_modules/") && !l.starts_with("row ")) {
            let (name, row) = line.split_once(": ").unwrap();
            let (name, row): (String, Value) = (serde_json::from_str(name).unwrap(), serde_json::from_str(row).unwrap());
            assert_eq!(packages[&name]["version"], row["version"], "{line}");
            rows += 1;
        }
        assert!(rows >= 10, "{out}");
        let undici = &packages["node_modules/undici"]["version"];
        assert!(out.contains("\"node_modules/undici\": {") && out.contains(&undici.to_string()), "{out}");
        assert!(out.len() * 2 < text.len(), "{} -> {}", text.len(), out.len());
    }

    #[test]
    fn a_long_api_description_keeps_its_names_and_the_prose_the_question_is_about() {
        let text = include_str!("../../../tests/fixtures/json/botocore-sqs-service-2.json");
        let api: Value = serde_json::from_str(text).unwrap();
        let out = Json.compress(text, &ctx("How long does a PurgeQueue call take to delete the messages?")).unwrap();
        assert!(out.len() * 2 < text.len(), "{} -> {}", text.len(), out.len());
        // The prose of the operation asked about is whole; other long prose keeps its first sentence.
        assert!(out.contains("We recommend waiting for 60 seconds regardless of your queue's size."), "{out}");
        let receive = api["operations"]["ReceiveMessage"]["documentation"].as_str().unwrap();
        let opening: String = receive.chars().take(60).collect();
        assert!(out.contains(&opening) && !out.contains(receive), "{out}");
        assert!(out.contains("long values cut"), "{out}");
        // Every operation and shape is still named, and every shape's members and types stay.
        for name in api["operations"].as_object().unwrap().keys().chain(api["shapes"].as_object().unwrap().keys()) {
            assert!(out.contains(name.as_str()), "{name} lost");
        }
        let shapes: Value = serde_json::from_str(out.lines().find_map(|l| l.strip_prefix("shapes: ")).expect("shapes as JSON")).unwrap();
        for (name, shape) in api["shapes"].as_object().unwrap() {
            assert_eq!(shape["type"], shapes[name]["type"], "{name}");
            for member in shape["members"].as_object().into_iter().flat_map(|m| m.keys()) {
                assert_eq!(shape["members"][member]["shape"], shapes[name]["members"][member]["shape"], "{name}.{member}");
            }
        }
    }

    #[test]
    fn prose_sharing_only_a_common_word_with_the_question_is_cut() {
        let filler = "The filter narrows the listing to the entries the caller may read, and pages through them in the order the server keeps.";
        let mut fields = serde_json::Map::new();
        for n in 0..12 {
            fields.insert(format!("field{n}"), Value::String(format!("Optional. This setting applies to field {n} of the queue. {filler}")));
        }
        let retention = format!("Output only. How long a finished task is retained before it is purged from the queue. {filler}");
        fields.insert("retention".into(), Value::String(retention.clone()));
        let value = Value::Object(fields);
        let budget = compact(&value).len() * 3 / 4;
        let out = compact(&cut_long_prose(value, budget, "What retention applies to finished tasks?", &mut Dropped::default()));
        // `applies` is in nearly every string and tells none apart: those keep their first sentence.
        assert!(out.contains(&serde_json::to_string(&retention).unwrap()), "{out}");
        for n in 0..12 {
            assert!(!out.contains(&format!("applies to field {n} of the queue. The filter")), "{out}");
        }
    }

    #[test]
    fn prose_is_cut_at_its_first_sentence_with_the_count_of_what_went() {
        let text = "Deletes the messages in a queue. The deletion takes up to sixty seconds, and messages sent meanwhile may go too; wait before sending more to a queue you have just purged, or they may be lost.";
        let cut = first_sentence(text, FIRST_SENTENCE_MAX, 0);
        assert_eq!(cut, format!("Deletes the messages in a queue.…[+{} chars]", text.len() - "Deletes the messages in a queue.".len()));
    }

    #[test]
    fn omitted_rows_list_every_value_of_the_columns_the_question_names() {
        let text = include_str!("../../../client-ts/package-lock.json");
        let lock: Value = serde_json::from_str(text).unwrap();
        let versions: std::collections::BTreeSet<&str> = lock["packages"].as_object().unwrap().values().filter_map(|p| p["version"].as_str()).collect();
        assert!(versions.len() > 20, "{versions:?}");
        let out = Json.compress(text, &ctx("which versions are locked?")).unwrap();
        assert!(out.contains("rows omitted") && out.contains("version of the omitted rows: "), "{out}");
        for version in versions {
            assert!(out.contains(version), "{version} lost:\n{out}");
        }
        // Without the question, omitted rows are only counted.
        let plain = Json.compress(text, &ctx("")).unwrap();
        assert!(plain.contains("rows omitted") && !plain.contains("of the omitted rows"), "{plain}");
    }

    #[test]
    fn rows_sent_as_arrays_table_under_the_names_of_their_columns() {
        // NumPy's CSV in the shape SQL results and pandas' `split` orient use: names once, rows as arrays.
        let csv = include_str!("../../../tests/fixtures/tables/umath-validation-set-log2.csv");
        let mut lines = csv.lines();
        let columns: Vec<&str> = lines.next().unwrap().split(',').collect();
        let data: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        let text = serde_json::to_string_pretty(&serde_json::json!({"columns": columns, "data": data})).unwrap();
        let out = Json.compress(&text, &ctx("what is the output for input 0x7f12870a?")).unwrap();
        assert!(out.len() * 3 < text.len(), "{} -> {}", text.len(), out.len());
        assert!(out.contains(&format!("data: {} items", data.len())), "{out}");
        // The row asked about has no cell to cut: it is whole as a row of the table.
        assert!(out.contains("\nnp.float32 | 0x7f12870a | 0x42fe63db | 3\n"), "the row asked about, whole:\n{out}");
        assert!(!out.contains("matches the question"), "{out}");
        let header = out.lines().find(|l| l.contains("input | output")).expect("columns by name");
        assert!(header.split(" | ").all(|c| columns.contains(&c)), "{header}");
        // Without names beside them, columns are numbered.
        let bare = serde_json::to_string(&data).unwrap();
        assert!(Json.compress(&bare, &ctx("")).unwrap().contains("column 2 | column 3"));
    }

    #[test]
    fn records_holding_long_varying_objects_still_table() {
        // Recorded HTTP exchanges: a response is an issue list here, an object there.
        let text = include_str!("../../../tests/fixtures/github/paginate-issues.json");
        let out = Json.compress(text, &ctx("")).unwrap();
        assert!(out.starts_with("[20 rows"), "{}", &out[..200.min(out.len())]);
        assert!(out.len() * 2 < text.len(), "{} -> {}", text.len(), out.len());
    }

    #[test]
    fn a_tree_of_features_tables_with_each_value_beside_its_key() {
        let text = include_str!("../../../tests/fixtures/json/bcd-api-WebSocket.json");
        // A budget for every feature: this is about their form.
        let roomy = Context { target_ratio: Some(0.3), ..ctx("Since which Chrome version does WebSocket support relative URLs?") };
        let out = Json.compress(text, &roomy).unwrap();
        assert!(out.len() * 2 < text.len(), "{} -> {}\n{out}", text.len(), out.len());
        // The wrapper is a path; the interface's own record, sharing no field with its features,
        // is shown above their table.
        assert!(out.starts_with("api.WebSocket:\n__compat: {\"mdn_url\":"), "{out}");
        // Every feature and sub-feature is a row, its browsers' versions beside their names.
        let tree: Value = serde_json::from_str(text).unwrap();
        let features = tree["api"]["WebSocket"].as_object().unwrap();
        let mut checked = 0;
        for (name, feature) in features.iter().filter(|(k, _)| *k != "__compat") {
            let line = out.lines().find(|l| l.starts_with(&format!("\"{name}\": ")) || l.contains(&format!(": \"{name}\": "))).expect(name);
            if let Some(chrome) = feature["__compat"]["support"]["chrome"]["version_added"].as_str() {
                assert!(line.contains(&format!("\"chrome\":\"{chrome}\"")) || line.contains(&format!("\"chrome\":{{\"version_added\":\"{chrome}\"}}")), "{line}");
                checked += 1;
            }
        }
        assert!(checked >= 10, "{out}");
        assert!(out.contains("\"WebSocket.url_parameter_http_https_relative\": {"), "a sub-feature is a row: {out}");
    }

    #[test]
    fn a_document_still_over_budget_cuts_its_shorter_prose_too() {
        let text = include_str!("../../../tests/fixtures/json/google-discovery-cloudtasks-v2.json");
        let out = Json.compress(text, &ctx("Which HTTP method and path pause a queue?")).unwrap();
        assert!(out.len() * 2 < text.len(), "{} -> {}", text.len(), out.len());
        // The method asked about keeps its HTTP method and path beside their keys.
        let api: Value = serde_json::from_str(text).unwrap();
        let pause = &api["resources"]["projects"]["resources"]["locations"]["resources"]["queues"]["methods"]["pause"];
        assert!(out.contains("\"httpMethod\":\"POST\",\"id\":\"cloudtasks.projects.locations.queues.pause\""), "{out}");
        assert!(out.contains(&format!("\"path\":{}", pause["path"])), "{out}");
        // Sentence-long descriptions, under the first pass's length, are cut to their first words.
        let mut medium = Vec::new();
        collect_strings_over(&api, 100, &mut medium);
        let medium: Vec<&String> = medium.iter().filter(|s| s.len() <= LONG_PROSE && s.split_whitespace().count() > 6).collect();
        let cut = medium.iter().filter(|s| !out.contains(s.as_str())).count();
        assert!(medium.len() > 20 && cut * 2 > medium.len(), "{cut} of {} cut", medium.len());
    }

    #[test]
    fn a_field_repeating_its_objects_key_goes_and_the_key_says_it() {
        let text = include_str!("../../../tests/fixtures/json/google-discovery-cloudtasks-v2.json");
        let api: Value = serde_json::from_str(text).unwrap();
        let out = Json.compress(text, &ctx("Which fields does a Queue have?")).unwrap();
        let schemas = api["schemas"].as_object().unwrap();
        assert!(schemas.len() > 20);
        for (name, schema) in schemas {
            assert_eq!(schema["id"].as_str(), Some(name.as_str()), "every schema names itself");
            assert!(out.contains(&format!("\"{name}\":{{")), "{name} lost: {out}");
            assert!(!out.contains(&format!("\"id\":\"{name}\"")), "{out}");
        }
        assert!(out.contains(&format!("{} fields repeating the key of their object dropped", schemas.len())), "{out}");
        // A field with another value stays.
        let mut kept = Dropped::default();
        assert_eq!(without_own_name(serde_json::json!({"id": "B", "type": "A"}), "A", &mut kept), serde_json::json!({"id": "B"}));
        assert_eq!(kept.own_names, 1);
    }

    fn collect_strings_over(value: &Value, len: usize, out: &mut Vec<String>) {
        match value {
            Value::String(s) if s.len() > len => out.push(s.clone()),
            Value::Object(m) => m.values().for_each(|v| collect_strings_over(v, len, out)),
            Value::Array(a) => a.iter().for_each(|v| collect_strings_over(v, len, out)),
            _ => {}
        }
    }

    #[test]
    fn wide_rows_are_labelled_by_the_shortest_names_that_tell_their_columns_apart() {
        let columns = ["x.support.chrome.version_added", "x.support.safari.version_added", "x.support.firefox.version_added", "x.description", "a.name", "b.name"];
        assert_eq!(short_labels(&columns), ["chrome", "safari", "firefox", "description", "a.name", "b.name"]);
    }

    #[test]
    fn hosts_and_identifiers_are_told_from_file_names_and_categories() {
        for host in ["192.0.2.7", "cdn.example.org", "a-b.co"] {
            assert!(is_host(host), "{host}");
        }
        for other in ["setup.exe", "index.html", "0.000000", "1.2.3", "text/html", "localhost", "256.1.1.1"] {
            assert!(!is_host(other), "{other}");
        }
        assert!(identifier("C3FEbf1UE7vMLkkQLc") && identifier("92bf83360b8ed10d82e38bcdcfcfa4a7"));
        assert!(!identifier("application/x-dosexec") && !identifier("C_INTERNET") && !identifier("200"));
    }

    #[test]
    fn same_input_same_output() {
        let issues = issues();
        assert_eq!(Json.compress(&issues, &ctx("13")), Json.compress(&issues, &ctx("13")));
    }
}
