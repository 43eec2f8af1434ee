//! The operators' HTTP API, off unless `[admin] listen` is set, on its own listener and behind a bearer token:
//! list an account's SSO sessions, revoke an account or one session (incident response); the city's reports
//! and re-activation live in `admin/reports.rs`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::context::Ctx;
use crate::App;
use crate::error::Error;

mod mfa;
mod reports;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/admin/sessions", get(list))
        .route("/admin/sessions/revoke", post(revoke))
        .merge(reports::routes())
        .merge(mfa::routes())
        .with_state(app)
}

/// Whether the bearer token matches `[admin] token`. A missing or empty token never does, whatever is configured
/// (the config refuses a weak one, this holds even so). Compared in constant time, as SHA-256 digests so that
/// not even the length leaks.
fn authorised(app: &App, headers: &HeaderMap) -> bool {
    use aws_lc_rs::digest::{SHA256, digest};
    let Some(presented) = super::token::bearer(headers).ok().filter(|p| !p.is_empty()) else { return false };
    let Some(expected) = app.admin_token.as_deref().filter(|t| !t.is_empty()) else { return false };
    let (presented, expected) = (digest(&SHA256, presented.as_bytes()), digest(&SHA256, expected.as_bytes()));
    aws_lc_rs::constant_time::verify_slices_are_equal(presented.as_ref(), expected.as_ref()).is_ok()
}

fn denied() -> Response {
    Error::InvalidToken("an admin bearer token is required".into()).into_response()
}

#[derive(Deserialize)]
struct AccountQuery {
    account: String,
}

async fn list(State(app): State<Arc<App>>, headers: HeaderMap, Query(q): Query<AccountQuery>) -> Response {
    if !authorised(&app, &headers) {
        return denied();
    }
    match app.provider.sessions_of(&q.account).await {
        Ok(sessions) => Json(json!({ "account": q.account, "sessions": sessions })).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct RevokeRequest {
    account: Option<String>,
    session: Option<String>,
    /// Who is acting, for the audit trail.
    operator: Option<String>,
}

async fn revoke(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Json(r): Json<RevokeRequest>,
) -> Response {
    if !authorised(&app, &headers) {
        return denied();
    }
    let operator = format!("admin-api:{}", r.operator.as_deref().unwrap_or("unnamed"));
    let result = match (&r.account, &r.session) {
        (Some(account), None) => app.provider.revoke_account(account, &operator, &ctx).await,
        (None, Some(sid)) => app.provider.revoke_session(sid, &operator, &ctx).await,
        _ => {
            return (StatusCode::BAD_REQUEST, Json(json!({"error": "give exactly one of account, session"})))
                .into_response();
        }
    };
    match result {
        Ok(done) => Json(done).into_response(),
        Err(e) => e.into_response(),
    }
}
