//! The registered service providers, resolved once at start from `[[saml.service_providers]]` (and the metadata
//! files they name), and what an SP is given: its NameID and attributes.

use std::collections::HashMap;
use std::sync::Arc;

use super::NameIdFormat;
use super::cert::{VerifyingKey, pem_certificates};
use super::metadata::parse_sp;
use crate::config::saml::{ATTRIBUTE_NAMES, ServiceProviderConfig};
use crate::directory::User;

/// A service provider as the protocol code uses it.
#[derive(Debug, Clone)]
pub struct ServiceProvider {
    pub entity_id: String,
    pub name: String,
    /// HTTP-POST ACS URLs; the first is the default.
    pub acs_urls: Vec<String>,
    pub slo_url: Option<String>,
    pub slo_response_url: Option<String>,
    pub keys: Vec<VerifyingKey>,
    pub name_id_format: NameIdFormat,
    /// The names (from [`ATTRIBUTE_NAMES`]) released to this SP.
    pub attributes: Vec<String>,
    pub want_authn_requests_signed: bool,
    /// Two factors for everyone signing in to this SP.
    pub require_mfa: bool,
}

/// A released attribute: its SAML name (an OID, `uri` name format), friendly name, and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: &'static str,
    pub friendly_name: &'static str,
    pub values: Vec<String>,
}

