//! Security across instances: a logout, a lockout and an operator's revocation on one instance hold on all.

use std::process::Command;

use openidconnect::{OAuth2TokenResponse, TokenResponse};

use super::app_config;
use crate::app::{TestApp, keys_dir};
use crate::browser::{Browser, PASSWORD};
use crate::harness::Redis;
use crate::rp::Rp;

#[tokio::test]
async fn logging_out_on_one_instance_ends_the_session_on_the_other() {
    let redis = Redis::start();
    let a = TestApp::start_with(app_config(&redis, "lo:")).await;
    let b = TestApp::start_with(app_config(&redis, "lo:")).await;
    let mut browser = Browser::new();
    let (tokens, _) = Rp::demo(&a.url, "portal").await.sign_in(&a.url, &mut browser, "haltt", &[]).await;
    let vanban_b = Rp::demo(&b.url, "vanban").await;
    assert_eq!(browser.get(&vanban_b.start(&[], &[("prompt", "none")]).url).await.status, 303);

    let hint = tokens.id_token().unwrap().to_string();
    let mut same_browser_elsewhere = Browser::new();
    same_browser_elsewhere.copy_cookies_from(&browser);
    browser.get(&format!("{}/logout?id_token_hint={hint}", a.url)).await;
    let page = same_browser_elsewhere.get(&vanban_b.start(&[], &[("prompt", "none")]).url).await;
    assert_eq!(page.redirect_param("error").as_deref(), Some("login_required"), "B no longer knows the session");
}

#[tokio::test]
async fn a_lockout_on_one_instance_holds_on_the_other() {
    let redis = Redis::start();
    let strict = || {
        let mut config = app_config(&redis, "lock:");
        let t = &mut config.throttle;
        (t.account_free_failures, t.account_max_failures, t.base_delay_secs, t.lockout_secs) = (4, 4, 0, 600);
        config
    };
    let (a, b) = (TestApp::start_with(strict()).await, TestApp::start_with(strict()).await);
    let portal_a = Rp::demo(&a.url, "portal").await;
    for _ in 0..4 {
        let mut browser = Browser::new();
        let form = browser.get(&portal_a.start(&[], &[]).url).await;
        let page = browser.sign_in(&a.url, &form, "thangpd", "doan-mo").await;
        assert_eq!(page.status, 200, "free failures on A");
    }
    let portal_b = Rp::demo(&b.url, "portal").await;
    let mut browser = Browser::new();
    let form = browser.get(&portal_b.start(&[], &[]).url).await;
    let page = browser.sign_in(&b.url, &form, "thangpd", PASSWORD).await;
    assert_eq!(page.status, 429, "B refuses even the right password: the counters are shared");
    assert!(!browser.has_session());
}

#[tokio::test]
async fn the_sessions_command_revokes_an_account_on_every_instance() {
    let redis = Redis::start();
    let a = TestApp::start_with(app_config(&redis, "ops:")).await;
    let portal = Rp::demo(&a.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&a.url, &mut browser, "huongtt", &["offline_access"]).await;

    let dir = std::env::temp_dir().join(format!("danang-sso-sessions-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "[keys]\ndir = {keys:?}\n\n[store]\nkind = \"redis\"\nredis_url = \"{url}\"\nkey_prefix = \"ops:\"\n",
        keys = keys_dir().display().to_string(),
        url = redis.url,
    );
    std::fs::write(dir.join("config.toml"), config).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_danang-sso"))
            .args(args)
            .arg("--config")
            .arg(dir.join("config.toml"))
            .env("USER", "it-centre")
            .output()
            .expect("run danang-sso");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let listed = run(&["sessions", "list", "--account", "huongtt"]);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("huongtt@danang.gov.vn"));
    let revoked = run(&["sessions", "revoke", "--account", "huongtt@danang.gov.vn"]);
    assert!(revoked.contains("ended 1 session(s)"), "{revoked}");
    assert!(revoked.contains("\"operator\":\"cli:it-centre\""), "the command writes its own audit line: {revoked}");

    let page = browser.get(&portal.start(&[], &[("prompt", "none")]).url).await;
    assert_eq!(page.redirect_param("error").as_deref(), Some("login_required"));
    let refresh = portal.client.exchange_refresh_token(tokens.refresh_token().unwrap()).unwrap();
    let refused = refresh.request_async(&portal.http).await;
    assert_eq!(
        crate::flow_errors::token_error(refused),
        openidconnect::core::CoreErrorResponseType::InvalidGrant,
        "the refresh token is revoked"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
