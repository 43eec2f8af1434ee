//! HTTPS without a proxy: the server certificate from `[server] tls_cert_file` / `tls_key_file`, served with
//! rustls (aws-lc-rs, TLS 1.2 and 1.3), and replaced while the service runs.
//!
//! [`TlsCerts`] is the certificate resolver rustls asks on every handshake; [`TlsCerts::reload`] (run on SIGHUP)
//! swaps in the files' new contents. Connections already open keep the session they negotiated, new ones get
//! the new certificate, and a reload that fails keeps the old certificate in service.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Which of the two files a problem concerns, so a config check can name the right key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFile {
    Cert,
    Key,
}

impl TlsFile {
    /// The config key that names this file.
    pub fn key(self) -> &'static str {
        match self {
            TlsFile::Cert => "server.tls_cert_file",
            TlsFile::Key => "server.tls_key_file",
        }
    }
}

/// Why a certificate or key could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{}: {path}: {message}", .file.key())]
pub struct TlsError {
    pub file: TlsFile,
    pub path: PathBuf,
    pub message: String,
}

/// Reads, parses and pairs a PEM certificate chain and its private key; refuses a key that does not match.
pub fn load_certified_key(cert_file: &Path, key_file: &Path) -> Result<CertifiedKey, TlsError> {
    let err = |file, path: &Path, message: String| TlsError { file, path: path.into(), message };
    let cert_pem = std::fs::read(cert_file).map_err(|e| err(TlsFile::Cert, cert_file, e.to_string()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(TlsFile::Cert, cert_file, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(err(TlsFile::Cert, cert_file, "no CERTIFICATE in the file".into()));
    }
    let key_pem = std::fs::read(key_file).map_err(|e| err(TlsFile::Key, key_file, e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| err(TlsFile::Key, key_file, format!("not a PEM private key: {e}")))?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    CertifiedKey::from_der(chain, key, &provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            err(TlsFile::Key, key_file, format!("does not match the certificate in {}", cert_file.display()))
        }
        other => err(TlsFile::Key, key_file, other.to_string()),
    })
}

/// The certificate in service, read again from its files on [`TlsCerts::reload`].
pub struct TlsCerts {
    cert_file: PathBuf,
    key_file: PathBuf,
    /// Held only to clone or replace the `Arc`, never across an await.
    current: RwLock<Arc<CertifiedKey>>,
}

impl fmt::Debug for TlsCerts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsCerts").field("cert_file", &self.cert_file).field("key_file", &self.key_file).finish()
    }
}

impl TlsCerts {
    /// Loads the certificate and key; fails when either is unreadable, malformed, or they do not match.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Arc<TlsCerts>, TlsError> {
        let key = load_certified_key(cert_file, key_file)?;
        Ok(Arc::new(TlsCerts {
            cert_file: cert_file.into(),
            key_file: key_file.into(),
            current: RwLock::new(Arc::new(key)),
        }))
    }

    /// Reads the files again and serves their certificate to new connections. On error the old one stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let key = Arc::new(load_certified_key(&self.cert_file, &self.key_file)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = key;
        tracing::info!(cert = %self.cert_file.display(), "TLS certificate reloaded");
        Ok(())
    }

    /// A rustls server configuration that asks `self` for the certificate on each handshake: TLS 1.2 and 1.3,
    /// HTTP/1.1 by ALPN.
    pub fn server_config(self: &Arc<Self>) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .expect("aws-lc-rs supports TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

impl ResolvesServerCert for TlsCerts {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

/// Starts listening for SIGHUP now (so a hangup sent from here on is never fatal) and returns the task that
/// reloads `certs` on each one; a failed reload is logged and the old certificate kept. Where there is no
/// SIGHUP, the task never does anything.
pub fn reload_on_sighup(certs: Arc<TlsCerts>) -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup())?;
        Ok(async move {
            while hangups.recv().await.is_some() {
                let certs = certs.clone();
                match tokio::task::spawn_blocking(move || certs.reload()).await {
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "TLS certificate not reloaded; the old one stays in service")
                    }
                    Err(e) => tracing::error!(error = %e, "TLS reload task failed"),
                    Ok(Ok(())) => {}
                }
            }
        })
    }
    #[cfg(not(unix))]
    {
        drop(certs);
        Ok(std::future::pending())
    }
}
