//! A SAML 2.0 identity provider (Web Browser SSO profile, Single Logout) for the city apps that only speak SAML.
//!
//! It is a second protocol face on the same single sign-on: the SSO session, the sign-in form, the directory
//! re-checks, the policy and the audit trail are the OIDC provider's ([`crate::oidc::Provider`]); this module
//! only turns SAML requests into decisions the provider already knows how to make, and those decisions into
//! signed SAML messages. Like `oidc`, it knows nothing of HTTP: `http::saml` parses and renders.
//!
//! XML is handled by our own small pieces on quick-xml and aws-lc-rs (see the README for why): [`xml`] parses
//! untrusted input with hard limits, [`c14n`] writes Exclusive C14N, [`dsig`] signs and verifies enveloped
//! signatures, [`binding`] speaks HTTP-Redirect and HTTP-POST.

pub mod authn;
pub mod binding;
pub mod c14n;
pub mod cert;
pub mod context;
pub mod dsig;
pub mod logout;
pub mod metadata;
pub mod pending;
#[cfg(test)]
mod props;
pub mod response;
pub mod secret;
pub mod sp;
pub mod sp_add;
pub mod time;
pub mod xml;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use binding::{BindingError, RedirectQuery};
use dsig::DsigError;
use sp::{ServiceProvider, ServiceProviders};
use xml::{Element, XmlError};

use crate::config::saml::SamlConfig;
use crate::directory::User;
use crate::error::Error;
use crate::keys::{Alg, Key, KeySet};

/// Endpoint paths, relative to the issuer.
pub const METADATA_PATH: &str = "/saml/metadata";
pub const SSO_PATH: &str = "/saml/sso";
pub const SLO_PATH: &str = "/saml/slo";
/// Where the sign-in form posts back for a SAML request, and where a request parked across a redirect resumes.
pub const LOGIN_PATH: &str = "/saml/login";
pub const CONTINUE_PATH: &str = "/saml/continue";
/// Where the logout confirmation page (for an unsigned LogoutRequest) posts the person's answer.
pub const SLO_CONFIRM_PATH: &str = "/saml/slo/confirm";

/// XML namespaces.
pub mod ns {
    pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
    pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
    pub const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
    pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
}

/// Status codes (SAML Core §3.2.2.2).
pub mod status {
    pub const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
    pub const REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
    pub const RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
    pub const NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
    pub const INVALID_NAME_ID_POLICY: &str = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy";
    pub const UNKNOWN_PRINCIPAL: &str = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal";
    pub const REQUEST_DENIED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";
    /// The authentication context the SP asked for (`RequestedAuthnContext`) cannot be met.
    pub const NO_AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
}

/// How the person is named to an SP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameIdFormat {
    /// The mailbox.
    Email,
    /// The directory's stable id (`entryUUID`), the same `sub` OIDC apps see.
    Persistent,
    /// An opaque value for one SP within one SSO session (SAML Core §8.3.8), see [`secret`].
    Transient,
}

pub const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

impl NameIdFormat {
    pub fn urn(self) -> &'static str {
        match self {
            NameIdFormat::Email => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            NameIdFormat::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            NameIdFormat::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        }
    }

    pub fn from_urn(urn: &str) -> Option<NameIdFormat> {
        NameIdFormat::ALL.into_iter().find(|f| f.urn() == urn)
    }

    pub const ALL: [NameIdFormat; 3] = [NameIdFormat::Email, NameIdFormat::Persistent, NameIdFormat::Transient];

    /// The name in `name_id_format` of an SP entry.
    pub fn config_name(self) -> &'static str {
        match self {
            NameIdFormat::Email => "emailAddress",
            NameIdFormat::Persistent => "persistent",
            NameIdFormat::Transient => "transient",
        }
    }

    pub fn from_config_name(name: &str) -> Option<NameIdFormat> {
        NameIdFormat::ALL.into_iter().find(|f| f.config_name() == name)
    }
}