impl ServiceProvider {
    /// Resolves one configured SP: the config's own fields first, then its metadata for what they leave unset.
    pub fn from_config(c: &ServiceProviderConfig) -> Result<ServiceProvider, String> {
        let meta = match &c.metadata_file {
            Some(path) => {
                let xml = std::fs::read(path).map_err(|e| format!("metadata_file {}: {e}", path.display()))?;
                Some(parse_sp(&xml).map_err(|e| format!("metadata_file {}: {e}", path.display()))?)
            }
            None => None,
        };
        let entity_id = match (&c.entity_id, &meta) {
            (id, _) if !id.is_empty() => id.clone(),
            (_, Some(m)) => m.entity_id.clone(),
            _ => return Err("entity_id is required".into()),
        };
        let acs_urls = match (&c.acs_urls, &meta) {
            (urls, _) if !urls.is_empty() => urls.clone(),
            (_, Some(m)) if !m.acs_urls.is_empty() => m.acs_urls.clone(),
            _ => return Err(format!("{entity_id}: no HTTP-POST AssertionConsumerService URL")),
        };
        let pem = match (&c.certificate, &c.certificate_file) {
            (Some(text), _) => text.clone(),
            (None, Some(path)) => {
                std::fs::read_to_string(path).map_err(|e| format!("certificate_file {}: {e}", path.display()))?
            }
            (None, None) => meta.as_ref().map(|m| m.certificates.join("")).unwrap_or_default(),
        };
        let keys = pem_certificates(&pem)
            .iter()
            .map(|der| VerifyingKey::from_certificate(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{entity_id}: certificate: {e}"))?;
        if !pem.trim().is_empty() && keys.is_empty() {
            return Err(format!("{entity_id}: certificate is not a PEM certificate"));
        }
        let name_id_format = match c.name_id_format.as_deref() {
            Some(name) => NameIdFormat::from_config_name(name)
                .ok_or_else(|| format!("{entity_id}: name_id_format must be emailAddress, persistent or transient"))?,
            None => meta.as_ref().and_then(|m| m.name_id_format).unwrap_or(NameIdFormat::Email),
        };
        let want_authn_requests_signed = c
            .want_authn_requests_signed
            .or_else(|| meta.as_ref().and_then(|m| m.authn_requests_signed))
            .unwrap_or(false);
        if want_authn_requests_signed && keys.is_empty() {
            return Err(format!("{entity_id}: signed requests are wanted but no certificate is given"));
        }
        Ok(ServiceProvider {
            name: c.name.clone().unwrap_or_else(|| entity_id.clone()),
            acs_urls,
            slo_url: c.slo_url.clone().or_else(|| meta.as_ref().and_then(|m| m.slo_url.clone())),
            slo_response_url: c
                .slo_response_url
                .clone()
                .or_else(|| meta.as_ref().and_then(|m| m.slo_response_url.clone())),
            keys,
            name_id_format,
            attributes: c
                .attributes
                .clone()
                .unwrap_or_else(|| ATTRIBUTE_NAMES.iter().map(|s| (*s).to_owned()).collect()),
            want_authn_requests_signed,
            require_mfa: c.require_mfa,
            entity_id,
        })
    }

    /// The attributes released to this SP, with names from the LDAP/eduPerson OIDs (SAML2Int's `uri` format).
    pub fn attributes(&self, user: &User) -> Vec<Attribute> {
        let mut out = Vec::new();
        for wanted in &self.attributes {
            let (name, friendly_name, values): (&str, &str, Vec<String>) = match wanted.as_str() {
                "mail" => ("urn:oid:0.9.2342.19200300.100.1.3", "mail", vec![user.mail.clone()]),
                "displayName" => ("urn:oid:2.16.840.1.113730.3.1.241", "displayName", vec![user.name.clone()]),
                "givenName" => ("urn:oid:2.5.4.42", "givenName", user.given_name.iter().cloned().collect()),
                "sn" => ("urn:oid:2.5.4.4", "sn", user.family_name.iter().cloned().collect()),
                "groups" => ("urn:oid:1.3.6.1.4.1.5923.1.5.1.1", "isMemberOf", user.groups.clone()),
                "unit" => ("urn:oid:2.5.4.11", "ou", user.unit.iter().cloned().collect()),
                _ => continue,
            };
            if !values.is_empty() {
                out.push(Attribute { name, friendly_name, values });
            }
        }
        out
    }
}

/// The `[[saml.service_providers]]` TOML entry for an SP's metadata (`danang-sso saml sp-add`): everything
/// inline, so the entry stands on its own; check `name` and `attributes` before using it.
pub fn config_entry(metadata_xml: &[u8], name: Option<String>) -> Result<String, String> {
    let m = parse_sp(metadata_xml)?;
    if m.acs_urls.is_empty() {
        return Err("the metadata has no HTTP-POST AssertionConsumerService".into());
    }
    let entry = ServiceProviderConfig {
        entity_id: m.entity_id,
        name,
        acs_urls: m.acs_urls,
        slo_url: m.slo_url,
        slo_response_url: m.slo_response_url,
        certificate: (!m.certificates.is_empty()).then(|| m.certificates.concat()),
        name_id_format: Some(m.name_id_format.unwrap_or(NameIdFormat::Email).config_name().into()),
        want_authn_requests_signed: m.authn_requests_signed,
        ..Default::default()
    };
    ServiceProvider::from_config(&entry)?;
    #[derive(serde::Serialize)]
    struct Saml {
        service_providers: Vec<ServiceProviderConfig>,
    }
    #[derive(serde::Serialize)]
    struct File {
        saml: Saml,
    }
    toml::to_string(&File { saml: Saml { service_providers: vec![entry] } }).map_err(|e| e.to_string())
}

/// Every registered SP, by entity id.
#[derive(Debug, Default)]
pub struct ServiceProviders {
    by_id: HashMap<String, Arc<ServiceProvider>>,
}

impl ServiceProviders {
    pub fn new(configs: &[ServiceProviderConfig]) -> Result<ServiceProviders, String> {
        let mut by_id = HashMap::new();
        for (i, c) in configs.iter().enumerate() {
            let sp = ServiceProvider::from_config(c).map_err(|e| format!("service_providers[{i}]: {e}"))?;
            if by_id.insert(sp.entity_id.clone(), Arc::new(sp)).is_some() {
                return Err(format!("service_providers[{i}]: entity_id registered twice"));
            }
        }
        Ok(ServiceProviders { by_id })
    }

    pub fn get(&self, entity_id: &str) -> Option<&Arc<ServiceProvider>> {
        self.by_id.get(entity_id)
    }

    /// Every registered SP, by entity id (for the console's list of apps).
    pub fn all(&self) -> impl Iterator<Item = &Arc<ServiceProvider>> {
        let mut all: Vec<_> = self.by_id.values().collect();
        all.sort_by(|a, b| a.entity_id.cmp(&b.entity_id));
        all.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::MailboxKind;

    #[test]
    fn releases_the_configured_attributes_under_their_oids() {
        let config = ServiceProviderConfig {
            entity_id: "https://sp".into(),
            acs_urls: vec!["https://sp/acs".into()],
            name_id_format: Some("persistent".into()),
            attributes: Some(vec!["displayName".into(), "groups".into(), "sn".into()]),
            ..Default::default()
        };
        let sp = ServiceProvider::from_config(&config).unwrap();
        let user = User {
            id: "b563".into(),
            mail: "dungnv@danang.gov.vn".into(),
            name: "Nguyễn Văn Dũng".into(),
            given_name: None,
            family_name: None,
            groups: vec!["can-bo".into(), "lanh-dao".into()],
            unit: None,
            kind: MailboxKind::Personal,
        };
        assert_eq!(sp.name_id_format, NameIdFormat::Persistent);
        let attrs = sp.attributes(&user);
        assert_eq!(attrs.len(), 2, "sn has no value, so it is left out");
        assert_eq!(attrs[0].values, ["Nguyễn Văn Dũng"]);
        assert_eq!((attrs[1].friendly_name, attrs[1].values.len()), ("isMemberOf", 2));
        let signed = ServiceProviderConfig { want_authn_requests_signed: Some(true), ..config };
        assert!(ServiceProvider::from_config(&signed).is_err(), "signed requests need a certificate");
    }

    #[test]
    fn sp_add_writes_an_entry_the_config_reads_back() {
        let (_, _, cert) = crate::saml::cert::tests::key_and_cert();
        let metadata = format!(
            r#"<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp/x"><SPSSODescriptor
            AuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor
            use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{}</X509Certificate>
            </X509Data></KeyInfo></KeyDescriptor><AssertionConsumerService index="0"
            Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp/acs"/></SPSSODescriptor>
            </EntityDescriptor>"#,
            crate::saml::cert::base64(&cert)
        );
        let entry = config_entry(metadata.as_bytes(), Some("Văn bản".into())).unwrap();
        assert!(entry.contains("[[saml.service_providers]]"), "{entry}");
        let config: crate::config::Config =
            figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(&entry))
                .extract()
                .unwrap();
        let sp = ServiceProvider::from_config(&config.saml.service_providers[0]).unwrap();
        assert_eq!((sp.entity_id.as_str(), sp.name.as_str()), ("https://sp/x", "Văn bản"));
        assert_eq!(sp.acs_urls, ["https://sp/acs"]);
        assert!(sp.want_authn_requests_signed && sp.keys.len() == 1);
    }
}
