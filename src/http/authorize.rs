//! `GET|POST /authorize` and `POST /login`: parse, ask [`crate::oidc`], render a page or redirect.
//! A pushed request (RFC 9126) arrives as `client_id` + `request_uri` and is carried sealed through the pages.

use std::sync::Arc;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::context::Ctx;
use super::{cookies, csrf, pages, prompt};
use crate::App;
use crate::audit::RequestContext;
use crate::error::Error;
use crate::i18n::Lang;
use crate::oidc::authorize::{LoginResult, Outcome};
use crate::oidc::request::{AuthRequest, AuthorizeError, AuthorizeParams, validate_as};

/// The page language: the person's pick, the request's `ui_locales`, then `[ui]` (see [`super::ui`]).
pub(super) fn negotiate(app: &App, params: &AuthorizeParams, headers: &HeaderMap) -> Lang {
    super::ui::lang(app, headers, params.ui_locales.as_deref())
}

/// Where a request arrived: at `/authorize` from the app, or from one of our own pages' forms.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Entry {
    Authorize,
    Form,
}

/// Validates, or renders why not: a page for an unknown client or redirect URI, a redirect for the rest.
/// A pushed request is taken from the store (at `/authorize`, by `request_uri`, once) or opened from the seal
/// our pages carry (from a form); the parameters it yields are returned with the checked request.
pub(super) async fn checked(
    app: &App,
    params: AuthorizeParams,
    lang: Lang,
    entry: Entry,
) -> Result<(AuthRequest, AuthorizeParams), Box<Response>> {
    let mut params = params;
    if entry == Entry::Authorize {
        // Only our own pages carry a sealed request; from an app it means nothing and is not passed on.
        params.pushed_request = None;
    }
    let (params, pushed) = match entry {
        Entry::Authorize if params.request_uri.is_some() => match app.provider.take_pushed(&params).await {
            Ok(Some(pushed)) => (pushed, true),
            Ok(None) => {
                tracing::info!(client = ?params.client_id, "request_uri unknown, expired, used or for another client");
                let message = prompt::texts(lang).request_uri_invalid;
                return Err(Box::new(pages::error_message(lang, StatusCode::BAD_REQUEST, message)));
            }
            Err(e) => return Err(Box::new(pages::error(lang, e))),
        },
        Entry::Form if params.pushed_request.is_some() => match app.provider.open_pushed(&params) {
            Some(pushed) => (pushed, true),
            None => {
                let message = prompt::texts(lang).pushed_form_expired;
                return Err(Box::new(pages::error_message(lang, StatusCode::BAD_REQUEST, message)));
            }
        },
        _ => (params, false),
    };
    match validate_as(&params, &app.provider.clients, pushed) {
        Ok(req) => Ok((req, params)),
        Err(AuthorizeError::Page(e)) => Err(Box::new(pages::error(lang, e))),
        Err(AuthorizeError::Redirect(r)) => Err(Box::new(pages::auth_response(lang, &app.provider.error_response(&r)))),
    }
}

/// What the pages carry back in hidden fields: the parameters, or for a pushed request its seal.
pub(super) fn carried(app: &App, req: &AuthRequest, params: &AuthorizeParams) -> Result<AuthorizeParams, Error> {
    if req.pushed { app.provider.seal_pushed(params) } else { Ok(params.clone()) }
}

pub async fn authorize_get(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    query: Result<Query<AuthorizeParams>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(params)) => authorize(&app, &headers, params, &ctx).await,
        Err(e) => pages::error(super::ui::lang(&app, &headers, None), Error::InvalidRequest(e.body_text())),
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
        Err(e) => pages::error(super::ui::lang(&app, &headers, None), Error::InvalidRequest(e.body_text())),
    }
}

async fn authorize(app: &App, headers: &HeaderMap, params: AuthorizeParams, ctx: &RequestContext) -> Response {
    let first = negotiate(app, &params, headers);
    let (req, params) = match checked(app, params, first, Entry::Authorize).await {
        Ok(checked) => checked,
        Err(response) => return *response,
    };
    // A pushed request's own ui_locales count from here on.
    let lang = negotiate(app, &params, headers);
    let cookie = cookies::get(headers, &cookies::session_name(app));
    let outcome = app.provider.authorize(&req, cookie, ctx).await;
    let hint = params.login_hint.clone().unwrap_or_default();
    respond(app, headers, lang, &req, &params, outcome, &hint).await
}

