//! What Headroom saved, as people read it: the ledger's periods (the `Savings` operation) turned
//! into totals, days, per-model money, per-compressor and per-client figures — as JSON
//! (`headroom savings --json`, the dashboard's data), CSV (`--export csv`) or a terminal report
//! with a per-day bar chart.
//!
//! Net savings are honest: tokens the compressors removed, minus Headroom's own additions (the
//! tool definitions it adds), minus what the model pulled back through `headroom_retrieve`.
//! Money prices each model's saved input tokens at its input price (per million tokens, from
//! [`DEFAULT_PRICES`] or the `prices` setting); retrieved tokens are charged back at the
//! period's average input price. Models without a price are counted in tokens only.

use crate::client::{self, Client};
use crate::clock::{date_of, now_ms};
use crate::config::{self, Price};
use headroom_protocol::{LedgerPeriod, LedgerSlice, MetricsReply, SavingsReply};
use std::path::Path;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// List prices in USD per million tokens of current models, matched by the longest model-name
/// prefix (`gpt-4o-2024-08-06` is `gpt-4o`). The `prices` setting adds or replaces entries.
pub const DEFAULT_PRICES: &[(&str, Price)] = &[
    ("gpt-5", Price { input: 1.25, output: 10.0, cache_read: 0.125, cache_write: 1.25 }),
    ("gpt-5-mini", Price { input: 0.25, output: 2.0, cache_read: 0.025, cache_write: 0.25 }),
    ("gpt-5-nano", Price { input: 0.05, output: 0.4, cache_read: 0.005, cache_write: 0.05 }),
    ("gpt-4.1", Price { input: 2.0, output: 8.0, cache_read: 0.5, cache_write: 2.0 }),
    ("gpt-4.1-mini", Price { input: 0.4, output: 1.6, cache_read: 0.1, cache_write: 0.4 }),
    ("gpt-4o", Price { input: 2.5, output: 10.0, cache_read: 1.25, cache_write: 2.5 }),
    ("gpt-4o-mini", Price { input: 0.15, output: 0.6, cache_read: 0.075, cache_write: 0.15 }),
    ("o3", Price { input: 2.0, output: 8.0, cache_read: 0.5, cache_write: 2.0 }),
    ("o4-mini", Price { input: 1.1, output: 4.4, cache_read: 0.275, cache_write: 1.1 }),
    ("claude-opus-4", Price { input: 15.0, output: 75.0, cache_read: 1.5, cache_write: 18.75 }),
    ("claude-opus-4-5", Price { input: 5.0, output: 25.0, cache_read: 0.5, cache_write: 6.25 }),
    ("claude-sonnet-4", Price { input: 3.0, output: 15.0, cache_read: 0.3, cache_write: 3.75 }),
    ("claude-haiku-4-5", Price { input: 1.0, output: 5.0, cache_read: 0.1, cache_write: 1.25 }),
    ("claude-3-5-haiku", Price { input: 0.8, output: 4.0, cache_read: 0.08, cache_write: 1.0 }),
];

/// The price table in use: the defaults with the configured entries on top.
pub struct Prices {
    configured: Vec<(String, Price)>,
}

impl Prices {
    /// The defaults and `configured` (from the `prices` setting).
    pub fn new(configured: Vec<(String, Price)>) -> Self {
        Prices { configured }
    }

    /// The price of `model` and where it came from (`config` or `default`), by the longest
    /// prefix of the model's name; a configured entry beats a default of the same length.
    pub fn of(&self, model: &str) -> Option<(Price, &'static str)> {
        let configured = self.configured.iter().map(|(name, price)| (name.as_str(), *price, "config"));
        let defaults = DEFAULT_PRICES.iter().map(|(name, price)| (*name, *price, "default"));
        configured
            .chain(defaults)
            .filter(|(name, _, _)| model.starts_with(name))
            .max_by_key(|(name, _, source)| (name.len(), *source == "config"))
            .map(|(_, price, source)| (price, source))
    }
}

