//! Consent (`[[clients]] consent = true`, `prompt=consent`): before such an app gets anything, the person sees
//! the scopes it asks for and agrees or declines.
//!
//! Given consent is remembered per account and app, for as long as the SSO session that gave it lives: signing
//! out, or that session ending, forgets it, and the next sign-in asks again. One store record per (account,
//! app) names the scopes and the session; checking it costs one read (two when another of the account's
//! sessions gave it), whatever the account's history. Asking for a scope not yet agreed to asks again.

use serde::{Deserialize, Serialize};

use super::Provider;
use super::request::AuthRequest;
use crate::error::Error;
use crate::store::Session;

/// What the store keeps for an (account, app) pair.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// The scopes agreed to.
    pub scope: Vec<String>,
    /// The SSO session in which they were agreed to.
    pub sid: String,
}

/// Whether `granted` covers every scope in `asked` (pure).
pub fn covers(granted: &[String], asked: &[String]) -> bool {
    asked.iter().all(|s| granted.contains(s))
}

/// Whether a request must show the consent page before a code, given what the store remembers (pure):
/// always for `prompt=consent`, never for an app that does not ask for consent, otherwise unless `remembered`
/// covers the scopes and `remembered_session_live` (its session still lives).
pub fn must_ask(req: &AuthRequest, remembered: Option<&Record>, remembered_session_live: bool) -> bool {
    if req.consent {
        return true;
    }
    if !req.client.consent {
        return false;
    }
    !remembered.is_some_and(|r| covers(&r.scope, &req.scope) && remembered_session_live)
}

impl Provider {
    /// Whether `req`, answered in `session`, needs the person's consent first.
    pub(crate) async fn consent_needed(&self, req: &AuthRequest, session: &Session) -> Result<bool, Error> {
        if req.consent || !req.client.consent {
            return Ok(must_ask(req, None, false));
        }
        let remembered = self.remembered_consent(req, session).await?;
        Ok(must_ask(req, remembered.as_ref(), remembered.is_some()))
    }

    /// The consent this account gave this app, while the session that gave it lives.
    async fn remembered_consent(&self, req: &AuthRequest, session: &Session) -> Result<Option<Record>, Error> {
        let Some(text) = self.store.consent(&session.account, &req.client.id).await? else { return Ok(None) };
        // An unreadable record (a format from another version) only means asking again.
        let Ok(record) = serde_json::from_str::<Record>(&text) else { return Ok(None) };
        let live = record.sid == session.id || self.store.session(&record.sid).await?.is_some();
        Ok(live.then_some(record))
    }

    /// Remembers that the person of `session` agreed to `req`'s scopes for its app, while `session` lives; scopes
    /// agreed to earlier in this session are kept.
    pub(crate) async fn remember_consent(&self, req: &AuthRequest, session: &Session) -> Result<(), Error> {
        let mut scope = req.scope.clone();
        if let Some(earlier) = self.remembered_consent(req, session).await?.filter(|r| r.sid == session.id) {
            scope.extend(earlier.scope.into_iter().filter(|s| !req.scope.contains(s)));
        }
        let record = Record { scope, sid: session.id.clone() };
        let text = serde_json::to_string(&record).map_err(|e| Error::Internal(e.to_string()))?;
        self.store.put_consent(&session.account, &req.client.id, &text, session.expires_at).await?;
        Ok(())
    }
}
