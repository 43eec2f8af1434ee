//! `GET /quan-tri/tai-khoan`: find an account (mailbox, name with or without diacritics, or unit) and see it —
//! its directory entry, last sign-in and dormancy, second factors, live sessions, recent audit events — with the actions an
//! incident needs (each goes through the confirmation page of `actions`).

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde::Deserialize;

use super::{Operator, operator, vn_time};
use crate::App;
use crate::audit::search::{self, Entry};
use crate::directory::{MailboxKind, Refusal, User};
use crate::http::context::Ctx;
use crate::policy::mailbox::fold;

/// How many accounts a search lists at most.
const MAX_FOUND: usize = 50;
/// How many audit events of the account are shown.
const RECENT_EVENTS: usize = 20;

#[derive(Deserialize, Default)]
pub struct Params {
    /// What was typed in the search box.
    #[serde(default)]
    q: String,
    /// The account to show.
    #[serde(default)]
    mail: String,
    /// What an action just did (shown once, after its redirect).
    #[serde(default)]
    done: String,
}

/// A session row.
pub struct SessionRow {
    pub id: String,
    /// The browser's `User-Agent` at sign-in.
    pub browser: String,
    pub ip: String,
    pub started: String,
    pub last_used: String,
    /// How the person proved who they are (`pwd`, `otp`…).
    pub amr: String,
    pub expires: String,
}

impl SessionRow {
    fn of(s: crate::store::Session) -> SessionRow {
        // Sessions stored before their metadata was kept have no start: their last password check stands in.
        let started = if s.started == 0 { s.auth_time } else { s.started };
        SessionRow {
            browser: s.user_agent.unwrap_or_default(),
            ip: s.ip.unwrap_or_default(),
            started: vn_time(started),
            last_used: if s.last_used == 0 { String::new() } else { vn_time(s.last_used) },
            amr: s.amr.join(", "),
            expires: vn_time(s.expires_at),
            id: s.id,
        }
    }
}

/// The account shown.
pub struct Shown {
    pub mail: String,
    /// The directory's entry; `None` when it refuses the account (see `status`).
    pub user: Option<User>,
    pub status: &'static str,
    pub last_sign_in: String,
    pub dormant: bool,
    /// When the authenticator app (TOTP) was enrolled, if it is.
    pub totp_since: Option<String>,
    /// How many unused recovery codes are left (never the codes or the secret).
    pub recovery_left: usize,
    /// The account's passkeys: "name (added …, last used …)".
    pub passkeys: Vec<String>,
    pub sessions: Vec<SessionRow>,
    pub events: Vec<Entry>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/account.html")]
struct Page<'a> {
    op: &'a Operator,
    q: &'a str,
    found: Vec<User>,
    searched: bool,
    shown: Option<Shown>,
    done: &'a str,
    error: Option<String>,
}

impl Page<'_> {
    fn kind(&self, user: &User) -> &'static str {
        kind(user.kind)
    }

    fn when(&self, time: &str) -> String {
        super::vn_audit_time(time)
    }
}

pub fn kind(kind: MailboxKind) -> &'static str {
    match kind {
        MailboxKind::Personal => "cá nhân",
        MailboxKind::Unit => "đơn vị",
    }
}

pub async fn page(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    uri: Uri,
    params: Result<Query<Params>, QueryRejection>,
) -> Response {
    let op = match operator(&app, &headers, &uri, &ctx).await {
        Ok(op) => op,
        Err(response) => return response,
    };
    let Ok(Query(params)) = params else { return super::bad_query() };
    let mut error = None;
    let q = params.q.trim();
    let found = if q.is_empty() {
        Vec::new()
    } else {
        match app.provider.directory.list().await {
            Ok(users) => matching(users, q),
            Err(e) => {
                error = Some(format!("Danh bạ không trả lời: {e}"));
                Vec::new()
            }
        }
    };
    let shown = if params.mail.trim().is_empty() {
        None
    } else {
        match show(&app, params.mail.trim()).await {
            Ok(shown) => Some(shown),
            Err(e) => {
                error = Some(e);
                None
            }
        }
    };
    op.render(Page { op: &op, q, found, searched: !q.is_empty(), shown, done: &params.done, error })
}

