//! The embedded store: everything in one process's memory, for a single instance or a laptop.
//!
//! One mutex over plain maps; it is never held across an await. Expired entries are skipped on read
//! and swept at most once a minute on write, so memory stays bounded without a background task.
//! The per-account and per-session indexes are ordered by expiry (like the Redis store's sorted sets, see
//! [`index`]): sign-in, token and logout operations are O(log n) or O(1), however long an account's history or
//! however many sessions (only the console's live-session count and `last_sign_ins` read everything).
//! Sessions, codes and grants are kept in compact forms that share what repeats (see [`compact`]).

mod compact;
mod index;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use self::compact::{Shared, StoredCode, StoredGrant, StoredSession, Strings, Users};
use self::index::{Indexes, index, live, prune, unindex};
use super::{
    AuthCode, DirectoryCheck, Grant, Limit, Redemption, Reservation, Rotation, SPENT_CODE_GRACE_SECS, Session, Store,
    StoreError,
};
use crate::clock::Clock;
use crate::directory::User;

/// A spent code outlives its details by the grace period, so the details are boxed: spent entries stay small.
enum CodeEntry {
    Fresh(Box<StoredCode>),
    Spent { grant_id: Box<str>, forget_at: u64 },
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
    sessions: HashMap<Arc<str>, StoredSession>,
    /// account → its sessions.
    by_account: Indexes,
    /// code hash → the code, or what is left of it once spent.
    codes: HashMap<Box<str>, CodeEntry>,
    grants: HashMap<Arc<str>, StoredGrant>,
    /// sid → the grants made in it.
    by_session: Indexes,
    /// account → its grants (incident response).
    grants_by_account: Indexes,
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
    /// account → (when the directory last answered well, what it said, forget at).
    directory_checks: HashMap<Arc<str>, (u64, Arc<User>, u64)>,
    /// account → sealed second-factor record.
    mfa: HashMap<String, String>,
    /// What the records above share.
    strings: Strings,
    users: Users,
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
        self.directory_checks.retain(|_, (_, _, until)| *until > now);
        self.attempts.retain(|_, a| a.window_end.max(a.wait_end) > now);
        // Last: what only the records dropped above held.
        self.users.sweep();
        self.strings.sweep();
    }

    /// The stored session's own id when it is stored (so codes and grants share it), else a new one.
    fn shared_sid(&self, sid: &str) -> Arc<str> {
        self.sessions.get_key_value(sid).map_or_else(|| Arc::from(sid), |(id, _)| id.clone())
    }

    /// Forgets a grant and its index entries.
    fn remove_grant(&mut self, id: &str) -> Option<(Arc<str>, StoredGrant)> {
        let (id, grant) = self.grants.remove_entry(id)?;
        if let Some(sid) = &grant.sid {
            unindex(&mut self.by_session, sid, grant.expires_at, &id);
        }
        if let Some(account) = grant.account() {
            unindex(&mut self.grants_by_account, account, grant.expires_at, &id);
        }
        Some((id, grant))
    }

    /// Stores `grant` (replacing one of the same id) and indexes it under its session and its account.
    fn insert_grant(&mut self, grant: &Grant, now: u64) {
        self.remove_grant(&grant.id);
        let id: Arc<str> = Arc::from(grant.id.as_str());
        let sid = grant.sid.as_deref().map(|sid| self.shared_sid(sid));
        let stored = StoredGrant::new(grant, sid, Shared { strings: &mut self.strings, users: &mut self.users });
        if let Some(sid) = &stored.sid {
            index(&mut self.by_session, sid, grant.expires_at, &id, now);
        }
        if let Some(account) = stored.account() {
            let account = self.strings.get(account);
            index(&mut self.grants_by_account, &account, grant.expires_at, &id, now);
        }
        self.grants.insert(id, stored);
    }

    /// Stores `session` (replacing one of the same id) and indexes it under its account; returns the account.
    fn insert_session(&mut self, session: &Session, now: u64) -> Arc<str> {
        let id = self.shared_sid(&session.id);
        let stored = StoredSession::new(session, &mut self.strings);
        let account = stored.account.clone();
        if let Some(old) = self.sessions.insert(id.clone(), stored) {
            unindex(&mut self.by_account, &old.account, old.expires_at, &id);
        }
        index(&mut self.by_account, &account, session.expires_at, &id, now);
        account
    }

    /// Ends a session: forgets it, its index entry and every grant made in it; returns it with its live grants.
    fn end_session(&mut self, id: &str, now: u64) -> Option<(Session, Vec<Grant>)> {
        let grant_ids = self.by_session.remove(id).unwrap_or_default();
        let grants: Vec<Grant> = grant_ids
            .iter()
            .filter_map(|(_, g)| self.remove_grant(g))
            .filter(|(_, g)| g.expires_at > now)
            .map(|(id, g)| g.to_grant(&id))
            .collect();
        let (id, session) = self.sessions.remove_entry(id)?;
        unindex(&mut self.by_account, &session.account, session.expires_at, &id);
        (session.expires_at > now).then(|| (session.to_session(&id), grants))
    }

    fn live_session(&self, id: &str, now: u64) -> Option<Session> {
        let (id, session) = self.sessions.get_key_value(id)?;
        (session.expires_at > now).then(|| session.to_session(id))
    }

    fn live_grant(&self, id: &str, now: u64) -> Option<Grant> {
        let (id, grant) = self.grants.get_key_value(id)?;
        (grant.expires_at > now).then(|| grant.to_grant(id))
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.sweep(now);
        inner.insert_session(session, now);
        Ok(())
    }

    async fn put_session_capped(
        &self,
        session: &Session,
        max: usize,
        pending_secs: u64,
    ) -> Result<Vec<(Session, Vec<Grant>)>, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.sweep(now);
        let ids = inner.insert_session(session, now);
        let Some(index) = inner.by_account.get(&*ids) else { return Ok(Vec::new()) };
        let beyond = index.len().saturating_sub(max.max(1));
        if beyond == 0 {
            return Ok(Vec::new());
        }
        // The Redis script's rule and window (`PUT_SESSION_CAPPED`): among the oldest `beyond + 64`, the settled
        // ones (an app received tokens in it, or it is older than a code's lifetime), never `session` itself.
        let settled_before = session.expires_at.saturating_sub(pending_secs);
        let settled = |(at, sid): &&(u64, Arc<str>)| {
            **sid != *session.id && (*at <= settled_before || inner.by_session.contains_key(&**sid))
        };
        let ending: Vec<Arc<str>> =
            index.iter().take(beyond + 64).filter(settled).take(beyond).map(|(_, sid)| sid.clone()).collect();
        Ok(ending.iter().filter_map(|sid| inner.end_session(sid, now)).collect())
    }

    async fn live_session_count(&self) -> Result<Option<u64>, StoreError> {
        let now = self.clock.now();
        Ok(Some(self.lock().sessions.values().filter(|s| s.expires_at > now).count() as u64))
    }

    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.lock().live_session(id, self.clock.now()))
    }

    async fn sessions_of(&self, account: &str) -> Result<Vec<Session>, StoreError> {
        let now = self.clock.now();
        let inner = self.lock();
        let Some(ids) = inner.by_account.get(account) else { return Ok(Vec::new()) };
        Ok(live(ids, now).filter_map(|id| inner.live_session(id, now)).collect())
    }

    async fn sessions_beyond(&self, account: &str, keep: usize) -> Result<Vec<String>, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let Some(ids) = inner.by_account.get_mut(account) else { return Ok(Vec::new()) };
        prune(ids, now);
        let beyond = ids.len().saturating_sub(keep);
        Ok(ids.iter().take(beyond).map(|(_, id)| id.to_string()).collect())
    }

    async fn end_session(&self, id: &str) -> Result<Option<(Session, Vec<Grant>)>, StoreError> {
        let now = self.clock.now();
        Ok(self.lock().end_session(id, now))
    }

    async fn put_code(&self, code_hash: &str, code: &AuthCode) -> Result<(), StoreError> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        inner.sweep(self.clock.now());
        let sid = inner.shared_sid(&code.sid);
        let stored = StoredCode::new(code, sid, Shared { strings: &mut inner.strings, users: &mut inner.users });
        inner.codes.insert(code_hash.into(), CodeEntry::Fresh(Box::new(stored)));
        Ok(())
    }

    async fn redeem_code(&self, code_hash: &str) -> Result<Redemption, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let Some(entry) = inner.codes.get_mut(code_hash) else { return Ok(Redemption::Unknown) };
        match entry {
            CodeEntry::Spent { grant_id, forget_at } if *forget_at > now => {
                Ok(Redemption::Spent { grant_id: grant_id.to_string() })
            }
            CodeEntry::Fresh(code) if code.expires_at > now => {
                let spent = CodeEntry::Spent {
                    grant_id: code.grant_id.clone(),
                    forget_at: code.expires_at + SPENT_CODE_GRACE_SECS,
                };
                match std::mem::replace(entry, spent) {
                    CodeEntry::Fresh(code) => Ok(Redemption::Fresh(Box::new(code.to_code()))),
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
                Ok(Redemption::Spent { grant_id: grant_id.to_string() })
            }
            Some(CodeEntry::Fresh(code)) if code.expires_at > now => Ok(Redemption::Fresh(Box::new(code.to_code()))),
            _ => Ok(Redemption::Unknown),
        }
    }

    async fn put_session_grant(&self, grant: &Grant) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        if let Some(sid) = &grant.sid {
            // The check and the write under one lock: a logout cannot land between them.
            if inner.sessions.get(sid.as_str()).is_none_or(|s| s.expires_at <= now) {
                return Ok(false);
            }
        }
        inner.sweep(now);
        inner.insert_grant(grant, now);
        Ok(true)
    }

    async fn put_grant(&self, grant: &Grant) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        inner.sweep(now);
        inner.insert_grant(grant, now);
        Ok(())
    }

    async fn grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        Ok(self.lock().live_grant(id, self.clock.now()))
    }

    async fn rotate_refresh(
        &self,
        id: &str,
        presented: &str,
        next: &str,
        user: Option<&User>,
    ) -> Result<Rotation, StoreError> {
        let now = self.clock.now();
        let mut guard = self.lock();
        let Inner { grants, strings, users, .. } = &mut *guard;
        let Some(grant) = grants.get_mut(id).filter(|g| g.expires_at > now) else {
            return Ok(Rotation::Unknown);
        };
        if grant.refresh_hash.as_deref() == Some(presented) {
            grant.refresh_hash = Some(next.into());
            if let Some(user) = user {
                grant.user = Some(users.get(strings, user));
            }
            return Ok(Rotation::Rotated(grant.to_grant(id)));
        }
        let reused = guard.remove_grant(id).map(|(id, g)| Rotation::Reused(g.to_grant(&id)));
        Ok(reused.unwrap_or(Rotation::Unknown))
    }

    async fn revoke_grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        let now = self.clock.now();
        let removed = self.lock().remove_grant(id);
        Ok(removed.filter(|(_, g)| g.expires_at > now).map(|(id, g)| g.to_grant(&id)))
    }

    async fn session_grants(&self, sid: &str) -> Result<Vec<Grant>, StoreError> {
        let now = self.clock.now();
        let inner = self.lock();
        let Some(ids) = inner.by_session.get(sid) else { return Ok(Vec::new()) };
        let grants =
            ids.iter().filter(|(expires_at, _)| *expires_at > now).filter_map(|(_, id)| inner.grants.get_key_value(id));
        let live = grants.filter(|(_, g)| g.expires_at > now && g.sid.as_deref() == Some(sid));
        Ok(live.map(|(id, g)| g.to_grant(id)).collect())
    }

    async fn revoke_account_grants(&self, account: &str) -> Result<Vec<Grant>, StoreError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let ids = inner.grants_by_account.remove(account).unwrap_or_default();
        let grants = ids.iter().filter_map(|(_, id)| inner.remove_grant(id));
        let live = grants.filter(|(_, g)| g.expires_at > now && g.account() == Some(account));
        Ok(live.map(|(id, g)| g.to_grant(&id)).collect())
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
        let mut guard = self.lock();
        let inner = &mut *guard;
        inner.sweep(now);
        let user = inner.users.get(&mut inner.strings, &check.user);
        let account = inner.strings.get(account);
        inner.directory_checks.insert(account, (check.at, user, now + keep_secs));
        Ok(())
    }

    async fn directory_check(&self, account: &str) -> Result<Option<DirectoryCheck>, StoreError> {
        let now = self.clock.now();
        let inner = self.lock();
        let check = inner.directory_checks.get(account).filter(|(_, _, until)| *until > now);
        Ok(check.map(|(at, user, _)| DirectoryCheck { at: *at, user: User::clone(user) }))
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
