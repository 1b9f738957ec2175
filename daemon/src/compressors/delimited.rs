//! The delimited-table compressor: tab- or comma-separated records, one per line, with a field
//! list (`.tsv`, `.csv`, Zeek's and other network tools' logs, database exports).
//!
//! Such a block has no clock at the start of its lines and few repeated line shapes (every
//! record holds other hosts, paths and ids), so neither the log compressor nor anything else
//! takes it. Read as rows under their column names, it goes through the JSON compressor's
//! table: constant columns stated once, derivable and prefixed columns folded, and over budget
//! the rows the question names, rare and outlying values, first and last rows kept, the rest
//! counted by what distinguishes them. Comment lines (`#path`, `#types`) stay as they were.
//! Records stamped with their time are a log written as a table, and keep a log's share of
//! the bytes, not a table's.

use super::json::{self, rows_as_table, table_budget};
use super::logs;
use super::{Compressor, Context};
use serde_json::{Map, Value};

/// Compresses tab- and comma-separated tables.
pub struct Delimited;

/// Records a block needs before it reads as a table.
const MIN_ROWS: usize = 20;
/// Columns a record needs: fewer make a list, not a table.
const MIN_COLUMNS: usize = 4;
/// The comment line that names a Zeek log's columns.
const ZEEK_FIELDS: &str = "#fields";

/// A block read as a table.
struct Parsed<'t> {
    /// Comment lines before the records, as they were (the field list aside).
    before: Vec<&'t str>,
    columns: Vec<String>,
    records: Vec<Vec<&'t str>>,
    /// Comment lines after the records, as they were.
    after: Vec<&'t str>,
}

/// Whether `text` is a delimited table this compressor can read.
pub fn detect(text: &str) -> bool {
    parse(text).is_some()
}

/// Every non-comment line split by one delimiter into the first line's number of fields (at
/// least [`MIN_COLUMNS`]) or, as spreadsheets export them, fewer with the empty trailing ones
/// left off (but more than half); comments only before and after the records. The column names
/// come from a `#fields` line, else from a first line of distinct names that are not numbers,
/// else by position.
fn parse(text: &str) -> Option<Parsed<'_>> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let first = lines.iter().position(|l| !l.starts_with('#'))?;
    let last = lines.iter().rposition(|l| !l.starts_with('#'))?;
    let body = &lines[first..=last];
    if body.len() < MIN_ROWS || body.iter().any(|l| l.starts_with('#')) {
        return None;
    }
    let delimiter = ['\t', ','].into_iter().find(|d| {
        let width = body[0].split(*d).count();
        width >= MIN_COLUMNS && body.iter().all(|l| (width / 2 + 1..=width).contains(&l.split(*d).count()))
    })?;
    let width = body[0].split(delimiter).count();
    let mut before: Vec<&str> = lines[..first].to_vec();
    let fields = before.iter().position(|l| l.split(delimiter).next() == Some(ZEEK_FIELDS) && l.split(delimiter).count() == width + 1);
    let (columns, records) = match fields {
        Some(at) => (before.remove(at).split(delimiter).skip(1).map(str::to_string).collect(), body),
        None if is_header(body[0], delimiter) => (body[0].split(delimiter).map(|c| c.trim().to_string()).collect(), &body[1..]),
        None => ((1..=width).map(|i| format!("column {i}")).collect(), body),
    };
    Some(Parsed { before, columns, records: records.iter().map(|l| l.split(delimiter).collect()).collect(), after: lines[last + 1..].to_vec() })
}

/// Whether a first line names columns: distinct, non-empty, none a number.
fn is_header(line: &str, delimiter: char) -> bool {
    let names: Vec<&str> = line.split(delimiter).map(str::trim).collect();
    let distinct: std::collections::BTreeSet<&str> = names.iter().copied().collect();
    distinct.len() == names.len() && names.iter().all(|n| !n.is_empty() && n.parse::<f64>().is_err())
}

/// Column names that say a record's time.
const TIME_COLUMNS: [&str; 5] = ["ts", "time", "timestamp", "date", "datetime"];

