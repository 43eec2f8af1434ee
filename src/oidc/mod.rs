//! The OpenID Connect provider: every protocol decision lives here, free of HTTP.
//!
//! Handlers in [`crate::http`] parse requests and render answers; this module decides. It reaches the
//! directory, the store and the keys only through their traits and types, never LDAP or Redis directly.

pub mod assertion;
pub mod authorize;
mod ceiling;
pub mod claims;
pub mod clients;
pub mod consent;
pub mod discovery;
pub mod incident;
pub mod introspect;
pub mod logout;
pub mod outage;
pub mod par;
pub mod pkce;
pub mod prompt;
pub mod request;
pub mod token;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use crate::audit::Audit;
use crate::clock::Clock;
use crate::config::{OidcConfig, SessionConfig, TokensConfig};
use crate::directory::Directory;
use crate::keys::KeyRing;
use crate::policy::Policy;
use crate::policy::throttle::Throttle;
use crate::store::Store;
use clients::Clients;

/// Everything a protocol decision needs, built once at start and shared by every request.
pub struct Provider {
    /// The issuer URL without a trailing slash.
    pub issuer: String,
    pub clients: Clients,
    pub policy: Policy,
    pub directory: Arc<dyn Directory>,
    pub store: Arc<dyn Store>,
    pub keys: KeyRing,
    /// MACs refresh secrets (and the sign-in form's anti-forgery value), so ours are recognised unstored.
    pub secret: crate::keys::ServerSecret,
    pub clock: Clock,
    pub tokens: TokensConfig,
    pub session: SessionConfig,
    /// Delivers back-channel logout tokens.
    pub notifier: Arc<dyn logout::Notifier>,
    pub throttle: Throttle,
    pub audit: Audit,
    /// Pushed authorization requests: their lifetime.
    pub oidc: OidcConfig,
    /// Re-checks while the directory is down (`[directory] outage_grace_secs`).
    pub outage: outage::OutageGrace,
    /// Second factors: policy and the key their records are sealed with.
    pub mfa: crate::mfa::Mfa,
}

/// 256 random bits, base64url: codes, refresh secrets, session cookies.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
    B64.encode(bytes)
}

/// 96 random bits, base64url: ids that must not collide but are not secrets (grants, jti).
pub fn random_id() -> String {
    let mut bytes = [0u8; 12];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
    B64.encode(bytes)
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// How secrets are named in the store: base64url SHA-256, so a store dump holds nothing usable.
pub fn secret_hash(secret: &str) -> String {
    B64.encode(sha256(secret.as_bytes()))
}

/// A new session cookie secret for `account`: its locality tag (`store::account_tag`), `~`, 256 random bits.
pub fn new_session_secret(account: &str) -> String {
    crate::store::tagged(&crate::store::account_tag(account), &random_token())
}

/// The session id (`sid`) a cookie secret stands for: the secret's locality tag, `~`, the secret's hash; just the
/// hash for a secret without a tag (the secret itself never reaches the store).
pub fn session_id(secret: &str) -> String {
    match secret.split_once(crate::store::TAG_SEPARATOR) {
        Some((tag, _)) => crate::store::tagged(tag, &secret_hash(secret)),
        None => secret_hash(secret),
    }
}
