//! What operators and their machines call: `/healthz`, `/readyz`, `/metrics`, and the middleware that times
//! every request by route.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::App;
use crate::health::{READY_TIMEOUT, readiness};
use crate::telemetry::Metrics;

/// `GET /healthz`: the process is alive and serving. Asks nothing of the backends.
pub async fn healthz() -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Json(serde_json::json!({ "status": "ok" }))).into_response()
}

/// `GET /readyz`: 200 when the directory, the store and the keys are all fine; 503 naming what is down.
pub async fn readyz(State(app): State<Arc<App>>) -> Response {
    let ready = readiness(&app.provider, READY_TIMEOUT).await;
    let status = if ready.is_ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(ready)).into_response()
}

/// `GET /metrics`: Prometheus text exposition format 0.0.4.
pub async fn metrics(State(metrics): State<Metrics>) -> Response {
    let content_type = "text/plain; version=0.0.4; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-store")], metrics.render()).into_response()
}

/// Records each request's latency under its route pattern (`/authorize`, not the query), method and status.
/// Requests that match no route are counted under `unmatched`, so scanners cannot grow the label set.
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let route = route.as_deref().unwrap_or("unmatched");
    metrics.http_request(route, method, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// The standard methods by name, anything else as `other` (hyper accepts made-up methods).
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 7] =
        [Method::GET, Method::POST, Method::HEAD, Method::OPTIONS, Method::PUT, Method::DELETE, Method::PATCH];
    KNOWN.iter().find(|m| *m == method).map_or("other", |m| m.as_str())
}
