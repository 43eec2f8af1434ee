//! Single Logout (SAML Profiles §4.4) on the shared SSO session.
//!
//! Every SP that receives an assertion is recorded as a participant of the session, as a [`Grant`] whose
//! `client_id` is `saml:<entity id>` and whose `sid` is the session: the store's existing contract already ties
//! grants to sessions and hands them back when the session ends, on every store adapter, so no store change was
//! needed. When an SP sends a (signed) LogoutRequest, the session ends through [`Provider::end_session_in_full`]
//! — OIDC apps get their back-channel logout tokens as for any logout — every other SAML participant gets a
//! signed front-channel LogoutRequest (HTTP-Redirect, loaded in a hidden frame of the signed-out page), and the
//! initiator gets a signed LogoutResponse. OIDC's `/logout` loads the same frames for SAML participants.

use serde::{Deserialize, Serialize};

use super::binding::redirect_url;
use super::response::{name_id, status_element};
use super::sp::ServiceProvider;
use super::xml::Element;
use super::{Inbound, NameIdFormat, Saml, SamlError, new_id, ns, status, time};
use crate::audit::{Event, RequestContext};
use crate::directory::User;
use crate::error::Error;
use crate::keys::KeySet;
use crate::oidc::Provider;
use crate::oidc::logout::Ended;
use crate::store::{Grant, Session};

/// The `client_id` prefix of the grants that record SAML participants.
pub const GRANT_PREFIX: &str = "saml:";
const MAX_AGE_SECS: u64 = 600;

/// A checked LogoutRequest from an SP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutRequest {
    pub sp: String,
    pub id: String,
    pub name_id: String,
    pub session_indexes: Vec<String>,
    pub relay_state: Option<String>,
}

/// What the browser gets: frames that log the other apps out, then the LogoutResponse to the initiator.
#[derive(Debug)]
pub struct SloOutcome {
    /// Whether the browser's session ended (its cookie is then cleared).
    pub ended: bool,
    pub frames: Vec<String>,
    pub redirect: String,
}

/// Records that `sp` received an assertion in `session`, for Single Logout.
pub async fn record_participant(
    provider: &Provider,
    sp: &ServiceProvider,
    session: &Session,
    user: &User,
) -> Result<(), Error> {
    let grant = Grant {
        id: crate::oidc::random_id(),
        client_id: format!("{GRANT_PREFIX}{}", sp.entity_id),
        sid: Some(session.id.clone()),
        scope: "saml".into(),
        auth_time: session.auth_time,
        user: Some(user.clone()),
        refresh_hash: None,
        expires_at: session.expires_at,
        amr: session.amr.clone(),
    };
    Ok(provider.store.put_grant(&grant).await?)
}

impl Saml {
    /// Takes a LogoutRequest off the wire: from a registered SP, signed (SAML Profiles §4.4.4.1), fresh, to us.
    pub fn logout_request(&self, inbound: &Inbound, now: u64) -> Result<LogoutRequest, SamlError> {
        let received = self.receive(inbound, "SAMLRequest")?;
        let root = &received.root;
        if !root.is(ns::PROTOCOL, "LogoutRequest") {
            return Err(SamlError::Invalid("not a LogoutRequest".into()));
        }
        if !received.signed {
            return Err(SamlError::Unsigned);
        }
        self.check_freshness(root, &self.slo_url(), now, MAX_AGE_SECS)?;
        if root.get("NotOnOrAfter").and_then(time::parse).is_some_and(|t| t + self.config.clock_skew_secs <= now) {
            return Err(SamlError::Invalid("the LogoutRequest has expired".into()));
        }
        let id = root.get("ID").filter(|id| !id.is_empty()).ok_or(SamlError::Invalid("no ID".into()))?;
        let name_id = root.first(ns::ASSERTION, "NameID").ok_or(SamlError::Invalid("no NameID".into()))?;
        Ok(LogoutRequest {
            sp: received.sp.entity_id.clone(),
            id: id.to_owned(),
            name_id: name_id.text_content(),
            session_indexes: root.all(ns::PROTOCOL, "SessionIndex").map(Element::text_content).collect(),
            relay_state: received.relay_state.clone(),
        })
    }

    /// Accepts an SP's LogoutResponse to one of our front-channel requests (it only has to come from an SP).
    pub fn logout_response(&self, inbound: &Inbound) -> Result<String, SamlError> {
        let received = self.receive(inbound, "SAMLResponse")?;
        if !received.root.is(ns::PROTOCOL, "LogoutResponse") {
            return Err(SamlError::Invalid("not a LogoutResponse".into()));
        }
        Ok(received.sp.entity_id.clone())
    }

