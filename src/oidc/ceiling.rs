//! The ceiling on one account's live SSO sessions (`[session] max_per_account`).
//!
//! Without it, anyone looping sign-ins with their own password (a load test, a shared office mailbox, a
//! misbehaving integration) grows their account's sessions without bound. Past the ceiling, the account's
//! oldest sessions end exactly as any session ends: audited, their grants revoked, their apps told by
//! back-channel logout.

use super::Provider;
use crate::audit::{Event, RequestContext};
use crate::error::Error;
use crate::store::Session;

impl Provider {
    /// Ends the account's oldest sessions so that at most `max_per_account` stay live, never `newest` (the
    /// session just started) nor one started in the same second (expiries are in seconds, so among those
    /// "oldest" is unknown, and one may be a concurrent sign-in whose code is not yet exchanged): a burst may
    /// pass the ceiling for a second, the next sign-in trims it. O(log n) in the store, plus one read and one
    /// ending per session past it.
    pub(crate) async fn keep_sessions_within_ceiling(
        &self,
        newest: &Session,
        ctx: &RequestContext,
    ) -> Result<(), Error> {
        let max = self.session.max_per_account.max(1);
        // One more than needed: `newest` may be among them.
        let oldest = self.store.sessions_beyond(&newest.account, max - 1).await?;
        let excess = oldest.len().saturating_sub(1);
        for sid in oldest.iter().filter(|sid| **sid != newest.id).take(excess) {
            let Some(session) = self.store.session(sid).await? else { continue };
            if session.expires_at >= newest.expires_at {
                continue;
            }
            self.end_session(sid, ctx, Event::new("session_ended").reason("too_many_sessions")).await?;
        }
        Ok(())
    }
}
