//! The compression engine: reads a provider request, compresses its content blocks with the
//! compressor the router picks, keeps the invariants of docs/architecture.md §3, and splices the results back.
//!
//! Usable without the server (benchmarks, fuzzing, `headroom compress --local`).

pub mod arguments;
pub mod compaction;
pub mod repeats;
pub mod router;

use crate::config::{MlSettings, Settings};
use crate::memory::{inject, tools as memory_tools, Memory};
use crate::ml::{Models, RequestModels};
use crate::store::ccr::Lookup;
use crate::store::replay::{position_key, replay_key, ReplayEntry};
use crate::store::Stores;
use headroom_protocol::{CompressOptions, CompressReply, CompressorStats, ErrorCode, ProviderFormat, RetrieveReply, LARGE_BLOCK_TOKENS};
use crate::clock::now_ms;
use crate::compressors::Context;
use crate::error::EngineError;
use crate::request::provider::{self, Candidate, Zone};
use crate::request::query::Query;
use crate::request::spans::{self, Edit, Node, Value};
use crate::compressors::{harness, image, logs, numbered, progress, terminal, Compressor};
use crate::request::images::{self, ImageBlock};
use crate::request::{marker, retrieve_tool, tokens};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;
use tiktoken_rs::CoreBPE;

/// Blocks shorter than this are neither compressed nor recorded: there is nothing to gain.
const MIN_BLOCK_BYTES: usize = 256;

/// Tokens counted exactly before the size of an unchanged block is extrapolated.
const ESTIMATE_FROM_TOKENS: u64 = 4_000;

/// The engine and what it holds for its whole life: tokenizers, stores and models.
pub struct Engine {
    tokenizer: tokens::Tokenizer,
    stores: Stores,
    /// Set once the models have loaded (in the background, so the socket answers at once).
    models: OnceLock<Models>,
    ccr_idle_expiry: Duration,
    /// What the provider charges for cached and fresh input: when compaction pays.
    prices: compaction::CachePrices,
    /// The most tokens one image may be billed, when the user caps it (below the provider's own
    /// downscale).
    image_max_tokens: Option<u64>,
}

impl Engine {
    /// An engine over `stores`; CCR originals idle longer than `ccr_idle_expiry` expire.
    pub fn new(stores: Stores, ccr_idle_expiry: Duration) -> Self {
        Engine {
            tokenizer: tokens::Tokenizer::load(),
            stores,
            models: OnceLock::new(),
            ccr_idle_expiry,
            prices: compaction::CachePrices::default(),
            image_max_tokens: None,
        }
    }

    /// The engine with each image's bill capped at `max_tokens` (`None`: the provider's own
    /// downscale, which loses nothing the model would see).
    pub fn with_image_max_tokens(self, max_tokens: Option<u64>) -> Self {
        Engine { image_max_tokens: max_tokens, ..self }
    }

    /// The engine with the provider's cache prices (compaction decides by them).
    pub fn with_cache_prices(self, prices: compaction::CachePrices) -> Self {
        Engine { prices, ..self }
    }

    /// The engine over `stores` as the settings shape it: expiry, cache prices, image budget.
    pub fn configured(stores: Stores, settings: &Settings) -> Self {
        let image_max_tokens = (settings.image_max_tokens > 0).then_some(settings.image_max_tokens);
        Engine::new(stores, settings.ccr_idle_expiry).with_cache_prices(settings.cache_prices).with_image_max_tokens(image_max_tokens)
    }

    /// Loads the models the settings name and says, one line each, what loaded and what did not.
    /// Requests use them from then on; without them every compressor keeps its non-ML path.
    pub fn load_models(&self, settings: &MlSettings) {
        let models = Models::load(settings);
        for line in &models.report {
            log::info!("ml: {line}");
        }
        let _ = self.models.set(models);
    }

    /// The models, once loaded.
    pub fn models(&self) -> Option<&Models> {
        self.models.get()
    }

    /// Compresses a request without memory (benchmarks, fuzzing, `headroom compress --local`);
    /// a request that asks for remembered facts is refused.
    pub fn compress(&self, messages: &[u8], options: &CompressOptions) -> Result<CompressReply, EngineError> {
        self.compress_with(messages, options, None)
    }

