//! `GET /quan-tri/bao-cao`: the dormant and usage reports with their filters, as tables, and downloadable as the
//! very CSV (and, for usage, HTML) the CLI and the admin API produce — the same functions of [`crate::report`].

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Operator, operator};
use crate::App;
use crate::calendar::Day;
use crate::http::context::Ctx;
use crate::report::dormant::{self, DormantAccount};
use crate::report::usage::{self, UsageReport};

#[derive(Deserialize, Default)]
pub struct Params {
    /// `dormant` or `usage`; none: the forms only.
    #[serde(default)]
    kind: String,
    days: Option<String>,
    #[serde(default)]
    never_seen_since: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// `csv` or `html` downloads the report; anything else shows it.
    #[serde(default)]
    format: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/reports.html")]
struct Page<'a> {
    op: &'a Operator,
    p: &'a Params,
    default_days: u64,
    dormant: Option<Vec<DormantAccount>>,
    usage: Option<UsageReport>,
    error: Option<String>,
}

impl Page<'_> {
    fn day(&self, day: &Option<Day>) -> String {
        day.map(|d| d.to_string()).unwrap_or_default()
    }
    fn num(&self, n: &Option<u64>) -> String {
        n.map(|n| n.to_string()).unwrap_or_default()
    }
    fn count(&self, n: &Option<usize>) -> String {
        n.map(|n| n.to_string()).unwrap_or_default()
    }
    fn kind(&self, a: &DormantAccount) -> &'static str {
        super::account::kind(a.kind)
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
    let Ok(Query(p)) = params else { return super::bad_query() };
    let default_days = app.provider.policy.dormancy.after_days.unwrap_or(dormant::DEFAULT_DAYS);
    let mut page = Page { op: &op, p: &p, default_days, dormant: None, usage: None, error: None };
    match p.kind.as_str() {
        "dormant" => match dormant_report(&app, &p, default_days).await {
            Ok(accounts) if p.format == "csv" => return download("dormant.csv", dormant::to_csv(&accounts)),
            Ok(accounts) => page.dormant = Some(accounts),
            Err(e) => page.error = Some(e),
        },
        "usage" => match usage_report(&app, &p).await {
            Ok(report) if p.format == "csv" => {
                let name = format!("usage-{}-{}.csv", report.period.from, report.period.to);
                return download(&name, report.to_csv());
            }
            Ok(report) if p.format == "html" => return usage_html(&app, &report),
            Ok(report) => page.usage = Some(report),
            Err(e) => page.error = Some(e),
        },
        _ => {}
    }
    op.render(page)
}

async fn dormant_report(app: &App, p: &Params, default_days: u64) -> Result<Vec<DormantAccount>, String> {
    let days = match p.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => d.parse().map_err(|_| format!("{d}: số ngày không hợp lệ"))?,
        None => default_days,
    };
    let since = match p.never_seen_since.trim() {
        "" => app.provider.policy.dormancy.never_seen_since,
        s => Some(Day::parse(s).ok_or_else(|| format!("{s}: ngày không hợp lệ (YYYY-MM-DD)"))?),
    };
    dormant::run(&app.provider, dormant::Criteria { days, never_seen_since: since }).await.map_err(|e| e.to_string())
}

async fn usage_report(app: &App, p: &Params) -> Result<UsageReport, String> {
    let period = usage::Period::parse(p.from.trim(), p.to.trim()).map_err(|e| e.to_string())?;
    let Some(file) = app.audit_file.clone() else {
        return Err("Báo cáo sử dụng đọc nhật ký kiểm toán từ tệp ([audit] output = \"file\").".into());
    };
    let pr = &app.provider;
    usage::run(pr.directory.as_ref(), &pr.policy, &pr.clients, vec![file], period).await.map_err(|e| e.to_string())
}

/// A CSV attachment.
fn download(filename: &str, body: String) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body)
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The printable usage report, as `report usage --format html` writes it.
fn usage_html(app: &App, report: &UsageReport) -> Response {
    let issuer = &app.provider.issuer;
    let html = report.to_html(&format!("{issuer}/static/report.css"), app.provider.clock.now());
    let origin = url::Url::parse(issuer).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
    let csp = format!("default-src 'none'; style-src {origin}; base-uri 'none'; frame-ancestors 'none'");
    let mut response =
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
            .into_response();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}
