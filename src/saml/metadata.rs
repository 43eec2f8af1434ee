//! SAML metadata: the document describing us that SPs import (`/saml/metadata`), and the reading of an SP's
//! own metadata (for `metadata_file` and `danang-sso saml sp-add`).

use super::binding::{POST, REDIRECT};
use super::c14n::canonicalize;
use super::cert::{from_base64, to_pem};
use super::xml::{Element, parse};
use super::{NameIdFormat, ns};

/// What an SP's metadata says about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpMetadata {
    pub entity_id: String,
    /// HTTP-POST AssertionConsumerService locations, the default first.
    pub acs_urls: Vec<String>,
    /// HTTP-Redirect SingleLogoutService: `Location` and `ResponseLocation`.
    pub slo_url: Option<String>,
    pub slo_response_url: Option<String>,
    /// Signing certificates, PEM.
    pub certificates: Vec<String>,
    pub authn_requests_signed: Option<bool>,
    /// The first NameIDFormat it lists that we can give.
    pub name_id_format: Option<NameIdFormat>,
}

/// Our IdP metadata: entityID, a signing KeyDescriptor per certificate, SSO and SLO over both bindings.
pub fn idp(entity_id: &str, issuer: &str, certificates: &[Vec<u8>]) -> String {
    let md = |name: &str| Element::new("md", ns::METADATA, name);
    let endpoint = |name: &str, binding: &str, path: &str| {
        md(name).attr("Binding", binding).attr("Location", format!("{issuer}{path}"))
    };
    let mut descriptor = md("IDPSSODescriptor")
        .attr("WantAuthnRequestsSigned", "false")
        .attr("protocolSupportEnumeration", ns::PROTOCOL);
    for der in certificates {
        let x509 = Element::new("ds", ns::DSIG, "X509Certificate").text(super::cert::base64(der));
        let data = Element::new("ds", ns::DSIG, "X509Data").child(x509);
        let info = Element::new("ds", ns::DSIG, "KeyInfo").child(data);
        descriptor = descriptor.child(md("KeyDescriptor").attr("use", "signing").child(info));
    }
    descriptor = descriptor.child(endpoint("SingleLogoutService", REDIRECT, super::SLO_PATH)).child(endpoint(
        "SingleLogoutService",
        POST,
        super::SLO_PATH,
    ));
    for format in NameIdFormat::ALL {
        descriptor = descriptor.child(md("NameIDFormat").text(format.urn()));
    }
    descriptor = descriptor.child(endpoint("SingleSignOnService", REDIRECT, super::SSO_PATH)).child(endpoint(
        "SingleSignOnService",
        POST,
        super::SSO_PATH,
    ));
    let root = md("EntityDescriptor").attr("entityID", entity_id).child(descriptor);
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", canonicalize(&root, None, &[]))
}

/// Reads an SP's metadata: an EntityDescriptor, or the first one with an SPSSODescriptor in an EntitiesDescriptor.
pub fn parse_sp(xml: &[u8]) -> Result<SpMetadata, String> {
    let root = parse(xml).map_err(|e| e.to_string())?;
    let entity = if root.is(ns::METADATA, "EntityDescriptor") {
        &root
    } else if root.is(ns::METADATA, "EntitiesDescriptor") {
        root.all(ns::METADATA, "EntityDescriptor")
            .find(|e| e.first(ns::METADATA, "SPSSODescriptor").is_some())
            .ok_or("no EntityDescriptor with an SPSSODescriptor")?
    } else {
        return Err("not SAML metadata (EntityDescriptor)".into());
    };
    let sp = entity.first(ns::METADATA, "SPSSODescriptor").ok_or("no SPSSODescriptor")?;
    let entity_id = entity.get("entityID").filter(|e| !e.is_empty()).ok_or("no entityID")?.to_owned();
    let mut acs: Vec<(bool, u32, usize, String)> = sp
        .all(ns::METADATA, "AssertionConsumerService")
        .enumerate()
        .filter(|(_, e)| e.get("Binding") == Some(POST))
        .filter_map(|(i, e)| {
            let index = e.get("index").and_then(|x| x.parse().ok()).unwrap_or(u32::MAX);
            Some((e.get("isDefault") != Some("true"), index, i, e.get("Location")?.to_owned()))
        })
        .collect();
    acs.sort();
    let slo = sp.all(ns::METADATA, "SingleLogoutService").find(|e| e.get("Binding") == Some(REDIRECT));
    let certificates = sp
        .all(ns::METADATA, "KeyDescriptor")
        .filter(|k| matches!(k.get("use"), None | Some("signing")))
        .filter_map(|k| k.first(ns::DSIG, "KeyInfo")?.first(ns::DSIG, "X509Data"))
        .flat_map(|d| d.all(ns::DSIG, "X509Certificate"))
        .filter_map(|c| from_base64(&c.text_content()))
        .map(|der| to_pem(&der))
        .collect();
    let name_id_format = sp.all(ns::METADATA, "NameIDFormat").find_map(|f| NameIdFormat::from_urn(&f.text_content()));
    Ok(SpMetadata {
        entity_id,
        acs_urls: acs.into_iter().map(|(.., url)| url).collect(),
        slo_url: slo.and_then(|e| e.get("Location")).map(str::to_owned),
        slo_response_url: slo.and_then(|e| e.get("ResponseLocation")).map(str::to_owned),
        certificates,
        authn_requests_signed: sp.get("AuthnRequestsSigned").map(|v| v == "true" || v == "1"),
        name_id_format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SP: &str = r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://vanban.danang.gov.vn/saml">
  <md:SPSSODescriptor AuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
      MIIB
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp/slo-post"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sp/slo" ResponseLocation="https://sp/slo-done"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://sp/art" index="0"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp/acs2" index="2"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp/acs1" index="1" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#;

    #[test]
    fn reads_an_sp_metadata_file() {
        let m = parse_sp(SP.as_bytes()).unwrap();
        assert_eq!(m.entity_id, "https://vanban.danang.gov.vn/saml");
        assert_eq!(m.acs_urls, ["https://sp/acs1", "https://sp/acs2"]);
        assert_eq!(m.slo_url.as_deref(), Some("https://sp/slo"));
        assert_eq!(m.slo_response_url.as_deref(), Some("https://sp/slo-done"));
        assert_eq!(m.certificates.len(), 1, "the encryption key is not a signing key");
        assert!(m.certificates[0].contains("MIIB"));
        assert_eq!(m.authn_requests_signed, Some(true));
        assert_eq!(m.name_id_format, Some(NameIdFormat::Transient), "the first format named, as lasso reads it");
        assert!(parse_sp(b"<r/>").is_err());
    }

    #[test]
    fn our_metadata_names_both_bindings_and_the_key() {
        let xml = idp("https://sso/saml/metadata", "https://sso", &[vec![1, 2, 3]]);
        let root = parse(xml.as_bytes()).unwrap();
        assert_eq!(root.get("entityID"), Some("https://sso/saml/metadata"));
        let d = root.first(ns::METADATA, "IDPSSODescriptor").unwrap();
        let sso: Vec<_> = d.all(ns::METADATA, "SingleSignOnService").map(|e| e.get("Binding").unwrap()).collect();
        assert_eq!(sso, [REDIRECT, POST]);
        assert!(xml.contains("<ds:X509Certificate>AQID</ds:X509Certificate>"));
        assert!(xml.contains(r#"Location="https://sso/saml/slo""#));
    }
}