/// Parses `--since`: `all`, or a number and `h` or `d` (`24h`, `7d`).
pub fn parse_since(spec: &str, now_ms: u64) -> Result<u64, String> {
    if spec == "all" {
        return Ok(0);
    }
    let (number, unit) = spec.split_at(spec.len().saturating_sub(1));
    let n: u64 = number.parse().map_err(|_| format!("--since {spec:?}: use all, or a number of hours or days like 24h or 7d"))?;
    let unit_ms = match unit {
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("--since {spec:?}: use all, or a number of hours or days like 24h or 7d")),
    };
    Ok(now_ms.saturating_sub(n.saturating_mul(unit_ms)))
}

/// Adds a slice's figures to the slice of the same name, or appends it.
fn add_slice(slices: &mut Vec<LedgerSlice>, from: &LedgerSlice) {
    match slices.iter_mut().find(|s| s.name == from.name) {
        Some(slice) => {
            slice.requests += from.requests;
            slice.tokens_before += from.tokens_before;
            slice.tokens_after += from.tokens_after;
        }
        None => slices.push(from.clone()),
    }
}

/// Adds every figure of `from` to `into` (their spans are the caller's concern).
pub fn merge(into: &mut LedgerPeriod, from: &LedgerPeriod) {
    into.requests += from.requests;
    into.tokens_before += from.tokens_before;
    into.tokens_after += from.tokens_after;
    into.added_tokens += from.added_tokens;
    into.retrieves += from.retrieves;
    into.retrieved_tokens += from.retrieved_tokens;
    into.memories += from.memories;
    into.rewrites += from.rewrites;
    for c in &from.compressors {
        match into.compressors.iter_mut().find(|mine| mine.name == c.name) {
            Some(mine) => {
                mine.blocks += c.blocks;
                mine.tokens_before += c.tokens_before;
                mine.tokens_after += c.tokens_after;
            }
            None => into.compressors.push(c.clone()),
        }
    }
    for slice in &from.models {
        add_slice(&mut into.models, slice);
    }
    for slice in &from.clients {
        add_slice(&mut into.clients, slice);
    }
}

fn money(tokens: i64, price_per_million: f64) -> f64 {
    tokens as f64 * price_per_million / 1_000_000.0
}

/// Net money of one period: each model's saved tokens at its input price, minus the retrieved
/// tokens at the period's average input price (weighted by each priced model's tokens before).
fn period_money(period: &LedgerPeriod, prices: &Prices) -> f64 {
    let (mut saved, mut weighted, mut weight) = (0.0, 0.0, 0u64);
    for model in &period.models {
        if let Some((price, _)) = prices.of(&model.name) {
            saved += money(model.tokens_before as i64 - model.tokens_after as i64, price.input);
            weighted += price.input * model.tokens_before as f64;
            weight += model.tokens_before;
        }
    }
    let average = if weight == 0 { 0.0 } else { weighted / weight as f64 };
    saved - money(period.retrieved_tokens as i64, average)
}

fn round_money(x: f64) -> f64 {
    (x * 1_000_000.0).round() / 1_000_000.0
}

fn net(period: &LedgerPeriod) -> i64 {
    period.tokens_before as i64 - period.tokens_after as i64 - period.retrieved_tokens as i64
}

