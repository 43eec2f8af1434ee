//! Who must use two factors, and what a session's factors earn it: pure decisions, unit-tested.
//!
//! Default policy requires nothing. A second factor is required when the person is in one of
//! `[mfa] required_for_groups`, when the app is registered with `require_mfa = true`, or when the request asks for
//! it (`acr_values` or SAML `RequestedAuthnContext` naming the REFEDS MFA profile).

use super::{ACR_MFA, ACR_SFA};
use crate::store::Session;

/// The `[mfa] required_for_groups` part of the policy.
#[derive(Debug, Clone, Default)]
pub struct MfaPolicy {
    pub required_for_groups: Vec<String>,
}

/// What a person must do before the app gets an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing more: answer the app.
    Continue,
    /// Type a code from the authenticator app (or a recovery code).
    SecondFactor,
    /// Set up a second factor first: the person has none and must have one.
    Enrol,
}

/// Whether a requested authentication context (an `acr_values` entry or a SAML class reference) asks for two
/// factors.
pub fn asks_for_mfa(requested: &str) -> bool {
    requested == ACR_MFA || requested == "mfa"
}

impl MfaPolicy {
    /// Whether two factors are needed for this person (their directory groups), this app and this request.
    pub fn requires(&self, groups: &[String], app_requires: bool, requested: &[&str]) -> bool {
        app_requires
            || requested.iter().any(|r| asks_for_mfa(r))
            || groups.iter().any(|g| self.required_for_groups.iter().any(|r| r.eq_ignore_ascii_case(g)))
    }
}

/// The next step for a session (fresh from the password or reused): the step-up asks only for the second factor.
pub fn next_step(required: bool, session: &Session, enrolled: bool) -> Step {
    match (required && !session.has_second_factor(), enrolled) {
        (false, _) => Step::Continue,
        (true, true) => Step::SecondFactor,
        (true, false) => Step::Enrol,
    }
}

/// The session's `amr` after a second factor `method` (`otp`, `hwk`, `swk`) was proved on top of what it had.
pub fn amr_with(prior: &[String], method: &str) -> Vec<String> {
    let mut amr: Vec<String> = prior.iter().filter(|m| m.as_str() != "mfa").cloned().collect();
    if amr.is_empty() {
        amr.push("pwd".into());
    }
    if !amr.iter().any(|m| m == method) {
        amr.push(method.into());
    }
    amr.push("mfa".into());
    amr
}

/// The `amr` an ID token carries for a session's methods (the password alone before this metadata existed).
pub fn amr_or_password(amr: &[String]) -> Vec<String> {
    if amr.is_empty() { vec!["pwd".into()] } else { amr.to_vec() }
}

/// The `acr` (and SAML class) a session's methods earn.
pub fn acr_for(amr: &[String]) -> &'static str {
    if amr.iter().any(|m| m == "mfa") { ACR_MFA } else { ACR_SFA }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(amr: &[&str]) -> Session {
        Session { amr: amr.iter().map(|m| m.to_string()).collect(), ..Session::default() }
    }

    #[test]
    fn nothing_is_required_by_default() {
        let p = MfaPolicy::default();
        assert!(!p.requires(&["can-bo".into()], false, &[]));
        assert!(!p.requires(&[], false, &["https://refeds.org/profile/sfa"]));
    }

    #[test]
    fn groups_apps_and_requests_can_each_require_two_factors() {
        let p = MfaPolicy { required_for_groups: vec!["lanh-dao".into()] };
        assert!(p.requires(&["can-bo".into(), "Lanh-Dao".into()], false, &[]));
        assert!(!p.requires(&["can-bo".into()], false, &[]));
        assert!(p.requires(&[], true, &[]));
        assert!(p.requires(&[], false, &["urn:other", ACR_MFA]));
    }

    #[test]
    fn the_step_up_asks_only_what_is_missing() {
        assert_eq!(next_step(false, &session(&["pwd"]), false), Step::Continue);
        assert_eq!(next_step(true, &session(&["pwd"]), true), Step::SecondFactor);
        assert_eq!(next_step(true, &session(&["pwd"]), false), Step::Enrol);
        assert_eq!(next_step(true, &session(&["pwd", "otp", "mfa"]), true), Step::Continue);
    }

    #[test]
    fn amr_and_acr_follow_the_methods() {
        let amr = amr_with(&["pwd".into()], "otp");
        assert_eq!(amr, ["pwd", "otp", "mfa"]);
        assert_eq!(amr_with(&amr, "hwk"), ["pwd", "otp", "hwk", "mfa"]);
        assert_eq!(acr_for(&amr), ACR_MFA);
        assert_eq!(acr_for(&["pwd".into()]), ACR_SFA);
        assert_eq!(amr_or_password(&[]), ["pwd"]);
    }
}
