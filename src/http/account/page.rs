//! `GET /tai-khoan`: who I am, where I am signed in (with "sign out this one" and "sign out everywhere"), and my
//! second factors; and the account's own sign-in form (`/tai-khoan/dang-nhap`).

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::texts::{AccountTexts, texts};
use super::{
    ACCOUNT_CLIENT, ACCOUNT_PATH, SECOND_FACTOR_PATH, SIGN_IN_PATH, current, form_ok, help, lang, local_path, no_store,
    see_other, to_sign_in, with_continue, with_cookie,
};
use crate::App;
use crate::audit::Event;
use crate::http::context::Ctx;
use crate::http::{cookies, csrf, pages};
use crate::i18n::Texts;
use crate::oidc::authorize::SignIn;
use crate::store::Session;

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    m: &'static AccountTexts,
    pk: &'static super::passkey_texts::PasskeyTexts,
    passkeys: Vec<super::passkey::PasskeyRow>,
    csrf: &'a str,
    notice: Option<&'static str>,
    name: String,
    mailbox: String,
    unit: String,
    groups: String,
    sessions: Vec<SessionRow>,
    apps: Vec<AppRow>,
    has_totp: bool,
    recovery_left: usize,
    help: crate::http::ui::Help,
}

struct SessionRow {
    id: String,
    browser: String,
    ip: String,
    started: String,
    last_used: String,
    current: bool,
}

/// An app signed into in this browser's session, by its display name, and when.
struct AppRow {
    name: String,
    when: String,
}

/// The apps of a session from its grants (OIDC clients and SAML participants), by display name, latest first;
/// one line per app however many times it signed in. An app no longer registered shows its id.
fn app_rows(app: &App, grants: Vec<crate::store::Grant>) -> Vec<AppRow> {
    let mut latest: Vec<(String, u64)> = Vec::new();
    for g in grants {
        let name = match g.client_id.strip_prefix(crate::saml::logout::GRANT_PREFIX) {
            Some(entity_id) => app.saml.as_ref().and_then(|s| s.sps.get(entity_id)).map(|sp| sp.name.clone()),
            None => app.provider.clients.get(&g.client_id).map(|c| c.name.clone()),
        };
        let name = name.unwrap_or(g.client_id);
        match latest.iter_mut().find(|(n, _)| *n == name) {
            Some(row) => row.1 = row.1.max(g.issued_at),
            None => latest.push((name, g.issued_at)),
        }
    }
    latest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    latest.into_iter().map(|(name, t)| AppRow { name, when: when(t) }).collect()
}

/// "Chrome on Windows" from a User-Agent: enough for a person to recognise their own devices.
pub fn browser_label(ua: Option<&str>) -> String {
    let Some(ua) = ua else { return "—".into() };
    let browser =
        [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
            .iter()
            .find(|(tag, _)| ua.contains(tag))
            .map(|(_, name)| *name);
    let os = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(tag, _)| ua.contains(tag))
    .map(|(_, name)| *name);
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} · {o}"),
        (Some(b), None) => b.into(),
        _ => ua.chars().take(40).collect(),
    }
}

/// Vietnamese local time (UTC+7), to the minute.
fn when(t: u64) -> String {
    if t == 0 {
        return "—".into();
    }
    let local = t + 7 * 3600;
    let day = crate::calendar::Day::of_unix(t);
    format!("{day} {:02}:{:02}", (local % 86_400) / 3600, (local % 3600) / 60)
}

#[derive(Deserialize)]
pub struct PageQuery {
    ui_locales: Option<String>,
    done: Option<String>,
}

pub async fn account(State(app): State<Arc<App>>, headers: HeaderMap, Query(q): Query<PageQuery>) -> Response {
    let lang = lang(&app, &headers, q.ui_locales.as_deref());
    let m = texts(lang);
    let session = match current(&app, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return to_sign_in(ACCOUNT_PATH),
        Err(e) => return pages::error(lang, e),
    };
    let p = &app.provider;
    let loaded = async {
        let user = p.directory.lookup(&session.account).await?.ok();
        let factors = p.factors(&session.account).await?;
        let sessions = p.store.sessions_of(&session.account).await?;
        let grants = p.store.session_grants(&session.id).await?;
        p.touch_session(&session).await?;
        Ok::<_, crate::error::Error>((user, factors, sessions, grants))
    };
    let (user, factors, sessions, grants) = match loaded.await {
        Ok(v) => v,
        Err(e) => return pages::error(lang, e),
    };
    let Some(user) = user else { return to_sign_in(ACCOUNT_PATH) };
    // A person with a second factor sees their account only after proving it.
    if factors.is_enrolled() && !session.has_second_factor() {
        return see_other(&with_continue(SECOND_FACTOR_PATH, ACCOUNT_PATH));
    }
    let (csrf, cookie) = csrf::issue(&app, &headers);
    let mut sessions: Vec<SessionRow> = sessions
        .iter()
        .map(|s: &Session| SessionRow {
            id: s.id.clone(),
            browser: browser_label(s.user_agent.as_deref()),
            ip: s.ip.clone().unwrap_or_else(|| "—".into()),
            started: when(s.started),
            last_used: when(s.last_used),
            current: s.id == session.id,
        })
        .collect();
    sessions.sort_by_key(|s| !s.current);
    let notice = match q.done.as_deref() {
        Some("signed-out") => Some(m.signed_out_all),
        Some("removed") => Some(m.factor_removed),
        Some("fresh") => Some(m.fresh_needed),
        _ => None,
    };
    let page = AccountPage {
        lang: lang.code(),
        t: lang.texts(),
        m,
        pk: super::passkey_texts::passkey_texts(lang),
        passkeys: super::passkey::rows(&factors, lang, when),
        csrf: &csrf,
        notice,
        name: user.name.clone(),
        mailbox: user.mail.clone(),
        unit: user.unit.clone().unwrap_or_else(|| "—".into()),
        groups: user.groups.join(", "),
        sessions,
        apps: app_rows(&app, grants),
        has_totp: factors.totp.is_some(),
        recovery_left: factors.recovery.len(),
        help: help(&app, lang, ACCOUNT_PATH),
    };
    with_cookie((no_store(), page).into_response(), cookie)
}

