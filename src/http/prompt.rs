//! The pages `prompt` asks for after a sign-in, and their forms: the account choice (`prompt=select_account`:
//! "Tiếp tục với tư cách … / Dùng hộp thư khác") and the consent page (the scopes an app asks for, accept or
//! decline). Both carry the authorization request like the sign-in form, with the same anti-forgery value.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::authorize::{Entry, carried, checked, negotiate, respond};
use super::context::Ctx;
use super::{cookies, csrf, pages};
use crate::App;
use crate::directory::User;
use crate::error::Error;
use crate::i18n::{Lang, Texts};
use crate::oidc::authorize::Outcome;
use crate::oidc::discovery::{CONSENT_PATH, SELECT_ACCOUNT_PATH};
use crate::oidc::request::{AuthRequest, AuthorizeParams};

/// What these pages say.
pub struct PromptTexts {
    pub select_title: &'static str,
    pub select_intro: &'static str,
    pub continue_as: &'static str,
    pub use_another: &'static str,
    pub consent_title: &'static str,
    /// `{app}` and `{person}` are replaced.
    pub consent_intro: &'static str,
    pub consent_remembered: &'static str,
    pub accept: &'static str,
    pub decline: &'static str,
    /// What each scope gives the app, in the order of [`crate::oidc::request::SUPPORTED_SCOPES`].
    pub scopes: [&'static str; 5],
    pub request_uri_invalid: &'static str,
    pub pushed_form_expired: &'static str,
}

static VI: PromptTexts = PromptTexts {
    select_title: "Chọn tài khoản",
    select_intro: "Bạn đang đăng nhập để vào",
    continue_as: "Tiếp tục với tư cách",
    use_another: "Dùng hộp thư khác",
    consent_title: "Cho phép ứng dụng truy cập",
    consent_intro: "Ứng dụng {app} đề nghị được biết các thông tin sau về {person}:",
    consent_remembered: "Lựa chọn của bạn được ghi nhớ cho đến khi bạn đăng xuất.",
    accept: "Đồng ý",
    decline: "Từ chối",
    scopes: [
        "Mã định danh tài khoản của bạn",
        "Họ tên, đơn vị và loại hộp thư",
        "Địa chỉ hộp thư công vụ",
        "Các nhóm bạn thuộc về",
        "Duy trì truy cập khi bạn không trực tuyến",
    ],
    request_uri_invalid: "Yêu cầu đăng nhập đã hết hạn hoặc đã được sử dụng. Vui lòng quay lại ứng dụng và thử lại.",
    pushed_form_expired: "Biểu mẫu đã hết hạn. Vui lòng quay lại ứng dụng và thử lại.",
};

static EN: PromptTexts = PromptTexts {
    select_title: "Choose an account",
    select_intro: "You are signing in to",
    continue_as: "Continue as",
    use_another: "Use another mailbox",
    consent_title: "Allow the application access",
    consent_intro: "The application {app} asks to know the following about {person}:",
    consent_remembered: "Your choice is remembered until you sign out.",
    accept: "Allow",
    decline: "Decline",
    scopes: [
        "Your account identifier",
        "Your name, unit and mailbox type",
        "Your government mailbox address",
        "The groups you belong to",
        "Keep access while you are not online",
    ],
    request_uri_invalid: "The sign-in request has expired or was already used. Please go back to the application \
                          and try again.",
    pushed_form_expired: "The form has expired. Please go back to the application and try again.",
};

pub fn texts(lang: Lang) -> &'static PromptTexts {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "select_account.html")]
struct SelectAccountPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    p: &'static PromptTexts,
    app_name: &'a str,
    action: &'a str,
    person: &'a str,
    mail: &'a str,
    hidden: Vec<(&'static str, &'a str)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    p: &'static PromptTexts,
    app_name: &'a str,
    action: &'a str,
    person: &'a str,
    scopes: Vec<(&'a str, &'static str)>,
    hidden: Vec<(&'static str, &'a str)>,
}

/// The hidden fields of a page for `req` and its anti-forgery cookie, or the error page.
fn hidden_and_csrf(
    app: &App,
    headers: &HeaderMap,
    req: &AuthRequest,
    params: &AuthorizeParams,
) -> Result<(AuthorizeParams, String, Option<header::HeaderValue>), Error> {
    let carried = carried(app, req, params)?;
    let (csrf, set_cookie) = csrf::issue(app, headers);
    Ok((carried, csrf, set_cookie))
}

