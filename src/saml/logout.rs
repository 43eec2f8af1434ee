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
/// The `scope` of a participant grant whose SP was given a transient NameID.
const TRANSIENT_SCOPE: &str = "saml transient";

/// A checked LogoutRequest from an SP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutRequest {
    pub sp: String,
    pub id: String,
    pub name_id: String,
    pub session_indexes: Vec<String>,
    pub relay_state: Option<String>,
    /// Whether the SP signed it. An unsigned one (SimpleSAMLphp's default) is anyone's to send, so the person
    /// confirms it first, as an OIDC logout without `id_token_hint` (SAML Profiles §4.4.3.1).
    #[serde(default)]
    pub signed: bool,
}

/// What the browser gets: frames that log the other apps out, then the LogoutResponse to the initiator.
#[derive(Debug)]
pub struct SloOutcome {
    /// Whether the browser's session ended (its cookie is then cleared).
    pub ended: bool,
    pub frames: Vec<String>,
    pub redirect: String,
}

/// The id of the grant recording that `sp` took part in session `sid`: derived, so that whether an SP took part
/// is one read by id (no store change, no scan of the session's grants). It carries the session's tag
/// (`<tag>~saml-…`), as every grant made in a session does, so a Redis Cluster keeps it in the session's slot.
fn participant_id(sid: &str, sp: &str) -> String {
    let digest = crate::oidc::sha256(format!("saml-participant\0{sid}\0{sp}").as_bytes());
    let digest = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &digest[..18]);
    crate::store::tagged(crate::store::tag_of(sid), &format!("saml-{digest}"))
}

/// Whether `sp` received an assertion in `session`.
pub(super) async fn is_participant(
    provider: &Provider,
    sp: &ServiceProvider,
    session: &Session,
) -> Result<bool, Error> {
    Ok(provider.store.grant(&participant_id(&session.id, &sp.entity_id)).await?.is_some())
}

/// Records that `sp` received an assertion in `session`, for Single Logout (once per session and SP).
/// The grant's `scope` says which NameID format the SP was given: `saml` (its configured one) or
/// `saml transient`, so its LogoutRequest names it the same way.
pub async fn record_participant(
    provider: &Provider,
    sp: &ServiceProvider,
    session: &Session,
    user: &User,
    format: NameIdFormat,
) -> Result<(), Error> {
    let scope = if format == NameIdFormat::Transient { TRANSIENT_SCOPE } else { "saml" };
    let id = participant_id(&session.id, &sp.entity_id);
    if provider.store.grant(&id).await?.is_some_and(|g| g.scope == scope) {
        return Ok(());
    }
    let grant = Grant {
        id,
        client_id: format!("{GRANT_PREFIX}{}", sp.entity_id),
        sid: Some(session.id.clone()),
        scope: scope.into(),
        auth_time: session.auth_time,
        user: Some(user.clone()),
        refresh_hash: None,
        expires_at: session.expires_at,
        amr: session.amr.clone(),
        issued_at: provider.clock.now(),
    };
    Ok(provider.store.put_grant(&grant).await?)
}

