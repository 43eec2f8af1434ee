//! How records are written into Redis values: compact JSON with one- or two-letter names.
//!
//! The store's types stay readable in Rust; these wire shapes only exist to keep Redis small (issue 10:
//! under 600 bytes per SSO session). What a key already says (a session's id, a grant's id) is not repeated
//! in its value. Unknown names are ignored and new optional fields default, so instances of two versions
//! can share one Redis during a rolling upgrade.
//!
//! A grant is three lines, so the rotation script can swap the refresh hash and the user snapshot without
//! parsing JSON in Lua: `refresh_hash \n user_json \n meta_json` (an empty line for `None`). Compact JSON never
//! holds a raw newline and the hashes are base64url.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::directory::{MailboxKind, User};
use crate::store::{AuthCode, Grant, Session, StoreError};

#[derive(Serialize, Deserialize)]
struct WireSession {
    #[serde(rename = "a")]
    account: String,
    #[serde(rename = "s")]
    subject: String,
    #[serde(rename = "t")]
    auth_time: u64,
    #[serde(rename = "e")]
    expires_at: u64,
    #[serde(rename = "ua", default, skip_serializing_if = "Option::is_none")]
    user_agent: Option<String>,
    #[serde(rename = "ip", default, skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(rename = "b", default, skip_serializing_if = "is_zero")]
    started: u64,
    #[serde(rename = "l", default, skip_serializing_if = "is_zero")]
    last_used: u64,
    #[serde(rename = "m", default, skip_serializing_if = "Vec::is_empty")]
    amr: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Serialize, Deserialize)]
struct WireUser {
    #[serde(rename = "i")]
    id: String,
    #[serde(rename = "m")]
    mail: String,
    #[serde(rename = "n")]
    name: String,
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    given_name: Option<String>,
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    family_name: Option<String>,
    #[serde(rename = "gr", default, skip_serializing_if = "Vec::is_empty")]
    groups: Vec<String>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    #[serde(rename = "k")]
    kind: MailboxKind,
}

/// A code's details; its grant id and expiry are separate hash fields the redeem script reads.
#[derive(Serialize, Deserialize)]
struct WireCode {
    #[serde(rename = "c")]
    client_id: String,
    #[serde(rename = "r")]
    redirect_uri: String,
    #[serde(rename = "s")]
    scope: String,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    code_challenge: Option<String>,
    #[serde(rename = "i")]
    sid: String,
    #[serde(rename = "t")]
    auth_time: u64,
    #[serde(rename = "u")]
    user: WireUser,
    #[serde(rename = "m", default, skip_serializing_if = "Vec::is_empty")]
    amr: Vec<String>,
}

/// The part of a grant that never changes after it is stored (the last line of its value).
#[derive(Serialize, Deserialize)]
struct WireGrantMeta {
    #[serde(rename = "c")]
    client_id: String,
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(rename = "s")]
    scope: String,
    #[serde(rename = "t")]
    auth_time: u64,
    #[serde(rename = "e")]
    expires_at: u64,
    #[serde(rename = "m", default, skip_serializing_if = "Vec::is_empty")]
    amr: Vec<String>,
    #[serde(rename = "w", default)]
    issued_at: u64,
}

impl From<&User> for WireUser {
    fn from(u: &User) -> Self {
        WireUser {
            id: u.id.clone(),
            mail: u.mail.clone(),
            name: u.name.clone(),
            given_name: u.given_name.clone(),
            family_name: u.family_name.clone(),
            groups: u.groups.clone(),
            unit: u.unit.clone(),
            kind: u.kind,
        }
    }
}

impl From<WireUser> for User {
    fn from(u: WireUser) -> Self {
        User {
            id: u.id,
            mail: u.mail,
            name: u.name,
            given_name: u.given_name,
            family_name: u.family_name,
            groups: u.groups,
            unit: u.unit,
            kind: u.kind,
        }
    }
}

fn to_json(value: &impl Serialize) -> String {
    // Plain structs of strings and numbers always serialise.
    serde_json::to_string(value).unwrap_or_default()
}

fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError(format!("redis: unreadable {what}: {e}")))
}

/// A session's value; its id is the key.
pub fn encode_session(s: &Session) -> String {
    to_json(&WireSession {
        account: s.account.clone(),
        subject: s.subject.clone(),
        auth_time: s.auth_time,
        expires_at: s.expires_at,
        user_agent: s.user_agent.clone(),
        ip: s.ip.clone(),
        started: s.started,
        last_used: s.last_used,
        amr: s.amr.clone(),
    })
}

/// The session stored under `id`; an unreadable value is a [`StoreError`] (a 503), never a panic.
pub fn decode_session(id: &str, text: &str) -> Result<Session, StoreError> {
    let w: WireSession = from_json("session", text)?;
    Ok(Session {
        id: id.to_owned(),
        account: w.account,
        subject: w.subject,
        auth_time: w.auth_time,
        expires_at: w.expires_at,
        user_agent: w.user_agent,
        ip: w.ip,
        started: w.started,
        last_used: w.last_used,
        amr: w.amr,
    })
}

/// A user snapshot, as the rotation script splices it into a grant.
pub fn encode_user(u: &User) -> String {
    to_json(&WireUser::from(u))
}

/// The `d` field of a code's hash (everything but its grant id and expiry).
pub fn encode_code(c: &AuthCode) -> String {
    to_json(&WireCode {
        client_id: c.client_id.clone(),
        redirect_uri: c.redirect_uri.clone(),
        scope: c.scope.clone(),
        nonce: c.nonce.clone(),
        code_challenge: c.code_challenge.clone(),
        sid: c.sid.clone(),
        auth_time: c.auth_time,
        user: WireUser::from(&c.user),
        amr: c.amr.clone(),
    })
}

