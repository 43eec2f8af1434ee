//! `[ui]`: what the person-facing pages say besides their fixed texts — whom to ask for help, where to reset a
//! forgotten password — and which language they speak.

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// The help line under the sign-in, second-factor, enrolment and error pages (plain text, shown escaped).
    pub support_contact: String,
    /// Where "forgot password" leads (http or https). Unset: the link shows the help line instead.
    pub password_reset_url: Option<String>,
    /// `vi` or `en`: the language of a page when neither the app nor the person asked for one.
    pub default_language: String,
    /// `true`: a browser's `Accept-Language` chooses the language too (after the app's `ui_locales` and the
    /// person's own pick). `false` (the city's rule): pages are Vietnamese unless asked otherwise.
    pub follow_browser_language: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            support_contact: "Quản trị hệ thống đăng nhập một lần (bản demo): admin@danang.gov.vn".into(),
            password_reset_url: None,
            default_language: "vi".into(),
            follow_browser_language: false,
        }
    }
}

impl UiConfig {
    pub(super) fn problems(&self, out: &mut Vec<ConfigError>) {
        if !matches!(self.default_language.as_str(), "vi" | "en") {
            out.push(ConfigError::new("ui.default_language", "must be \"vi\" or \"en\""));
        }
        if let Some(u) = &self.password_reset_url
            && !is_web_url(u)
        {
            out.push(ConfigError::new("ui.password_reset_url", format!("{u}: must be an http(s) URL with a host")));
        }
        if self.support_contact.chars().count() > 500 {
            out.push(ConfigError::new("ui.support_contact", "at most 500 characters"));
        }
    }
}

/// An absolute `http`/`https` URL with a host: nothing a link could run (`javascript:`, `data:`).
fn is_web_url(u: &str) -> bool {
    url::Url::parse(u)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(c: &UiConfig) -> Vec<String> {
        let mut out = Vec::new();
        c.problems(&mut out);
        out.into_iter().map(|e| e.key).collect()
    }

    #[test]
    fn defaults_are_vietnamese_and_valid() {
        let c = UiConfig::default();
        assert_eq!(c.default_language, "vi");
        assert!(!c.follow_browser_language);
        assert!(c.support_contact.contains("admin@danang.gov.vn"));
        assert!(problems(&c).is_empty());
    }

    #[test]
    fn only_web_urls_and_known_languages() {
        for bad in ["javascript:alert(1)", "data:text/html,x", "ftp://a/b", "/quen-mat-khau", "https://", "mailto:a@b"]
        {
            let c = UiConfig { password_reset_url: Some(bad.into()), ..UiConfig::default() };
            assert_eq!(problems(&c), ["ui.password_reset_url"], "{bad}");
        }
        let c =
            UiConfig { password_reset_url: Some("https://matkhau.danang.gov.vn/quen".into()), ..UiConfig::default() };
        assert!(problems(&c).is_empty());
        let c = UiConfig { default_language: "fr".into(), ..UiConfig::default() };
        assert_eq!(problems(&c), ["ui.default_language"]);
    }
}