    /// Ends the browser's session if the request names it, logging out every other participant.
    pub async fn single_logout(
        &self,
        provider: &Provider,
        req: &LogoutRequest,
        cookie: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<SloOutcome, Error> {
        let sp = self.sps.get(&req.sp).cloned().ok_or(Error::UnknownClient)?;
        let keys = provider.keys.current();
        let session = provider.session_for_cookie(cookie).await?;
        let (code, frames, ended): (&[&str], Vec<String>, bool) = match session {
            // Nothing to end: the person is signed out already, which is what the SP wants.
            None => (&[status::SUCCESS], Vec::new(), false),
            Some(s) if names(&sp, req, &s) => {
                let event = Event::new("logout").client(&sp.entity_id);
                match provider.end_session_in_full(&s.id, ctx, event).await? {
                    Some(ended) => {
                        let mut frames = provider.frontchannel_frames(&ended.clients, &ended.session.id);
                        frames.extend(self.frontchannel_frames(
                            &keys,
                            &ended,
                            Some(&sp.entity_id),
                            provider.clock.now(),
                        ));
                        (&[status::SUCCESS], frames, true)
                    }
                    None => (&[status::SUCCESS], Vec::new(), false),
                }
            }
            // Another person's session, or one this SP was never part of: left alone.
            Some(_) => (&[status::REQUESTER, status::UNKNOWN_PRINCIPAL], Vec::new(), false),
        };
        let redirect =
            self.logout_response_url(&keys, &sp, &req.id, code, req.relay_state.as_deref(), provider.clock.now())?;
        Ok(SloOutcome { ended, frames, redirect })
    }

    /// Signed LogoutRequest URLs (HTTP-Redirect) for the SAML participants of an ended session, but `except`.
    pub fn frontchannel_frames(&self, keys: &KeySet, ended: &Ended, except: Option<&str>, now: u64) -> Vec<String> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for grant in &ended.grants {
            let Some(entity_id) = grant.client_id.strip_prefix(GRANT_PREFIX) else { continue };
            if Some(entity_id) == except || seen.contains(&entity_id) {
                continue;
            }
            seen.push(entity_id);
            let (Some(sp), Some(user)) = (self.sps.get(entity_id), &grant.user) else { continue };
            match self.logout_request_url(keys, sp, &sp.name_id(user), &ended.session.id, now) {
                Ok(Some(url)) => out.push(url),
                Ok(None) => tracing::info!(sp = %entity_id, "SAML participant has no SingleLogoutService"),
                Err(e) => tracing::error!(sp = %entity_id, error = %e, "LogoutRequest not signed"),
            }
        }
        out
    }

    fn logout_request_url(
        &self,
        keys: &KeySet,
        sp: &ServiceProvider,
        name_id_value: &str,
        session_index: &str,
        now: u64,
    ) -> Result<Option<String>, Error> {
        let Some(location) = &sp.slo_url else { return Ok(None) };
        let request = Element::new("samlp", ns::PROTOCOL, "LogoutRequest")
            .attr("ID", new_id())
            .attr("Version", "2.0")
            .attr("IssueInstant", time::format(now))
            .attr("Destination", location.as_str())
            .attr("NotOnOrAfter", time::format(now + self.config.assertion_ttl_secs))
            .child(Element::new("saml", ns::ASSERTION, "Issuer").text(self.entity_id.as_str()))
            .child(name_id(self, sp, name_id_value))
            .child(Element::new("samlp", ns::PROTOCOL, "SessionIndex").text(session_index));
        let xml = super::c14n::canonicalize(&request, None, &[]);
        let (key, _) = self.credential(keys)?;
        Ok(Some(redirect_url(location, "SAMLRequest", &xml, None, key)?))
    }

    fn logout_response_url(
        &self,
        keys: &KeySet,
        sp: &ServiceProvider,
        in_response_to: &str,
        code: &[&str],
        relay_state: Option<&str>,
        now: u64,
    ) -> Result<String, Error> {
        let location =
            sp.slo_response_url.as_ref().or(sp.slo_url.as_ref()).ok_or_else(|| {
                Error::InvalidRequest("the service provider registered no SingleLogoutService".into())
            })?;
        let response = Element::new("samlp", ns::PROTOCOL, "LogoutResponse")
            .attr("ID", new_id())
            .attr("Version", "2.0")
            .attr("IssueInstant", time::format(now))
            .attr("Destination", location.as_str())
            .attr("InResponseTo", in_response_to)
            .child(Element::new("saml", ns::ASSERTION, "Issuer").text(self.entity_id.as_str()))
            .child(status_element(code));
        let xml = super::c14n::canonicalize(&response, None, &[]);
        let (key, _) = self.credential(keys)?;
        Ok(redirect_url(location, "SAMLResponse", &xml, relay_state, key)?)
    }
}

/// Whether a LogoutRequest from `sp` is about `session`: the NameID we would give this SP for the session's
/// account, and (when named) the session's index.
fn names(sp: &ServiceProvider, req: &LogoutRequest, session: &Session) -> bool {
    let expected = match sp.name_id_format {
        NameIdFormat::Email => &session.account,
        NameIdFormat::Persistent => &session.subject,
    };
    req.name_id == *expected && (req.session_indexes.is_empty() || req.session_indexes.contains(&session.id))
}