    /// Compresses a request (a messages array or a whole request object, as JSON bytes), adding
    /// facts from `memory` to the latest user message when the options ask for them.
    ///
    /// Errors: `bad_request` for bytes that are not UTF-8 JSON in a known shape, `internal` for
    /// store failures.
    pub fn compress_with(&self, messages: &[u8], options: &CompressOptions, memory: Option<&Memory>) -> Result<CompressReply, EngineError> {
        let bad = |m: String| EngineError::new(ErrorCode::BadRequest, m);
        let recall = match (&options.memory, memory) {
            (Some(wanted), Some(memory)) => Some((wanted, memory)),
            (Some(_), None) => return Err(bad("memory is not available to this caller".into())),
            (None, _) => None,
        };
        if let Some(r) = options.target_ratio.filter(|r| !(r.is_finite() && *r > 0.0 && *r <= 1.0)) {
            return Err(bad(format!("target_ratio must be above 0 and at most 1, got {r}")));
        }
        let src = std::str::from_utf8(messages).map_err(|e| bad(format!("messages are not UTF-8: {e}")))?;
        if spans::nesting_depth(messages) > spans::MAX_DEPTH {
            return Err(bad(format!("messages nest deeper than {} arrays and objects", spans::MAX_DEPTH)));
        }
        serde_json::from_str::<serde::de::IgnoredAny>(src).map_err(|e| bad(format!("messages are not valid JSON: {e}")))?;
        let root = spans::parse(src).ok_or_else(|| EngineError::new(ErrorCode::Internal, "JSON reader disagrees with serde_json"))?;
        let conv = provider::read(&root, options).map_err(|e| bad(e.0))?;
        let bpe = self.tokenizer.for_model(options.model.as_deref());
        let ml = self.models.get().map(|m| m.for_request(&conv.query));

        let work: Vec<&Candidate> =
            conv.candidates.iter().filter(|c| c.zone != Zone::HandsOff && c.text.len() >= MIN_BLOCK_BYTES).collect();
        let replay_keys: Vec<[u8; 32]> = work.iter().map(|c| replay_key(c.text)).collect();
        let seen = self.stores.replay_get_all(&replay_keys)?;

        let (repeats, anchors) = plan_repeats(&work, &seen, bpe);
        let compactions = self.plan_compaction(src, &conv, &work, &seen, &anchors, bpe)?;

        let mut edits = Vec::new();
        let mut first_sights = Vec::new();
        let mut originals = Vec::new();
        let mut per_compressor: BTreeMap<String, CompressorStats> = BTreeMap::new();
        let mut left_as_is: BTreeMap<String, CompressorStats> = BTreeMap::new();
        let (mut tokens_before, mut tokens_after) = (0, 0);
        // Markers already in the request (earlier output sent back) count as much as new ones.
        let carried = marker::keys_in(src);
        let mut ccr_keys = carried.clone();
        let mut rewrote_earlier = false;
        for ((((candidate, replay_key), prior), compacted), repeat) in work.iter().zip(replay_keys).zip(seen).zip(compactions).zip(repeats) {
            let entry = match (compacted, prior) {
                (Some(Compaction { entry: Some(entry), key, new }), _) => {
                    if new {
                        first_sights.push((key, entry.clone()));
                        rewrote_earlier = true;
                    }
                    entry
                }
                (_, Some(entry)) => entry,
                (_, None) => {
                    let editing = candidate.file_path.as_ref().is_some_and(|p| conv.edited_paths.contains(p));
                    // Text holding a marker is Headroom's own output coming back: compressing it
                    // again would nest markers.
                    let ours = !marker::keys_in(candidate.text).is_empty();
                    let entry = if let Some(repeat) = repeat {
                        repeat
                    } else if candidate.zone == Zone::Protected {
                        as_is(candidate.text, bpe, AsIs::Protected)
                    } else if ours {
                        as_is(candidate.text, bpe, AsIs::HeadroomOutput)
                    } else if candidate.tool_name.as_deref().is_some_and(delegated) {
                        as_is(candidate.text, bpe, AsIs::SubAgentReport)
                    } else if editing {
                        // A file being edited keeps every line: only a lossless rewrite applies.
                        exact_first_sight(candidate.text, bpe)
                    } else {
                        first_sight(candidate, &conv.query, options, bpe, ml.as_ref())
                    };
                    first_sights.push((replay_key, entry.clone()));
                    entry
                }
            };
            tokens_before += entry.tokens_before;
            tokens_after += entry.tokens_after;
            let Some(emitted) = entry.emitted else {
                // Entries recorded before reasons were kept have none, and are not reported.
                if entry.tokens_before >= LARGE_BLOCK_TOKENS && !entry.compressor.is_empty() {
                    tally(&mut left_as_is, &entry.compressor, 1, entry.tokens_before, entry.tokens_after);
                }
                continue;
            };
            let keys = marker::keys_in(&emitted);
            if !keys.is_empty() {
                // Also on replay: re-storing revives an original that expired while its
                // marker kept being re-emitted.
                originals.push((marker::key_for(candidate.text), candidate.text));
            }
            add_keys(&mut ccr_keys, keys);
            tally(&mut per_compressor, &entry.compressor, 1, entry.tokens_before, entry.tokens_after);
            edits.push(Edit { span: candidate.span.clone(), text: spans::quote(&emitted) });
        }
        // Tool-call arguments the conversation already shows (see arguments).
        let sites = arguments::sites(&conv, src);
        let site_keys: Vec<[u8; 32]> =
            sites.iter().map(|s| position_key("headroom arguments", &src[conv.prefix_start..s.span.end])).collect();
        let recorded = self.stores.replay_get_all(&site_keys)?;
        let mut argument_originals = Vec::new();
        for ((site, key), prior) in sites.iter().zip(site_keys).zip(recorded) {
            let entry = prior.unwrap_or_else(|| {
                let elided = arguments::elide(site, &arguments::shown_lines(&conv, site, &sites));
                let entry = elided.and_then(|text| if_smaller("arguments", text, &src[site.span.clone()], bpe)).unwrap_or(ReplayEntry {
                    compressor: String::new(),
                    emitted: None,
                    tokens_before: 0,
                    tokens_after: 0,
                });
                first_sights.push((key, entry.clone()));
                entry
            });
            let Some(emitted) = entry.emitted else { continue };
            let keys = marker::keys_in(&emitted);
            argument_originals.extend(arguments::values_behind(site, &keys));
            add_keys(&mut ccr_keys, keys);
            tokens_before += entry.tokens_before;
            tokens_after += entry.tokens_after;
            tally(&mut per_compressor, &entry.compressor, 1, entry.tokens_before, entry.tokens_after);
            edits.push(Edit { span: site.span.clone(), text: emitted });
        }
        originals.extend(argument_originals.iter().map(|(key, value)| (key.clone(), value.as_str())));
        // Images, shrunk once to the provider's own downscale and replayed (see compressors::image).
        let pictures: Vec<ImageBlock> = images::find(conv.messages, conv.format, options.frozen as usize).into_iter().filter(|b| !b.hands_off).collect();
        let picture_keys: Vec<[u8; 32]> = pictures.iter().map(|b| replay_key(b.text)).collect();
        let recorded = self.stores.replay_get_all(&picture_keys)?;
        for ((picture, key), prior) in pictures.iter().zip(picture_keys).zip(recorded) {
            let entry = prior.unwrap_or_else(|| {
                let entry = shrink_image(picture, conv.format, self.image_max_tokens);
                first_sights.push((key, entry.clone()));
                entry
            });
            tokens_before += entry.tokens_before;
            tokens_after += entry.tokens_after;
            let Some(emitted) = entry.emitted else { continue };
            // The original stays retrievable by the key of its text (`headroom retrieve`).
            originals.push((marker::key_for(picture.text), picture.text));
            tally(&mut per_compressor, &entry.compressor, 1, entry.tokens_before, entry.tokens_after);
            edits.push(Edit { span: picture.span.clone(), text: spans::quote(&emitted) });
        }
        self.stores.record_first_sight(&first_sights, &originals, now_ms())?;

        let mut memories = 0;
        if let Some((wanted, memory)) = recall {
            let (blocks, facts) = inject::plan(
                memory,
                &self.stores,
                self.tokenizer.for_model(None),
                src,
                conv.prefix_start,
                &conv.user_turns,
                &conv.query,
                wanted,
                ml.as_ref(),
                now_ms(),
            )?;
            memories = facts;
            // A user text that was compressed changes anyway; it gets no block.
            let compressed = |at: usize| edits.iter().any(|e: &Edit| e.span.contains(&at));
            let blocks: Vec<Edit> = blocks.into_iter().filter(|b| !compressed(b.span.start)).collect();
            edits.extend(blocks);
        }

        let retrieve_tool = (!ccr_keys.is_empty()).then(|| retrieve_tool::definition(conv.format));
        let mut added_tokens = 0;
        if let Some(definition) = &retrieve_tool {
            // The tool the markers need is part of what the model reads: a request whose
            // savings do not pay for it goes out untouched (unless it came with markers).
            added_tokens = tokens::count(bpe, definition);
            tokens_after += added_tokens;
            if tokens_after >= tokens_before && memories == 0 && options.memory.is_none() && carried.is_empty() {
                return Ok(CompressReply {
                    messages: messages.to_vec(),
                    tokens_before,
                    tokens_after: tokens_before,
                    ccr_keys: Vec::new(),
                    compressors: Vec::new(),
                    retrieve_tool: None,
                    format: conv.format,
                    memories: 0,
                    memory_tools: None,
                    rewrote_earlier: false,
                    added_tokens: 0,
                    left_as_is: left_as_is.into_values().collect(),
                });
            }
        }
        let mut offered: Vec<(&str, String)> = retrieve_tool.iter().map(|t| (retrieve_tool::TOOL_NAME, t.clone())).collect();
        let memory_tools = options.memory.as_ref().filter(|m| m.tools).map(|_| {
            let definitions = memory_tools::definitions(conv.format);
            let array = format!("[{}]", definitions.iter().map(|(_, d)| d.as_str()).collect::<Vec<_>>().join(","));
            added_tokens += tokens::count(bpe, &array);
            offered.extend(definitions);
            array
        });
        edits.extend(add_tools(&root, &offered));
        Ok(CompressReply {
            messages: spans::splice(src, edits).into_bytes(),
            tokens_before,
            tokens_after,
            ccr_keys,
            compressors: per_compressor.into_values().collect(),
            retrieve_tool: retrieve_tool.map(String::into_bytes),
            format: conv.format,
            memories,
            memory_tools: memory_tools.map(String::into_bytes),
            rewrote_earlier,
            added_tokens,
            left_as_is: left_as_is.into_values().collect(),
        })
    }