/// Renders an outcome: back to the app, or one of our pages (sign-in, account choice, consent).
pub(super) async fn respond(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    req: &AuthRequest,
    params: &AuthorizeParams,
    outcome: Result<Outcome, Error>,
    username: &str,
) -> Response {
    match outcome {
        Ok(Outcome::Respond(r)) => pages::auth_response(lang, &r),
        Ok(Outcome::Login) => login_form(app, headers, lang, req, params, username, None),
        Ok(Outcome::SelectAccount(user)) => prompt::select_account_page(app, headers, lang, req, params, &user),
        Ok(Outcome::Consent(user)) => prompt::consent_page(app, headers, lang, req, params, &user),
        Ok(Outcome::SecondFactor(step)) => match continuation(app, req, params).await {
            Ok(next) => super::account::second_factor_redirect(step, &next),
            Err(e) => pages::error(lang, e),
        },
        Err(e) => pages::error(lang, e),
    }
}

/// Where the browser resumes this authorization once its second factor is proved: `/authorize` again with the
/// same parameters, or for a pushed request with a fresh internal `request_uri` (a client that must push would
/// refuse plain parameters, and they are not the client's to change).
async fn continuation(app: &App, req: &AuthRequest, params: &AuthorizeParams) -> Result<String, Error> {
    if req.pushed { app.provider.repush(params).await } else { Ok(super::account::authorize_continue(params)) }
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
    let carried = match carried(app, req, params) {
        Ok(carried) => carried,
        Err(e) => return pages::error(lang, e),
    };
    let (csrf, set_cookie) = csrf::issue(app, headers);
    let back = form_address(params);
    let here = match (&carried.client_id, &carried.pushed_request) {
        (Some(client_id), Some(seal)) => super::ui::Here::Pushed { client_id, seal },
        _ => super::ui::Here::Path(&back),
    };
    let help = super::ui::help(app, lang, here);
    let mut response = pages::login(lang, req, &carried, username, notice, &csrf, help);
    if let Some(value) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The GET address of a sign-in form for `params` (not pushed), for its language link: every parameter kept,
/// `prompt=login` and `max_age` included, so switching language skips nothing the app asked for.
fn form_address(params: &AuthorizeParams) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pages::hidden_fields(params) {
        query.append_pair(k, v);
    }
    if let Some(hint) = &params.login_hint {
        query.append_pair("login_hint", hint);
    }
    format!("{}?{}", crate::oidc::discovery::AUTHORIZE_PATH, query.finish())
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
        return pages::error(super::ui::lang(&app, &headers, None), Error::InvalidRequest("malformed form".into()));
    };
    let lang = negotiate(&app, &form.params, &headers);
    let (req, params) = match checked(&app, form.params, lang, Entry::Form).await {
        Ok(checked) => checked,
        Err(response) => return *response,
    };
    let typed = form.username.trim();
    let show = |notice| login_form(&app, &headers, lang, &req, &params, typed, Some(notice));
    if !csrf::matches(&app, &headers, &form.csrf) {
        tracing::warn!(client = %req.client.id, "sign-in form without a matching anti-forgery token");
        return show(pages::Notice::FormExpired);
    }
    let cookie = cookies::get(&headers, &cookies::session_name(&app));
    let result = app.provider.login(&req, &form.username, &form.password, cookie, &ctx).await;
    cookies::count_sign_in(
        &app,
        match &result {
            Ok(LoginResult::Success { .. } | LoginResult::Consent { .. } | LoginResult::SecondFactor { .. }) => {
                Ok(None)
            }
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
        Ok(LoginResult::Consent { cookie, user, .. }) => {
            let mut response = prompt::consent_page(&app, &headers, lang, &req, &params, &user);
            cookies::attach_session(&app, &mut response, cookie);
            response
        }
        Ok(LoginResult::SecondFactor { step, cookie, .. }) => {
            let next = match continuation(&app, &req, &params).await {
                Ok(next) => next,
                Err(e) => return pages::error(lang, e),
            };
            let mut response = super::account::second_factor_redirect(step, &next);
            cookies::attach_session(&app, &mut response, cookie);
            response
        }
        Ok(LoginResult::Refused { message, .. }) => show(pages::Notice::Login(message)),
        Err(Error::Unavailable("directory")) => show(pages::Notice::DirectoryDown),
        Err(e) => pages::error(lang, e),
    }
}
