//! What tokens and userinfo say about a person, by scope (OIDC Core §5.4), built from a directory [`User`].
//!
//! `sub` is the directory's stable id, never the mailbox: a mailbox can be renamed or withdrawn and re-issued.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::directory::{MailboxKind, User};

/// Claims released for the granted scopes. `unit` and `mailbox_type` ride with `profile`.
pub fn user_claims(user: &User, scopes: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_owned(), v);
    };
    if scopes.contains(&"profile") {
        put("name", user.name.clone().into());
        if let Some(g) = &user.given_name {
            put("given_name", g.clone().into());
        }
        if let Some(f) = &user.family_name {
            put("family_name", f.clone().into());
        }
        let local = user.mail.split('@').next().unwrap_or_default();
        put("preferred_username", local.into());
        put("mailbox_type", mailbox_type(user.kind).into());
        if let Some(unit) = &user.unit {
            put("unit", unit.clone().into());
        }
    }
    if scopes.contains(&"email") {
        put("email", user.mail.clone().into());
        put("email_verified", true.into());
    }
    if scopes.contains(&"groups") {
        put("groups", user.groups.clone().into());
    }
    out
}

pub fn mailbox_type(kind: MailboxKind) -> &'static str {
    match kind {
        MailboxKind::Personal => "personal",
        MailboxKind::Unit => "unit",
    }
}

/// The ID token (OIDC Core §2).
#[derive(Debug, Serialize)]
pub struct IdToken<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: u64,
    pub iat: u64,
    pub auth_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    pub at_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<&'a str>,
    /// RFC 8176 methods: `pwd`, then `otp`/`hwk`/`swk` and `mfa` when a second factor was used.
    pub amr: Vec<String>,
    /// The REFEDS profile the sign-in met (`…/mfa` or `…/sfa`).
    pub acr: &'static str,
    pub azp: &'a str,
    #[serde(flatten)]
    pub user: Map<String, Value>,
}

/// A JWT access token (RFC 9068). `jti` is `<grant id>.<random>`, so revoking the grant ends the token.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct AccessToken {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    pub iat: u64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl AccessToken {
    pub fn grant_id(&self) -> &str {
        self.jti.split_once('.').map(|(g, _)| g).unwrap_or(&self.jti)
    }
}

/// `at_hash`: the left half of SHA-256 of the access token, base64url (OIDC Core §3.1.3.6; RS256, ES256, EdDSA).
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine;
    let digest = super::sha256(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dung() -> User {
        User {
            id: "6f1c".into(),
            mail: "dungnv@danang.gov.vn".into(),
            name: "Nguyễn Văn Dũng".into(),
            given_name: Some("Dũng".into()),
            family_name: Some("Nguyễn".into()),
            groups: vec!["can-bo".into()],
            unit: Some("Văn phòng UBND thành phố".into()),
            kind: MailboxKind::Personal,
        }
    }

    #[test]
    fn claims_follow_scopes() {
        let only_openid = user_claims(&dung(), &["openid"]);
        assert!(only_openid.is_empty());
        let all = user_claims(&dung(), &["openid", "profile", "email", "groups"]);
        assert_eq!(all["name"], "Nguyễn Văn Dũng");
        assert_eq!(all["preferred_username"], "dungnv");
        assert_eq!(all["mailbox_type"], "personal");
        assert_eq!(all["unit"], "Văn phòng UBND thành phố");
        assert_eq!(all["email"], "dungnv@danang.gov.vn");
        assert_eq!(all["email_verified"], true);
        assert_eq!(all["groups"][0], "can-bo");
        assert!(!all.contains_key("sub"), "sub comes from the token, not the profile");
    }

    #[test]
    fn at_hash_matches_oidc_example() {
        // OIDC Core A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" → at_hash "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
