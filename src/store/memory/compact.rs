//! The memory store's own, compact forms of sessions, codes and grants, so 100,000 SSO sessions fit the
//! service's memory budget (README, Performance: under 150 MB with the city's 20,000 accounts).
//!
//! The trait's records own every string; kept as they are, each sign-in cost about 1.6 KB, most of it
//! repetition: every code carried a full copy of the user's directory attributes, every session its own
//! copies of the mailbox, the directory id, the address and `amr`, and the id of a session was stored three
//! times (map key, account index, its codes). Here what repeats is shared instead:
//! - strings that recur across records (mailboxes, directory ids, client ids, redirect URIs, scopes, user
//!   agents, addresses, `amr` methods) are interned ([`Strings`]): one `Arc<str>` per distinct value;
//! - a user's attributes are one `Arc<User>` per account ([`Users`]), shared by its codes, grants and
//!   directory check while they are equal;
//! - ids are `Arc<str>` shared between a map's key, the indexes naming it, and the codes and grants of a session.
//!
//! What is unique per record (nonces, PKCE challenges, grant ids, refresh hashes) is a `Box<str>`. Interned
//! values nobody holds any more are dropped by the store's sweep, so the tables stay bounded. Every
//! conversion is exact: a record read back equals the one stored.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::directory::User;
use crate::store::{AuthCode, Grant, Session};

/// Distinct strings, each kept once.
#[derive(Default)]
pub(super) struct Strings(HashSet<Arc<str>>);

impl Strings {
    /// The shared copy of `s`. O(1).
    pub(super) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(s) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        self.0.insert(shared.clone());
        shared
    }

    fn opt(&mut self, s: Option<&str>) -> Option<Arc<str>> {
        s.map(|s| self.get(s))
    }

    fn list(&mut self, items: &[String]) -> Box<[Arc<str>]> {
        items.iter().map(|s| self.get(s)).collect()
    }

    /// Forgets the strings no record holds any more.
    pub(super) fn sweep(&mut self) {
        self.0.retain(|s| Arc::strong_count(s) > 1);
    }
}

/// One `Arc<User>` per account: the last attributes stored for it, shared while they stay equal.
#[derive(Default)]
pub(super) struct Users(HashMap<Arc<str>, Arc<User>>);

impl Users {
    /// The shared copy of `user` (a new one when the account's attributes changed). O(size of the user).
    pub(super) fn get(&mut self, strings: &mut Strings, user: &User) -> Arc<User> {
        if let Some(shared) = self.0.get(user.mail.as_str())
            && **shared == *user
        {
            return shared.clone();
        }
        let shared = Arc::new(user.clone());
        self.0.insert(strings.get(&user.mail), shared.clone());
        shared
    }

    /// Forgets the users no record holds any more.
    pub(super) fn sweep(&mut self) {
        self.0.retain(|_, user| Arc::strong_count(user) > 1);
    }
}

fn owned(items: &[Arc<str>]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A session, keyed by its id elsewhere.
pub(super) struct StoredSession {
    pub account: Arc<str>,
    subject: Arc<str>,
    auth_time: u64,
    pub expires_at: u64,
    user_agent: Option<Arc<str>>,
    ip: Option<Arc<str>>,
    started: u64,
    last_used: u64,
    amr: Box<[Arc<str>]>,
}

impl StoredSession {
    pub(super) fn new(s: &Session, strings: &mut Strings) -> StoredSession {
        StoredSession {
            account: strings.get(&s.account),
            subject: strings.get(&s.subject),
            auth_time: s.auth_time,
            expires_at: s.expires_at,
            user_agent: strings.opt(s.user_agent.as_deref()),
            ip: strings.opt(s.ip.as_deref()),
            started: s.started,
            last_used: s.last_used,
            amr: strings.list(&s.amr),
        }
    }

    pub(super) fn to_session(&self, id: &str) -> Session {
        Session {
            id: id.to_owned(),
            account: self.account.to_string(),
            subject: self.subject.to_string(),
            auth_time: self.auth_time,
            expires_at: self.expires_at,
            user_agent: self.user_agent.as_deref().map(str::to_owned),
            ip: self.ip.as_deref().map(str::to_owned),
            started: self.started,
            last_used: self.last_used,
            amr: owned(&self.amr),
        }
    }
}

/// A code waiting to be exchanged. `sid` is the session's own id when the session is stored.
pub(super) struct StoredCode {
    client_id: Arc<str>,
    redirect_uri: Arc<str>,
    scope: Arc<str>,
    nonce: Option<Box<str>>,
    code_challenge: Option<Box<str>>,
    sid: Arc<str>,
    auth_time: u64,
    user: Arc<User>,
    pub grant_id: Box<str>,
    pub expires_at: u64,
    amr: Box<[Arc<str>]>,
}

/// Where the shared parts of a record come from.
pub(super) struct Shared<'a> {
    pub strings: &'a mut Strings,
    pub users: &'a mut Users,
}

impl StoredCode {
    pub(super) fn new(c: &AuthCode, sid: Arc<str>, shared: Shared<'_>) -> StoredCode {
        StoredCode {
            client_id: shared.strings.get(&c.client_id),
            redirect_uri: shared.strings.get(&c.redirect_uri),
            scope: shared.strings.get(&c.scope),
            nonce: c.nonce.as_deref().map(Box::from),
            code_challenge: c.code_challenge.as_deref().map(Box::from),
            sid,
            auth_time: c.auth_time,
            user: shared.users.get(shared.strings, &c.user),
            grant_id: c.grant_id.as_str().into(),
            expires_at: c.expires_at,
            amr: shared.strings.list(&c.amr),
        }
    }

