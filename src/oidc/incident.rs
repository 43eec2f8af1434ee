//! Incident response: when an account is hijacked, the IT centre lists its sessions and shuts the attacker out
//! everywhere at once — every SSO session and every grant, on every instance sharing the store, with
//! back-channel logout to the apps. Also the other operator action on an account: re-opening a dormant mailbox.

use serde::Serialize;

use super::Provider;
use crate::audit::{Event, RequestContext};
use crate::error::Error;
use crate::store::Session;

/// What a revocation did.
#[derive(Debug, Default, Serialize)]
pub struct Revoked {
    pub sessions: usize,
    pub grants: usize,
}

impl Provider {
    /// The live SSO sessions of an account (the mailbox is normalised like a sign-in).
    pub async fn sessions_of(&self, account: &str) -> Result<Vec<Session>, Error> {
        let mail = self.policy.normalize_login(account).unwrap_or_else(|_| account.trim().to_lowercase());
        Ok(self.store.sessions_of(&mail).await?)
    }

    /// Ends every session and revokes every grant of `account`; `operator` names who did it in the audit trail.
    pub async fn revoke_account(&self, account: &str, operator: &str, ctx: &RequestContext) -> Result<Revoked, Error> {
        self.revoke_account_noted(account, operator, None, ctx).await
    }

    /// [`Provider::revoke_account`] with the operator's own words on why (`note` in every audit line it makes).
    pub async fn revoke_account_noted(
        &self,
        account: &str,
        operator: &str,
        note: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<Revoked, Error> {
        let mail = self.policy.normalize_login(account).unwrap_or_else(|_| account.trim().to_lowercase());
        let mut done = Revoked::default();
        for session in self.store.sessions_of(&mail).await? {
            let event = Event::new("session_revoked").by(operator, note);
            self.end_session(&session.id, ctx, event).await?;
            done.sessions += 1;
        }
        done.grants = self.store.revoke_account_grants(&mail).await?.len();
        let event = Event::new("operator_action").by(operator, note);
        self.audit.record(ctx, event.account(&mail).reason("revoke_account"));
        Ok(done)
    }

    /// Ends one session by its id (the `sid` apps see).
    pub async fn revoke_session(&self, sid: &str, operator: &str, ctx: &RequestContext) -> Result<Revoked, Error> {
        self.revoke_session_noted(sid, operator, None, ctx).await
    }

    /// [`Provider::revoke_session`] with the operator's reason.
    pub async fn revoke_session_noted(
        &self,
        sid: &str,
        operator: &str,
        note: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<Revoked, Error> {
        let event = Event::new("session_revoked").by(operator, note);
        let existed = self.store.session(sid).await?.is_some();
        self.end_session(sid, ctx, event).await?;
        Ok(Revoked { sessions: usize::from(existed), grants: 0 })
    }

    /// Re-opens a dormant mailbox when its unit's chief of office asks: its last sign-in becomes now, so the
    /// dormancy period starts again. Refused for a mailbox the directory does not know.
    pub async fn reactivate(&self, account: &str, operator: &str, ctx: &RequestContext) -> Result<(), Error> {
        self.reactivate_noted(account, operator, None, ctx).await
    }

    /// [`Provider::reactivate`] with the operator's reason.
    pub async fn reactivate_noted(
        &self,
        account: &str,
        operator: &str,
        note: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<(), Error> {
        let mail = self.policy.normalize_login(account).unwrap_or_else(|_| account.trim().to_lowercase());
        if let Err(crate::directory::Refusal::UnknownAccount) = self.directory.lookup(&mail).await? {
            return Err(Error::InvalidRequest(format!("{mail} is not in the directory")));
        }
        self.store.record_sign_in(&mail, self.clock.now()).await?;
        let event = Event::new("operator_action").by(operator, note);
        self.audit.record(ctx, event.account(&mail).reason("reactivate_account"));
        Ok(())
    }
}
