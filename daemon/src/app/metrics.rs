//! What `headroom stats` reports: connections and requests, compressions and their tokens,
//! per-compressor totals, CCR hits and misses, and compress latency percentiles — since start,
//! and all-time (persisted in the stores every few seconds and at shutdown). Every front counts
//! here, once.

use crate::engine::tally;
use crate::store::{StoreError, Stores};
use bincode::{Decode, Encode};
use headroom_protocol::{CompressReply, CompressorStats, LatencyBucket, MetricsReply};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Buckets per doubling of latency: quarter-octave resolution (≤ 19 % error on a percentile).
const SUB_BUCKETS: u32 = 4;
/// Enough buckets for latencies up to 2^32 µs.
const BUCKETS: usize = (32 * SUB_BUCKETS) as usize;

/// A latency histogram with logarithmic buckets.
#[derive(Debug, Clone, PartialEq, Encode, Decode)]
pub struct Histogram {
    counts: Vec<u64>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS] }
    }
}

fn bucket(us: u64) -> usize {
    if us < u64::from(SUB_BUCKETS) {
        return us as usize;
    }
    let octave = 63 - us.leading_zeros();
    let fraction = (us >> (octave - 2)) & u64::from(SUB_BUCKETS - 1);
    (((octave - 1) * SUB_BUCKETS) as usize + fraction as usize).min(BUCKETS - 1)
}

/// The largest latency falling in bucket `b`.
fn upper_bound(b: usize) -> u64 {
    let b = b as u32;
    if b < SUB_BUCKETS {
        return u64::from(b);
    }
    let (octave, fraction) = (b / SUB_BUCKETS + 1, u64::from(b % SUB_BUCKETS));
    ((SUB_BUCKETS as u64 + fraction + 1) << (octave - 2)) - 1
}

impl Histogram {
    /// Counts one observation.
    pub fn record(&mut self, latency: Duration) {
        self.counts[bucket(latency.as_micros() as u64)] += 1;
    }

    /// The latency at quantile `q` (0..=1), as its bucket's upper bound; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        let total: u64 = self.counts.iter().sum();
        if total == 0 {
            return 0;
        }
        let rank = ((total as f64 * q).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return upper_bound(b);
            }
        }
        upper_bound(BUCKETS - 1)
    }

    /// Observations that fell in buckets whose latencies are all at most `le_us`.
    fn at_most(&self, le_us: u64) -> u64 {
        self.counts.iter().enumerate().take_while(|(b, _)| upper_bound(*b) <= le_us).map(|(_, c)| c).sum()
    }

    fn plus(&self, other: &Histogram) -> Histogram {
        Histogram { counts: self.counts.iter().zip(&other.counts).map(|(a, b)| a + b).collect() }
    }
}

/// Totals kept across restarts.
#[derive(Debug, Clone, Default, PartialEq, Encode, Decode)]
pub struct AllTime {
    pub compress_requests: u64,
    pub tokens_before: u64,
    pub tokens_after: u64,
    pub latency: Histogram,
}

#[derive(Default)]
struct SinceStart {
    compressors: BTreeMap<String, CompressorStats>,
    /// Large blocks sent unchanged, by reason.
    left_as_is: BTreeMap<String, CompressorStats>,
    compress_requests: u64,
    tokens_before: u64,
    tokens_after: u64,
    latency: Histogram,
    latency_sum_us: u64,
}

/// The bucket bounds of the latency histogram Prometheus sees, in µs: 100 µs to 10 s.
const PROMETHEUS_BOUNDS_US: [u64; 12] =
    [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 1_000_000, 5_000_000, 10_000_000];

/// The daemon's metrics.
pub struct Metrics {
    /// Connections accepted on the socket since start.
    pub connections: AtomicU64,
    /// Requests read on the socket since start (the handshake included).
    pub requests: AtomicU64,
    since_start: Mutex<SinceStart>,
    /// All-time totals as loaded at start; the persisted value is this plus `since_start`.
    before_start: AllTime,
    pub ccr_hits: AtomicU64,
    pub ccr_misses: AtomicU64,
    pub ccr_expired: AtomicU64,
}

impl Metrics {
    /// Metrics continuing the all-time totals stored in `stores` (fresh ones if none or damaged).
    pub fn load(stores: &Stores) -> Self {
        let before_start = stores
            .metrics_get()
            .ok()
            .flatten()
            .and_then(|bytes| bincode::decode_from_slice(&bytes, bincode::config::standard()).ok().map(|(m, _)| m))
            .unwrap_or_default();
        Metrics {
            connections: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            since_start: Mutex::new(SinceStart::default()),
            before_start,
            ccr_hits: AtomicU64::new(0),
            ccr_misses: AtomicU64::new(0),
            ccr_expired: AtomicU64::new(0),
        }
    }

