//! `RequestedAuthnContext` (SAML Core §3.3.2.2.1): which authentication context class an SP asks for, and
//! whether we can give it — pure decisions, unit-tested.
//!
//! The classes this IdP can earn, weakest first: `Password` (the password over plain http, the demo),
//! `PasswordProtectedTransport` and the REFEDS single-factor profile (the password, over https for the former),
//! and the REFEDS MFA profile (`https://refeds.org/profile/mfa`: password and a second factor — the step-up).
//! `exact` needs one of the named classes, `minimum` one at least as strong as the weakest named, `better` a
//! stronger one, `maximum` one no stronger than the strongest named. A request we cannot meet is answered with
//! the `NoAuthnContext` status at the SP's ACS; the assertion carries the class actually used.

use serde::{Deserialize, Serialize};

use super::xml::Element;
use super::{SamlError, ns};
use crate::mfa::{ACR_MFA, ACR_SFA};

pub const PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password";
pub const PASSWORD_PROTECTED_TRANSPORT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    Exact,
    Minimum,
    Better,
    Maximum,
}

/// What the SP asked for: the comparison and the class references, in its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedContext {
    pub comparison: Comparison,
    pub classes: Vec<String>,
}

/// What a request needs from the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The password alone would do (two factors do too, if the session has them).
    Any,
    /// Only two factors meet it: the step-up first.
    TwoFactors,
    /// Nothing we can do meets it: `NoAuthnContext`.
    Unsatisfiable,
}

/// How strong a class is, for the classes we know (those we earn, by what they take).
fn strength(class: &str) -> Option<u8> {
    match class {
        PASSWORD => Some(1),
        PASSWORD_PROTECTED_TRANSPORT | ACR_SFA => Some(2),
        ACR_MFA => Some(3),
        _ => None,
    }
}

/// The classes a session can be asserted with, weakest first: single-factor ones (`https` decides whether the
/// transport was protected), then with `two_factors` the MFA profile.
fn earnable(https: bool, two_factors: bool) -> Vec<&'static str> {
    let mut out = vec![if https { PASSWORD_PROTECTED_TRANSPORT } else { PASSWORD }, ACR_SFA];
    if two_factors {
        out.push(ACR_MFA);
    }
    out
}

/// The `<RequestedAuthnContext>` of an AuthnRequest, if it has one.
pub fn parse(root: &Element) -> Result<Option<RequestedContext>, SamlError> {
    let Some(requested) = root.first(ns::PROTOCOL, "RequestedAuthnContext") else { return Ok(None) };
    let comparison = match requested.get("Comparison").unwrap_or("exact") {
        "exact" => Comparison::Exact,
        "minimum" => Comparison::Minimum,
        "better" => Comparison::Better,
        "maximum" => Comparison::Maximum,
        other => return Err(SamlError::Invalid(format!("RequestedAuthnContext Comparison {other:?}"))),
    };
    let classes: Vec<String> = requested
        .all(ns::ASSERTION, "AuthnContextClassRef")
        .map(|c| c.text_content().trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    // Only declaration references (AuthnContextDeclRef), which we never issue: no class can match.
    Ok(Some(RequestedContext { comparison, classes }))
}

impl RequestedContext {
    /// Whether `class` meets this request.
    fn met_by(&self, class: &str) -> bool {
        let known: Vec<u8> = self.classes.iter().filter_map(|c| strength(c)).collect();
        let Some(ours) = strength(class) else { return false };
        match self.comparison {
            Comparison::Exact => self.classes.iter().any(|c| c == class),
            Comparison::Minimum => known.iter().min().is_some_and(|&weakest| ours >= weakest),
            Comparison::Better => known.iter().min().is_some_and(|&weakest| ours > weakest),
            Comparison::Maximum => known.iter().max().is_some_and(|&strongest| ours <= strongest),
        }
    }

    /// The class to assert for a session with (or without) two factors, or `None` when none meets the request.
    /// Prefers what the session's strongest proof earns, then weaker true statements.
    pub fn class_for(&self, https: bool, two_factors: bool) -> Option<&'static str> {
        earnable(https, two_factors).into_iter().rev().find(|c| self.met_by(c))
    }

    /// What the session must bring (before anyone signs in, the step-up is decided by this).
    pub fn need(&self, https: bool) -> Need {
        match (self.class_for(https, false), self.class_for(https, true)) {
            (Some(_), _) => Need::Any,
            (None, Some(_)) => Need::TwoFactors,
            (None, None) => Need::Unsatisfiable,
        }
    }
}

