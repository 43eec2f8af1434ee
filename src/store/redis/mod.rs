//! The shared store: every instance behind the load balancer reads and writes one Redis, so a session made on
//! one instance is seen by all, and an instance can be restarted (or killed) without anyone signing in again.
//!
//! Keys (all under `[store] key_prefix`, each with a TTL except the last-sign-in hash). Everything of one account
//! shares a Redis Cluster hash tag `{T}`, its locality tag (`store::account_tag`, 8 characters of its mailbox's
//! SHA-256): session ids and grant ids start with `T~`, so a key is found from the id alone, and every script
//! that touches a session, its grants and the account's indexes stays in one hash slot. Ids without a tag
//! (service clients' grants) are their own tag.
//!
//! The keys, their types and lifetimes: `keys`.
//!
//! Each write to an index drops its expired members (`ZREMRANGEBYSCORE -inf now`) and adds one (`ZADD`); reads
//! take the live ones (`ZRANGEBYSCORE (now +inf`): O(log n) per write however many sessions one account has.
//!
//! Compound operations are Lua scripts (`scripts`), so they stay atomic across instances. TTLs are computed
//! from the service's clock, and reads check `expires_at` against it too, exactly as the memory store does.
//!
//! How the store connects, times out and retries: `conn`.

mod codec;
mod conn;
mod keys;
mod links;
mod scripts;

use async_trait::async_trait;
use redis::{Cmd, ToRedisArgs};

use super::{
    AuthCode, DirectoryCheck, Grant, Limit, Redemption, Reservation, Rotation, SPENT_CODE_GRACE_SECS, Session, Store,
    StoreError,
};
use crate::clock::Clock;
use crate::config::StoreConfig;
use crate::directory::User;
use conn::{Conn, Request, Retry};
use keys::Keys;
use scripts::Scripts;

/// The [`Store`] on Redis; see the module header for its keys.
pub struct RedisStore {
    conn: Conn,
    scripts: Scripts,
    keys: Keys,
    clock: Clock,
}

/// A command with its arguments (one value, or a tuple of them).
fn cmd(name: &str, args: impl ToRedisArgs) -> Cmd {
    let mut cmd = redis::cmd(name);
    cmd.arg(args);
    cmd
}

impl RedisStore {
    /// Prepares the store without connecting (call inside a Tokio runtime): the first operation connects.
    /// Fails only on what waiting cannot fix: a malformed `redis_url`, an unreadable `ca_file`.
    pub fn new(config: &StoreConfig, clock: Clock) -> Result<Self, StoreError> {
        let keys = Keys { prefix: config.key_prefix.clone() };
        Ok(RedisStore { conn: Conn::new(config)?, scripts: Scripts::new(), keys, clock })
    }

    /// The start-up check: `Ok` when Redis answers, and also when it is only unreachable (logged: the service
    /// starts and answers 503 until Redis is back). `Err` when Redis answers but refuses us (a wrong password,
    /// a TLS certificate we do not trust): waiting will not fix that.
    pub async fn check_at_start(&self) -> Result<(), StoreError> {
        self.conn.check_at_start().await
    }

    /// Seconds from now until `expires_at` by the service clock; `None` when it is already past.
    fn ttl(&self, expires_at: u64) -> Option<u64> {
        expires_at.checked_sub(self.clock.now()).filter(|&t| t > 0)
    }

    /// `value` while `expires_at` is ahead of the service clock (Redis may not have dropped it yet).
    fn live<T>(&self, expires_at: u64, value: T) -> Option<T> {
        (expires_at > self.clock.now()).then_some(value)
    }

    /// Stores `record` under `key` until `expires_at`, the expiry in front so reads can check the service clock.
    async fn put_expiring(
        &self,
        op: &'static str,
        key: String,
        record: &str,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let Some(ttl) = self.ttl(expires_at) else { return Ok(()) };
        let set = cmd("SET", (key, format!("{expires_at}\n{record}"), "EX", ttl));
        self.conn.send(op, Retry::Idempotent, Request::Cmd(&set)).await
    }