    /// Per work item, its compaction: as recorded earlier, or decided now for superseded outputs
    /// when the batch of them pays (see [`compaction`]). Outputs a repeat points at (`anchors`)
    /// are never compacted.
    fn plan_compaction(
        &self,
        src: &str,
        conv: &provider::Conversation,
        work: &[&Candidate],
        seen: &[Option<ReplayEntry>],
        anchors: &[bool],
        bpe: &CoreBPE,
    ) -> Result<Vec<Option<Compaction>>, EngineError> {
        let superseded: Vec<Option<&provider::ToolCall>> = work
            .iter()
            .zip(anchors)
            .map(|(c, &anchor)| if c.zone == Zone::Open && !anchor { compaction::superseded_by(conv, c) } else { None })
            .collect();
        let keys: Vec<[u8; 32]> = work
            .iter()
            .zip(&superseded)
            .filter(|(_, by)| by.is_some())
            .map(|(c, _)| position_key("headroom compaction", &src[conv.prefix_start..c.span.end]))
            .collect();
        let mut recorded = self.stores.replay_get_all(&keys)?.into_iter().zip(keys);
        let mut plan: Vec<Option<Compaction>> = superseded
            .iter()
            .map(|by| by.and_then(|_| recorded.next()).map(|(entry, key)| Compaction { entry, key, new: false }))
            .collect();
        let drafts: Vec<(usize, String)> = (0..work.len())
            .filter(|&i| plan[i].as_ref().is_some_and(|c| c.entry.is_none()))
            .map(|i| (i, compaction::compacted(work[i], superseded[i].expect("superseded"))))
            .collect();
        // Sizes as they stand in the request (JSON-escaped), like the spans they are compared with.
        let current = |i: usize| seen[i].as_ref().and_then(|e| e.emitted.as_ref()).map_or(work[i].span.len(), |e| spans::quote(e).len());
        let pays = drafts.first().is_some_and(|&(first, _)| {
            let now: usize = drafts.iter().map(|(i, _)| current(*i)).sum();
            let after: usize = drafts.iter().map(|(_, d)| spans::quote(d).len()).sum();
            compaction::pays(conv, self.prices, work[first].span.start, now, after)
        });
        if pays {
            for (i, draft) in drafts {
                if let Some(planned) = &mut plan[i] {
                    planned.entry = if_smaller("compaction", draft, work[i].text, bpe);
                    planned.new = planned.entry.is_some();
                }
            }
        }
        Ok(plan)
    }

