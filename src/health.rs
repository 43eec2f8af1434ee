//! Liveness and readiness, for load balancers and orchestrators.
//!
//! Alive means the process answers at all (`/healthz`). Ready (`/readyz`) means it can sign people in now: the
//! directory and the store answer a ping and a signing key is loaded. Each ping is bounded by a timeout, so a
//! hung backend makes the instance unready quickly instead of hanging the probe.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use crate::keys::KeyRing;
use crate::oidc::Provider;

/// How long a readiness probe waits for the directory or the store: well under a load balancer's usual
/// probe timeout, well over a healthy ping.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// What `/readyz` answers: `status` is `ok` or `unavailable`; each check is `ok` or `down: why`.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub status: &'static str,
    pub checks: BTreeMap<&'static str, String>,
}

impl Readiness {
    /// Whether every check is `ok`.
    pub fn is_ready(&self) -> bool {
        self.status == "ok"
    }
}

/// Pings the directory and the store at once (each within `timeout`) and looks at the keys.
pub async fn readiness(provider: &Provider, timeout: Duration) -> Readiness {
    let (directory, store) =
        tokio::join!(check(timeout, provider.directory.ping()), check(timeout, provider.store.ping()));
    let checks = BTreeMap::from([("directory", directory), ("store", store), ("keys", keys(&provider.keys))]);
    let status = if checks.values().all(|c| c == "ok") { "ok" } else { "unavailable" };
    Readiness { status, checks }
}

async fn check<E: Display>(timeout: Duration, ping: impl Future<Output = Result<(), E>>) -> String {
    match tokio::time::timeout(timeout, ping).await {
        Ok(Ok(())) => "ok".into(),
        Ok(Err(e)) => format!("down: {e}"),
        Err(_) => format!("down: no answer within {} ms", timeout.as_millis()),
    }
}

/// Ready to sign when the loaded set has a key of the default algorithm.
fn keys(ring: &KeyRing) -> String {
    let set = ring.current();
    let alg = set.default_alg();
    if set.keys().iter().any(|k| k.alg == alg) {
        "ok".into()
    } else {
        format!("down: no {} signing key loaded", alg.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_ping_that_never_answers_is_down_after_the_timeout() {
        let hung = std::future::pending::<Result<(), String>>();
        assert_eq!(check(Duration::from_millis(20), hung).await, "down: no answer within 20 ms");
        let refused = async { Err::<(), _>("connection refused") };
        assert_eq!(check(READY_TIMEOUT, refused).await, "down: connection refused");
        assert_eq!(check(READY_TIMEOUT, async { Ok::<(), String>(()) }).await, "ok");
    }
}
