//! `/saml/metadata`, `/saml/sso`, `/saml/continue`, `/saml/login`, `/saml/slo` (and its confirmation page in
//! [`super::saml_confirm`]): the SAML identity provider's HTTP
//! face. Handlers parse the bindings, ask [`crate::saml`], and render with the same pages as OIDC.
//!
//! A request arriving by HTTP-POST comes from another site, and browsers do not send SameSite=Lax cookies with a
//! cross-site POST: such a request is checked, sealed, and resumed by a 303 to `/saml/continue` (a top-level
//! GET, which does carry the session cookie), so single sign-on works over both bindings.

use std::sync::Arc;

use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::context::Ctx;
use super::{cookies, csrf, logout, pages};
use crate::App;
use crate::audit::{Event, RequestContext};
use crate::error::Error;
use crate::i18n::Lang;
use crate::mfa::policy::Step;
use crate::oidc::authorize::SignIn;
use crate::saml::authn::{AuthnRequest, SsoOutcome};
use crate::saml::binding::RedirectQuery;
use crate::saml::logout::LogoutRequest;
use crate::saml::pending::{self, AUTHN_TYP, LOGOUT_TYP};
use crate::saml::{
    CONTINUE_PATH, Inbound, LOGIN_PATH, METADATA_PATH, SLO_CONFIRM_PATH, SLO_PATH, SSO_PATH, Saml, SamlError,
};

/// The SAML routes; mounted only when `[saml] enabled`.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(METADATA_PATH, get(metadata))
        .route(SSO_PATH, get(sso_redirect).post(sso_post))
        .route(CONTINUE_PATH, get(resume))
        .route(LOGIN_PATH, post(login))
        .route(SLO_PATH, get(slo_redirect).post(slo_post))
        .route(SLO_CONFIRM_PATH, post(super::saml_confirm::confirm))
}

/// The POST binding's form fields.
#[derive(Deserialize)]
pub struct PostForm {
    #[serde(rename = "SAMLRequest")]
    request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// A parked request (see the module comment).
#[derive(Deserialize)]
pub struct Resume {
    authn: Option<String>,
    logout: Option<String>,
}

/// The SAML sign-in form: mailbox, password, anti-forgery value and the sealed AuthnRequest.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    saml_request: String,
}

/// The page language: the person's pick, then `[ui]` (a SAML request names none).
fn lang(app: &App, headers: &HeaderMap) -> Lang {
    super::ui::lang(app, headers, None)
}

/// 404 when SAML is off (the routes are not mounted then anyway).
fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// Records and shows a refused message: always a page, never an answer to an unverified address. The audit
/// line names the SP the message claims to come from, when that is a registered one.
fn refused(app: &App, ctx: &RequestContext, lang: Lang, e: SamlError, inbound: Option<&Inbound>) -> Response {
    let mut event = Event::new("saml_request_refused").reason(e.reason());
    let claimed = match (&e, app.saml.as_ref().zip(inbound)) {
        (SamlError::UnknownSp(claimed), _) => Some(claimed.chars().take(256).collect()),
        (_, Some((saml, inbound))) => saml.claimed_sp(inbound),
        _ => None,
    };
    if let Some(sp) = claimed {
        event = event.client(sp);
    }
    app.provider.audit.record(ctx, event);
    pages::error(lang, e.into())
}

fn seal<T: serde::Serialize>(app: &App, typ: &str, body: &T) -> Result<String, Error> {
    pending::seal(&app.provider.keys.current(), &app.provider.issuer, typ, body, app.provider.clock.now())
}

fn open<T: serde::de::DeserializeOwned>(app: &App, typ: &str, token: &str) -> Result<T, Error> {
    pending::open(&app.provider.keys.current(), &app.provider.issuer, typ, token)
}

pub async fn metadata(State(app): State<Arc<App>>) -> Response {
    let Some(saml) = &app.saml else { return not_found() };
    match saml.metadata(&app.provider.keys.current()) {
        Ok(xml) => ([(header::CONTENT_TYPE, "application/samlmetadata+xml; charset=utf-8")], xml).into_response(),
        Err(e) => pages::error(Lang::default(), e),
    }
}

pub async fn sso_redirect(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (Some(saml), lang) = (&app.saml, lang(&app, &headers)) else { return not_found() };
    let inbound = match RedirectQuery::parse(query.as_deref().unwrap_or_default()) {
        Ok(q) => Inbound::Redirect(q),
        Err(e) => return refused(&app, &ctx, lang, e.into(), None),
    };
    match saml.authn_request(&inbound, app.provider.clock.now()) {
        Ok(req) => sso(&app, saml, &headers, &req, &ctx).await,
        Err(e) => refused(&app, &ctx, lang, e, Some(&inbound)),
    }
}