/// The report as JSON: the shape `headroom savings --json` prints and the dashboard reads.
pub fn report(savings: &SavingsReply, metrics: &MetricsReply, prices: &Prices, since_ms: u64, until_ms: u64) -> Value {
    let mut total = LedgerPeriod::default();
    let mut days: BTreeMap<String, (LedgerPeriod, f64)> = BTreeMap::new();
    let mut model_money: BTreeMap<String, f64> = BTreeMap::new();
    let mut money_saved = 0.0;
    for period in &savings.periods {
        merge(&mut total, period);
        let period_money = period_money(period, prices);
        money_saved += period_money;
        let day = days.entry(date_of(period.start_ms)).or_default();
        merge(&mut day.0, period);
        day.1 += period_money;
        for model in &period.models {
            if let Some((price, _)) = prices.of(&model.name) {
                *model_money.entry(model.name.clone()).or_default() +=
                    money(model.tokens_before as i64 - model.tokens_after as i64, price.input);
            }
        }
    }
    let saved = |before: u64, after: u64| before as i64 - after as i64;
    let slices = |slices: &[headroom_protocol::LedgerSlice]| -> Vec<Value> {
        let mut rows: Vec<&headroom_protocol::LedgerSlice> = slices.iter().collect();
        rows.sort_by_key(|s| std::cmp::Reverse(saved(s.tokens_before, s.tokens_after)));
        rows.iter()
            .map(|s| json!({"name": s.name, "requests": s.requests, "tokens_before": s.tokens_before, "tokens_after": s.tokens_after, "saved_tokens": saved(s.tokens_before, s.tokens_after)}))
            .collect()
    };
    let mut by_model = slices(&total.models);
    for row in &mut by_model {
        let name = row["name"].as_str().unwrap_or_default().to_string();
        let price = prices.of(&name);
        row["price"] = price.map_or(Value::Null, |(p, source)| {
            json!({"input": p.input, "output": p.output, "cache_read": p.cache_read, "cache_write": p.cache_write, "source": source})
        });
        row["money_saved"] = json!(round_money(model_money.get(&name).copied().unwrap_or(0.0)));
    }
    let mut compressors: Vec<&headroom_protocol::CompressorStats> = total.compressors.iter().collect();
    compressors.sort_by_key(|c| std::cmp::Reverse(saved(c.tokens_before, c.tokens_after)));
    json!({
        "since_ms": since_ms,
        "until_ms": until_ms,
        "currency": "USD",
        "totals": {
            "requests": total.requests,
            "tokens_before": total.tokens_before,
            "tokens_after": total.tokens_after,
            "removed_tokens": saved(total.tokens_before, total.tokens_after) + total.added_tokens as i64,
            "added_tokens": total.added_tokens,
            "retrieves": total.retrieves,
            "retrieved_tokens": total.retrieved_tokens,
            "net_saved_tokens": net(&total),
            "money_saved": round_money(money_saved),
            "retrieve_rate": if total.requests == 0 { 0.0 } else { total.retrieves as f64 / total.requests as f64 },
            "memories": total.memories,
            "rewrites": total.rewrites,
        },
        "days": days.iter().map(|(date, (p, m))| json!({
            "date": date, "requests": p.requests, "tokens_before": p.tokens_before, "tokens_after": p.tokens_after,
            "net_saved_tokens": net(p), "money_saved": round_money(*m),
        })).collect::<Vec<_>>(),
        "by_model": by_model,
        "by_compressor": compressors.iter().map(|c| json!({
            "name": c.name, "blocks": c.blocks, "tokens_before": c.tokens_before, "tokens_after": c.tokens_after,
            "saved_tokens": saved(c.tokens_before, c.tokens_after),
        })).collect::<Vec<_>>(),
        "by_client": slices(&total.clients),
        "latency": {"p50_us": metrics.latency_p50_us, "p99_us": metrics.latency_p99_us},
        "recent": savings.recent.iter().map(|r| json!({
            "at_ms": r.at_ms, "model": r.model, "client": r.client, "tokens_before": r.tokens_before,
            "tokens_after": r.tokens_after, "compressors": r.compressors, "latency_us": r.latency_us,
        })).collect::<Vec<_>>(),
    })
}

