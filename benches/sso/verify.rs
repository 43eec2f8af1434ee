//! What the load generator checks in every sign-in's answer, so a fast wrong answer can never count as a fast
//! sign-in (issue 19): the ID token's signature against the server's JWKS, its audience and expiry, the nonce
//! sent, and `at_hash` against the access token received; userinfo's `sub` against the ID token's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    nonce: Option<String>,
    at_hash: Option<String>,
}

/// Verifies `id_token` as the app `audience` would; returns its `sub`.
pub fn id_token(jwks: &JwkSet, id_token: &str, audience: &str, nonce: &str, access: &str) -> Result<String, String> {
    let header = jsonwebtoken::decode_header(id_token).map_err(|e| format!("ID token header: {e}"))?;
    let kid = header.kid.as_deref().ok_or("an ID token without kid")?;
    let jwk = jwks.find(kid).ok_or_else(|| format!("ID token kid {kid} is not in the JWKS"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWKS key {kid}: {e}"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    let claims = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
        .map_err(|e| format!("ID token rejected: {e}"))?
        .claims;
    if claims.nonce.as_deref() != Some(nonce) {
        return Err(format!("ID token nonce {:?}, sent {nonce}", claims.nonce));
    }
    let expected = at_hash(header.alg, access);
    if claims.at_hash.as_deref() != Some(expected.as_str()) {
        return Err(format!("ID token at_hash {:?}, the access token's is {expected}", claims.at_hash));
    }
    Ok(claims.sub)
}

/// The left half of the access token's hash by the ID token's algorithm (SHA-512 for EdDSA), base64url.
fn at_hash(alg: Algorithm, access: &str) -> String {
    let digest = match alg {
        Algorithm::EdDSA => aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, access.as_bytes()),
        _ => aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access.as_bytes()),
    };
    let bytes = digest.as_ref();
    B64.encode(&bytes[..bytes.len() / 2])
}

/// Userinfo's `sub`, which must be the ID token's.
pub fn userinfo_sub(body: &[u8], expected: &str) -> Result<(), String> {
    #[derive(Deserialize)]
    struct Info {
        sub: String,
    }
    let info: Info = serde_json::from_slice(body).map_err(|e| format!("userinfo: {e}"))?;
    match info.sub == expected {
        true => Ok(()),
        false => Err(format!("userinfo sub {} is not the ID token's {expected}", info.sub)),
    }
}