/// The code whose details are `text`, with the grant id and expiry from their own hash fields.
pub fn decode_code(grant_id: String, expires_at: u64, text: &str) -> Result<AuthCode, StoreError> {
    let w: WireCode = from_json("code", text)?;
    Ok(AuthCode {
        client_id: w.client_id,
        redirect_uri: w.redirect_uri,
        scope: w.scope,
        nonce: w.nonce,
        code_challenge: w.code_challenge,
        sid: w.sid,
        auth_time: w.auth_time,
        user: w.user.into(),
        grant_id,
        expires_at,
        amr: w.amr,
    })
}

/// `refresh_hash \n user \n meta`, see the module header.
pub fn encode_grant(g: &Grant) -> String {
    let meta = WireGrantMeta {
        client_id: g.client_id.clone(),
        sid: g.sid.clone(),
        scope: g.scope.clone(),
        auth_time: g.auth_time,
        expires_at: g.expires_at,
        amr: g.amr.clone(),
        issued_at: g.issued_at,
    };
    let user = g.user.as_ref().map(encode_user).unwrap_or_default();
    format!("{}\n{user}\n{}", g.refresh_hash.as_deref().unwrap_or_default(), to_json(&meta))
}

/// The grant stored under `id`, from its three lines.
pub fn decode_grant(id: &str, text: &str) -> Result<Grant, StoreError> {
    let mut lines = text.splitn(3, '\n');
    let (Some(refresh), Some(user), Some(meta)) = (lines.next(), lines.next(), lines.next()) else {
        return Err(StoreError("redis: unreadable grant: not three lines".into()));
    };
    let meta: WireGrantMeta = from_json("grant", meta)?;
    let user = match user {
        "" => None,
        json => Some(from_json::<WireUser>("grant user", json)?.into()),
    };
    Ok(Grant {
        id: id.to_owned(),
        client_id: meta.client_id,
        sid: meta.sid,
        scope: meta.scope,
        auth_time: meta.auth_time,
        user,
        refresh_hash: (!refresh.is_empty()).then(|| refresh.to_owned()),
        expires_at: meta.expires_at,
        amr: meta.amr,
        issued_at: meta.issued_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: "b5638b9e-9d37-4dff-88f7-315bad2df2fa".into(),
            mail: "dungnv@danang.gov.vn".into(),
            name: "Nguyễn Văn Dũng".into(),
            given_name: Some("Dũng".into()),
            family_name: None,
            groups: vec!["can-bo".into(), "lanh-dao".into()],
            unit: Some("Văn phòng UBND thành phố".into()),
            kind: MailboxKind::Personal,
        }
    }

    #[test]
    fn a_session_round_trips_without_repeating_its_id() {
        let s = Session {
            id: "sid-hash".into(),
            account: "dungnv@danang.gov.vn".into(),
            subject: "b5638b9e".into(),
            auth_time: 1_767_225_600,
            expires_at: 1_767_261_600,
            ..Session::default()
        };
        let text = encode_session(&s);
        assert!(!text.contains("sid-hash"));
        assert_eq!(decode_session("sid-hash", &text).unwrap(), s);
    }

    #[test]
    fn a_session_keeps_its_metadata_and_older_values_still_read() {
        let s = Session {
            id: "sid-hash".into(),
            account: "anhvn@danang.gov.vn".into(),
            subject: "u1".into(),
            auth_time: 1_767_225_660,
            expires_at: 1_767_261_600,
            user_agent: Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0".into()),
            ip: Some("203.0.113.7".into()),
            started: 1_767_225_600,
            last_used: 1_767_225_900,
            amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
        };
        assert_eq!(decode_session("sid-hash", &encode_session(&s)).unwrap(), s);
        // A value written before the metadata existed (rolling upgrade) reads with empty metadata.
        let old = decode_session("sid-hash", r#"{"a":"x@danang.gov.vn","s":"u","t":5,"e":9}"#).unwrap();
        assert_eq!((old.started, old.last_used, old.amr.len(), old.ip), (0, 0, 0, None));
    }

    #[test]
    fn a_code_round_trips() {
        let c = AuthCode {
            client_id: "portal".into(),
            redirect_uri: "http://127.0.0.1:8081/callback".into(),
            scope: "openid profile".into(),
            nonce: Some("n-0S6_WzA2Mj".into()),
            code_challenge: None,
            sid: "sid".into(),
            auth_time: 10,
            user: user(),
            grant_id: "g1".into(),
            expires_at: 70,
            amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
        };
        assert_eq!(decode_code("g1".into(), 70, &encode_code(&c)).unwrap(), c);
    }

    #[test]
    fn a_grant_is_three_lines_and_round_trips_with_and_without_options() {
        let mut g = Grant {
            id: "g1".into(),
            client_id: "portal".into(),
            sid: Some("sid".into()),
            scope: "openid offline_access".into(),
            auth_time: 10,
            user: Some(user()),
            refresh_hash: Some("hash".into()),
            expires_at: 99,
            amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
            issued_at: 12,
        };
        let text = encode_grant(&g);
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with("hash\n{"));
        assert_eq!(decode_grant("g1", &text).unwrap(), g);
        g.user = None;
        g.refresh_hash = None;
        g.sid = None;
        g.amr.clear();
        let text = encode_grant(&g);
        assert!(text.starts_with("\n\n{"));
        assert_eq!(decode_grant("g1", &text).unwrap(), g);
    }

    #[test]
    fn garbage_is_a_store_error_not_a_panic() {
        assert!(decode_session("x", "not json").is_err());
        assert!(decode_grant("x", "one line").is_err());
        assert!(decode_grant("x", "\n\n{}").is_err());
    }
}
