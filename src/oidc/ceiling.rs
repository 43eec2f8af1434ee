//! The ceiling on one account's live SSO sessions (`[session] max_per_account`).
//!
//! Without it, anyone looping sign-ins with their own password (a load test, a shared office mailbox, a
//! misbehaving integration) grows their account's sessions without bound. Past the ceiling, the account's
//! oldest sessions end exactly as any session ends: audited, their grants revoked, their apps told by
//! back-channel logout.

use super::Provider;
use crate::audit::{Event, RequestContext};
use crate::error::Error;

impl Provider {
    /// Ends the account's oldest sessions so that at most `max_per_account` stay live, never `newest` (the
    /// session just started). Costs O(log n) in the store for the check, plus one ending per session past it.
    pub(crate) async fn keep_sessions_within_ceiling(
        &self,
        account: &str,
        newest: &str,
        ctx: &RequestContext,
    ) -> Result<(), Error> {
        let max = self.session.max_per_account.max(1);
        // One more than needed: sessions ending in the same second tie, and `newest` may be among them.
        let oldest = self.store.sessions_beyond(account, max - 1).await?;
        let excess = oldest.len().saturating_sub(1);
        for sid in oldest.iter().filter(|sid| *sid != newest).take(excess) {
            self.end_session(sid, ctx, Event::new("session_ended").reason("too_many_sessions")).await?;
        }
        Ok(())
    }
}