pub async fn sso_post(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    form: Result<Form<PostForm>, FormRejection>,
) -> Response {
    let (Some(saml), lang) = (&app.saml, lang(&app, &headers)) else { return not_found() };
    let Ok(Form(PostForm { request: Some(message), relay_state, .. })) = form else {
        return refused(&app, &ctx, lang, SamlError::Invalid("no SAMLRequest".into()), None);
    };
    let inbound = Inbound::Post { message, relay_state };
    let req = match saml.authn_request(&inbound, app.provider.clock.now()) {
        Ok(req) => req,
        Err(e) => return refused(&app, &ctx, lang, e, Some(&inbound)),
    };
    match seal(&app, AUTHN_TYP, &req) {
        Ok(token) => Redirect::to(&format!("{CONTINUE_PATH}?authn={token}")).into_response(),
        Err(e) => pages::error(lang, e),
    }
}

pub async fn resume(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Query(resume): Query<Resume>,
) -> Response {
    let (Some(saml), lang) = (&app.saml, lang(&app, &headers)) else { return not_found() };
    match (&resume.authn, &resume.logout) {
        (Some(token), _) => match open::<AuthnRequest>(&app, AUTHN_TYP, token) {
            Ok(req) => sso(&app, saml, &headers, &req, &ctx).await,
            Err(e) => pages::error(lang, e),
        },
        (None, Some(token)) => match open::<LogoutRequest>(&app, LOGOUT_TYP, token) {
            Ok(req) => slo(&app, saml, &headers, &req, &ctx).await,
            Err(e) => pages::error(lang, e),
        },
        (None, None) => pages::error(lang, Error::InvalidRequest("nothing to continue".into())),
    }
}

async fn sso(app: &App, saml: &Saml, headers: &HeaderMap, req: &AuthnRequest, ctx: &RequestContext) -> Response {
    let lang = lang(app, headers);
    let cookie = cookies::get(headers, &cookies::session_name(app));
    // Two factors needed (the SP's `require_mfa`, or its request asks) and a session made with the password alone:
    // the step-up, before any assertion.
    if saml.sps.get(&req.sp).is_some_and(|sp| req.needs_mfa(sp) && !req.force_authn && !req.is_passive)
        && let Ok(Some(session)) = app.provider.session_for_cookie(cookie).await
        && !session.has_second_factor()
    {
        return match (seal(app, AUTHN_TYP, req), app.provider.factors(&session.account).await) {
            (Ok(token), Ok(factors)) => {
                let step = if factors.is_enrolled() { Step::SecondFactor } else { Step::Enrol };
                let next = format!("{CONTINUE_PATH}?authn={token}");
                super::account::second_factor_redirect(step, &next)
            }
            (Err(e), _) | (_, Err(e)) => pages::error(lang, e),
        };
    }
    match saml.single_sign_on(&app.provider, req, cookie, ctx).await {
        Ok(SsoOutcome::Respond(r)) => pages::auth_response(lang, &r),
        Ok(SsoOutcome::Login(sp)) => match seal(app, AUTHN_TYP, req) {
            Ok(token) => login_page(app, headers, &sp.name, &token, "", None),
            Err(e) => pages::error(lang, e),
        },
        Err(e) => pages::error(lang, e),
    }
}

