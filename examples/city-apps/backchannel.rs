//! Back-Channel Logout 1.0: when a person's SSO session ends (they signed out in any app, or an administrator
//! ended it), the provider POSTs a signed logout token to `/backchannel-logout`, server to server. The app checks
//! it and ends its own sessions of that SSO session, so the next page the person opens here shows them signed out.
//!
//! A logout token is a JWT much like an ID token, but the `openidconnect` crate does not verify those, so this is
//! done with `jsonwebtoken` against the keys discovery found.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::App;
use super::provider::Provider;

/// The `typ` header of logout tokens: it stops an ID token from being passed off as a logout token.
const LOGOUT_TYP: &str = "logout+jwt";
/// The member of `events` that makes a JWT a logout token.
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

#[derive(Deserialize)]
pub struct Delivery {
    logout_token: String,
}

/// The claims we read; `iss`, `aud` and `exp` are checked by `jsonwebtoken` itself.
#[derive(Deserialize)]
struct LogoutClaims {
    sid: Option<String>,
    sub: Option<String>,
    /// The token's unique id; a stricter app would also refuse one it has seen before.
    jti: String,
    /// Required, so it is read; there is nothing more to check in it.
    #[serde(rename = "iat")]
    _iat: u64,
    events: Map<String, Value>,
    /// Must be absent: a token with a nonce could be an ID token.
    nonce: Option<Value>,
}

/// Answers 200 once the token is verified and the sessions are ended, 400 (with an RFC 6749-style error) if the
/// token is refused. Never cached.
pub async fn receive(State(app): State<Arc<App>>, Form(delivery): Form<Delivery>) -> Response {
    match verify(&app.provider, &delivery.logout_token).await {
        Ok(claims) => {
            let ended = app.sessions.end(claims.sid.as_deref(), claims.sub.as_deref());
            tracing::info!(app = app.spec.client_id, sid = ?claims.sid, jti = %claims.jti, ended, "back-channel logout");
            (StatusCode::OK, [(CACHE_CONTROL, "no-store")]).into_response()
        }
        Err(why) => {
            tracing::warn!(app = app.spec.client_id, %why, "logout token refused");
            let error = serde_json::json!({ "error": "invalid_request", "error_description": why });
            (StatusCode::BAD_REQUEST, [(CACHE_CONTROL, "no-store")], Json(error)).into_response()
        }
    }
}

/// The checks of Back-Channel Logout 1.0 §2.6: signature with the provider's key, `iss`, `aud` (this app),
/// `exp` and `iat`, `typ`, the `events` member, a `sid` or `sub`, and no `nonce`.
async fn verify(provider: &Provider, token: &str) -> Result<LogoutClaims, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
    if !header.typ.as_deref().is_some_and(|typ| typ.eq_ignore_ascii_case(LOGOUT_TYP)) {
        return Err(format!("typ is {:?}, not {LOGOUT_TYP}", header.typ));
    }
    let kid = header.kid.as_deref().ok_or("no kid in the header")?;
    let jwk = provider.signing_key(kid).await.map_err(|f| f.detail)?;
    // `jsonwebtoken` refuses an `alg` of another family than the key (e.g. HS256 with an RSA key).
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("key {kid}: {e}"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[provider.issuer()]);
    validation.set_audience(&[provider.client_id()]);
    validation.set_required_spec_claims(&["iss", "aud", "exp"]);
    let claims = jsonwebtoken::decode::<LogoutClaims>(token, &key, &validation).map_err(|e| e.to_string())?.claims;
    if !claims.events.get(BACKCHANNEL_EVENT).is_some_and(Value::is_object) {
        return Err(format!("events has no {BACKCHANNEL_EVENT} object"));
    }
    if claims.nonce.is_some() {
        return Err("a logout token must not carry a nonce".into());
    }
    if claims.sid.is_none() && claims.sub.is_none() {
        return Err("neither sid nor sub".into());
    }
    Ok(claims)
}
