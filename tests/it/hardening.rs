//! A government login under attack: throttling on both axes, anti-forgery, security headers, the audit trail,
//! and incident response through the admin API.

use danang_sso::config::Config;
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use serde_json::{Value, json};

use crate::app::{TestApp, admin_get, admin_post, http, test_config};
use crate::browser::{Browser, PASSWORD, Page};
use crate::rp::Rp;

/// Small thresholds: 2 free failures per mailbox, locked after 4; 3 free per IP, locked after 6.
fn strict() -> Config {
    let mut config = test_config();
    let t = &mut config.throttle;
    (t.account_free_failures, t.account_max_failures, t.ip_free_failures, t.ip_max_failures) = (2, 4, 3, 6);
    (t.base_delay_secs, t.lockout_secs, t.window_secs) = (5, 600, 900);
    config
}

async fn attempt(app: &TestApp, browser: &mut Browser, user: &str, password: &str) -> Page {
    let portal = Rp::demo(&app.url, "portal").await;
    let form = browser.get(&portal.start(&[], &[]).url).await;
    browser.sign_in(&app.url, &form, user, password).await
}

/// What the person sees, reduced to status and message.
fn seen(page: &Page) -> (u16, String) {
    let message = page.body.split("role=\"alert\"").nth(1).and_then(|r| r.split('>').nth(1)).unwrap_or("");
    (page.status.as_u16(), message.split('<').next().unwrap_or("").to_owned())
}

#[tokio::test]
async fn failures_against_one_mailbox_slow_down_then_lock_it_the_same_for_unknown_ones() {
    let mut config = strict();
    (config.throttle.ip_free_failures, config.throttle.ip_max_failures) = (100, 200);
    let app = TestApp::start_with(config).await;
    let mut real = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..5 {
        real.push(seen(&attempt(&app, &mut Browser::new(), "dungnv", "sai").await));
        unknown.push(seen(&attempt(&app, &mut Browser::new(), "khongtontai", "sai").await));
        app.clock.advance(11); // past each short wait (5 s, then 10 s), so the next attempt is judged on its own
    }
    assert_eq!(real, unknown, "an existing and an unknown mailbox are throttled alike");
    assert_eq!(real[0].0, 200);
    assert!(real[0].1.contains("không đúng"));
    assert_eq!(real[4].0, 429, "locked after 4 failures");
    assert!(real[4].1.contains("Vui lòng đợi 10 phút"), "{:?}", real[4]);

    // The right password during the lockout signs nobody in.
    let mut browser = Browser::new();
    let page = attempt(&app, &mut browser, "dungnv", PASSWORD).await;
    assert_eq!(page.status, 429);
    assert!(!browser.has_session());
    app.clock.advance(601);
    let page = attempt(&app, &mut browser, "dungnv", PASSWORD).await;
    assert_eq!(page.status, 303, "signs in once the lockout is over");
    app.wait_for_audit(1, |l| l["event"] == "lockout" && l["account"] == "dungnv@danang.gov.vn").await;
}

#[tokio::test]
async fn failures_from_one_address_lock_that_address_only_behind_a_trusted_proxy() {
    let mut config = strict();
    config.server.trusted_proxies = vec!["127.0.0.1".into()];
    let app = TestApp::start_with(config).await;
    let from = |ip: &str| {
        let mut b = Browser::new();
        b.extra_headers.push(("x-forwarded-for".into(), ip.into()));
        b
    };
    for i in 0..6 {
        attempt(&app, &mut from("198.51.100.7"), &format!("khach{i}"), "sai").await;
        app.clock.advance(21); // past each short wait (5, 10, 20 s)
    }
    let page = attempt(&app, &mut from("198.51.100.7"), "huongtt", PASSWORD).await;
    assert_eq!(page.status, 429, "the guessing address is locked, whatever mailbox it tries");
    let page = attempt(&app, &mut from("203.0.113.20"), "huongtt", PASSWORD).await;
    assert_eq!(page.status, 303, "another address is not: {:?}", seen(&page));
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::start_with(strict()).await;
    for i in 0..6 {
        let mut b = Browser::new();
        b.extra_headers.push(("x-forwarded-for".into(), format!("198.51.100.{i}")));
        attempt(&app, &mut b, &format!("khach{i}"), "sai").await;
        app.clock.advance(21);
    }
    let page = attempt(&app, &mut Browser::new(), "huongtt", PASSWORD).await;
    assert_eq!(page.status, 429, "all those failures counted against the real peer, 127.0.0.1");
}

#[tokio::test]
async fn a_sign_in_without_the_anti_forgery_value_is_refused() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let form = browser.get(&portal.start(&[], &[]).url).await;
    // Wrong value in the form.
    let mut fields = form.hidden_fields();
    fields.iter_mut().filter(|(k, _)| k == "csrf").for_each(|(_, v)| *v = "x".repeat(43));
    fields.extend([("username".into(), "dungnv".into()), ("password".into(), PASSWORD.into())]);
    let page = browser.post_form(&format!("{}/login", app.url), &fields).await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("Biểu mẫu đăng nhập đã hết hạn") && !browser.has_session());
    // No cookie at all (a cross-site form post).
    browser.drop_cookie("danang_sso_csrf");
    let page = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    assert_eq!(page.status, 403);
    assert!(!browser.has_session());
}

