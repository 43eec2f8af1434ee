//! The `[saml]` section: the SAML 2.0 identity provider and the service providers registered with it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Names of the attributes an SP may be given (`attributes`), as the README lists them.
pub const ATTRIBUTE_NAMES: &[&str] = &["mail", "displayName", "givenName", "sn", "groups", "unit"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamlConfig {
    /// Serve `/saml/metadata`, `/saml/sso` and `/saml/slo`.
    pub enabled: bool,
    /// How long an assertion may be presented to the SP (seconds).
    pub assertion_ttl_secs: u64,
    /// Sign the whole Response too, not only the Assertion.
    pub sign_response: bool,
    /// Accept RSA-SHA1 signatures from service providers (legacy SPs only; SHA-256 otherwise).
    pub allow_sha1: bool,
    /// How far an SP's clock may be off when its requests' `IssueInstant` is checked (seconds).
    pub clock_skew_secs: u64,
    pub service_providers: Vec<ServiceProviderConfig>,
}

impl Default for SamlConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            assertion_ttl_secs: 300,
            sign_response: true,
            allow_sha1: false,
            clock_skew_secs: 180,
            service_providers: Vec::new(),
        }
    }
}

/// A registered SAML service provider. With `metadata_file`, what is not set here comes from its metadata.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceProviderConfig {
    /// The SP's entityID: the `Issuer` of its requests and the `Audience` of our assertions.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub entity_id: String,
    /// Shown on the sign-in page: "Đăng nhập để vào {name}".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// AssertionConsumerService URLs (HTTP-POST); the first is used when a request names none. Matched exactly.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acs_urls: Vec<String>,
    /// SingleLogoutService (HTTP-Redirect): where LogoutRequests go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo_url: Option<String>,
    /// Where LogoutResponses go, when not `slo_url` (metadata `ResponseLocation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo_response_url: Option<String>,
    /// The SP's signing certificate(s), PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_file: Option<PathBuf>,
    /// The SP's SAML metadata (an EntityDescriptor with an SPSSODescriptor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_file: Option<PathBuf>,
    /// `emailAddress` (the mailbox; default), `persistent` (the directory's stable id) or `transient` (opaque,
    /// per SP and SSO session). An SP asking for transient gets it whatever is set here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_id_format: Option<String>,
    /// Everyone signing in to this SP must use a second factor; its assertions then carry the REFEDS MFA class.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub require_mfa: bool,
    /// The attributes released (see [`ATTRIBUTE_NAMES`]); unset means all of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<String>>,
    /// Refuse AuthnRequests that are not signed (default: the metadata's `AuthnRequestsSigned`, else false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub want_authn_requests_signed: Option<bool>,
}

impl SamlConfig {
    /// Problems that need no file to be read; the files themselves are checked when the service is built.
    pub fn problems(&self, out: &mut Vec<ConfigError>) {
        for (i, sp) in self.service_providers.iter().enumerate() {
            let key = |k: &str| format!("saml.service_providers[{i}].{k}");
            if sp.entity_id.is_empty() && sp.metadata_file.is_none() {
                out.push(ConfigError::new(key("entity_id"), "required (or give metadata_file)"));
            }
            if sp.acs_urls.is_empty() && sp.metadata_file.is_none() {
                out.push(ConfigError::new(key("acs_urls"), "at least one URL is required (or give metadata_file)"));
            }
            let urls = sp.acs_urls.iter().chain(&sp.slo_url).chain(&sp.slo_response_url);
            for u in urls {
                if !url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.fragment().is_none()) {
                    out.push(ConfigError::new(key("acs_urls"), format!("{u}: not an absolute http(s) URL")));
                }
            }
            if sp.certificate.is_some() && sp.certificate_file.is_some() {
                out.push(ConfigError::new(key("certificate"), "give certificate or certificate_file, not both"));
            }
            if sp.name_id_format.as_deref().is_some_and(|f| !matches!(f, "emailAddress" | "persistent" | "transient")) {
                out.push(ConfigError::new(key("name_id_format"), "must be emailAddress, persistent or transient"));
            }
            for a in sp.attributes.iter().flatten() {
                if !ATTRIBUTE_NAMES.contains(&a.as_str()) {
                    out.push(ConfigError::new(
                        key("attributes"),
                        format!("{a}: one of {}", ATTRIBUTE_NAMES.join(", ")),
                    ));
                }
            }
        }
        let mut ids: Vec<&str> = self.service_providers.iter().map(|s| s.entity_id.as_str()).collect();
        ids.retain(|s| !s.is_empty());
        ids.sort();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            out.push(ConfigError::new("saml.service_providers", "entity_id must be unique"));
        }
    }
}
