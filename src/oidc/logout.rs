//! Signing out everywhere: RP-Initiated Logout 1.0, Back-Channel Logout 1.0 and Front-Channel Logout 1.0.
//!
//! Ending an SSO session revokes every grant made in it, then tells each app that received tokens: a signed
//! logout token POSTed to its `backchannel_logout_uri` (delivered in the background, so one slow app never
//! holds up the person), and a hidden frame for apps that registered a `frontchannel_logout_uri`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::clients::Client;
use super::{Provider, random_id, secret_hash};
use crate::audit::{Event, RequestContext};
use crate::error::Error;
use crate::store::{Grant, Session};

/// Delivers logout tokens to apps' back-channel endpoints. Returns at once; delivery happens in the background.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync {
    fn deliver(&self, client_id: &str, uri: &str, logout_token: String);
    /// Waits for every delivery under way or queued (a command-line process calls this before it exits); at worst
    /// until the last queued token's expiry.
    async fn drain(&self);
}

/// The typ of logout tokens (Back-Channel Logout 1.0 §2.4).
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";
/// How long a logout token is valid (`exp = iat + this`); the notifier drops a queued token once it has passed.
pub const LOGOUT_TOKEN_TTL_SECS: u64 = 120;
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

#[derive(Debug, Default, Clone, Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
    /// The confirmation page's anti-forgery token.
    pub confirm: Option<String>,
}

/// What a logout request may do.
#[derive(Debug)]
pub struct LogoutPlan {
    /// Where to send the browser afterwards: a registered `post_logout_redirect_uri` with `state`.
    pub redirect: Option<String>,
    /// The browser's live session, if any.
    pub session: Option<Session>,
    /// Whether the request proved it comes from an app of this session (a matching `id_token_hint`),
    /// or from the person on our own confirmation page (`confirm`). Otherwise the person is asked first.
    pub proven: bool,
}

/// What ending a session found: the session, all its grants, and the OIDC apps among them.
#[derive(Debug)]
pub struct Ended {
    pub session: Session,
    pub grants: Vec<Grant>,
    pub clients: Vec<Arc<Client>>,
}

#[derive(Deserialize)]
struct Hint {
    sub: String,
    aud: String,
    #[serde(default)]
    sid: Option<String>,
}

#[derive(Serialize)]
struct LogoutToken<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
    sid: &'a str,
    events: serde_json::Value,
}

