//! The embedded store: everything in one process's memory, for a single instance or a laptop.
//!
//! One mutex over plain maps; it is never held across an await. Expired entries are skipped on read
//! and swept at most once a minute on write, so memory stays bounded without a background task.
//! The per-account and per-session indexes are ordered by expiry (like the Redis store's sorted sets): a write
//! drops the expired entries at their front and inserts in O(log n), however long the account's history.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    AuthCode, DirectoryCheck, Grant, Limit, Redemption, Reservation, Rotation, SPENT_CODE_GRACE_SECS, Session, Store,
    StoreError,
};
use crate::clock::Clock;
use crate::directory::User;

/// A spent code outlives its details by the grace period, so the details are boxed: spent entries stay small.
enum CodeEntry {
    Fresh(Box<AuthCode>),
    Spent { grant_id: String, forget_at: u64 },
}

/// Ids ordered by (expires_at, id): the expired ones are at the front.
type ExpiryIndex = BTreeSet<(u64, String)>;

/// Drops the entries of `index` that expired by `now`: O(k log n) for the k dropped.
fn prune(index: &mut ExpiryIndex, now: u64) {
    while index.first().is_some_and(|(e, _)| *e <= now) {
        index.pop_first();
    }
}

/// Adds `(expires_at, id)` to the index under `key`, after dropping its expired entries.
fn index(map: &mut HashMap<String, ExpiryIndex>, key: &str, expires_at: u64, id: &str, now: u64) {
    let index = match map.get_mut(key) {
        Some(index) => index,
        None => map.entry(key.to_owned()).or_default(),
    };
    prune(index, now);
    index.insert((expires_at, id.to_owned()));
}

/// Removes `(expires_at, id)` from the index under `key`, and the index when it is left empty.
fn unindex(map: &mut HashMap<String, ExpiryIndex>, key: &str, expires_at: u64, id: &str) {
    if let Some(index) = map.get_mut(key) {
        index.remove(&(expires_at, id.to_owned()));
        if index.is_empty() {
            map.remove(key);
        }
    }
}

