//! `GET|POST /mfa`: the second-factor form (input `otp`) for a session made with the password alone — after the
//! password, or as the step-up when an app needs two factors and the session has one. Where the person has a
//! passkey the page offers it too (and then runs the passkey script: see [`super::passkey`]).

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::passkey_texts::{PasskeyTexts, passkey_texts};
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
use crate::mfa::passkey_flow::CeremonyOptions;

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
    pk: &'static PasskeyTexts,
    /// The passkey ceremony, when the account has a passkey.
    passkey: Option<CeremonyOptions>,
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

/// The form, with a fresh passkey ceremony when the session's account has a passkey.
pub(super) async fn page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    next: &str,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    let passkey = async {
        let Some(session) = current(app, headers).await? else { return Ok(None) };
        let factors = app.provider.factors(&session.account).await?;
        app.provider.start_passkey_assertion(&session, &factors).await
    };
    let passkey = match passkey.await {
        Ok(p) => p,
        Err(e) => return pages::error(lang, e),
    };
    let (csrf, cookie) = csrf::issue(app, headers);
    let with_script = passkey.is_some();
    let pk = passkey_texts(lang);
    let help = help(app, lang, &with_continue(SECOND_FACTOR_PATH, next));
    let page =
        MfaPage { lang: lang.code(), t: lang.texts(), m: texts(lang), csrf: &csrf, next, message, help, pk, passkey };
    let response = if with_script {
        (status, super::passkey::script_headers(), page).into_response()
    } else {
        (status, no_store(), page).into_response()
    };
    with_cookie(response, cookie)
}

pub async fn form(State(app): State<Arc<App>>, headers: HeaderMap, Query(q): Query<Next>) -> Response {
    let lang = lang(&app, &headers, q.ui_locales.as_deref());
    let next = local_path(q.next.as_deref());
    match current(&app, &headers).await {
        Ok(Some(_)) => page(&app, &headers, lang, &next, StatusCode::OK, None).await,
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
        return page(&app, &headers, lang, &next, StatusCode::FORBIDDEN, Some(m.form_expired.into())).await;
    }
    match app.provider.verify_second_factor(&session, &f.otp, ACCOUNT_CLIENT, &ctx).await {
        Ok(Verification::Passed(_)) => see_other(&next),
        Ok(Verification::Wrong) => page(&app, &headers, lang, &next, StatusCode::OK, Some(m.wrong_code.into())).await,
        Ok(Verification::Throttled(secs)) => {
            let message = m.throttled.replace("{wait}", &lang.duration(secs));
            page(&app, &headers, lang, &next, StatusCode::TOO_MANY_REQUESTS, Some(message)).await
        }
        Err(e) => pages::error(lang, e),
    }
}
