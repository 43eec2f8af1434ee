//! The city's reports and the re-activation of a dormant mailbox on the operators' API, behind the same bearer
//! token: they work with any store, so also with the in-memory one the CLI cannot see into.
//!
//! - `GET /admin/reports/dormant?days=180[&never_seen_since=YYYY-MM-DD]`: CSV.
//! - `GET /admin/reports/usage?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv|html]`: CSV or the printable page.
//! - `POST /admin/accounts/reactivate` with JSON `{"account": "…", "operator": "…"}`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::super::context::Ctx;
use super::{authorised, denied};
use crate::App;
use crate::calendar::Day;
use crate::error::Error;
use crate::report::{ReportError, dormant, usage};

/// The routes of this file, merged into the admin router (which checks nothing itself: each handler does).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/admin/reports/dormant", get(dormant_report))
        .route("/admin/reports/usage", get(usage_report))
        .route("/admin/accounts/reactivate", post(reactivate))
}

const CSV: &str = "text/csv; charset=utf-8";

fn csv(filename: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    let mut response = ([(header::CONTENT_TYPE, CSV), (header::CACHE_CONTROL, "no-store")], body).into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[derive(Deserialize)]
struct DormantQuery {
    /// Default: `[policy] dormant_after_days`, else 180.
    days: Option<u64>,
    never_seen_since: Option<String>,
}

async fn dormant_report(State(app): State<Arc<App>>, headers: HeaderMap, Query(q): Query<DormantQuery>) -> Response {
    if !authorised(&app, &headers) {
        return denied();
    }
    let since = q.never_seen_since.map(|s| Day::parse(&s).ok_or(s));
    let never_seen_since = match since {
        Some(Err(s)) => {
            return Error::InvalidRequest(format!("never_seen_since {s}: not a date YYYY-MM-DD")).into_response();
        }
        Some(Ok(day)) => Some(day),
        None => app.provider.policy.dormancy.never_seen_since,
    };
    let days = q.days.or(app.provider.policy.dormancy.after_days).unwrap_or(dormant::DEFAULT_DAYS);
    match dormant::run(&app.provider, dormant::Criteria { days, never_seen_since }).await {
        Ok(accounts) => csv("dormant.csv", dormant::to_csv(&accounts)),
        Err(e) => Error::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct UsageQuery {
    from: String,
    to: String,
    #[serde(default)]
    format: Option<String>,
}

async fn usage_report(State(app): State<Arc<App>>, headers: HeaderMap, Query(q): Query<UsageQuery>) -> Response {
    if !authorised(&app, &headers) {
        return denied();
    }
    match usage_response(&app, &q).await {
        Ok(response) => response,
        Err(e) => Error::from(e).into_response(),
    }
}

async fn usage_response(app: &App, q: &UsageQuery) -> Result<Response, ReportError> {
    let html = match q.format.as_deref() {
        None | Some("csv") => false,
        Some("html") => true,
        Some(other) => return Err(ReportError::Invalid(format!("format {other}: csv or html"))),
    };
    let period = usage::Period::parse(&q.from, &q.to)?;
    let Some(file) = app.audit_file.clone() else {
        return Err(ReportError::Invalid(
            "the usage report needs the audit trail in a file ([audit] output = \"file\")".into(),
        ));
    };
    let p = &app.provider;
    let report = usage::run(p.directory.as_ref(), &p.policy, &p.clients, vec![file], period).await?;
    if !html {
        return Ok(csv(&format!("usage-{}-{}.csv", period.from, period.to), report.to_csv()));
    }
    let stylesheet = format!("{}/static/report.css", p.issuer);
    // The stylesheet comes from the service's public origin, not from this listener.
    let origin = url::Url::parse(&p.issuer).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
    let csp = format!("default-src 'none'; style-src {origin}; base-uri 'none'; frame-ancestors 'none'");
    let mut response = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
        report.to_html(&stylesheet, p.clock.now()),
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(response)
}

#[derive(Deserialize)]
struct ReactivateRequest {
    account: String,
    /// Who is acting, for the audit trail.
    operator: Option<String>,
}

async fn reactivate(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    Json(r): Json<ReactivateRequest>,
) -> Response {
    if !authorised(&app, &headers) {
        return denied();
    }
    let operator = format!("admin-api:{}", r.operator.as_deref().unwrap_or("unnamed"));
    match app.provider.reactivate(&r.account, &operator, &ctx).await {
        Ok(()) => Json(json!({ "account": r.account, "reactivated": true })).into_response(),
        Err(e) => e.into_response(),
    }
}