/// The class an assertion carries: without a request, what the session's factors earn (the MFA profile, else
/// the password class); with one, the strongest true class that meets it.
pub fn assertion_class(requested: Option<&RequestedContext>, https: bool, two_factors: bool) -> &'static str {
    let default = if two_factors {
        ACR_MFA
    } else if https {
        PASSWORD_PROTECTED_TRANSPORT
    } else {
        PASSWORD
    };
    requested.and_then(|r| r.class_for(https, two_factors)).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(comparison: Comparison, classes: &[&str]) -> RequestedContext {
        RequestedContext { comparison, classes: classes.iter().map(|c| c.to_string()).collect() }
    }

    #[test]
    fn the_refeds_mfa_class_needs_two_factors_exact_or_minimum() {
        for c in [Comparison::Exact, Comparison::Minimum] {
            let r = asked(c, &[ACR_MFA]);
            assert_eq!(r.need(false), Need::TwoFactors, "{c:?}");
            assert_eq!(r.class_for(false, true), Some(ACR_MFA));
            assert_eq!(r.class_for(false, false), None);
        }
        // Better than the password: the MFA profile is the only stronger class over http.
        assert_eq!(asked(Comparison::Better, &[PASSWORD]).need(false), Need::Any, "REFEDS SFA is stronger");
        assert_eq!(asked(Comparison::Better, &[ACR_SFA]).need(false), Need::TwoFactors);
    }

    #[test]
    fn password_classes_are_met_by_the_password_and_truthfully_asserted() {
        let r = asked(Comparison::Exact, &[PASSWORD]);
        assert_eq!(r.need(false), Need::Any);
        assert_eq!(r.class_for(false, true), Some(PASSWORD), "a two-factor session did use the password");
        assert_eq!(asked(Comparison::Exact, &[PASSWORD_PROTECTED_TRANSPORT]).need(false), Need::Unsatisfiable);
        assert_eq!(asked(Comparison::Exact, &[PASSWORD_PROTECTED_TRANSPORT]).need(true), Need::Any);
        assert_eq!(asked(Comparison::Minimum, &[PASSWORD]).class_for(false, true), Some(ACR_MFA));
        assert_eq!(asked(Comparison::Maximum, &[ACR_SFA]).class_for(true, true), Some(ACR_SFA));
    }

    #[test]
    fn classes_we_cannot_earn_are_unsatisfiable() {
        let smartcard = "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard";
        assert_eq!(asked(Comparison::Exact, &[smartcard]).need(true), Need::Unsatisfiable);
        assert_eq!(asked(Comparison::Minimum, &[smartcard]).need(true), Need::Unsatisfiable);
        assert_eq!(asked(Comparison::Better, &[ACR_MFA]).need(true), Need::Unsatisfiable);
        assert_eq!(asked(Comparison::Exact, &[]).need(true), Need::Unsatisfiable);
        // One class we can earn among others is enough.
        assert_eq!(asked(Comparison::Exact, &[smartcard, ACR_MFA]).need(false), Need::TwoFactors);
    }

    #[test]
    fn the_assertion_says_what_was_used() {
        assert_eq!(assertion_class(None, false, false), PASSWORD);
        assert_eq!(assertion_class(None, true, false), PASSWORD_PROTECTED_TRANSPORT);
        assert_eq!(assertion_class(None, false, true), ACR_MFA);
        assert_eq!(assertion_class(Some(&asked(Comparison::Exact, &[ACR_MFA])), false, true), ACR_MFA);
        assert_eq!(assertion_class(Some(&asked(Comparison::Exact, &[ACR_SFA])), false, true), ACR_SFA);
    }

    #[test]
    fn parsed_with_the_xml_parser() {
        let xml = format!(
            r#"<samlp:AuthnRequest xmlns:samlp="{p}" xmlns:saml="{a}" ID="x"><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef> {ACR_MFA} </saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>"#,
            p = ns::PROTOCOL,
            a = ns::ASSERTION
        );
        let root = crate::saml::xml::parse(xml.as_bytes()).unwrap();
        assert_eq!(parse(&root).unwrap(), Some(asked(Comparison::Minimum, &[ACR_MFA])));
        let bad = xml.replace("minimum", "sometimes");
        let root = crate::saml::xml::parse(bad.as_bytes()).unwrap();
        assert!(matches!(parse(&root), Err(SamlError::Invalid(_))));
        let none = format!(r#"<samlp:AuthnRequest xmlns:samlp="{}" ID="x"/>"#, ns::PROTOCOL);
        assert_eq!(parse(&crate::saml::xml::parse(none.as_bytes()).unwrap()).unwrap(), None);
    }
}
