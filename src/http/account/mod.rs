//! `/tai-khoan` (the person's own account) and `/mfa` (the second-factor step): thin handlers over
//! [`crate::mfa::flow`] and the incident-response path of [`crate::oidc`].
//!
//! Every page sits behind the SSO session: without one, the account's own sign-in form comes first and then
//! leads back. Every form carries the anti-forgery value ([`super::csrf`]). Where to go afterwards travels as
//! `continue`, and only ever as a path on this service ([`local_path`]), so no form can redirect off-site.

mod factors;
mod page;
pub mod passkey;
mod passkey_texts;
mod second_factor;
mod texts;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::{cookies, csrf};
use crate::App;
use crate::error::Error;
use crate::i18n::Lang;
use crate::oidc::request::AuthorizeParams;
use crate::store::Session;

pub const ACCOUNT_PATH: &str = "/tai-khoan";
pub const SIGN_IN_PATH: &str = "/tai-khoan/dang-nhap";
pub const TOTP_PATH: &str = "/tai-khoan/totp";
pub const SECOND_FACTOR_PATH: &str = "/mfa";
/// The name the audit trail gives sign-ins and changes made on the account page.
pub const ACCOUNT_CLIENT: &str = "tai-khoan";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(ACCOUNT_PATH, get(page::account))
        .route(SIGN_IN_PATH, get(page::sign_in_form).post(page::sign_in))
        .route("/tai-khoan/phien/ket-thuc", post(page::end_one))
        .route("/tai-khoan/phien/ket-thuc-tat-ca", post(page::end_all))
        .route(TOTP_PATH, get(factors::enrol_form).post(factors::enrol))
        .route("/tai-khoan/ma-khoi-phuc", post(factors::recovery_codes))
        .route("/tai-khoan/yeu-to/go-bo", post(factors::remove))
        .route(SECOND_FACTOR_PATH, get(second_factor::form).post(second_factor::verify))
        .route(passkey::PASSKEY_PATH, get(passkey::enrol_form).post(passkey::enrol))
        .route(passkey::PASSKEY_VERIFY_PATH, post(passkey::verify))
        .route("/static/passkey.js", get(passkey::script))
}

/// `next` when it is a path on this service, else the account page: never an open redirect.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => ACCOUNT_PATH.to_owned(),
    }
}

/// `path?continue=next`.
fn with_continue(path: &str, next: &str) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("continue", next).finish();
    format!("{path}?{query}")
}

/// Where the browser resumes an OIDC authorization once the second factor is proved: `/authorize` with the same
/// parameters (less `prompt=login`: the password was just checked).
pub fn authorize_continue(p: &AuthorizeParams) -> String {
    let prompt =
        p.prompt.as_deref().map(|v| v.split_whitespace().filter(|v| *v != "login").collect::<Vec<_>>().join(" "));
    let fields = [
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("response_type", &p.response_type),
        ("response_mode", &p.response_mode),
        ("scope", &p.scope),
        ("state", &p.state),
        ("nonce", &p.nonce),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("prompt", &prompt.filter(|p| !p.is_empty())),
        ("max_age", &p.max_age),
        ("ui_locales", &p.ui_locales),
        ("acr_values", &p.acr_values),
    ];
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        if let Some(v) = v {
            query.append_pair(k, v);
        }
    }
    format!("{}?{}", crate::oidc::discovery::AUTHORIZE_PATH, query.finish())
}

/// The step after the password for an app that needs a second factor: prove it, or enrol one first.
pub fn second_factor_redirect(step: crate::mfa::policy::Step, next: &str) -> Response {
    let path = match step {
        crate::mfa::policy::Step::Enrol => TOTP_PATH,
        _ => SECOND_FACTOR_PATH,
    };
    see_other(&with_continue(path, next))
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The page language: the person's pick, `?ui_locales=en`, then `[ui]` (see [`crate::http::ui`]).
fn lang(app: &App, headers: &HeaderMap, ui_locales: Option<&str>) -> Lang {
    crate::http::ui::lang(app, headers, ui_locales)
}

/// The help line and language link of a page the browser can ask for again at `here`.
fn help(app: &App, lang: Lang, here: &str) -> crate::http::ui::Help {
    crate::http::ui::help(app, lang, crate::http::ui::Here::Path(here))
}

/// The browser's live SSO session.
async fn current(app: &App, headers: &HeaderMap) -> Result<Option<Session>, Error> {
    app.provider.session_for_cookie(cookies::get(headers, &cookies::session_name(app))).await
}

/// Adds the anti-forgery cookie to a response when the browser did not have one.
fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(value) = cookie {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// No session: the account's own sign-in form, which leads back to `next`.
fn to_sign_in(next: &str) -> Response {
    see_other(&with_continue(SIGN_IN_PATH, next))
}

fn no_store() -> [(axum::http::HeaderName, &'static str); 1] {
    [(header::CACHE_CONTROL, "no-store")]
}

/// Whether a posted form carries the browser's anti-forgery value.
fn form_ok(app: &App, headers: &HeaderMap, presented: &str) -> bool {
    csrf::matches(app, headers, presented)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_stays_on_this_service() {
        assert_eq!(local_path(Some("/authorize?client_id=a")), "/authorize?client_id=a");
        for bad in ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "/a\nb"] {
            assert_eq!(local_path(Some(bad)), ACCOUNT_PATH, "{bad}");
        }
        assert_eq!(local_path(None), ACCOUNT_PATH);
    }

    #[test]
    fn the_authorization_resumes_without_prompt_login() {
        let p = AuthorizeParams {
            client_id: Some("mot-cua".into()),
            prompt: Some("login".into()),
            state: Some("s&t".into()),
            ..AuthorizeParams::default()
        };
        assert_eq!(authorize_continue(&p), "/authorize?client_id=mot-cua&state=s%26t");
    }
}
