//! The operator's checks beyond the shape of the TOML: addresses, TLS, logging, LDAP URLs (pure), and the files
//! the config names — keys directory, certificates, secrets, client keys — which must exist and parse.
//!
//! `danang-sso check-config` prints all of them; the service runs the same checks and refuses to start on any.

use std::path::Path;

use super::{Config, ConfigError, DirectoryKind};

impl Config {
    /// The pure checks of the serving and logging keys; part of [`Config::problems`].
    pub(super) fn ops_problems(&self, out: &mut Vec<ConfigError>) {
        let server = &self.server;
        if !is_listen_address(&server.listen) {
            out.push(ConfigError::new("server.listen", "must be HOST:PORT, e.g. 0.0.0.0:8080"));
        }
        if let Some(addr) = &server.metrics_listen
            && !is_listen_address(addr)
        {
            out.push(ConfigError::new("server.metrics_listen", "must be HOST:PORT, e.g. 127.0.0.1:9090"));
        }
        match (&server.tls_cert_file, &server.tls_key_file) {
            (Some(_), None) => out.push(ConfigError::new("server.tls_key_file", "required with tls_cert_file")),
            (None, Some(_)) => out.push(ConfigError::new("server.tls_cert_file", "required with tls_key_file")),
            (Some(_), Some(_)) if server.issuer.starts_with("http://") => out.push(ConfigError::new(
                "server.issuer",
                "must be https:// when the service serves TLS itself (tls_cert_file)",
            )),
            _ => {}
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            out.push(ConfigError::new("log.level", format!("not an EnvFilter directive: {e}")));
        }
        // LDAP URLs are checked by `LdapConfig::problems`, next to the adapter that reads them.
    }

    /// Problems with the files the config names: each must be readable and parse. Reads them, and probes that
    /// the keys directory is writable by creating and removing an empty file in it.
    pub fn file_problems(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        if let Some(m) = keys_dir_problem(&self.keys.dir) {
            out.push(ConfigError::new("keys.dir", format!("{}: {m}", self.keys.dir.display())));
        }
        if let (Some(cert), Some(key)) = (&self.server.tls_cert_file, &self.server.tls_key_file)
            && let Err(e) = crate::tls::load_certified_key(cert, key)
        {
            out.push(ConfigError::new(e.file.key(), format!("{}: {}", e.path.display(), e.message)));
        }
        if let (DirectoryKind::Ldif, Some(path)) = (self.directory.kind, &self.directory.ldif_path)
            && let Err(e) = crate::directory::ldif::LdifDirectory::from_file(path)
        {
            out.push(ConfigError::new("directory.ldif_path", format!("{}: {e}", path.display())));
        }
        if self.admin.listen.is_some()
            && self.admin.token.is_none()
            && let Err(e) = self.admin.load_token()
        {
            out.push(e);
        }
        if let Some(path) = &self.ldap.bind_password_file {
            match std::fs::read_to_string(path) {
                Ok(text) if text.trim().is_empty() => {
                    out.push(ConfigError::new("ldap.bind_password_file", format!("{}: is empty", path.display())))
                }
                Ok(_) => {}
                Err(e) => out.push(ConfigError::new("ldap.bind_password_file", format!("{}: {e}", path.display()))),
            }
        }
        if let Some(path) = &self.ldap.ca_file
            && let Some(m) = pem_certificates_problem(path)
        {
            out.push(ConfigError::new("ldap.ca_file", format!("{}: {m}", path.display())));
        }
        for (i, c) in self.clients.iter().enumerate() {
            if let Some(path) = &c.jwks_file {
                let parsed = std::fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|text| {
                    serde_json::from_str::<jsonwebtoken::jwk::JwkSet>(&text).map_err(|e| format!("not a JWKS: {e}"))
                });
                if let Err(m) = parsed {
                    out.push(ConfigError::new(format!("clients[{i}].jwks_file"), format!("{}: {m}", path.display())));
                }
            }
        }
        out
    }
}

/// `HOST:PORT` with a numeric port: an IP address, a bracketed IPv6 address or a host name.
fn is_listen_address(addr: &str) -> bool {
    if addr.parse::<std::net::SocketAddr>().is_ok() {
        return true;
    }
    addr.rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && !host.contains([':', '/', ' ']) && port.parse::<u16>().is_ok())
}

/// The keys directory must be a readable, writable directory, or creatable (first start makes the keys).
fn keys_dir_problem(dir: &Path) -> Option<String> {
    if !dir.exists() {
        let parent = dir.ancestors().skip(1).find(|p| p.as_os_str().is_empty() || p.exists())?;
        let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
        return writable_problem(parent).map(|m| format!("does not exist and cannot be created: {m}"));
    }
    if !dir.is_dir() {
        return Some("is not a directory".into());
    }
    if let Err(e) = std::fs::read_dir(dir) {
        return Some(format!("cannot be read: {e}"));
    }
    writable_problem(dir).map(|m| format!("is not writable (first start and `keys rotate` write keys there): {m}"))
}

/// Creates and removes an empty file, the one sure test of write access.
fn writable_problem(dir: &Path) -> Option<String> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let probe = dir.join(format!(".danang-sso-write-check-{}-{nanos}", std::process::id()));
    match std::fs::File::create_new(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) => Some(e.to_string()),
    }
}

/// A CA file must hold at least one PEM certificate.
fn pem_certificates_problem(path: &Path) -> Option<String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let pem = match std::fs::read(path) {
        Ok(pem) => pem,
        Err(e) => return Some(e.to_string()),
    };
    match CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>() {
        Ok(certs) if certs.is_empty() => Some("no CERTIFICATE in the file".into()),
        Ok(_) => None,
        Err(e) => Some(format!("not PEM certificates: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        for ok in ["127.0.0.1:8080", "0.0.0.0:1", "[::]:8080", "localhost:9090", "sso.danang.gov.vn:443"] {
            assert!(is_listen_address(ok), "{ok}");
        }
        for bad in ["8080", ":8080", "127.0.0.1", "host:port", "127.0.0.1:70000", "::1:80", "http://x:80"] {
            assert!(!is_listen_address(bad), "{bad}");
        }
    }

    #[test]
    fn tls_needs_both_files_and_an_https_issuer() {
        let mut config = Config::default();
        config.server.tls_cert_file = Some("cert.pem".into());
        let keys: Vec<String> = config.problems().into_iter().map(|e| e.key).collect();
        assert_eq!(keys, ["server.tls_key_file"]);
        config.server.tls_key_file = Some("key.pem".into());
        let keys: Vec<String> = config.problems().into_iter().map(|e| e.key).collect();
        assert_eq!(keys, ["server.issuer"]);
        config.server.issuer = "https://sso.danang.gov.vn".into();
        assert!(config.problems().is_empty());
    }

    #[test]
    fn log_level_and_ldap_urls() {
        let mut config = Config::default();
        config.log.level = "danang_sso=loud".into();
        config.directory.kind = DirectoryKind::Ldap;
        config.ldap.urls = vec!["ldaps://ldap.danang.gov.vn:636".into(), "http://ldap:389".into()];
        let keys: Vec<String> = config.problems().into_iter().map(|e| format!("{e}")).collect();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys.iter().any(|k| k.starts_with("log.level: ")));
        assert!(keys.iter().any(|k| k.starts_with("ldap.urls: http://ldap:389")));
    }
}
