//! danang-sso: single sign-on for Đà Nẵng city's government mailboxes.
//!
//! [`build`] turns a [`config::Config`] into an [`App`]; [`run`] (plain HTTP) or [`run_tls`] (HTTPS) serves it
//! on a listener until shutdown. `main`, the integration tests and the benchmark all go through these functions.

pub mod audit;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod csv;
pub mod directory;
pub mod error;
pub mod health;
pub mod http;
pub mod i18n;
pub mod keys;
pub mod mfa;
pub mod oidc;
pub mod outbound;
pub mod policy;
#[cfg(test)]
mod props;
pub mod report;
pub mod saml;
mod serve;
pub mod store;
pub mod telemetry;
pub mod tls;

pub use serve::{run, run_metrics, run_tls};

use std::sync::Arc;

use axum::body::Bytes;

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
use crate::telemetry::Metrics;

/// The running service: the protocol core plus what HTTP serves as prepared bytes.
pub struct App {
    pub provider: Provider,
    /// The SAML 2.0 identity provider on the same sessions (`None` when `[saml] enabled = false`).
    pub saml: Option<saml::Saml>,
    pub discovery: Bytes,
    pub key_reload_interval: std::time::Duration,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where the operators' API listens (off when `None`), and its bearer token.
    pub admin_listen: Option<String>,
    pub admin_token: Option<String>,
    /// Cookies get `Secure` (and responses HSTS) when the issuer is https.
    pub secure_cookies: bool,
    /// This instance's Prometheus metrics (its own recorder: no process-wide state).
    pub metrics: Metrics,
    /// `/metrics` is on the main listener unless `[server] metrics_listen` gives it its own.
    pub metrics_on_main_listener: bool,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: std::time::Duration,
    /// The public mail directory page (`/danh-ba`), when `[directory_page]` enables it.
    pub directory_page: Option<directory::public::PublicDirectory>,
    /// The audit trail's file (`[audit] output = "file"`): what the usage report reads.
    pub audit_file: Option<std::path::PathBuf>,
    /// The IT centre's console (`/quan-tri`), when `[console] enabled`.
    pub console: Option<config::ConsoleConfig>,
    /// The pages' help line, "forgot password" link and language rule (`[ui]`).
    pub ui: config::UiConfig,
}

