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
    /// When the app was given it (the code exchanged, the assertion issued): what `/tai-khoan` shows as "when".
    #[serde(default)]
    pub issued_at: u64,
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

/// The directory's last good answer about an account: when, and what it said. A directory outage is bridged with
/// it (`[directory] outage_grace_secs`): one record per account, read only while the directory is unreachable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryCheck {
    pub at: u64,
    pub user: User,
}

/// A throttling rule for one counter (a mailbox, an address): attempts in a window of `window_secs` from the first;
/// the first `free` go ahead at once, each further one starts a wait of `base_delay_secs` doubling per attempt,
/// and the `max`-th starts a lockout of `lockout_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub window_secs: u64,
    pub free: u64,
    pub max: u64,
    pub base_delay_secs: u64,
    pub lockout_secs: u64,
}

impl Limit {
    /// The wait that starts once `attempts` attempts are counted (pure; the Redis script computes the same).
    pub fn wait_after(&self, attempts: u64) -> u64 {
        if attempts >= self.max {
            self.lockout_secs
        } else if attempts < self.free {
            0
        } else {
            let doublings = (attempts - self.free).min(30) as u32;
            self.base_delay_secs.saturating_mul(1 << doublings).min(self.lockout_secs)
        }
    }
}

/// What [`Store::reserve`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Go ahead: this attempt is number `count` of its window, and the wait it started (0: none).
    Granted { count: u64, wait: u64 },
    /// A wait is running, `wait` more seconds: nothing was counted.
    Refused { wait: u64 },
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
    /// Stores a *new* session and ends the account's oldest live *settled* sessions so that at most `max` stay:
    /// a session is settled once an app has received tokens in it or once it is `pending_secs` (a code's
    /// lifetime) older than the new one, so a sign-in still under way (its code not yet exchanged) is never ended
    /// under it, however many share its second; nor `session` itself. Returns the ended sessions with their
    /// grants, for the audit trail and back-channel logout. The Redis store does it all in one script (one round
    /// trip), the memory store under one lock, both looking at most 64 sessions past the ones to end (O(log n)).
    /// This default, for wrappers over another store, composes the operations above (O(log n + k) wherever
    /// `sessions_beyond` is); it cannot see whether a sign-in is finished, so it spares every session expiring in
    /// the same second as the new one instead (a burst may pass the ceiling for a second; the next sign-in
    /// trims it).
    async fn put_session_capped(
        &self,
        session: &Session,
        max: usize,
        pending_secs: u64,
    ) -> Result<Vec<(Session, Vec<Grant>)>, StoreError> {
        let _ = pending_secs;
        self.put_session(session).await?;
        // One more than needed: `session` may be among them.
        let oldest = self.sessions_beyond(&session.account, max.saturating_sub(1)).await?;
        let excess = oldest.len().saturating_sub(1);
        let mut ended = Vec::new();
        for sid in oldest.iter().filter(|sid| **sid != session.id).take(excess) {
            match self.session(sid).await? {
                Some(s) if s.expires_at < session.expires_at => ended.extend(self.end_session(sid).await?),
                _ => {}
            }
        }
        Ok(ended)
    }

    /// Stores a code under the hash of its value.
    async fn put_code(&self, code_hash: &str, code: &AuthCode) -> Result<(), StoreError>;
    /// Spends a code atomically: of two concurrent redemptions, exactly one sees `Fresh`.
    async fn redeem_code(&self, code_hash: &str) -> Result<Redemption, StoreError>;

    /// Reads a code without spending it, so the token endpoint checks who presents it (client, redirect_uri,
    /// PKCE) before spending it: another client holding a leaked code cannot burn it.
    async fn peek_code(&self, code_hash: &str) -> Result<Redemption, StoreError>;

    /// Stores a new grant (and indexes it under its session).
    async fn put_grant(&self, grant: &Grant) -> Result<(), StoreError>;
    /// Stores a grant made in SSO session `grant.sid` only while that session exists, atomically with the
    /// check, and says whether it did: a logout landing between the token endpoint's session check and its
    /// grant write would otherwise leave a live refresh grant. A grant without a session is always written.
    async fn put_session_grant(&self, grant: &Grant) -> Result<bool, StoreError>;
    async fn grant(&self, id: &str) -> Result<Option<Grant>, StoreError>;
    /// Swaps the current refresh hash `presented` for `next` atomically, updating the user snapshot.
    /// A hash that is not the current one revokes the grant (reuse detection): callers pass only secrets the
    /// family really issued (the provider checks their MAC first), so a guessed secret never gets here.
    async fn rotate_refresh(
        &self,
        id: &str,
        presented: &str,
        next: &str,
        user: Option<&User>,
    ) -> Result<Rotation, StoreError>;
    async fn revoke_grant(&self, id: &str) -> Result<Option<Grant>, StoreError>;
    /// The live grants made in SSO session `sid`: the apps signed into in it (OIDC clients and SAML participants).
    /// Reads that session's own index only.
    async fn session_grants(&self, sid: &str) -> Result<Vec<Grant>, StoreError>;
    /// Revokes every live grant of an account, session-bound or not (incident response).
    async fn revoke_account_grants(&self, account: &str) -> Result<Vec<Grant>, StoreError>;

    /// Counts one event under `key` in a window of `window_secs` starting at its first event; returns the count.
    /// Throttling uses it for failed sign-ins per account and per IP, shared by every instance.
    async fn hit(&self, key: &str, window_secs: u64) -> Result<u64, StoreError>;
    /// The current count under `key` and the seconds until its window ends ((0, 0) when absent or expired).
    async fn count(&self, key: &str) -> Result<(u64, u64), StoreError>;
    async fn reset(&self, key: &str) -> Result<(), StoreError>;

    /// Reserves one attempt under `key` *before* it is made, in one atomic step (a Lua script in Redis, one
    /// critical section in memory): refused while a wait runs; otherwise counted, as a failure until
    /// [`Store::release`] takes it back, and the wait its count calls for (`limit`) starts now. So concurrent
    /// attempts cannot all slip past a check made before any of them is counted. O(1): one small record per key.
    async fn reserve(&self, key: &str, limit: &Limit) -> Result<Reservation, StoreError>;
    /// Takes back the attempt numbered `count` under `key` that turned out no failure (and the wait it started);
    /// with `clear`, forgets every attempt and wait under `key` (a correct password). O(1).
    async fn release(&self, key: &str, count: u64, clear: bool) -> Result<(), StoreError>;

    /// Remembers when an account last signed in (for dormant-account reports and policy). Kept without expiry.
    async fn record_sign_in(&self, account: &str, at: u64) -> Result<(), StoreError>;
    /// Every account's last sign-in time.
    async fn last_sign_ins(&self) -> Result<Vec<(String, u64)>, StoreError>;
    /// One account's last sign-in time (checked at each sign-in when the dormancy policy is on). The default
    /// reads them all; adapters answer from their index.
    async fn last_sign_in(&self, account: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.last_sign_ins().await?.into_iter().find(|(a, _)| a == account).map(|(_, at)| at))
    }

    /// Keeps a pushed authorization request (RFC 9126), opaque to the store, under the hash of its `request_uri`
    /// until `expires_at`. Any instance may take it.
    async fn put_pushed_request(&self, handle_hash: &str, record: &str, expires_at: u64) -> Result<(), StoreError>;
    /// Takes a pushed request atomically: of two concurrent takes exactly one gets it; an expired one is gone.
    async fn take_pushed_request(&self, handle_hash: &str) -> Result<Option<String>, StoreError>;
    /// Remembers an account's consent to a client (an opaque record) until `expires_at`, replacing the last one.
    /// One record per (account, client): checking it costs one read, whatever the account's history.
    async fn put_consent(
        &self,
        account: &str,
        client_id: &str,
        record: &str,
        expires_at: u64,
    ) -> Result<(), StoreError>;
    /// The consent record of an account for a client, while it lives.
    async fn consent(&self, account: &str, client_id: &str) -> Result<Option<String>, StoreError>;
    /// Remembers the directory's last good answer about `account` for `keep_secs` (replacing the previous one).
    async fn put_directory_check(
        &self,
        account: &str,
        check: &DirectoryCheck,
        keep_secs: u64,
    ) -> Result<(), StoreError>;
    /// The directory's last good answer about `account`, if younger than the `keep_secs` it was stored with.
    async fn directory_check(&self, account: &str) -> Result<Option<DirectoryCheck>, StoreError>;
    /// Forgets it: the directory has since said the account is locked, disabled or gone.
    async fn forget_directory_check(&self, account: &str) -> Result<(), StoreError>;
    /// An account's second factors, sealed (`crate::mfa::Sealer`): one small record per account, kept without
    /// expiry. `None` when the person has none.
    async fn mfa_factors(&self, account: &str) -> Result<Option<String>, StoreError>;
    /// Replaces an account's sealed second-factor record.
    async fn put_mfa_factors(&self, account: &str, sealed: &str) -> Result<(), StoreError>;
    /// Removes an account's second factors (a reset); true when there were some.
    async fn delete_mfa_factors(&self, account: &str) -> Result<bool, StoreError>;
    /// Keeps a WebAuthn challenge (its key names the SSO session and the challenge) until `expires_at`.
    async fn put_challenge(&self, key: &str, expires_at: u64) -> Result<(), StoreError>;
    /// Spends a challenge atomically: true for exactly one of concurrent takes, false once used or expired.
    async fn take_challenge(&self, key: &str) -> Result<bool, StoreError>;

    /// Whether the store answers now (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// How many SSO sessions are live now, when the adapter can count them cheaply (the console's overview);
    /// `None` when it cannot.
    async fn live_session_count(&self) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }
}
