//! `/quan-tri`: the IT centre's console, on the main listener. Staff sign in through the service's own SSO session
//! (the usual sign-in form when there is none, then back to the page they asked for); only members of
//! `[console] groups` get in, everyone else a Vietnamese 403 page; staff whose session was made with the password
//! alone go through the second-factor step-up (or enrolment) first. Pages are server-rendered, without script;
//! every form carries the anti-forgery value and every action is audited under the staff member's mailbox with
//! the reason they typed.

mod account;
mod actions;
mod apps;
mod audit_page;
mod overview;
mod reports;
mod staff;

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::context::Ctx;
use super::{cookies, csrf, pages};
use crate::App;
use crate::audit::RequestContext;
use crate::error::Error;
use crate::i18n::Lang;
use crate::mfa::policy::Step;
use crate::oidc::authorize::SignIn;

/// Where the console lives.
pub const PATH: &str = "/quan-tri";
/// Where its sign-in form posts.
const LOGIN_PATH: &str = "/quan-tri/dang-nhap";
/// The "app" console sign-ins are recorded under in the audit trail.
pub const CLIENT: &str = "quan-tri";

/// The console's routes; mounted only when `[console] enabled`.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(PATH, get(overview::page))
        .route(LOGIN_PATH, post(login))
        .route("/quan-tri/tai-khoan", get(account::page))
        .route("/quan-tri/thao-tac", get(actions::confirm).post(actions::perform))
        .route("/quan-tri/bao-cao", get(reports::page))
        .route("/quan-tri/ung-dung", get(apps::page))
        .route("/quan-tri/nhat-ky", get(audit_page::page))
        .route("/quan-tri/can-bo-moi", get(staff::page).post(staff::propose))
        .route("/quan-tri/can-bo-moi/csv", post(staff::upload))
}

/// A staff member who may use the console: signed in, in one of `[console] groups`.
pub struct Operator {
    /// Their mailbox: the `operator` of every audit line they cause.
    pub mail: String,
    pub name: String,
    /// The browser's anti-forgery value, for the forms of the page.
    pub csrf: String,
    /// Set when the browser had no anti-forgery value yet.
    set_cookie: Option<HeaderValue>,
}

impl Operator {
    /// Renders `page`, giving the browser its anti-forgery cookie if it had none.
    pub fn render(&self, page: impl IntoResponse) -> Response {
        let mut response = ([(header::CACHE_CONTROL, "no-store")], page).into_response();
        if let Some(value) = &self.set_cookie {
            response.headers_mut().append(header::SET_COOKIE, value.clone());
        }
        response
    }
}

/// Who is asking, or the answer that stops them: the sign-in form (no session), or the 403 page.
pub async fn operator(app: &App, headers: &HeaderMap, uri: &Uri, ctx: &RequestContext) -> Result<Operator, Response> {
    let Some(groups) = app.console.as_ref().map(|c| &c.groups) else {
        return Err(StatusCode::NOT_FOUND.into_response());
    };
    let cookie = cookies::get(headers, &cookies::session_name(app));
    let session = match app.provider.session_for_cookie(cookie).await {
        Ok(session) => session,
        Err(e) => return Err(pages::error(Lang::Vi, e)),
    };
    let back = uri.path_and_query().map(|p| p.as_str()).unwrap_or(PATH);
    let Some(session) = session else { return Err(sign_in_form(app, headers, back, "", None)) };
    let user = match app.provider.recheck(&session, ctx).await {
        Ok(Some(user)) => user,
        Ok(None) => return Err(sign_in_form(app, headers, back, "", None)),
        Err(e) => return Err(pages::error(Lang::Vi, e)),
    };
    if !user.groups.iter().any(|g| groups.contains(g)) {
        tracing::warn!(account = %user.mail, "console refused: not in [console] groups");
        return Err((
            StatusCode::FORBIDDEN,
            [(header::CACHE_CONTROL, "no-store")],
            Forbidden { lang: Lang::Vi.code(), t: Lang::Vi.texts(), mail: user.mail },
        )
            .into_response());
    }
    // The console always needs two factors: a session made with the password alone goes through the same step-up
    // as an app with `require_mfa` (the second factor, or enrolment when there is none yet), then back here.
    if !session.has_second_factor() {
        return match app.provider.mfa_step(&session, &user, true, &[]).await {
            Ok(Step::Continue) => Err(pages::error(Lang::Vi, Error::Internal("console step-up: no step".into()))),
            Ok(step) => Err(super::account::second_factor_redirect(step, safe_back(back))),
            Err(e) => Err(pages::error(Lang::Vi, e)),
        };
    }
    let (csrf, set_cookie) = csrf::issue(app, headers);
    Ok(Operator { mail: user.mail, name: user.name, csrf, set_cookie })
}