    /// Records one compression and how long the engine took.
    pub fn record_compress(&self, reply: &CompressReply, latency: Duration) {
        let mut s = self.since_start.lock().unwrap_or_else(|e| e.into_inner());
        s.compress_requests += 1;
        s.tokens_before += reply.tokens_before;
        s.tokens_after += reply.tokens_after;
        s.latency.record(latency);
        s.latency_sum_us += latency.as_micros() as u64;
        for c in &reply.compressors {
            tally(&mut s.compressors, &c.name, c.blocks, c.tokens_before, c.tokens_after);
        }
        for c in &reply.left_as_is {
            tally(&mut s.left_as_is, &c.name, c.blocks, c.tokens_before, c.tokens_after);
        }
    }

    /// Adds one to a counter.
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Compressions since start and their tokens before and after.
    pub fn compressed_since_start(&self) -> (u64, u64, u64) {
        let s = self.since_start.lock().unwrap_or_else(|e| e.into_inner());
        (s.compress_requests, s.tokens_before, s.tokens_after)
    }

    fn all_time(&self, s: &SinceStart) -> AllTime {
        AllTime {
            compress_requests: self.before_start.compress_requests + s.compress_requests,
            tokens_before: self.before_start.tokens_before + s.tokens_before,
            tokens_after: self.before_start.tokens_after + s.tokens_after,
            latency: self.before_start.latency.plus(&s.latency),
        }
    }

    /// Writes the all-time totals to the stores.
    pub fn persist(&self, stores: &Stores) -> Result<(), StoreError> {
        let all = {
            let s = self.since_start.lock().unwrap_or_else(|e| e.into_inner());
            self.all_time(&s)
        };
        let bytes = bincode::encode_to_vec(&all, bincode::config::standard()).expect("encoding into a Vec cannot fail");
        stores.metrics_put(&bytes)
    }

    /// The wire form.
    pub fn reply(&self) -> MetricsReply {
        let s = self.since_start.lock().unwrap_or_else(|e| e.into_inner());
        let all = self.all_time(&s);
        MetricsReply {
            compressors: s.compressors.values().cloned().collect(),
            ccr_hits: self.ccr_hits.load(Ordering::Relaxed),
            ccr_misses: self.ccr_misses.load(Ordering::Relaxed),
            ccr_expired: self.ccr_expired.load(Ordering::Relaxed),
            latency_p50_us: s.latency.quantile(0.5),
            latency_p99_us: s.latency.quantile(0.99),
            all_time_compress_requests: all.compress_requests,
            all_time_tokens_before: all.tokens_before,
            all_time_tokens_after: all.tokens_after,
            all_time_latency_p50_us: all.latency.quantile(0.5),
            all_time_latency_p99_us: all.latency.quantile(0.99),
            latency_buckets: PROMETHEUS_BOUNDS_US
                .iter()
                .map(|&le_us| LatencyBucket { le_us, count: s.latency.at_most(le_us) })
                .collect(),
            latency_sum_us: s.latency_sum_us,
            left_as_is: s.left_as_is.values().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_bound_their_latencies() {
        for us in [0u64, 1, 3, 4, 5, 7, 8, 100, 1_000, 12_345, 1 << 30] {
            let b = bucket(us);
            assert!(upper_bound(b) >= us, "{us} in bucket {b} bounded by {}", upper_bound(b));
            assert!(b == 0 || upper_bound(b - 1) < us, "{us}: bucket {b} too high");
        }
    }

    #[test]
    fn percentiles_come_from_the_counts() {
        let mut h = Histogram::default();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let p50 = h.quantile(0.5);
        let p99 = h.quantile(0.99);
        assert!((50_000..=60_000).contains(&p50), "{p50}");
        assert!((99_000..=120_000).contains(&p99), "{p99}");
        assert_eq!(Histogram::default().quantile(0.5), 0);
    }

    #[test]
    fn all_time_totals_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let reply = CompressReply {
            messages: vec![],
            tokens_before: 100,
            tokens_after: 10,
            ccr_keys: vec![],
            compressors: vec![CompressorStats { name: "logs".into(), blocks: 1, tokens_before: 100, tokens_after: 10 }],
            retrieve_tool: None,
            format: headroom_protocol::ProviderFormat::OpenAiChat,
            memories: 0,
            memory_tools: None,
            rewrote_earlier: false,
            added_tokens: 0,
            left_as_is: vec![],
        };
        {
            let stores = Stores::open(dir.path(), 1 << 24).unwrap();
            let m = Metrics::load(&stores);
            m.record_compress(&reply, Duration::from_millis(3));
            m.persist(&stores).unwrap();
        }
        let stores = Stores::open(dir.path(), 1 << 24).unwrap();
        let m = Metrics::load(&stores);
        m.record_compress(&reply, Duration::from_millis(3));
        let r = m.reply();
        assert_eq!((r.all_time_compress_requests, r.all_time_tokens_before, r.all_time_tokens_after), (2, 200, 20));
        assert_eq!(r.compressors[0].blocks, 1, "per-compressor figures are since start");
        assert!(r.all_time_latency_p50_us >= 3_000);
    }
}
