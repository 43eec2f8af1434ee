//! Brute-force protection: growing waits, then a temporary lockout, per mailbox and per client address.
//!
//! Each attempt is *reserved* in the store before its password goes to the directory (one atomic step, see
//! [`Store::reserve`]), so 200 simultaneous guesses cannot all pass a check made before any of them is counted:
//! at most the free ones reach the directory. A correct password clears the mailbox and gives the address its
//! attempt back; a refusal for another reason (domain, dormancy, directory down) gives both back.
//!
//! Counters live in the store, so every instance sees the same ones. Mailboxes are counted as typed (normalised),
//! whether or not they exist, so the throttle never tells an attacker which accounts are real; and once the
//! directory has found the account (before its password is checked), against its canonical mailbox too
//! ([`Throttle::admit_account`]), so an alias or Active Directory's `userPrincipalName` gets no tries of its own. IPv6 clients are
//! counted per /64, the block one household or one attacker's machine gets. While a wait is running, no password
//! is checked at all, so a correct guess during a lockout signs nobody in.

use std::net::IpAddr;

use ipnet::Ipv6Net;

use crate::config::ThrottleConfig;
use crate::store::{Limit, Reservation, Store, StoreError};

pub struct Throttle {
    config: ThrottleConfig,
}

/// What the gate decided about one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// A wait is running for the mailbox or the address: this many seconds more. Nothing was counted.
    Wait(u64),
    /// Go ahead: the attempt is counted (as a failure unless given back through the [`Ticket`]).
    Admitted(Ticket),
}

/// The reservations one admitted attempt holds, to give back or keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ticket {
    /// The typed mailbox's and, when another, the account's the directory found.
    accounts: Vec<(String, u64)>,
    ip: Option<(String, u64)>,
    /// Set when this attempt reached a maximum and started a lockout of this many seconds.
    pub lockout: Option<u64>,
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle { config }
    }

    /// The rule for one mailbox.
    pub fn account_limit(&self) -> Limit {
        let c = &self.config;
        self.limit(c.account_free_failures, c.account_max_failures)
    }

    /// The rule for one client address.
    pub fn ip_limit(&self) -> Limit {
        let c = &self.config;
        self.limit(c.ip_free_failures, c.ip_max_failures)
    }

    fn limit(&self, free: u64, max: u64) -> Limit {
        let c = &self.config;
        Limit {
            window_secs: c.window_secs,
            free,
            max,
            base_delay_secs: c.base_delay_secs,
            lockout_secs: c.lockout_secs,
        }
    }

    /// Reserves an attempt for the address, then for the mailbox, before any password is checked. Refused when
    /// either has a wait running (the address's reservation is given back when the mailbox refuses).
    pub async fn admit(
        &self,
        store: &dyn Store,
        account: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<Gate, StoreError> {
        let mut ticket = Ticket::default();
        if let Some(ip) = ip {
            let key = ip_key(ip);
            match store.reserve(&key, &self.ip_limit()).await? {
                Reservation::Refused { wait } => return Ok(Gate::Wait(wait)),
                Reservation::Granted { count, wait } => {
                    ticket.lockout = (count == self.config.ip_max_failures).then_some(wait);
                    ticket.ip = Some((key, count));
                }
            }
        }
        if let Some(account) = account {
            let key = account_key(account);
            let reserved = store.reserve(&key, &self.account_limit()).await;
            match reserved {
                Ok(Reservation::Granted { count, wait }) => {
                    if count == self.config.account_max_failures {
                        ticket.lockout = Some(wait);
                    }
                    ticket.accounts.push((key, count));
                }
                Ok(Reservation::Refused { wait }) => {
                    self.give_back(store, &ticket).await?;
                    return Ok(Gate::Wait(wait));
                }
                Err(e) => {
                    let _ = self.give_back(store, &ticket).await;
                    return Err(e);
                }
            }
        }
        Ok(Gate::Admitted(ticket))
    }

    /// Reserves the attempt for the account the directory found as well (its canonical mailbox), once the typed
    /// name is admitted and before the password is checked, so an alias or a `userPrincipalName` gets no tries of
    /// its own. Nothing more when that is the typed name. Refused while the account's wait runs: then every
    /// reservation of `ticket` is given back.
    pub async fn admit_account(
        &self,
        store: &dyn Store,
        mut ticket: Ticket,
        account: &str,
    ) -> Result<Gate, StoreError> {
        let key = account_key(account);
        if ticket.accounts.iter().any(|(held, _)| *held == key) {
            return Ok(Gate::Admitted(ticket));
        }
        match store.reserve(&key, &self.account_limit()).await {
            Ok(Reservation::Granted { count, wait }) => {
                if count == self.config.account_max_failures {
                    ticket.lockout = Some(wait);
                }
                ticket.accounts.push((key, count));
                Ok(Gate::Admitted(ticket))
            }
            Ok(Reservation::Refused { wait }) => {
                self.give_back(store, &ticket).await?;
                Ok(Gate::Wait(wait))
            }
            Err(e) => {
                let _ = self.give_back(store, &ticket).await;
                Err(e)
            }
        }
    }

    /// A correct password: the mailbox's failures are forgotten, the address gets its attempt back (but keeps its
    /// other failures: one good account must not shield guessing at others).
    pub async fn succeeded(&self, store: &dyn Store, ticket: &Ticket) -> Result<(), StoreError> {
        for (key, count) in &ticket.accounts {
            store.release(key, *count, true).await?;
        }
        if let Some((key, count)) = &ticket.ip {
            store.release(key, *count, false).await?;
        }
        Ok(())
    }

    /// The attempt was no password failure after all: both reservations are given back.
    pub async fn give_back(&self, store: &dyn Store, ticket: &Ticket) -> Result<(), StoreError> {
        for (key, count) in ticket.accounts.iter().chain(&ticket.ip) {
            store.release(key, *count, false).await?;
        }
        Ok(())
    }
}