    /// The tokenizer of `model` (o200k for current models, cl100k for older ones).
    pub fn tokenizer(&self, model: Option<&str>) -> &'static CoreBPE {
        self.tokenizer.for_model(model)
    }

    /// The original behind `key`, whole, or only its lines matching `query` (see
    /// [`matching_lines`]).
    ///
    /// Errors: `bad_request` for a malformed key, `not_found`, and `expired` (terminal: the
    /// message tells the model to re-run the tool).
    pub fn retrieve(&self, key: &str, query: Option<&str>, now_ms: u64) -> Result<RetrieveReply, EngineError> {
        if !marker::is_key(key) {
            return Err(EngineError::new(ErrorCode::BadRequest, format!("{key:?} is not a Headroom key (24 lowercase hex digits)")));
        }
        let expiry_ms = self.ccr_idle_expiry.as_millis() as u64;
        match self.stores.ccr_get(key, now_ms, expiry_ms)? {
            Lookup::Found(original) => Ok(match query.map(str::trim).filter(|q| !q.is_empty()) {
                None => RetrieveReply { key: key.to_string(), content: original, whole: true },
                Some(q) => RetrieveReply { key: key.to_string(), content: matching_lines(&original, q), whole: false },
            }),
            Lookup::Expired => Err(EngineError::new(
                ErrorCode::Expired,
                format!("the original behind hash={key} expired after {} days unused; re-run the tool that produced it", expiry_ms / 86_400_000),
            )),
            Lookup::NotFound => Err(EngineError::new(ErrorCode::NotFound, format!("no original is stored under hash={key}"))),
        }
    }

    /// The stores, for what is kept beside the engine's own records (metrics).
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// Entries in the CCR store and the replay cache.
    pub fn store_counts(&self) -> Result<(u64, u64), EngineError> {
        Ok(self.stores.entry_counts()?)
    }

    /// Expires CCR originals idle past the expiry; returns how many.
    pub fn sweep_expired(&self, now_ms: u64) -> Result<usize, EngineError> {
        Ok(self.stores.ccr_sweep(now_ms, self.ccr_idle_expiry.as_millis() as u64)?)
    }
}

