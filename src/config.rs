//! Typed configuration: embedded defaults, then a TOML file, then `DANANG_SSO__SECTION__KEY` environment overrides.
//!
//! Every section rejects unknown keys, so a typo is an error at start-up rather than a silently ignored setting.
//! Secrets may come from files (`*_file` keys) so they stay out of the config file and the environment.

pub mod saml;

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

mod check;
mod city;
mod clients;
mod console;
mod ldap;
mod mfa;
mod oidc;
mod security;
mod store;
mod ui;
pub use city::DirectoryPageConfig;
pub use clients::ClientConfig;
use clients::{parse_clients, redirect_uri_problem};
pub use console::ConsoleConfig;
pub use ldap::{LdapAttributes, LdapConfig, LdapPreset};
pub use mfa::MfaConfig;
pub use oidc::OidcConfig;
pub use security::{AdminConfig, AuditConfig, ThrottleConfig, trusted_proxy};
pub use ui::UiConfig;

/// Demo clients compiled into the binary: used when no client is configured, so `cargo run` works anywhere.
pub const DEMO_CLIENTS: &str = include_str!("../config/clients.toml");
/// The demo directory compiled into the binary: used when `[directory] ldif_path` is not set.
pub const DEMO_LDIF: &str = include_str!("../config/demo-directory.ldif");

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// A TOML file holding more `[[clients]]`, next to or instead of those in this file.
    pub clients_file: Option<PathBuf>,
    pub server: ServerConfig,
    pub policy: PolicyConfig,
    pub directory: DirectoryConfig,
    pub ldap: LdapConfig,
    pub store: StoreConfig,
    pub keys: KeysConfig,
    pub session: SessionConfig,
    pub tokens: TokensConfig,
    pub throttle: ThrottleConfig,
    pub audit: AuditConfig,
    pub admin: AdminConfig,
    pub log: LogConfig,
    /// The public mail directory page (`/danh-ba`).
    pub directory_page: DirectoryPageConfig,
    /// The SAML 2.0 identity provider and its service providers.
    pub saml: saml::SamlConfig,
    /// Request styles required of every OIDC client (pushed authorization requests).
    pub oidc: OidcConfig,
    /// The IT centre's console (`/quan-tri`).
    pub console: ConsoleConfig,
    /// Second factors: who must use them.
    pub mfa: MfaConfig,
    /// The pages' help line, "forgot password" link and language rule.
    pub ui: UiConfig,
    pub clients: Vec<ClientConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    /// The public base URL apps see: `iss` of every token and the prefix of every endpoint.
    pub issuer: String,
    /// Proxies whose `X-Forwarded-For` is believed (IP addresses).
    pub trusted_proxies: Vec<String>,
    /// PEM certificate chain (leaf first); with `tls_key_file`, the service speaks HTTPS itself.
    /// Both files are read again on SIGHUP.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the certificate.
    pub tls_key_file: Option<PathBuf>,
    /// When set, `/metrics` is served only on this address (plain HTTP), not on `listen`.
    pub metrics_listen: Option<String>,
    /// How long a shutdown (SIGTERM, SIGINT) waits for in-flight requests before the process exits anyway.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            issuer: "http://127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
            tls_cert_file: None,
            tls_key_file: None,
            metrics_listen: None,
            shutdown_grace_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Only mailboxes in these domains may sign in; the first one completes a bare local part (`dungnv`).
    pub allowed_domains: Vec<String>,
    /// Refuse sign-in to an account whose last sign-in is older than this many days; unset or 0: off.
    pub dormant_after_days: Option<u64>,
    /// `YYYY-MM-DD` (Vietnam time): when sign-ins began to be recorded. An account with no sign-in at all counts
    /// as last seen on this day; unset: accounts never seen are never dormant. Also the `report dormant` default.
    pub dormant_never_seen_since: Option<String>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self { allowed_domains: vec!["danang.gov.vn".into()], dormant_after_days: None, dormant_never_seen_since: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DirectoryKind {
    #[default]
    Ldif,
    Ldap,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    pub kind: DirectoryKind,
    /// The LDIF file for `kind = "ldif"`; unset means the demo directory built into the binary.
    pub ldif_path: Option<PathBuf>,
    /// While the directory cannot be reached, SSO reuse and refreshes go on for an account whose last successful
    /// directory check is younger than this (seconds); password sign-ins still need the directory. 0: off.
    pub outage_grace_secs: u64,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        Self { kind: DirectoryKind::default(), ldif_path: None, outage_grace_secs: 3600 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    #[default]
    Memory,
    Redis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub kind: StoreKind,
    /// `redis://[:password@]host:port[/db]` or `rediss://…` (TLS through rustls).
    pub redis_url: Option<String>,
    /// Put before every Redis key, so several deployments (or tests) can share one Redis.
    pub key_prefix: String,
    /// How long one Redis operation may take, connecting included, before the request gets a 503.
    pub timeout_ms: u64,
    /// PEM file of the CA that signed a `rediss://` server's certificate; unset means the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Sentinels to ask for the master (`redis://host:26379`), instead of `redis_url`: failover without a restart.
    pub sentinel_urls: Vec<String>,
    /// The master's name in the sentinels' configuration (`sentinel monitor NAME …`).
    pub sentinel_master: String,
    /// Replicas that must hold each write that must not be lost (sessions, grants, rotations, revocations)
    /// before it is acknowledged (`WAIT`); 0: do not wait.
    pub min_replica_acks: u64,
    /// Nodes of a Redis Cluster (`redis://host:7000`), instead of `redis_url`: any few; the rest are discovered.
    pub cluster_urls: Vec<String>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::Memory,
            redis_url: None,
            key_prefix: "danang-sso:".into(),
            timeout_ms: 2000,
            ca_file: None,
            sentinel_urls: Vec::new(),
            sentinel_master: "danang-sso".into(),
            min_replica_acks: 0,
            cluster_urls: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// Where PKCS#8 PEM signing keys live; created on first start when empty.
    pub dir: PathBuf,
    /// The signing algorithm of new tokens: RS256, ES256 or EdDSA.
    pub algorithm: String,
    /// How often a running instance looks for keys added or removed by `keys rotate` / `keys prune`.
    pub reload_interval_secs: u64,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self { dir: "keys".into(), algorithm: "RS256".into(), reload_interval_secs: 10 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Lifetime of an SSO session from sign-in (seconds).
    pub ttl_secs: u64,
    pub cookie_name: String,
    /// Live SSO sessions one account may have; a new sign-in past it ends the oldest (`too_many_sessions`).
    pub max_per_account: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { ttl_secs: 10 * 3600, cookie_name: "danang_sso".into(), max_per_account: 100 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensConfig {
    pub code_ttl_secs: u64,
    pub access_token_ttl_secs: u64,
    pub id_token_ttl_secs: u64,
    /// Lifetime of a refresh-token family from its grant (seconds).
    pub refresh_token_ttl_secs: u64,
}

impl Default for TokensConfig {
    fn default() -> Self {
        Self {
            code_ttl_secs: 60,
            access_token_ttl_secs: 600,
            id_token_ttl_secs: 600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
        }
    }
}

/// How the service logs: `tracing` events to standard error, as text or as one JSON object per line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// An `EnvFilter` directive (`info`, `danang_sso=debug,tower_http=warn`); `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Text, level: "info,tower_http=warn".into() }
    }
}

/// How log events are written (`[log] format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, for a terminal or journald.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// A configuration problem, with the key it concerns.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into() }
    }
}

impl Config {
    /// Defaults, then `file` when given, then `DANANG_SSO__…` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::new("--config", format!("{} does not exist", file.display())));
            }
            figment = figment.merge(Toml::file(file));
        }
        let figment = figment.merge(Env::prefixed("DANANG_SSO__").split("__"));
        let mut config: Config = figment.extract().map_err(|e| ConfigError::new(figment_key(&e), e.to_string()))?;
        config.load_clients()?;
        Ok(config)
    }

    /// Adds the clients of `clients_file`; with no client configured at all, the demo clients.
    fn load_clients(&mut self) -> Result<(), ConfigError> {
        if let Some(path) = &self.clients_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::new("clients_file", format!("{}: {e}", path.display())))?;
            self.clients.extend(parse_clients(&text).map_err(|m| ConfigError::new("clients_file", m))?);
        } else if self.clients.is_empty() {
            self.clients = parse_clients(DEMO_CLIENTS).map_err(|m| ConfigError::new("clients", m))?;
        }
        Ok(())
    }

    /// Every problem found without touching the file system, each naming its key. Empty means the config is
    /// usable as far as its text goes; [`Config::file_problems`] then checks the files it names.
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        match url::Url::parse(&self.server.issuer) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.query().is_none() && u.fragment().is_none() => {}
            _ => out.push(ConfigError::new("server.issuer", "must be an http(s) URL without query or fragment")),
        }
        for p in &self.server.trusted_proxies {
            if security::trusted_proxy(p).is_none() {
                out.push(ConfigError::new("server.trusted_proxies", format!("{p}: not an IP address or CIDR network")));
            }
        }
        if self.policy.allowed_domains.is_empty() {
            out.push(ConfigError::new("policy.allowed_domains", "at least one domain is required"));
        }
        city::problems(self, &mut out);
        if !matches!(self.keys.algorithm.as_str(), "RS256" | "ES256" | "EdDSA") {
            out.push(ConfigError::new("keys.algorithm", "must be RS256, ES256 or EdDSA"));
        }
        if self.directory.kind == DirectoryKind::Ldap {
            self.ldap.problems(&mut out);
        }
        self.ops_problems(&mut out);
        if !matches!(self.audit.output.as_str(), "stdout" | "file") {
            out.push(ConfigError::new("audit.output", "must be stdout or file"));
        }
        if self.audit.output == "file" && self.audit.path.is_none() {
            out.push(ConfigError::new("audit.path", "required when audit.output = \"file\""));
        }
        self.admin.problems(&mut out);
        let t = &self.throttle;
        if t.account_free_failures > t.account_max_failures || t.ip_free_failures > t.ip_max_failures {
            out.push(ConfigError::new("throttle", "free failures must not exceed max failures"));
        }
        if self.session.max_per_account == 0 {
            out.push(ConfigError::new("session.max_per_account", "must be at least 1"));
        }
        if self.store.kind == StoreKind::Redis {
            self.store.problems(&mut out);
        }
        self.saml.problems(&mut out);
        self.oidc.problems(&mut out);
        self.ui.problems(&mut out);
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.clients.iter().enumerate() {
            let key = |k: &str| format!("clients[{i}].{k}");
            if c.client_id.is_empty() || !seen.insert(c.client_id.as_str()) {
                out.push(ConfigError::new(key("client_id"), "must be present and unique"));
            }
            let has_keys = c.jwks.is_some() || c.jwks_file.is_some();
            if c.public && (c.client_secret_hash.is_some() || has_keys) {
                out.push(ConfigError::new(key("public"), "a public client has no secret and no keys"));
            }
            if !c.public && c.client_secret_hash.is_none() && !has_keys {
                out.push(ConfigError::new(
                    key("client_secret_hash"),
                    "a confidential client needs a secret hash (danang-sso hash-secret) or jwks / jwks_file",
                ));
            }
            if let Some(h) = &c.client_secret_hash
                && argon2::PasswordHash::new(h).is_err()
            {
                out.push(ConfigError::new(key("client_secret_hash"), "not an argon2 PHC string"));
            }
            if c.id_token_signed_response_alg.as_deref().is_some_and(|a| crate::keys::Alg::parse(a).is_none()) {
                out.push(ConfigError::new(key("id_token_signed_response_alg"), "must be RS256, ES256 or EdDSA"));
            }
            let others = c.backchannel_logout_uri.iter().chain(&c.frontchannel_logout_uri);
            for u in c.redirect_uris.iter().chain(&c.post_logout_redirect_uris).chain(others) {
                if let Some(m) = redirect_uri_problem(u) {
                    out.push(ConfigError::new(key("redirect_uris"), format!("{u}: {m}")));
                }
            }
        }
        out
    }
}

fn figment_key(e: &figment::Error) -> String {
    if e.path.is_empty() { "config".into() } else { e.path.join(".") }
}
