//! `[[clients]]`: the registered relying parties, also loadable from a separate file.

use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::{Deserialize, Serialize};

/// A registered relying party.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ClientConfig {
    pub client_id: String,
    /// Shown on the login page: "Đăng nhập để vào {name}".
    pub name: String,
    /// argon2 PHC hash of the secret (`danang-sso hash-secret`); absent for public clients.
    pub client_secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// Defaults to `["authorization_code", "refresh_token"]`.
    pub grant_types: Vec<String>,
    /// Scopes the client may receive; empty means every supported user scope.
    pub scopes: Vec<String>,
    /// A public client (SPA, native app) has no secret and must use PKCE.
    pub public: bool,
    /// Give this client refresh tokens even when it does not ask for `offline_access`.
    pub offline_access_implied: bool,
    /// RS256, ES256 or EdDSA for this client's ID tokens; unset means `[keys] algorithm`.
    pub id_token_signed_response_alg: Option<String>,
    /// Front-Channel Logout 1.0: loaded in a hidden frame when the person signs out.
    pub frontchannel_logout_uri: Option<String>,
    /// Other clients whose tokens this one may introspect and revoke (a resource server); `["*"]` means all.
    pub introspect_for: Vec<String>,
    /// The client's public keys as a JWKS document (JSON), for `private_key_jwt` authentication (RFC 7523).
    pub jwks: Option<String>,
    /// The same, read from a file.
    pub jwks_file: Option<PathBuf>,
    /// Ask the person to agree, on a page listing the scopes, before the app gets anything (remembered while the
    /// SSO session that agreed lives). For apps the city does not run itself.
    pub consent: bool,
    /// The app must push its authorization requests to `/par` (RFC 9126); `/authorize` alone is refused.
    pub require_pushed_authorization_requests: bool,
    /// Everyone signing in to this app must use a second factor (TOTP or a passkey) as well as the password.
    pub require_mfa: bool,
}

/// The shape of a separate clients file (`clients_file`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientsFile {
    #[serde(default)]
    clients: Vec<ClientConfig>,
}

/// Redirect URIs are compared exactly, so they must be absolute and carry no fragment (RFC 6749 §3.1.2).
pub(super) fn redirect_uri_problem(uri: &str) -> Option<&'static str> {
    match url::Url::parse(uri) {
        Err(_) => Some("not an absolute URL"),
        Ok(u) if u.fragment().is_some() => Some("must not contain a fragment"),
        Ok(_) => None,
    }
}

pub(super) fn parse_clients(text: &str) -> Result<Vec<ClientConfig>, String> {
    Figment::from(Toml::string(text)).extract::<ClientsFile>().map(|f| f.clients).map_err(|e| e.to_string())
}
