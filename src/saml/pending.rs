//! A validated SAML request parked while the person signs in, or across the redirect that turns a cross-site
//! POST into a same-site GET (SameSite=Lax session cookies are not sent on a cross-site POST).
//!
//! The request is sealed as a short-lived JWT signed with our own key and carried in a hidden form field or a
//! URL: nothing to store, any instance can resume it, and nobody can alter the ACS URL or the request ID in
//! between. The SP's own signature was checked before sealing, so it is not needed again.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::keys::KeySet;

/// The `typ` of a parked AuthnRequest and of a parked LogoutRequest.
pub const AUTHN_TYP: &str = "saml-authn+jwt";
pub const LOGOUT_TYP: &str = "saml-logout+jwt";
/// Long enough to type a password, short enough that a stale form is refused.
const TTL_SECS: u64 = 1800;

#[derive(Serialize, Deserialize)]
struct Sealed<T> {
    iss: String,
    exp: u64,
    #[serde(flatten)]
    body: T,
}

/// Seals `body` for `TTL_SECS` from `now`.
pub fn seal<T: Serialize>(keys: &KeySet, issuer: &str, typ: &str, body: &T, now: u64) -> Result<String, Error> {
    let sealed = Sealed { iss: issuer.to_owned(), exp: now + TTL_SECS, body };
    Ok(keys.sign(typ, &sealed, None)?)
}

/// Opens a sealed request of type `typ`: ours, unexpired and unaltered, or an error.
pub fn open<T: DeserializeOwned>(keys: &KeySet, issuer: &str, typ: &str, token: &str) -> Result<T, Error> {
    let sealed: Sealed<T> = keys
        .verify(token, typ, |v| {
            v.validate_aud = false;
            v.set_issuer(&[issuer]);
            v.set_required_spec_claims(&["exp", "iss"]);
        })
        .map_err(|_| {
            Error::InvalidRequest("the SAML request expired or was altered; start again from the app".into())
        })?;
    Ok(sealed.body)
}