impl Saml {
    /// Takes a LogoutRequest off the wire: from a registered SP, fresh, to us; its signature checked when it has
    /// one (an unsigned one is kept as such: the person confirms it before anything ends).
    pub fn logout_request(&self, inbound: &Inbound, now: u64) -> Result<LogoutRequest, SamlError> {
        let received = self.receive(inbound, "SAMLRequest")?;
        let root = &received.root;
        if !root.is(ns::PROTOCOL, "LogoutRequest") {
            return Err(SamlError::Invalid("not a LogoutRequest".into()));
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
            signed: received.signed,
        })
    }

    /// The answer when the person declines to sign out on the confirmation page: a LogoutResponse saying the
    /// request was denied, to the SP's registered logout URL (never a dead end).
    pub fn declined_logout(
        &self,
        provider: &Provider,
        req: &LogoutRequest,
        ctx: &RequestContext,
    ) -> Result<String, Error> {
        let sp = self.sps.get(&req.sp).cloned().ok_or(Error::UnknownClient)?;
        provider.audit.record(ctx, Event::new("saml_logout_declined").client(&sp.entity_id));
        let code = [status::RESPONDER, status::REQUEST_DENIED];
        let now = provider.clock.now();
        self.logout_response_url(&provider.keys.current(), &sp, &req.id, &code, req.relay_state.as_deref(), now)
    }

    /// Accepts an SP's LogoutResponse only when it is signed and answers a LogoutRequest we sent to that SP
    /// (its `InResponseTo` carries our tag, see [`super::secret`]). Accepting one changes nothing either way: the
    /// session ended before our request was sent.
    pub fn logout_response(&self, keys: &KeySet, inbound: &Inbound, now: u64) -> Result<String, SamlError> {
        let received = self.receive(inbound, "SAMLResponse")?;
        if !received.root.is(ns::PROTOCOL, "LogoutResponse") {
            return Err(SamlError::Invalid("not a LogoutResponse".into()));
        }
        if !received.signed {
            return Err(SamlError::UnsignedResponse);
        }
        let answers = received.root.get("InResponseTo").unwrap_or_default();
        if !self.sent_logout_request(keys, &received.sp.entity_id, answers, now) {
            return Err(SamlError::Unsolicited);
        }
        Ok(received.sp.entity_id.clone())
    }

    /// Ends the browser's session if the request names it, logging out every other participant. The caller has
    /// made sure an unsigned request was confirmed by the person first.
    pub async fn single_logout(
        &self,
        provider: &Provider,
        req: &LogoutRequest,
        cookie: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<SloOutcome, Error> {
        let sp = self.sps.get(&req.sp).cloned().ok_or(Error::UnknownClient)?;
        let keys = provider.keys.current();
        let session = match provider.session_for_cookie(cookie).await? {
            Some(s) if !is_participant(provider, &sp, &s).await? => {
                // An SP that never received an assertion in this session has no say over it.
                let event = Event::new("saml_request_refused").client(&sp.entity_id).reason("not_a_participant");
                provider.audit.record(ctx, event.account(&s.account).sid(&s.id));
                let code = [status::REQUESTER, status::REQUEST_DENIED];
                let now = provider.clock.now();
                let redirect = self.logout_response_url(&keys, &sp, &req.id, &code, req.relay_state.as_deref(), now)?;
                return Ok(SloOutcome { ended: false, frames: Vec::new(), redirect });
            }
            other => other,
        };
        let (code, frames, ended): (&[&str], Vec<String>, bool) = match session {
            // Nothing to end: the person is signed out already, which is what the SP wants.
            None => (&[status::SUCCESS], Vec::new(), false),
            // Never without the SP's signature or the person's confirmation (see `LogoutRequest::signed`).
            Some(_) if !req.signed => (&[status::REQUESTER, status::REQUEST_DENIED], Vec::new(), false),
            Some(s) if self.names(&keys, &sp, req, &s) => {
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
            let format = if grant.scope == TRANSIENT_SCOPE { NameIdFormat::Transient } else { sp.name_id_format };
            let name_id = match self.name_id_value(keys, format, sp, user, &ended.session.id) {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!(sp = %entity_id, error = %e, "no NameID for the LogoutRequest");
                    continue;
                }
            };
            match self.logout_request_url(keys, sp, (format, &name_id), &ended.session.id, now) {
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
        (format, name_id_value): (NameIdFormat, &str),
        session_index: &str,
        now: u64,
    ) -> Result<Option<String>, Error> {
        let Some(location) = &sp.slo_url else { return Ok(None) };
        let request = Element::new("samlp", ns::PROTOCOL, "LogoutRequest")
            .attr("ID", self.logout_request_id(keys, &sp.entity_id, now)?)
            .attr("Version", "2.0")
            .attr("IssueInstant", time::format(now))
            .attr("Destination", location.as_str())
            .attr("NotOnOrAfter", time::format(now + self.config.assertion_ttl_secs))
            .child(Element::new("saml", ns::ASSERTION, "Issuer").text(self.entity_id.as_str()))
            .child(name_id(self, sp, format, name_id_value))
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

impl Saml {
    /// Whether a LogoutRequest from `sp` is about `session`: the NameID we gave this SP for the session's
    /// account, and (when named) the session's index.
    fn names(&self, keys: &KeySet, sp: &ServiceProvider, req: &LogoutRequest, session: &Session) -> bool {
        // Any SP may have been given a transient NameID (it asked for one), whatever its configured format.
        let known = match sp.name_id_format {
            NameIdFormat::Email => req.name_id == session.account,
            NameIdFormat::Persistent => req.name_id == session.subject,
            NameIdFormat::Transient => false,
        } || self.transient_name_ids(keys, &session.id, &sp.entity_id).contains(&req.name_id);
        known && (req.session_indexes.is_empty() || req.session_indexes.contains(&session.id))
    }
}

#[cfg(test)]
mod tests {
    use super::participant_id;
    use crate::store::{account_tag, tag_of, tagged};

    #[test]
    fn a_participant_id_carries_its_sessions_tag() {
        let sid = tagged(&account_tag("dungnv@danang.gov.vn"), "session-1");
        let id = participant_id(&sid, "https://vanban.danang.gov.vn/saml/metadata");
        assert_eq!(tag_of(&id), tag_of(&sid), "{id}");
        assert!(id.starts_with(&format!("{}~saml-", tag_of(&sid))), "{id}");
        assert_eq!(id, participant_id(&sid, "https://vanban.danang.gov.vn/saml/metadata"), "derived: one read by id");
        assert_ne!(id, participant_id(&sid, "https://tiepdan.danang.gov.vn/saml/metadata"), "one per SP");
        let other = tagged(&account_tag("dungnv@danang.gov.vn"), "session-2");
        assert_ne!(id, participant_id(&other, "https://vanban.danang.gov.vn/saml/metadata"), "one per session");
    }
}