/// Whether the records are events in time (a log written as a table, such as Zeek's): a column
/// named for the time, or a first column of epoch seconds or ISO dates. Such a table is read
/// as a log and gets a log's share of its bytes.
fn timed(parsed: &Parsed) -> bool {
    let clock = |cell: &str| {
        let b = cell.as_bytes();
        cell.parse::<f64>().is_ok_and(|t| (1e9..1e10).contains(&t))
            || b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-'
    };
    parsed.columns.iter().any(|c| TIME_COLUMNS.contains(&c.trim_matches(['@', '_']).to_ascii_lowercase().as_str()))
        || parsed.records.iter().all(|r| clock(r[0]))
}

/// A cell as a table value: an integer as a number (so outliers are seen) when it reads back
/// the same, anything else as the text it was.
fn cell(text: &str) -> Value {
    match text.parse::<i64>() {
        Ok(n) if n.to_string() == text => Value::from(n),
        _ => Value::String(text.to_string()),
    }
}

impl Compressor for Delimited {
    fn name(&self) -> &'static str {
        "delimited"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let parsed = parse(text)?;
        let rows: Vec<Value> = parsed
            .records
            .iter()
            .map(|fields| Value::Object(parsed.columns.iter().zip(fields).map(|(c, f)| (c.clone(), cell(f))).collect::<Map<_, _>>()))
            .collect();
        let share = if timed(&parsed) { logs::DEFAULT_BUDGET } else { json::DEFAULT_BUDGET };
        let budget = table_budget(text, ctx, share);
        let mut out = String::new();
        for line in &parsed.before {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&rows_as_table(&rows, budget, ctx));
        for line in &parsed.after {
            out.push_str(line);
            out.push('\n');
        }
        (out.len() < text.len()).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::marker;
    use std::collections::BTreeSet;

    const LOG2: &str = include_str!("../../../tests/fixtures/tables/umath-validation-set-log2.csv");
    const UBUNTU: &str = include_str!("../../../tests/fixtures/tables/ubuntu.csv");
    const ZEEK_FILES: &str = include_str!("../../../tests/fixtures/tables/zeek_files.log");
    const ZEEK_CONN: &str = include_str!("../../../tests/fixtures/tables/zeek_conn.log");

