//! `POST /saml/slo/confirm` and the page before it: an unsigned SAML LogoutRequest (SimpleSAMLphp's default) is
//! anyone's to send, so — as for an OIDC logout without `id_token_hint` — the person is asked first, on a page bound
//! to their session cookie. Confirming runs single logout and answers the SP; declining answers the SP with a
//! LogoutResponse that says so. Either way the browser ends up back at the SP's registered logout URL.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

use super::context::Ctx;
use super::{cookies, pages};
use crate::App;
use crate::error::Error;
use crate::i18n::{Lang, Texts};
use crate::oidc::Provider;
use crate::saml::logout::LogoutRequest;
use crate::saml::pending::{self, LOGOUT_TYP};
use crate::saml::{SLO_CONFIRM_PATH, Saml};

#[derive(Template, WebTemplate)]
#[template(path = "saml_logout_confirm.html")]
struct ConfirmPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    question: String,
    action: &'static str,
    hidden: Vec<(&'static str, &'a str)>,
}

/// The confirmation form: the sealed request, the session-bound anti-forgery value, and the button pressed.
#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    logout: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    answer: String,
}

/// The page asking the person whether to sign out, for a checked unsigned `req` and the session `cookie`.
pub fn page(app: &App, saml: &Saml, lang: Lang, req: &LogoutRequest, cookie: &str) -> Response {
    let sealed = match pending::seal(
        &app.provider.keys.current(),
        &app.provider.issuer,
        LOGOUT_TYP,
        req,
        app.provider.clock.now(),
    ) {
        Ok(token) => token,
        Err(e) => return pages::error(lang, e),
    };
    let confirm = Provider::logout_confirmation(cookie);
    let name = saml.sps.get(&req.sp).map(|sp| sp.name.as_str()).unwrap_or(req.sp.as_str());
    let t = lang.texts();
    let page = ConfirmPage {
        lang: lang.code(),
        t,
        question: t.confirm_saml_logout_question.replace("{app}", name),
        action: SLO_CONFIRM_PATH,
        hidden: vec![("logout", sealed.as_str()), ("confirm", confirm.as_str())],
    };
    ([(header::CACHE_CONTROL, "no-store")], page).into_response()
}

pub async fn confirm(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Response {
    let lang = super::ui::lang(&app, &headers, None);
    let Some(saml) = &app.saml else { return pages::error(lang, Error::InvalidRequest("SAML is off".into())) };
    let Ok(Form(form)) = form else { return pages::error(lang, Error::InvalidRequest("malformed form".into())) };
    let mut req: LogoutRequest =
        match pending::open(&app.provider.keys.current(), &app.provider.issuer, LOGOUT_TYP, &form.logout) {
            Ok(req) => req,
            Err(e) => return pages::error(lang, e),
        };
    let cookie = cookies::get(&headers, &app.provider.session.cookie_name);
    // Only this browser's own confirmation page can carry this value; anything else is not the person's answer.
    let bound = cookie.is_some_and(|c| {
        let expected = Provider::logout_confirmation(c);
        aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), form.confirm.as_bytes()).is_ok()
    });
    if form.answer == "confirm" && bound {
        // The person's own confirmation stands in for the SP's signature.
        req.signed = true;
        return super::saml::slo(&app, saml, &headers, &req, &ctx).await;
    }
    match saml.declined_logout(&app.provider, &req, &ctx) {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => pages::error(lang, e),
    }
}
