//! The daemon's counters in the Prometheus text format (version 0.0.4), for `GET /metrics` on
//! the HTTP front and `headroom stats --prometheus`: both render the same `Stats` and `Metrics`
//! replies, so a scrape and the CLI never disagree.
//!
//! The latency histogram's buckets are the daemon's own quarter-octave buckets summed up to each
//! bound: an observation is counted under a bound only when its whole bucket lies below it, so a
//! bucket can undercount by at most one quarter octave.

use headroom_protocol::{MetricsReply, StatsReply};
use std::fmt::Write;

/// Escapes a label value (backslash, quote, newline).
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The exposition text.
pub fn render(stats: &StatsReply, metrics: &MetricsReply) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let plain = |v: u64| vec![(String::new(), v)];
    metric("headroom_connections_total", "counter", "Socket connections accepted since start.", &plain(stats.connections));
    metric("headroom_requests_total", "counter", "Socket requests received since start.", &plain(stats.requests));
    metric("headroom_compress_requests_total", "counter", "Compressions since start.", &plain(stats.compress_requests));
    metric("headroom_tokens_before_total", "counter", "Tokens of the content considered, before compression.", &plain(stats.tokens_before));
    metric("headroom_tokens_after_total", "counter", "Tokens of the same content after compression.", &plain(stats.tokens_after));
    let retrieves = vec![
        ("{result=\"hit\"}".to_string(), metrics.ccr_hits),
        ("{result=\"miss\"}".to_string(), metrics.ccr_misses),
        ("{result=\"expired\"}".to_string(), metrics.ccr_expired),
    ];
    metric("headroom_retrieves_total", "counter", "Retrievals of originals by result.", &retrieves);
    let per = |f: fn(&headroom_protocol::CompressorStats) -> u64| -> Vec<(String, u64)> {
        metrics.compressors.iter().map(|c| (format!("{{compressor=\"{}\"}}", label(&c.name)), f(c))).collect()
    };
    metric("headroom_compressor_blocks_total", "counter", "Blocks each compressor changed.", &per(|c| u64::from(c.blocks)));
    metric("headroom_compressor_tokens_before_total", "counter", "Tokens of the blocks each compressor changed, before.", &per(|c| c.tokens_before));
    metric("headroom_compressor_tokens_after_total", "counter", "Tokens of the blocks each compressor changed, after.", &per(|c| c.tokens_after));
    let left: Vec<(String, u64)> = metrics.left_as_is.iter().map(|c| (format!("{{reason=\"{}\"}}", label(&c.name)), u64::from(c.blocks))).collect();
    metric("headroom_left_as_is_blocks_total", "counter", "Blocks of 2,000 or more tokens sent unchanged, by reason.", &left);
    metric("headroom_stored_originals", "gauge", "Originals held for retrieval.", &plain(stats.ccr_entries));
    metric("headroom_replay_entries", "gauge", "Blocks whose first output is re-emitted on later requests.", &plain(stats.replay_entries));
    let _ = writeln!(
        out,
        "# HELP headroom_compress_duration_seconds Time the engine spent per compression since start.\n\
         # TYPE headroom_compress_duration_seconds histogram"
    );
    for bucket in &metrics.latency_buckets {
        let _ = writeln!(out, "headroom_compress_duration_seconds_bucket{{le=\"{}\"}} {}", seconds(bucket.le_us), bucket.count);
    }
    let _ = writeln!(out, "headroom_compress_duration_seconds_bucket{{le=\"+Inf\"}} {}", stats.compress_requests);
    let _ = writeln!(out, "headroom_compress_duration_seconds_sum {}", seconds(metrics.latency_sum_us));
    let _ = writeln!(out, "headroom_compress_duration_seconds_count {}", stats.compress_requests);
    let _ = writeln!(
        out,
        "# HELP headroom_uptime_seconds Seconds since the daemon started.\n# TYPE headroom_uptime_seconds gauge\nheadroom_uptime_seconds {}",
        seconds(stats.uptime_ms * 1000)
    );
    out
}

/// Microseconds as seconds, without trailing zeros.
fn seconds(us: u64) -> String {
    let text = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use headroom_protocol::{CompressorStats, LatencyBucket};

    #[test]
    fn every_sample_follows_its_help_and_type_and_the_histogram_adds_up() {
        let stats = StatsReply {
            protocol_version: 3,
            uptime_ms: 1_500,
            connections: 2,
            requests: 9,
            compress_requests: 4,
            tokens_before: 1_000,
            tokens_after: 100,
            ccr_entries: 1,
            replay_entries: 3,
        };
        let metrics = MetricsReply {
            compressors: vec![CompressorStats { name: "lo\"gs".into(), blocks: 2, tokens_before: 900, tokens_after: 50 }],
            ccr_hits: 1,
            ccr_misses: 0,
            ccr_expired: 0,
            latency_p50_us: 0,
            latency_p99_us: 0,
            all_time_compress_requests: 0,
            all_time_tokens_before: 0,
            all_time_tokens_after: 0,
            all_time_latency_p50_us: 0,
            all_time_latency_p99_us: 0,
            latency_buckets: vec![LatencyBucket { le_us: 250, count: 1 }, LatencyBucket { le_us: 1_000_000, count: 4 }],
            latency_sum_us: 1_250_000,
            left_as_is: vec![CompressorStats { name: "code: not smaller".into(), blocks: 3, tokens_before: 9_000, tokens_after: 9_000 }],
        };
        let text = render(&stats, &metrics);
        assert!(text.contains("headroom_tokens_before_total 1000\n"), "{text}");
        assert!(text.contains("headroom_compressor_tokens_after_total{compressor=\"lo\\\"gs\"} 50\n"), "{text}");
        assert!(text.contains("headroom_compress_duration_seconds_bucket{le=\"0.00025\"} 1\n"), "{text}");
        assert!(text.contains("headroom_compress_duration_seconds_bucket{le=\"1\"} 4\n"), "{text}");
        assert!(text.contains("headroom_left_as_is_blocks_total{reason=\"code: not smaller\"} 3\n"), "{text}");
        assert!(text.contains("headroom_compress_duration_seconds_sum 1.25\nheadroom_compress_duration_seconds_count 4\n"), "{text}");
        assert!(text.contains("headroom_uptime_seconds 1.5\n"), "{text}");
        // Every sample's metric was declared by the TYPE line before it.
        let mut declared = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.push(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(declared.iter().any(|d| name.starts_with(d.as_str())), "{name} before its TYPE");
            }
        }
    }
}
