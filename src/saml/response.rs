//! The `<samlp:Response>` we send to an SP's AssertionConsumerService: a signed Assertion about the person (SAML
//! Core §2, Web Browser SSO profile §4.1.4.2), or a status saying why there is none (`NoPassive`, …).
//!
//! The Assertion carries the Issuer, the Subject (NameID and a bearer SubjectConfirmation bound to the request,
//! the ACS and a short lifetime), Conditions with the SP as the only audience, an AuthnStatement whose
//! SessionIndex is the SSO session's `sid` (never the cookie), and the released attributes. It is signed, and
//! by default so is the Response around it.

use super::dsig::sign;
use super::sp::ServiceProvider;
use super::xml::Element;
use super::{NameIdFormat, Saml, new_id, ns, status, time};
use crate::directory::User;
use crate::error::Error;
use crate::keys::KeySet;
use crate::store::Session;

fn samlp(name: &str) -> Element {
    Element::new("samlp", ns::PROTOCOL, name)
}

fn saml(name: &str) -> Element {
    Element::new("saml", ns::ASSERTION, name)
}

/// What an assertion is about and for.
pub struct AssertionFor<'a> {
    pub sp: &'a ServiceProvider,
    /// The AuthnRequest's ID (absent for an unsolicited response).
    pub in_response_to: Option<&'a str>,
    pub acs_url: &'a str,
    /// The NameID format the SP gets (see [`super::authn::AuthnRequest::name_id_format`]).
    pub format: NameIdFormat,
    pub user: &'a User,
    pub session: &'a Session,
    pub now: u64,
    /// The SP's `RequestedAuthnContext`, which decides the class asserted (see [`super::context`]).
    pub requested: Option<&'a super::context::RequestedContext>,
}

/// The NameID element naming `user` to `sp`.
pub fn name_id(saml_idp: &Saml, sp: &ServiceProvider, format: NameIdFormat, value: &str) -> Element {
    let el = saml("NameID").attr("Format", format.urn());
    let el = match format {
        NameIdFormat::Persistent => {
            el.attr("NameQualifier", saml_idp.entity_id.as_str()).attr("SPNameQualifier", sp.entity_id.as_str())
        }
        NameIdFormat::Email | NameIdFormat::Transient => el,
    };
    el.text(value)
}

/// `<samlp:Status>` with nested status codes, the top-level one first.
pub fn status_element(code: &[&str]) -> Element {
    let mut status_code = samlp("StatusCode").attr("Value", *code.last().unwrap_or(&status::SUCCESS));
    for outer in code.iter().rev().skip(1) {
        status_code = samlp("StatusCode").attr("Value", *outer).child(status_code);
    }
    samlp("Status").child(status_code)
}

impl Saml {
    fn response_shell(&self, in_response_to: Option<&str>, destination: &str, now: u64, code: &[&str]) -> Element {
        let mut el = samlp("Response")
            .attr("ID", new_id())
            .attr("Version", "2.0")
            .attr("IssueInstant", time::format(now))
            .attr("Destination", destination);
        if let Some(id) = in_response_to {
            el = el.attr("InResponseTo", id);
        }
        el.child(saml("Issuer").text(self.entity_id.as_str())).child(status_element(code))
    }

    /// The signed Response carrying a signed Assertion about `g.user` for `g.sp`.
    pub fn response(&self, keys: &KeySet, g: &AssertionFor) -> Result<String, Error> {
        let ttl = self.config.assertion_ttl_secs;
        let mut confirmation_data = saml("SubjectConfirmationData")
            .attr("NotOnOrAfter", time::format(g.now + ttl))
            .attr("Recipient", g.acs_url);
        if let Some(id) = g.in_response_to {
            confirmation_data = confirmation_data.attr("InResponseTo", id);
        }
        let value = self.name_id_value(keys, g.format, g.sp, g.user, &g.session.id)?;
        let subject = saml("Subject").child(name_id(self, g.sp, g.format, &value)).child(
            saml("SubjectConfirmation")
                .attr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
                .child(confirmation_data),
        );
        let conditions = saml("Conditions")
            .attr("NotBefore", time::format(g.now))
            .attr("NotOnOrAfter", time::format(g.now + ttl))
            .child(saml("AudienceRestriction").child(saml("Audience").text(g.sp.entity_id.as_str())));
        let class = super::context::assertion_class(g.requested, self.https(), g.session.has_second_factor());
        let authn = saml("AuthnStatement")
            .attr("AuthnInstant", time::format(g.session.auth_time))
            .attr("SessionIndex", g.session.id.as_str())
            .attr("SessionNotOnOrAfter", time::format(g.session.expires_at))
            .child(saml("AuthnContext").child(saml("AuthnContextClassRef").text(class)));
        let mut assertion = saml("Assertion")
            .attr("ID", new_id())
            .attr("Version", "2.0")
            .attr("IssueInstant", time::format(g.now))
            .child(saml("Issuer").text(self.entity_id.as_str()))
            .child(subject)
            .child(conditions)
            .child(authn);
        let attributes = g.sp.attributes(g.user);
        if !attributes.is_empty() {
            let mut statement = saml("AttributeStatement");
            for a in attributes {
                let mut attribute = saml("Attribute")
                    .attr("Name", a.name)
                    .attr("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
                    .attr("FriendlyName", a.friendly_name);
                for v in a.values {
                    attribute = attribute.child(saml("AttributeValue").text(v));
                }
                statement = statement.child(attribute);
            }
            assertion = assertion.child(statement);
        }
        let (key, cert) = self.credential(keys)?;
        // Schema order: Issuer, Signature, Subject, …
        sign(&mut assertion, 1, key, &cert)?;
        let mut response = self.response_shell(g.in_response_to, g.acs_url, g.now, &[status::SUCCESS]).child(assertion);
        if self.config.sign_response {
            sign(&mut response, 1, key, &cert)?;
        }
        Ok(super::c14n::canonicalize(&response, None, &[]))
    }

    /// A signed Response without an assertion, reporting `code` (top-level status first, then the second-level one).
    pub fn status_response(
        &self,
        keys: &KeySet,
        in_response_to: Option<&str>,
        acs_url: &str,
        now: u64,
        code: &[&str],
    ) -> Result<String, Error> {
        let mut response = self.response_shell(in_response_to, acs_url, now, code);
        let (key, cert) = self.credential(keys)?;
        sign(&mut response, 1, key, &cert)?;
        Ok(super::c14n::canonicalize(&response, None, &[]))
    }
}
