//! `GET /quan-tri`: the overview — sign-ins today and in the last hour by app, failures and lockouts in the last
//! hour (from the audit trail file), live SSO sessions (when the store can count them), the readiness checks,
//! and the instances that wrote to the audit trail in the last hour.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use super::{Operator, operator};
use crate::App;
use crate::audit::search::{self, Query};
use crate::calendar::Day;
use crate::health;
use crate::http::context::Ctx;

/// Sign-ins of one app.
pub struct AppCount {
    pub name: String,
    pub today: u64,
    pub last_hour: u64,
}

/// What the overview counts in the audit trail.
#[derive(Default)]
pub struct Activity {
    pub apps: Vec<AppCount>,
    pub failures_last_hour: u64,
    pub lockouts_last_hour: u64,
    pub instances: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/overview.html")]
struct Page<'a> {
    op: &'a Operator,
    activity: Option<Activity>,
    live_sessions: String,
    checks: Vec<(&'static str, String)>,
    ready: bool,
}

pub async fn page(State(app): State<Arc<App>>, Ctx(ctx): Ctx, headers: HeaderMap, uri: Uri) -> Response {
    let op = match operator(&app, &headers, &uri, &ctx).await {
        Ok(op) => op,
        Err(response) => return response,
    };
    let now = app.provider.clock.now();
    let activity = match app.audit_file.clone() {
        Some(path) => {
            let names = app_names(&app);
            tokio::task::spawn_blocking(move || count(&search::files(&path), now, &names)).await.ok().flatten()
        }
        None => None,
    };
    let live_sessions = match app.provider.store.live_session_count().await {
        Ok(Some(n)) => n.to_string(),
        Ok(None) => "không đếm được với kho dữ liệu này".into(),
        Err(e) => format!("không đọc được: {e}"),
    };
    let readiness = health::readiness(&app.provider, health::READY_TIMEOUT).await;
    let ready = readiness.is_ready();
    let checks = readiness.checks.into_iter().collect();
    op.render(Page { op: &op, activity, live_sessions, checks, ready })
}

/// Every app's display name by its id: OIDC clients, SAML service providers, the console itself.
fn app_names(app: &App) -> BTreeMap<String, String> {
    let mut names: BTreeMap<String, String> =
        app.provider.clients.all().map(|c| (c.id.clone(), c.name.clone())).collect();
    if let Some(saml) = &app.saml {
        names.extend(saml.sps.all().map(|sp| (sp.entity_id.clone(), sp.name.clone())));
    }
    names.insert(super::CLIENT.into(), "Bảng điều khiển quản trị".into());
    names
}

/// Counts today's lines (Vietnam time) of the audit files, newest first; `None` when they cannot be read.
fn count(files: &[std::path::PathBuf], now: u64, names: &BTreeMap<String, String>) -> Option<Activity> {
    let hour_ago = now.saturating_sub(3600);
    let since = Day::of_unix(now).start_unix().min(hour_ago);
    let today = Day::of_unix(now).start_unix();
    let mut per_app: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let (mut failures, mut lockouts, mut instances) = (0, 0, BTreeSet::new());
    let query = Query { from: Some(since), ..Query::default() };
    search::scan(files, &query, |entry, at| {
        let recent = at >= hour_ago;
        if recent {
            instances.insert(entry.instance.clone());
        }
        match entry.event.as_str() {
            "sign_in_success" => {
                let name = entry.client.as_deref().map(|c| names.get(c).cloned().unwrap_or_else(|| c.to_owned()));
                let counts = per_app.entry(name.unwrap_or_default()).or_default();
                counts.0 += u64::from(at >= today);
                counts.1 += u64::from(recent);
            }
            "sign_in_failure" if recent => failures += 1,
            "lockout" if recent => lockouts += 1,
            _ => {}
        }
    })
    .ok()?;
    let apps = per_app.into_iter().map(|(name, (today, last_hour))| AppCount { name, today, last_hour }).collect();
    Some(Activity {
        apps,
        failures_last_hour: failures,
        lockouts_last_hour: lockouts,
        instances: instances.into_iter().collect(),
    })
}
