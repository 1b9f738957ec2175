//! Persistent memory (docs/memory.md): scoped, temporal facts in the daemon's LMDB environment,
//! searched with BM25 through an in-memory [`index`], and put into requests by [`inject`].
//!
//! The index is built from LMDB on the first memory request, so a daemon that never uses memory
//! pays nothing for it. Writes go to LMDB first and to the index after, under one lock.

pub mod facts;
pub mod index;
pub mod inject;
pub mod tools;

use crate::request::tokens;
use crate::error::EngineError;
use crate::store::shared::MemoryWrite;
use crate::store::Stores;
use facts::{parse_id, same_fact, scope_problem, sees, terms, within, Record};
use headroom_protocol::{
    ErrorCode, MemoryAddReply, MemoryAddRequest, MemoryFact, MemoryForgetRequest, MemoryListRequest, MemoryScope,
    MemorySearchRequest,
};
use index::{Entry, Index, Wanted};
use crate::ml::embed::cosine;
use crate::ml::{Models, RequestModels};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tiktoken_rs::CoreBPE;

/// Longest fact text accepted; memory holds facts, not documents.
pub const MAX_FACT_BYTES: usize = 8 * 1024;

/// Times a change is tried when other replicas keep changing the shared memory under it.
const WRITE_ATTEMPTS: usize = 4;

/// Results of a search when the request does not say.
const DEFAULT_LIMIT: usize = 10;

/// Days after which half of a fact's recency boost is gone.
const RECENCY_HALF_LIFE_DAYS: f64 = 30.0;

/// The largest share a fresh fact's score grows by for being recent.
const RECENCY_BOOST: f64 = 0.25;

const DAY_MS: f64 = 86_400_000.0;

/// How much the most similar fact gains, as a share of the best BM25 score (or of 1).
const SEMANTIC_WEIGHT: f64 = 0.5;

/// Least embedding similarity for a fact that shares no word with the query to be returned.
const MIN_SIMILARITY: f32 = 0.35;

/// The memory store: the facts' index over the `memory` database of [`Stores`], and the
/// embeddings of facts made so far (kept in memory only, rebuilt as searches need them).
#[derive(Default)]
pub struct Memory {
    index: RwLock<Option<Index>>,
    /// The shared store's generation the index was loaded at; `None` when it was loaded from
    /// LMDB (no shared store, or it did not answer).
    generation: Mutex<Option<u64>>,
    vectors: Mutex<HashMap<u64, Vec<f32>>>,
}

/// A change that lost to other replicas' changes [`WRITE_ATTEMPTS`] times in a row.
fn memory_moving() -> EngineError {
    EngineError { code: ErrorCode::Busy, message: "memory kept changing on other replicas while this change was made; try again".into() }
}

fn bad(message: impl Into<String>) -> EngineError {
    EngineError { code: ErrorCode::BadRequest, message: message.into() }
}

/// Refuses an unusable scope with a `bad_request`.
pub fn check_scope(scope: &MemoryScope) -> Result<(), EngineError> {
    scope_problem(scope).map_or(Ok(()), |p| Err(bad(p)))
}

