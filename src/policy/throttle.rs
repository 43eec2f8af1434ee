//! Brute-force protection: growing waits, then a temporary lockout, per mailbox and per client IP.
//!
//! Counters live in the store, so every instance sees the same ones. Mailboxes are counted as typed
//! (normalised), whether or not they exist, so the throttle never tells an attacker which accounts are real.
//! While a wait is running, no password is checked at all, so a correct guess during a lockout signs nobody in.

use std::net::IpAddr;

use crate::config::ThrottleConfig;
use crate::store::{Store, StoreError};

pub struct Throttle {
    config: ThrottleConfig,
}

/// What a failure led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// No wait yet.
    Free,
    /// The next attempt must wait this long.
    Wait(u64),
    /// The maximum was reached just now: locked out for this long.
    LockedOut(u64),
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle { config }
    }

    /// The wait before `failures` failures may try again (pure): nothing for the first free ones, then
    /// `base_delay_secs` doubling, and `lockout_secs` once `max` is reached.
    pub fn wait_after(&self, failures: u64, free: u64, max: u64) -> u64 {
        let c = &self.config;
        if failures >= max {
            c.lockout_secs
        } else if failures < free {
            0
        } else {
            let doublings = (failures - free).min(30) as u32;
            c.base_delay_secs.saturating_mul(1 << doublings).min(c.lockout_secs)
        }
    }

    /// Seconds this mailbox or IP still has to wait (0: go ahead).
    /// Both counters are read at once: one round trip to a shared store.
    pub async fn wait(&self, store: &dyn Store, account: Option<&str>, ip: Option<IpAddr>) -> Result<u64, StoreError> {
        let remaining = |key: Option<String>| async move {
            match key {
                Some(key) => store.count(&key).await.map(|(_, secs)| secs),
                None => Ok(0),
            }
        };
        let account = account.map(|account| lock_key("a", account));
        let ip = ip.map(|ip| lock_key("i", &ip.to_string()));
        let (account, ip) = tokio::try_join!(remaining(account), remaining(ip))?;
        Ok(account.max(ip))
    }

    /// Counts a failed sign-in; returns what it means for the mailbox (the IP is counted likewise).
    pub async fn failed(
        &self,
        store: &dyn Store,
        account: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<AfterFailure, StoreError> {
        let c = &self.config;
        let mut outcome = AfterFailure::Free;
        if let Some(ip) = ip {
            let ip = ip.to_string();
            let n = store.hit(&fail_key("i", &ip), c.window_secs).await?;
            let wait = self.wait_after(n, c.ip_free_failures, c.ip_max_failures);
            self.lock(store, &lock_key("i", &ip), wait).await?;
            if n == c.ip_max_failures {
                outcome = AfterFailure::LockedOut(wait);
            }
        }
        if let Some(account) = account {
            let n = store.hit(&fail_key("a", account), c.window_secs).await?;
            let wait = self.wait_after(n, c.account_free_failures, c.account_max_failures);
            self.lock(store, &lock_key("a", account), wait).await?;
            if n == c.account_max_failures {
                outcome = AfterFailure::LockedOut(wait);
            } else if wait > 0 && outcome == AfterFailure::Free {
                outcome = AfterFailure::Wait(wait);
            }
        }
        Ok(outcome)
    }

    /// A correct password clears the mailbox's failures (not the IP's: one good account must not shield guessing).
    pub async fn succeeded(&self, store: &dyn Store, account: &str) -> Result<(), StoreError> {
        store.reset(&fail_key("a", account)).await
    }

    async fn lock(&self, store: &dyn Store, key: &str, secs: u64) -> Result<(), StoreError> {
        if secs > 0 {
            store.reset(key).await?;
            store.hit(key, secs).await?;
        }
        Ok(())
    }
}

fn fail_key(kind: &str, who: &str) -> String {
    format!("throttle:fail:{kind}:{who}")
}

fn lock_key(kind: &str, who: &str) -> String {
    format!("throttle:wait:{kind}:{who}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_then_lock_out() {
        let t = Throttle::new(ThrottleConfig::default());
        let waits: Vec<u64> = (1..=10).map(|n| t.wait_after(n, 3, 10)).collect();
        assert_eq!(waits, [0, 0, 2, 4, 8, 16, 32, 64, 128, 900]);
        assert_eq!(t.wait_after(40, 3, 100), 900, "capped at the lockout");
    }
}