fn account_key(account: &str) -> String {
    format!("throttle:a:{account}")
}

/// An IPv4 address as it is; an IPv6 one by its /64 (an IPv4-mapped one as IPv4).
fn ip_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V6(v6) => format!("throttle:i:{}", Ipv6Net::new(v6, 64).map(|n| n.trunc()).unwrap_or_default()),
        v4 => format!("throttle:i:{v4}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_then_lock_out() {
        let t = Throttle::new(ThrottleConfig::default());
        let limit = Limit { free: 3, max: 10, ..t.account_limit() };
        let waits: Vec<u64> = (1..=10).map(|n| limit.wait_after(n)).collect();
        assert_eq!(waits, [0, 0, 2, 4, 8, 16, 32, 64, 128, 900]);
        assert_eq!(Limit { max: 100, ..limit }.wait_after(40), 900, "capped at the lockout");
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let key = |s: &str| ip_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_eq!(key("2001:db8:1:2::1"), "throttle:i:2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:203.0.113.7"), "throttle:i:203.0.113.7");
        assert_eq!(key("203.0.113.7"), "throttle:i:203.0.113.7");
    }

    #[tokio::test]
    async fn an_alias_and_its_account_share_the_account_tries() {
        use crate::clock::Clock;
        use crate::store::memory::MemoryStore;
        let store = MemoryStore::new(Clock::default());
        let t = Throttle::new(ThrottleConfig { account_free_failures: 2, ..ThrottleConfig::default() });
        let admit = |typed: &'static str| {
            let (t, store) = (&t, &store);
            async move {
                let Gate::Admitted(ticket) = t.admit(store, Some(typed), None).await.unwrap() else {
                    return Gate::Wait(0);
                };
                t.admit_account(store, ticket, "dungnv@danang.gov.vn").await.unwrap()
            }
        };
        let Gate::Admitted(first) = admit("dungnv@danang.gov.vn").await else { panic!("the first try is free") };
        assert_eq!(first.accounts.len(), 1, "the typed name is the account: counted once");
        let Gate::Admitted(second) = admit("dung.nguyen@danang.gov.vn").await else { panic!("two are free") };
        assert_eq!(second.accounts.len(), 2, "the alias and the account");
        assert_eq!(admit("dung.nguyen@danang.gov.vn").await, Gate::Wait(2), "the account's wait stops the alias");
        let alias = t.admit(&store, Some("dung.nguyen@danang.gov.vn"), None).await.unwrap();
        assert!(
            matches!(&alias, Gate::Admitted(ticket) if ticket.accounts == [("throttle:a:dung.nguyen@danang.gov.vn".into(), 2)]),
            "the refused attempt gave the alias's reservation back: {alias:?}"
        );
    }
}