/// A superseded output's compaction: its entry (none while no batch has paid), the key it is
/// recorded under, and whether this request decided it.
struct Compaction {
    entry: Option<ReplayEntry>,
    key: [u8; 32],
    new: bool,
}

/// Re-runs sent as what differs from the earlier run (see [`repeats`]): for each work item its
/// entry when decided now, and which items a repeat (new or replayed) points at.
fn plan_repeats(work: &[&Candidate], seen: &[Option<ReplayEntry>], bpe: &CoreBPE) -> (Vec<Option<ReplayEntry>>, Vec<bool>) {
    let mut repeats: Vec<Option<ReplayEntry>> = vec![None; work.len()];
    let mut anchors = vec![false; work.len()];
    for i in 0..work.len() {
        let Some(j) = repeats::earlier_run(work, i) else { continue };
        let is_repeat = match &seen[i] {
            Some(entry) => entry.compressor == "repeat",
            None if work[i].zone == Zone::Open => {
                repeats[i] = repeats::diff(work[i].text, work[j].text).and_then(|out| if_smaller("repeat", out, work[i].text, bpe));
                repeats[i].is_some()
            }
            None => false,
        };
        anchors[j] |= is_repeat;
    }
    (repeats, anchors)
}

/// Appends the keys not yet in `ccr_keys`, in order.
fn add_keys(ccr_keys: &mut Vec<String>, keys: Vec<String>) {
    for key in keys {
        if !ccr_keys.contains(&key) {
            ccr_keys.push(key);
        }
    }
}

