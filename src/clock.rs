//! Time, as the service sees it: the system clock plus an offset that tests (and nothing else) may move.
//!
//! Expiry, `auth_time`, `max_age` and dormancy all read this clock, so a test can jump an hour ahead instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// Seconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        let real = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        real.saturating_add_signed(self.offset.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward; for tests of expiry and `max_age`.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}
