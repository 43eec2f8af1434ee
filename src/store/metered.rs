//! A [`Store`] that times every call to the real one and counts its failures, for `/metrics`.
//!
//! Wrapping the adapter keeps the instruments out of both the protocol and the Redis code. The operation
//! counts double as activity figures: `put_session` is sessions started, `end_session` sessions ended.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use super::{AuthCode, DirectoryCheck, Grant, Limit, Redemption, Reservation, Rotation, Session, Store, StoreError};
use crate::directory::User;
use crate::telemetry::Metrics;

/// Delegates to `inner`, recording each operation's latency and whether the store answered.
pub struct Metered {
    inner: Arc<dyn Store>,
    metrics: Metrics,
}

impl Metered {
    /// Measures `inner` into `metrics`.
    pub fn new(inner: Arc<dyn Store>, metrics: Metrics) -> Metered {
        Metered { inner, metrics }
    }

    async fn timed<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = call.await;
        self.metrics.store_op(op, started.elapsed().as_secs_f64(), result.is_ok());
        result
    }
}

#[async_trait]
impl Store for Metered {
    async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        self.timed("put_session", self.inner.put_session(session)).await
    }

    async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        self.timed("session", self.inner.session(id)).await
    }

    async fn sessions_of(&self, account: &str) -> Result<Vec<Session>, StoreError> {
        self.timed("sessions_of", self.inner.sessions_of(account)).await
    }

    async fn sessions_beyond(&self, account: &str, keep: usize) -> Result<Vec<String>, StoreError> {
        self.timed("sessions_beyond", self.inner.sessions_beyond(account, keep)).await
    }

    async fn end_session(&self, id: &str) -> Result<Option<(Session, Vec<Grant>)>, StoreError> {
        self.timed("end_session", self.inner.end_session(id)).await
    }

    async fn put_session_capped(
        &self,
        session: &Session,
        max: usize,
        pending_secs: u64,
    ) -> Result<Vec<(Session, Vec<Grant>)>, StoreError> {
        self.timed("put_session", self.inner.put_session_capped(session, max, pending_secs)).await
    }

    async fn put_code(&self, code_hash: &str, code: &AuthCode) -> Result<(), StoreError> {
        self.timed("put_code", self.inner.put_code(code_hash, code)).await
    }

    async fn redeem_code(&self, code_hash: &str) -> Result<Redemption, StoreError> {
        self.timed("redeem_code", self.inner.redeem_code(code_hash)).await
    }

    async fn peek_code(&self, code_hash: &str) -> Result<Redemption, StoreError> {
        self.timed("peek_code", self.inner.peek_code(code_hash)).await
    }

    async fn put_session_grant(&self, grant: &Grant) -> Result<bool, StoreError> {
        self.timed("put_grant", self.inner.put_session_grant(grant)).await
    }

    async fn put_grant(&self, grant: &Grant) -> Result<(), StoreError> {
        self.timed("put_grant", self.inner.put_grant(grant)).await
    }

    async fn grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        self.timed("grant", self.inner.grant(id)).await
    }

    async fn rotate_refresh(
        &self,
        id: &str,
        presented: &str,
        next: &str,
        user: Option<&User>,
    ) -> Result<Rotation, StoreError> {
        self.timed("rotate_refresh", self.inner.rotate_refresh(id, presented, next, user)).await
    }

    async fn revoke_grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        self.timed("revoke_grant", self.inner.revoke_grant(id)).await
    }

    async fn session_grants(&self, sid: &str) -> Result<Vec<Grant>, StoreError> {
        self.timed("session_grants", self.inner.session_grants(sid)).await
    }

    async fn revoke_account_grants(&self, account: &str) -> Result<Vec<Grant>, StoreError> {
        self.timed("revoke_account_grants", self.inner.revoke_account_grants(account)).await
    }

    async fn hit(&self, key: &str, window_secs: u64) -> Result<u64, StoreError> {
        self.timed("hit", self.inner.hit(key, window_secs)).await
    }

    async fn count(&self, key: &str) -> Result<(u64, u64), StoreError> {
        self.timed("count", self.inner.count(key)).await
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        self.timed("reset", self.inner.reset(key)).await
    }

    async fn reserve(&self, key: &str, limit: &Limit) -> Result<Reservation, StoreError> {
        self.timed("reserve", self.inner.reserve(key, limit)).await
    }

    async fn release(&self, key: &str, count: u64, clear: bool) -> Result<(), StoreError> {
        self.timed("release", self.inner.release(key, count, clear)).await
    }

    async fn record_sign_in(&self, account: &str, at: u64) -> Result<(), StoreError> {
        self.timed("record_sign_in", self.inner.record_sign_in(account, at)).await
    }

    async fn last_sign_ins(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.timed("last_sign_ins", self.inner.last_sign_ins()).await
    }

    async fn put_pushed_request(&self, handle_hash: &str, record: &str, expires_at: u64) -> Result<(), StoreError> {
        self.timed("put_pushed_request", self.inner.put_pushed_request(handle_hash, record, expires_at)).await
    }

    async fn take_pushed_request(&self, handle_hash: &str) -> Result<Option<String>, StoreError> {
        self.timed("take_pushed_request", self.inner.take_pushed_request(handle_hash)).await
    }

    async fn put_challenge(&self, key: &str, expires_at: u64) -> Result<(), StoreError> {
        self.timed("put_challenge", self.inner.put_challenge(key, expires_at)).await
    }

    async fn take_challenge(&self, key: &str) -> Result<bool, StoreError> {
        self.timed("take_challenge", self.inner.take_challenge(key)).await
    }

    async fn put_consent(
        &self,
        account: &str,
        client_id: &str,
        record: &str,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        self.timed("put_consent", self.inner.put_consent(account, client_id, record, expires_at)).await
    }

    async fn consent(&self, account: &str, client_id: &str) -> Result<Option<String>, StoreError> {
        self.timed("consent", self.inner.consent(account, client_id)).await
    }

    async fn put_directory_check(
        &self,
        account: &str,
        check: &DirectoryCheck,
        keep_secs: u64,
    ) -> Result<(), StoreError> {
        self.timed("put_directory_check", self.inner.put_directory_check(account, check, keep_secs)).await
    }

    async fn directory_check(&self, account: &str) -> Result<Option<DirectoryCheck>, StoreError> {
        self.timed("directory_check", self.inner.directory_check(account)).await
    }

    async fn forget_directory_check(&self, account: &str) -> Result<(), StoreError> {
        self.timed("forget_directory_check", self.inner.forget_directory_check(account)).await
    }

    async fn mfa_factors(&self, account: &str) -> Result<Option<String>, StoreError> {
        self.timed("mfa_factors", self.inner.mfa_factors(account)).await
    }

    async fn put_mfa_factors(&self, account: &str, sealed: &str) -> Result<(), StoreError> {
        self.timed("put_mfa_factors", self.inner.put_mfa_factors(account, sealed)).await
    }

    async fn delete_mfa_factors(&self, account: &str) -> Result<bool, StoreError> {
        self.timed("delete_mfa_factors", self.inner.delete_mfa_factors(account)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.timed("ping", self.inner.ping()).await
    }

    async fn live_session_count(&self) -> Result<Option<u64>, StoreError> {
        self.timed("live_session_count", self.inner.live_session_count()).await
    }
}
