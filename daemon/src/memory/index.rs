//! The facts in memory, with an inverted index over their terms, so a search touches only the
//! facts that share a term with the query (a few milliseconds over 100,000 facts).

use super::facts::{terms, Record};
use headroom_protocol::MemoryScope;
use std::collections::HashMap;

/// BM25 constants (the usual values).
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// A fact and its terms.
#[derive(Debug)]
pub struct Entry {
    pub id: u64,
    pub record: Record,
    /// Sorted, unique content terms of the text.
    pub terms: Vec<String>,
}

/// What ranking reads of each slot, kept dense so a search over many postings stays in cache.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Terms in the fact (BM25's document length).
    len: u32,
    /// The interned scope; `DEAD` once the fact is removed.
    scope: u32,
    valid_from_ms: u64,
    /// `u64::MAX` while the fact is current.
    valid_to_ms: u64,
}

const DEAD: u32 = u32::MAX;

/// A search's wishes: which scopes count, at what time, how recent facts are favoured.
#[derive(Clone, Copy)]
pub struct Wanted<'a> {
    /// The query's terms; empty ranks by recency alone.
    pub terms: &'a [String],
    /// Whether a fact of this scope may be returned.
    pub visible: &'a dyn Fn(&MemoryScope) -> bool,
    /// Only facts valid at this time (ms since the epoch).
    pub at_ms: u64,
    /// The recency boost: a fact valid from `at_ms` scores `1 + boost` times its relevance, one
    /// `half_life_ms` older `1 + boost / 2`.
    pub boost: f64,
    pub half_life_ms: f64,
    /// How many of the best to return, ordered (more are ranked, not sorted).
    pub best: usize,
}

/// Every stored fact, by id, with postings per term.
#[derive(Debug, Default)]
pub struct Index {
    entries: Vec<Option<Entry>>,
    slots: Vec<Slot>,
    slot_of: HashMap<u64, u32>,
    postings: HashMap<String, Vec<u32>>,
    scopes: Vec<MemoryScope>,
    scope_ids: HashMap<MemoryScope, u32>,
    total_terms: u64,
    live: u64,
    last_id: u64,
}

impl Index {
    /// The index of `facts`; new ids start above `last_id` (the highest id stored, readable or
    /// not, so an unreadable record is never overwritten).
    pub fn build(facts: impl IntoIterator<Item = (u64, Record)>, last_id: u64) -> Self {
        let mut index = Index { last_id, ..Index::default() };
        for (id, record) in facts {
            index.insert(id, record);
        }
        index
    }

    /// A new id, above every id ever stored.
    pub fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    fn slot_for(record: &Record, len: usize, scope: u32) -> Slot {
        Slot {
            len: len as u32,
            scope,
            valid_from_ms: record.valid_from_ms,
            valid_to_ms: record.valid_to_ms.unwrap_or(u64::MAX),
        }
    }

    /// Adds a fact (or replaces the one with its id).
    pub fn insert(&mut self, id: u64, record: Record) {
        self.remove(id);
        self.last_id = self.last_id.max(id);
        let slot = self.entries.len() as u32;
        let terms = terms(&record.text);
        for term in &terms {
            self.postings.entry(term.clone()).or_default().push(slot);
        }
        let next_scope = self.scopes.len() as u32;
        let scope = *self.scope_ids.entry(record.scope.clone()).or_insert(next_scope);
        if scope == next_scope {
            self.scopes.push(record.scope.clone());
        }
        self.total_terms += terms.len() as u64;
        self.live += 1;
        self.slots.push(Self::slot_for(&record, terms.len(), scope));
        self.entries.push(Some(Entry { id, record, terms }));
        self.slot_of.insert(id, slot);
    }

    /// Changes a fact's record in place (its validity); the text, and so its terms, stay.
    pub fn update(&mut self, id: u64, record: Record) {
        let Some(&slot) = self.slot_of.get(&id) else { return };
        if let Some(entry) = self.entries[slot as usize].as_mut() {
            debug_assert_eq!(entry.record.text, record.text);
            let dense = &mut self.slots[slot as usize];
            *dense = Self::slot_for(&record, dense.len as usize, dense.scope);
            entry.record = record;
        }
    }