/// Throttled attempts under one key (see [`Store::reserve`]).
#[derive(Debug, Default, Clone, Copy)]
struct Attempts {
    count: u64,
    window_end: u64,
    wait_end: u64,
    /// The attempt whose reservation started the wait (0: none), so taking it back lifts the wait.
    wait_set_by: u64,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, Session>,
    /// account → its sessions.
    by_account: HashMap<String, ExpiryIndex>,
    codes: HashMap<String, CodeEntry>,
    grants: HashMap<String, Grant>,
    /// sid → the grants made in it.
    by_session: HashMap<String, ExpiryIndex>,
    /// account → its grants (incident response).
    grants_by_account: HashMap<String, ExpiryIndex>,
    /// key → (count, window end).
    counters: HashMap<String, (u64, u64)>,
    attempts: HashMap<String, Attempts>,
    last_sign_in: HashMap<String, u64>,
    /// request_uri hash → (record, expires_at): pushed authorization requests.
    pushed: HashMap<String, (String, u64)>,
    /// WebAuthn challenge key → expires_at.
    challenges: HashMap<String, u64>,
    /// (account, client_id) → (record, expires_at).
    consents: HashMap<(String, String), (String, u64)>,
    /// account → (the directory's last good answer, forget at).
    directory_checks: HashMap<String, (DirectoryCheck, u64)>,
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
        for indexes in [&mut self.by_account, &mut self.by_session, &mut self.grants_by_account] {
            indexes.retain(|_, index| {
                prune(index, now);
                !index.is_empty()
            });
        }
        self.codes.retain(|_, c| match c {
            CodeEntry::Fresh(c) => c.expires_at > now,
            CodeEntry::Spent { forget_at, .. } => *forget_at > now,
        });
        self.grants.retain(|_, g| g.expires_at > now);
        self.counters.retain(|_, (_, until)| *until > now);
        self.pushed.retain(|_, (_, until)| *until > now);
        self.challenges.retain(|_, until| *until > now);
        self.consents.retain(|_, (_, until)| *until > now);
        self.directory_checks.retain(|_, (_, until)| *until > now);
        self.attempts.retain(|_, a| a.window_end.max(a.wait_end) > now);
    }

    /// Forgets a grant and its index entries.
    fn remove_grant(&mut self, id: &str) -> Option<Grant> {
        let grant = self.grants.remove(id)?;
        if let Some(sid) = &grant.sid {
            unindex(&mut self.by_session, sid, grant.expires_at, id);
        }
        if let Some(user) = &grant.user {
            unindex(&mut self.grants_by_account, &user.mail, grant.expires_at, id);
        }
        Some(grant)
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
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.sweep(now);
        if let Some(old) = inner.sessions.insert(session.id.clone(), session.clone()) {
            unindex(&mut inner.by_account, &old.account, old.expires_at, &old.id);
        }
        index(&mut inner.by_account, &session.account, session.expires_at, &session.id, now);
        Ok(())
    }

    async fn live_session_count(&self) -> Result<Option<u64>, StoreError> {
        let now = self.clock.now();
        Ok(Some(self.lock().sessions.values().filter(|s| s.expires_at > now).count() as u64))
    }

    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.lock().live_session(id, self.clock.now()).cloned())
    }

    async fn sessions_of(&self, account: &str) -> Result<Vec<Session>, StoreError> {
        let now = self.clock.now();
        let inner = self.lock();
        let Some(ids) = inner.by_account.get(account) else { return Ok(Vec::new()) };
        let live = ids.range((now + 1, String::new())..);
        Ok(live.filter_map(|(_, id)| inner.live_session(id, now).cloned()).collect())
    }

    async fn sessions_beyond(&self, account: &str, keep: usize) -> Result<Vec<String>, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let Some(ids) = inner.by_account.get_mut(account) else { return Ok(Vec::new()) };
        prune(ids, now);
        let beyond = ids.len().saturating_sub(keep);
        Ok(ids.iter().take(beyond).map(|(_, id)| id.clone()).collect())
    }

    async fn end_session(&self, id: &str) -> Result<Option<(Session, Vec<Grant>)>, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let grant_ids = inner.by_session.remove(id).unwrap_or_default();
        let grants: Vec<Grant> =
            grant_ids.iter().filter_map(|(_, g)| inner.remove_grant(g)).filter(|g| g.expires_at > now).collect();
        let Some(session) = inner.sessions.remove(id) else { return Ok(None) };
        unindex(&mut inner.by_account, &session.account, session.expires_at, id);
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

    async fn peek_code(&self, code_hash: &str) -> Result<Redemption, StoreError> {
        let now = self.clock.now();
        match self.lock().codes.get(code_hash) {
            Some(CodeEntry::Spent { grant_id, forget_at }) if *forget_at > now => {
                Ok(Redemption::Spent { grant_id: grant_id.clone() })
            }
            Some(CodeEntry::Fresh(code)) if code.expires_at > now => Ok(Redemption::Fresh(code.clone())),
            _ => Ok(Redemption::Unknown),
        }
    }

    async fn put_session_grant(&self, grant: &Grant) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        if let Some(sid) = &grant.sid {
            // The check and the write under one lock: a logout cannot land between them.
            if inner.live_session(sid, now).is_none() {
                return Ok(false);
            }
        }
        inner.sweep(now);
        inner.remove_grant(&grant.id);
        if let Some(sid) = &grant.sid {
            index(&mut inner.by_session, sid, grant.expires_at, &grant.id, now);
        }
        if let Some(user) = &grant.user {
            index(&mut inner.grants_by_account, &user.mail, grant.expires_at, &grant.id, now);
        }
        inner.grants.insert(grant.id.clone(), grant.clone());
        Ok(true)
    }

    async fn put_grant(&self, grant: &Grant) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.sweep(now);
        inner.remove_grant(&grant.id);
        if let Some(sid) = &grant.sid {
            index(&mut inner.by_session, sid, grant.expires_at, &grant.id, now);
        }
        if let Some(user) = &grant.user {
            index(&mut inner.grants_by_account, &user.mail, grant.expires_at, &grant.id, now);
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
        let grant = inner.remove_grant(id).map(Rotation::Reused).unwrap_or(Rotation::Unknown);
        Ok(grant)
    }

    async fn revoke_grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        let now = self.clock.now();
        Ok(self.lock().remove_grant(id).filter(|g| g.expires_at > now))
    }

    async fn session_grants(&self, sid: &str) -> Result<Vec<Grant>, StoreError> {
        let now = self.clock.now();
        let inner = self.lock();
        let Some(ids) = inner.by_session.get(sid) else { return Ok(Vec::new()) };
        let grants = ids.iter().filter(|(expires_at, _)| *expires_at > now).filter_map(|(_, id)| inner.grants.get(id));
        Ok(grants.filter(|g| g.expires_at > now && g.sid.as_deref() == Some(sid)).cloned().collect())
    }

    async fn revoke_account_grants(&self, account: &str) -> Result<Vec<Grant>, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let ids = inner.grants_by_account.remove(account).unwrap_or_default();
        let grants = ids.iter().filter_map(|(_, id)| inner.remove_grant(id));
        Ok(grants.filter(|g| g.expires_at > now && g.user.as_ref().is_some_and(|u| u.mail == account)).collect())
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

    async fn reserve(&self, key: &str, limit: &Limit) -> Result<Reservation, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.sweep(now);
        let a = inner.attempts.entry(key.to_owned()).or_default();
        if a.wait_end > now {
            return Ok(Reservation::Refused { wait: a.wait_end - now });
        }
        if a.window_end <= now {
            *a = Attempts { window_end: now + limit.window_secs.max(1), ..Attempts::default() };
        }
        a.count += 1;
        let wait = limit.wait_after(a.count);
        if wait > 0 {
            (a.wait_end, a.wait_set_by) = (now + wait, a.count);
        }
        Ok(Reservation::Granted { count: a.count, wait })
    }

    async fn release(&self, key: &str, count: u64, clear: bool) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if clear {
            inner.attempts.remove(key);
        } else if let Some(a) = inner.attempts.get_mut(key) {
            a.count = a.count.saturating_sub(1);
            if a.wait_set_by == count {
                (a.wait_end, a.wait_set_by) = (0, 0);
            }
        }
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

    async fn put_pushed_request(&self, handle_hash: &str, record: &str, expires_at: u64) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.sweep(self.clock.now());
        inner.pushed.insert(handle_hash.to_owned(), (record.to_owned(), expires_at));
        Ok(())
    }

    async fn take_pushed_request(&self, handle_hash: &str) -> Result<Option<String>, StoreError> {
        let now = self.clock.now();
        Ok(self.lock().pushed.remove(handle_hash).filter(|(_, until)| *until > now).map(|(record, _)| record))
    }

    async fn put_challenge(&self, key: &str, expires_at: u64) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.sweep(self.clock.now());
        inner.challenges.insert(key.to_owned(), expires_at);
        Ok(())
    }

    async fn take_challenge(&self, key: &str) -> Result<bool, StoreError> {
        let now = self.clock.now();
        Ok(self.lock().challenges.remove(key).is_some_and(|until| until > now))
    }

    async fn put_consent(
        &self,
        account: &str,
        client_id: &str,
        record: &str,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.sweep(self.clock.now());
        inner.consents.insert((account.to_owned(), client_id.to_owned()), (record.to_owned(), expires_at));
        Ok(())
    }

    async fn consent(&self, account: &str, client_id: &str) -> Result<Option<String>, StoreError> {
        let now = self.clock.now();
        let inner = self.lock();
        let entry = inner.consents.get(&(account.to_owned(), client_id.to_owned()));
        Ok(entry.filter(|(_, until)| *until > now).map(|(record, _)| record.clone()))
    }

    async fn put_directory_check(
        &self,
        account: &str,
        check: &DirectoryCheck,
        keep_secs: u64,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.sweep(now);
        inner.directory_checks.insert(account.to_owned(), (check.clone(), now + keep_secs));
        Ok(())
    }

    async fn directory_check(&self, account: &str) -> Result<Option<DirectoryCheck>, StoreError> {
        let now = self.clock.now();
        let inner = self.lock();
        Ok(inner.directory_checks.get(account).filter(|(_, until)| *until > now).map(|(check, _)| check.clone()))
    }

    async fn forget_directory_check(&self, account: &str) -> Result<(), StoreError> {
        self.lock().directory_checks.remove(account);
        Ok(())
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
