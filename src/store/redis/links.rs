//! The two links that are more than one server: a master found through Sentinel, and a Redis Cluster.
//! Both connect on first use (a store that is down at start is a 503, not a failed start) and keep one
//! multiplexed connection that every request shares.

use std::sync::Mutex;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelServerType};
use redis::{AsyncConnectionConfig, ErrorKind, RedisError, RedisResult, ServerErrorKind};

use crate::config::StoreConfig;
use crate::store::StoreError;

/// The master that Sentinel names. After a connection error, or a `READONLY` answer from a server that has
/// become a replica, the connection is dropped, so the next request asks Sentinel again and follows a failover
/// without a restart.
pub struct SentinelLink {
    /// Asked one request at a time (it keeps connections to the sentinels).
    sentinel: tokio::sync::Mutex<SentinelClient>,
    current: Mutex<Option<MultiplexedConnection>>,
    config: AsyncConnectionConfig,
}

impl SentinelLink {
    pub fn new(config: &StoreConfig, ca: Option<Vec<u8>>, timeout: Duration) -> Result<SentinelLink, StoreError> {
        if ca.is_some() {
            return Err(StoreError("store.ca_file is not supported with store.sentinel_urls".into()));
        }
        let urls: Vec<&str> = config.sentinel_urls.iter().map(String::as_str).collect();
        // The redis crate's message names the problem, never the URL (which may hold a password).
        let sentinel = SentinelClient::build(urls, &config.sentinel_master, None, SentinelServerType::Master)
            .map_err(|e| StoreError(format!("store.sentinel_urls: {e}")))?;
        let config =
            AsyncConnectionConfig::new().set_connection_timeout(Some(timeout)).set_response_timeout(Some(timeout));
        Ok(SentinelLink { sentinel: tokio::sync::Mutex::new(sentinel), current: Mutex::new(None), config })
    }

    /// The connection to the master, asking Sentinel for it when there is none.
    pub async fn connection(&self) -> RedisResult<MultiplexedConnection> {
        if let Some(con) = self.cached() {
            return Ok(con);
        }
        let mut sentinel = self.sentinel.lock().await;
        // Another request may have connected while this one waited for the lock.
        if let Some(con) = self.cached() {
            return Ok(con);
        }
        let client = sentinel.async_get_client().await?;
        let con = client.get_multiplexed_async_connection_with_config(&self.config).await?;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(con.clone());
        Ok(con)
    }

    /// Forgets the connection when `e` says the master may have changed.
    pub fn after_error(&self, e: &RedisError) {
        let moved = matches!(
            e.kind(),
            ErrorKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown | ServerErrorKind::BusyLoading)
        );
        if moved || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout() || e.is_io_error() {
            tracing::warn!(error = %e, "redis master lost; asking Sentinel again");
            *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    fn cached(&self) -> Option<MultiplexedConnection> {
        self.current.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A Redis Cluster: the cluster connection routes each command to the master of its key's slot and follows
/// `MOVED`, slot changes and promoted replicas itself.
pub struct ClusterLink {
    client: ClusterClient,
    current: tokio::sync::Mutex<Option<ClusterConnection>>,
}

impl ClusterLink {
    pub fn new(urls: &[String], ca: Option<Vec<u8>>, timeout: Duration) -> Result<ClusterLink, StoreError> {
        let mut builder = ClusterClient::builder(urls.iter().map(String::as_str))
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .retries(2);
        if let Some(pem) = ca {
            builder = builder.certs(redis::TlsCertificates { client_tls: None, root_cert: Some(pem) });
        }
        let client = builder.build().map_err(|e| StoreError(format!("store.cluster_urls: {e}")))?;
        Ok(ClusterLink { client, current: tokio::sync::Mutex::new(None) })
    }

    /// The cluster connection, made on first use.
    pub async fn connection(&self) -> RedisResult<ClusterConnection> {
        let mut current = self.current.lock().await;
        if let Some(con) = current.as_ref() {
            return Ok(con.clone());
        }
        let con = self.client.get_async_connection().await?;
        *current = Some(con.clone());
        Ok(con)
    }
}
