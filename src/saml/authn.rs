//! Web Browser SSO (SAML Profiles §4.1): an SP's `<AuthnRequest>` checked, then answered from the SSO session
//! exactly like an OIDC authorization request — reuse the session (after asking the directory again), show the
//! sign-in form, or answer `NoPassive`.
//!
//! The ACS URL the assertion goes to is always one the SP registered: a request naming another one is refused
//! with a page, never answered by a POST to it. `ForceAuthn` is `prompt=login`, `IsPassive` is `prompt=none`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::binding::POST;
use super::context::{Need, RequestedContext};
use super::response::AssertionFor;
use super::sp::ServiceProvider;
use super::{Inbound, NameIdFormat, Saml, SamlError, UNSPECIFIED, ns, status};
use crate::audit::{Event, RequestContext};
use crate::directory::User;
use crate::error::Error;
use crate::oidc::Provider;
use crate::oidc::authorize::{AuthResponse, Decision, decide_prompt};
use crate::oidc::request::Prompt;
use crate::store::Session;

/// How old an AuthnRequest may be when it arrives (plus the allowed clock skew).
const MAX_AGE_SECS: u64 = 600;
/// RelayState is at most 80 bytes by the bindings spec; SPs often send more, so allow some room.
const MAX_RELAY_STATE: usize = 1024;

/// A checked AuthnRequest: everything the answer needs, and nothing the SP could change later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthnRequest {
    /// The SP's entity id.
    pub sp: String,
    pub id: String,
    /// A registered ACS URL of the SP.
    pub acs_url: String,
    pub relay_state: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    /// `NameIDPolicy/@Format`, when the SP asked for one.
    pub name_id_policy: Option<String>,
    /// `NameIDPolicy/@AllowCreate`, when given.
    #[serde(default)]
    pub allow_create: Option<bool>,
    /// Its `RequestedAuthnContext` can only be met with two factors (the REFEDS MFA profile, see
    /// [`super::context`]): the answer needs them, like `acr_values` asking for it.
    #[serde(default)]
    pub wants_mfa: bool,
    /// `RequestedAuthnContext`, when given: which class may be asserted.
    #[serde(default)]
    pub requested_context: Option<RequestedContext>,
}

impl AuthnRequest {
    /// The NameID format the SP gets: its configured one when it asks for none or for `unspecified`; transient
    /// whenever it asks for it (it reveals nothing); never another format than configured (that would release
    /// more than the registration allows). `None` means `InvalidNameIDPolicy`.
    pub fn name_id_format(&self, sp: &ServiceProvider) -> Option<NameIdFormat> {
        match self.name_id_policy.as_deref() {
            None | Some(UNSPECIFIED) => Some(sp.name_id_format),
            Some(urn) => match NameIdFormat::from_urn(urn)? {
                NameIdFormat::Transient => Some(NameIdFormat::Transient),
                asked => (asked == sp.name_id_format).then_some(asked),
            },
        }
    }

    /// Whether the assertion needs a session with two factors: the SP's `require_mfa`, or the request asks.
    pub fn needs_mfa(&self, sp: &ServiceProvider) -> bool {
        sp.require_mfa || self.wants_mfa
    }
}

/// What the browser gets next.
#[derive(Debug)]
pub enum SsoOutcome {
    /// POST a Response to the ACS (an assertion, or a status such as `NoPassive`).
    Respond(AuthResponse),
    /// Show the sign-in form for this SP.
    Login(Arc<ServiceProvider>),
}

fn flag(value: Option<&str>) -> bool {
    matches!(value, Some("true" | "1"))
}