/// An image's first sight: shrunk to what the provider bills (or to the user's budget) when that
/// makes it smaller, its billed tokens before and after either way.
fn shrink_image(picture: &ImageBlock, format: ProviderFormat, max_tokens: Option<u64>) -> ReplayEntry {
    use base64::Engine as _;
    let provider = if format == ProviderFormat::Anthropic { image::Provider::Anthropic } else { image::Provider::OpenAi };
    let unchanged = |tokens: u64| ReplayEntry { compressor: String::new(), emitted: None, tokens_before: tokens, tokens_after: tokens };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(picture.base64()) else { return unchanged(0) };
    let Ok(size) = ::image::ImageReader::new(std::io::Cursor::new(&bytes)).with_guessed_format().map_err(drop).and_then(|r| r.into_dimensions().map_err(drop)) else {
        return unchanged(0);
    };
    let before = image::billed_tokens(provider, picture.low_detail, size.0, size.1);
    match image::shrink(&bytes, provider, picture.low_detail, max_tokens) {
        Some(shrunk) => ReplayEntry {
            compressor: "image".into(),
            emitted: Some(format!("{}{}", picture.prefix, base64::engine::general_purpose::STANDARD.encode(&shrunk.bytes))),
            tokens_before: before,
            tokens_after: image::billed_tokens(provider, picture.low_detail, shrunk.after.0, shrunk.after.1),
        },
        None => unchanged(before),
    }
}

/// Adds `blocks` blocks and their tokens to a compressor's totals: per request here, per daemon
/// in the metrics.
pub fn tally(per_compressor: &mut BTreeMap<String, CompressorStats>, compressor: &str, blocks: u32, before: u64, after: u64) {
    let stats = per_compressor
        .entry(compressor.to_string())
        .or_insert_with(|| CompressorStats { name: compressor.to_string(), blocks: 0, tokens_before: 0, tokens_after: 0 });
    stats.blocks += blocks;
    stats.tokens_before += before;
    stats.tokens_after += after;
}

/// Compresses a block seen for the first time, keeping the result only if it has fewer tokens
/// (docs/architecture.md §3.3).
fn first_sight(
    candidate: &Candidate,
    query: &str,
    options: &CompressOptions,
    bpe: &CoreBPE,
    ml: Option<&RequestModels>,
) -> ReplayEntry {
    let key = marker::key_for(candidate.text);
    let ctx = Context {
        query,
        tool_name: candidate.tool_name.as_deref(),
        file_path: candidate.file_path.as_deref(),
        command: candidate.command.as_deref(),
        key: &key,
        target_ratio: options.target_ratio,
        older: candidate.older,
        ml,
    };
    // A harness's preamble stays as it is, in front; of the output after it, escapes and
    // redraws go first, then a command's runs of progress lines, unless the output reads as a
    // log (its templates list the steps' files and names, which a collapsed run would hide
    // from them); what is left is routed as the program's own output.
    let (preamble, output) = candidate.text.split_at(harness::preamble(candidate.text));
    let cleaned = terminal::clean(output, &key);
    let text = cleaned.as_deref().unwrap_or(output);
    let collapsed = ctx.command.filter(|_| !logs::detect(text)).and_then(|_| progress::collapse(text));
    let text = collapsed.as_ref().map_or(text, |(collapsed, _)| collapsed.as_str());
    let routed = router::route(text, &ctx);
    let compressed = routed.and_then(|compressor| compressor.compress(text, &ctx).map(|out| (compressor.name(), out)));
    // The compressor's output, else the rewrites before it alone: the first with fewer tokens.
    let fallback = match (collapsed, cleaned) {
        (Some((collapsed, what)), _) => Some(("progress", format!("{}\n{}", collapsed.trim_end_matches('\n'), marker::marker(&key, &what)))),
        (None, Some(cleaned)) => Some(("terminal", cleaned)),
        (None, None) => None,
    };
    if compressed.is_none() && fallback.is_none() {
        let why = routed.map_or(AsIs::NoCompressorFits, |c| AsIs::NothingToDrop(c.name()));
        return as_is(candidate.text, bpe, why);
    }
    let name = compressed.as_ref().or(fallback.as_ref()).map_or("", |(name, _)| *name);
    compressed
        .into_iter()
        .chain(fallback)
        .find_map(|(name, out)| if_smaller(name, format!("{preamble}{out}"), candidate.text, bpe))
        .unwrap_or_else(|| as_is(candidate.text, bpe, AsIs::NotSmaller(name)))
}

