//! Redis going away: requests that need it get a clear 503 in bounded time (JSON for programs, the Vietnamese
//! page for people), nothing panics, and the same running instance works again as soon as Redis is back.

use std::time::{Duration, Instant};

use danang_sso::clock::Clock;
use danang_sso::config::{StoreConfig, StoreKind};
use danang_sso::i18n::Lang;
use danang_sso::store::Store;
use danang_sso::store::redis::RedisStore;
use openidconnect::OAuth2TokenResponse;

use super::{app_config, refresh};
use crate::app::TestApp;
use crate::browser::{Browser, PASSWORD};
use crate::harness::Redis;
use crate::rp::Rp;

/// How long the tests let a store operation take; a 503 must come well within this plus request overhead.
const TIMEOUT_MS: u64 = 1000;

fn config(redis: &Redis, prefix: &str) -> danang_sso::config::Config {
    let mut config = app_config(redis, prefix);
    config.store.timeout_ms = TIMEOUT_MS;
    config
}

#[tokio::test]
async fn redis_stopping_gives_503s_and_its_return_heals_the_running_instance() {
    let mut redis = Redis::start();
    let app = TestApp::start_with(config(&redis, "down:")).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &["offline_access"]).await;
    let refresh_token = tokens.refresh_token().unwrap().secret().clone();
    let store_down = Lang::Vi.texts().store_down;

    redis.stop();
    let started = Instant::now();
    let reply = refresh(&app.url, "portal", &refresh_token).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.json["error"], "temporarily_unavailable");
    assert!(reply.headers.contains_key("retry-after"));
    assert!(started.elapsed() < Duration::from_millis(TIMEOUT_MS + 1500), "answered in bounded time");

    let page = browser.get(&portal.start(&[], &[]).url).await;
    assert_eq!(page.status, 503, "the authorize page needs the session: {}", page.body);
    assert!(page.body.contains(store_down) && page.body.contains(r#"lang="vi""#), "{}", page.body);

    let mut newcomer = Browser::new();
    let form = newcomer.get(&portal.start(&[], &[]).url).await;
    assert!(form.is_login_form(), "the form itself needs no store");
    let page = newcomer.sign_in(&app.url, &form, "huongtt", PASSWORD).await;
    assert_eq!(page.status, 503, "signing in needs the store");
    assert!(page.body.contains(store_down), "{}", page.body);

    // Redis stays away long enough for the reconnection attempts those requests started to give up.
    tokio::time::sleep(Duration::from_secs(1)).await;
    redis.restart();
    // Redis came back empty: the very first request works, finds no session, and shows the form.
    let pending = portal.start(&["offline_access"], &[]);
    let form = browser.get(&pending.url).await;
    assert!(form.is_login_form(), "healed without restarting danang-sso: {} {}", form.status, form.body);
    let back = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    let tokens = portal.exchange(pending, &back).await;
    let again = refresh(&app.url, "portal", tokens.refresh_token().unwrap().secret()).await;
    assert_eq!(again.status, 200, "{}", again.json);
}

#[tokio::test]
async fn the_service_starts_while_redis_is_down_and_serves_once_it_is_up() {
    let mut redis = Redis::start();
    redis.stop();
    let app = TestApp::start_with(config(&redis, "late:")).await;
    let discovery =
        crate::app::http().get(format!("{}/.well-known/openid-configuration", app.url)).send().await.unwrap();
    assert_eq!(discovery.status(), 200, "what needs no store is served");
    // A code exchange needs the store (a made-up refresh token does not: its MAC is refused first).
    let form =
        [("grant_type", "authorization_code"), ("code", "a-code"), ("redirect_uri", "http://127.0.0.1:8081/callback")];
    let reply = super::token(&app.url, "portal", &form).await;
    assert_eq!((reply.status.as_u16(), reply.json["error"].as_str()), (503, Some("temporarily_unavailable")));

    redis.restart();
    let portal = Rp::demo(&app.url, "portal").await;
    let (tokens, _) = portal.sign_in(&app.url, &mut Browser::new(), "skhdt", &["offline_access"]).await;
    let again = refresh(&app.url, "portal", tokens.refresh_token().unwrap().secret()).await;
    assert_eq!(again.status, 200, "{}", again.json);
}

#[tokio::test]
async fn a_quick_redis_restart_costs_no_request_a_503() {
    let mut redis = Redis::start();
    let app = TestApp::start_with(config(&redis, "quick:")).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &["offline_access"]).await;
    // Back before any request noticed: the first one finds the old connection broken, and its read is retried.
    redis.stop();
    redis.restart();
    let form = browser.get(&portal.start(&[], &[]).url).await;
    assert!(form.is_login_form(), "the empty Redis has no session, and says so: {} {}", form.status, form.body);
    let reply = refresh(&app.url, "portal", tokens.refresh_token().unwrap().secret()).await;
    assert_eq!((reply.status.as_u16(), reply.json["error"].as_str()), (400, Some("invalid_grant")));
}

/// A Redis that accepts connections but never answers (hung, or a black-holing firewall) must not hang requests.
#[tokio::test]
async fn a_redis_that_never_answers_costs_at_most_the_timeout() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let config = StoreConfig {
        kind: StoreKind::Redis,
        redis_url: Some(format!("redis://{address}")),
        key_prefix: "silent:".into(),
        timeout_ms: 300,
        ca_file: None,
        ..StoreConfig::default()
    };
    let store = RedisStore::new(&config, Clock::default()).expect("a redis store");
    let started = Instant::now();
    store.check_at_start().await.expect("a silent Redis is waited for, not fatal");
    let error = store.session("any").await.expect_err("no answer is an error");
    assert!(started.elapsed() < Duration::from_millis(2 * 300 + 500), "bounded: {:?}", started.elapsed());
    assert!(error.0.contains("redis session"), "{error}");
}
