//! The embedded store: everything in one process's memory, for a single instance or a laptop.
//!
//! One mutex over plain maps; it is never held across an await. Expired entries are skipped on read
//! and swept at most once a minute on write, so memory stays bounded without a background task.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{AuthCode, Grant, Redemption, Rotation, SPENT_CODE_GRACE_SECS, Session, Store, StoreError};
use crate::clock::Clock;
use crate::directory::User;

/// A spent code outlives its details by the grace period, so the details are boxed: spent entries stay small.
enum CodeEntry {
    Fresh(Box<AuthCode>),
    Spent { grant_id: String, forget_at: u64 },
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, Session>,
    by_account: HashMap<String, Vec<String>>,
    codes: HashMap<String, CodeEntry>,
    grants: HashMap<String, Grant>,
    by_session: HashMap<String, Vec<String>>,
    /// key → (count, window end).
    counters: HashMap<String, (u64, u64)>,
    last_sign_in: HashMap<String, u64>,
    /// account → sealed second-factor record.
    mfa: HashMap<String, String>,
    last_sweep: u64,
}

pub struct MemoryStore {
    inner: Mutex<Inner>,
    clock: Clock,
}

impl MemoryStore {
    pub fn new(clock: Clock) -> Self {
        Self { inner: Mutex::new(Inner::default()), clock }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that matters more
        // than losing the whole store, so recover the guard rather than poisoning every later request.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The number of live SSO sessions (for metrics and the memory benchmark).
    pub fn session_count(&self) -> usize {
        self.lock().sessions.len()
    }
}

impl Inner {
    fn sweep(&mut self, now: u64) {
        if now < self.last_sweep + 60 {
            return;
        }
        self.last_sweep = now;
        self.sessions.retain(|_, s| s.expires_at > now);
        let sessions = &self.sessions;
        self.by_account.retain(|_, ids| {
            ids.retain(|id| sessions.contains_key(id));
            !ids.is_empty()
        });
        self.codes.retain(|_, c| match c {
            CodeEntry::Fresh(c) => c.expires_at > now,
            CodeEntry::Spent { forget_at, .. } => *forget_at > now,
        });
        self.grants.retain(|_, g| g.expires_at > now);
        self.counters.retain(|_, (_, until)| *until > now);
        let grants = &self.grants;
        self.by_session.retain(|_, ids| {
            ids.retain(|id| grants.contains_key(id));
            !ids.is_empty()
        });
    }

    fn live_session(&self, id: &str, now: u64) -> Option<&Session> {
        self.sessions.get(id).filter(|s| s.expires_at > now)
    }

    fn live_grant(&self, id: &str, now: u64) -> Option<&Grant> {
        self.grants.get(id).filter(|g| g.expires_at > now)
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.sweep(self.clock.now());
        let ids = inner.by_account.entry(session.account.clone()).or_default();
        if !ids.contains(&session.id) {
            ids.push(session.id.clone());
        }
        inner.sessions.insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.lock().live_session(id, self.clock.now()).cloned())
    }

    async fn sessions_of(&self, account: &str) -> Result<Vec<Session>, StoreError> {
        let now = self.clock.now();
        let inner = self.lock();
        let ids = inner.by_account.get(account).map(Vec::as_slice).unwrap_or_default();
        Ok(ids.iter().filter_map(|id| inner.live_session(id, now).cloned()).collect())
    }

