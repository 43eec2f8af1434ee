//! The SSO session cookie: read from `Cookie`, written as `Set-Cookie` with HttpOnly, SameSite=Lax and,
//! under an https issuer, Secure. A few lines, so no cookie crate.

use axum::http::{HeaderMap, HeaderValue, header};

/// The value of cookie `name`, if the request carries it.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set(name: &str, value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A `SameSite=Strict` cookie for the browser's session lifetime (the sign-in form's anti-forgery value).
pub fn set_strict(name: &str, value: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// Sets the SSO session cookie on `response` when a sign-in started a new session (`secret`).
pub fn attach_session(app: &crate::App, response: &mut axum::response::Response, secret: Option<String>) {
    if let Some(secret) = secret {
        let session = &app.provider.session;
        let value = set(&session.cookie_name, &secret, session.ttl_secs, app.secure_cookies);
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
}

/// Counts a posted sign-in form in the metrics: `Ok(None)` signed in, `Ok(Some(reason))` refused.
pub fn count_sign_in(app: &crate::App, outcome: Result<Option<&'static str>, &crate::error::Error>) {
    match outcome {
        Ok(None) => app.metrics.sign_in("success", "none"),
        Ok(Some(reason)) => app.metrics.sign_in("refused", reason),
        Err(crate::error::Error::Unavailable(_)) => app.metrics.sign_in("unavailable", "none"),
        Err(_) => app.metrics.sign_in("error", "none"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_named_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; danang_sso=secret; b=2"));
        assert_eq!(get(&h, "danang_sso"), Some("secret"));
        assert_eq!(get(&h, "danang"), None);
        assert_eq!(
            set("danang_sso", "x", 60, true),
            "danang_sso=x; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
    }
}