/// Why a SAML message was refused before any answer could be sent to the SP.
#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    #[error("unknown service provider {0:?}")]
    UnknownSp(String),
    #[error("AssertionConsumerService URL not registered for this service provider")]
    UnregisteredAcs,
    #[error(transparent)]
    Binding(#[from] BindingError),
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error(transparent)]
    Signature(#[from] DsigError),
    #[error("this service provider must sign its requests")]
    Unsigned,
    #[error("a LogoutResponse must be signed")]
    UnsignedResponse,
    #[error("this LogoutResponse answers no LogoutRequest we sent to this service provider")]
    Unsolicited,
    #[error("{0}")]
    Invalid(String),
}

impl SamlError {
    /// The audit trail's `reason` for a refused message.
    pub fn reason(&self) -> &'static str {
        match self {
            SamlError::UnknownSp(_) => "unknown_service_provider",
            SamlError::UnregisteredAcs => "unregistered_acs_url",
            SamlError::Signature(_) => "bad_signature",
            SamlError::Unsigned => "unsigned_request",
            SamlError::UnsignedResponse => "unsigned_response",
            SamlError::Unsolicited => "unsolicited_response",
            SamlError::Binding(_) | SamlError::Xml(_) | SamlError::Invalid(_) => "malformed_request",
        }
    }
}

impl From<SamlError> for Error {
    fn from(e: SamlError) -> Self {
        tracing::warn!(error = %e, "SAML message refused");
        match e {
            SamlError::UnknownSp(_) => Error::UnknownClient,
            SamlError::UnregisteredAcs => Error::UnregisteredRedirectUri,
            other => Error::InvalidRequest(other.to_string()),
        }
    }
}

/// A message as it arrived, in either binding.
#[derive(Debug, Clone)]
pub enum Inbound {
    Redirect(RedirectQuery),
    Post { message: String, relay_state: Option<String> },
}

/// A received message whose issuer is a registered SP and whose signature, if any, verified.
#[derive(Debug)]
pub struct Received {
    pub root: Element,
    pub sp: Arc<ServiceProvider>,
    pub relay_state: Option<String>,
    pub signed: bool,
}

/// The identity provider: our entity id, the registered SPs, and the certificates of our signing keys.
pub struct Saml {
    pub entity_id: String,
    pub issuer: String,
    pub sps: ServiceProviders,
    pub config: SamlConfig,
    /// Certificates already read or made, by key id.
    certificates: Mutex<HashMap<String, Vec<u8>>>,
    /// The secrets derived from each key (see [`secret`]), by key id.
    secrets: Mutex<HashMap<String, [u8; 32]>>,
}

impl Saml {
    /// Resolves the SPs and makes sure every RS256 key has its certificate.
    pub fn new(config: &SamlConfig, issuer: &str, keys: &KeySet) -> Result<Saml, String> {
        let saml = Saml {
            entity_id: format!("{issuer}{METADATA_PATH}"),
            issuer: issuer.to_owned(),
            sps: ServiceProviders::new(&config.service_providers)?,
            config: config.clone(),
            certificates: Mutex::default(),
            secrets: Mutex::default(),
        };
        saml.certificates_of(keys).map_err(|e| e.to_string())?;
        Ok(saml)
    }

    pub fn sso_url(&self) -> String {
        format!("{}{SSO_PATH}", self.issuer)
    }

    pub fn slo_url(&self) -> String {
        format!("{}{SLO_PATH}", self.issuer)
    }

    fn certificate(&self, key: &Key) -> Result<Vec<u8>, Error> {
        let mut known = self.certificates.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(der) = known.get(&key.kid) {
            return Ok(der.clone());
        }
        let der = cert::ensure(key)?;
        known.insert(key.kid.clone(), der.clone());
        Ok(der)
    }

    /// The NameID value (in `format`) `sp` knows `user` by in the SSO session `sid`.
    pub fn name_id_value(
        &self,
        keys: &KeySet,
        format: NameIdFormat,
        sp: &ServiceProvider,
        user: &User,
        sid: &str,
    ) -> Result<String, Error> {
        match format {
            NameIdFormat::Email => Ok(user.mail.clone()),
            NameIdFormat::Persistent => Ok(user.id.clone()),
            NameIdFormat::Transient => self.transient_name_id(keys, sid, &sp.entity_id),
        }
    }

