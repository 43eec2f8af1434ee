//! The sign-in form's anti-forgery value, shared by the OIDC and the SAML sign-in forms.
//!
//! The browser holds a `SameSite=Strict` cookie `<nonce>.<MAC(nonce)>` that only this server can make (the MAC
//! is under the server's key, see [`crate::keys::ServerSecret`]); the form carries a second MAC of the same
//! nonce. A posted form passes only when the cookie is one of ours and the form's value belongs to it, so
//! neither a made-up value planted by a sibling site nor a form loaded in another browser signs anyone in.
//! Under https the cookie is `__Host-danang_sso_csrf` (see [`super::cookies`]).

use axum::http::{HeaderMap, HeaderValue};

use super::cookies;

/// The cookie holding the browser's anti-forgery value (prefixed `__Host-` under https).
pub const COOKIE: &str = "danang_sso_csrf";

const COOKIE_MAC: &str = "danang-sso csrf cookie v1";
const FORM_MAC: &str = "danang-sso csrf form v1";

/// The nonce of a cookie value this server made, if it is one.
fn nonce<'a>(app: &crate::App, cookie: &'a str) -> Option<&'a str> {
    let (nonce, mac) = cookie.split_once('.')?;
    app.provider.secret.verify(COOKIE_MAC, &[nonce], mac).then_some(nonce)
}

/// The form's anti-forgery value for this browser, and the `Set-Cookie` that gives it one when it has no
/// cookie of ours yet.
pub fn issue(app: &crate::App, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    let name = cookies::name(COOKIE, app.secure_cookies);
    let secret = &app.provider.secret;
    match cookies::get(headers, &name).and_then(|c| nonce(app, c)) {
        Some(existing) => (secret.mac(FORM_MAC, &[existing]), None),
        None => {
            let fresh = crate::oidc::random_token();
            let value = format!("{fresh}.{}", secret.mac(COOKIE_MAC, &[&fresh]));
            let cookie = cookies::set_strict(&name, &value, app.secure_cookies);
            (secret.mac(FORM_MAC, &[&fresh]), Some(cookie))
        }
    }
}

/// Whether a posted form carries the anti-forgery value of this browser's cookie (compared in constant time).
pub fn matches(app: &crate::App, headers: &HeaderMap, presented: &str) -> bool {
    let name = cookies::name(COOKIE, app.secure_cookies);
    cookies::get(headers, &name)
        .and_then(|c| nonce(app, c))
        .is_some_and(|nonce| app.provider.secret.verify(FORM_MAC, &[nonce], presented))
}
