//! A bounded pool of LDAP connections, checked out one request at a time.
//!
//! A checked-out connection ([`Lease`]) goes back to the pool only when the caller says the
//! operation finished cleanly; after an error, a timeout or a cancelled request it is dropped
//! (which closes it), so a connection in an unknown state is never reused. Idle connections the
//! server has closed, and connections older than [`MAX_AGE_SECS`], are replaced on checkout: the
//! pool never hands out a dead connection twice, and after a failover it drifts back to the
//! preferred server.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ldap3::Ldap;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::connect::{Conn, Credentials, Servers};
use crate::directory::Unavailable;

/// Connections are reopened after five minutes: that bounds how long the pool stays on a fallback
/// server once the preferred one is back, and keeps connections younger than most firewalls' idle timeouts.
pub(super) const MAX_AGE_SECS: u64 = 300;

/// Up to `size` connections, each opened with the same `login`.
pub(super) struct Pool {
    /// `search` or `bind`, for logs and errors.
    name: &'static str,
    /// What a fresh connection binds as (the service account); `None` leaves it anonymous.
    login: Option<Credentials>,
    idle: Mutex<Vec<Conn>>,
    /// One permit per connection that may exist: bounds the connections, and queues requests beyond them.
    permits: Semaphore,
}

/// A connection checked out of a [`Pool`]; dropped unless [`Lease::release`]d.
pub(super) struct Lease<'a> {
    pool: &'a Pool,
    conn: Conn,
    /// The connection served an earlier request: if it fails now, it may simply have gone stale.
    pub reused: bool,
    _permit: SemaphorePermit<'a>,
}

impl Pool {
    pub(super) fn new(name: &'static str, size: usize, login: Option<Credentials>) -> Pool {
        Pool { name, login, idle: Mutex::new(Vec::with_capacity(size)), permits: Semaphore::new(size.max(1)) }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Conn>> {
        // The lock is held only for pushes and pops, which cannot leave the list half-changed.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A usable connection: an idle one when there is one, a new one otherwise. Waits at most
    /// `wait` for a free slot when every connection is busy.
    pub(super) async fn get(&self, servers: &Servers, wait: Duration) -> Result<Lease<'_>, Unavailable> {
        let permit = match tokio::time::timeout(wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(Unavailable(format!("the LDAP {} pool is closed", self.name))),
            Err(_) => return Err(Unavailable(format!("every LDAP {} connection stayed busy for {wait:?}", self.name))),
        };
        let now = servers.now();
        let idle = loop {
            let Some(mut conn) = self.idle().pop() else { break None };
            if !conn.ldap.is_closed() && now < conn.born.saturating_add(MAX_AGE_SECS) {
                break Some(conn);
            }
        };
        let (conn, reused) = match idle {
            Some(conn) => (conn, true),
            None => (servers.open(self.login.as_ref()).await?, false),
        };
        Ok(Lease { pool: self, conn, reused, _permit: permit })
    }
}

impl Lease<'_> {
    pub(super) fn ldap(&mut self) -> &mut Ldap {
        &mut self.conn.ldap
    }

    /// The index of the server this connection goes to.
    pub(super) fn server(&self) -> usize {
        self.conn.server
    }

    /// Returns the connection to the pool: only after an operation that finished cleanly.
    pub(super) fn release(self) {
        self.pool.idle().push(self.conn);
    }
}