/// The report since `since` (`7d`, `all`, …), from the daemon on `socket`, priced with the
/// configured table.
pub fn from_daemon(socket: &Path, since: &str) -> Result<Value, String> {
    let now = now_ms();
    let since_ms = parse_since(since, now)?;
    let prices = Prices::new(config::load(&[]).map_err(|e| e.to_string())?.settings.prices);
    let (ledger, metrics) = client::blocking(socket, async |c: &mut Client| Ok((c.savings(since_ms).await?, c.metrics().await?)))
        .map_err(|e| format!("{e} (is headroomd running on {}?)", socket.display()))?;
    Ok(report(&ledger, &metrics, &prices, since_ms, now))
}

/// One CSV row per day: what `headroom savings --export csv` prints.
pub fn csv(report: &Value) -> String {
    let mut out = String::from("date,requests,tokens_before,tokens_after,net_saved_tokens,money_saved_usd\n");
    for day in report["days"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            day["date"].as_str().unwrap_or_default(),
            day["requests"],
            day["tokens_before"],
            day["tokens_after"],
            day["net_saved_tokens"],
            day["money_saved"]
        ));
    }
    out
}

/// `1234567` as `1,234,567`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The terminal report: totals, a bar per day of net saved tokens, and the table `by` asks for
/// (`model`, `compressor` or `client`). Plain text, no colour.
pub fn text(report: &Value, by: &str) -> String {
    let t = &report["totals"];
    let n = |v: &Value| v.as_i64().unwrap_or(0);
    let mut out = format!(
        "{} requests: {} -> {} tokens; net saved {} tokens (${:.2})\n  removed {} - Headroom's additions {} - retrieved {} ({} retrievals, {:.1} % of requests); rewrites of earlier messages: {}\n",
        n(&t["requests"]),
        thousands(n(&t["tokens_before"])),
        thousands(n(&t["tokens_after"])),
        thousands(n(&t["net_saved_tokens"])),
        t["money_saved"].as_f64().unwrap_or(0.0),
        thousands(n(&t["removed_tokens"])),
        thousands(n(&t["added_tokens"])),
        thousands(n(&t["retrieved_tokens"])),
        n(&t["retrieves"]),
        t["retrieve_rate"].as_f64().unwrap_or(0.0) * 100.0,
        n(&t["rewrites"]),
    );
    let days = report["days"].as_array().cloned().unwrap_or_default();
    let widest = days.iter().map(|d| n(&d["net_saved_tokens"]).max(0)).max().unwrap_or(0).max(1);
    if !days.is_empty() {
        out.push_str("\nnet saved tokens per day\n");
    }
    for day in &days {
        let saved = n(&day["net_saved_tokens"]);
        let bar = "#".repeat(((saved.max(0) as f64 / widest as f64) * 40.0).round() as usize);
        out.push_str(&format!("{}  {:<40}  {:>12}\n", day["date"].as_str().unwrap_or_default(), bar, thousands(saved)));
    }
    let key = match by {
        "compressor" => "by_compressor",
        "client" => "by_client",
        _ => "by_model",
    };
    out.push_str(&format!("\n{:<24} {:>14} {:>14} {:>14}\n", by, "tokens before", "tokens after", "saved"));
    for row in report[key].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{:<24} {:>14} {:>14} {:>14}\n",
            row["name"].as_str().unwrap_or_default(),
            thousands(n(&row["tokens_before"])),
            thousands(n(&row["tokens_after"])),
            thousands(n(&row["saved_tokens"])),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use headroom_protocol::LedgerSlice;

    fn period(start_ms: u64, model: &str, before: u64, after: u64, retrieved: u64, added: u64) -> LedgerPeriod {
        let slice = LedgerSlice { name: model.into(), requests: 1, tokens_before: before, tokens_after: after };
        LedgerPeriod {
            start_ms,
            span_ms: 3_600_000,
            requests: 1,
            tokens_before: before,
            tokens_after: after,
            added_tokens: added,
            retrieves: u64::from(retrieved > 0),
            retrieved_tokens: retrieved,
            models: vec![slice.clone()],
            clients: vec![LedgerSlice { name: "litellm".into(), ..slice }],
            ..Default::default()
        }
    }

    fn metrics() -> MetricsReply {
        MetricsReply {
            compressors: vec![],
            ccr_hits: 0,
            ccr_misses: 0,
            ccr_expired: 0,
            latency_p50_us: 800,
            latency_p99_us: 9_000,
            all_time_compress_requests: 0,
            all_time_tokens_before: 0,
            all_time_tokens_after: 0,
            all_time_latency_p50_us: 0,
            all_time_latency_p99_us: 0,
            latency_buckets: vec![],
            latency_sum_us: 0,
            left_as_is: vec![],
        }
    }

    #[test]
    fn the_net_figure_subtracts_retrievals_and_headrooms_additions_and_money_follows_the_prices() {
        let day = 1_780_272_000_000;
        let savings = SavingsReply {
            periods: vec![period(day, "gpt-4o-2024-08-06", 1_000_000, 100_000, 50_000, 2_000), period(day + 3_600_000, "mystery", 10_000, 1_000, 0, 0)],
            recent: vec![],
        };
        let defaults = Prices::new(vec![]);
        let r = report(&savings, &metrics(), &defaults, 0, day + 7_200_000);
        let t = &r["totals"];
        // Tokens before 1,010,000, after 101,000 (additions included), retrieved 50,000.
        assert_eq!(t["net_saved_tokens"], 1_010_000 - 101_000 - 50_000);
        assert_eq!(t["removed_tokens"], 1_010_000 - 101_000 + 2_000, "what the compressors removed, before the additions");
        assert_eq!(t["added_tokens"], 2_000);
        // gpt-4o at $2.50 per million input tokens: 900,000 saved, 50,000 retrieved back.
        assert_eq!(t["money_saved"], 2.125);
        assert_eq!(r["by_model"][0]["price"]["source"], "default");
        assert_eq!(r["by_model"][1]["price"], Value::Null, "an unknown model has no price");
        assert_eq!(r["days"].as_array().unwrap().len(), 1);
        assert_eq!(r["days"][0]["date"], "2026-06-01");

        let configured = Prices::new(crate::config::parse_prices("gpt-4o=5/20/2.5/5; mystery=1/1/1/1").unwrap());
        let r = report(&savings, &metrics(), &configured, 0, 0);
        assert_eq!(r["totals"]["money_saved"], 4.259, "config prices replace the defaults and price more models");
        assert_eq!(r["by_model"][0]["price"]["source"], "config");
        let shown = text(&r, "client");
        assert!(shown.contains("net saved 859,000 tokens ($4.26)"), "{shown}");
        assert!(shown.contains("2026-06-01  ########################################"), "{shown}");
        assert!(shown.lines().any(|l| l.starts_with("litellm ")), "{shown}");
        assert_eq!(csv(&r).lines().nth(1), Some("2026-06-01,2,1010000,101000,859000,4.259"));
    }

    #[test]
    fn settings_and_ranges_are_read_strictly() {
        use crate::config::parse_prices;
        assert!(parse_prices("gpt-4o=1/2/3").is_err());
        assert!(parse_prices("=1/2/3/4").is_err());
        assert!(parse_prices("x=1/2/-3/4").is_err());
        assert_eq!(parse_prices(" a=1/2/0.5/1.25 ;").unwrap()[0].1.cache_write, 1.25);
        assert_eq!(parse_since("all", 5).unwrap(), 0);
        assert_eq!(parse_since("2h", 10_000_000).unwrap(), 10_000_000 - 7_200_000);
        assert!(parse_since("7w", 0).is_err());
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(1_709_164_800_000), "2024-02-29");
        assert_eq!(Prices::new(vec![]).of("claude-sonnet-4-5-20250929").unwrap().0.input, 3.0);
        assert_eq!(Prices::new(vec![]).of("gpt-4o-mini").unwrap().0.input, 0.15, "the longest prefix wins");
    }
}
