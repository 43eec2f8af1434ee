//! The sign-in form's anti-forgery value (double submit): a random value in a `SameSite=Strict` cookie that the
//! form must post back equal. Shared by the OIDC and the SAML sign-in forms.

use axum::http::{HeaderMap, HeaderValue};

use super::cookies;

/// The cookie holding the browser's anti-forgery value.
pub const COOKIE: &str = "danang_sso_csrf";

/// The browser's anti-forgery value, and the `Set-Cookie` that gives it one when it has none yet.
pub fn issue(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    match cookies::get(headers, COOKIE).filter(|c| c.len() == 43) {
        Some(existing) => (existing.to_owned(), None),
        None => {
            let value = crate::oidc::random_token();
            let cookie = cookies::set_strict(COOKIE, &value, secure);
            (value, Some(cookie))
        }
    }
}

/// Whether a posted form carries the browser's anti-forgery value (compared in constant time).
pub fn matches(headers: &HeaderMap, presented: &str) -> bool {
    let expected = cookies::get(headers, COOKIE).unwrap_or_default();
    !expected.is_empty()
        && aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), presented.as_bytes()).is_ok()
}
