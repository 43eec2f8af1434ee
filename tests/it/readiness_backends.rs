//! `/readyz` over the real backends: 503 naming the directory while slapd is stopped, naming the store while
//! redis-server is stopped, and 200 again when each comes back, without restarting the service.
//!
//! Needs the LDAP directory and the Redis store adapters (`directory.kind = "ldap"`, `store.kind = "redis"`),
//! which land from their own branches: enable with `mod readiness_backends;` in `main.rs` once both are merged.

use std::time::{Duration, Instant};

use danang_sso::config::{DirectoryKind, LdapConfig, StoreKind};

use crate::app::{TestApp, test_config};
use crate::harness::{Redis, Slapd};
use crate::readiness::get_json;

/// How long a backend that came back may take to be seen again; only a broken run waits this long.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(30);

async fn readyz(app: &TestApp) -> (u16, serde_json::Value) {
    get_json(&format!("{}/readyz", app.url)).await
}

/// Asks `/readyz` until it answers 200 (a backend reconnects on its own schedule).
async fn until_ready(app: &TestApp) {
    let deadline = Instant::now() + RECOVERY_DEADLINE;
    loop {
        let (status, body) = readyz(app).await;
        if status == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "still not ready after the backend returned: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_down(status: u16, body: &serde_json::Value, down: &str, up: &str) {
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert!(body["checks"][down].as_str().is_some_and(|c| c.starts_with("down: ")), "{body}");
    assert_eq!(body["checks"][up], "ok", "{body}");
    assert_eq!(body["checks"]["keys"], "ok", "{body}");
}

#[tokio::test]
async fn readyz_follows_slapd_stopping_and_returning() {
    let mut slapd = Slapd::start();
    let mut config = test_config();
    config.directory.kind = DirectoryKind::Ldap;
    config.ldap = LdapConfig {
        urls: vec![slapd.url.clone()],
        bind_dn: Some(slapd.service_dn.clone()),
        bind_password: Some(slapd.service_password.clone()),
        base_dn: slapd.base_dn.clone(),
        ..LdapConfig::default()
    };
    let app = TestApp::start_with(config).await;
    assert_eq!(readyz(&app).await.0, 200);

    slapd.stop();
    let (status, body) = readyz(&app).await;
    assert_down(status, &body, "directory", "store");

    slapd.restart();
    // Past the adapter's pause before retrying a server that failed (it reads the service's clock).
    app.clock.advance(300);
    until_ready(&app).await;
}

#[tokio::test]
async fn readyz_follows_redis_stopping_and_returning() {
    let mut redis = Redis::start();
    let mut config = test_config();
    config.store.kind = StoreKind::Redis;
    config.store.redis_url = Some(redis.url.clone());
    config.store.key_prefix = "readiness:".into();
    let app = TestApp::start_with(config).await;
    assert_eq!(readyz(&app).await.0, 200);

    redis.stop();
    let (status, body) = readyz(&app).await;
    assert_down(status, &body, "store", "directory");

    redis.restart();
    until_ready(&app).await;
}
