//! The one way the store talks to Redis: a lazily connecting, self-reconnecting [`ConnectionManager`], every
//! request bounded by `[store] timeout_ms` (connecting included), and a second attempt only where it is safe.
//!
//! Lazy, because an instance that refuses to start while Redis is down is worse behind a load balancer than one
//! that starts and answers 503 until Redis is back. A wrong password or an untrusted certificate, though, is
//! caught at start by [`Conn::check_at_start`]: waiting would not fix those.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, FromRedisValue, Pipeline, RedisError, RedisResult, ScriptInvocation};

use crate::config::StoreConfig;
use crate::store::StoreError;

/// The connection manager (cheap to clone, shared by every request) and the bound on each request.
pub struct Conn {
    manager: ConnectionManager,
    timeout: Duration,
}

/// What to send: a command, an atomic pipeline, or a script.
pub enum Request<'a> {
    Cmd(&'a Cmd),
    Pipe(&'a Pipeline),
    Script(&'a ScriptInvocation<'a>),
}

impl Request<'_> {
    async fn send<T: FromRedisValue>(&self, con: &mut ConnectionManager) -> RedisResult<T> {
        match self {
            Request::Cmd(cmd) => cmd.query_async(con).await,
            Request::Pipe(pipe) => pipe.query_async(con).await,
            // EVALSHA, and after NOSCRIPT (a restarted, empty Redis) SCRIPT LOAD and EVALSHA again.
            Request::Script(script) => script.invoke_async(con).await,
        }
    }
}

/// When a failed attempt may be made once more. The manager has started reconnecting by then, so the first
/// request after Redis returns succeeds instead of failing.
#[derive(Clone, Copy)]
pub enum Retry {
    /// Only when the request surely never left (connection refused): spending a code, rotating a refresh token,
    /// revoking or counting must not happen twice.
    NotSent,
    /// Also when the connection broke under the request: reads, and writes that leave the same state when run twice.
    Idempotent,
}

impl Retry {
    fn allows(self, e: &RedisError) -> bool {
        e.is_connection_refusal() || (matches!(self, Retry::Idempotent) && e.is_connection_dropped())
    }
}

impl Conn {
    /// Prepares the connection without connecting (call inside a Tokio runtime).
    /// Fails only on what waiting cannot fix: a malformed `redis_url`, an unreadable `ca_file`.
    pub fn new(config: &StoreConfig) -> Result<Conn, StoreError> {
        let url = config.redis_url.as_deref().ok_or_else(|| StoreError("store.redis_url is not set".into()))?;
        let client = match &config.ca_file {
            None => Client::open(url),
            Some(path) => {
                let pem =
                    std::fs::read(path).map_err(|e| StoreError(format!("store.ca_file {}: {e}", path.display())))?;
                Client::build_with_tls(url, redis::TlsCertificates { client_tls: None, root_cert: Some(pem) })
            }
        };
        // The redis crate's message names the problem, never the URL (which may hold the password).
        let client = client.map_err(|e| StoreError(format!("store.redis_url: {e}")))?;
        let timeout = Duration::from_millis(config.timeout_ms.max(1));
        let settings = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client, settings)
            .map_err(|e| StoreError(format!("redis connection manager: {e}")))?;
        Ok(Conn { manager, timeout })
    }

    /// `Ok` when Redis answers, and also when it is only unreachable (logged). `Err` when Redis answers but
    /// refuses us (a wrong or missing password, a TLS certificate we do not trust).
    pub async fn check_at_start(&self) -> Result<(), StoreError> {
        let ping = async { redis::cmd("PING").query_async::<String>(&mut self.manager.clone()).await };
        match tokio::time::timeout(self.timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_connection_refusal() || e.is_timeout() || e.is_connection_dropped() => {
                tracing::warn!(error = %e, "redis is not reachable; serving 503 until it is");
                Ok(())
            }
            Ok(Err(e)) => Err(StoreError(format!("redis refused the connection: {e}"))),
            Err(_) => {
                tracing::warn!(timeout = ?self.timeout, "redis did not answer; serving 503 until it does");
                Ok(())
            }
        }
    }

    /// Sends `request` (named `op` in errors) within the timeout, once more when `retry` allows.
    pub async fn send<T: FromRedisValue>(
        &self,
        op: &'static str,
        retry: Retry,
        request: Request<'_>,
    ) -> Result<T, StoreError> {
        let attempt = async {
            match request.send(&mut self.manager.clone()).await {
                Err(e) if retry.allows(&e) => request.send(&mut self.manager.clone()).await,
                other => other,
            }
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(result) => result.map_err(|e| StoreError(format!("redis {op}: {e}"))),
            Err(_) => Err(StoreError(format!("redis {op}: no answer within {:?}", self.timeout))),
        }
    }
}
