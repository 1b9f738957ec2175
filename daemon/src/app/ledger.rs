//! The savings ledger: what every compression and retrieval did, per hour (per day once a period
//! is older than a year), per compressor, model and client, kept in the stores so it survives
//! restarts. `headroom savings` and `headroom dashboard` read it through the `Savings`
//! operation; money is theirs to work out from a price table (docs/savings.md).
//!
//! The hour being written lives in memory and is saved with the metrics (every few seconds and
//! at shutdown); a restart continues it from the store. The latest requests are kept in memory
//! only, for the dashboard's list.

use crate::store::{StoreError, Stores};
use crate::savings::merge;
use headroom_protocol::{CompressReply, LedgerPeriod, LedgerSlice, RecentRequest};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// An hour, the unit periods are kept in for a year.
pub const HOUR_MS: u64 = 3_600_000;
/// A day, the unit periods older than [`KEEP_HOURS_MS`] are merged into.
pub const DAY_MS: u64 = 86_400_000;
/// How long hours are kept before they are merged into days.
pub const KEEP_HOURS_MS: u64 = 365 * DAY_MS;
/// Recent requests kept for the dashboard.
const RECENT: usize = 50;

/// One compression as the ledger counts it.
pub struct Compression<'a> {
    pub at_ms: u64,
    pub model: &'a str,
    pub client: &'a str,
    pub reply: &'a CompressReply,
    pub latency: Duration,
}

/// The ledger: periods not yet saved, and the latest requests.
#[derive(Default)]
pub struct Ledger {
    /// Periods touched since the last save, by start.
    unsaved: Mutex<BTreeMap<u64, LedgerPeriod>>,
    recent: Mutex<VecDeque<RecentRequest>>,
}

fn decode(bytes: &[u8]) -> Option<LedgerPeriod> {
    bincode::decode_from_slice(bytes, bincode::config::standard()).ok().map(|(p, _)| p)
}

fn encode(period: &LedgerPeriod) -> Vec<u8> {
    bincode::encode_to_vec(period, bincode::config::standard()).expect("encoding into a Vec cannot fail")
}

impl Ledger {
    /// The period of `at_ms`'s hour, from memory, else from the store (a restart continues it),
    /// else a new one; `change` is applied to it.
    fn update(&self, stores: &Stores, at_ms: u64, change: impl FnOnce(&mut LedgerPeriod)) {
        let start = at_ms - at_ms % HOUR_MS;
        let mut unsaved = self.unsaved.lock().unwrap_or_else(|e| e.into_inner());
        let period = unsaved.entry(start).or_insert_with(|| {
            let stored = stores.ledger_get(start).ok().flatten();
            stored.and_then(|bytes| decode(&bytes)).unwrap_or(LedgerPeriod { start_ms: start, span_ms: HOUR_MS, ..Default::default() })
        });
        change(period);
    }

    /// Counts one compression.
    pub fn record_compress(&self, stores: &Stores, c: &Compression) {
        let reply = c.reply;
        let slice = |name: &str| LedgerSlice {
            name: name.to_string(),
            requests: 1,
            tokens_before: reply.tokens_before,
            tokens_after: reply.tokens_after,
        };
        let one = LedgerPeriod {
            requests: 1,
            tokens_before: reply.tokens_before,
            tokens_after: reply.tokens_after,
            added_tokens: reply.added_tokens,
            memories: reply.memories,
            rewrites: u64::from(reply.rewrote_earlier),
            compressors: reply.compressors.clone(),
            models: vec![slice(c.model)],
            clients: vec![slice(c.client)],
            ..Default::default()
        };
        self.update(stores, c.at_ms, |period| merge(period, &one));
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == RECENT {
            recent.pop_back();
        }
        recent.push_front(RecentRequest {
            at_ms: c.at_ms,
            model: c.model.to_string(),
            client: c.client.to_string(),
            tokens_before: reply.tokens_before,
            tokens_after: reply.tokens_after,
            compressors: reply.compressors.iter().map(|s| s.name.clone()).collect(),
            latency_us: c.latency.as_micros() as u64,
        });
    }

    /// Counts one answered retrieval and the tokens it brought back.
    pub fn record_retrieve(&self, stores: &Stores, at_ms: u64, tokens: u64) {
        self.update(stores, at_ms, |period| {
            period.retrieves += 1;
            period.retrieved_tokens += tokens;
        });
    }

    /// Saves the periods touched since the last save; only the current hour stays in memory.
    pub fn persist(&self, stores: &Stores, now_ms: u64) -> Result<(), StoreError> {
        let mut unsaved = self.unsaved.lock().unwrap_or_else(|e| e.into_inner());
        let put: Vec<(u64, Vec<u8>)> = unsaved.iter().map(|(start, p)| (*start, encode(p))).collect();
        stores.ledger_write(&put, &[])?;
        let current = now_ms - now_ms % HOUR_MS;
        unsaved.retain(|start, _| *start >= current);
        Ok(())
    }

