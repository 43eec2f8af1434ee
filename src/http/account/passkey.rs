//! Passkeys on the account page and the second-factor page: `GET|POST /tai-khoan/passkey` adds one (the same
//! rules as adding an authenticator app: a first factor right after the password, any further one after a fresh
//! two-factor sign-in), `POST /mfa/passkey` proves one. These pages alone run a script, our own
//! `/static/passkey.js`, under [`PASSKEY_CSP`]; the ceremony's answer comes back in an ordinary form post with
//! the anti-forgery value. Without script the passkey parts stay hidden and the code form still works.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::factors::{codes_page, enrolling};
use super::passkey_texts::{PasskeyTexts, passkey_texts};
use super::second_factor;
use super::texts::texts;
use super::{ACCOUNT_CLIENT, current, form_ok, lang, local_path, see_other, to_sign_in, with_continue};
use crate::App;
use crate::http::context::Ctx;
use crate::http::{csrf, pages};
use crate::i18n::{Lang, Texts};
use crate::mfa::Factors;
use crate::mfa::flow::Verification;
use crate::mfa::passkey::Assertion;
use crate::mfa::passkey_factor::PasskeyFactor;
use crate::mfa::passkey_flow::{CeremonyOptions, Registered};

pub const PASSKEY_PATH: &str = "/tai-khoan/passkey";
pub const PASSKEY_VERIFY_PATH: &str = "/mfa/passkey";
/// The passkey pages' policy: the service's own script file and nothing else (no inline script, no eval, no
/// connections: the answer is posted as a form).
pub const PASSKEY_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";
/// The script itself, served at `/static/passkey.js`.
pub const PASSKEY_JS: &str = include_str!("../../../static/passkey.js");

/// Response headers of a page that runs the passkey script.
pub fn script_headers() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PASSKEY_CSP)),
    ]
}

pub async fn script() -> Response {
    let headers =
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")];
    (headers, PASSKEY_JS).into_response()
}

/// A passkey as the account page lists it (the id only names it for the remove form).
pub(super) struct PasskeyRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) created: String,
    pub(super) last_used: String,
}

/// The account page's rows for the account's passkeys, times written by `when`.
pub(super) fn rows(factors: &Factors, lang: Lang, when: fn(u64) -> String) -> Vec<PasskeyRow> {
    let never = passkey_texts(lang).never;
    let row = |k: &PasskeyFactor| PasskeyRow {
        id: k.id.clone(),
        name: k.name.clone(),
        created: when(k.created),
        last_used: k.last_used.map_or_else(|| never.to_owned(), when),
    };
    factors.passkeys.iter().map(row).collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "passkey_enrol.html")]
struct EnrolPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    pk: &'static PasskeyTexts,
    csrf: &'a str,
    next: &'a str,
    options: &'a CeremonyOptions,
    rp_name: &'a str,
    user_name: &'a str,
    exclude: String,
    message: Option<&'static str>,
    help: crate::http::ui::Help,
}

async fn enrol_page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    next: &str,
    status: StatusCode,
    message: Option<&'static str>,
) -> Response {
    let Ok(Some(session)) = current(app, headers).await else { return to_sign_in(&with_continue(PASSKEY_PATH, next)) };
    let options = match app.provider.start_passkey_registration(&session).await {
        Ok(o) => o,
        Err(e) => return pages::error(lang, e),
    };
    let (csrf, cookie) = csrf::issue(app, headers);
    let page = EnrolPage {
        lang: lang.code(),
        t: lang.texts(),
        pk: passkey_texts(lang),
        csrf: &csrf,
        next,
        options: &options,
        rp_name: &app.provider.mfa.issuer_label,
        user_name: &session.account,
        exclude: options.credentials.join(","),
        message,
        help: super::help(app, lang, &with_continue(PASSKEY_PATH, next)),
    };
    super::with_cookie((status, script_headers(), page).into_response(), cookie)
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
    match enrolling(&app, &headers, lang, PASSKEY_PATH, &next).await {
        Ok(_) => enrol_page(&app, &headers, lang, &next, StatusCode::OK, None).await,
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    client_data_json: String,
    #[serde(default)]
    attestation_object: String,
    #[serde(default)]
    name: String,
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
    let pk = passkey_texts(lang);
    let next = local_path(f.next.as_deref());
    let session = match enrolling(&app, &headers, lang, PASSKEY_PATH, &next).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if !form_ok(&app, &headers, &f.csrf) {
        return enrol_page(&app, &headers, lang, &next, StatusCode::FORBIDDEN, Some(texts(lang).form_expired)).await;
    }
    let finished = app
        .provider
        .finish_passkey_registration(
            &session,
            &f.challenge,
            &f.client_data_json,
            &f.attestation_object,
            &f.name,
            pk.default_name,
            &ctx,
        )
        .await;
    match finished {
        Ok(Registered::Added(_, codes)) if codes.is_empty() => see_other(&next),
        Ok(Registered::Added(_, codes)) => codes_page(lang, &codes, &next),
        Ok(Registered::Refused(_)) => {
            enrol_page(&app, &headers, lang, &next, StatusCode::BAD_REQUEST, Some(pk.refused)).await
        }
        Err(e) => pages::error(lang, e),
    }
}

#[derive(Deserialize)]
pub struct AssertionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    credential_id: String,
    #[serde(default)]
    client_data_json: String,
    #[serde(default)]
    authenticator_data: String,
    #[serde(default)]
    signature: String,
    #[serde(rename = "continue")]
    next: Option<String>,
}

pub async fn verify(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Form(f): Form<AssertionForm>,
) -> Response {
    let lang = lang(&app, &headers, None);
    let (m, pk) = (texts(lang), passkey_texts(lang));
    let next = local_path(f.next.as_deref());
    let session = match current(&app, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return to_sign_in(&next),
        Err(e) => return pages::error(lang, e),
    };
    if !form_ok(&app, &headers, &f.csrf) {
        return second_factor::page(&app, &headers, lang, &next, StatusCode::FORBIDDEN, Some(m.form_expired.into()))
            .await;
    }
    let assertion = Assertion {
        credential_id: f.credential_id,
        client_data_json: f.client_data_json,
        authenticator_data: f.authenticator_data,
        signature: f.signature,
    };
    match app.provider.verify_passkey(&session, &f.challenge, &assertion, ACCOUNT_CLIENT, &ctx).await {
        Ok(Verification::Passed(_)) => see_other(&next),
        Ok(Verification::Wrong) => {
            second_factor::page(&app, &headers, lang, &next, StatusCode::FORBIDDEN, Some(pk.refused.into())).await
        }
        Ok(Verification::Throttled(secs)) => {
            let message = m.throttled.replace("{wait}", &lang.duration(secs));
            second_factor::page(&app, &headers, lang, &next, StatusCode::TOO_MANY_REQUESTS, Some(message)).await
        }
        Err(e) => pages::error(lang, e),
    }
}
