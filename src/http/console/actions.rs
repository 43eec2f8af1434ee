//! `GET|POST /quan-tri/thao-tac`: the console's actions on an account — end every session and revoke every token
//! (the incident response, with back-channel logout to the apps), end one session, re-open a dormant mailbox,
//! reset the second factors (a lost phone: the next sign-in that needs two factors enrols again).
//! Each is shown first on a confirmation page that asks for the reason; the posted form must carry the
//! anti-forgery value and a reason, and the audit lines it causes name the staff member and carry the reason.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Operator, operator};
use crate::App;
use crate::http::context::Ctx;
use crate::http::csrf;

/// The longest reason kept (the audit line stays one readable line).
const MAX_REASON: usize = 500;

/// An action, as the forms name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    EndAll,
    EndSession,
    Reactivate,
    ResetMfa,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::EndAll => "end_all",
            Action::EndSession => "end_session",
            Action::Reactivate => "reactivate",
            Action::ResetMfa => "reset_mfa",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Action::EndAll => "Kết thúc mọi phiên và thu hồi mọi mã truy cập",
            Action::EndSession => "Kết thúc một phiên đăng nhập",
            Action::Reactivate => "Kích hoạt lại hộp thư tạm ngừng",
            Action::ResetMfa => "Đặt lại xác thực hai yếu tố",
        }
    }
}

#[derive(Deserialize)]
pub struct Params {
    action: Action,
    account: String,
    #[serde(default)]
    sid: String,
}

#[derive(Deserialize)]
pub struct Posted {
    action: Action,
    account: String,
    #[serde(default)]
    sid: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/confirm.html")]
struct Confirm<'a> {
    op: &'a Operator,
    action: Action,
    account: &'a str,
    sid: &'a str,
    reason: &'a str,
    error: Option<&'static str>,
}

pub async fn confirm(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    uri: Uri,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let op = match operator(&app, &headers, &uri, &ctx).await {
        Ok(op) => op,
        Err(response) => return response,
    };
    let Ok(Query(p)) = params else {
        return (StatusCode::BAD_REQUEST, "thao tác không hợp lệ").into_response();
    };
    let page = Confirm { op: &op, action: p.action, account: &p.account, sid: &p.sid, reason: "", error: None };
    op.render(page)
}

pub async fn perform(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<Posted>, FormRejection>,
) -> Response {
    let op = match operator(&app, &headers, &uri, &ctx).await {
        Ok(op) => op,
        Err(response) => return response,
    };
    let Ok(Form(f)) = form else {
        return (StatusCode::BAD_REQUEST, "thao tác không hợp lệ").into_response();
    };
    let again = |status: StatusCode, error: &'static str| {
        let page = Confirm {
            op: &op,
            action: f.action,
            account: &f.account,
            sid: &f.sid,
            reason: &f.reason,
            error: Some(error),
        };
        let mut response = op.render(page);
        *response.status_mut() = status;
        response
    };
    if !csrf::matches(&app, &headers, &f.csrf) {
        tracing::warn!(operator = %op.mail, "console action without a matching anti-forgery value: refused");
        return again(StatusCode::FORBIDDEN, "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng xác nhận lại.");
    }
    let reason: String = f.reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if reason.is_empty() {
        return again(StatusCode::BAD_REQUEST, "Vui lòng ghi lý do thực hiện thao tác.");
    }
    let reason: String = reason.chars().take(MAX_REASON).collect();
    let p = &app.provider;
    let note = Some(reason.as_str());
    let done = match f.action {
        Action::EndAll => p.revoke_account_noted(&f.account, &op.mail, note, &ctx).await.map(|r| {
            format!("Đã kết thúc {} phiên và thu hồi {} mã truy cập của {}.", r.sessions, r.grants, f.account)
        }),
        Action::EndSession if !f.sid.is_empty() => p
            .revoke_session_noted(&f.sid, &op.mail, note, &ctx)
            .await
            .map(|r| format!("Đã kết thúc {} phiên.", r.sessions)),
        Action::EndSession => return again(StatusCode::BAD_REQUEST, "Thiếu mã phiên."),
        Action::Reactivate => p
            .reactivate_noted(&f.account, &op.mail, note, &ctx)
            .await
            .map(|()| format!("Đã kích hoạt lại hộp thư {}.", f.account)),
        Action::ResetMfa => p.reset_mfa_noted(&f.account, &op.mail, note, &ctx).await.map(|had| {
            if had.is_empty() {
                format!("{} không có yếu tố xác thực thứ hai nào để đặt lại.", f.account)
            } else {
                format!("Đã đặt lại xác thực hai yếu tố của {} (đã gỡ: {}).", f.account, had.join(", "))
            }
        }),
    };
    match done {
        Ok(message) => {
            let target = format!("/quan-tri/tai-khoan?mail={}&done={}", urlencoding(&f.account), urlencoding(&message));
            Redirect::to(&target).into_response()
        }
        Err(crate::error::Error::InvalidRequest(_)) => {
            again(StatusCode::BAD_REQUEST, "Tài khoản không có trong danh bạ.")
        }
        Err(e) => crate::http::pages::error(crate::i18n::Lang::Vi, e),
    }
}

/// Percent-encodes a query value.
fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