    /// Certificates of every RS256 key, the signing one first (retired ones stay published, like the JWKS).
    pub fn certificates_of(&self, keys: &KeySet) -> Result<Vec<Vec<u8>>, Error> {
        keys.keys().iter().filter(|k| k.alg == Alg::RS256).map(|k| self.certificate(k)).collect()
    }

    /// The key that signs now, with its certificate.
    pub fn credential<'k>(&self, keys: &'k KeySet) -> Result<(&'k Key, Vec<u8>), Error> {
        let key = keys.signing_key(Alg::RS256).ok_or_else(|| Error::Internal("no RS256 key".into()))?;
        Ok((key, self.certificate(key)?))
    }

    /// The IdP metadata document.
    pub fn metadata(&self, keys: &KeySet) -> Result<String, Error> {
        Ok(metadata::idp(&self.entity_id, &self.issuer, &self.certificates_of(keys)?))
    }

    /// Decodes the message under `key` (`SAMLRequest` / `SAMLResponse`), parses it, finds its SP by `Issuer` and
    /// checks its signature: the query's for Redirect, the root element's enveloped one for POST.
    pub fn receive(&self, inbound: &Inbound, key: &str) -> Result<Received, SamlError> {
        let (xml, relay_state) = match inbound {
            Inbound::Redirect(q) => {
                let value = q.get(key).ok_or_else(|| SamlError::Invalid(format!("no {key}")))?;
                (binding::decode_redirect(&value)?, q.get("RelayState"))
            }
            Inbound::Post { message, relay_state } => (binding::decode_post(message)?, relay_state.clone()),
        };
        let root = xml::parse(&xml)?;
        if root.get("Version") != Some("2.0") {
            return Err(SamlError::Invalid("Version must be 2.0".into()));
        }
        let issuer = root.first(ns::ASSERTION, "Issuer").map(Element::text_content).unwrap_or_default();
        let sp = self.sps.get(&issuer).ok_or(SamlError::UnknownSp(issuer))?.clone();
        let signed = match inbound {
            Inbound::Redirect(q) => q.verify(key, &sp.keys, self.config.allow_sha1)?,
            Inbound::Post { .. } => dsig::verify(&root, &sp.keys, self.config.allow_sha1)?,
        };
        Ok(Received { root, sp, relay_state, signed })
    }

    /// The registered SP a message says it comes from, when it can be read at all: the audit trail names the SP
    /// of every message, refused ones included (its signature may not have been checked: a claim, not a fact).
    pub fn claimed_sp(&self, inbound: &Inbound) -> Option<String> {
        let xml = match inbound {
            Inbound::Redirect(q) => {
                let value = q.get("SAMLRequest").or_else(|| q.get("SAMLResponse"))?;
                binding::decode_redirect(&value).ok()?
            }
            Inbound::Post { message, .. } => binding::decode_post(message).ok()?,
        };
        let issuer = xml::parse(&xml).ok()?.first(ns::ASSERTION, "Issuer")?.text_content();
        self.sps.get(&issuer).map(|sp| sp.entity_id.clone())
    }

    /// Checks a received message's `IssueInstant` (within the allowed skew, not older than `max_age`) and
    /// `Destination` (ours, when present).
    pub fn check_freshness(&self, root: &Element, destination: &str, now: u64, max_age: u64) -> Result<(), SamlError> {
        let skew = self.config.clock_skew_secs;
        let instant =
            root.get("IssueInstant").and_then(time::parse).ok_or(SamlError::Invalid("no IssueInstant".into()))?;
        if instant > now + skew || instant + max_age + skew < now {
            return Err(SamlError::Invalid("IssueInstant is too far from now".into()));
        }
        if root.get("Destination").is_some_and(|d| d != destination) {
            return Err(SamlError::Invalid("Destination is not this endpoint".into()));
        }
        Ok(())
    }
}

/// A fresh message ID: 256 random bits, an NCName.
pub fn new_id() -> String {
    format!("_{}", crate::oidc::random_token())
}
