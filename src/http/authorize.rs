//! `GET|POST /authorize` and `POST /login`: parse, ask [`crate::oidc`], render a page or redirect.

use std::sync::Arc;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::Deserialize;

use super::context::Ctx;
use super::{cookies, csrf, pages};
use crate::App;
use crate::audit::RequestContext;
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
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    query: Result<Query<AuthorizeParams>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(params)) => authorize(&app, &headers, params, &ctx).await,
        Err(e) => pages::error(Lang::negotiate(None, None), Error::InvalidRequest(e.body_text())),
    }
}

pub async fn authorize_post(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    form: Result<Form<AuthorizeParams>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(params)) => authorize(&app, &headers, params, &ctx).await,
        Err(e) => pages::error(Lang::negotiate(None, None), Error::InvalidRequest(e.body_text())),
    }
}

async fn authorize(app: &App, headers: &HeaderMap, params: AuthorizeParams, ctx: &RequestContext) -> Response {
    let lang = lang(&params, headers);
    let req = match checked(app, &params, lang) {
        Ok(req) => req,
        Err(response) => return *response,
    };
    let cookie = cookies::get(headers, &app.provider.session.cookie_name);
    match app.provider.authorize(&req, cookie, ctx).await {
        Ok(Outcome::Respond(r)) => pages::auth_response(lang, &r),
        Ok(Outcome::SecondFactor(step)) => {
            super::account::second_factor_redirect(step, &super::account::authorize_continue(&params))
        }
        Ok(Outcome::Login) => {
            let hint = params.login_hint.as_deref().unwrap_or_default();
            login_form(app, headers, lang, &req, &params, hint, None)
        }
        Err(e) => pages::error(lang, e),
    }
}

/// Renders the sign-in form, reusing the browser's anti-forgery value or giving it one.
fn login_form(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    req: &AuthRequest,
    params: &AuthorizeParams,
    username: &str,
    notice: Option<pages::Notice>,
) -> Response {
    let (csrf, set_cookie) = csrf::issue(headers, app.secure_cookies);
    let mut response = pages::login(lang, req, params, username, notice, &csrf);
    if let Some(value) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The sign-in form: the mailbox and password, plus the authorization request in hidden fields.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    params: AuthorizeParams,
}

pub async fn login(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
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
    let typed = form.username.trim();
    let show = |notice| login_form(&app, &headers, lang, &req, &form.params, typed, Some(notice));
    if !csrf::matches(&headers, &form.csrf) {
        tracing::warn!(client = %req.client.id, "sign-in form without a matching anti-forgery token");
        return show(pages::Notice::FormExpired);
    }
    let cookie = cookies::get(&headers, &app.provider.session.cookie_name);
    let result = app.provider.login(&req, &form.username, &form.password, cookie, &ctx).await;
    cookies::count_sign_in(
        &app,
        match &result {
            Ok(LoginResult::Success { .. } | LoginResult::SecondFactor { .. }) => Ok(None),
            Ok(LoginResult::Refused { reason, .. }) => Ok(Some(*reason)),
            Err(e) => Err(e),
        },
    );
    match result {
        Ok(LoginResult::Success { response, cookie, .. }) => {
            let mut response = pages::auth_response(lang, &response);
            cookies::attach_session(&app, &mut response, cookie);
            response
        }
        Ok(LoginResult::SecondFactor { step, cookie, .. }) => {
            let next = super::account::authorize_continue(&form.params);
            let mut response = super::account::second_factor_redirect(step, &next);
            cookies::attach_session(&app, &mut response, cookie);
            response
        }
        Ok(LoginResult::Refused { message, .. }) => show(pages::Notice::Login(message)),
        Err(Error::Unavailable("directory")) => show(pages::Notice::DirectoryDown),
        Err(e) => pages::error(lang, e),
    }
}
