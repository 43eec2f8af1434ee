//! `[throttle]`, `[audit]` and `[admin]`: brute-force protection, the audit trail, the operators' API.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Brute-force protection: failed sign-ins counted per mailbox and per client IP, shared by every instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleConfig {
    /// Failures are counted over this window (seconds).
    pub window_secs: u64,
    /// Failures of one mailbox before each further attempt has to wait.
    pub account_free_failures: u64,
    /// Failures of one mailbox that lock it out for `lockout_secs`.
    pub account_max_failures: u64,
    pub ip_free_failures: u64,
    pub ip_max_failures: u64,
    /// The first wait; it doubles with each further failure, up to `lockout_secs`.
    pub base_delay_secs: u64,
    pub lockout_secs: u64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            window_secs: 900,
            account_free_failures: 3,
            account_max_failures: 10,
            ip_free_failures: 10,
            ip_max_failures: 50,
            base_delay_secs: 2,
            lockout_secs: 900,
        }
    }
}

/// Where the audit trail goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// `stdout` or `file`.
    pub output: String,
    pub path: Option<PathBuf>,
    /// Names this instance in every line; default: host name and process id.
    pub instance: Option<String>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self { output: "stdout".into(), path: None, instance: None }
    }
}

/// The operators' HTTP API (sessions list / revoke): off unless `listen` is set.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// e.g. `127.0.0.1:9090`; keep it on a management network.
    pub listen: Option<String>,
    /// The bearer token operators present.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
}

/// One `[server] trusted_proxies` entry: an address (`10.0.0.5`, `::1`) or a CIDR network (`10.0.0.0/8`).
pub fn trusted_proxy(entry: &str) -> Option<ipnet::IpNet> {
    let entry = entry.trim();
    entry.parse::<ipnet::IpNet>().ok().or_else(|| entry.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}

/// The shortest admin token accepted: one that cannot be guessed, and never an empty one (a failed secret mount,
/// `DANANG_SSO__ADMIN__TOKEN=`), which would open the admin API to any request without `Authorization`.
pub const ADMIN_TOKEN_MIN_CHARS: usize = 32;

impl AdminConfig {
    /// The checks of the config text (part of `Config::problems`): with `listen` set, a token is required, and a
    /// `token` given inline must be at least [`ADMIN_TOKEN_MIN_CHARS`] long.
    pub fn problems(&self, out: &mut Vec<super::ConfigError>) {
        if self.listen.is_none() {
            return;
        }
        match (&self.token, &self.token_file) {
            (None, None) => out.push(super::ConfigError::new(
                "admin.token",
                format!(
                    "the admin API needs a token of at least {ADMIN_TOKEN_MIN_CHARS} characters \
                     (admin.token or admin.token_file)"
                ),
            )),
            (Some(token), _) => out.extend(weak_token("admin.token", token)),
            (None, Some(_)) => {} // read by `file_problems`
        }
    }

    /// The token operators present: `token`, or the content of `token_file` without surrounding whitespace;
    /// `None` while the admin API is off. Refused when the admin API is on and the token is weak.
    pub fn load_token(&self) -> Result<Option<String>, super::ConfigError> {
        let token = match (&self.token, &self.token_file) {
            (Some(token), _) => token.clone(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| super::ConfigError::new("admin.token_file", format!("{}: {e}", path.display())))?
                .trim()
                .to_owned(),
            (None, None) => return Ok(None),
        };
        if self.listen.is_some() {
            let key = if self.token.is_some() { "admin.token" } else { "admin.token_file" };
            if let Some(problem) = weak_token(key, &token) {
                return Err(problem);
            }
        }
        Ok(Some(token))
    }
}

/// A problem with `token` under `key` when it is shorter than [`ADMIN_TOKEN_MIN_CHARS`] (never echoing it).
fn weak_token(key: &str, token: &str) -> Option<super::ConfigError> {
    let length = token.trim().chars().count();
    let message = match length {
        0 => format!("is empty: the admin API needs a token of at least {ADMIN_TOKEN_MIN_CHARS} characters"),
        n if n < ADMIN_TOKEN_MIN_CHARS => {
            format!("is {n} characters long: the admin API needs a token of at least {ADMIN_TOKEN_MIN_CHARS}")
        }
        _ => return None,
    };
    Some(super::ConfigError::new(key, message))
}