/// Runs an operator command (`sessions …`, `mfa …`) on the service built from `config`. Only with a shared store:
/// a memory store's sessions and factors live inside the running server, so the command is refused and pointed at
/// the admin API. `what` names what lives there, for that message.
pub fn run_on_shared_store(
    config: Config,
    what: &str,
    command: impl AsyncFnOnce(&App) -> Result<(), error::Error>,
) -> std::process::ExitCode {
    use std::process::ExitCode;
    if config.store.kind == StoreKind::Memory {
        eprintln!(
            "danang-sso: with store.kind = \"memory\" the {what} live inside the running server; \
             use its admin API ([admin] listen) or a shared Redis store"
        );
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("danang-sso: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let app = match build(config).await {
            Ok(app) => app,
            Err(e) => {
                eprintln!("danang-sso: {e}");
                return ExitCode::from(2);
            }
        };
        let done = command(&app).await;
        // The command may have recorded an operator action (`mfa reset`, `sessions revoke`): its audit line is
        // written by the writer thread, which dies with the process.
        app.provider.audit.flush();
        match done {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("danang-sso: {e}");
                ExitCode::FAILURE
            }
        }
    })
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
    let mut problems = config.problems();
    problems.extend(config.file_problems());
    if !problems.is_empty() {
        return Err(BuildError::Config(problems));
    }
    let directory = open_directory(&config, clock.clone())?;
    let store: Arc<dyn Store> = match config.store.kind {
        StoreKind::Memory => Arc::new(MemoryStore::new(clock.clone())),
        StoreKind::Redis => {
            let store = RedisStore::new(&config.store, clock.clone()).map_err(|e| BuildError::Store(e.0))?;
            store.check_at_start().await.map_err(|e| BuildError::Store(e.0))?;
            Arc::new(store)
        }
    };
    let metrics = Metrics::new();
    let directory: Arc<dyn Directory> = Arc::new(directory::Metered::new(directory, metrics.clone()));
    let store: Arc<dyn Store> = Arc::new(store::Metered::new(store, metrics.clone()));
    let alg = Alg::parse(&config.keys.algorithm).unwrap_or(Alg::RS256);
    let keys = KeyRing::open(&config.keys.dir, alg)?;
    let issuer = config.server.issuer.trim_end_matches('/').to_owned();
    let require_par = config.oidc.require_pushed_authorization_requests;
    let discovery = Bytes::from(oidc::discovery::document(&issuer, require_par));
    // `[oidc] require_pushed_authorization_requests` holds for every client.
    let client_configs: Vec<config::ClientConfig> = config
        .clients
        .iter()
        .cloned()
        .map(|mut c| {
            c.require_pushed_authorization_requests |= require_par;
            c
        })
        .collect();
    let provider = Provider {
        issuer,
        clients: Clients::new(&client_configs)
            .map_err(|m| BuildError::Config(vec![config::ConfigError::new("clients", m)]))?,
        policy: Policy::new(&config.policy.allowed_domains).with_dormancy(config.dormancy()),
        directory: directory.clone(),
        store,
        keys,
        secret: keys::ServerSecret::load_or_create(&config.keys.dir)?,
        clock,
        tokens: config.tokens.clone(),
        session: config.session.clone(),
        notifier: Arc::new(outbound::HttpNotifier::new(metrics.clone()).map_err(BuildError::Outbound)?),
        throttle: policy::throttle::Throttle::new(config.throttle.clone()),
        audit: start_audit(&config.audit)
            .map_err(|e| BuildError::Config(vec![config::ConfigError::new("audit.path", e.to_string())]))?,
        oidc: config.oidc.clone(),
        outage: oidc::outage::OutageGrace::new(config.directory.outage_grace_secs, metrics.clone()),
        mfa: mfa::Mfa {
            policy: mfa::MfaPolicy { required_for_groups: config.mfa.required_for_groups.clone() },
            sealer: mfa::Sealer::load_or_create(&config.keys.dir)
                .map_err(|e| BuildError::Config(vec![config::ConfigError::new("keys.dir", e.to_string())]))?,
            issuer_label: config.mfa.totp_issuer.clone(),
        },
    };
    if config.directory.kind == DirectoryKind::Ldif && config.directory.ldif_path.is_none() {
        // Best effort: a store that is down at start must not stop the service (readiness reports it).
        if let Err(e) = provider.enrol_demo_factor().await {
            tracing::warn!(error = %e, "the demo account's authenticator app could not be stored yet");
        }
    }
    let saml = if config.saml.enabled {
        let saml = saml::Saml::new(&config.saml, &provider.issuer, &provider.keys.current())
            .map_err(|m| BuildError::Config(vec![config::ConfigError::new("saml", m)]))?;
        Some(saml)
    } else {
        None
    };
    let secure_cookies = provider.issuer.starts_with("https://");
    let key_reload_interval = std::time::Duration::from_secs(config.keys.reload_interval_secs.max(1));
    let trusted_proxies = config.server.trusted_proxies.iter().filter_map(|p| config::trusted_proxy(p)).collect();
    let admin_token = config.admin.load_token().map_err(|e| BuildError::Config(vec![e]))?;
    let directory_page = config.directory_page.is_enabled(&config.directory).then(|| {
        let p = &provider;
        directory::public::PublicDirectory::new(
            directory,
            p.policy.clone(),
            config.directory_page.clone(),
            p.clock.clone(),
        )
    });
    let audit_file = config.audit.path.clone().filter(|_| config.audit.output == "file");
    Ok(App {
        console: config.console.enabled.then(|| config.console.clone()),
        ui: config.ui.clone(),
        directory_page,
        audit_file,
        secure_cookies,
        discovery,
        key_reload_interval,
        trusted_proxies,
        admin_listen: config.admin.listen.clone(),
        admin_token,
        provider,
        metrics,
        saml,
        metrics_on_main_listener: config.server.metrics_listen.is_none(),
        shutdown_grace: std::time::Duration::from_secs(config.server.shutdown_grace_secs),
    })
}

/// The directory `config` names (also for commands that need nothing else, such as `mailbox-name`).
pub fn open_directory(config: &Config, clock: Clock) -> Result<Arc<dyn Directory>, BuildError> {
    Ok(match config.directory.kind {
        DirectoryKind::Ldif => {
            let directory = match &config.directory.ldif_path {
                Some(path) => LdifDirectory::from_file(path).map_err(|e| BuildError::Directory(e.to_string()))?,
                None => LdifDirectory::parse(config::DEMO_LDIF).map_err(|e| BuildError::Directory(e.to_string()))?,
            };
            release_freed_memory();
            Arc::new(directory)
        }
        DirectoryKind::Ldap => {
            Arc::new(LdapDirectory::new(&config.ldap, clock).map_err(|e| BuildError::Directory(e.to_string()))?)
        }
    })
}

/// Hands memory freed so far back to the system: parsing a large LDIF file leaves its temporary entries' memory
/// with the allocator (20,000 accounts: 60 MB resident with glibc's before this, 30 MB after; see the README's
/// Performance section). The binary allocates with mimalloc; glibc's is trimmed too, for whatever still uses it.
fn release_freed_memory() {
    // SAFETY: mi_collect only walks mimalloc's own heaps, safe at any time from any thread.
    unsafe { libmimalloc_sys::mi_collect(true) };
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