impl Saml {
    /// Takes an AuthnRequest off the wire and checks it: a registered SP, signed when it must be (and verified
    /// whenever signed), fresh, addressed to us, answerable by HTTP-POST to a registered ACS URL.
    pub fn authn_request(&self, inbound: &Inbound, now: u64) -> Result<AuthnRequest, SamlError> {
        let received = self.receive(inbound, "SAMLRequest")?;
        let (root, sp) = (&received.root, &received.sp);
        if !root.is(ns::PROTOCOL, "AuthnRequest") {
            return Err(SamlError::Invalid("not an AuthnRequest".into()));
        }
        if sp.want_authn_requests_signed && !received.signed {
            return Err(SamlError::Unsigned);
        }
        self.check_freshness(root, &self.sso_url(), now, MAX_AGE_SECS)?;
        let id = root.get("ID").filter(|id| !id.is_empty()).ok_or(SamlError::Invalid("no ID".into()))?;
        if root.get("ProtocolBinding").is_some_and(|b| b != POST) {
            return Err(SamlError::Invalid("only the HTTP-POST binding is used for responses".into()));
        }
        let acs_url = match (root.get("AssertionConsumerServiceURL"), root.get("AssertionConsumerServiceIndex")) {
            (Some(url), _) => sp.acs_urls.iter().find(|u| *u == url).ok_or(SamlError::UnregisteredAcs)?,
            (None, Some(index)) => {
                index.parse::<usize>().ok().and_then(|i| sp.acs_urls.get(i)).ok_or(SamlError::UnregisteredAcs)?
            }
            (None, None) => sp.acs_urls.first().ok_or(SamlError::UnregisteredAcs)?,
        };
        let policy = root.first(ns::PROTOCOL, "NameIDPolicy");
        let requested_context = super::context::parse(root)?;
        if received.relay_state.as_ref().is_some_and(|r| r.len() > MAX_RELAY_STATE) {
            return Err(SamlError::Invalid("RelayState too long".into()));
        }
        Ok(AuthnRequest {
            sp: sp.entity_id.clone(),
            id: id.to_owned(),
            acs_url: acs_url.clone(),
            relay_state: received.relay_state.clone(),
            force_authn: flag(root.get("ForceAuthn")),
            is_passive: flag(root.get("IsPassive")),
            name_id_policy: policy.and_then(|p| p.get("Format")).map(str::to_owned),
            allow_create: policy.and_then(|p| p.get("AllowCreate")).map(|v| flag(Some(v))),
            wants_mfa: requested_context.as_ref().is_some_and(|r| r.need(self.https()) == Need::TwoFactors),
            requested_context,
        })
    }

    /// Whether the service is reached over https (the password classes differ).
    pub fn https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// What `req`'s `RequestedAuthnContext` needs of the session (`Any` without one).
    pub fn context_need(&self, req: &AuthnRequest) -> Need {
        req.requested_context.as_ref().map_or(Need::Any, |r| r.need(self.https()))
    }

    fn sp_of(&self, req: &AuthnRequest) -> Result<Arc<ServiceProvider>, Error> {
        self.sps.get(&req.sp).cloned().ok_or(Error::UnknownClient)
    }

