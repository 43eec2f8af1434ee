//! `[ldap]` and `[ldap.attributes]`: how to reach the city's real mail directory, and what is wrong with it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LdapConfig {
    /// Servers tried in order; a failed one is skipped and retried later.
    pub urls: Vec<String>,
    pub bind_dn: Option<String>,
    pub bind_password: Option<String>,
    pub bind_password_file: Option<PathBuf>,
    pub base_dn: String,
    /// Search filter for an account; `{login}` is replaced by the RFC 4515-escaped mailbox.
    pub user_filter: Option<String>,
    pub preset: LdapPreset,
    pub ca_file: Option<PathBuf>,
    pub starttls: bool,
    /// Limit of each connect (TCP, TLS, StartTLS, service bind) and of each operation, in milliseconds.
    pub timeout_ms: u64,
    /// Connections per pool: one pool for searches (service account), one for users' binds.
    pub pool_size: usize,
    /// How long a server that failed is skipped before it is tried again (seconds).
    pub retry_after_secs: u64,
    /// Search for the account's groups instead of reading a groups attribute; `{dn}` (the account's DN) and
    /// `{login}` (its mailbox) are replaced RFC 4515-escaped; each group's name is its `cn`.
    pub group_filter: Option<String>,
    /// An LDAP filter that marks a unit's mailbox, for directories that mark units their own way:
    /// `(employeeType=unit-mailbox)`, `(ou:dn:=units)`. Unset: the `kind` attribute (`employeeType`) says `unit`.
    pub unit_filter: Option<String>,
    pub attributes: LdapAttributes,
}

impl Default for LdapConfig {
    fn default() -> Self {
        Self {
            urls: Vec::new(),
            bind_dn: None,
            bind_password: None,
            bind_password_file: None,
            base_dn: "dc=danang,dc=gov,dc=vn".into(),
            user_filter: None,
            preset: LdapPreset::default(),
            ca_file: None,
            starttls: false,
            timeout_ms: 5000,
            pool_size: 8,
            retry_after_secs: 30,
            group_filter: None,
            unit_filter: None,
            attributes: LdapAttributes::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LdapPreset {
    #[default]
    Openldap,
    Zimbra,
    ActiveDirectory,
    #[serde(rename = "389ds")]
    Ds389,
}

/// Per-attribute overrides of the preset's choices; unset keeps the preset's.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LdapAttributes {
    pub id: Option<String>,
    pub mail: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// An attribute of the account listing its groups' DNs (`memberOf`).
    pub groups: Option<String>,
    /// With `group_filter`: the attribute of a group entry that names it (default `cn`).
    pub group_name: Option<String>,
    pub unit: Option<String>,
    /// An attribute whose value `unit` marks a unit's mailbox (default `employeeType`).
    pub kind: Option<String>,
}

impl LdapConfig {
    /// What makes `[ldap]` unusable; checked only when `directory.kind = "ldap"`.
    pub(super) fn problems(&self, out: &mut Vec<ConfigError>) {
        if self.urls.is_empty() {
            out.push(ConfigError::new("ldap.urls", "at least one URL is required when directory.kind = \"ldap\""));
        }
        for u in &self.urls {
            match url::Url::parse(u) {
                Ok(p) if matches!(p.scheme(), "ldap" | "ldaps") && p.host_str().is_some_and(|h| !h.is_empty()) => {}
                _ => out.push(ConfigError::new(
                    "ldap.urls",
                    format!("{u}: must be ldap://HOST[:PORT] or ldaps://HOST[:PORT]"),
                )),
            }
        }
        if self.bind_password.is_some() && self.bind_password_file.is_some() {
            out.push(ConfigError::new("ldap.bind_password_file", "set bind_password or bind_password_file, not both"));
        }
        if self.bind_dn.is_some() && self.bind_password.is_none() && self.bind_password_file.is_none() {
            out.push(ConfigError::new("ldap.bind_password", "bind_dn needs bind_password or bind_password_file"));
        }
        if self.user_filter.as_ref().is_some_and(|f| !f.contains("{login}")) {
            out.push(ConfigError::new("ldap.user_filter", "must contain the {login} placeholder"));
        }
        if self.group_filter.as_ref().is_some_and(|f| !f.contains("{dn}") && !f.contains("{login}")) {
            out.push(ConfigError::new("ldap.group_filter", "must contain {dn} or {login}"));
        }
        if self.pool_size == 0 {
            out.push(ConfigError::new("ldap.pool_size", "must be at least 1"));
        }
        if self.timeout_ms == 0 {
            out.push(ConfigError::new("ldap.timeout_ms", "must be at least 1"));
        }
    }
}