    /// Removes a fact; returns it.
    pub fn remove(&mut self, id: u64) -> Option<Record> {
        let slot = self.slot_of.remove(&id)?;
        let entry = self.entries[slot as usize].take()?;
        self.slots[slot as usize].scope = DEAD;
        for term in &entry.terms {
            if let Some(list) = self.postings.get_mut(term) {
                list.retain(|&s| s != slot);
                if list.is_empty() {
                    self.postings.remove(term);
                }
            }
        }
        self.total_terms -= entry.terms.len() as u64;
        self.live -= 1;
        Some(entry.record)
    }

    /// The fact with this id.
    pub fn get(&self, id: u64) -> Option<&Entry> {
        self.slot_of.get(&id).and_then(|&slot| self.entries[slot as usize].as_ref())
    }

    /// Every fact, oldest id first.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().flatten()
    }

    /// The facts holding `term`.
    pub fn with_term<'a>(&'a self, term: &str) -> impl Iterator<Item = &'a Entry> + 'a {
        let slots = self.postings.get(term).map_or(&[][..], Vec::as_slice);
        slots.iter().filter_map(|&slot| self.entries[slot as usize].as_ref())
    }

    /// The facts that match, best first: BM25 relevance to the terms (1 for an empty query)
    /// times the recency boost; ties go to the narrower scope, then the newer fact. Only the
    /// first `wanted.best` are ordered and returned.
    pub fn search(&self, wanted: &Wanted) -> Vec<(f64, &Entry)> {
        let visible: Vec<bool> = self.scopes.iter().map(|s| (wanted.visible)(s)).collect();
        let depth: Vec<u8> = self.scopes.iter().map(super::facts::depth).collect();
        let usable = |slot: &Slot| {
            slot.scope != DEAD && visible[slot.scope as usize] && slot.valid_from_ms <= wanted.at_ms && wanted.at_ms < slot.valid_to_ms
        };
        // (score, slot) of every usable match.
        let mut found: Vec<(f64, u32)> = Vec::new();
        if wanted.terms.is_empty() {
            found.extend(self.slots.iter().enumerate().filter(|(_, s)| usable(s)).map(|(i, _)| (1.0, i as u32)));
        } else {
            let n = self.live.max(1) as f64;
            let average = (self.total_terms as f64 / n).max(1.0);
            // Dense scores: 0 not seen yet, below 0 not usable.
            let mut scores = vec![0.0f64; self.slots.len()];
            for term in wanted.terms {
                let Some(list) = self.postings.get(term) else { continue };
                let df = list.len() as f64;
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                for &slot in list {
                    let (i, dense) = (slot as usize, &self.slots[slot as usize]);
                    if scores[i] == 0.0 {
                        if !usable(dense) {
                            scores[i] = -1.0;
                            continue;
                        }
                        found.push((0.0, slot));
                    } else if scores[i] < 0.0 {
                        continue;
                    }
                    scores[i] += idf * (K1 + 1.0) / (1.0 + K1 * (1.0 - B + B * f64::from(dense.len) / average));
                }
            }
            for (score, slot) in &mut found {
                *score = scores[*slot as usize];
            }
        }
        for (score, slot) in &mut found {
            let age = wanted.at_ms.saturating_sub(self.slots[*slot as usize].valid_from_ms) as f64;
            *score *= 1.0 + wanted.boost * (-age / wanted.half_life_ms).exp2();
        }
        let order = |(a, x): &(f64, u32), (b, y): &(f64, u32)| {
            let (sx, sy) = (&self.slots[*x as usize], &self.slots[*y as usize]);
            b.total_cmp(a)
                .then(depth[sy.scope as usize].cmp(&depth[sx.scope as usize]))
                .then(sy.valid_from_ms.cmp(&sx.valid_from_ms))
                .then(y.cmp(x))
        };
        if found.len() > wanted.best {
            found.select_nth_unstable_by(wanted.best, order);
            found.truncate(wanted.best);
        }
        found.sort_unstable_by(order);
        found.into_iter().filter_map(|(score, slot)| self.entries[slot as usize].as_ref().map(|e| (score, e))).collect()
    }
}
