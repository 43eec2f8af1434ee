//! danang-sso: single sign-on for Đà Nẵng city's government mailboxes.
//!
//! [`build`] turns a [`config::Config`] into an [`App`]; [`run`] serves it on a listener until shutdown.
//! `main`, the integration tests and the benchmark all go through these two functions.

pub mod audit;
pub mod clock;
pub mod config;
pub mod directory;
pub mod error;
pub mod http;
pub mod i18n;
pub mod keys;
pub mod oidc;
pub mod outbound;
pub mod policy;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{Config, DirectoryKind, StoreKind};
use crate::directory::Directory;
use crate::directory::ldap::LdapDirectory;
use crate::directory::ldif::LdifDirectory;
use crate::keys::{Alg, KeyRing};
use crate::oidc::Provider;
use crate::oidc::clients::Clients;
use crate::policy::Policy;
use crate::store::Store;
use crate::store::memory::MemoryStore;
use crate::store::redis::RedisStore;

/// The running service: the protocol core plus what HTTP serves as prepared bytes.
pub struct App {
    pub provider: Provider,
    pub discovery: Bytes,
    pub key_reload_interval: std::time::Duration,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<http::context::Network>,
    /// Where the operators' API listens (off when `None`), and its bearer token.
    pub admin_listen: Option<String>,
    pub admin_token: Option<String>,
    /// Cookies get `Secure` (and responses HSTS) when the issuer is https.
    pub secure_cookies: bool,
}

/// Why the service could not be built from its config.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid configuration:\n{}", .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Config(Vec<config::ConfigError>),
    #[error("directory: {0}")]
    Directory(String),
    #[error("store: {0}")]
    Store(String),
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    #[error("outbound HTTP client: {0}")]
    Outbound(String),
}

/// Builds the service with the system clock.
pub async fn build(config: Config) -> Result<App, BuildError> {
    build_with_clock(config, Clock::default()).await
}

/// Builds the service with a given clock (tests move it to check expiry and `max_age`).
pub async fn build_with_clock(config: Config, clock: Clock) -> Result<App, BuildError> {
    let problems = config.problems();
    if !problems.is_empty() {
        return Err(BuildError::Config(problems));
    }
    let directory: Arc<dyn Directory> = match config.directory.kind {
        DirectoryKind::Ldif => {
            let directory = match &config.directory.ldif_path {
                Some(path) => LdifDirectory::from_file(path).map_err(|e| BuildError::Directory(e.to_string()))?,
                None => LdifDirectory::parse(config::DEMO_LDIF).map_err(|e| BuildError::Directory(e.to_string()))?,
            };
            release_freed_memory();
            Arc::new(directory)
        }
        DirectoryKind::Ldap => {
            Arc::new(LdapDirectory::new(&config.ldap, clock.clone()).map_err(|e| BuildError::Directory(e.to_string()))?)
        }
    };
    let store: Arc<dyn Store> = match config.store.kind {
        StoreKind::Memory => Arc::new(MemoryStore::new(clock.clone())),
        StoreKind::Redis => {
            let store = RedisStore::new(&config.store, clock.clone()).map_err(|e| BuildError::Store(e.0))?;
            store.check_at_start().await.map_err(|e| BuildError::Store(e.0))?;
            Arc::new(store)
        }
    };
    let alg = Alg::parse(&config.keys.algorithm).unwrap_or(Alg::RS256);
    let keys = KeyRing::open(&config.keys.dir, alg)?;
    let issuer = config.server.issuer.trim_end_matches('/').to_owned();
    let discovery = Bytes::from(oidc::discovery::document(&issuer));
    let provider = Provider {
        issuer,
        clients: Clients::new(&config.clients)
            .map_err(|m| BuildError::Config(vec![config::ConfigError::new("clients", m)]))?,
        policy: Policy::new(&config.policy.allowed_domains),
        directory,
        store,
        keys,
        clock,
        tokens: config.tokens.clone(),
        session: config.session.clone(),
        notifier: Arc::new(outbound::HttpNotifier::new().map_err(BuildError::Outbound)?),
        throttle: policy::throttle::Throttle::new(config.throttle.clone()),
        audit: start_audit(&config.audit)
            .map_err(|e| BuildError::Config(vec![config::ConfigError::new("audit.path", e.to_string())]))?,
    };
    let secure_cookies = provider.issuer.starts_with("https://");
    let key_reload_interval = std::time::Duration::from_secs(config.keys.reload_interval_secs.max(1));
    let trusted_proxies =
        config.server.trusted_proxies.iter().filter_map(|p| http::context::Network::parse(p)).collect();
    let admin_token = match (&config.admin.token, &config.admin.token_file) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| BuildError::Config(vec![config::ConfigError::new("admin.token_file", e.to_string())]))?
                .trim()
                .to_owned(),
        ),
        (None, None) => None,
    };
    Ok(App {
        secure_cookies,
        discovery,
        key_reload_interval,
        trusted_proxies,
        admin_listen: config.admin.listen.clone(),
        admin_token,
        provider,
    })
}

/// Hands memory freed so far back to the system. glibc's allocator keeps freed blocks that lie between live
/// ones, and parsing a large LDIF file leaves its temporary entries there: 20,000 accounts left 60 MB resident,
/// this brings it to 30 MB (see the README's Performance section).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn start_audit(config: &config::AuditConfig) -> std::io::Result<audit::Audit> {
    let sink = match (&config.output[..], &config.path) {
        ("file", Some(path)) => audit::Sink::File(path.clone()),
        _ => audit::Sink::Stdout,
    };
    let instance = config.instance.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
        format!("{host}:{}", std::process::id())
    });
    audit::Audit::start(sink, instance)
}

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish.
pub async fn run(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Arc::new(app);
    let reloader = tokio::spawn(reload_keys(app.clone()));
    let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
    let admin = match &app.admin_listen {
        Some(addr) => {
            let listener = TcpListener::bind(addr).await?;
            tracing::info!(listen = %addr, "admin API listening");
            let router = http::admin::router(app.clone());
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            Some(tokio::spawn(async move {
                axum::serve(listener, service)
                    .with_graceful_shutdown(async move {
                        let _ = admin_stopped.await;
                    })
                    .await
            }))
        }
        None => None,
    };
    let router = http::router(app.clone());
    let served = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_admin.send(());
    if let Some(admin) = admin {
        let _ = admin.await;
    }
    reloader.abort();
    app.provider.notifier.drain().await;
    served
}

/// Picks up keys added by `keys rotate` or removed by `keys prune` in other processes.
async fn reload_keys(app: Arc<App>) {
    let mut tick = tokio::time::interval(app.key_reload_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let app = app.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || app.provider.keys.reload()).await {
            tracing::error!(error = %e, "signing keys not reloaded");
        }
    }
}