/// [`first_sight`] for a block whose every line must stay: only the numbered-view rewrite
/// that drops padding and nothing else may apply.
fn exact_first_sight(text: &str, bpe: &CoreBPE) -> ReplayEntry {
    let lossless = numbered::detect(text).then(|| numbered::unpadded(text)).flatten();
    lossless.and_then(|out| if_smaller(numbered::Numbered.name(), out, text, bpe)).unwrap_or_else(|| as_is(text, bpe, AsIs::BeingEdited))
}

/// The entry emitting `out` for `original`, if `out` has fewer tokens (docs/architecture.md §3.3).
fn if_smaller(compressor: &str, out: String, original: &str, bpe: &CoreBPE) -> Option<ReplayEntry> {
    let after = tokens::count(bpe, &out);
    let before = tokens::count_past(bpe, original, after);
    (after < before).then(|| ReplayEntry { compressor: compressor.into(), emitted: Some(out), tokens_before: before, tokens_after: after })
}

/// Tools that hand work to a sub-agent: Claude Code's `Task` (`Agent` in later versions) and any
/// tool named for one. What comes back is another model's conclusion, written for this one and
/// already short; the agent relays its facts, so it is sent whole.
fn delegated(tool_name: &str) -> bool {
    matches!(tool_name, "Task" | "Agent") || tool_name.to_ascii_lowercase().replace(['_', '-'], "").contains("subagent")
}