#[tokio::test]
async fn the_login_page_carries_the_security_headers() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let response = http().get(portal.start(&[], &[]).url).send().await.unwrap();
    let h = response.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && !csp.contains("script-src")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    let csrf = h["set-cookie"].to_str().unwrap();
    assert!(csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"), "{csrf}");
    let big = "x".repeat(100 * 1024);
    let status = http().post(format!("{}/token", app.url)).body(big).send().await.unwrap().status();
    assert_eq!(status, 413, "request bodies are limited");
}

#[tokio::test]
async fn audit_lines_are_json_with_the_documented_fields_and_no_secrets() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    attempt(&app, &mut Browser::new(), "dungnv", "mat-khau-sai-123").await;
    let pending = portal.start(&["offline_access"], &[]);
    let form = browser.get(&pending.url).await;
    let back = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    let code = back.redirect_param("code").unwrap();
    let tokens = portal.exchange(pending, &back).await;
    let refresh = tokens.refresh_token().unwrap().clone();
    portal.client.exchange_refresh_token(&refresh).unwrap().request_async(&portal.http).await.unwrap();
    let _ = portal.client.exchange_refresh_token(&refresh).unwrap().request_async(&portal.http).await;
    let hint = tokens.id_token().unwrap().to_string();
    browser.get(&format!("{}/logout?id_token_hint={hint}", app.url)).await;
    let lines = app.wait_for_audit(1, |l| l["event"] == "logout").await;
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    for expected in ["sign_in_failure", "sign_in_success", "token_issued", "refresh_reuse_detected", "logout"] {
        assert!(events.contains(&expected), "{expected} in {events:?}");
    }
    for line in &lines {
        assert!(line["time"].as_str().is_some_and(|t| t.ends_with('Z')) && line["instance"].is_string());
        assert_eq!(line["ip"], "127.0.0.1");
    }
    let failure = lines.iter().find(|l| l["event"] == "sign_in_failure").unwrap();
    assert_eq!(
        (failure["reason"].as_str(), failure["account"].as_str()),
        (Some("wrong_password"), Some("dungnv@danang.gov.vn"))
    );
    let text = std::fs::read_to_string(app.audit_path.as_ref().unwrap()).unwrap();
    for secret in [
        PASSWORD,
        "mat-khau-sai-123",
        code.as_str(),
        tokens.access_token().secret().as_str(),
        refresh.secret().as_str(),
        hint.as_str(),
        "portal-secret",
    ] {
        assert!(!text.contains(secret), "the audit trail must not contain a secret");
    }
    let cookie = browser.cookie_header();
    assert!(cookie.split("; ").all(|c| !text.contains(c.split('=').nth(1).unwrap_or("-"))));
}

#[tokio::test]
async fn the_admin_api_ends_every_session_and_token_of_an_account() {
    let port = crate::harness::free_port();
    let mut config = test_config();
    config.admin.listen = Some(format!("127.0.0.1:{port}"));
    config.admin.token = Some("operator-token-of-the-it-centre-0123456789".into());
    let app = TestApp::start_with(config).await;
    let admin = format!("http://127.0.0.1:{port}/admin");
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &["offline_access"]).await;

    let denied = http().get(format!("{admin}/sessions?account=dungnv")).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    let listed: Value =
        admin_get(format!("{admin}/sessions?account=dungnv"), "operator-token-of-the-it-centre-0123456789").await;
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1);
    let done: Value = admin_post(
        format!("{admin}/sessions/revoke"),
        "operator-token-of-the-it-centre-0123456789",
        json!({"account": "dungnv@danang.gov.vn", "operator": "it-centre"}),
    )
    .await;
    assert_eq!(done, json!({"sessions": 1, "grants": 0}), "the session's grant went with the session");

    let pending = portal.start(&[], &[("prompt", "none")]);
    assert_eq!(browser.get(&pending.url).await.redirect_param("error").as_deref(), Some("login_required"));
    let refresh = portal.client.exchange_refresh_token(tokens.refresh_token().unwrap()).unwrap();
    let refused = refresh.request_async(&portal.http).await;
    assert_eq!(
        crate::flow_errors::token_error(refused),
        openidconnect::core::CoreErrorResponseType::InvalidGrant,
        "the refresh token is revoked"
    );
    let lines = app.wait_for_audit(1, |l| l["event"] == "session_revoked").await;
    let revoked = lines.into_iter().find(|l| l["event"] == "session_revoked").expect("audited");
    assert_eq!(revoked["operator"], "admin-api:it-centre");
}
