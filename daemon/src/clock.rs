//! Wall-clock time for what is stored (fact dates, expiry, ledgers), never for what is emitted:
//! compressed output must not depend on the time of day.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, for store timestamps (never for output).
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
