//! `GET|POST /authorize` and `POST /login`: parse, ask [`crate::oidc`], render a page or redirect.

use std::sync::Arc;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::{cookies, pages};
use crate::App;
use crate::error::Error;
use crate::i18n::Lang;
use crate::oidc::authorize::{LoginResult, Outcome};
use crate::oidc::request::{AuthRequest, AuthorizeError, AuthorizeParams, validate};

fn lang(params: &AuthorizeParams, headers: &HeaderMap) -> Lang {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::negotiate(params.ui_locales.as_deref(), accept)
}

/// Validates, or renders why not: a page for an unknown client or redirect URI, a redirect for the rest.
fn checked(app: &App, params: &AuthorizeParams, lang: Lang) -> Result<AuthRequest, Box<Response>> {
    validate(params, &app.provider.clients).map_err(|e| {
        Box::new(match e {
            AuthorizeError::Page(e) => pages::error(lang, e),
            AuthorizeError::Redirect(r) => pages::auth_response(lang, &app.provider.error_response(&r)),
        })
    })
}

pub async fn authorize_get(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<AuthorizeParams>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(params)) => authorize(&app, &headers, params).await,
        Err(e) => pages::error(Lang::negotiate(None, None), Error::InvalidRequest(e.body_text())),
    }
}

pub async fn authorize_post(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Result<Form<AuthorizeParams>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(params)) => authorize(&app, &headers, params).await,
        Err(e) => pages::error(Lang::negotiate(None, None), Error::InvalidRequest(e.body_text())),
    }
}

async fn authorize(app: &App, headers: &HeaderMap, params: AuthorizeParams) -> Response {
    let lang = lang(&params, headers);
    let req = match checked(app, &params, lang) {
        Ok(req) => req,
        Err(response) => return *response,
    };
    let cookie = cookies::get(headers, &app.provider.session.cookie_name);
    match app.provider.authorize(&req, cookie).await {
        Ok(Outcome::Respond(r)) => pages::auth_response(lang, &r),
        Ok(Outcome::Login) => {
            let hint = params.login_hint.as_deref().unwrap_or_default();
            pages::login(lang, &req, &params, hint, None, StatusCode::OK)
        }
        Err(e) => pages::error(lang, e),
    }
}

/// The sign-in form: the mailbox and password, plus the authorization request in hidden fields.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(flatten)]
    params: AuthorizeParams,
}

pub async fn login(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return pages::error(Lang::negotiate(None, None), Error::InvalidRequest("malformed form".into()));
    };
    let lang = lang(&form.params, &headers);
    let req = match checked(&app, &form.params, lang) {
        Ok(req) => req,
        Err(response) => return *response,
    };
    let cookie_name = &app.provider.session.cookie_name;
    let cookie = cookies::get(&headers, cookie_name);
    let result = app.provider.login(&req, &form.username, &form.password, cookie).await;
    match &result {
        Ok(LoginResult::Success { .. }) => app.metrics.sign_in("success", "none"),
        Ok(LoginResult::Refused { reason, .. }) => app.metrics.sign_in("refused", reason),
        Err(Error::Unavailable(_)) => app.metrics.sign_in("unavailable", "none"),
        Err(_) => app.metrics.sign_in("error", "none"),
    }
    match result {
        Ok(LoginResult::Success { response, cookie, .. }) => {
            let mut response = pages::auth_response(lang, &response);
            if let Some(secret) = cookie {
                let value = cookies::set(cookie_name, &secret, app.provider.session.ttl_secs, app.secure_cookies);
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(LoginResult::Refused { message, .. }) => {
            pages::login(lang, &req, &form.params, form.username.trim(), Some(message), StatusCode::OK)
        }
        Err(Error::Unavailable("directory")) => {
            pages::login(lang, &req, &form.params, form.username.trim(), None, StatusCode::SERVICE_UNAVAILABLE)
        }
        Err(e) => pages::error(lang, e),
    }
}