    /// The record of a value written by [`RedisStore::put_expiring`], while the service clock says it lives.
    fn expiring(&self, text: Option<String>) -> Result<Option<String>, StoreError> {
        let Some(text) = text else { return Ok(None) };
        let (expires_at, record) =
            text.split_once('\n').ok_or_else(|| StoreError("redis: unreadable expiring record".into()))?;
        let expires_at: u64 = expires_at.parse().map_err(|_| StoreError("redis: unreadable record expiry".into()))?;
        Ok(self.live(expires_at, record.to_owned()))
    }

    fn live_grant(&self, id: &str, text: Option<String>) -> Result<Option<Grant>, StoreError> {
        let Some(text) = text else { return Ok(None) };
        let grant = codec::decode_grant(id, &text)?;
        Ok(self.live(grant.expires_at, grant))
    }

    /// SET `key` to `value` until `expires_at`, indexed under `member` in each sorted set of `indexes`
    /// (see `PUT_INDEXED`).
    async fn put_indexed(
        &self,
        op: &'static str,
        (key, value, expires_at): (String, String, u64),
        (indexes, member): (&[String], &str),
    ) -> Result<(), StoreError> {
        self.put_indexed_guarded(op, (key, value, expires_at), (indexes, member), None).await.map(|_| ())
    }

