//! Discovery, JWKS and the stylesheets: prepared bytes, served as they are.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::App;

pub async fn openid_configuration(State(app): State<Arc<App>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, max-age=300")],
        app.discovery.clone(),
    )
}

pub async fn jwks(State(app): State<Arc<App>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/jwk-set+json"), (header::CACHE_CONTROL, "public, max-age=300")],
        app.provider.keys.current().jwks_json().clone(),
    )
}

pub async fn form_post_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../../static/form_post.js"),
    )
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../../static/style.css"),
    )
}

/// The printable reports' stylesheet (the usage report links it by absolute URL, so a saved copy prints alike).
pub async fn report_stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../../static/report.css"),
    )
}