    /// Answers a checked AuthnRequest from the browser's SSO session.
    pub async fn single_sign_on(
        &self,
        provider: &Provider,
        req: &AuthnRequest,
        cookie: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<SsoOutcome, Error> {
        let sp = self.sp_of(req)?;
        let now = provider.clock.now();
        if req.name_id_format(&sp).is_none() {
            return self.refuse(provider, req, status::INVALID_NAME_ID_POLICY).map(SsoOutcome::Respond);
        }
        // A class we cannot earn: the SP hears so at its ACS, before anyone types a password for nothing.
        if self.context_need(req) == Need::Unsatisfiable {
            return self.refuse(provider, req, status::NO_AUTHN_CONTEXT).map(SsoOutcome::Respond);
        }
        let prompt = match (req.force_authn, req.is_passive) {
            // Asked to check the password without showing anything: impossible.
            (true, true) => return self.refuse(provider, req, status::NO_PASSIVE).map(SsoOutcome::Respond),
            (false, true) => Prompt::None,
            (true, false) => Prompt::Login,
            (false, false) => Prompt::Default,
        };
        let session = provider.session_for_cookie(cookie).await?;
        match (decide_prompt(prompt, None, session.as_ref(), now), session) {
            // Two factors needed and the session has one: only a page can ask for the second (the HTTP layer
            // sends the person there before this), so a passive request cannot be answered.
            (Decision::Reuse, Some(session))
                if req.is_passive && req.needs_mfa(&sp) && !session.has_second_factor() =>
            {
                self.refuse(provider, req, status::NO_PASSIVE).map(SsoOutcome::Respond)
            }
            (Decision::Reuse, Some(session)) => match provider.recheck(&session, ctx).await? {
                Some(user) => Ok(SsoOutcome::Respond(self.assert(provider, req, &session, &user, ctx).await?)),
                None if req.is_passive => self.refuse(provider, req, status::NO_PASSIVE).map(SsoOutcome::Respond),
                None => Ok(SsoOutcome::Login(sp)),
            },
            (Decision::LoginRequired, _) => self.refuse(provider, req, status::NO_PASSIVE).map(SsoOutcome::Respond),
            _ => Ok(SsoOutcome::Login(sp)),
        }
    }

    /// Issues the signed assertion for `user` in `session`, records the SP as a participant of the session (for
    /// Single Logout) and in the audit trail, and returns the auto-submitted POST to the ACS.
    pub async fn assert(
        &self,
        provider: &Provider,
        req: &AuthnRequest,
        session: &Session,
        user: &User,
        ctx: &RequestContext,
    ) -> Result<AuthResponse, Error> {
        let sp = self.sp_of(req)?;
        let format = req.name_id_format(&sp).ok_or(Error::InvalidRequest("NameID format not allowed".into()))?;
        // AllowCreate="false" (SAML Core §3.4.1.1): a transient NameID exists only once it was given in this
        // session; asked not to create one, answer InvalidNameIDPolicy rather than make it.
        if format == NameIdFormat::Transient
            && req.allow_create == Some(false)
            && !super::logout::is_participant(provider, &sp, session).await?
        {
            return self.refuse(provider, req, status::INVALID_NAME_ID_POLICY);
        }
        // The session must meet the requested context (the step-up comes before this); else NoAuthnContext.
        if let Some(requested) = &req.requested_context
            && requested.class_for(self.https(), session.has_second_factor()).is_none()
        {
            return self.refuse(provider, req, status::NO_AUTHN_CONTEXT);
        }
        let keys = provider.keys.current();
        let about = AssertionFor {
            sp: &sp,
            in_response_to: Some(&req.id),
            acs_url: &req.acs_url,
            format,
            user,
            session,
            now: provider.clock.now(),
            requested: req.requested_context.as_ref(),
        };
        let xml = self.response(&keys, &about)?;
        super::logout::record_participant(provider, &sp, session, user, format).await?;
        let event = Event::new("saml_assertion_issued").account(&user.mail).client(&sp.entity_id).sid(&session.id);
        provider.audit.record(ctx, event);
        Ok(post_to(&req.acs_url, &xml, req.relay_state.as_deref()))
    }

    /// A Response without an assertion: `Responder` (or `Requester` for a NameID policy) plus the detail.
    fn refuse(&self, provider: &Provider, req: &AuthnRequest, detail: &'static str) -> Result<AuthResponse, Error> {
        let top = if detail == status::INVALID_NAME_ID_POLICY { status::REQUESTER } else { status::RESPONDER };
        let keys = provider.keys.current();
        let xml = self.status_response(&keys, Some(&req.id), &req.acs_url, provider.clock.now(), &[top, detail])?;
        tracing::info!(sp = %req.sp, status = detail, "SAML request answered without an assertion");
        Ok(post_to(&req.acs_url, &xml, req.relay_state.as_deref()))
    }
}

/// The HTTP-POST binding's answer: `SAMLResponse` (and `RelayState`) auto-submitted to the ACS.
fn post_to(acs_url: &str, xml: &str, relay_state: Option<&str>) -> AuthResponse {
    let mut params = vec![("SAMLResponse", super::binding::encode_post(xml))];
    params.extend(relay_state.map(|r| ("RelayState", r.to_owned())));
    AuthResponse { redirect_uri: acs_url.to_owned(), params, form_post: true }
}

#[cfg(test)]
mod tests;
