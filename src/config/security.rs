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
