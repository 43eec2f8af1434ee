//! Signature round trips and the refusals that keep signature wrapping out.

use super::*;
use crate::keys::{Alg, KeySet};
use crate::saml::cert::VerifyingKey;
use crate::saml::xml::parse;

/// A key set in a fresh directory, and the verifying key of its RS256 certificate.
fn keys() -> (KeySet, Vec<u8>, VerifyingKey, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("danang-sso-dsig-{}", crate::oidc::random_id()));
    let set = KeySet::load_or_create(&dir, Alg::RS256).unwrap();
    let cert = crate::saml::cert::ensure(set.signing_key(Alg::RS256).unwrap()).unwrap();
    let vk = VerifyingKey::from_certificate(&cert).unwrap();
    (set, cert, vk, dir)
}

fn message() -> Element {
    Element::new("samlp", ns::PROTOCOL, "LogoutRequest")
        .attr("ID", "_abc")
        .attr("Version", "2.0")
        .child(Element::new("saml", ns::ASSERTION, "Issuer").text("https://sp"))
        .child(Element::new("saml", ns::ASSERTION, "NameID").text("dungnv@danang.gov.vn & Dũng <x>"))
}

/// Signs the message and returns it as the bytes a peer would receive.
fn signed(set: &KeySet, cert: &[u8]) -> String {
    let mut el = message();
    sign(&mut el, 1, set.signing_key(Alg::RS256).unwrap(), cert).unwrap();
    canonicalize(&el, None, &[])
}

#[test]
fn a_signature_round_trips_and_breaks_on_any_change() {
    let (set, cert, vk, dir) = keys();
    let xml = signed(&set, &cert);
    let root = parse(xml.as_bytes()).unwrap();
    assert_eq!(verify(&root, std::slice::from_ref(&vk), false), Ok(true));
    assert_eq!(
        verify(&parse(canonicalize(&message(), None, &[]).as_bytes()).unwrap(), std::slice::from_ref(&vk), false),
        Ok(false)
    );

    let tampered = parse(xml.replace("dungnv@", "huongtt@").as_bytes()).unwrap();
    assert_eq!(verify(&tampered, std::slice::from_ref(&vk), false), Err(DsigError::Digest));
    // The same document re-indented still verifies only if whitespace is outside the signed element: here it is
    // inside, so it must not.
    let spaced = parse(xml.replace("<saml:NameID", "\n  <saml:NameID").as_bytes()).unwrap();
    assert_eq!(verify(&spaced, std::slice::from_ref(&vk), false), Err(DsigError::Digest));

    let (_, _, other_vk, other_dir) = keys();
    assert_eq!(verify(&root, &[other_vk], false), Err(DsigError::Signature));
    assert_eq!(verify(&root, &[], false), Err(DsigError::NoKey));
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(other_dir);
}

#[test]
fn wrapped_and_misshapen_signatures_are_refused() {
    let (set, cert, vk, dir) = keys();
    let xml = signed(&set, &cert);
    let vk = [vk];
    // The signature names another element than the root.
    let moved = xml.replacen("ID=\"_abc\"", "ID=\"_evil\"", 1);
    assert_eq!(
        verify(&parse(moved.as_bytes()).unwrap(), &vk, false),
        Err(DsigError::Shape("the Reference is not to the message itself"))
    );
    // The signed element hidden inside the message under the same ID, with forged content at the root.
    let inner = xml.clone();
    let wrapper = format!(
        "<samlp:LogoutRequest xmlns:samlp=\"{}\" ID=\"_abc\" Version=\"2.0\"><x>{inner}</x></samlp:LogoutRequest>",
        ns::PROTOCOL
    );
    assert_eq!(
        verify(&parse(wrapper.as_bytes()).unwrap(), &vk, false),
        Ok(false),
        "a Signature deeper down does not sign the root"
    );
    let twice = xml.replacen(
        "<saml:NameID",
        &format!("<saml:Issuer xmlns:saml=\"{}\" ID=\"_abc\"></saml:Issuer><saml:NameID", ns::ASSERTION),
        1,
    );
    assert_eq!(
        verify(&parse(twice.as_bytes()).unwrap(), &vk, false),
        Err(DsigError::Shape("the ID is not unique in the message"))
    );
    let sha1 = xml.replace(RSA_SHA256, RSA_SHA1);
    assert_eq!(verify(&parse(sha1.as_bytes()).unwrap(), &vk, false), Err(DsigError::Sha1));
    let inclusive = xml.replace(EXC_C14N, "http://www.w3.org/TR/2001/REC-xml-c14n-20010315");
    assert!(matches!(verify(&parse(inclusive.as_bytes()).unwrap(), &vk, false), Err(DsigError::Shape(_))));
    let _ = std::fs::remove_dir_all(dir);
}
