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

/// A new session cookie secret for `account`: its locality tag (`store::account_tag`), `~`, the millisecond of
/// the second it was made in ([`SESSION_TIME_DIGITS`] digits), 256 random bits. Indexes order an account's
/// sessions by expiry, in whole seconds, then by id: the millisecond makes sessions that expire in the same second
/// sort in the order they were made, so `[session] max_per_account` ends the oldest, never a brand-new one whose
/// code is still on its way to the app.
pub fn new_session_secret(account: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let made = format!("{:03}", now.subsec_millis());
    crate::store::tagged(&crate::store::account_tag(account), &format!("{made}{}", random_token()))
}

/// Digits of a session secret's making millisecond.
const SESSION_TIME_DIGITS: usize = 3;

/// The session id (`sid`) a cookie secret stands for: the secret's locality tag, `~`, its making millisecond,
/// the secret's hash; just the hash for a secret without a tag (the secret itself never reaches the store).
pub fn session_id(secret: &str) -> String {
    match secret.split_once(crate::store::TAG_SEPARATOR) {
        Some((tag, rest)) => {
            // The making time stays in front of the hash, so ids sort as the secrets were made.
            let made = rest.get(..SESSION_TIME_DIGITS).filter(|t| t.bytes().all(|b| b.is_ascii_digit()));
            crate::store::tagged(tag, &format!("{}{}", made.unwrap_or_default(), secret_hash(secret)))
        }
        None => secret_hash(secret),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_made_in_one_second_sort_in_the_order_they_were_made() {
        // Two secrets at least 2 ms apart within one second (retried when a second boundary falls between them).
        let (first, second) = loop {
            let first = new_session_secret("dungnv@danang.gov.vn");
            std::thread::sleep(std::time::Duration::from_millis(2));
            let second = new_session_secret("dungnv@danang.gov.vn");
            if first[9..12] < second[9..12] {
                break (first, second);
            }
        };
        let (a, b) = (session_id(&first), session_id(&second));
        assert!(a < b, "{a} then {b}");
        assert_eq!(crate::store::tag_of(&a), crate::store::tag_of(&b), "one account, one locality tag");
        assert!(!a.contains(&first[first.len() - 20..]), "the secret itself never shows in the id");
        assert_eq!(session_id("untagged-secret"), secret_hash("untagged-secret"));
    }
}
