//! The three demo city apps: relying parties of danang-sso, and the guide for integrating a city app.
//!
//! Each app is a small axum server that signs people in with OpenID Connect through the `openidconnect` crate.
//! Read the modules in this order:
//! - [`provider`]: discovery, the authorization request (PKCE, nonce, state), the code exchange with its
//!   ID token checks, and the RP-initiated logout URL; nothing in it is specific to danang-sso.
//! - [`sessions`]: the app's own sessions, in memory, one per browser, keyed by a random cookie.
//! - [`routes`]: `/` (home), `/login`, `/callback`, `/logout`; [`pages`]: the HTML.
//! - [`backchannel`]: `/backchannel-logout`, which verifies the provider's logout token and ends the local
//!   sessions it names, so signing out in one app signs the person out of all three.
//!
//! `examples/city-apps.rs` runs them on ports 8081–8083; `tests/it/browser_e2e.rs` runs them on free ports and
//! walks a real browser through them.

mod backchannel;
mod pages;
mod provider;
mod routes;
mod sessions;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One demo app as registered at the provider (`config/clients.toml`).
pub struct CityApp {
    pub client_id: &'static str,
    /// The name people see, here and on the provider's sign-in page.
    pub name: &'static str,
    /// The port of its registered redirect URI `http://127.0.0.1:{port}/callback`.
    pub port: u16,
    /// The demo secret. A real app reads its secret from its own configuration, never from code.
    secret: &'static str,
}

/// The three apps, in the order [`start`] takes their listeners.
pub const CITY_APPS: [CityApp; 3] = [
    CityApp { client_id: "portal", name: "Cổng thông tin điện tử", port: 8081, secret: "portal-secret" },
    CityApp { client_id: "vanban", name: "Quản lý văn bản điều hành", port: 8082, secret: "vanban-secret" },
    CityApp { client_id: "tiepdan", name: "Tiếp dân trực tuyến", port: 8083, secret: "tiepdan-secret" },
];

/// What every request handler of one app shares.
struct App {
    spec: &'static CityApp,
    /// All three apps (this one marked), for the links between them.
    peers: Vec<pages::Peer>,
    provider: provider::Provider,
    sessions: sessions::Sessions,
}

/// Why a page could not be served: a sentence for the person (in Vietnamese) and details for the log.
struct Failure {
    status: StatusCode,
    message: &'static str,
    detail: String,
}

impl Failure {
    /// The provider could not be reached or answered nonsense (a 502: the app itself is fine).
    fn unreachable(detail: impl Into<String>) -> Failure {
        let message = "Không kết nối được với hệ thống đăng nhập một lần. Vui lòng thử lại sau.";
        Failure { status: StatusCode::BAD_GATEWAY, message, detail: detail.into() }
    }

    /// The sign-in did not complete: a stale or forged callback, a refusal, a token that failed its checks.
    fn sign_in(detail: impl Into<String>) -> Failure {
        let message = "Đăng nhập không thành công. Vui lòng thử lại.";
        Failure { status: StatusCode::BAD_REQUEST, message, detail: detail.into() }
    }
}

/// The running apps; dropping this stops them.
pub struct Running {
    /// Base URLs, e.g. `http://127.0.0.1:8081`, in the order of [`CITY_APPS`].
    pub urls: Vec<String>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

/// Serves the three apps on `listeners` (in the order of [`CITY_APPS`]), talking to the provider at `issuer`.
///
/// Discovery happens on first use, not here, so the apps may start before the provider does.
pub async fn start(issuer: &str, listeners: [TcpListener; 3]) -> std::io::Result<Running> {
    // reqwest uses rustls; with more than one crypto provider compiled in, one must be chosen once per process.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // Never follow redirects when talking to the provider (the openidconnect crate's advice against SSRF),
    // and never wait on it for long.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(std::io::Error::other)?;
    let urls = listeners
        .iter()
        .map(|l| l.local_addr().map(|addr| format!("http://{addr}")))
        .collect::<std::io::Result<Vec<_>>>()?;

    let mut tasks = Vec::new();
    for ((spec, listener), url) in CITY_APPS.iter().zip(listeners).zip(&urls) {
        let peers = CITY_APPS
            .iter()
            .zip(&urls)
            .map(|(peer, peer_url)| pages::Peer {
                name: peer.name,
                url: format!("{peer_url}/"),
                current: peer.client_id == spec.client_id,
            })
            .collect();
        let provider = provider::Provider::new(issuer, spec.client_id, spec.secret, url, http.clone())
            .map_err(std::io::Error::other)?;
        // Each app gets its own cookie name: cookies are shared by every port of a host.
        let sessions = sessions::Sessions::new(format!("{}_session", spec.client_id));
        let router = routes::router(Arc::new(App { spec, peers, provider, sessions }));
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(app = spec.client_id, error = %e, "the app stopped");
            }
        }));
    }
    Ok(Running { urls, tasks })
}