fn finish(page: impl IntoResponse, set_cookie: Option<header::HeaderValue>) -> Response {
    let mut response = (pages::no_store(), page).into_response();
    if let Some(value) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// "Tiếp tục với tư cách Nguyễn Văn Dũng / Dùng hộp thư khác".
pub fn select_account_page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    req: &AuthRequest,
    params: &AuthorizeParams,
    user: &User,
) -> Response {
    let (carried, csrf, set_cookie) = match hidden_and_csrf(app, headers, req, params) {
        Ok(parts) => parts,
        Err(e) => return pages::error(lang, e),
    };
    let mut hidden = pages::hidden_fields(&carried);
    hidden.push(("csrf", &csrf));
    let page = SelectAccountPage {
        lang: lang.code(),
        t: lang.texts(),
        p: texts(lang),
        app_name: &req.client.name,
        action: SELECT_ACCOUNT_PATH,
        person: &user.name,
        mail: &user.mail,
        hidden,
    };
    finish(page, set_cookie)
}

/// The scopes `req` asks for, each with what it gives the app, and accept / decline.
pub fn consent_page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    req: &AuthRequest,
    params: &AuthorizeParams,
    user: &User,
) -> Response {
    let (carried, csrf, set_cookie) = match hidden_and_csrf(app, headers, req, params) {
        Ok(parts) => parts,
        Err(e) => return pages::error(lang, e),
    };
    let mut hidden = pages::hidden_fields(&carried);
    hidden.push(("csrf", &csrf));
    let p = texts(lang);
    let supported = crate::oidc::request::SUPPORTED_SCOPES;
    let scopes = req
        .scope
        .iter()
        .filter_map(|s| supported.iter().position(|x| x == s).map(|i| (s.as_str(), p.scopes[i])))
        .collect();
    let page = ConsentPage {
        lang: lang.code(),
        t: lang.texts(),
        p,
        app_name: &req.client.name,
        action: CONSENT_PATH,
        person: &user.name,
        scopes,
        hidden,
    };
    finish(page, set_cookie)
}

/// Either page's form: the choice, the anti-forgery value and the request.
#[derive(Deserialize)]
pub struct ChoiceForm {
    #[serde(default)]
    choice: String,
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    params: AuthorizeParams,
}

/// `POST /authorize/select-account`: continue in the session, or the sign-in form for another mailbox. A forged or
/// stale form asks again from the start.
pub async fn select_account(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    form: Result<Form<ChoiceForm>, FormRejection>,
) -> Response {
    let provider = &app.provider;
    choose(&app, &headers, form, "account choice", async |req, cookie, choice| match choice {
        None => provider.authorize(req, cookie, &ctx).await,
        Some("continue") => provider.continue_as(req, cookie, &ctx).await,
        Some("other") => Ok(Outcome::Login),
        Some(_) => Err(Error::InvalidRequest("choice must be continue or other".into())),
    })
    .await
}

/// `POST /authorize/consent`: agree (remembered, a code for the app) or decline (`access_denied`). A forged or
/// stale form decides nothing: the page is shown again.
pub async fn consent(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    form: Result<Form<ChoiceForm>, FormRejection>,
) -> Response {
    let provider = &app.provider;
    choose(&app, &headers, form, "consent", async |req, cookie, choice| match choice {
        None => provider.continue_as(req, cookie, &ctx).await,
        Some("accept") => provider.consent(req, true, cookie, &ctx).await,
        Some("decline") => provider.consent(req, false, cookie, &ctx).await,
        Some(_) => Err(Error::InvalidRequest("choice must be accept or decline".into())),
    })
    .await
}

/// What the two choice forms share: the form read, its request checked again, the anti-forgery value, and the
/// outcome rendered. `decide` gets the choice, or `None` when the form's anti-forgery value does not match.
async fn choose(
    app: &App,
    headers: &HeaderMap,
    form: Result<Form<ChoiceForm>, FormRejection>,
    what: &str,
    decide: impl AsyncFnOnce(&AuthRequest, Option<&str>, Option<&str>) -> Result<Outcome, Error>,
) -> Response {
    let Ok(Form(form)) = form else {
        return pages::error(super::ui::lang(app, headers, None), Error::InvalidRequest("malformed form".into()));
    };
    let lang = negotiate(app, &form.params, headers);
    let (req, params) = match checked(app, form.params, lang, Entry::Form).await {
        Ok(checked) => checked,
        Err(response) => return *response,
    };
    let cookie = cookies::get(headers, &cookies::session_name(app));
    let choice = if csrf::matches(app, headers, &form.csrf) {
        Some(form.choice.as_str())
    } else {
        tracing::warn!(client = %req.client.id, "{what} without a matching anti-forgery token");
        None
    };
    let outcome = decide(&req, cookie, choice).await;
    respond(app, headers, lang, &req, &params, outcome, "").await
}
