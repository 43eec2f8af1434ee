//! The HTML pages a person sees: the sign-in form and the error page, in Vietnamese or English. Both carry the
//! help line and the language link ([`super::ui`]); error pages are framed by its layer.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::ui::{Help, PendingError};
use crate::error::Error;
use crate::i18n::{Lang, Texts};
use crate::oidc::authorize::{AuthResponse, LoginMessage};
use crate::oidc::request::{AuthRequest, AuthorizeParams};

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    app_name: &'a str,
    action: &'a str,
    message: Option<String>,
    username: &'a str,
    hidden: Vec<(&'static str, &'a str)>,
    help: Help,
}

#[derive(Template, WebTemplate)]
#[template(path = "form_post.html")]
struct FormPostPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    action: &'a str,
    fields: &'a [(&'static str, String)],
}

/// Only the form_post page runs a script: our own file, nothing inline.
const FORM_POST_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Sends an authorization response to the app: a 303 redirect, or a self-submitting form for `form_post`.
pub fn auth_response(lang: Lang, r: &AuthResponse) -> Response {
    if !r.form_post {
        return axum::response::Redirect::to(&r.location()).into_response();
    }
    let page = FormPostPage { lang: lang.code(), t: lang.texts(), action: &r.redirect_uri, fields: &r.params };
    let headers =
        [(axum::http::header::CACHE_CONTROL, "no-store"), (axum::http::header::CONTENT_SECURITY_POLICY, FORM_POST_CSP)];
    (headers, page).into_response()
}

/// The authorization parameters the form carries back in hidden inputs (login_hint becomes the mailbox field).
pub(super) fn hidden_fields(p: &AuthorizeParams) -> Vec<(&'static str, &str)> {
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
        ("prompt", &p.prompt),
        ("max_age", &p.max_age),
        ("ui_locales", &p.ui_locales),
        ("pushed_request", &p.pushed_request),
        ("acr_values", &p.acr_values),
    ];
    fields.into_iter().filter_map(|(k, v)| v.as_deref().map(|v| (k, v))).collect()
}

/// What a re-shown sign-in form says.
pub enum Notice {
    Login(LoginMessage),
    DirectoryDown,
    FormExpired,
}

/// The sign-in form for `req`, optionally with a notice, keeping what the person typed as mailbox.
/// `csrf` goes in a hidden field and must come back equal to the `danang_sso_csrf` cookie.
pub fn login(
    lang: Lang,
    req: &AuthRequest,
    params: &AuthorizeParams,
    username: &str,
    notice: Option<Notice>,
    csrf: &str,
    help: Help,
) -> Response {
    let mut hidden = hidden_fields(params);
    hidden.push(("csrf", csrf));
    login_form(lang, &req.client.name, crate::oidc::discovery::LOGIN_PATH, hidden, username, notice, help)
}

/// The sign-in form for the app `app_name`, whatever its protocol: it posts `hidden` (which must include the
/// anti-forgery value) with the mailbox and password to `action`.
pub fn login_form(
    lang: Lang,
    app_name: &str,
    action: &str,
    hidden: Vec<(&'static str, &str)>,
    username: &str,
    notice: Option<Notice>,
    help: Help,
) -> Response {
    let t = lang.texts();
    let (status, message) = match notice {
        None => (StatusCode::OK, None),
        Some(Notice::Login(LoginMessage::BadCredentials)) => (StatusCode::OK, Some(t.bad_credentials.to_owned())),
        Some(Notice::Login(LoginMessage::DomainRefused)) => (StatusCode::OK, Some(t.domain_refused.to_owned())),
        Some(Notice::Login(LoginMessage::Throttled(secs))) => {
            (StatusCode::TOO_MANY_REQUESTS, Some(t.throttled.replace("{wait}", &lang.duration(secs))))
        }
        Some(Notice::Login(LoginMessage::Dormant(days))) => {
            (StatusCode::FORBIDDEN, Some(t.dormant.replace("{days}", &days.to_string())))
        }
        Some(Notice::DirectoryDown) => (StatusCode::SERVICE_UNAVAILABLE, Some(t.directory_down.to_owned())),
        Some(Notice::FormExpired) => (StatusCode::FORBIDDEN, Some(t.form_expired.to_owned())),
    };
    let page = LoginPage { lang: lang.code(), t, app_name, action, message, username, hidden, help };
    (status, no_store(), page).into_response()
}

/// An error shown to the person (never redirected to an app); the [`super::ui::chrome`] layer renders it.
pub fn error(lang: Lang, e: Error) -> Response {
    e.log();
    let t = lang.texts();
    let message = match &e {
        Error::UnknownClient => t.unknown_client,
        Error::UnregisteredRedirectUri => t.bad_redirect_uri,
        Error::Unavailable("directory") => t.directory_down,
        Error::Unavailable(_) => t.store_down,
        Error::Internal(_) => t.internal,
        _ => t.bad_request,
    };
    error_message(lang, e.status(), message)
}

/// An error page with a message of its own (for pages whose texts live in their own module).
pub fn error_message(lang: Lang, status: StatusCode, message: &'static str) -> Response {
    let mut response = (status, no_store()).into_response();
    response.extensions_mut().insert(PendingError { lang, message });
    response
}

pub(super) fn no_store() -> [(axum::http::HeaderName, &'static str); 1] {
    [(axum::http::header::CACHE_CONTROL, "no-store")]
}
