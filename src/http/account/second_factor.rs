//! `GET|POST /mfa`: the second-factor form (input `otp`) for a session made with the password alone — after the
//! password, or as the step-up when an app needs two factors and the session has one.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::texts::{AccountTexts, texts};
use super::{
    ACCOUNT_CLIENT, SECOND_FACTOR_PATH, current, form_ok, help, lang, local_path, no_store, see_other, to_sign_in,
    with_continue, with_cookie,
};
use crate::App;
use crate::http::context::Ctx;
use crate::http::{csrf, pages};
use crate::i18n::{Lang, Texts};
use crate::mfa::flow::Verification;

#[derive(Template, WebTemplate)]
#[template(path = "mfa.html")]
struct MfaPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    m: &'static AccountTexts,
    csrf: &'a str,
    next: &'a str,
    message: Option<String>,
    help: crate::http::ui::Help,
}

#[derive(Deserialize)]
pub struct Next {
    #[serde(rename = "continue")]
    next: Option<String>,
    ui_locales: Option<String>,
}

#[derive(Deserialize)]
pub struct OtpForm {
    #[serde(default)]
    otp: String,
    #[serde(default)]
    csrf: String,
    #[serde(rename = "continue")]
    next: Option<String>,
}

fn page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    next: &str,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    let (csrf, cookie) = csrf::issue(app, headers);
    let help = help(app, lang, &with_continue(SECOND_FACTOR_PATH, next));
    let page = MfaPage { lang: lang.code(), t: lang.texts(), m: texts(lang), csrf: &csrf, next, message, help };
    with_cookie((status, no_store(), page).into_response(), cookie)
}

pub async fn form(State(app): State<Arc<App>>, headers: HeaderMap, Query(q): Query<Next>) -> Response {
    let lang = lang(&app, &headers, q.ui_locales.as_deref());
    let next = local_path(q.next.as_deref());
    match current(&app, &headers).await {
        Ok(Some(_)) => page(&app, &headers, lang, &next, StatusCode::OK, None),
        Ok(None) => to_sign_in(&next),
        Err(e) => pages::error(lang, e),
    }
}

pub async fn verify(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Form(f): Form<OtpForm>,
) -> Response {
    let lang = lang(&app, &headers, None);
    let m = texts(lang);
    let next = local_path(f.next.as_deref());
    let session = match current(&app, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return to_sign_in(&next),
        Err(e) => return pages::error(lang, e),
    };
    if !form_ok(&app, &headers, &f.csrf) {
        return page(&app, &headers, lang, &next, StatusCode::FORBIDDEN, Some(m.form_expired.into()));
    }
    match app.provider.verify_second_factor(&session, &f.otp, ACCOUNT_CLIENT, &ctx).await {
        Ok(Verification::Passed(_)) => see_other(&next),
        Ok(Verification::Wrong) => page(&app, &headers, lang, &next, StatusCode::OK, Some(m.wrong_code.into())),
        Ok(Verification::Throttled(secs)) => {
            let message = m.throttled.replace("{wait}", &lang.duration(secs));
            page(&app, &headers, lang, &next, StatusCode::TOO_MANY_REQUESTS, Some(message))
        }
        Err(e) => pages::error(lang, e),
    }
}
