//! The one way the store talks to Redis, whatever its shape: one server (`redis_url`), a master found through
//! Sentinel (`sentinel_urls`), or a Redis Cluster (`cluster_urls`). The store sends the same commands, pipelines
//! and scripts to all three; every request is bounded by `[store] timeout_ms` (connecting included), and tried a
//! second time only where that is safe.
//!
//! Connections are made lazily, because an instance that refuses to start while Redis is down is worse behind a
//! load balancer than one that starts and answers 503 until Redis is back. A wrong password or an untrusted
//! certificate, though, is caught at start by [`Conn::check_at_start`]: waiting would not fix those.
//!
//! With `[store] min_replica_acks`, a write that must not be lost is followed by `WAIT n timeout` on the same
//! connection; fewer acknowledgements than asked is an error (503), so an answer never promises what a failover
//! could take back.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, ErrorKind, FromRedisValue, Pipeline, RedisError, RedisResult, ScriptInvocation};

use super::links::{ClusterLink, SentinelLink};
use crate::config::StoreConfig;
use crate::store::StoreError;

/// How the store reaches Redis, chosen by which of `redis_url`, `sentinel_urls`, `cluster_urls` is set.
enum Link {
    /// One server; the connection manager reconnects to the same address.
    Standalone(ConnectionManager),
    /// The master Sentinel names now; asked again after a connection error or a `READONLY` answer.
    Sentinel(SentinelLink),
    /// A cluster; the cluster connection follows slot moves and promoted replicas itself.
    Cluster(ClusterLink),
}

/// The link to Redis (cheap to share by every request) and the bounds on each request.
pub struct Conn {
    link: Link,
    timeout: Duration,
    /// `[store] min_replica_acks`: replicas that must hold a durable write before it is acknowledged.
    min_replica_acks: u64,
}

/// What to send: a command, an atomic pipeline, or a script.
pub enum Request<'a> {
    Cmd(&'a Cmd),
    Pipe(&'a Pipeline),
    Script(&'a ScriptInvocation<'a>),
}

impl Request<'_> {
    async fn send<T: FromRedisValue, C: ConnectionLike + Send>(&self, con: &mut C) -> RedisResult<T> {
        match self {
            Request::Cmd(cmd) => cmd.query_async(con).await,
            Request::Pipe(pipe) => pipe.query_async(con).await,
            // EVALSHA, and after NOSCRIPT (a restarted, empty Redis) SCRIPT LOAD and EVALSHA again.
            Request::Script(script) => script.invoke_async(con).await,
        }
    }
}

/// When a failed attempt may be made once more. The link has started reconnecting by then, so the first
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

/// The store operations (by the names the store gives them) whose writes must survive a failover: sessions,
/// grants, codes, rotations and revocations. Counters and last-sign-in times may be lost.
const DURABLE: &[&str] = &[
    "put_session",
    "end_session",
    "put_code",
    "redeem_code",
    "put_grant",
    "rotate_refresh",
    "revoke_grant",
    "revoke_account_grants",
];

/// Sends `request`, then, for a durable write, `WAIT acks wait_ms` on the same connection.
async fn exchange<T: FromRedisValue, C: ConnectionLike + Send>(
    con: &mut C,
    request: &Request<'_>,
    wait: Option<(u64, u64)>,
) -> RedisResult<T> {
    let value = request.send(con).await?;
    if let Some((acks, wait_ms)) = wait {
        let acked: u64 = redis::cmd("WAIT").arg(acks).arg(wait_ms).query_async(con).await?;
        if acked < acks {
            let detail = format!("{acked} of {acks} replicas acknowledged the write");
            // Not a connection error: the connection is fine (and the write done), only not yet safe.
            return Err(RedisError::from((ErrorKind::Client, "replicas did not acknowledge", detail)));
        }
    }
    Ok(value)
}