    /// Merges the hours older than a year into days, so the ledger stays bounded (about 8,760
    /// hours and one period a day before that).
    pub fn compact(&self, stores: &Stores, now_ms: u64) -> Result<(), StoreError> {
        let cutoff = now_ms.saturating_sub(KEEP_HOURS_MS);
        let mut days: BTreeMap<u64, LedgerPeriod> = BTreeMap::new();
        let mut remove = Vec::new();
        let stored: BTreeMap<u64, LedgerPeriod> =
            stores.ledger_since(0)?.into_iter().filter_map(|(start, bytes)| decode(&bytes).map(|p| (start, p))).collect();
        for (&start, period) in &stored {
            if start + period.span_ms > cutoff || period.span_ms == DAY_MS {
                continue;
            }
            let day = start - start % DAY_MS;
            let merged = days.entry(day).or_insert_with(|| LedgerPeriod { start_ms: day, span_ms: DAY_MS, ..Default::default() });
            merge(merged, period);
            remove.push(start);
        }
        // A day already stored (from an earlier compaction) absorbs its newly merged hours.
        let put: Vec<(u64, Vec<u8>)> = days
            .into_iter()
            .map(|(day, mut merged)| {
                if let Some(earlier) = stored.get(&day).filter(|p| p.span_ms == DAY_MS) {
                    merge(&mut merged, earlier);
                }
                (day, encode(&merged))
            })
            .collect();
        remove.retain(|start| !put.iter().any(|(day, _)| day == start));
        stores.ledger_write(&put, &remove)
    }

    /// The periods that end after `since_ms`, oldest first: the store's, with what is not saved
    /// yet in their place.
    pub fn periods(&self, stores: &Stores, since_ms: u64) -> Result<Vec<LedgerPeriod>, StoreError> {
        let mut periods: BTreeMap<u64, LedgerPeriod> =
            stores.ledger_since(since_ms)?.into_iter().filter_map(|(start, bytes)| decode(&bytes).map(|p| (start, p))).collect();
        let unsaved = self.unsaved.lock().unwrap_or_else(|e| e.into_inner());
        for (start, period) in unsaved.iter().filter(|(start, p)| **start + p.span_ms > since_ms) {
            periods.insert(*start, period.clone());
        }
        Ok(periods.into_values().filter(|p| p.start_ms + p.span_ms > since_ms).collect())
    }

    /// The latest compressions, newest first.
    pub fn recent(&self) -> Vec<RecentRequest> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use headroom_protocol::{CompressorStats, ProviderFormat};

    fn reply(before: u64, after: u64) -> CompressReply {
        CompressReply {
            messages: vec![],
            tokens_before: before,
            tokens_after: after,
            ccr_keys: vec![],
            compressors: vec![CompressorStats { name: "logs".into(), blocks: 1, tokens_before: before, tokens_after: after }],
            retrieve_tool: None,
            format: ProviderFormat::OpenAiChat,
            memories: 0,
            memory_tools: None,
            rewrote_earlier: false,
            added_tokens: 10,
            left_as_is: Vec::new(),
        }
    }

    fn compress(ledger: &Ledger, stores: &Stores, at_ms: u64, model: &str, before: u64, after: u64) {
        let reply = reply(before, after);
        let c = Compression { at_ms, model, client: "test", reply: &reply, latency: Duration::from_micros(5) };
        ledger.record_compress(stores, &c);
    }

    #[test]
    fn hours_add_up_survive_a_restart_and_continue() {
        let dir = tempfile::tempdir().unwrap();
        let stores = Stores::open(dir.path(), 64 << 20).unwrap();
        let hour = 1_780_272_000_000;
        let ledger = Ledger::default();
        compress(&ledger, &stores, hour + 1, "gpt-4o", 1000, 100);
        compress(&ledger, &stores, hour + 2, "claude", 500, 400);
        ledger.record_retrieve(&stores, hour + 3, 70);
        compress(&ledger, &stores, hour + HOUR_MS + 5, "gpt-4o", 10, 10);
        ledger.persist(&stores, hour + HOUR_MS + 6).unwrap();

        // A new daemon continues the current hour from the store.
        let again = Ledger::default();
        compress(&again, &stores, hour + HOUR_MS + 7, "gpt-4o", 20, 5);
        let periods = again.periods(&stores, 0).unwrap();
        assert_eq!(periods.len(), 2);
        let first = &periods[0];
        assert_eq!((first.requests, first.tokens_before, first.tokens_after, first.added_tokens), (2, 1500, 500, 20));
        assert_eq!((first.retrieves, first.retrieved_tokens), (1, 70));
        assert_eq!(first.models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["gpt-4o", "claude"]);
        assert_eq!(first.compressors[0].blocks, 2);
        assert_eq!((periods[1].requests, periods[1].tokens_before), (2, 30), "the hour went on after the restart");
        assert_eq!(again.periods(&stores, hour + HOUR_MS).unwrap().len(), 1, "only periods ending after since");
    }

    #[test]
    fn hours_older_than_a_year_become_days() {
        let dir = tempfile::tempdir().unwrap();
        let stores = Stores::open(dir.path(), 64 << 20).unwrap();
        let ledger = Ledger::default();
        let old_day = 1_700_000_000_000 - 1_700_000_000_000 % DAY_MS;
        for h in 0..3 {
            compress(&ledger, &stores, old_day + h * HOUR_MS, "gpt-4o", 100, 10);
        }
        let now = old_day + KEEP_HOURS_MS + 2 * DAY_MS;
        compress(&ledger, &stores, now, "gpt-4o", 7, 7);
        ledger.persist(&stores, now).unwrap();
        ledger.compact(&stores, now).unwrap();
        ledger.compact(&stores, now).unwrap();
        let periods = ledger.periods(&stores, 0).unwrap();
        assert_eq!(periods.len(), 2, "{periods:?}");
        assert_eq!((periods[0].start_ms, periods[0].span_ms, periods[0].requests, periods[0].tokens_before), (old_day, DAY_MS, 3, 300));
        assert_eq!(periods[1].span_ms, HOUR_MS);
    }
}
