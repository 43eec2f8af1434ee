//! Redis Sentinel (issue 15): the store finds the master through three sentinels and follows a failover without
//! a restart. The master is killed (`SIGKILL`) under a running load of sign-ins and refreshes: sign-ins work again
//! on the promoted replica within 15 s, no request ever gets a 500, and with `min_replica_acks = 1` every session
//! and refresh token acknowledged before the kill still works after it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use danang_sso::config::{Config, StoreKind};
use openidconnect::{OAuth2TokenResponse, RefreshToken};

use crate::app::{TestApp, http, test_config};
use crate::browser::{Browser, PASSWORD};
use crate::harness::{MASTER_NAME, SentinelSet};
use crate::rp::Rp;

/// Demo accounts signed in before the kill; `dungnv1` is the refresh load's own.
const PEOPLE: &[&str] = &["dungnv", "huongtt", "haltt", "thangpd", "anhvn"];

fn sentinel_config(set: &SentinelSet, min_replica_acks: u64) -> Config {
    let mut config = test_config();
    config.store.kind = StoreKind::Redis;
    config.store.sentinel_urls = set.sentinel_urls.clone();
    config.store.sentinel_master = MASTER_NAME.into();
    config.store.min_replica_acks = min_replica_acks;
    config.store.timeout_ms = 1000;
    config
}

/// Every status the load saw, with what it was doing.
type Seen = Arc<Mutex<Vec<(&'static str, u16)>>>;

/// One whole sign-in (authorize, form, code exchange) that never panics on a refusal: the statuses it met, and
/// the refresh token when it got that far.
async fn attempt_sign_in(app: &str, portal: &Rp, user: &str, seen: &Seen) -> Option<RefreshToken> {
    let record = |what, status: u16| seen.lock().unwrap().push((what, status));
    let pending = portal.start(&["offline_access"], &[]);
    let mut browser = Browser::new();
    let mut page = browser.get(&pending.url).await;
    record("authorize", page.status.as_u16());
    if page.is_login_form() {
        page = browser.sign_in(app, &page, user, PASSWORD).await;
        record("login", page.status.as_u16());
    }
    let code = page.redirect_param("code")?;
    let response = http()
        .post(format!("{app}/token"))
        .basic_auth("portal", Some("portal-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &portal.redirect),
            ("code_verifier", pending.verifier.secret()),
        ])
        .send()
        .await
        .unwrap();
    record("code", response.status().as_u16());
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    body["refresh_token"].as_str().map(|t| RefreshToken::new(t.into()))
}

/// One refresh: the status and, on success, the next token.
pub async fn attempt_refresh(app: &str, token: &RefreshToken) -> (u16, Option<RefreshToken>) {
    let response = http()
        .post(format!("{app}/token"))
        .basic_auth("portal", Some("portal-secret"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token.secret())])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["refresh_token"].as_str().map(|t| RefreshToken::new(t.into())))
}

async fn failover_under_load(min_replica_acks: u64) {
    let mut set = SentinelSet::start();
    let app = TestApp::start_with(sentinel_config(&set, min_replica_acks)).await;
    let portal = Rp::demo(&app.url, "portal").await;

    // Signed in and refreshed before the kill: each answer came back, so each write was acknowledged.
    let mut before = Vec::new();
    for user in PEOPLE {
        let mut browser = Browser::new();
        let (tokens, _) = portal.sign_in(&app.url, &mut browser, user, &["offline_access"]).await;
        let (status, token) = attempt_refresh(&app.url, tokens.refresh_token().unwrap()).await;
        assert_eq!(status, 200, "the refresh before the kill");
        before.push((user, browser, token.unwrap()));
    }

    // The load: two sign-in loops and a refresh chain, running across the kill.
    let seen: Seen = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for user in ["haltt", "thangpd"] {
        let (app, seen, stop, portal) =
            (app.url.clone(), seen.clone(), stop.clone(), Rp::demo(&app.url, "portal").await);
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                attempt_sign_in(&app, &portal, user, &seen).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    {
        let (url, seen, stop) = (app.url.clone(), seen.clone(), stop.clone());
        let mut token = attempt_sign_in(&app.url, &portal, "dungnv1", &seen).await.expect("the load's own token");
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (status, next) = attempt_refresh(&url, &token).await;
                seen.lock().unwrap().push(("refresh", status));
                if let Some(next) = next {
                    token = next;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let old_master = set.master.port;
    set.master.stop(); // SIGKILL
    let killed = Instant::now();
    if min_replica_acks > 0 {
        // As an operator brings back the dead box: once Sentinel has promoted the replica, the old master returns
        // (empty) as the new master's replica, so writes can be acknowledged by a replica again.
        while set.master_port() == Some(old_master) {
            assert!(killed.elapsed() < Duration::from_secs(15), "no failover within 15 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        set.master.restart_as_replica_of(set.replica.port);
    }
    let probe_seen: Seen = Arc::default();
    loop {
        if attempt_sign_in(&app.url, &portal, "anhvn", &probe_seen).await.is_some() {
            break;
        }
        assert!(killed.elapsed() < Duration::from_secs(15), "sign-ins do not work 15 s after the kill");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let back_after = killed.elapsed();
    assert_eq!(set.master_port(), Some(set.replica.port), "the replica was promoted");
    // A little more load on the new master, then stop it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }

    let mut statuses = seen.lock().unwrap().clone();
    statuses.extend(probe_seen.lock().unwrap().iter().copied());
    assert!(statuses.iter().all(|(_, s)| *s != 500), "no 500 at any time: {statuses:?}");
    assert!(statuses.iter().any(|(_, s)| *s == 503), "the failover was felt (503 temporarily_unavailable)");
    eprintln!("sign-ins back {back_after:?} after the kill; {} load requests", statuses.len());

    if min_replica_acks > 0 {
        let vanban = Rp::demo(&app.url, "vanban").await;
        for (user, mut browser, token) in before {
            let pending = vanban.start(&[], &[]);
            let page = browser.get(&pending.url).await;
            assert!(
                page.redirect_param("code").is_some(),
                "{user}'s session survived: {} {:?}",
                page.status,
                page.location
            );
            let (status, _) = attempt_refresh(&app.url, &token).await;
            assert_eq!(status, 200, "{user}'s refresh token survived the failover");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_master_is_replaced_and_acknowledged_writes_survive() {
    failover_under_load(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_return_on_the_promoted_replica_without_a_restart() {
    failover_under_load(0).await;
}

#[tokio::test]
async fn a_write_no_replica_acknowledges_is_a_503_not_a_promise() {
    let redis = crate::harness::Redis::start();
    let mut config = test_config();
    config.store.kind = StoreKind::Redis;
    config.store.redis_url = Some(redis.url.clone());
    config.store.min_replica_acks = 1;
    config.store.timeout_ms = 600;
    let app = TestApp::start_with(config).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let form = browser.get(&portal.start(&[], &[]).url).await;
    let page = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    assert_eq!(page.status, 503, "a lone Redis cannot give the replica acknowledgement asked for");
    assert!(!browser.has_session());
}