/// Why a block is sent unchanged, as `left_as_is` reports it.
enum AsIs {
    /// In a zone compression must not touch (the user's own words, instructions).
    Protected,
    /// It carries a marker: Headroom's output coming back.
    HeadroomOutput,
    /// A file being edited, with no lossless rewrite that applies.
    BeingEdited,
    /// The report of a sub-agent: see [`delegated`].
    SubAgentReport,
    /// The router recognised no kind of content in it.
    NoCompressorFits,
    /// The compressor for its kind found nothing it may drop.
    NothingToDrop(&'static str),
    /// The compressor's output had no fewer tokens.
    NotSmaller(&'static str),
}

impl AsIs {
    fn reason(&self) -> String {
        match self {
            AsIs::Protected => "protected".into(),
            AsIs::HeadroomOutput => "headroom's own output".into(),
            AsIs::BeingEdited => "a file being edited".into(),
            AsIs::SubAgentReport => "a sub-agent's report".into(),
            AsIs::NoCompressorFits => "no compressor fits".into(),
            AsIs::NothingToDrop(name) => format!("{name}: nothing to drop"),
            AsIs::NotSmaller(name) => format!("{name}: not smaller"),
        }
    }
}

/// The entry of a block sent unchanged, with why (in `compressor`); its size is estimated past
/// [`ESTIMATE_FROM_TOKENS`], as no decision depends on it.
fn as_is(text: &str, bpe: &CoreBPE, why: AsIs) -> ReplayEntry {
    let tokens = tokens::count_past(bpe, text, ESTIMATE_FROM_TOKENS);
    ReplayEntry { compressor: why.reason(), emitted: None, tokens_before: tokens, tokens_after: tokens }
}

/// Lines of `original` matching `query`, each as `L<n>: line`: the lines a query made of line
/// numbers names (`lines 120–180, 200`, as markers write them), else the lines containing the
/// query as written (case-insensitive) when there are any, else those containing all its words,
/// else those containing any of its words that are not on most lines.
fn matching_lines(original: &str, query: &str) -> String {
    let lines: Vec<&str> = original.lines().collect();
    let ranges = line_ranges(query).unwrap_or_default();
    let phrase = query.to_lowercase();
    let q = Query::new(query);
    let rare = q.discriminative(lines.iter().copied(), 0.5);
    let all = q.terms().count();
    // Each tier sees a line's 1-based number and its text.
    type Tier<'t> = &'t dyn Fn(usize, &str) -> bool;
    let tiers: [Tier; 4] = [
        &|n, _| ranges.iter().any(|r| r.contains(&n)),
        &|_, line| line.to_lowercase().contains(&phrase),
        &|_, line| all > 0 && q.hits(line) == all,
        &|_, line| rare.hits(line) > 0,
    ];
    for matches in tiers {
        let found: String =
            lines.iter().enumerate().map(|(n, l)| (n + 1, l)).filter(|(n, l)| matches(*n, l)).map(|(n, l)| format!("L{n}: {l}\n")).collect();
        if !found.is_empty() {
            return found;
        }
    }
    format!("no line of the original matches {query:?}; retrieve without a query for all of it\n")
}

/// The 1-based line ranges a query made only of line numbers names: `lines 8–28, 31`,
/// `L120-L180`, `line 4`, `120..180`; `None` for any other query.
fn line_ranges(query: &str) -> Option<Vec<std::ops::RangeInclusive<usize>>> {
    let rest = query.trim().trim_start_matches("lines").trim_start_matches("line").trim_start_matches("Lines").trim_start_matches("Line");
    let mut ranges = Vec::new();
    for part in rest.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
        let part = part.trim_start_matches("and ");
        let bound = |s: &str| s.trim().trim_start_matches(['L', 'l']).parse::<usize>().ok();
        let range = match part.split_once(['–', '-']).or_else(|| part.split_once("..")) {
            Some((from, to)) => bound(from)?..=bound(to.trim_start_matches('.'))?,
            None => bound(part)?..=bound(part)?,
        };
        ranges.push(range);
    }
    (!ranges.is_empty()).then_some(ranges)
}

/// When the request is a whole object, the edit that appends Headroom's `tools` (as `(name,
/// JSON)`) to its `tools`, leaving out those already there by name.
fn add_tools(root: &Node, tools: &[(&str, String)]) -> Option<Edit> {
    let Value::Object(members) = &root.value else { return None };
    let existing = root.get("tools");
    let named = |t: &Node| t.str_at("name").or_else(|| t.get("function").and_then(|f| f.str_at("name"))).map(str::to_string);
    let present: Vec<String> = existing.and_then(Node::as_array).unwrap_or(&[]).iter().filter_map(named).collect();
    let new: Vec<&str> = tools.iter().filter(|(name, _)| !present.iter().any(|p| p == name)).map(|(_, t)| t.as_str()).collect();
    if new.is_empty() {
        return None;
    }
    let list = new.join(",");
    match existing {
        Some(tools) => {
            let items = tools.as_array()?;
            Some(match items.last() {
                Some(last) => Edit { span: last.span.end..last.span.end, text: format!(",{list}") },
                None => Edit { span: tools.span.clone(), text: format!("[{list}]") },
            })
        }
        None => {
            let (_, last) = members.last()?;
            Some(Edit { span: last.span.end..last.span.end, text: format!(",\"tools\":[{list}]") })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retrieval_queries_prefer_the_phrase_then_all_words_then_rare_words() {
        let log = "a blk_-1 x\nb blk_-2 y error\nc blk_-3 z\nd blk_-22 w\n";
        assert_eq!(matching_lines(log, "blk_-2 y"), "L2: b blk_-2 y error\n");
        assert_eq!(matching_lines(log, "ERROR blk_"), "L2: b blk_-2 y error\n");
        assert_eq!(matching_lines(log, "zeta error"), "L2: b blk_-2 y error\n");
        assert!(matching_lines(log, "zeta").starts_with("no line of the original matches"));
    }

    #[test]
    fn a_query_of_line_numbers_reads_those_lines() {
        let text: String = (1..=40).map(|n| format!("line text {n}\n")).collect();
        assert_eq!(matching_lines(&text, "lines 3–4, 39"), "L3: line text 3\nL4: line text 4\nL39: line text 39\n");
        assert_eq!(matching_lines(&text, "L10-L11"), "L10: line text 10\nL11: line text 11\n");
        assert_eq!(matching_lines(&text, "line 7"), "L7: line text 7\n");
        assert_eq!(matching_lines(&text, "20..21"), "L20: line text 20\nL21: line text 21\n");
        assert_eq!(matching_lines(&text, "text 12"), "L12: line text 12\n", "words with a number are still words");
        assert!(matching_lines(&text, "lines 90–95").starts_with("no line of the original matches"));
    }
}
