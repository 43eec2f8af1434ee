//! Equal time for every refusal, so the clock does not tell which mailboxes exist. A known mailbox with a wrong
//! password costs an account search and a password bind (with `{ARGON2}` hashes, ~10 ms of the server's work);
//! an unknown or disabled one used to cost the search alone. Now it gets a bind too, as a DN that does not exist
//! with the password typed (the same round trip on the same pool), and then waits until it has taken as long as
//! the real password binds take now (the median of the recent ones): a server that hashes slowly is matched.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many recent real binds the estimate follows.
const RECENT: usize = 64;

/// The durations of recent real password binds.
#[derive(Debug, Default)]
pub struct BindTimes {
    recent: Mutex<VecDeque<Duration>>,
}

impl BindTimes {
    /// Remembers how long a real password bind took (right or wrong password alike).
    pub fn record(&self, took: Duration) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == RECENT {
            recent.pop_front();
        }
        recent.push_back(took);
    }

    /// The median of the recent real binds; `None` before the first.
    pub fn typical(&self) -> Option<Duration> {
        let mut recent: Vec<Duration> = self.recent.lock().unwrap_or_else(|e| e.into_inner()).iter().copied().collect();
        recent.sort_unstable();
        recent.get(recent.len() / 2).copied()
    }

    /// Waits until `started` (the decoy bind's start) is as long ago as a real bind takes.
    pub async fn pad(&self, started: Instant) {
        if let Some(typical) = self.typical() {
            tokio::time::sleep_until((started + typical).into()).await;
        }
    }
}

/// A DN no directory holds, below the base: the decoy bind is refused (49) without touching any account.
pub fn decoy_dn(base_dn: &str) -> String {
    format!("cn=danang-sso-no-such-entry-7f3a9c,{base_dn}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_is_the_median_of_the_recent_binds() {
        let times = BindTimes::default();
        assert_eq!(times.typical(), None);
        for ms in [30, 10, 20] {
            times.record(Duration::from_millis(ms));
        }
        assert_eq!(times.typical(), Some(Duration::from_millis(20)));
        for _ in 0..RECENT {
            times.record(Duration::from_millis(5));
        }
        assert_eq!(times.typical(), Some(Duration::from_millis(5)), "only the recent ones count");
    }
}
