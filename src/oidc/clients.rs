//! The registered relying parties, and client authentication at the token endpoint.
//!
//! Secrets are stored as argon2 hashes. Verifying one costs ~20 ms of CPU, too much for every refresh, so
//! after a secret verifies once its SHA-256 is remembered in memory and later requests compare against that
//! in constant time. Until then every attempt pays the full argon2 price, at most one per core at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use jsonwebtoken::jwk::JwkSet;

use super::sha256;
use crate::config::ClientConfig;
use crate::error::Error;
use crate::keys::Alg;

pub const GRANT_CODE: &str = "authorization_code";
pub const GRANT_REFRESH: &str = "refresh_token";
pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub grant_types: Vec<String>,
    /// Scopes the client may receive; empty means every supported user scope.
    pub scopes: Vec<String>,
    pub public: bool,
    pub offline_access_implied: bool,
    pub id_token_alg: Option<Alg>,
    pub frontchannel_logout_uri: Option<String>,
    pub introspect_for: Vec<String>,
    /// Public keys for `private_key_jwt` (RFC 7523).
    pub jwks: Option<JwkSet>,
    /// The person must agree to what the client asks for (`[[clients]] consent`).
    pub consent: bool,
    /// Authorization requests only through `/par` (RFC 9126), per client or `[oidc]` for all.
    pub require_par: bool,
    /// Two factors for everyone signing in to this app.
    pub require_mfa: bool,
}

impl Client {
    pub fn from_config(c: &ClientConfig) -> Result<Client, String> {
        let grant_types = if c.grant_types.is_empty() {
            vec![GRANT_CODE.into(), GRANT_REFRESH.into()]
        } else {
            c.grant_types.clone()
        };
        let jwks_text = match (&c.jwks, &c.jwks_file) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(path)) => {
                Some(std::fs::read_to_string(path).map_err(|e| format!("{}: jwks_file: {e}", c.client_id))?)
            }
            (None, None) => None,
        };
        let jwks = match jwks_text {
            Some(text) => Some(
                serde_json::from_str::<JwkSet>(&text)
                    .map_err(|e| format!("{}: jwks is not a JWKS: {e}", c.client_id))?,
            ),
            None => None,
        };
        Ok(Client {
            id: c.client_id.clone(),
            name: if c.name.is_empty() { c.client_id.clone() } else { c.name.clone() },
            secret_hash: c.client_secret_hash.clone(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            grant_types,
            scopes: c.scopes.clone(),
            public: c.public,
            offline_access_implied: c.offline_access_implied,
            id_token_alg: c.id_token_signed_response_alg.as_deref().and_then(Alg::parse),
            frontchannel_logout_uri: c.frontchannel_logout_uri.clone(),
            require_mfa: c.require_mfa,
            introspect_for: c.introspect_for.clone(),
            jwks,
            consent: c.consent,
            require_par: c.require_pushed_authorization_requests,
        })
    }

    /// Whether this client may introspect or revoke tokens issued to `other`.
    pub fn may_manage_tokens_of(&self, other: &str) -> bool {
        self.id == other || self.introspect_for.iter().any(|c| c == "*" || c == other)
    }

    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.is_empty() || self.scopes.iter().any(|s| s == scope)
    }
}

/// Credentials as the request presented them (RFC 6749 §2.3.1): HTTP Basic or form fields, never both;
/// or a signed client assertion (RFC 7523).
#[derive(Debug, Default)]
pub struct Credentials {
    pub basic: Option<(String, String)>,
    pub form_id: Option<String>,
    pub form_secret: Option<String>,
    pub assertion_type: Option<String>,
    pub assertion: Option<String>,
}

pub struct Clients {
    by_id: HashMap<String, Arc<Client>>,
    /// client_id → SHA-256 of the secret that last verified.
    verified: Mutex<HashMap<String, [u8; 32]>>,
    /// Argon2 checks running at once, at most one per core. Each holds 19 MiB for ~20 ms: without a bound, the
    /// first burst of token requests after a start (all before the cache is filled), or a flood of wrong
    /// secrets, took hundreds of megabytes and every core (the benchmark saw 480 MB after 256 at once).
    hashing: tokio::sync::Semaphore,
}

impl Clients {
    pub fn new(configs: &[ClientConfig]) -> Result<Clients, String> {
        let mut by_id = HashMap::new();
        for c in configs {
            by_id.insert(c.client_id.clone(), Arc::new(Client::from_config(c)?));
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Clients { by_id, verified: Mutex::default(), hashing: tokio::sync::Semaphore::new(cores) })
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Client>> {
        self.by_id.get(id)
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Client>> {
        self.by_id.values()
    }

    /// Authenticates the calling client: `client_secret_basic`, `client_secret_post`, or `none` for public clients.
    pub async fn authenticate(&self, creds: Credentials) -> Result<Arc<Client>, Error> {
        let (id, secret) = match (creds.basic, creds.form_id, creds.form_secret) {
            (Some(_), _, Some(_)) => return Err(Error::InvalidRequest("use one client authentication method".into())),
            (Some((id, secret)), form_id, None) => {
                if form_id.is_some_and(|f| f != id) {
                    return Err(Error::InvalidRequest("client_id does not match the Authorization header".into()));
                }
                (id, Some(secret))
            }
            (None, Some(id), secret) => (id, secret),
            (None, None, _) => return Err(Error::InvalidClient),
        };
        let client = self.get(&id).ok_or(Error::InvalidClient)?.clone();
        let ok = match (&client.secret_hash, secret) {
            (None, None) => client.public,
            (Some(hash), Some(secret)) => self.verify(&client.id, hash, secret).await,
            _ => false,
        };
        if ok { Ok(client) } else { Err(Error::InvalidClient) }
    }

    async fn verify(&self, id: &str, hash: &str, secret: String) -> bool {
        let digest = sha256(secret.as_bytes());
        let cached = || self.verified.lock().unwrap_or_else(|e| e.into_inner()).get(id).copied();
        let matches = |known: [u8; 32]| aws_lc_rs::constant_time::verify_slices_are_equal(&known, &digest).is_ok();
        if let Some(known) = cached() {
            return matches(known);
        }
        let Ok(_permit) = self.hashing.acquire().await else { return false };
        // Requests that queued behind the first one find its result here instead of hashing again.
        if let Some(known) = cached() {
            return matches(known);
        }
        let hash = hash.to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(secret.as_bytes(), &h).is_ok())
        })
        .await
        .unwrap_or(false);
        if ok {
            self.verified.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_owned(), digest);
        }
        ok
    }
}

/// An argon2id PHC hash of a client secret, for `[[clients]] client_secret_hash`.
pub fn hash_secret(secret: &str) -> Result<String, String> {
    use argon2::PasswordHasher;
    Argon2::default().hash_password(secret.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}
