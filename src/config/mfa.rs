//! `[mfa]`: who must use a second factor, and how authenticator apps name this service.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MfaConfig {
    /// Directory groups whose members must use two factors for every app. Empty: nobody by group.
    pub required_for_groups: Vec<String>,
    /// The name authenticator apps show next to the code.
    pub totp_issuer: String,
}

impl Default for MfaConfig {
    fn default() -> Self {
        Self { required_for_groups: Vec::new(), totp_issuer: "Đà Nẵng SSO".into() }
    }
}