    fn ctx(query: &str) -> Context<'_> {
        Context { query, key: "0123456789abcdef01234567", ..Context::default() }
    }

    /// The table's rows as cells under its column line.
    fn table_rows(out: &str) -> (Vec<&str>, Vec<Vec<&str>>) {
        let lines: Vec<&str> = out.lines().collect();
        let at = lines.iter().position(|l| l.starts_with('[') && l.contains(" rows")).expect("a table");
        let columns = lines[at + 1].split(" | ").collect();
        let rows = lines[at + 2..].iter().take_while(|l| !l.starts_with("[headroom:") && !l.starts_with("row ")).map(|l| l.split(" | ").collect()).collect();
        (columns, rows)
    }

    #[test]
    fn a_large_csv_keeps_the_row_asked_about_and_every_kept_row_whole() {
        assert!(detect(LOG2));
        let out = Delimited.compress(LOG2, &ctx("what is the expected output for input 0x7f12870a?")).unwrap();
        assert!(out.len() * 3 < LOG2.len(), "{} -> {}", LOG2.len(), out.len());
        assert!(out.contains("0x7f12870a") && out.contains("0x42fe63db"), "{out}");
        assert_eq!(marker::keys_in(&out).len(), 1, "{out}");
        // Every kept row is a record of the file, each cell under its own column.
        let (columns, rows) = table_rows(&out);
        let names: Vec<&str> = LOG2.lines().next().unwrap().split(',').collect();
        let records: Vec<Vec<&str>> = LOG2.lines().skip(1).map(|l| l.split(',').collect()).collect();
        assert!(rows.len() >= 20, "{out}");
        for row in rows {
            let of_record = |r: &Vec<&str>| columns.iter().zip(&row).all(|(c, cell)| names.iter().position(|n| n == c).is_some_and(|i| r[i] == *cell));
            assert!(records.iter().any(of_record), "{row:?} is no record of the file");
        }
    }

    #[test]
    fn rows_with_trailing_cells_left_off_keep_their_columns() {
        assert!(detect(UBUNTU));
        let out = Delimited.compress(&UBUNTU.repeat(3), &ctx("")).unwrap();
        let (columns, rows) = table_rows(&out);
        assert_eq!(columns[..3], ["version", "codename", "series"]);
        let warty = rows.iter().find(|r| r[2] == "warty").expect("the first release");
        assert_eq!(warty[5], "2006-04-30", "{out}");
        assert!(warty[6..].iter().all(|c| c.is_empty()), "{warty:?}");
    }

    #[test]
    fn every_host_of_a_zeek_log_stays_visible_and_omitted_rows_are_counted_by_what_varies() {
        let out = Delimited.compress(ZEEK_FILES, &ctx("Which executables were downloaded, from which server?")).unwrap();
        assert!(out.len() * 3 < ZEEK_FILES.len(), "{} -> {}", ZEEK_FILES.len(), out.len());
        // Every sending host is in a kept row or named, with its count, in the marker.
        let column = ZEEK_FILES.lines().find(|l| l.starts_with("#fields")).unwrap().split('\t').position(|c| c == "tx_hosts").unwrap() - 1;
        let hosts: BTreeSet<&str> =
            ZEEK_FILES.lines().filter(|l| !l.starts_with('#')).map(|l| l.split('\t').nth(column).unwrap()).filter(|h| *h != "(empty)").collect();
        assert!(hosts.len() > 20);
        for host in hosts {
            assert!(out.contains(host), "{host} lost: {out}");
        }
        // The omitted rows are told apart by their file types, not by a column all of them share.
        assert!(out.contains("rows omitted (mime_type: binary "), "{out}");
        assert!(out.contains("application/x-dosexec | flashplayer11_7r176151_415_win.exe"), "{out}");
    }

    /// The distinct values of `column` over the rows of the Zeek fixture `pick` takes.
    fn zeek_values(column: &str, pick: impl Fn(&[&str], &[&str]) -> bool) -> BTreeSet<String> {
        let fields: Vec<&str> = ZEEK_FILES.lines().find(|l| l.starts_with("#fields")).unwrap().split('\t').skip(1).collect();
        let at = fields.iter().position(|c| *c == column).unwrap();
        ZEEK_FILES.lines().filter(|l| !l.starts_with('#')).map(|l| l.split('\t').collect::<Vec<_>>()).filter(|r| pick(&fields, r)).map(|r| r[at].to_string()).collect()
    }

    fn mime_type<'r>(fields: &[&str], row: &[&'r str]) -> &'r str {
        row[fields.iter().position(|c| *c == "mime_type").unwrap()]
    }

    #[test]
    fn a_file_kind_named_in_words_finds_its_media_type() {
        // No word of the question is in the rows: `application/x-dosexec` names Windows programs.
        let sha1s = zeek_values("sha1", |f, r| mime_type(f, r) == "application/x-dosexec");
        assert_eq!(sha1s.len(), 2);
        let tight = Context { target_ratio: Some(0.02), ..ctx("Which files were Windows programs? Give the sha1 of each.") };
        let out = Delimited.compress(ZEEK_FILES, &tight).unwrap();
        for sha1 in sha1s {
            assert!(out.contains(&sha1), "{sha1} lost: {out}");
        }
    }

    #[test]
    fn the_column_asked_for_of_omitted_rows_on_the_question_is_listed() {
        // 38 image files, more than the table's budget holds: their md5s stay, in the marker.
        let md5s = zeek_values("md5", |f, r| mime_type(f, r).starts_with("image/"));
        assert!(md5s.len() > 30);
        let out = Delimited.compress(ZEEK_FILES, &ctx("Give the md5 of every image file that was transferred.")).unwrap();
        assert!(out.contains("md5 of the omitted rows that match the question: "), "{out}");
        for md5 in md5s {
            assert!(out.contains(&md5), "{md5} lost: {out}");
        }
    }

    #[test]
    fn every_host_of_the_rows_the_question_names_stays_visible_past_the_budget() {
        // A connection log: 160 half-open (S0) connections to distinct hosts, 240 others; a
        // server name is set on a quarter of the S0 rows (`-` on every other row).
        let mut log = String::from("#fields\tts\tuid\tresp_h\tresp_p\tconn_state\tserver_name\n");
        for i in 0..400 {
            let state = if i % 5 < 2 { "S0" } else { "SF" };
            let server = if i % 10 == 1 { format!("mirror-{i}.example.net") } else { "-".to_string() };
            log.push_str(&format!("{}.{:06}\tC{i:08x}\t10.{}.{}.{}\t443\t{state}\t{server}\n", 1_379_288_667 + i, i * 37, i / 250, (i / 10) % 25, i % 250));
        }
        let out = Delimited.compress(&log, &ctx("Which hosts did the S0 connections go to?")).unwrap();
        assert!(out.len() * 2 < log.len(), "{} -> {}", log.len(), out.len());
        let rows: Vec<Vec<&str>> = log.lines().skip(1).map(|l| l.split('\t').collect()).collect();
        // Whole: `10.0.1.1` must not pass for being the start of `10.0.1.17`.
        let whole = |host: &str| out.match_indices(host).any(|(at, _)| !out[at + host.len()..].starts_with(|c: char| c.is_ascii_digit()));
        for row in rows.iter().filter(|r| r[4] == "S0") {
            assert!(whole(row[2]), "{} lost: {out}", row[2]);
        }
        for row in rows.iter().filter(|r| r[5] != "-") {
            assert!(out.contains(row[5]), "a server name lost: {out}");
        }
    }

    #[test]
    fn hosts_of_omitted_rows_on_the_question_are_listed_under_the_cell_that_matched() {
        // 63 reset connections, more than the table's budget holds; each server stays, and the
        // ones only in the marker are listed as the RSTO rows' hosts, not as any match.
        let fields: Vec<&str> = ZEEK_CONN.lines().find(|l| l.starts_with("#fields")).unwrap().split('\t').skip(1).collect();
        let (state, server) = (fields.iter().position(|c| *c == "conn_state").unwrap(), fields.iter().position(|c| *c == "id.resp_h").unwrap());
        let reset: BTreeSet<&str> = ZEEK_CONN.lines().filter(|l| !l.starts_with('#')).map(|l| l.split('\t').collect::<Vec<_>>()).filter(|r| r[state] == "RSTO").map(|r| r[server]).collect();
        assert!(reset.len() > 20);
        let out = Delimited.compress(ZEEK_CONN, &ctx("Which remote servers reset our connections (conn_state RSTO)?")).unwrap();
        assert!(out.len() * 4 < ZEEK_CONN.len(), "{} -> {}", ZEEK_CONN.len(), out.len());
        let (_, listed) = out.split_once("; hosts only in omitted rows with conn_state=RSTO: ").expect(&out);
        for host in reset {
            assert!(out.contains(&format!("| {host} |")) || listed.split(';').next().unwrap().contains(host), "{host} lost: {out}");
        }
    }

    #[test]
    fn a_log_written_as_a_table_keeps_a_logs_share_of_rows() {
        // Zeek's records are stamped with epoch seconds; a release calendar's dates and a test
        // set's values are not events in time.
        assert!(timed(&parse(ZEEK_CONN).unwrap()) && timed(&parse(ZEEK_FILES).unwrap()));
        assert!(!timed(&parse(UBUNTU).unwrap()) && !timed(&parse(LOG2).unwrap()));
        let out = Delimited.compress(ZEEK_CONN, &ctx("Which servers reset the connections?")).unwrap();
        let (_, rows) = table_rows(&out);
        let row_bytes: usize = rows.iter().map(|r| r.join(" | ").len() + 1).sum();
        let budget = ((ZEEK_CONN.len() as f64 * logs::DEFAULT_BUDGET) as usize).max(json::MIN_BUDGET);
        assert!(row_bytes <= budget && budget < (ZEEK_CONN.len() as f64 * json::DEFAULT_BUDGET) as usize, "{row_bytes} of {}", ZEEK_CONN.len());
    }

    #[test]
    fn lists_prose_and_logs_are_not_tables() {
        assert!(!detect("a,b\n".repeat(40).as_str()), "two columns are a list");
        assert!(!detect(include_str!("../../../tests/fixtures/logs/LICENSE-loghub")));
        assert!(!detect(include_str!("../../../tests/fixtures/github/labels.json")));
        let ragged: String = (0..40).map(|i| format!("{}\n", vec!["x"; 4 + i % 5].join("\t"))).collect();
        assert!(!detect(&ragged), "rows wider than the first are no table");
    }
}
