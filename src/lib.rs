//! danang-sso: single sign-on for Đà Nẵng city's government mailboxes.
//!
//! [`build`] turns a [`config::Config`] into an [`App`]; [`run`] serves it on a listener until shutdown.
//! `main`, the integration tests and the benchmark all go through these two functions.

pub mod clock;
pub mod config;
pub mod directory;
pub mod error;
pub mod http;
pub mod i18n;
pub mod keys;
pub mod oidc;
pub mod policy;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{Config, DirectoryKind, StoreKind};
use crate::directory::Directory;
use crate::directory::ldif::LdifDirectory;
use crate::keys::{Alg, KeySet};
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
    pub jwks: Bytes,
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
        DirectoryKind::Ldif => Arc::new(match &config.directory.ldif_path {
            Some(path) => LdifDirectory::from_file(path).map_err(|e| BuildError::Directory(e.to_string()))?,
            None => LdifDirectory::parse(config::DEMO_LDIF).map_err(|e| BuildError::Directory(e.to_string()))?,
        }),
        DirectoryKind::Ldap => return Err(BuildError::Directory("directory.kind = \"ldap\" is not built yet".into())),
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
    let keys = KeySet::load_or_create(&config.keys.dir, alg)?;
    let issuer = config.server.issuer.trim_end_matches('/').to_owned();
    let discovery = Bytes::from(oidc::discovery::document(&issuer, &keys.algorithms()));
    let jwks = Bytes::copy_from_slice(keys.jwks_json());
    let provider = Provider {
        issuer,
        clients: Clients::new(&config.clients),
        policy: Policy::new(&config.policy.allowed_domains),
        directory,
        store,
        keys,
        clock,
        tokens: config.tokens.clone(),
        session: config.session.clone(),
    };
    let secure_cookies = provider.issuer.starts_with("https://");
    Ok(App { secure_cookies, discovery, jwks, provider })
}

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish.
pub async fn run(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = http::router(Arc::new(app));
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