/// The 403 page for a signed-in person who is not IT centre staff.
#[derive(Template, WebTemplate)]
#[template(path = "console/forbidden.html")]
struct Forbidden {
    lang: &'static str,
    t: &'static crate::i18n::Texts,
    mail: String,
}

/// Only a path inside the console is a place to come back to (never another site).
fn safe_back(next: &str) -> &str {
    let inside = next == PATH || next.starts_with("/quan-tri/") || next.starts_with("/quan-tri?");
    if inside && !next.contains('\\') { next } else { PATH }
}

/// The service's sign-in form, posting to the console's sign-in with the page to come back to.
fn sign_in_form(app: &App, headers: &HeaderMap, back: &str, username: &str, notice: Option<pages::Notice>) -> Response {
    let (csrf, set_cookie) = csrf::issue(app, headers);
    let hidden = vec![("next", safe_back(back)), ("csrf", csrf.as_str())];
    // The console speaks Vietnamese only: the help line, no language link.
    let help = crate::http::ui::help(app, Lang::Vi, crate::http::ui::Here::Nowhere);
    let mut response =
        pages::login_form(Lang::Vi, "Bảng điều khiển quản trị", LOGIN_PATH, hidden, username, notice, help);
    if let Some(value) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /quan-tri/dang-nhap`: the same sign-in as every app's (throttling, audit, session), then back.
async fn login(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return pages::error(Lang::Vi, Error::InvalidRequest("malformed form".into()));
    };
    let typed = form.username.trim();
    if !csrf::matches(&app, &headers, &form.csrf) {
        return sign_in_form(&app, &headers, &form.next, typed, Some(pages::Notice::FormExpired));
    }
    let cookie = cookies::get(&headers, &cookies::session_name(&app));
    let result = app.provider.sign_in(CLIENT, &form.username, &form.password, cookie, &ctx, None).await;
    cookies::count_sign_in(
        &app,
        match &result {
            Ok(SignIn::Success { .. }) => Ok(None),
            Ok(SignIn::Refused { reason, .. }) => Ok(Some(*reason)),
            Err(e) => Err(e),
        },
    );
    match result {
        Ok(SignIn::Success { cookie, .. }) => {
            let mut response = Redirect::to(safe_back(&form.next)).into_response();
            cookies::attach_session(&app, &mut response, cookie);
            response
        }
        Ok(SignIn::Refused { message, .. }) => {
            sign_in_form(&app, &headers, &form.next, typed, Some(pages::Notice::Login(message)))
        }
        Err(Error::Unavailable("directory")) => {
            sign_in_form(&app, &headers, &form.next, typed, Some(pages::Notice::DirectoryDown))
        }
        Err(e) => pages::error(Lang::Vi, e),
    }
}

/// A console page asked with a query it cannot read (a hand-edited address).
fn bad_query() -> Response {
    pages::error(Lang::Vi, Error::InvalidRequest("malformed query".into()))
}

/// `YYYY-MM-DD HH:MM` in Vietnam time, for the pages.
pub fn vn_time(unix: u64) -> String {
    let day = crate::calendar::Day::of_unix(unix);
    let rem = (unix as i64 + crate::calendar::VN_OFFSET_SECS).rem_euclid(86_400);
    format!("{day} {:02}:{:02}", rem / 3600, rem % 3600 / 60)
}

/// An audit line's UTC `time` shown in Vietnam time (as written when it cannot be read).
pub fn vn_audit_time(time: &str) -> String {
    crate::calendar::parse_rfc3339_utc(time).map(vn_time).unwrap_or_else(|| time.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_places_to_come_back_to() {
        assert_eq!(safe_back("/quan-tri/tai-khoan?q=dung"), "/quan-tri/tai-khoan?q=dung");
        assert_eq!(safe_back("/quan-tri"), "/quan-tri");
        for outside in ["https://evil.example/", "//evil.example/quan-tri/", "/quan-tri-x", "/\\evil", ""] {
            assert_eq!(safe_back(outside), PATH, "{outside}");
        }
        assert_eq!(safe_back("/quan-tri/\\evil.example"), PATH);
    }

    #[test]
    fn times_are_shown_in_vietnam_time() {
        assert_eq!(vn_time(0), "1970-01-01 07:00");
        assert_eq!(vn_audit_time("2026-12-01T20:30:00.000Z"), "2026-12-02 03:30");
        assert_eq!(vn_audit_time("garbage"), "garbage");
    }
}
