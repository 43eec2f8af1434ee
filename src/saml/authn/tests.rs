//! AuthnRequest checks, from the wire (Redirect binding) to a checked request or a refusal.

use super::*;
use crate::config::saml::{SamlConfig, ServiceProviderConfig};
use crate::keys::{Alg, KeySet};
use crate::saml::binding::{RedirectQuery, encode_redirect};
use crate::saml::xml::XmlError;

const ISSUER: &str = "https://sso.danang.gov.vn";
const NOW: u64 = 1_795_886_563;

fn idp() -> (Saml, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("danang-sso-authn-{}", crate::oidc::random_id()));
    let keys = KeySet::load_or_create(&dir, Alg::RS256).unwrap();
    let config = SamlConfig {
        service_providers: vec![ServiceProviderConfig {
            entity_id: "https://vanban/sp".into(),
            acs_urls: vec!["https://vanban/acs".into(), "https://vanban/acs2".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    (Saml::new(&config, ISSUER, &keys).unwrap(), dir)
}

fn request(attrs: &str, issuer: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1" Version="2.0"
        IssueInstant="2026-11-28T17:22:40Z" Destination="https://sso.danang.gov.vn/saml/sso" {attrs}><saml:Issuer
        xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">{issuer}</saml:Issuer><samlp:NameIDPolicy
        Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"/></samlp:AuthnRequest>"#
    )
}

fn redirect(xml: &str, relay_state: &str) -> Inbound {
    let value: String = url::form_urlencoded::byte_serialize(encode_redirect(xml).as_bytes()).collect();
    Inbound::Redirect(RedirectQuery::parse(&format!("SAMLRequest={value}&RelayState={relay_state}")).unwrap())
}

#[test]
fn a_request_from_a_registered_sp_is_checked_and_kept() {
    let (saml, dir) = idp();
    let req = saml.authn_request(&redirect(&request(r#"ForceAuthn="true""#, "https://vanban/sp"), "r%2F1"), NOW);
    let req = req.unwrap();
    assert_eq!((req.id.as_str(), req.acs_url.as_str()), ("_r1", "https://vanban/acs"), "the default ACS");
    assert_eq!(req.relay_state.as_deref(), Some("r/1"));
    assert!(req.force_authn && !req.is_passive);
    assert_eq!(req.name_id_policy.as_deref(), Some(NameIdFormat::Email.urn()));
    let by_index =
        saml.authn_request(&redirect(&request(r#"AssertionConsumerServiceIndex="1""#, "https://vanban/sp"), ""), NOW);
    assert_eq!(by_index.unwrap().acs_url, "https://vanban/acs2");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn refusals() {
    let (saml, dir) = idp();
    let check = |xml: &str| saml.authn_request(&redirect(xml, ""), NOW).unwrap_err();
    let sp = "https://vanban/sp";
    assert!(matches!(
        check(&request(r#"AssertionConsumerServiceURL="https://evil/acs""#, sp)),
        SamlError::UnregisteredAcs
    ));
    assert!(matches!(check(&request(r#"AssertionConsumerServiceIndex="7""#, sp)), SamlError::UnregisteredAcs));
    assert!(matches!(check(&request("", "https://stranger/sp")), SamlError::UnknownSp(_)));
    let artifact = r#"ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact""#;
    assert!(matches!(check(&request(artifact, sp)), SamlError::Invalid(_)));
    let stale = request("", sp).replace("2026-11-28T17:22:40Z", "2026-11-28T16:00:00Z");
    assert!(matches!(check(&stale), SamlError::Invalid(_)));
    let elsewhere = request("", sp).replace("sso.danang.gov.vn/saml/sso", "other/saml/sso");
    assert!(matches!(check(&elsewhere), SamlError::Invalid(_)));
    let doctype = format!("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}", request("", sp));
    assert!(matches!(check(&doctype), SamlError::Xml(XmlError::Doctype)));
    let bogus_signature = Inbound::Redirect(
        RedirectQuery::parse(&format!(
            "SAMLRequest={}&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature=AAAA",
            url::form_urlencoded::byte_serialize(encode_redirect(&request("", sp)).as_bytes()).collect::<String>()
        ))
        .unwrap(),
    );
    let signed_without_key = saml.authn_request(&bogus_signature, NOW).unwrap_err();
    assert!(matches!(signed_without_key, SamlError::Signature(_)), "a signature is checked or refused, never ignored");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_requested_authn_context_naming_the_refeds_mfa_profile_asks_for_two_factors() {
    let (saml, dir) = idp();
    let with_context = |comparison: &str, class: &str| {
        let context = format!(
            r#"<samlp:RequestedAuthnContext {comparison}><saml:AuthnContextClassRef
            xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">{class}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"#
        );
        let xml = request("", "https://vanban/sp")
            .replace("</samlp:AuthnRequest>", &format!("{context}</samlp:AuthnRequest>"));
        saml.authn_request(&redirect(&xml, ""), NOW).unwrap().wants_mfa
    };
    let mfa = crate::mfa::ACR_MFA;
    assert!(with_context("", mfa), "exact, the default");
    assert!(with_context(r#"Comparison="minimum""#, &format!(" {mfa}\n")));
    // Nothing we earn is stronger than two factors: not a step-up but NoAuthnContext (see saml::context).
    assert!(!with_context(r#"Comparison="better""#, mfa));
    let sfa = crate::mfa::ACR_SFA;
    assert!(with_context(r#"Comparison="better""#, sfa), "better than one factor is two");
    assert!(!with_context(r#"Comparison="maximum""#, mfa), "no stronger than two factors");
    let password = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
    assert!(!with_context("", password));
    let plain = saml.authn_request(&redirect(&request("", "https://vanban/sp"), ""), NOW).unwrap();
    assert!(!plain.wants_mfa, "no RequestedAuthnContext");
    let _ = std::fs::remove_dir_all(dir);
}
