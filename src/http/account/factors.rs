//! Second factors on the account page: enrol a TOTP app (QR code drawn on the server as SVG, the secret as text
//! in `#totp-secret`, confirmed with a code in `otp`), new recovery codes (shown once), and removing a factor,
//! which needs a fresh sign-in.

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
    ACCOUNT_PATH, SECOND_FACTOR_PATH, TOTP_PATH, current, form_ok, help, lang, local_path, no_store, see_other,
    to_sign_in, with_continue, with_cookie,
};
use crate::App;
use crate::error::Error;
use crate::http::context::Ctx;
use crate::http::{csrf, pages};
use crate::i18n::{Lang, Texts};
use crate::mfa::flow::PendingTotp;
use crate::store::Session;

#[derive(Template, WebTemplate)]
#[template(path = "totp_enrol.html")]
struct EnrolPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    m: &'static AccountTexts,
    pk: &'static super::passkey_texts::PasskeyTexts,
    csrf: &'a str,
    next: &'a str,
    pending: &'a str,
    secret: &'a str,
    qr_svg: &'a str,
    message: Option<&'static str>,
    help: crate::http::ui::Help,
}

#[derive(Template, WebTemplate)]
#[template(path = "recovery_codes.html")]
struct CodesPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    m: &'static AccountTexts,
    codes: &'a [String],
    next: &'a str,
}

pub(super) fn codes_page(lang: Lang, codes: &[String], next: &str) -> Response {
    let page = CodesPage { lang: lang.code(), t: lang.texts(), m: texts(lang), codes, next };
    (no_store(), page).into_response()
}

/// Where a session that is not fresh enough for a change goes: the password, then the second factor, then back.
pub(super) fn re_authenticate(back: &str) -> Response {
    to_sign_in(&with_continue(SECOND_FACTOR_PATH, back))
}

/// The session and whether it may change the account's factors: anyone signed in may set up a first factor
/// (that is the enrolment right after the password); changing existing ones needs a fresh, two-factor sign-in.
pub(super) async fn allowed(app: &App, headers: &HeaderMap) -> Result<Option<(Session, bool)>, Error> {
    let Some(session) = current(app, headers).await? else { return Ok(None) };
    let enrolled = app.provider.factors(&session.account).await?.is_enrolled();
    let ok = !enrolled || app.provider.is_fresh(&session, true);
    Ok(Some((session, ok)))
}

/// The session that may enrol a factor on `path`, or the answer that sends the person where they must go first
/// (the sign-in form, or a fresh two-factor sign-in), back to `path` and `next` afterwards.
pub(super) async fn enrolling(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    path: &str,
    next: &str,
) -> Result<Session, Response> {
    match allowed(app, headers).await {
        Ok(Some((session, true))) => Ok(session),
        Ok(Some((_, false))) => Err(re_authenticate(&with_continue(path, next))),
        Ok(None) => Err(to_sign_in(&with_continue(path, next))),
        Err(e) => Err(pages::error(lang, e)),
    }
}

fn enrol_page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    next: &str,
    p: &PendingTotp,
    message: Option<&'static str>,
) -> Response {
    let (csrf, cookie) = csrf::issue(app, headers);
    let page = EnrolPage {
        lang: lang.code(),
        t: lang.texts(),
        m: texts(lang),
        pk: super::passkey_texts::passkey_texts(lang),
        csrf: &csrf,
        next,
        pending: &p.sealed,
        secret: &p.secret,
        qr_svg: &p.qr_svg,
        message,
        help: help(app, lang, &with_continue(TOTP_PATH, next)),
    };
    with_cookie((StatusCode::OK, no_store(), page).into_response(), cookie)
}

#[derive(Deserialize)]
pub struct Next {
    #[serde(rename = "continue")]
    next: Option<String>,
    ui_locales: Option<String>,
}

pub async fn enrol_form(State(app): State<Arc<App>>, headers: HeaderMap, Query(q): Query<Next>) -> Response {
    let lang = lang(&app, &headers, q.ui_locales.as_deref());
    let next = local_path(q.next.as_deref());
    match enrolling(&app, &headers, lang, TOTP_PATH, &next).await {
        Ok(session) => {
            let pending = app.provider.start_totp(&session.account);
            enrol_page(&app, &headers, lang, &next, &pending, None)
        }
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    otp: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pending: String,
    #[serde(rename = "continue")]
    next: Option<String>,
}

pub async fn enrol(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Form(f): Form<EnrolForm>,
) -> Response {
    let lang = lang(&app, &headers, None);
    let m = texts(lang);
    let next = local_path(f.next.as_deref());
    let session = match enrolling(&app, &headers, lang, TOTP_PATH, &next).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let Some(pending) = app.provider.pending_totp(&session.account, &f.pending) else {
        return pages::error(lang, Error::InvalidRequest("the enrolment form is not this account's".into()));
    };
    if !form_ok(&app, &headers, &f.csrf) {
        return enrol_page(&app, &headers, lang, &next, &pending, Some(m.form_expired));
    }
    match app.provider.confirm_totp(&session, &pending, &f.otp, &ctx).await {
        Ok(Some((_, codes))) if codes.is_empty() => see_other(&next),
        Ok(Some((_, codes))) => codes_page(lang, &codes, &next),
        Ok(None) => enrol_page(&app, &headers, lang, &next, &pending, Some(m.wrong_code)),
        Err(e) => pages::error(lang, e),
    }
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
}

/// Checks the form and the freshness every change of factors needs.
async fn fresh_session(app: &App, headers: &HeaderMap, csrf: &str) -> Result<Result<Session, Response>, Error> {
    match allowed(app, headers).await? {
        None => Ok(Err(to_sign_in(ACCOUNT_PATH))),
        Some(_) if !form_ok(app, headers, csrf) => {
            Ok(Err(pages::error(lang(app, headers, None), Error::InvalidRequest("anti-forgery value missing".into()))))
        }
        Some((session, true)) if app.provider.is_fresh(&session, false) => Ok(Ok(session)),
        Some(_) => Ok(Err(re_authenticate(&format!("{ACCOUNT_PATH}?done=fresh")))),
    }
}

pub async fn recovery_codes(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Form(f): Form<ChangeForm>,
) -> Response {
    let lang = lang(&app, &headers, None);
    let session = match fresh_session(&app, &headers, &f.csrf).await {
        Ok(Ok(s)) => s,
        Ok(Err(response)) => return response,
        Err(e) => return pages::error(lang, e),
    };
    match app.provider.renew_recovery_codes(&session, &ctx).await {
        Ok(codes) => codes_page(lang, &codes, ACCOUNT_PATH),
        Err(e) => pages::error(lang, e),
    }
}

pub async fn remove(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Form(f): Form<ChangeForm>,
) -> Response {
    let lang = lang(&app, &headers, None);
    let session = match fresh_session(&app, &headers, &f.csrf).await {
        Ok(Ok(s)) => s,
        Ok(Err(response)) => return response,
        Err(e) => return pages::error(lang, e),
    };
    match app.provider.remove_factor(&session, &f.kind, &ctx).await {
        Ok(_) => see_other(&format!("{ACCOUNT_PATH}?done=removed")),
        Err(e) => pages::error(lang, e),
    }
}
