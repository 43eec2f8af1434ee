//! The HTTP face of the service: routes, and the layers every route shares (security headers, body limit,
//! timeout, tracing). Handlers are thin: they parse, call [`crate::oidc`], and render.

pub mod account;
pub mod admin;
mod authorize;
mod console;
pub mod context;
pub(crate) mod cookies;
pub(crate) mod csrf;
mod directory_page;
mod discovery;
mod limits;
mod logout;
mod ops;
pub mod pages;
mod par;
mod prompt;
mod saml;
mod saml_confirm;
pub mod token;
pub mod ui;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use axum::{Router, middleware};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::App;
use crate::oidc::discovery::{
    AUTHORIZE_PATH, CONSENT_PATH, INTROSPECT_PATH, JWKS_PATH, LOGIN_PATH, LOGOUT_PATH, PAR_PATH, REVOKE_PATH,
    SELECT_ACCOUNT_PATH, TOKEN_PATH, USERINFO_PATH,
};
use crate::telemetry::Metrics;

/// Largest request body accepted anywhere: forms and token requests are small.
const BODY_LIMIT: usize = 64 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// No script, no inline style, no framing: the sign-in page cannot be clickjacked or injected into.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Every route of the service, with the shared layers. `/metrics` is here unless `[server] metrics_listen`
/// moves it to [`metrics_router`].
pub fn router(app: Arc<App>) -> Router {
    let hsts = app.secure_cookies.then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    let mut routes = Router::new()
        .route("/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route(JWKS_PATH, get(discovery::jwks))
        .route(AUTHORIZE_PATH, get(authorize::authorize_get).post(authorize::authorize_post))
        .route(LOGIN_PATH, post(authorize::login))
        .route(PAR_PATH, post(par::push))
        .route(SELECT_ACCOUNT_PATH, post(prompt::select_account))
        .route(CONSENT_PATH, post(prompt::consent))
        .route(LOGOUT_PATH, get(logout::logout_get).post(logout::logout_post))
        .route("/.well-known/oauth-authorization-server", get(discovery::openid_configuration))
        .route(TOKEN_PATH, post(token::token))
        .route(INTROSPECT_PATH, post(token::introspect))
        .route(REVOKE_PATH, post(token::revoke))
        .route(USERINFO_PATH, get(token::userinfo).post(token::userinfo))
        .route("/static/style.css", get(discovery::stylesheet))
        .route("/static/form_post.js", get(discovery::form_post_script))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/static/report.css", get(discovery::report_stylesheet));
    routes = routes.merge(account::routes()).route(ui::LANG_PATH, get(ui::switch));
    if app.directory_page.is_some() {
        routes = routes.route(directory_page::PATH, get(directory_page::page));
    }
    if app.saml.is_some() {
        routes = routes.merge(saml::routes());
    }
    if app.console.is_some() {
        routes = routes.merge(console::routes());
    }
    let routes = routes.layer(middleware::from_fn_with_state(app.clone(), ui::chrome)).with_state(app.clone());
    let routes = if app.metrics_on_main_listener { routes.merge(metrics_router(app.metrics.clone())) } else { routes };
    let routes = match hsts {
        Some(layer) => routes.layer(layer),
        None => routes,
    };
    routes
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::from_fn(limits::header_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(app.metrics.clone(), ops::track))
}

/// `/metrics` alone, for a separate listener that only the monitoring network reaches.
pub fn metrics_router(metrics: Metrics) -> Router {
    Router::new().route("/metrics", get(ops::metrics)).with_state(metrics)
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