#[derive(Deserialize)]
pub struct SignInQuery {
    #[serde(rename = "continue")]
    next: Option<String>,
    ui_locales: Option<String>,
}

fn sign_in_page(app: &App, headers: &HeaderMap, next: &str, username: &str, notice: Option<pages::Notice>) -> Response {
    let lang = lang(app, headers, None);
    let (csrf, cookie) = csrf::issue(app, headers);
    let hidden = vec![("continue", next), ("csrf", csrf.as_str())];
    let help = help(app, lang, &with_continue(SIGN_IN_PATH, next));
    with_cookie(pages::login_form(lang, texts(lang).my_account, SIGN_IN_PATH, hidden, username, notice, help), cookie)
}

pub async fn sign_in_form(State(app): State<Arc<App>>, headers: HeaderMap, Query(q): Query<SignInQuery>) -> Response {
    let _ = q.ui_locales;
    sign_in_page(&app, &headers, &local_path(q.next.as_deref()), "", None)
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(rename = "continue")]
    next: Option<String>,
}

pub async fn sign_in(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let next = local_path(f.next.as_deref());
    let typed = f.username.trim();
    if !form_ok(&app, &headers, &f.csrf) {
        return sign_in_page(&app, &headers, &next, typed, Some(pages::Notice::FormExpired));
    }
    let cookie = cookies::get(&headers, &cookies::session_name(&app));
    match app.provider.sign_in(ACCOUNT_CLIENT, &f.username, &f.password, cookie, &ctx, None).await {
        Ok(SignIn::Success { cookie, .. }) => {
            let mut response = see_other(&next);
            cookies::attach_session(&app, &mut response, cookie);
            response
        }
        Ok(SignIn::Refused { message, .. }) => {
            sign_in_page(&app, &headers, &next, typed, Some(pages::Notice::Login(message)))
        }
        Err(crate::error::Error::Unavailable("directory")) => {
            sign_in_page(&app, &headers, &next, typed, Some(pages::Notice::DirectoryDown))
        }
        Err(e) => pages::error(lang(&app, &headers, None), e),
    }
}

#[derive(Deserialize)]
pub struct EndForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sid: String,
}

/// "Sign out this one": ends one of the person's own sessions (never another account's), with back-channel
/// logout to the apps signed into in it.
pub async fn end_one(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Form(f): Form<EndForm>,
) -> Response {
    let lang = lang(&app, &headers, None);
    let session = match current(&app, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return to_sign_in(ACCOUNT_PATH),
        Err(e) => return pages::error(lang, e),
    };
    if !form_ok(&app, &headers, &f.csrf) {
        return pages::error(lang, crate::error::Error::InvalidRequest("anti-forgery value missing".into()));
    }
    let p = &app.provider;
    let result = async {
        let target = p.store.session(&f.sid).await?;
        if let Some(target) = target.filter(|t| t.account == session.account) {
            let event = Event::new("logout").account(&session.account).reason("signed_out_from_account_page");
            p.end_session(&target.id, &ctx, event).await?;
        }
        Ok::<_, crate::error::Error>(())
    };
    match result.await {
        Ok(()) => see_other(ACCOUNT_PATH),
        Err(e) => pages::error(lang, e),
    }
}

/// "Sign out everywhere": the incident-response path on one's own account — every session and grant ends, and
/// every app gets its back-channel logout.
pub async fn end_all(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Form(f): Form<EndForm>,
) -> Response {
    let lang = lang(&app, &headers, None);
    let session = match current(&app, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return to_sign_in(ACCOUNT_PATH),
        Err(e) => return pages::error(lang, e),
    };
    if !form_ok(&app, &headers, &f.csrf) {
        return pages::error(lang, crate::error::Error::InvalidRequest("anti-forgery value missing".into()));
    }
    let operator = format!("self:{}", session.account);
    match app.provider.revoke_account(&session.account, &operator, &ctx).await {
        Ok(_) => see_other(&format!("{SIGN_IN_PATH}?continue=%2Ftai-khoan%3Fdone%3Dsigned-out")),
        Err(e) => pages::error(lang, e),
    }
}
