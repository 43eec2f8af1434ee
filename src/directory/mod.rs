//! The city's mail directory, seen from the login service: who an account is and whether its password is right.
//!
//! One trait, two adapters: [`ldif::LdifDirectory`] (embedded, read from an RFC 2849 file) and
//! [`ldap::LdapDirectory`] (a real OpenLDAP / Zimbra / Active Directory / 389-DS server).
//! Both answer the same questions the same way, so the rest of the service never knows which one it talks to.

pub mod ldap;
pub mod ldif;
mod metered;

pub use metered::Metered;
pub mod public;

use std::any::Any;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// `text` in Unicode NFC. Most text arrives composed already; the quick check sees that without rebuilding it
/// (the full normalisation of every attribute of every search was ~1% of a refresh's CPU).
pub(crate) fn nfc(text: &str) -> String {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => text.to_owned(),
        IsNormalized::No | IsNormalized::Maybe => text.nfc().collect(),
    }
}

/// An account as the directory describes it; every text value is NFC-normalised UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The directory's stable id (`entryUUID`, `zimbraId`, `objectGUID`, `nsUniqueId`): the OIDC `sub`.
    pub id: String,
    /// The mailbox, lower case: `dungnv@danang.gov.vn`.
    pub mail: String,
    /// Display name with diacritics: "Nguyễn Văn Dũng".
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Names of the groups the account belongs to (the `cn` of each group).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The unit (agency) the mailbox belongs to: "Sở Kế hoạch và Đầu tư".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub kind: MailboxKind,
}

/// City rules tell a unit's mailbox (`skhdt@`) from a person's (`dungnv@`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailboxKind {
    Personal,
    Unit,
}

/// Why a sign-in was refused. Never shown to the person (all read the same on the page); kept for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownAccount,
    WrongPassword,
    /// Locked or disabled in the directory (ppolicy lock, Zimbra status, AD disabled bit, nsAccountLock).
    Disabled,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownAccount => "unknown_account",
            Refusal::WrongPassword => "wrong_password",
            Refusal::Disabled => "account_disabled",
        }
    }
}

/// The directory could not answer (no server reachable, timeout, protocol error). The caller answers 503.
#[derive(Debug, thiserror::Error)]
#[error("directory unavailable: {0}")]
pub struct Unavailable(pub String);

/// An account found for a sign-in, before its password is checked ([`Directory::locate`]): what the adapter needs
/// for the check, opaque to everyone else, and the account's canonical mailbox, so the throttle can count the
/// attempt against the account whichever of its names (alias, `userPrincipalName`) was typed.
pub struct Located {
    /// The canonical mailbox (lower case) of the account found, when it can sign in; `None` for an unknown or
    /// disabled mailbox, which is refused whatever the password.
    pub account: Option<String>,
    found: Box<dyn Any + Send + Sync>,
}

impl Located {
    /// What an adapter found, for its own [`Directory::check`].
    pub fn new(account: Option<String>, found: impl Any + Send + Sync) -> Located {
        Located { account, found: Box::new(found) }
    }

    /// The adapter's finding back; `None` when it came from another adapter.
    pub fn found<T: Any>(self) -> Option<T> {
        self.found.downcast::<T>().ok().map(|found| *found)
    }
}

impl std::fmt::Debug for Located {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Located").field("account", &self.account).finish_non_exhaustive()
    }
}

/// What the default [`Directory::locate`] keeps: the typed mailbox, checked later by `authenticate`.
struct Typed(String);

#[async_trait]
pub trait Directory: Send + Sync {
    /// Checks a mailbox (full address, already normalised to lower case) and password.
    /// An empty password is always refused without asking the server.
    async fn authenticate(&self, mail: &str, password: &str) -> Result<Result<User, Refusal>, Unavailable>;

    /// The first half of [`authenticate`](Directory::authenticate), for a sign-in that must know whose password it
    /// is about to check (the throttle): finds the account of a mailbox without checking any password. With
    /// [`check`](Directory::check) it costs what `authenticate` costs (no extra round trip), and an unknown mailbox
    /// takes as long as a known one. By default nothing is found early and `check` runs `authenticate`.
    async fn locate(&self, mail: &str) -> Result<Located, Unavailable> {
        Ok(Located::new(None, Typed(mail.to_owned())))
    }

    /// The second half: checks `password` for what [`locate`](Directory::locate) found, answering as
    /// `authenticate` would. An empty password is always refused without asking the server.
    async fn check(&self, located: Located, password: &str) -> Result<Result<User, Refusal>, Unavailable> {
        match located.found::<Typed>() {
            Some(Typed(mail)) => self.authenticate(&mail, password).await,
            None => Err(Unavailable("a located account from another directory".into())),
        }
    }

    /// The account's current state, for refresh and SSO re-checks: `Ok(Err(_))` when removed or disabled.
    async fn lookup(&self, mail: &str) -> Result<Result<User, Refusal>, Unavailable>;

    /// Every account (for reports and the public directory page).
    async fn list(&self) -> Result<Vec<User>, Unavailable>;

    /// Whether a server answers now (for `/readyz`).
    async fn ping(&self) -> Result<(), Unavailable>;
}
