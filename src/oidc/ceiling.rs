//! The ceiling on one account's live SSO sessions (`[session] max_per_account`).
//!
//! Without it, anyone looping sign-ins with their own password (a load test, a shared office mailbox, a
//! misbehaving integration) grows their account's sessions without bound. Past the ceiling, the account's
//! oldest sessions end exactly as any session ends: audited, their grants revoked, their apps told by
//! back-channel logout.
//!
//! The store does the storing and the ending together (`Store::put_session_capped`: one Redis script, one lock
//! in the memory store), so once an account is at its ceiling a sign-in costs one store round trip more than
//! none, not five: the hot-account benchmark's rate fell to a third when the ceiling read the oldest ids, read
//! the session, ended it and unindexed it one request at a time.

use super::Provider;
use crate::audit::{Event, RequestContext};
use crate::store::{Grant, Session, StoreError};

/// Sessions the store ended to make room, with their grants, still to be announced.
#[must_use = "ended sessions must be announced (audit, back-channel logout)"]
pub(crate) struct Displaced(Vec<(Session, Vec<Grant>)>);

impl Provider {
    /// Stores `session`; when it is new (`new`), ends the account's oldest settled sessions so that at most
    /// `max_per_account` stay live: never `session`, nor a concurrent sign-in whose code is not yet exchanged
    /// (a session no app has received tokens in, younger than a code's lifetime): ending it would fail that
    /// sign-in at `/token`. O(log n) in the store, plus the sessions ended (one per sign-in at the ceiling).
    pub(crate) async fn store_session(&self, session: &Session, new: bool) -> Result<Displaced, StoreError> {
        if !new {
            return self.store.put_session(session).await.map(|()| Displaced(Vec::new()));
        }
        let max = self.session.max_per_account.max(1);
        self.store.put_session_capped(session, max, self.tokens.code_ttl_secs).await.map(Displaced)
    }

    /// Records each displaced session's end (`session_ended`, reason `too_many_sessions`) and tells its apps.
    pub(crate) fn announce_displaced(&self, displaced: Displaced, ctx: &RequestContext) {
        for (session, grants) in displaced.0 {
            let _ = self.announce_ended(session, grants, ctx, Event::new("session_ended").reason("too_many_sessions"));
        }
    }
}
