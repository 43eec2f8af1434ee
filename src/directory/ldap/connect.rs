//! Opening connections: which server (failover in the configured order, a failed one skipped for a
//! while), how it is secured (rustls, trusted CAs), and how long it may take.
//!
//! Each server remembers when it last failed, in the service's clock: for `retry_after_secs` new
//! connections skip it, then it is tried again. When every server is marked down, all are tried
//! anyway, so the service comes back the moment one answers. The counters make failover visible
//! (tests and operators) without timing anything.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use crate::clock::Clock;
use crate::directory::Unavailable;

/// A DN and password to bind a fresh connection with (the service account).
#[derive(Clone)]
pub(super) struct Credentials {
    pub dn: String,
    pub password: String,
}

/// What one server has seen since start; [`super::LdapDirectory::servers`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStats {
    pub url: String,
    /// Connections tried (TCP, TLS, the service bind).
    pub attempts: u64,
    /// Connections that became usable.
    pub connects: u64,
    /// Connects and operations that failed on a fresh connection: each marks the server down.
    pub failures: u64,
    /// Skipped by new connections now (failed less than `retry_after_secs` ago).
    pub down: bool,
}

struct Server {
    url: String,
    /// Clock second of the last failure; 0 when the server is not marked down.
    down_since: AtomicU64,
    attempts: AtomicU64,
    connects: AtomicU64,
    failures: AtomicU64,
}

/// A connection and the server it goes to.
pub(super) struct Conn {
    pub ldap: Ldap,
    pub server: usize,
    /// Clock second it was opened: old connections are retired (see `Pool`).
    pub born: u64,
}

/// The configured servers, in failover order, and how to reach them.
pub(super) struct Servers {
    servers: Vec<Server>,
    settings: LdapConnSettings,
    timeout: Duration,
    retry_after: u64,
    clock: Clock,
}

impl Servers {
    pub(super) fn new(
        urls: &[String],
        tls: Option<Arc<ClientConfig>>,
        starttls: bool,
        timeout: Duration,
        clock: Clock,
        retry_after_secs: u64,
    ) -> Self {
        let mut settings = LdapConnSettings::new().set_conn_timeout(timeout).set_starttls(starttls);
        if let Some(tls) = tls {
            settings = settings.set_config(tls);
        }
        let servers = urls
            .iter()
            .map(|url| Server {
                url: url.clone(),
                down_since: AtomicU64::new(0),
                attempts: AtomicU64::new(0),
                connects: AtomicU64::new(0),
                failures: AtomicU64::new(0),
            })
            .collect();
        Servers { servers, settings, timeout, retry_after: retry_after_secs, clock }
    }

    /// Seconds on the service's clock (tests move it to expire back-offs).
    pub(super) fn now(&self) -> u64 {
        self.clock.now()
    }

    pub(super) fn stats(&self) -> Vec<ServerStats> {
        let now = self.now();
        self.servers
            .iter()
            .map(|s| ServerStats {
                url: s.url.clone(),
                attempts: s.attempts.load(Ordering::Relaxed),
                connects: s.connects.load(Ordering::Relaxed),
                failures: s.failures.load(Ordering::Relaxed),
                down: self.is_down(s, now),
            })
            .collect()
    }

    fn is_down(&self, server: &Server, now: u64) -> bool {
        let since = server.down_since.load(Ordering::Relaxed);
        since != 0 && now < since.saturating_add(self.retry_after)
    }

    /// The servers a new connection tries, in order: those not marked down, or all when every one is.
    fn order(&self) -> Vec<usize> {
        let now = self.now();
        let up: Vec<usize> = (0..self.servers.len()).filter(|&i| !self.is_down(&self.servers[i], now)).collect();
        if up.is_empty() { (0..self.servers.len()).collect() } else { up }
    }

    /// Marks a server down after a failure; new connections skip it for `retry_after_secs`.
    pub(super) fn mark_down(&self, index: usize, error: &str) {
        let Some(server) = self.servers.get(index) else { return };
        server.failures.fetch_add(1, Ordering::Relaxed);
        server.down_since.store(self.now().max(1), Ordering::Relaxed);
        tracing::warn!(url = server.url, error, retry_after_secs = self.retry_after, "directory server failed");
    }

    /// Opens a connection to the first server that answers, bound as `login` when given.
    pub(super) async fn open(&self, login: Option<&Credentials>) -> Result<Conn, Unavailable> {
        let mut last = String::from("no server configured");
        for index in self.order() {
            let server = &self.servers[index];
            server.attempts.fetch_add(1, Ordering::Relaxed);
            let opened = tokio::time::timeout(self.timeout, self.connect(&server.url, login)).await;
            match opened.unwrap_or_else(|_| Err(format!("no answer within {:?}", self.timeout))) {
                Ok(ldap) => {
                    server.connects.fetch_add(1, Ordering::Relaxed);
                    server.down_since.store(0, Ordering::Relaxed);
                    return Ok(Conn { ldap, server: index, born: self.now() });
                }
                Err(error) => {
                    self.mark_down(index, &error);
                    last = format!("{}: {error}", server.url);
                }
            }
        }
        Err(Unavailable(format!("no directory server answered (last: {last})")))
    }

    async fn connect(&self, url: &str, login: Option<&Credentials>) -> Result<Ldap, String> {
        let (conn, mut ldap) =
            LdapConnAsync::with_settings(self.settings.clone(), url).await.map_err(|e| e.to_string())?;
        let url = url.to_owned();
        tokio::spawn(async move {
            if let Err(error) = conn.drive().await {
                tracing::debug!(url, %error, "LDAP connection ended");
            }
        });
        if let Some(login) = login {
            let result = ldap.simple_bind(&login.dn, &login.password).await.map_err(|e| e.to_string())?;
            if result.rc != 0 {
                return Err(format!("the service account's bind was refused (result {}: {})", result.rc, result.text));
            }
        }
        Ok(ldap)
    }
}

/// The TLS client config for `ldaps://` and StartTLS. With `ca_file`, only the CAs in that PEM file
/// are trusted (the directory's own CA, as libldap's `TLS_CACERT`); without it, the platform's trust
/// store. Certificates are always verified, host name (or IP address) included.
pub(super) fn tls_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| format!("ldap.ca_file {}: {e}", path.display()))?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| format!("ldap.ca_file {}: {e}", path.display()))?;
                roots.add(cert).map_err(|e| format!("ldap.ca_file {}: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("ldap.ca_file {}: no certificate in it", path.display()));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for error in &native.errors {
                tracing::warn!(%error, "platform CA certificates: some could not be read");
            }
            roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                return Err("TLS is configured but the platform has no CA certificates; set ldap.ca_file".into());
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