impl Memory {
    /// The shared store's generation the index was loaded at.
    fn loaded_at(&self) -> Option<u64> {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the index misses changes: the shared store answered with a generation it was
    /// not loaded at.
    fn outdated(&self, current: Option<u64>) -> bool {
        current.is_some() && current != self.loaded_at()
    }

    /// Whether a write went through; one written to the shared store moves the index's
    /// generation with it (the write checked nothing else had changed).
    fn took(&self, outcome: MemoryWrite) -> bool {
        match outcome {
            MemoryWrite::Written(generation) => *self.generation.lock().unwrap_or_else(|e| e.into_inner()) = Some(generation),
            MemoryWrite::Local => {}
            MemoryWrite::Stale => return false,
        }
        true
    }

    /// The index, built from the store on first use and rebuilt when other replicas changed
    /// the shared memory.
    fn read<'a>(&'a self, stores: &Stores) -> Result<RwLockReadGuard<'a, Option<Index>>, EngineError> {
        let current = stores.memory_generation();
        {
            let guard = self.index.read().unwrap_or_else(|e| e.into_inner());
            if guard.is_some() && !self.outdated(current) {
                return Ok(guard);
            }
        }
        drop(self.write_at(stores, current)?);
        Ok(self.index.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The index for changing, built or rebuilt as [`Memory::read`] does.
    fn write<'a>(&'a self, stores: &Stores) -> Result<RwLockWriteGuard<'a, Option<Index>>, EngineError> {
        self.write_at(stores, stores.memory_generation())
    }

    fn write_at<'a>(&'a self, stores: &Stores, current: Option<u64>) -> Result<RwLockWriteGuard<'a, Option<Index>>, EngineError> {
        let mut guard = self.index.write().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() || self.outdated(current) {
            let (rows, generation) = stores.memory_all()?;
            *self.generation.lock().unwrap_or_else(|e| e.into_inner()) = generation;
            // Ids may have been deleted and reused elsewhere: embeddings are made again as needed.
            self.vectors.lock().unwrap_or_else(|e| e.into_inner()).clear();
            let total = rows.len();
            let last_id = rows.iter().map(|(id, _)| *id).max().unwrap_or(0);
            let facts: Vec<(u64, Record)> =
                rows.into_iter().filter_map(|(id, bytes)| Record::decode(&bytes).map(|r| (id, r))).collect();
            if facts.len() < total {
                log::warn!(
                    "memory: {} stored fact(s) could not be read and are skipped (left untouched in the store)",
                    total - facts.len()
                );
            }
            *guard = Some(Index::build(facts, last_id));
        }
        Ok(guard)
    }

    /// Remembers a fact: returns the existing one for a near-duplicate, and ends the validity of
    /// current facts of the same scope and key (supersession).
    pub fn add(
        &self,
        stores: &Stores,
        request: &MemoryAddRequest,
        now_ms: u64,
        models: Option<&Models>,
    ) -> Result<MemoryAddReply, EngineError> {
        check_scope(&request.scope)?;
        let text = request.text.trim();
        if text.is_empty() {
            return Err(bad("a fact needs text"));
        }
        if text.len() > MAX_FACT_BYTES {
            return Err(bad(format!("a fact is at most {MAX_FACT_BYTES} bytes, this one has {}", text.len())));
        }
        let valid_from_ms = request.valid_from_ms.unwrap_or(now_ms);
        let key = facts::key_of(text, request.key.as_deref());
        let new_terms = terms(text);
        for _ in 0..WRITE_ATTEMPTS {
            let mut guard = self.write(stores)?;
            let index = guard.as_mut().expect("loaded by write");

            let same_scope_current = |e: &&Entry| e.record.scope == request.scope && e.record.current();
            let duplicate = {
                let rarest = new_terms.iter().min_by_key(|t| index.with_term(t).count());
                let mut neighbours: Box<dyn Iterator<Item = &Entry>> = match rarest {
                    Some(term) => Box::new(index.with_term(term)),
                    None => Box::new(index.entries()),
                };
                neighbours
                    .find(|e| same_scope_current(e) && same_fact(text, &new_terms, &e.record.text, &e.terms))
                    .map(|e| e.record.to_wire(e.id, 0.0))
            };
            if let Some(fact) = duplicate {
                return Ok(MemoryAddReply { fact, duplicate: true, superseded: vec![] });
            }

            let id = index.next_id();
            let mut record = Record {
                scope: request.scope.clone(),
                text: text.to_string(),
                source: request.source.clone(),
                key: key.clone(),
                created_ms: now_ms,
                valid_from_ms,
                valid_to_ms: None,
                superseded_by: None,
            };
            let mut closed = Vec::new();
            if key.is_some() {
                for other in index.entries().filter(same_scope_current).filter(|e| e.record.key == key) {
                    if other.record.valid_from_ms <= valid_from_ms {
                        let mut ended = other.record.clone();
                        ended.valid_to_ms = Some(valid_from_ms);
                        ended.superseded_by = Some(id);
                        closed.push((other.id, ended));
                    } else if record.valid_to_ms.is_none_or(|end| other.record.valid_from_ms < end) {
                        // A fact about the past: it ended when the current one began.
                        record.valid_to_ms = Some(other.record.valid_from_ms);
                        record.superseded_by = Some(other.id);
                    }
                }
            }
            let mut puts: Vec<(u64, Vec<u8>)> = closed.iter().map(|(i, r)| (*i, r.encode())).collect();
            puts.push((id, record.encode()));
            if !self.took(stores.memory_write(&puts, &[], self.loaded_at())?) {
                *guard = None;
                continue;
            }
            let superseded = closed.iter().map(|(i, _)| facts::id_text(*i)).collect();
            for (other, ended) in closed {
                index.update(other, ended);
            }
            let fact = record.to_wire(id, 0.0);
            index.insert(id, record);
            drop(guard);
            self.remember_vector(id, text, models);
            return Ok(MemoryAddReply { fact, duplicate: false, superseded });
        }
        Err(memory_moving())
    }

    /// The facts `scope` sees that were valid at `at_ms`, most relevant to `query` first (newest
    /// first for an empty query), at most `limit` and `budget_tokens` of text (0: no bound).
    ///
    /// With models, relevance also counts the facts' embedding similarity to the query, and
    /// recent facts that share no word with the query compete too (see [`Memory::rerank`]).
    pub fn search(
        &self,
        stores: &Stores,
        bpe: &CoreBPE,
        request: &MemorySearchRequest,
        now_ms: u64,
        ml: Option<&RequestModels>,
    ) -> Result<Vec<MemoryFact>, EngineError> {
        check_scope(&request.scope)?;
        let at = request.as_of_ms.unwrap_or(now_ms);
        let guard = self.read(stores)?;
        let index = guard.as_ref().expect("loaded by read");
        let limit = match request.limit {
            0 => DEFAULT_LIMIT,
            n => n as usize,
        };
        let query = terms(&request.query);
        let visible = |s: &MemoryScope| sees(&request.scope, s);
        // A fact too long for what is left of the budget is skipped for a shorter one, among
        // the best four times `limit`.
        let wanted = Wanted {
            terms: &query,
            visible: &visible,
            at_ms: at,
            boost: RECENCY_BOOST,
            half_life_ms: RECENCY_HALF_LIFE_DAYS * DAY_MS,
            best: limit.saturating_mul(4),
        };
        let mut budget = match request.budget_tokens {
            0 => u64::MAX,
            n => u64::from(n),
        };
        let mut ranked = index.search(&wanted);
        if let Some(ml) = ml.filter(|_| !query.is_empty()) {
            self.rerank(&mut ranked, index, &wanted, ml);
        }
        let mut found = Vec::new();
        for (score, entry) in ranked {
            if found.len() == limit || budget == 0 {
                break;
            }
            let cost = if budget == u64::MAX { 0 } else { tokens::count(bpe, &entry.record.text) };
            if cost <= budget {
                budget -= cost;
                found.push(entry.record.to_wire(entry.id, score as f32));
            }
        }
        Ok(found)
    }

    /// Blends embedding similarity into BM25 scores: the newest facts the scope sees join the
    /// candidates, vectors missing from the cache are made while the request's budget lasts, the
    /// most similar candidate gains [`SEMANTIC_WEIGHT`] of the best score, and candidates that
    /// only joined for their similarity leave again below [`MIN_SIMILARITY`].
    fn rerank<'a>(&self, ranked: &mut Vec<(f64, &'a Entry)>, index: &'a Index, wanted: &Wanted, ml: &RequestModels) {
        let Some(query) = ml.query_vector() else { return };
        let newest = index.search(&Wanted { terms: &[], best: wanted.best / 2, ..*wanted });
        for (_, entry) in newest {
            if !ranked.iter().any(|(_, e)| e.id == entry.id) {
                ranked.push((0.0, entry));
            }
        }
        let mut cache = self.vectors.lock().unwrap_or_else(|e| e.into_inner());
        for (_, entry) in ranked.iter().filter(|(_, e)| !cache.contains_key(&e.id)).collect::<Vec<_>>() {
            match ml.vectors(&[&entry.record.text]) {
                Some(mut v) => cache.insert(entry.id, v.remove(0)),
                None => break,
            };
        }
        let similar: Vec<Option<f32>> = ranked.iter().map(|(_, e)| cache.get(&e.id).map(|v| cosine(query, v))).collect();
        let best = ranked.iter().map(|(s, _)| *s).fold(1.0, f64::max);
        let (low, high) = similar.iter().flatten().fold((f32::MAX, f32::MIN), |(l, h), &s| (l.min(s), h.max(s)));
        let spread = (high - low).max(1e-6);
        for ((score, _), sim) in ranked.iter_mut().zip(&similar) {
            match sim {
                Some(s) if *score == 0.0 && *s < MIN_SIMILARITY => *score = -1.0,
                Some(s) => *score += SEMANTIC_WEIGHT * best * f64::from((s - low) / spread),
                None if *score == 0.0 => *score = -1.0,
                None => {}
            }
        }
        ranked.retain(|(score, _)| *score >= 0.0);
        ranked.sort_by(|(a, x), (b, y)| {
            b.total_cmp(a)
                .then(facts::depth(&y.record.scope).cmp(&facts::depth(&x.record.scope)))
                .then(y.record.valid_from_ms.cmp(&x.record.valid_from_ms))
                .then(y.id.cmp(&x.id))
        });
    }

    /// Embeds a new fact for later searches, when there is an embedder.
    fn remember_vector(&self, id: u64, text: &str, models: Option<&Models>) {
        let Some(embedder) = models.and_then(|m| m.embedder.as_ref()) else { return };
        if let Ok(Some(mut v)) = embedder.embed(&[text]) {
            self.vectors.lock().unwrap_or_else(|e| e.into_inner()).insert(id, v.remove(0));
        }
    }

    /// The facts a scope sees (or, with `include_narrower`, every fact under it), valid now or at
    /// `as_of_ms` unless superseded ones are asked for too; newest first.
    pub fn list(&self, stores: &Stores, request: &MemoryListRequest, now_ms: u64) -> Result<Vec<MemoryFact>, EngineError> {
        check_scope(&request.scope)?;
        let at = request.as_of_ms.unwrap_or(now_ms);
        let guard = self.read(stores)?;
        let index = guard.as_ref().expect("loaded by read");
        let mut listed: Vec<&Entry> = index
            .entries()
            .filter(|e| {
                let r = &e.record;
                let placed =
                    if request.include_narrower { within(&r.scope, &request.scope) } else { sees(&request.scope, &r.scope) };
                placed && (request.include_superseded || r.valid_at(at))
            })
            .collect();
        listed.sort_by(|x, y| y.record.valid_from_ms.cmp(&x.record.valid_from_ms).then(y.id.cmp(&x.id)));
        Ok(listed.into_iter().map(|e| e.record.to_wire(e.id, 0.0)).collect())
    }

    /// Deletes one fact (it must lie in the scope or under it) or every fact under the scope,
    /// with the recorded memory blocks that showed them. A fact that the forgotten one had
    /// superseded takes over its validity. Returns how many facts were deleted.
    pub fn forget(&self, stores: &Stores, request: &MemoryForgetRequest) -> Result<u64, EngineError> {
        check_scope(&request.scope)?;
        for _ in 0..WRITE_ATTEMPTS {
            let mut guard = self.write(stores)?;
            let index = guard.as_mut().expect("loaded by write");
            let doomed: HashSet<u64> = match &request.id {
                Some(text) => {
                    let id = parse_id(text).ok_or_else(|| bad(format!("{text:?} is not a fact id (16 lowercase hex digits)")))?;
                    match index.get(id) {
                        Some(e) if within(&e.record.scope, &request.scope) => HashSet::from([id]),
                        _ => {
                            return Err(EngineError {
                                code: ErrorCode::NotFound,
                                message: format!("no fact {text} in this scope"),
                            })
                        }
                    }
                }
                None => index.entries().filter(|e| within(&e.record.scope, &request.scope)).map(|e| e.id).collect(),
            };
            // Facts the doomed ones superseded inherit their end, so history stays continuous.
            let mut revived: Vec<(u64, Record)> = Vec::new();
            for entry in index.entries().filter(|e| !doomed.contains(&e.id)) {
                let mut record = entry.record.clone();
                while let Some(next) = record.superseded_by.filter(|n| doomed.contains(n)) {
                    let gone = &index.get(next).expect("doomed facts are indexed").record;
                    record.valid_to_ms = gone.valid_to_ms;
                    record.superseded_by = gone.superseded_by;
                }
                if record != entry.record {
                    revived.push((entry.id, record));
                }
            }
            let puts: Vec<(u64, Vec<u8>)> = revived.iter().map(|(i, r)| (*i, r.encode())).collect();
            let doomed: Vec<u64> = doomed.into_iter().collect();
            if !self.took(stores.memory_write(&puts, &doomed, self.loaded_at())?) {
                *guard = None;
                continue;
            }
            inject::forget_blocks(stores, &request.scope.user, &doomed)?;
            let mut vectors = self.vectors.lock().unwrap_or_else(|e| e.into_inner());
            for id in &doomed {
                index.remove(*id);
                vectors.remove(id);
            }
            for (id, record) in revived {
                index.update(id, record);
            }
            return Ok(doomed.len() as u64);
        }
        Err(memory_moving())
    }
}