    /// [`Self::put_indexed`], written only while the key `guard` (when given) exists; returns whether it was.
    async fn put_indexed_guarded(
        &self,
        op: &'static str,
        (key, value, expires_at): (String, String, u64),
        (indexes, member): (&[String], &str),
        guard: Option<String>,
    ) -> Result<bool, StoreError> {
        let Some(ttl) = self.ttl(expires_at) else { return Ok(true) };
        let mut script = self.scripts.put_indexed.prepare_invoke();
        script.key(key);
        for index in indexes {
            script.key(index);
        }
        script.arg(value).arg(ttl).arg(member).arg(expires_at).arg(self.clock.now());
        if let Some(guard) = guard {
            script.key(guard).arg("guarded");
        }
        let written: i64 = self.conn.send(op, Retry::Idempotent, Request::Script(&script)).await?;
        Ok(written == 1)
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        let record = (self.keys.session(&session.id), codec::encode_session(session), session.expires_at);
        let index = [self.keys.account(&session.account)];
        self.put_indexed("put_session", record, (&index, &session.id)).await
    }

    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let get = cmd("GET", self.keys.session(id));
        let text: Option<String> = self.conn.send("session", Retry::Idempotent, Request::Cmd(&get)).await?;
        let Some(text) = text else { return Ok(None) };
        let session = codec::decode_session(id, &text)?;
        Ok(self.live(session.expires_at, session))
    }

    async fn sessions_of(&self, account: &str) -> Result<Vec<Session>, StoreError> {
        let live = format!("({}", self.clock.now());
        let index = cmd("ZRANGEBYSCORE", (self.keys.account(account), live, "+inf"));
        let ids: Vec<String> = self.conn.send("sessions_of", Retry::Idempotent, Request::Cmd(&index)).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut get = redis::cmd("MGET");
        for id in &ids {
            get.arg(self.keys.session(id));
        }
        let values: Vec<Option<String>> = self.conn.send("sessions_of", Retry::Idempotent, Request::Cmd(&get)).await?;
        let mut out = Vec::new();
        for (id, text) in ids.iter().zip(values) {
            if let Some(text) = text {
                let session = codec::decode_session(id, &text)?;
                out.extend(self.live(session.expires_at, session));
            }
        }
        Ok(out)
    }

    async fn sessions_beyond(&self, account: &str, keep: usize) -> Result<Vec<String>, StoreError> {
        let mut script = self.scripts.sessions_beyond.prepare_invoke();
        script.key(self.keys.account(account)).arg(self.clock.now()).arg(keep);
        self.conn.send("sessions_beyond", Retry::Idempotent, Request::Script(&script)).await
    }

    async fn end_session(&self, id: &str) -> Result<Option<(Session, Vec<Grant>)>, StoreError> {
        let mut script = self.scripts.end_session.prepare_invoke();
        script.key(self.keys.session(id)).key(self.keys.grants_of(id)).arg(&self.keys.prefix);
        let reply: Vec<String> = self.conn.send("end_session", Retry::NotSent, Request::Script(&script)).await?;
        let mut reply = reply.into_iter();
        let session = reply.next().filter(|s| !s.is_empty());
        let mut grants = Vec::new();
        while let (Some(grant_id), Some(text)) = (reply.next(), reply.next()) {
            grants.extend(self.live_grant(&grant_id, Some(text))?);
        }
        let Some(text) = session else { return Ok(None) };
        let session = codec::decode_session(id, &text)?;
        // Outside the script (the account is inside the value): a stale index entry is skipped on read anyway.
        // The account's two indexes share its tag (one slot), so one atomic pipeline drops both entries.
        let mut unindex = redis::pipe();
        unindex.atomic().zrem(self.keys.account(&session.account), id).ignore();
        if !grants.is_empty() {
            let ids: Vec<&str> = grants.iter().map(|g| g.id.as_str()).collect();
            unindex.zrem(self.keys.grants_of_account(&session.account), ids).ignore();
        }
        self.conn.send::<()>("end_session", Retry::Idempotent, Request::Pipe(&unindex)).await?;
        Ok(self.live(session.expires_at, (session, grants)))
    }

    async fn put_session_capped(
        &self,
        session: &Session,
        max: usize,
        pending_secs: u64,
    ) -> Result<Vec<(Session, Vec<Grant>)>, StoreError> {
        let Some(ttl) = self.ttl(session.expires_at) else { return Ok(Vec::new()) };
        let mut script = self.scripts.put_session_capped.prepare_invoke();
        script.key(self.keys.session(&session.id));
        script.key(self.keys.account(&session.account)).key(self.keys.grants_of_account(&session.account));
        script.arg(codec::encode_session(session)).arg(ttl).arg(&session.id).arg(session.expires_at);
        script.arg(self.clock.now()).arg(max.max(1)).arg(&self.keys.prefix).arg(pending_secs);
        let reply: Vec<Vec<String>> = self.conn.send("put_session", Retry::NotSent, Request::Script(&script)).await?;
        let mut ended = Vec::with_capacity(reply.len());
        for entry in reply {
            let mut entry = entry.into_iter();
            let (Some(sid), Some(text)) = (entry.next(), entry.next()) else {
                return Err(StoreError("redis: unexpected answer from put_session".into()));
            };
            let mut grants = Vec::new();
            while let (Some(grant_id), Some(text)) = (entry.next(), entry.next()) {
                grants.extend(self.live_grant(&grant_id, Some(text))?);
            }
            // Its value already gone (expired in Redis a moment early): its grants and index entry went with it.
            if text.is_empty() {
                continue;
            }
            let ended_session = codec::decode_session(&sid, &text)?;
            ended.extend(self.live(ended_session.expires_at, (ended_session, grants)));
        }
        Ok(ended)
    }

    async fn put_code(&self, code_hash: &str, code: &AuthCode) -> Result<(), StoreError> {
        let Some(ttl) = self.ttl(code.expires_at) else { return Ok(()) };
        let key = self.keys.code(code_hash);
        let mut pipe = redis::pipe();
        pipe.atomic().del(&key).ignore();
        pipe.hset_multiple(&key, &[("g", code.grant_id.clone()), ("e", code.expires_at.to_string())]).ignore();
        pipe.hset(&key, "d", codec::encode_code(code)).ignore();
        pipe.expire(&key, i64::try_from(ttl).unwrap_or(i64::MAX)).ignore();
        self.conn.send("put_code", Retry::Idempotent, Request::Pipe(&pipe)).await
    }

    async fn redeem_code(&self, code_hash: &str) -> Result<Redemption, StoreError> {
        let mut script = self.scripts.redeem_code.prepare_invoke();
        script.key(self.keys.code(code_hash)).arg(self.clock.now()).arg(SPENT_CODE_GRACE_SECS);
        let reply: Option<Vec<String>> =
            self.conn.send("redeem_code", Retry::NotSent, Request::Script(&script)).await?;
        match reply.as_deref() {
            None => Ok(Redemption::Unknown),
            Some([grant_id]) => Ok(Redemption::Spent { grant_id: grant_id.clone() }),
            Some([grant_id, details, expires_at]) => {
                let expires_at = expires_at.parse().map_err(|_| StoreError("redis: unreadable code expiry".into()))?;
                Ok(Redemption::Fresh(Box::new(codec::decode_code(grant_id.clone(), expires_at, details)?)))
            }
            Some(_) => Err(StoreError("redis: unexpected answer from redeem_code".into())),
        }
    }

    async fn peek_code(&self, code_hash: &str) -> Result<Redemption, StoreError> {
        let get = cmd("HMGET", (self.keys.code(code_hash), "g", "e", "d"));
        let fields: Vec<Option<String>> = self.conn.send("peek_code", Retry::Idempotent, Request::Cmd(&get)).await?;
        let (Some(Some(grant_id)), Some(Some(expires_at))) = (fields.first(), fields.get(1)) else {
            return Ok(Redemption::Unknown);
        };
        let expires_at: u64 = expires_at.parse().map_err(|_| StoreError("redis: unreadable code expiry".into()))?;
        let now = self.clock.now();
        match fields.get(2) {
            Some(Some(details)) if expires_at > now => {
                Ok(Redemption::Fresh(Box::new(codec::decode_code(grant_id.clone(), expires_at, details)?)))
            }
            Some(None) if expires_at + SPENT_CODE_GRACE_SECS > now => {
                Ok(Redemption::Spent { grant_id: grant_id.clone() })
            }
            _ => Ok(Redemption::Unknown),
        }
    }

    async fn put_grant(&self, grant: &Grant) -> Result<(), StoreError> {
        let record = (self.keys.grant(&grant.id), codec::encode_grant(grant), grant.expires_at);
        let mut indexes = Vec::with_capacity(2);
        indexes.extend(grant.sid.as_deref().map(|sid| self.keys.grants_of(sid)));
        indexes.extend(grant.user.as_ref().map(|u| self.keys.grants_of_account(&u.mail)));
        if !indexes.is_empty() {
            return self.put_indexed("put_grant", record, (&indexes, &grant.id)).await;
        }
        let Some(ttl) = self.ttl(grant.expires_at) else { return Ok(()) };
        let set = cmd("SET", (record.0, record.1, "EX", ttl));
        self.conn.send("put_grant", Retry::Idempotent, Request::Cmd(&set)).await
    }

    async fn put_session_grant(&self, grant: &Grant) -> Result<bool, StoreError> {
        let Some(sid) = grant.sid.as_deref() else { return self.put_grant(grant).await.map(|()| true) };
        let record = (self.keys.grant(&grant.id), codec::encode_grant(grant), grant.expires_at);
        let mut indexes = vec![self.keys.grants_of(sid)];
        indexes.extend(grant.user.as_ref().map(|u| self.keys.grants_of_account(&u.mail)));
        let guard = Some(self.keys.session(sid));
        self.put_indexed_guarded("put_grant", record, (&indexes, &grant.id), guard).await
    }

    async fn grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        let get = cmd("GET", self.keys.grant(id));
        let text = self.conn.send("grant", Retry::Idempotent, Request::Cmd(&get)).await?;
        self.live_grant(id, text)
    }

    async fn rotate_refresh(
        &self,
        id: &str,
        presented: &str,
        next: &str,
        user: Option<&User>,
    ) -> Result<Rotation, StoreError> {
        let mut script = self.scripts.rotate_refresh.prepare_invoke();
        let user = user.map(codec::encode_user).unwrap_or_default();
        script.key(self.keys.grant(id)).arg(presented).arg(next).arg(user);
        let reply: Option<(String, String)> =
            self.conn.send("rotate_refresh", Retry::NotSent, Request::Script(&script)).await?;
        let Some((outcome, text)) = reply else { return Ok(Rotation::Unknown) };
        // A grant past its expiry by the service clock but not yet dropped by Redis counts as gone.
        let Some(grant) = self.live_grant(id, Some(text))? else { return Ok(Rotation::Unknown) };
        match outcome.as_str() {
            "rotated" => Ok(Rotation::Rotated(grant)),
            "reused" => Ok(Rotation::Reused(grant)),
            _ => Err(StoreError("redis: unexpected answer from rotate_refresh".into())),
        }
    }

    async fn revoke_grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        let take = cmd("GETDEL", self.keys.grant(id));
        let text = self.conn.send("revoke_grant", Retry::NotSent, Request::Cmd(&take)).await?;
        self.live_grant(id, text)
    }

    async fn hit(&self, key: &str, window_secs: u64) -> Result<u64, StoreError> {
        let mut script = self.scripts.hit.prepare_invoke();
        script.key(self.keys.counter(key)).arg(window_secs.max(1));
        self.conn.send("hit", Retry::NotSent, Request::Script(&script)).await
    }

    async fn count(&self, key: &str) -> Result<(u64, u64), StoreError> {
        let key = self.keys.counter(key);
        let mut pipe = redis::pipe();
        pipe.get(&key).ttl(&key);
        let (n, ttl): (Option<u64>, i64) = self.conn.send("count", Retry::Idempotent, Request::Pipe(&pipe)).await?;
        Ok(match n {
            Some(n) if ttl > 0 => (n, ttl.unsigned_abs()),
            _ => (0, 0),
        })
    }

    async fn session_grants(&self, sid: &str) -> Result<Vec<Grant>, StoreError> {
        let live = cmd("ZRANGEBYSCORE", (self.keys.grants_of(sid), format!("({}", self.clock.now()), "+inf"));
        let ids: Vec<String> = self.conn.send("session_grants", Retry::Idempotent, Request::Cmd(&live)).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // One MGET: every grant made in a session (SAML participants too) carries its tag, so shares its slot.
        let mut get = redis::cmd("MGET");
        for id in &ids {
            get.arg(self.keys.grant(id));
        }
        let values: Vec<Option<String>> =
            self.conn.send("session_grants", Retry::Idempotent, Request::Cmd(&get)).await?;
        let mut out = Vec::new();
        for (id, text) in ids.iter().zip(values) {
            out.extend(self.live_grant(id, text)?.filter(|g| g.sid.as_deref() == Some(sid)));
        }
        Ok(out)
    }

    async fn revoke_account_grants(&self, account: &str) -> Result<Vec<Grant>, StoreError> {
        let index = self.keys.grants_of_account(account);
        let live = cmd("ZRANGEBYSCORE", (&index, format!("({}", self.clock.now()), "+inf"));
        let ids: Vec<String> = self.conn.send("revoke_account_grants", Retry::Idempotent, Request::Cmd(&live)).await?;
        let mut revoked = Vec::new();
        for id in ids {
            revoked.extend(self.revoke_grant(&id).await?);
        }
        self.conn.send::<()>("revoke_account_grants", Retry::Idempotent, Request::Cmd(&cmd("DEL", &index))).await?;
        Ok(revoked)
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        let del = cmd("DEL", self.keys.counter(key));
        self.conn.send("reset", Retry::Idempotent, Request::Cmd(&del)).await
    }

    async fn reserve(&self, key: &str, limit: &Limit) -> Result<Reservation, StoreError> {
        let mut script = self.scripts.reserve.prepare_invoke();
        script.key(self.keys.attempts(key)).arg(self.clock.now()).arg(limit.window_secs.max(1));
        script.arg(limit.free).arg(limit.max).arg(limit.base_delay_secs).arg(limit.lockout_secs);
        let reply: Vec<u64> = self.conn.send("reserve", Retry::NotSent, Request::Script(&script)).await?;
        match reply.as_slice() {
            [0, wait] => Ok(Reservation::Refused { wait: *wait }),
            [1, count, wait] => Ok(Reservation::Granted { count: *count, wait: *wait }),
            _ => Err(StoreError("redis: unexpected answer from reserve".into())),
        }
    }

    async fn release(&self, key: &str, count: u64, clear: bool) -> Result<(), StoreError> {
        let mut script = self.scripts.release.prepare_invoke();
        script.key(self.keys.attempts(key)).arg(count).arg(if clear { "1" } else { "0" });
        self.conn.send::<()>("release", Retry::NotSent, Request::Script(&script)).await
    }

    async fn record_sign_in(&self, account: &str, at: u64) -> Result<(), StoreError> {
        let set = cmd("HSET", (self.keys.last_sign_in(), account, at));
        self.conn.send("record_sign_in", Retry::Idempotent, Request::Cmd(&set)).await
    }

    async fn last_sign_ins(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let all = cmd("HGETALL", self.keys.last_sign_in());
        self.conn.send("last_sign_ins", Retry::Idempotent, Request::Cmd(&all)).await
    }

    async fn last_sign_in(&self, account: &str) -> Result<Option<u64>, StoreError> {
        let get = cmd("HGET", (self.keys.last_sign_in(), account));
        self.conn.send("last_sign_in", Retry::Idempotent, Request::Cmd(&get)).await
    }

    async fn put_pushed_request(&self, handle_hash: &str, record: &str, expires_at: u64) -> Result<(), StoreError> {
        self.put_expiring("put_pushed_request", self.keys.pushed(handle_hash), record, expires_at).await
    }

    async fn take_pushed_request(&self, handle_hash: &str) -> Result<Option<String>, StoreError> {
        // GETDEL is one command: of two instances taking the same request_uri, one gets it.
        let take = cmd("GETDEL", self.keys.pushed(handle_hash));
        let text = self.conn.send("take_pushed_request", Retry::NotSent, Request::Cmd(&take)).await?;
        self.expiring(text)
    }

    async fn put_challenge(&self, key: &str, expires_at: u64) -> Result<(), StoreError> {
        self.put_expiring("put_challenge", self.keys.challenge(key), "1", expires_at).await
    }

    async fn take_challenge(&self, key: &str) -> Result<bool, StoreError> {
        // GETDEL: of two instances spending the same challenge, one gets it.
        let take = cmd("GETDEL", self.keys.challenge(key));
        let text = self.conn.send("take_challenge", Retry::NotSent, Request::Cmd(&take)).await?;
        Ok(self.expiring(text)?.is_some())
    }

    async fn put_consent(
        &self,
        account: &str,
        client_id: &str,
        record: &str,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        self.put_expiring("put_consent", self.keys.consent(account, client_id), record, expires_at).await
    }

    async fn consent(&self, account: &str, client_id: &str) -> Result<Option<String>, StoreError> {
        let get = cmd("GET", self.keys.consent(account, client_id));
        let text = self.conn.send("consent", Retry::Idempotent, Request::Cmd(&get)).await?;
        self.expiring(text)
    }

    async fn put_directory_check(
        &self,
        account: &str,
        check: &DirectoryCheck,
        keep_secs: u64,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(check).map_err(|e| StoreError(format!("directory check: {e}")))?;
        let set = cmd("SET", (self.keys.directory_check(account), json, "EX", keep_secs.max(1)));
        self.conn.send("put_directory_check", Retry::Idempotent, Request::Cmd(&set)).await
    }

    async fn directory_check(&self, account: &str) -> Result<Option<DirectoryCheck>, StoreError> {
        let get = cmd("GET", self.keys.directory_check(account));
        let json: Option<String> = self.conn.send("directory_check", Retry::Idempotent, Request::Cmd(&get)).await?;
        // A record this version cannot read is no record: the grace is an extra, never a reason for a 500.
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    async fn forget_directory_check(&self, account: &str) -> Result<(), StoreError> {
        let del = cmd("DEL", self.keys.directory_check(account));
        self.conn.send("forget_directory_check", Retry::Idempotent, Request::Cmd(&del)).await
    }

    async fn mfa_factors(&self, account: &str) -> Result<Option<String>, StoreError> {
        let get = cmd("GET", self.keys.mfa(account));
        self.conn.send("mfa_factors", Retry::Idempotent, Request::Cmd(&get)).await
    }

    async fn put_mfa_factors(&self, account: &str, sealed: &str) -> Result<(), StoreError> {
        let set = cmd("SET", (self.keys.mfa(account), sealed));
        self.conn.send("put_mfa_factors", Retry::Idempotent, Request::Cmd(&set)).await
    }

    async fn delete_mfa_factors(&self, account: &str) -> Result<bool, StoreError> {
        let del = cmd("DEL", self.keys.mfa(account));
        let n: u64 = self.conn.send("delete_mfa_factors", Retry::Idempotent, Request::Cmd(&del)).await?;
        Ok(n > 0)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let ping = redis::cmd("PING");
        self.conn.send::<String>("ping", Retry::Idempotent, Request::Cmd(&ping)).await.map(drop)
    }
}