/// The shared sign-in form, posting back to `/saml/login` with the sealed request.
fn login_page(
    app: &App,
    headers: &HeaderMap,
    app_name: &str,
    token: &str,
    username: &str,
    notice: Option<pages::Notice>,
) -> Response {
    let (csrf, set_cookie) = csrf::issue(app, headers);
    let hidden = vec![("saml_request", token), ("csrf", csrf.as_str())];
    let lang = lang(app, headers);
    let back = format!("{CONTINUE_PATH}?authn={token}");
    let help = super::ui::help(app, lang, super::ui::Here::Path(&back));
    let mut response = pages::login_form(lang, app_name, LOGIN_PATH, hidden, username, notice, help);
    if let Some(value) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub async fn login(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let (Some(saml), lang) = (&app.saml, lang(&app, &headers)) else { return not_found() };
    let Ok(Form(form)) = form else {
        return pages::error(lang, Error::InvalidRequest("malformed form".into()));
    };
    let req: AuthnRequest = match open(&app, AUTHN_TYP, &form.saml_request) {
        Ok(req) => req,
        Err(e) => return pages::error(lang, e),
    };
    let Some(sp) = saml.sps.get(&req.sp) else { return pages::error(lang, Error::UnknownClient) };
    let typed = form.username.trim();
    let show = |notice| login_page(&app, &headers, &sp.name, &form.saml_request, typed, Some(notice));
    if !csrf::matches(&app, &headers, &form.csrf) {
        tracing::warn!(sp = %sp.entity_id, "SAML sign-in form without a matching anti-forgery token");
        return show(pages::Notice::FormExpired);
    }
    let cookie = cookies::get(&headers, &cookies::session_name(&app));
    let result = app.provider.sign_in(&sp.entity_id, &form.username, &form.password, cookie, &ctx, None).await;
    cookies::count_sign_in(
        &app,
        match &result {
            Ok(SignIn::Success { .. }) => Ok(None),
            Ok(SignIn::Refused { reason, .. }) => Ok(Some(*reason)),
            Err(e) => Err(e),
        },
    );
    match result {
        Ok(SignIn::Success { session, cookie, user, .. }) => {
            let step = match app.provider.mfa_step(&session, &user, req.needs_mfa(sp), &[]).await {
                Ok(step) => step,
                Err(e) => return pages::error(lang, e),
            };
            let mut response = if step != Step::Continue {
                super::account::second_factor_redirect(step, &format!("{CONTINUE_PATH}?authn={}", form.saml_request))
            } else {
                match saml.assert(&app.provider, &req, &session, &user, &ctx).await {
                    Ok(r) => pages::auth_response(lang, &r),
                    Err(e) => pages::error(lang, e),
                }
            };
            cookies::attach_session(&app, &mut response, cookie);
            response
        }
        Ok(SignIn::Refused { message, .. }) => show(pages::Notice::Login(message)),
        Err(Error::Unavailable("directory")) => show(pages::Notice::DirectoryDown),
        Err(e) => pages::error(lang, e),
    }
}

pub async fn slo_redirect(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (Some(saml), lang) = (&app.saml, lang(&app, &headers)) else { return not_found() };
    let query = match RedirectQuery::parse(query.as_deref().unwrap_or_default()) {
        Ok(q) => q,
        Err(e) => return refused(&app, &ctx, lang, e.into(), None),
    };
    let answer = query.get("SAMLResponse").is_some();
    let inbound = Inbound::Redirect(query);
    if answer {
        return logout_answered(&app, saml, &ctx, lang, &inbound);
    }
    match saml.logout_request(&inbound, app.provider.clock.now()) {
        Ok(req) => slo(&app, saml, &headers, &req, &ctx).await,
        Err(e) => refused(&app, &ctx, lang, e, Some(&inbound)),
    }
}

pub async fn slo_post(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    form: Result<Form<PostForm>, FormRejection>,
) -> Response {
    let (Some(saml), lang) = (&app.saml, lang(&app, &headers)) else { return not_found() };
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return refused(&app, &ctx, lang, SamlError::Invalid(e.body_text()), None),
    };
    if let Some(message) = form.response {
        let inbound = Inbound::Post { message, relay_state: form.relay_state };
        return logout_answered(&app, saml, &ctx, lang, &inbound);
    }
    let Some(message) = form.request else {
        return refused(&app, &ctx, lang, SamlError::Invalid("no SAMLRequest".into()), None);
    };
    let inbound = Inbound::Post { message, relay_state: form.relay_state };
    match saml.logout_request(&inbound, app.provider.clock.now()).map(|req| seal(&app, LOGOUT_TYP, &req)) {
        Ok(Ok(token)) => Redirect::to(&format!("{CONTINUE_PATH}?logout={token}")).into_response(),
        Ok(Err(e)) => pages::error(lang, e),
        Err(e) => refused(&app, &ctx, lang, e, Some(&inbound)),
    }
}

/// A checked LogoutRequest: an unsigned one from a browser with a session is confirmed by the person first.
pub(super) async fn slo(
    app: &App,
    saml: &Saml,
    headers: &HeaderMap,
    req: &LogoutRequest,
    ctx: &RequestContext,
) -> Response {
    let lang = lang(app, headers);
    let cookie = cookies::get(headers, &cookies::session_name(app));
    if !req.signed
        && let Some(c) = cookie
    {
        match app.provider.session_for_cookie(Some(c)).await {
            Ok(Some(_)) => return super::saml_confirm::page(app, saml, lang, req, c),
            Ok(None) => {}
            Err(e) => return pages::error(lang, e),
        }
    }
    match saml.single_logout(&app.provider, req, cookie, ctx).await {
        Ok(out) if out.ended => logout::finish(app, lang, Some(&out.redirect), &out.frames),
        Ok(out) => Redirect::to(&out.redirect).into_response(),
        Err(e) => pages::error(lang, e),
    }
}

/// An SP's answer to one of our front-channel LogoutRequests: nothing left to do but say so. It changes nothing,
/// not even the cookie (the session ended before our request went out): a forged or unsolicited answer, which is
/// refused anyway, could otherwise sign a browser out.
fn logout_answered(app: &App, saml: &Saml, ctx: &RequestContext, lang: Lang, inbound: &Inbound) -> Response {
    match saml.logout_response(&app.provider.keys.current(), inbound, app.provider.clock.now()) {
        Ok(sp) => {
            tracing::debug!(%sp, "SAML LogoutResponse received");
            let mut response = logout::finish(app, lang, None, &[]);
            response.headers_mut().remove(header::SET_COOKIE);
            response
        }
        Err(e) => refused(app, ctx, lang, e, Some(inbound)),
    }
}
