//! What `danang-sso saml sp-add` tells the operator besides the config entry: what the SP will get (NameID,
//! attributes, logout) and a warning for everything in its metadata the IdP would refuse or handle differently
//! from what the SP's administrator may expect. Printed on stderr, so the entry on stdout stays valid TOML.

use super::metadata::parse_sp;
use super::sp::ServiceProvider;
use super::xml::parse;
use super::{NameIdFormat, UNSPECIFIED, ns};
use crate::config::saml::ATTRIBUTE_NAMES;

/// Lines for the operator: `note: …` for what the SP gets, `warning: …` for what will be refused or surprising.
pub fn notes(metadata_xml: &[u8]) -> Result<Vec<String>, String> {
    let m = parse_sp(metadata_xml)?;
    let root = parse(metadata_xml).map_err(|e| e.to_string())?;
    let listed: Vec<String> = root
        .first(ns::METADATA, "SPSSODescriptor")
        .map(|d| d.all(ns::METADATA, "NameIDFormat").map(|f| f.text_content().trim().to_owned()).collect())
        .unwrap_or_default();
    let format = m.name_id_format.unwrap_or(NameIdFormat::Email);
    let mut out = vec![format!(
        "note: NameID {} ({}); an SP asking for transient gets transient, an SP asking for unspecified gets this",
        format.config_name(),
        match format {
            NameIdFormat::Email => "the mailbox, e.g. dungnv@danang.gov.vn",
            NameIdFormat::Persistent => "the directory's stable id, the `sub` OIDC apps see",
            NameIdFormat::Transient => "opaque, new for every sign-in session",
        }
    )];
    out.push(format!(
        "note: attributes {} (names urn:oid:…, FriendlyName as listed; narrow them with `attributes`)",
        ATTRIBUTE_NAMES.join(", ")
    ));
    match listed.first().map(String::as_str) {
        None => out.push(
            "note: the metadata lists no NameIDFormat: lasso-based SPs (mod_auth_mellon) then ask for transient, \
             which they get; mellon knows attributes by their SAML name, so for the mailbox as the app's user: \
             MellonUser \"urn:oid:0.9.2342.19200300.100.1.3\""
                .into(),
        ),
        Some(first) if NameIdFormat::from_urn(first).is_none() && first != UNSPECIFIED => out.push(format!(
            "warning: its first NameIDFormat {first} is not offered: a request for it gets InvalidNameIDPolicy"
        )),
        _ => {}
    }
    for other in listed.iter().skip(1) {
        if NameIdFormat::from_urn(other).is_some_and(|f| f != format && f != NameIdFormat::Transient) {
            out.push(format!(
                "warning: a request for {other} gets InvalidNameIDPolicy unless name_id_format is changed to it"
            ));
        }
    }
    if m.certificates.is_empty() {
        out.push(
            "warning: no signing certificate: its LogoutRequests cannot be verified, so every logout it starts \
             is confirmed by the person on a page first"
                .into(),
        );
    } else {
        out.push(
            "note: an unsigned LogoutRequest (SimpleSAMLphp's default) is confirmed by the person on a page first; \
             a signed one ends the session at once"
                .into(),
        );
    }
    match (&m.slo_url, m.acs_urls.is_empty()) {
        (_, true) => out.push("warning: no HTTP-POST AssertionConsumerService: the SP cannot be registered".into()),
        (None, _) => out.push(
            "warning: no HTTP-Redirect SingleLogoutService: it is not told when the person signs out elsewhere".into(),
        ),
        _ => {}
    }
    Ok(out)
}

/// A resolved SP (for the tests' and the CLI's sanity): `notes` describes exactly this.
pub fn resolves(entry_toml: &str) -> Result<ServiceProvider, String> {
    let config: crate::config::Config =
        figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(entry_toml))
            .extract()
            .map_err(|e| e.to_string())?;
    let sp = config.saml.service_providers.first().ok_or("no [[saml.service_providers]] entry")?;
    ServiceProvider::from_config(sp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mellon_metadata_gets_transient_and_a_note() {
        let cert = include_str!("testdata/x509v1.crt").lines().filter(|l| !l.starts_with("-----")).collect::<String>();
        let xml = format!(
            r#"<EntityDescriptor entityID="https://sp.example/mellon" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"
            xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><SPSSODescriptor AuthnRequestsSigned="true"
            protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing"><ds:KeyInfo>
            <ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>
            <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
            Location="https://sp.example/mellon/logout"/><AssertionConsumerService index="0" isDefault="true"
            Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/mellon/postResponse"/>
            </SPSSODescriptor></EntityDescriptor>"#
        );
        let notes = notes(xml.as_bytes()).unwrap();
        assert!(notes.iter().any(|n| n.contains("lists no NameIDFormat")), "{notes:?}");
        // `MellonUser "mail"` makes mellon answer 500 (tests/it/saml_mellon.rs): it needs the SAML name.
        assert!(notes.iter().any(|n| n.ends_with(r#"MellonUser "urn:oid:0.9.2342.19200300.100.1.3""#)), "{notes:?}");
        assert!(!notes.iter().any(|n| n.starts_with("warning")), "{notes:?}");
        let entry = super::super::sp::config_entry(xml.as_bytes(), None).expect("an X.509 v1 certificate is fine");
        let sp = resolves(&entry).unwrap();
        assert_eq!((sp.keys.len(), sp.want_authn_requests_signed), (1, true));

        let unsigned = xml.replace(&cert, "").replace("<KeyDescriptor use=\"signing\">", "<KeyDescriptor use=\"x\">");
        let unsigned = unsigned.replace("AuthnRequestsSigned=\"true\"", "");
        let notes = notes_of(&unsigned);
        assert!(notes.iter().any(|n| n.starts_with("warning: no signing certificate")), "{notes:?}");
        let kerberos = xml.replace(
            "<SingleLogoutService",
            "<NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos</NameIDFormat><SingleLogoutService",
        );
        assert!(notes_of(&kerberos).iter().any(|n| n.contains("kerberos is not offered")));
    }

    fn notes_of(xml: &str) -> Vec<String> {
        notes(xml.as_bytes()).unwrap()
    }
}
