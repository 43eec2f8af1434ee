//! `GET|POST /logout`: the end-session endpoint. Parses, asks [`crate::oidc::logout`], renders.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::context::Ctx;
use super::{cookies, pages};
use crate::App;
use crate::audit::{Event, RequestContext};
use crate::error::Error;
use crate::i18n::{Lang, Texts};
use crate::oidc::Provider;
use crate::oidc::discovery::LOGOUT_PATH;
use crate::oidc::logout::LogoutParams;

#[derive(Template, WebTemplate)]
#[template(path = "logged_out.html")]
struct LoggedOutPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    redirect: Option<&'a str>,
    frames: &'a [String],
}

#[derive(Template, WebTemplate)]
#[template(path = "logout_confirm.html")]
struct ConfirmPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    action: &'static str,
    hidden: Vec<(&'static str, &'a str)>,
}

pub async fn logout_get(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    query: Result<Query<LogoutParams>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(params)) => logout(&app, &headers, params, &ctx).await,
        Err(e) => pages::error(super::ui::lang(&app, &headers, None), Error::InvalidRequest(e.body_text())),
    }
}

pub async fn logout_post(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    form: Result<Form<LogoutParams>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(params)) => logout(&app, &headers, params, &ctx).await,
        Err(e) => pages::error(super::ui::lang(&app, &headers, None), Error::InvalidRequest(e.body_text())),
    }
}

async fn logout(app: &App, headers: &HeaderMap, params: LogoutParams, ctx: &RequestContext) -> Response {
    let lang = super::ui::lang(app, headers, params.ui_locales.as_deref());
    let cookie_name = cookies::session_name(app);
    let cookie = cookies::get(headers, &cookie_name);
    let plan = match app.provider.plan_logout(&params, cookie).await {
        Ok(plan) => plan,
        Err(e) => return pages::error(lang, e),
    };
    let (Some(session), Some(cookie)) = (&plan.session, cookie) else {
        return finish(app, lang, plan.redirect.as_deref(), &[]);
    };
    if !plan.proven {
        let confirm = Provider::logout_confirmation(cookie);
        let mut hidden: Vec<(&'static str, &str)> = vec![("confirm", confirm.as_str())];
        let optional = [
            ("client_id", &params.client_id),
            ("post_logout_redirect_uri", &params.post_logout_redirect_uri),
            ("state", &params.state),
            ("ui_locales", &params.ui_locales),
        ];
        hidden.extend(optional.into_iter().filter_map(|(k, v)| v.as_deref().map(|v| (k, v))));
        let page = ConfirmPage { lang: lang.code(), t: lang.texts(), action: LOGOUT_PATH, hidden };
        return ([(header::CACHE_CONTROL, "no-store")], page).into_response();
    }
    let mut event = Event::new("logout");
    event.client = params.client_id.clone();
    let ended = match app.provider.end_session_in_full(&session.id, ctx, event).await {
        Ok(Some(ended)) => ended,
        Ok(None) => return finish(app, lang, plan.redirect.as_deref(), &[]),
        Err(e) => return pages::error(lang, e),
    };
    let mut frames = app.provider.frontchannel_frames(&ended.clients, &session.id);
    // SAML service providers of the same session get a signed LogoutRequest in a frame of their own.
    if let Some(saml) = &app.saml {
        let keys = app.provider.keys.current();
        frames.extend(saml.frontchannel_frames(&keys, &ended, None, app.provider.clock.now()));
    }
    finish(app, lang, plan.redirect.as_deref(), &frames)
}

/// Clears the cookie, then redirects (no front-channel frames to load) or shows the signed-out page.
pub(super) fn finish(app: &App, lang: Lang, redirect: Option<&str>, frames: &[String]) -> Response {
    let mut response = match (redirect, frames.is_empty()) {
        (Some(url), true) => Redirect::to(url).into_response(),
        _ => {
            let page = LoggedOutPage { lang: lang.code(), t: lang.texts(), redirect, frames };
            let mut r = ([(header::CACHE_CONTROL, "no-store")], page).into_response();
            if let Ok(csp) = HeaderValue::from_str(&frame_csp(frames)) {
                r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
            }
            r
        }
    };
    let clear = cookies::set(&cookies::session_name(app), "", 0, app.secure_cookies);
    response.headers_mut().append(header::SET_COOKIE, clear);
    response
}

/// The page's policy: the usual one, plus the origins of the front-channel frames it loads.
fn frame_csp(frames: &[String]) -> String {
    let mut origins: Vec<String> =
        frames.iter().filter_map(|f| url::Url::parse(f).ok()).map(|u| u.origin().ascii_serialization()).collect();
    origins.sort();
    origins.dedup();
    let frame_src = if origins.is_empty() { "'none'".to_owned() } else { origins.join(" ") };
    format!("default-src 'none'; style-src 'self'; frame-src {frame_src}; base-uri 'none'; frame-ancestors 'none'")
}
