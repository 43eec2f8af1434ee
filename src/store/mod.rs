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
/// The fields after `expires_at` are what the person (`/tai-khoan`) and the IT centre (`/quan-tri`) see of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    /// The mailbox that signed in.
    pub account: String,
    /// The directory id (`sub`).
    pub subject: String,
    /// When the password was last checked (`auth_time`).
    pub auth_time: u64,
    pub expires_at: u64,
    /// The browser's `User-Agent` at sign-in, cut to [`Session::USER_AGENT_MAX`] characters.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The client address at sign-in (through trusted proxies only).
    #[serde(default)]
    pub ip: Option<String>,
    /// When the session began (its first sign-in); `auth_time` moves with each re-authentication, this does not.
    #[serde(default)]
    pub started: u64,
    /// When the browser last used the session, to the minute (see [`Session::touched`]).
    #[serde(default)]
    pub last_used: u64,
    /// How the person proved who they are in this session (RFC 8176: `pwd`, `otp`, `hwk`, `swk`, `mfa`).
    #[serde(default)]
    pub amr: Vec<String>,
}

impl Session {
    /// Longest `User-Agent` kept: enough to name the browser and system, small enough for the store's budget.
    pub const USER_AGENT_MAX: usize = 128;
    /// `last_used` is written at most this often, so using a session costs no store write per request.
    pub const TOUCH_EVERY_SECS: u64 = 60;

    /// A new session's metadata from the request that signed in.
    pub fn with_origin(mut self, ip: Option<std::net::IpAddr>, user_agent: Option<&str>, now: u64) -> Session {
        self.ip = ip.map(|ip| ip.to_string());
        self.user_agent = user_agent.map(|ua| ua.chars().take(Self::USER_AGENT_MAX).collect());
        self.started = now;
        self.last_used = now;
        self
    }

    /// The session with `last_used = now` when the stored value is at least a minute old, else `None` (nothing
    /// to write). Keeps the per-request cost of the account page's "last used" at one write a minute.
    pub fn touched(&self, now: u64) -> Option<Session> {
        (now >= self.last_used.saturating_add(Self::TOUCH_EVERY_SECS))
            .then(|| Session { last_used: now, ..self.clone() })
    }

    /// Whether the session was made with two factors (a second factor on top of the password).
    pub fn has_second_factor(&self) -> bool {
        self.amr.iter().any(|m| matches!(m.as_str(), "otp" | "hwk" | "swk"))
    }
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
    /// How the person signed in (the session's `amr`), for the ID token's `amr` and `acr`.
    #[serde(default)]
    pub amr: Vec<String>,
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
    /// How the person signed in when the grant was made (RFC 8176); empty for a service client.
    #[serde(default)]
    pub amr: Vec<String>,
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

#[async_trait]
pub trait Store: Send + Sync {
    async fn put_session(&self, session: &Session) -> Result<(), StoreError>;
    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError>;
    /// Live sessions of an account (for incident response).
    async fn sessions_of(&self, account: &str) -> Result<Vec<Session>, StoreError>;
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

    /// An account's second factors, sealed (`crate::mfa::Sealer`): one small record per account, kept without
    /// expiry. `None` when the person has none.
    async fn mfa_factors(&self, account: &str) -> Result<Option<String>, StoreError>;
    /// Replaces an account's sealed second-factor record.
    async fn put_mfa_factors(&self, account: &str, sealed: &str) -> Result<(), StoreError>;
    /// Removes an account's second factors (a reset); true when there were some.
    async fn delete_mfa_factors(&self, account: &str) -> Result<bool, StoreError>;

    /// Whether the store answers now (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
}
