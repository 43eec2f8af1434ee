//! Where the state of sign-ins lives: SSO sessions, authorization codes and grants (refresh-token families).
//!
//! One trait, two adapters: [`memory::MemoryStore`] for a single instance and [`redis`] for several instances
//! behind a load balancer. Every operation that must be atomic across instances (redeeming a code, rotating a
//! refresh token) is one trait method, so each adapter can make it atomic in its own way.
//! Secrets never reach the store in the clear: codes and refresh tokens are kept as SHA-256 hashes.

pub mod memory;
mod metered;

pub use metered::Metered;
pub mod redis;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::directory::User;

/// A browser's single sign-on session. The cookie holds a secret; `id` (the OIDC `sid`) is its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    /// The mailbox that signed in.
    pub account: String,
    /// The directory id (`sub`).
    pub subject: String,
    /// When the password was last checked (`auth_time`).
    pub auth_time: u64,
    pub expires_at: u64,
}

/// A code waiting to be exchanged at the token endpoint. Carries what the tokens will say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub sid: String,
    pub auth_time: u64,
    pub user: User,
    /// The grant the code turns into; a replayed code revokes it.
    pub grant_id: String,
    pub expires_at: u64,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// First use: the code is now spent.
    Fresh(Box<AuthCode>),
    /// Already redeemed once: the caller revokes `grant_id`.
    Spent {
        grant_id: String,
    },
    Unknown,
}

/// A grant: what a client was given in one authorization, and its refresh-token family.
/// Access tokens name their grant, so revoking it ends them all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    /// The SSO session it came from (none for client credentials).
    pub sid: Option<String>,
    pub scope: String,
    pub auth_time: u64,
    /// The account as last read from the directory; `None` for a service client's own grant.
    pub user: Option<User>,
    /// Hash of the one refresh token that is valid now, if the grant has refresh tokens.
    pub refresh_hash: Option<String>,
    pub expires_at: u64,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was the current one; the grant now holds the new hash.
    Rotated(Grant),
    /// The token was spent already: the whole family has been revoked.
    Reused(Grant),
    Unknown,
}

/// The store could not be reached or answered garbage. The caller answers 503.
#[derive(Debug, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct StoreError(pub String);

/// How long a spent code is remembered after it expires, so a late replay still revokes its tokens.
pub const SPENT_CODE_GRACE_SECS: u64 = 600;

/// Separates an id's locality tag from the rest of it (`<tag>~<rest>`); `~` is neither base64url nor `.`, which
/// splits refresh tokens and access-token ids.
pub const TAG_SEPARATOR: char = '~';

/// An account's locality tag: 8 base64url characters of the SHA-256 of its mailbox. Session ids and the ids of
/// grants made in them start with it, so a shared store can keep everything of one account together (one Redis
/// Cluster hash slot) and still find a session or grant from its id alone. Not a secret: the mailbox it stands
/// for is already known to whoever sees the id.
pub fn account_tag(account: &str) -> String {
    use base64::Engine;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, account.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..6])
}

/// `rest` prefixed with `tag`: `<tag>~<rest>`.
pub fn tagged(tag: &str, rest: &str) -> String {
    format!("{tag}{TAG_SEPARATOR}{rest}")
}

/// The locality tag of an id: the part before `~`, or the whole id when it has none (ids of grants that belong
/// to no account, ids made before tags existed).
pub fn tag_of(id: &str) -> &str {
    id.split_once(TAG_SEPARATOR).map_or(id, |(tag, _)| tag)
}

#[async_trait]
pub trait Store: Send + Sync {
    async fn put_session(&self, session: &Session) -> Result<(), StoreError>;
    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError>;
    /// Live sessions of an account (for incident response).
    async fn sessions_of(&self, account: &str) -> Result<Vec<Session>, StoreError>;
    /// The ids of an account's live sessions beyond the `keep` that expire last, soonest-expiring (oldest) first:
    /// the ones to end so the account keeps at most `keep` (`[session] max_per_account`). The adapters answer in
    /// O(log n + k) from their expiry-ordered index; this default (for wrappers) reads the account's sessions.
    async fn sessions_beyond(&self, account: &str, keep: usize) -> Result<Vec<String>, StoreError> {
        let mut sessions = self.sessions_of(account).await?;
        sessions.sort_by(|a, b| (a.expires_at, &a.id).cmp(&(b.expires_at, &b.id)));
        let beyond = sessions.len().saturating_sub(keep);
        Ok(sessions.into_iter().take(beyond).map(|s| s.id).collect())
    }
    /// Ends a session and revokes every grant made in it; returns them so their clients can be told.
    async fn end_session(&self, id: &str) -> Result<Option<(Session, Vec<Grant>)>, StoreError>;

    /// Stores a code under the hash of its value.
    async fn put_code(&self, code_hash: &str, code: &AuthCode) -> Result<(), StoreError>;
    /// Spends a code atomically: of two concurrent redemptions, exactly one sees `Fresh`.
    async fn redeem_code(&self, code_hash: &str) -> Result<Redemption, StoreError>;

    /// Stores a new grant (and indexes it under its session).
    async fn put_grant(&self, grant: &Grant) -> Result<(), StoreError>;
    async fn grant(&self, id: &str) -> Result<Option<Grant>, StoreError>;
    /// Swaps the current refresh hash `presented` for `next` atomically, updating the user snapshot.
    /// A hash that is not the current one revokes the grant (reuse detection).
    async fn rotate_refresh(
        &self,
        id: &str,
        presented: &str,
        next: &str,
        user: Option<&User>,
    ) -> Result<Rotation, StoreError>;
    async fn revoke_grant(&self, id: &str) -> Result<Option<Grant>, StoreError>;
    /// Revokes every live grant of an account, session-bound or not (incident response).
    async fn revoke_account_grants(&self, account: &str) -> Result<Vec<Grant>, StoreError>;

    /// Counts one event under `key` in a window of `window_secs` starting at its first event; returns the count.
    /// Throttling uses it for failed sign-ins per account and per IP, shared by every instance.
    async fn hit(&self, key: &str, window_secs: u64) -> Result<u64, StoreError>;
    /// The current count under `key` and the seconds until its window ends ((0, 0) when absent or expired).
    async fn count(&self, key: &str) -> Result<(u64, u64), StoreError>;
    async fn reset(&self, key: &str) -> Result<(), StoreError>;

    /// Remembers when an account last signed in (for dormant-account reports and policy). Kept without expiry.
    async fn record_sign_in(&self, account: &str, at: u64) -> Result<(), StoreError>;
    /// Every account's last sign-in time.
    async fn last_sign_ins(&self) -> Result<Vec<(String, u64)>, StoreError>;
    /// One account's last sign-in time (checked at each sign-in when the dormancy policy is on). The default
    /// reads them all; adapters answer from their index.
    async fn last_sign_in(&self, account: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.last_sign_ins().await?.into_iter().find(|(a, _)| a == account).map(|(_, at)| at))
    }

    /// Whether the store answers now (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
}
