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

#[async_trait]
pub trait Directory: Send + Sync {
    /// Checks a mailbox (full address, already normalised to lower case) and password.
    /// An empty password is always refused without asking the server.
    async fn authenticate(&self, mail: &str, password: &str) -> Result<Result<User, Refusal>, Unavailable>;

    /// The account's current state, for refresh and SSO re-checks: `Ok(Err(_))` when removed or disabled.
    async fn lookup(&self, mail: &str) -> Result<Result<User, Refusal>, Unavailable>;

    /// Every account (for reports and the public directory page).
    async fn list(&self) -> Result<Vec<User>, Unavailable>;

    /// Whether a server answers now (for `/readyz`).
    async fn ping(&self) -> Result<(), Unavailable>;
}
