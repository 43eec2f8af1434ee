//! `[oidc]`: request styles the whole provider requires of its clients (pushed authorization requests, RFC 9126).

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// Every client must push its authorization request to `/par` first; `/authorize` without a `request_uri`
    /// is refused. Also settable per client (`[[clients]] require_pushed_authorization_requests`).
    pub require_pushed_authorization_requests: bool,
    /// How long a pushed request's `request_uri` may be used (seconds), once.
    pub request_uri_ttl_secs: u64,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self { require_pushed_authorization_requests: false, request_uri_ttl_secs: 60 }
    }
}

impl OidcConfig {
    /// RFC 9126 §2.2: a `request_uri` lives long enough to reach `/authorize`, and not minutes more.
    pub(super) fn problems(&self, out: &mut Vec<ConfigError>) {
        if !(5..=600).contains(&self.request_uri_ttl_secs) {
            out.push(ConfigError::new("oidc.request_uri_ttl_secs", "must be between 5 and 600 seconds"));
        }
    }
}