impl Conn {
    /// Prepares the link without connecting (call inside a Tokio runtime).
    /// Fails only on what waiting cannot fix: a malformed URL, an unreadable `ca_file`.
    pub fn new(config: &StoreConfig) -> Result<Conn, StoreError> {
        let timeout = Duration::from_millis(config.timeout_ms.max(1));
        let ca = match &config.ca_file {
            None => None,
            Some(path) => {
                Some(std::fs::read(path).map_err(|e| StoreError(format!("store.ca_file {}: {e}", path.display())))?)
            }
        };
        let link = if !config.sentinel_urls.is_empty() {
            Link::Sentinel(SentinelLink::new(config, ca, timeout)?)
        } else if !config.cluster_urls.is_empty() {
            Link::Cluster(ClusterLink::new(&config.cluster_urls, ca, timeout)?)
        } else {
            Link::Standalone(standalone(config, ca, timeout)?)
        };
        Ok(Conn { link, timeout, min_replica_acks: config.min_replica_acks })
    }

    /// `Ok` when Redis answers, and also when it is only unreachable (logged). `Err` when Redis answers but
    /// refuses us (a wrong or missing password, a TLS certificate we do not trust).
    pub async fn check_at_start(&self) -> Result<(), StoreError> {
        let ping = redis::cmd("PING");
        let request = Request::Cmd(&ping);
        let ping = self.attempt::<String>(&request, None);
        match tokio::time::timeout(self.timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if unreachable(&e) => {
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
        // WAIT gets half the request's time, so its shortfall is reported rather than cut off by the timeout.
        let wait = (self.min_replica_acks > 0 && DURABLE.contains(&op))
            .then(|| (self.min_replica_acks, (self.timeout.as_millis() as u64 / 2).max(1)));
        let attempt = async {
            match self.attempt(&request, wait).await {
                Err(e) if retry.allows(&e) => self.attempt(&request, wait).await,
                other => other,
            }
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(result) => result.map_err(|e| StoreError(format!("redis {op}: {e}"))),
            Err(_) => Err(StoreError(format!("redis {op}: no answer within {:?}", self.timeout))),
        }
    }

    /// One try on the link's current connection.
    async fn attempt<T: FromRedisValue>(&self, request: &Request<'_>, wait: Option<(u64, u64)>) -> RedisResult<T> {
        match &self.link {
            Link::Standalone(manager) => exchange(&mut manager.clone(), request, wait).await,
            Link::Sentinel(link) => {
                let mut con = link.connection().await?;
                let result = exchange(&mut con, request, wait).await;
                if let Err(e) = &result {
                    link.after_error(e);
                }
                result
            }
            Link::Cluster(link) => exchange(&mut link.connection().await?, request, wait).await,
        }
    }
}

/// Errors that waiting may fix: nothing answers (yet), or a failover is under way.
fn unreachable(e: &RedisError) -> bool {
    e.is_connection_refusal()
        || e.is_timeout()
        || e.is_connection_dropped()
        || matches!(
            e.kind(),
            ErrorKind::MasterNameNotFoundBySentinel
                | ErrorKind::EmptySentinelList
                | ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(redis::ServerErrorKind::ClusterDown)
        )
}

/// The connection manager for one server at `redis_url`.
fn standalone(config: &StoreConfig, ca: Option<Vec<u8>>, timeout: Duration) -> Result<ConnectionManager, StoreError> {
    let url = config.redis_url.as_deref().ok_or_else(|| StoreError("store.redis_url is not set".into()))?;
    let client = match ca {
        None => Client::open(url),
        Some(pem) => Client::build_with_tls(url, redis::TlsCertificates { client_tls: None, root_cert: Some(pem) }),
    };
    // The redis crate's message names the problem, never the URL (which may hold the password).
    let client = client.map_err(|e| StoreError(format!("store.redis_url: {e}")))?;
    let settings = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_lazy_with_config(client, settings)
        .map_err(|e| StoreError(format!("redis connection manager: {e}")))
}
