//! A [`Directory`] that times every call to the real one and counts its failures, for `/metrics`.
//!
//! Wrapping the adapter keeps the instruments out of both the protocol and the LDAP code: any adapter,
//! present or future, is measured the same way.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use super::{Directory, Located, Refusal, Unavailable, User};
use crate::telemetry::Metrics;

/// Delegates to `inner`, recording each operation's latency and whether the directory answered.
pub struct Metered {
    inner: Arc<dyn Directory>,
    metrics: Metrics,
}

impl Metered {
    /// Measures `inner` into `metrics`.
    pub fn new(inner: Arc<dyn Directory>, metrics: Metrics) -> Metered {
        Metered { inner, metrics }
    }

    async fn timed<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T, Unavailable>>,
    ) -> Result<T, Unavailable> {
        let started = Instant::now();
        let result = call.await;
        self.metrics.directory_op(op, started.elapsed().as_secs_f64(), result.is_ok());
        result
    }
}

#[async_trait]
impl Directory for Metered {
    async fn authenticate(&self, mail: &str, password: &str) -> Result<Result<User, Refusal>, Unavailable> {
        self.timed("authenticate", self.inner.authenticate(mail, password)).await
    }

    async fn locate(&self, mail: &str) -> Result<Located, Unavailable> {
        self.timed("locate", self.inner.locate(mail)).await
    }

    /// The password check, measured as `authenticate` (with or without its search, it is the sign-in's check).
    async fn check(&self, located: Located, password: &str) -> Result<Result<User, Refusal>, Unavailable> {
        self.timed("authenticate", self.inner.check(located, password)).await
    }

    async fn lookup(&self, mail: &str) -> Result<Result<User, Refusal>, Unavailable> {
        self.timed("lookup", self.inner.lookup(mail)).await
    }

    async fn list(&self) -> Result<Vec<User>, Unavailable> {
        self.timed("list", self.inner.list()).await
    }

    async fn ping(&self) -> Result<(), Unavailable> {
        self.timed("ping", self.inner.ping()).await
    }
}