    async fn end_session(&self, id: &str) -> Result<Option<(Session, Vec<Grant>)>, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let grant_ids = inner.by_session.remove(id).unwrap_or_default();
        let grants: Vec<Grant> =
            grant_ids.iter().filter_map(|g| inner.grants.remove(g)).filter(|g| g.expires_at > now).collect();
        let Some(session) = inner.sessions.remove(id) else { return Ok(None) };
        if let Some(ids) = inner.by_account.get_mut(&session.account) {
            ids.retain(|s| s != id);
        }
        Ok((session.expires_at > now).then_some((session, grants)))
    }

    async fn put_code(&self, code_hash: &str, code: &AuthCode) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.sweep(self.clock.now());
        inner.codes.insert(code_hash.into(), CodeEntry::Fresh(Box::new(code.clone())));
        Ok(())
    }

    async fn redeem_code(&self, code_hash: &str) -> Result<Redemption, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let Some(entry) = inner.codes.get_mut(code_hash) else { return Ok(Redemption::Unknown) };
        match entry {
            CodeEntry::Spent { grant_id, forget_at } if *forget_at > now => {
                Ok(Redemption::Spent { grant_id: grant_id.clone() })
            }
            CodeEntry::Fresh(code) if code.expires_at > now => {
                let spent = CodeEntry::Spent {
                    grant_id: code.grant_id.clone(),
                    forget_at: code.expires_at + SPENT_CODE_GRACE_SECS,
                };
                match std::mem::replace(entry, spent) {
                    CodeEntry::Fresh(code) => Ok(Redemption::Fresh(code)),
                    CodeEntry::Spent { .. } => Ok(Redemption::Unknown),
                }
            }
            _ => Ok(Redemption::Unknown),
        }
    }

    async fn put_grant(&self, grant: &Grant) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.sweep(self.clock.now());
        if let Some(sid) = &grant.sid {
            inner.by_session.entry(sid.clone()).or_default().push(grant.id.clone());
        }
        inner.grants.insert(grant.id.clone(), grant.clone());
        Ok(())
    }

    async fn grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        Ok(self.lock().live_grant(id, self.clock.now()).cloned())
    }

    async fn rotate_refresh(
        &self,
        id: &str,
        presented: &str,
        next: &str,
        user: Option<&User>,
    ) -> Result<Rotation, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let Some(grant) = inner.grants.get_mut(id).filter(|g| g.expires_at > now) else {
            return Ok(Rotation::Unknown);
        };
        if grant.refresh_hash.as_deref() == Some(presented) {
            grant.refresh_hash = Some(next.into());
            if let Some(user) = user {
                grant.user = Some(user.clone());
            }
            return Ok(Rotation::Rotated(grant.clone()));
        }
        let grant = inner.grants.remove(id).map(Rotation::Reused).unwrap_or(Rotation::Unknown);
        Ok(grant)
    }

    async fn revoke_grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        let now = self.clock.now();
        Ok(self.lock().grants.remove(id).filter(|g| g.expires_at > now))
    }

    async fn revoke_account_grants(&self, account: &str) -> Result<Vec<Grant>, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let ids: Vec<String> = inner
            .grants
            .values()
            .filter(|g| g.expires_at > now && g.user.as_ref().is_some_and(|u| u.mail == account))
            .map(|g| g.id.clone())
            .collect();
        Ok(ids.iter().filter_map(|id| inner.grants.remove(id)).collect())
    }

    async fn hit(&self, key: &str, window_secs: u64) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.sweep(now);
        let entry = inner.counters.entry(key.to_owned()).or_insert((0, now + window_secs));
        if entry.1 <= now {
            *entry = (0, now + window_secs);
        }
        entry.0 += 1;
        Ok(entry.0)
    }

    async fn count(&self, key: &str) -> Result<(u64, u64), StoreError> {
        let now = self.clock.now();
        let entry = self.lock().counters.get(key).copied();
        Ok(entry.filter(|(_, until)| *until > now).map_or((0, 0), |(n, until)| (n, until - now)))
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        self.lock().counters.remove(key);
        Ok(())
    }

    async fn record_sign_in(&self, account: &str, at: u64) -> Result<(), StoreError> {
        self.lock().last_sign_in.insert(account.to_owned(), at);
        Ok(())
    }

    async fn last_sign_ins(&self) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(self.lock().last_sign_in.iter().map(|(k, v)| (k.clone(), *v)).collect())
    }

    async fn last_sign_in(&self, account: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.lock().last_sign_in.get(account).copied())
    }

    async fn mfa_factors(&self, account: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock().mfa.get(account).cloned())
    }

    async fn put_mfa_factors(&self, account: &str, sealed: &str) -> Result<(), StoreError> {
        self.lock().mfa.insert(account.to_owned(), sealed.to_owned());
        Ok(())
    }

    async fn delete_mfa_factors(&self, account: &str) -> Result<bool, StoreError> {
        Ok(self.lock().mfa.remove(account).is_some())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
