//! Property tests: every parser of SAML input from outside (the XML reader, both bindings, SP metadata,
//! certificates, timestamps, and the whole receive path of each message kind) takes arbitrary and mangled input
//! and answers with a value or an error, never a panic.

use proptest::prelude::*;

use super::binding::{RedirectQuery, decode_post, decode_redirect, encode_post, encode_redirect};
use super::cert::{VerifyingKey, pem_certificates};
use super::{Inbound, Saml, metadata, time, xml};
use crate::config::saml::{SamlConfig, ServiceProviderConfig};
use crate::keys::{Alg, KeySet};

const SP: &str = "https://vanban/sp";
const NOW: u64 = 1_795_886_563;

fn idp() -> (Saml, KeySet) {
    let dir = std::env::temp_dir().join(format!("danang-sso-props-{}", crate::oidc::random_id()));
    let keys = KeySet::load_or_create(&dir, Alg::RS256).unwrap();
    let cert = include_str!("testdata/x509v1.crt").to_owned();
    let sp = ServiceProviderConfig {
        entity_id: SP.into(),
        acs_urls: vec!["https://vanban/acs".into()],
        slo_url: Some("https://vanban/slo".into()),
        certificate: Some(cert),
        ..Default::default()
    };
    let config = SamlConfig { service_providers: vec![sp], ..Default::default() };
    (Saml::new(&config, "https://sso", &keys).unwrap(), keys)
}

/// Valid-looking messages of each kind, as starting points for mangling.
fn seeds() -> Vec<String> {
    let head = |name: &str, extra: &str| {
        format!(
            r#"<samlp:{name} xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-11-28T17:22:40Z" {extra}><saml:Issuer>{SP}</saml:Issuer>"#
        )
    };
    vec![
        format!(
            r#"{}<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" AllowCreate="true"/></samlp:AuthnRequest>"#,
            head("AuthnRequest", r#"Destination="https://sso/saml/sso" ForceAuthn="false""#)
        ),
        format!(
            r#"{}<saml:NameID>dungnv@danang.gov.vn</saml:NameID><samlp:SessionIndex>s</samlp:SessionIndex></samlp:LogoutRequest>"#,
            head("LogoutRequest", r#"NotOnOrAfter="2026-11-28T17:30:00+07:00""#)
        ),
        format!(
            r#"{}<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#,
            head("LogoutResponse", r#"InResponseTo="_x.1.AAAA""#)
        ),
        r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;&#x41;&lt;<![CDATA[c]]><!-- c --><?pi x?></x>"#.into(),
    ]
}

/// A seed with random bytes replaced, inserted or removed.
fn mangled() -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..12);
    (prop::sample::select(seeds()), edits).prop_map(|(seed, edits)| {
        let mut bytes = seed.into_bytes();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ => {}
            }
        }
        bytes
    })
}

/// Markup-shaped text: tags, attributes, references and text in any order.
fn markup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "<[a-zA-Z:_]{0,6}( [a-zA-Z:]{1,6}=\"[^\"<]{0,6}\"){0,3}/?>",
            "</[a-zA-Z:]{0,6}>",
            "&[a-z#x0-9]{0,6};?",
            "[^<&]{0,8}",
            Just("<![CDATA[".to_owned()),
            Just("]]>".to_owned()),
            Just("<!DOCTYPE".to_owned()),
            Just("xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"".to_owned()),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

/// Every receive path, for a message that arrived by either binding.
fn receive_all(saml: &Saml, keys: &KeySet, xml_bytes: &[u8]) {
    let text = String::from_utf8_lossy(xml_bytes);
    let redirect_value: String = url::form_urlencoded::byte_serialize(encode_redirect(&text).as_bytes()).collect();
    let mut inbound = vec![Inbound::Post { message: encode_post(&text), relay_state: Some("r".into()) }];
    for key in ["SAMLRequest", "SAMLResponse"] {
        let query = format!("{key}={redirect_value}&RelayState=r&SigAlg=x&Signature=AAAA");
        if let Ok(q) = RedirectQuery::parse(&query) {
            inbound.push(Inbound::Redirect(q));
        }
    }
    for message in &inbound {
        let _ = saml.authn_request(message, NOW);
        let _ = saml.logout_request(message, NOW);
        let _ = saml.logout_response(keys, message, NOW);
        let _ = saml.claimed_sp(message);
    }
    let _ = metadata::parse_sp(xml_bytes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_xml_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512), text in markup()) {
        let _ = xml::parse(&bytes);
        if let Ok(root) = xml::parse(text.as_bytes()) {
            let _ = super::c14n::canonicalize(&root, None, &[]);
        }
    }

    #[test]
    fn mangled_messages_are_refused_or_read_without_panicking(bytes in mangled(), text in markup()) {
        IDP.with(|(saml, keys)| {
            receive_all(saml, keys, &bytes);
            receive_all(saml, keys, text.as_bytes());
        });
    }

    #[test]
    fn the_bindings_never_panic(
        text in "\\PC{0,300}",
        query in "([A-Za-z%+=&0-9]{0,12}){0,12}",
        bytes in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        for value in [text.as_str(), query.as_str(), b64.as_str()] {
            let _ = decode_redirect(value);
            let _ = decode_post(value);
        }
        let keys = pem_certificates(include_str!("testdata/x509v1.crt"))
            .iter()
            .filter_map(|der| VerifyingKey::from_certificate(der).ok())
            .collect::<Vec<_>>();
        for q in [text.as_str(), query.as_str()] {
            if let Ok(parsed) = RedirectQuery::parse(q) {
                let _ = parsed.verify("SAMLRequest", &keys, true);
                let _ = parsed.get("SAMLRequest").map(|v| decode_redirect(&v));
            }
        }
    }

    #[test]
    fn certificates_and_times_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        time_text in "[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}T[0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}(\\.[0-9]{0,12})?(Z|[+-][0-9]{1,3}:[0-9]{1,3})?",
        any_text in "\\PC{0,40}",
    ) {
        let _ = VerifyingKey::from_certificate(&bytes);
        let mut cert = pem_certificates(include_str!("testdata/x509v1.crt")).remove(0);
        for (at, byte) in edits {
            let i = at.index(cert.len());
            cert[i] = byte;
        }
        let _ = VerifyingKey::from_certificate(&cert);
        let _ = time::parse(&time_text);
        let _ = time::parse(&any_text);
        let _ = crate::calendar::Day::parse(&any_text);
        let _ = crate::calendar::parse_rfc3339_utc(&time_text);
    }
}

thread_local! {
    /// One identity provider per test thread: making its RSA key is the slow part.
    static IDP: (Saml, KeySet) = idp();
}
