//! Client authentication at the token, introspection and revocation endpoints, including `private_key_jwt`
//! (RFC 7523 §2.2, OIDC Core §9): a client proves itself with a JWT signed by a key it registered, so no shared
//! secret has to live in its configuration.

use std::sync::Arc;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::Provider;
use super::clients::{Client, Credentials};
use super::discovery::TOKEN_PATH;
use crate::error::Error;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Assertion signing algorithms accepted from clients.
pub const ASSERTION_ALGS: &[&str] = &["RS256", "PS256", "ES256", "EdDSA"];

#[derive(Deserialize)]
struct Assertion {
    iss: String,
    sub: String,
    exp: u64,
    jti: String,
}

impl Provider {
    /// Authenticates the calling client by whichever method it used.
    pub async fn authenticate_client(&self, mut creds: Credentials) -> Result<Arc<Client>, Error> {
        match (creds.assertion_type.take(), creds.assertion.take()) {
            (None, None) => self.clients.authenticate(creds).await,
            (Some(t), Some(jwt)) if t == ASSERTION_TYPE && creds.basic.is_none() && creds.form_secret.is_none() => {
                self.check_assertion(&jwt, creds.form_id.as_deref()).await
            }
            _ => Err(Error::InvalidClient),
        }
    }

    async fn check_assertion(&self, jwt: &str, client_id: Option<&str>) -> Result<Arc<Client>, Error> {
        let unverified: Assertion =
            jsonwebtoken::dangerous::insecure_decode_claims(jwt).map_err(|_| Error::InvalidClient)?;
        if client_id.is_some_and(|id| id != unverified.iss) {
            return Err(Error::InvalidClient);
        }
        let client = self.clients.get(&unverified.iss).ok_or(Error::InvalidClient)?.clone();
        let jwks = client.jwks.as_ref().ok_or(Error::InvalidClient)?;
        let header = jsonwebtoken::decode_header(jwt).map_err(|_| Error::InvalidClient)?;
        let alg = header.alg;
        if !ASSERTION_ALGS.iter().any(|a| format!("{alg:?}") == *a) {
            return Err(Error::InvalidClient);
        }
        let candidates = jwks.keys.iter().filter(|k| header.kid.is_none() || k.common.key_id == header.kid);
        let audience = [format!("{}{TOKEN_PATH}", self.issuer), self.issuer.clone()];
        let mut validation = Validation::new(alg);
        validation.set_audience(&audience);
        validation.set_issuer(&[&client.id]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = 30;
        let claims = candidates
            .filter(|k| key_fits(k, alg))
            .filter_map(|k| DecodingKey::from_jwk(k).ok())
            .find_map(|key| jsonwebtoken::decode::<Assertion>(jwt, &key, &validation).ok())
            .map(|d| d.claims)
            .ok_or(Error::InvalidClient)?;
        if claims.sub != client.id {
            return Err(Error::InvalidClient);
        }
        // Each assertion works once: remember its jti until it expires.
        let now = self.clock.now();
        let ttl = claims.exp.saturating_sub(now) + 60;
        if self.store.hit(&format!("jti:{}:{}", client.id, claims.jti), ttl).await? > 1 {
            tracing::warn!(client = %client.id, "client assertion replayed");
            return Err(Error::InvalidClient);
        }
        Ok(client)
    }
}

/// A key may verify `alg` only when its type matches, so an RSA key is never tried as an HMAC secret.
fn key_fits(key: &Jwk, alg: Algorithm) -> bool {
    matches!(
        (&key.algorithm, alg),
        (AlgorithmParameters::RSA(_), Algorithm::RS256 | Algorithm::PS256)
            | (AlgorithmParameters::EllipticCurve(_), Algorithm::ES256)
            | (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA)
    )
}
