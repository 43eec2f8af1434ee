//! Configuration of the city's own rules (issue 9): the public directory page, and the checks of the dormancy
//! keys of `[policy]`. Kept apart from the protocol's settings so each file reads in one sitting.

use serde::{Deserialize, Serialize};

use super::{Config, ConfigError, DirectoryConfig, DirectoryKind};
use crate::calendar::Day;
use crate::policy::dormancy::Dormancy;

/// `[directory_page]`: the public list of unit mailboxes at `/danh-ba`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryPageConfig {
    /// `true` or `false`; unset means on only with the demo directory built into the binary (`cargo run`),
    /// off with any real directory.
    pub enabled: Option<bool>,
    /// List personal mailboxes too (default: unit mailboxes only).
    pub include_personal: bool,
    /// How long the list is kept before the directory is asked again (seconds).
    pub refresh_secs: u64,
    /// The parent shown for a unit whose `unit` attribute names itself: a top-level body of the city.
    pub root_unit: String,
}

impl Default for DirectoryPageConfig {
    fn default() -> Self {
        Self {
            enabled: None, include_personal: false, refresh_secs: 300, root_unit: "UBND thành phố Đà Nẵng".into()
        }
    }
}

impl DirectoryPageConfig {
    /// Whether `/danh-ba` is served with this directory.
    pub fn is_enabled(&self, directory: &DirectoryConfig) -> bool {
        self.enabled.unwrap_or(directory.kind == DirectoryKind::Ldif && directory.ldif_path.is_none())
    }
}

impl Config {
    /// The dormancy policy of `[policy]` (off when its keys are unset or invalid; `problems` reports those).
    pub fn dormancy(&self) -> Dormancy {
        let since = self.policy.dormant_never_seen_since.as_deref().and_then(Day::parse);
        Dormancy::new(self.policy.dormant_after_days, since)
    }
}

/// Problems in the keys of this module.
pub(super) fn problems(config: &Config, out: &mut Vec<ConfigError>) {
    if let Some(since) = &config.policy.dormant_never_seen_since
        && Day::parse(since).is_none()
    {
        out.push(ConfigError::new("policy.dormant_never_seen_since", "must be a date YYYY-MM-DD"));
    }
    if config.directory_page.refresh_secs == 0 {
        out.push(ConfigError::new("directory_page.refresh_secs", "must be at least 1"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_on_by_default_only_with_the_embedded_demo_directory() {
        let mut config = Config::default();
        assert!(config.directory_page.is_enabled(&config.directory));
        config.directory.ldif_path = Some("people.ldif".into());
        assert!(!config.directory_page.is_enabled(&config.directory));
        config.directory_page.enabled = Some(true);
        assert!(config.directory_page.is_enabled(&config.directory));
        let mut ldap = Config::default();
        ldap.directory.kind = DirectoryKind::Ldap;
        assert!(!ldap.directory_page.is_enabled(&ldap.directory));
    }

    #[test]
    fn a_bad_date_is_a_problem_and_leaves_the_policy_without_it() {
        let mut config = Config::default();
        config.policy.dormant_after_days = Some(180);
        config.policy.dormant_never_seen_since = Some("2026-02-30".into());
        let mut out = Vec::new();
        problems(&config, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].key, "policy.dormant_never_seen_since");
        assert_eq!(config.dormancy(), Dormancy::new(Some(180), None));
    }
}