impl Provider {
    /// Checks a logout request (RP-Initiated Logout 1.0 §2–3) against the browser's session.
    pub async fn plan_logout(&self, p: &LogoutParams, cookie: Option<&str>) -> Result<LogoutPlan, Error> {
        let session = self.session_for_cookie(cookie).await?;
        let hint = match &p.id_token_hint {
            Some(jwt) => Some(
                self.keys
                    .current()
                    .verify::<Hint>(jwt, "JWT", |v| {
                        // An expired ID token is still a fine hint (§2): it only has to be ours.
                        v.validate_exp = false;
                        v.validate_aud = false;
                        v.set_issuer(&[&self.issuer]);
                        v.set_required_spec_claims(&["iss", "sub", "aud"]);
                    })
                    .map_err(|_| Error::InvalidRequest("id_token_hint is not an ID token of this provider".into()))?,
            ),
            None => None,
        };
        let client_id = match (&hint, &p.client_id) {
            (Some(h), Some(id)) if &h.aud != id => {
                return Err(Error::InvalidRequest("client_id does not match id_token_hint".into()));
            }
            (Some(h), _) => Some(h.aud.as_str()),
            (None, id) => id.as_deref(),
        };
        let client = client_id.and_then(|id| self.clients.get(id));
        let redirect = match (&p.post_logout_redirect_uri, client) {
            (Some(uri), Some(c)) if c.post_logout_redirect_uris.iter().any(|r| r == uri) => {
                let mut url = url::Url::parse(uri).map_err(|e| Error::Internal(e.to_string()))?;
                if let Some(state) = &p.state {
                    url.query_pairs_mut().append_pair("state", state);
                }
                Some(url.into())
            }
            (Some(uri), _) => {
                tracing::warn!(%uri, client = ?client_id, "post_logout_redirect_uri not registered: no redirect");
                None
            }
            (None, _) => None,
        };
        // Proof: an ID token of this session's person, or our own confirmation form posted from this browser.
        let confirmed = match (cookie, &p.confirm) {
            (Some(c), Some(token)) => {
                let expected = Provider::logout_confirmation(c);
                aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), token.as_bytes()).is_ok()
            }
            _ => false,
        };
        let proven = confirmed
            || match (&hint, &session) {
                (Some(h), Some(s)) => h.sid.as_deref() == Some(s.id.as_str()) || h.sub == s.subject,
                (_, None) => true,
                (None, Some(_)) => false,
            };
        Ok(LogoutPlan { redirect, session, proven })
    }

    /// The anti-forgery value of the confirmation form: only the holder of the session cookie can know it.
    pub fn logout_confirmation(cookie: &str) -> String {
        secret_hash(&format!("logout:{cookie}"))
    }

    /// Ends a session: revokes its grants and tells every app that received tokens in it; records `event`
    /// (`logout`, `session_revoked`, `session_ended`) in the audit trail.
    /// Returns those apps (the caller shows front-channel frames for the ones that want them).
    pub async fn end_session(&self, sid: &str, ctx: &RequestContext, event: Event) -> Result<Vec<Arc<Client>>, Error> {
        Ok(self.end_session_in_full(sid, ctx, event).await?.map(|ended| ended.clients).unwrap_or_default())
    }

    /// [`Provider::end_session`], also returning the session and every grant it had — including those of other
    /// protocols (SAML records the SPs that received an assertion as grants), so their logout can follow.
    pub async fn end_session_in_full(
        &self,
        sid: &str,
        ctx: &RequestContext,
        event: Event,
    ) -> Result<Option<Ended>, Error> {
        let Some((session, grants)) = self.store.end_session(sid).await? else { return Ok(None) };
        Ok(Some(self.announce_ended(session, grants, ctx, event)))
    }

    /// What follows a session's end in the store, wherever it ended: `event` in the audit trail, and a logout
    /// token to the back-channel URI of each app that received tokens in it (apps without one cost nothing).
    pub(crate) fn announce_ended(
        &self,
        session: Session,
        grants: Vec<Grant>,
        ctx: &RequestContext,
        event: Event,
    ) -> Ended {
        self.audit.record(ctx, event.account(&session.account).sid(&session.id));
        let mut clients: Vec<Arc<Client>> = Vec::new();
        for grant in &grants {
            if let Some(c) = self.clients.get(&grant.client_id)
                && !clients.iter().any(|x| x.id == c.id)
            {
                clients.push(c.clone());
            }
        }
        let now = self.clock.now();
        let keys = self.keys.current();
        for client in &clients {
            let Some(uri) = &client.backchannel_logout_uri else { continue };
            let token = LogoutToken {
                iss: &self.issuer,
                sub: &session.subject,
                aud: &client.id,
                iat: now,
                exp: now + LOGOUT_TOKEN_TTL_SECS,
                jti: random_id(),
                sid: &session.id,
                events: json!({ BACKCHANNEL_EVENT: {} }),
            };
            match keys.sign(LOGOUT_TOKEN_TYP, &token, client.id_token_alg) {
                Ok(jwt) => self.notifier.deliver(&client.id, uri, jwt),
                Err(e) => tracing::error!(client = %client.id, error = %e, "logout token not signed"),
            }
        }
        tracing::info!(sid = %session.id, account = %session.account, apps = clients.len(), "SSO session ended");
        Ended { session, grants, clients }
    }

    /// The frames to load for Front-Channel Logout 1.0: each app's URI with `iss` and `sid`.
    pub fn frontchannel_frames(&self, clients: &[Arc<Client>], sid: &str) -> Vec<String> {
        clients
            .iter()
            .filter_map(|c| c.frontchannel_logout_uri.as_deref())
            .filter_map(|uri| url::Url::parse(uri).ok())
            .map(|mut url| {
                url.query_pairs_mut().append_pair("iss", &self.issuer).append_pair("sid", sid);
                url.into()
            })
            .collect()
    }
}