    pub(super) fn to_code(&self) -> AuthCode {
        AuthCode {
            client_id: self.client_id.to_string(),
            redirect_uri: self.redirect_uri.to_string(),
            scope: self.scope.to_string(),
            nonce: self.nonce.as_deref().map(str::to_owned),
            code_challenge: self.code_challenge.as_deref().map(str::to_owned),
            sid: self.sid.to_string(),
            auth_time: self.auth_time,
            user: User::clone(&self.user),
            grant_id: self.grant_id.to_string(),
            expires_at: self.expires_at,
            amr: owned(&self.amr),
        }
    }
}

/// A grant, keyed by its id elsewhere. `sid` is the session's own id when the session is stored.
pub(super) struct StoredGrant {
    client_id: Arc<str>,
    pub sid: Option<Arc<str>>,
    scope: Arc<str>,
    auth_time: u64,
    pub user: Option<Arc<User>>,
    pub refresh_hash: Option<Box<str>>,
    pub expires_at: u64,
    amr: Box<[Arc<str>]>,
    issued_at: u64,
}

impl StoredGrant {
    pub(super) fn new(g: &Grant, sid: Option<Arc<str>>, shared: Shared<'_>) -> StoredGrant {
        StoredGrant {
            client_id: shared.strings.get(&g.client_id),
            sid,
            scope: shared.strings.get(&g.scope),
            auth_time: g.auth_time,
            user: g.user.as_ref().map(|u| shared.users.get(shared.strings, u)),
            refresh_hash: g.refresh_hash.as_deref().map(Box::from),
            expires_at: g.expires_at,
            amr: shared.strings.list(&g.amr),
            issued_at: g.issued_at,
        }
    }

    pub(super) fn to_grant(&self, id: &str) -> Grant {
        Grant {
            id: id.to_owned(),
            client_id: self.client_id.to_string(),
            sid: self.sid.as_deref().map(str::to_owned),
            scope: self.scope.to_string(),
            auth_time: self.auth_time,
            user: self.user.as_deref().cloned(),
            refresh_hash: self.refresh_hash.as_deref().map(str::to_owned),
            expires_at: self.expires_at,
            amr: owned(&self.amr),
            issued_at: self.issued_at,
        }
    }

    /// The account whose grant this is (the user's mailbox), if any.
    pub(super) fn account(&self) -> Option<&str> {
        self.user.as_deref().map(|u| u.mail.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::MailboxKind;

    fn user(name: &str) -> User {
        User {
            id: "uuid-1".into(),
            mail: "dungnv@danang.gov.vn".into(),
            name: name.into(),
            given_name: Some("Dũng".into()),
            family_name: None,
            groups: vec!["can-bo".into()],
            unit: Some("Văn phòng".into()),
            kind: MailboxKind::Personal,
        }
    }

    #[test]
    fn equal_strings_and_users_are_kept_once_and_forgotten_when_unheld() {
        let (mut strings, mut users) = (Strings::default(), Users::default());
        let (a, b) = (strings.get("portal"), strings.get("portal"));
        assert!(Arc::ptr_eq(&a, &b));
        let (u1, u2) = (users.get(&mut strings, &user("Dũng")), users.get(&mut strings, &user("Dũng")));
        assert!(Arc::ptr_eq(&u1, &u2));
        let renamed = users.get(&mut strings, &user("Nguyễn Văn Dũng"));
        assert!(!Arc::ptr_eq(&u1, &renamed), "changed attributes are a new copy");
        assert_eq!(*u1, user("Dũng"), "and the old one is unchanged for the records holding it");
        drop((a, b, u1, u2, renamed));
        users.sweep();
        strings.sweep();
        assert!(users.0.is_empty() && strings.0.is_empty());
    }

    #[test]
    fn records_read_back_equal() {
        let (mut strings, mut users) = (Strings::default(), Users::default());
        let session = Session {
            id: "tag~123abc".into(),
            account: "dungnv@danang.gov.vn".into(),
            subject: "uuid-1".into(),
            auth_time: 5,
            expires_at: 9,
            user_agent: Some("Firefox".into()),
            ip: None,
            started: 4,
            last_used: 6,
            amr: vec!["pwd".into(), "otp".into()],
        };
        assert_eq!(StoredSession::new(&session, &mut strings).to_session(&session.id), session);
        let code = AuthCode {
            client_id: "portal".into(),
            redirect_uri: "http://127.0.0.1:8081/callback".into(),
            scope: "openid".into(),
            nonce: Some("n".into()),
            code_challenge: None,
            sid: session.id.clone(),
            auth_time: 5,
            user: user("Dũng"),
            grant_id: "g1".into(),
            expires_at: 65,
            amr: vec![String::new()],
        };
        let stored =
            StoredCode::new(&code, Arc::from("tag~123abc"), Shared { strings: &mut strings, users: &mut users });
        assert_eq!(stored.to_code(), code);
        let grant = Grant {
            id: "g1".into(),
            client_id: "portal".into(),
            sid: None,
            scope: "openid offline_access".into(),
            auth_time: 5,
            user: Some(user("Dũng")),
            refresh_hash: Some("h".into()),
            expires_at: 99,
            amr: Vec::new(),
            issued_at: 7,
        };
        let stored = StoredGrant::new(&grant, None, Shared { strings: &mut strings, users: &mut users });
        assert_eq!(stored.to_grant("g1"), grant);
        assert_eq!(stored.account(), Some("dungnv@danang.gov.vn"));
    }
}
