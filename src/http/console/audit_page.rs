//! `GET /quan-tri/nhat-ky`: the audit search — by account, event, app and time range (Vietnam days) over the audit
//! file and its rotated copies, newest first, [`PER_PAGE`] lines a page. The reading is [`crate::audit::search`].

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde::Deserialize;

use super::{Operator, operator};
use crate::App;
use crate::audit::search::{self, Entry};
use crate::calendar::Day;
use crate::http::context::Ctx;

pub const PER_PAGE: usize = 50;

#[derive(Deserialize, Default)]
pub struct Params {
    #[serde(default)]
    account: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    client: String,
    /// First day (YYYY-MM-DD, Vietnam time), included.
    #[serde(default)]
    from: String,
    /// Last day, included.
    #[serde(default)]
    to: String,
    /// 1-based.
    page: Option<usize>,
}

impl Params {
    /// The search they ask for, or what is wrong with them.
    fn query(&self) -> Result<search::Query, String> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let day = |s: &str| match s.trim() {
            "" => Ok(None),
            s => Day::parse(s).map(Some).ok_or_else(|| format!("{s}: ngày không hợp lệ (YYYY-MM-DD)")),
        };
        Ok(search::Query {
            account: text(&self.account),
            event: text(&self.event),
            client: text(&self.client),
            from: day(&self.from)?.map(Day::start_unix),
            to: day(&self.to)?.map(|d| Day(d.0 + 1).start_unix()),
        })
    }

    /// The query string of another page of the same search.
    fn page_link(&self, page: usize) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("account", &self.account)
            .append_pair("event", &self.event)
            .append_pair("client", &self.client)
            .append_pair("from", &self.from)
            .append_pair("to", &self.to)
            .append_pair("page", &page.to_string());
        format!("/quan-tri/nhat-ky?{}", q.finish())
    }
}

/// The events the trail writes, for the event list.
const EVENTS: [&str; 13] = [
    "sign_in_success",
    "sign_in_failure",
    "lockout",
    "token_issued",
    "refresh_reuse_detected",
    "code_replay_detected",
    "grant_revoked",
    "logout",
    "session_ended",
    "session_revoked",
    "operator_action",
    "saml_request_refused",
    "saml_response_issued",
];

#[derive(Template, WebTemplate)]
#[template(path = "console/audit.html")]
struct Page<'a> {
    op: &'a Operator,
    p: &'a Params,
    events: &'static [&'static str],
    entries: Vec<Entry>,
    page: usize,
    previous: Option<String>,
    next: Option<String>,
    error: Option<String>,
}

impl Page<'_> {
    fn when(&self, time: &str) -> String {
        super::vn_audit_time(time)
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
    let page = p.page.unwrap_or(1).max(1);
    let mut view =
        Page { op: &op, p: &p, events: &EVENTS, entries: Vec::new(), page, previous: None, next: None, error: None };
    match (p.query(), app.audit_file.clone()) {
        (Err(e), _) => view.error = Some(e),
        (Ok(_), None) => {
            view.error =
                Some("Nhật ký kiểm toán không ghi ra tệp ([audit] output = \"file\"): không có gì để tìm.".into())
        }
        (Ok(query), Some(path)) => {
            let offset = (page - 1) * PER_PAGE;
            let found =
                tokio::task::spawn_blocking(move || search::search(&search::files(&path), &query, offset, PER_PAGE))
                    .await;
            match found {
                Ok(Ok(found)) => {
                    view.next = found.more.then(|| p.page_link(page + 1));
                    view.previous = (page > 1).then(|| p.page_link(page - 1));
                    view.entries = found.entries;
                }
                Ok(Err(e)) => view.error = Some(format!("Không đọc được nhật ký: {e}")),
                Err(e) => view.error = Some(e.to_string()),
            }
        }
    }
    op.render(view)
}
