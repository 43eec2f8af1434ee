//! The SSO session cookie and the anti-forgery cookie: read from `Cookie` and written as `Set-Cookie` with the
//! `cookie` crate. Under an https issuer both names carry the `__Host-` prefix (Secure, Path=/, no Domain), so a
//! sibling `*.danang.gov.vn` site cannot toss a cookie of that name at us; a cookie under the bare name is then
//! ignored. Under plain http (the demo) browsers refuse `__Host-` cookies, so the bare names are used.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

/// The prefix browsers only accept on a Secure, Path=/, Domain-less cookie set over https.
const HOST_PREFIX: &str = "__Host-";

/// The name a cookie called `base` has on the wire: `__Host-<base>` under https.
pub fn name(base: &str, secure: bool) -> String {
    if secure { format!("{HOST_PREFIX}{base}") } else { base.to_owned() }
}

/// The SSO session cookie's name for this app (`[session] cookie_name`, prefixed under https).
pub fn session_name(app: &crate::App) -> String {
    name(&app.provider.session.cookie_name, app.secure_cookies)
}

/// The value of cookie `name`, if the request carries it (the first, as browsers send the most specific first).
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}

fn header_value(cookie: Cookie<'_>) -> HeaderValue {
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

fn base<'c>(name: &str, value: &str, secure: bool, same_site: SameSite) -> cookie::CookieBuilder<'c> {
    Cookie::build((name.to_owned(), value.to_owned())).path("/").http_only(true).same_site(same_site).secure(secure)
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set(name: &str, value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let max_age = cookie::time::Duration::seconds(i64::try_from(max_age).unwrap_or(i64::MAX));
    header_value(base(name, value, secure, SameSite::Lax).max_age(max_age).build())
}

/// A `SameSite=Strict` cookie for the browser's session lifetime (the sign-in form's anti-forgery value).
pub fn set_strict(name: &str, value: &str, secure: bool) -> HeaderValue {
    header_value(base(name, value, secure, SameSite::Strict).build())
}

/// Sets the SSO session cookie on `response` when a sign-in started a new session (`secret`).
pub fn attach_session(app: &crate::App, response: &mut axum::response::Response, secret: Option<String>) {
    if let Some(secret) = secret {
        let session = &app.provider.session;
        let value = set(&session_name(app), &secret, session.ttl_secs, app.secure_cookies);
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
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn finds_the_named_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; danang_sso=secret; b=2"));
        assert_eq!(get(&h, "danang_sso"), Some("secret"));
        assert_eq!(get(&h, "danang"), None);
        assert_eq!(get(&h, "__Host-danang_sso"), None, "the bare name is not the prefixed one");
        assert_eq!(set("danang_sso", "x", 60, false), "danang_sso=x; HttpOnly; SameSite=Lax; Path=/; Max-Age=60");
        let secure = set(&name("danang_sso", true), "x", 0, true);
        assert_eq!(secure, "__Host-danang_sso=x; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0");
        assert_eq!(set_strict("c", "v", false), "c=v; HttpOnly; SameSite=Strict; Path=/");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Any bytes a client sends as `Cookie` are read without a panic.
        #[test]
        fn any_cookie_header_reads_without_panic(raw in proptest::collection::vec(any::<u8>(), 0..200), name in "[ -~]{0,12}") {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_bytes(&raw) {
                h.append(header::COOKIE, v);
            }
            let _ = get(&h, &name);
            let _ = get(&h, "danang_sso");
        }

        /// Any value written is read back unchanged.
        #[test]
        fn written_values_read_back(value in "[A-Za-z0-9_.-]{0,60}") {
            let set = set("danang_sso", &value, 60, true);
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            let mut h = HeaderMap::new();
            h.append(header::COOKIE, HeaderValue::from_str(&pair).unwrap());
            prop_assert_eq!(get(&h, "danang_sso"), Some(value.as_str()));
        }
    }
}
