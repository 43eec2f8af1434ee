//! The IT centre's second-factor operations on the admin API, for a lost phone: `GET /admin/mfa?account=…` lists
//! an account's factors (names only), `POST /admin/mfa/reset` removes them all (audited as `mfa_reset` with the
//! operator), so the next sign-in where two factors are required enrols again.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{AccountQuery, authorised, denied};
use crate::App;
use crate::http::context::Ctx;

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/admin/mfa", get(list)).route("/admin/mfa/reset", post(reset))
}

async fn list(State(app): State<Arc<App>>, headers: HeaderMap, Query(q): Query<AccountQuery>) -> Response {
    if !authorised(&app, &headers) {
        return denied();
    }
    let listed = async {
        let (account, factors) = app.provider.list_mfa(&q.account).await?;
        let passkeys = app.provider.list_passkeys(&account).await?;
        Ok::<_, crate::error::Error>((account, factors, passkeys))
    };
    match listed.await {
        Ok((account, factors, passkeys)) => {
            let passkeys: Vec<_> = passkeys
                .into_iter()
                .map(|(name, created, last_used)| json!({ "name": name, "created": created, "last_used": last_used }))
                .collect();
            Json(json!({ "account": account, "factors": factors, "passkeys": passkeys })).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct ResetRequest {
    account: String,
    /// Who is acting, for the audit trail.
    operator: Option<String>,
}

async fn reset(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Json(r): Json<ResetRequest>,
) -> Response {
    if !authorised(&app, &headers) {
        return denied();
    }
    let operator = format!("admin-api:{}", r.operator.as_deref().unwrap_or("unnamed"));
    match app.provider.reset_mfa(&r.account, &operator, &ctx).await {
        Ok(removed) => Json(json!({ "account": r.account, "removed": removed })).into_response(),
        Err(e) => e.into_response(),
    }
}