/// Accounts whose mailbox, name or unit contains `query`, diacritics and case ignored.
fn matching(users: Vec<User>, query: &str) -> Vec<User> {
    let want = fold(query);
    let mut found: Vec<User> = users
        .into_iter()
        .filter(|u| {
            [Some(u.mail.as_str()), Some(u.name.as_str()), u.unit.as_deref()]
                .into_iter()
                .flatten()
                .any(|text| fold(text).contains(&want))
        })
        .collect();
    found.sort_by(|a, b| a.mail.cmp(&b.mail));
    found.truncate(MAX_FOUND);
    found
}

async fn show(app: &App, mail: &str) -> Result<Shown, String> {
    let p = &app.provider;
    let mail = p.policy.normalize_login(mail).unwrap_or_else(|_| mail.to_lowercase());
    let (user, status) = match p.directory.lookup(&mail).await.map_err(|e| format!("Danh bạ không trả lời: {e}"))?
    {
        Ok(user) => (Some(user), "đang hoạt động"),
        Err(Refusal::Disabled) => (None, "bị khóa hoặc vô hiệu hóa trong danh bạ"),
        Err(_) => (None, "không có trong danh bạ"),
    };
    let last = p.store.last_sign_in(&mail).await.map_err(|e| format!("Kho phiên không trả lời: {e}"))?;
    let now = p.clock.now();
    let last_sign_in = match last {
        Some(at) => format!("{} ({} ngày trước)", vn_time(at), crate::policy::dormancy::days_between(at, now)),
        None => "chưa ghi nhận lần nào".into(),
    };
    let dormant = p.policy.dormancy.is_dormant(now, last);
    let factors = p.factors(&mail).await.map_err(|e| format!("Không đọc được yếu tố xác thực thứ hai: {e}"))?;
    let totp_since = factors.totp.as_ref().map(|t| vn_time(t.created));
    let recovery_left = factors.recovery.len();
    let passkeys = factors
        .passkeys
        .iter()
        .map(|k| {
            let used = k.last_used.map_or_else(|| "chưa dùng".to_owned(), vn_time);
            format!("{} (đăng ký {}, dùng gần nhất {used})", k.name, vn_time(k.created))
        })
        .collect();
    let sessions = p
        .sessions_of(&mail)
        .await
        .map_err(|e| format!("Kho phiên không trả lời: {e}"))?
        .into_iter()
        .map(SessionRow::of)
        .collect();
    let events = match app.audit_file.clone() {
        Some(path) => {
            let query = search::Query { account: Some(mail.clone()), ..Default::default() };
            tokio::task::spawn_blocking(move || search::search(&search::files(&path), &query, 0, RECENT_EVENTS))
                .await
                .map_err(|e| e.to_string())?
                .map(|page| page.entries)
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    Ok(Shown { mail, user, status, last_sign_in, dormant, totp_since, recovery_left, passkeys, sessions, events })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(mail: &str, name: &str, unit: &str) -> User {
        User {
            id: mail.into(),
            mail: mail.into(),
            name: name.into(),
            given_name: None,
            family_name: None,
            groups: Vec::new(),
            unit: Some(unit.into()),
            kind: MailboxKind::Personal,
        }
    }

    #[test]
    fn finds_by_mailbox_name_or_unit_with_or_without_diacritics() {
        let users = || {
            vec![
                user("dungnv@danang.gov.vn", "Nguyễn Văn Dũng", "Văn phòng UBND thành phố"),
                user("huongtt@danang.gov.vn", "Trần Thị Hương", "Sở Kế hoạch và Đầu tư"),
            ]
        };
        let mails = |q: &str| matching(users(), q).into_iter().map(|u| u.mail).collect::<Vec<_>>();
        assert_eq!(mails("nguyen van dung"), ["dungnv@danang.gov.vn"]);
        assert_eq!(mails("Nguyễn Văn Dũng"), ["dungnv@danang.gov.vn"]);
        assert_eq!(mails("HUONGTT"), ["huongtt@danang.gov.vn"]);
        assert_eq!(mails("ke hoach"), ["huongtt@danang.gov.vn"]);
        assert_eq!(mails("danang.gov.vn").len(), 2);
        assert!(mails("y tế").is_empty());
    }
}
