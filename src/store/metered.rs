//! A [`Store`] that times every call to the real one and counts its failures, for `/metrics`.
//!
//! Wrapping the adapter keeps the instruments out of both the protocol and the Redis code. The operation
//! counts double as activity figures: `put_session` is sessions started, `end_session` sessions ended.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use super::{AuthCode, Grant, Redemption, Rotation, Session, Store, StoreError};
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

    async fn end_session(&self, id: &str) -> Result<Option<(Session, Vec<Grant>)>, StoreError> {
        self.timed("end_session", self.inner.end_session(id)).await
    }

    async fn put_code(&self, code_hash: &str, code: &AuthCode) -> Result<(), StoreError> {
        self.timed("put_code", self.inner.put_code(code_hash, code)).await
    }

    async fn redeem_code(&self, code_hash: &str) -> Result<Redemption, StoreError> {
        self.timed("redeem_code", self.inner.redeem_code(code_hash)).await
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

    async fn record_sign_in(&self, account: &str, at: u64) -> Result<(), StoreError> {
        self.timed("record_sign_in", self.inner.record_sign_in(account, at)).await
    }

    async fn last_sign_ins(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.timed("last_sign_ins", self.inner.last_sign_ins()).await
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
}
