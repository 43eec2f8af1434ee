//! The journeys of issue 16, through the real HTTP surface and the demo directory.

use serde_json::{Value, json};

use super::*;
use crate::app::http;
use crate::listener::Listener;
use crate::rp::payload;

const REFEDS_MFA: &str = "https://refeds.org/profile/mfa";

/// A browser signed in with the password alone at `portal` (which needs one factor), then sent by `vanban`
/// (which needs two) to the second-factor form. Returns the browser, the pending request and the form.
pub(super) async fn step_up(app: &TestApp, user: &str) -> (Browser, crate::rp::Pending, Page) {
    let mut browser = Browser::new();
    let portal = Rp::demo(&app.url, "portal").await;
    portal.sign_in(&app.url, &mut browser, user, &[]).await;
    let pending = vanban(app).await.start(&[], &[]);
    let page = browser.get(&pending.url).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.location.as_deref().unwrap().starts_with("/mfa?continue="), "{:?}", page.location);
    let form = follow(app, &mut browser, &page).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains(r#"name="otp""#) && !form.body.contains(r#"name="password""#), "no password again");
    (browser, pending, form)
}

fn csrf_of(page: &Page) -> String {
    page.hidden_fields().into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v).expect("an anti-forgery value")
}

#[tokio::test]
async fn totp_enrolled_on_the_account_page_signs_in_and_the_step_up_asks_no_password() {
    let app = TestApp::start_with(config_requiring_mfa_for_vanban()).await;
    let mut browser = Browser::new();
    sign_in_to_account(&app, &mut browser, "haltt").await;
    let page = browser.get(&format!("{}/tai-khoan", app.url)).await;
    assert_eq!(page.status, 200);
    assert_eq!(element_text(&page, "mailbox"), "haltt@danang.gov.vn");
    assert!(page.body.contains("lang=\"vi\"") && page.body.contains("Tài khoản của tôi"));
    let (secret, _) = enrol_totp(&app, &mut browser).await;

    let (mut other, pending, form) = step_up(&app, "haltt").await;
    let wrong = if next_code(&app, &secret, 1) == "000000" { "111111" } else { "000000" };
    let refused = post_otp(&app, &mut other, &form, wrong).await;
    assert_eq!(refused.status, 200);
    assert!(refused.body.contains("id=\"mfa-error\""));
    let code = next_code(&app, &secret, 1);
    let passed = post_otp(&app, &mut other, &refused, &code).await;
    assert_eq!(passed.status, 303);
    assert!(passed.location.as_deref().unwrap().starts_with("/authorize?"));
    let back = follow(&app, &mut other, &passed).await;
    let tokens = vanban(&app).await.exchange(pending, &back).await;
    let claims = payload(&openidconnect::TokenResponse::id_token(&tokens).unwrap().to_string());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["acr"], REFEDS_MFA);

    // The same code is accepted once: a third browser presenting it again is refused.
    let (mut third, _, form) = step_up(&app, "haltt").await;
    assert_eq!(post_otp(&app, &mut third, &form, &code).await.status, 200);
    app.wait_for_audit(1, |l| l["event"] == "mfa_enrolled" && l["account"] == "haltt@danang.gov.vn").await;
    app.wait_for_audit(1, |l| l["event"] == "mfa_success" && l["reason"] == "totp").await;
    app.wait_for_audit(1, |l| l["event"] == "mfa_failure" && l["reason"] == "wrong_code").await;
    let discovery: Value =
        http().get(format!("{}/.well-known/openid-configuration", app.url)).send().await.unwrap().json().await.unwrap();
    assert!(discovery["acr_values_supported"].as_array().unwrap().iter().any(|v| v == REFEDS_MFA));
}

#[tokio::test]
async fn a_person_who_must_and_has_none_enrols_right_after_the_password() {
    let app = TestApp::start_with(config_requiring_mfa_for_vanban()).await;
    let mut browser = Browser::new();
    let pending = vanban(&app).await.start(&[], &[]);
    let form = browser.get(&pending.url).await;
    let after = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    assert_eq!(after.status, 303);
    assert!(after.location.as_deref().unwrap().starts_with("/tai-khoan/totp?continue="), "{:?}", after.location);
    let enrol = follow(&app, &mut browser, &after).await;
    let secret = element_text(&enrol, "totp-secret");
    let mut fields = enrol.hidden_fields();
    fields.push(("otp".into(), code_at(&secret, app.clock.now()).unwrap()));
    let codes = browser.post_form(&format!("{}/tai-khoan/totp", app.url), &fields).await;
    assert_eq!(codes.status, 200);
    let next = element_href(&codes, "continue");
    let back = browser.get(&format!("{}{next}", app.url)).await;
    let tokens = vanban(&app).await.exchange(pending, &back).await;
    let claims = payload(&openidconnect::TokenResponse::id_token(&tokens).unwrap().to_string());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
}

fn element_href(page: &Page, id: &str) -> String {
    let start = page.body.find(&format!("id=\"{id}\"")).or_else(|| page.body.find("href=")).unwrap();
    let before = &page.body[..start];
    let href = before.rfind("href=\"").unwrap() + 6;
    let end = page.body[href..].find('"').unwrap();
    page.body[href..href + end].replace("&#38;", "&").replace("&amp;", "&")
}

#[tokio::test]
async fn five_wrong_codes_are_throttled_even_for_the_right_code() {
    let mut config = config_requiring_mfa_for_vanban();
    config.throttle.base_delay_secs = 600;
    let app = TestApp::start_with(config).await;
    let mut browser = Browser::new();
    sign_in_to_account(&app, &mut browser, "haltt").await;
    let (secret, _) = enrol_totp(&app, &mut browser).await;
    let (mut other, _, mut form) = step_up(&app, "haltt").await;
    let right = next_code(&app, &secret, 1);
    let wrong = if right == "123456" { "654321" } else { "123456" };
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let page = post_otp(&app, &mut other, &form, wrong).await;
        statuses.push(page.status.as_u16());
        form = page;
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429], "free failures, then a wait");
    let refused = post_otp(&app, &mut other, &form, &right).await;
    assert_eq!(refused.status, 429, "no code is checked while the wait runs");
    app.wait_for_audit(1, |l| l["event"] == "mfa_failure" && l["reason"] == "throttled").await;
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = TestApp::start_with(config_requiring_mfa_for_vanban()).await;
    let mut browser = Browser::new();
    sign_in_to_account(&app, &mut browser, "haltt").await;
    let (_, codes) = enrol_totp(&app, &mut browser).await;
    let (mut first, _, form) = step_up(&app, "haltt").await;
    assert_eq!(post_otp(&app, &mut first, &form, &codes[0]).await.status, 303);
    let (mut second, _, form) = step_up(&app, "haltt").await;
    let again = post_otp(&app, &mut second, &form, &codes[0]).await;
    assert_eq!(again.status, 200, "spent");
    assert!(again.body.contains("id=\"mfa-error\""));
    assert_eq!(post_otp(&app, &mut second, &again, &codes[1]).await.status, 303);
    app.wait_for_audit(1, |l| l["event"] == "mfa_success" && l["reason"] == "recovery_code").await;
}

#[tokio::test]
async fn an_operator_reset_makes_the_next_sign_in_enrol_again() {
    let port = crate::harness::free_port();
    let mut config = config_requiring_mfa_for_vanban();
    config.admin.listen = Some(format!("127.0.0.1:{port}"));
    config.admin.token = Some("operator-token-of-the-it-centre-2026".into());
    let app = TestApp::start_with(config).await;
    let admin = format!("http://127.0.0.1:{port}/admin");
    let mut browser = Browser::new();
    sign_in_to_account(&app, &mut browser, "haltt").await;
    enrol_totp(&app, &mut browser).await;
    let listed: Value =
        crate::app::admin_get(format!("{admin}/mfa?account=haltt"), "operator-token-of-the-it-centre-2026").await;
    assert_eq!(
        listed,
        json!({"account": "haltt@danang.gov.vn", "factors": ["totp", "recovery_codes"], "passkeys": []})
    );
    let denied = http().post(format!("{admin}/mfa/reset")).json(&json!({"account": "haltt"})).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    let reset: Value = crate::app::admin_post(
        format!("{admin}/mfa/reset"),
        "operator-token-of-the-it-centre-2026",
        json!({"account": "haltt@danang.gov.vn", "operator": "it-centre"}),
    )
    .await;
    assert_eq!(reset["removed"], json!(["totp", "recovery_codes"]));

    let mut fresh = Browser::new();
    let pending = vanban(&app).await.start(&[], &[]);
    let form = fresh.get(&pending.url).await;
    let after = fresh.sign_in(&app.url, &form, "haltt", PASSWORD).await;
    assert!(after.location.as_deref().unwrap().starts_with("/tai-khoan/totp?"), "enrols again: {:?}", after.location);
    let lines = app.wait_for_audit(1, |l| l["event"] == "mfa_reset").await;
    let line = lines.into_iter().find(|l| l["event"] == "mfa_reset").expect("audited");
    assert_eq!(
        (line["operator"].as_str(), line["account"].as_str()),
        (Some("admin-api:it-centre"), Some("haltt@danang.gov.vn"))
    );
}

#[tokio::test]
async fn removing_a_factor_needs_a_fresh_sign_in() {
    let app = TestApp::start_with(config_requiring_mfa_for_vanban()).await;
    let mut browser = Browser::new();
    sign_in_to_account(&app, &mut browser, "haltt").await;
    let (secret, _) = enrol_totp(&app, &mut browser).await;
    app.clock.advance(400);
    let page = browser.get(&format!("{}/tai-khoan", app.url)).await;
    assert_eq!(page.status, 200);
    let remove = [("csrf".to_owned(), csrf_of(&page)), ("kind".to_owned(), "totp".to_owned())];
    let stale = browser.post_form(&format!("{}/tai-khoan/yeu-to/go-bo", app.url), &remove).await;
    assert_eq!(stale.status, 303);
    assert!(stale.location.as_deref().unwrap().starts_with("/tai-khoan/dang-nhap?continue="), "{:?}", stale.location);
    assert!(browser.get(&format!("{}/tai-khoan", app.url)).await.body.contains("action=\"/tai-khoan/yeu-to/go-bo\""));

    // Password, then the second factor, then back to the page: now the removal goes through.
    let form = follow(&app, &mut browser, &stale).await;
    let after = browser.sign_in(&app.url, &form, "haltt", PASSWORD).await;
    assert!(after.location.as_deref().unwrap().starts_with("/mfa?"), "{:?}", after.location);
    let otp_form = follow(&app, &mut browser, &after).await;
    let passed = post_otp(&app, &mut browser, &otp_form, &next_code(&app, &secret, 0)).await;
    assert_eq!(passed.status, 303);
    let page = follow(&app, &mut browser, &passed).await;
    assert_eq!(page.status, 200);
    let remove = [("csrf".to_owned(), csrf_of(&page)), ("kind".to_owned(), "totp".to_owned())];
    let done = browser.post_form(&format!("{}/tai-khoan/yeu-to/go-bo", app.url), &remove).await;
    assert_eq!(done.location.as_deref(), Some("/tai-khoan?done=removed"));
    let page = browser.get(&format!("{}/tai-khoan?done=removed", app.url)).await;
    assert!(!page.body.contains("action=\"/tai-khoan/yeu-to/go-bo\""), "no factor left");
    app.wait_for_audit(1, |l| l["event"] == "mfa_removed" && l["reason"] == "totp").await;
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session_and_tells_the_apps() {
    let mut listener = Listener::start().await;
    let mut config = test_config();
    for c in &mut config.clients {
        match c.client_id.as_str() {
            "portal" => c.backchannel_logout_uri = Some(format!("{}/bc/portal", listener.url)),
            "vanban" => c.backchannel_logout_uri = Some(format!("{}/bc/vanban", listener.url)),
            _ => {}
        }
    }
    let app = TestApp::start_with(config).await;
    let (mut office, mut phone) = (Browser::new(), Browser::new());
    phone.extra_headers.push(("user-agent".into(), "Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile".into()));
    Rp::demo(&app.url, "portal").await.sign_in(&app.url, &mut office, "dungnv", &[]).await;
    Rp::demo(&app.url, "vanban").await.sign_in(&app.url, &mut phone, "dungnv", &[]).await;

    let page = office.get(&format!("{}/tai-khoan", app.url)).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("action=\"/tai-khoan/phien/ket-thuc\"").count(), 2, "both sessions listed");
    assert!(page.body.contains("Chrome · Android"), "the phone is recognisable");
    let out = office
        .post_form(&format!("{}/tai-khoan/phien/ket-thuc-tat-ca", app.url), &[("csrf".into(), csrf_of(&page))])
        .await;
    assert_eq!(out.status, 303);
    let mut got = vec![listener.next().await.0, listener.next().await.0];
    got.sort();
    assert_eq!(got, ["portal", "vanban"]);
    for browser in [&mut office, &mut phone] {
        let again = browser.get(&format!("{}/tai-khoan", app.url)).await;
        assert_eq!(again.status, 303, "signed out");
        assert!(again.location.as_deref().unwrap().starts_with("/tai-khoan/dang-nhap"));
    }
    // Without the anti-forgery value nothing happens.
    Rp::demo(&app.url, "portal").await.sign_in(&app.url, &mut office, "dungnv", &[]).await;
    let forged = office.post_form(&format!("{}/tai-khoan/phien/ket-thuc-tat-ca", app.url), &[]).await;
    assert_eq!(forged.status, 400);
    assert_eq!(office.get(&format!("{}/tai-khoan", app.url)).await.status, 200);
}

#[tokio::test]
async fn the_demo_account_signs_in_with_the_totp_secret_from_the_readme() {
    let app = TestApp::start_with(config_requiring_mfa_for_vanban()).await;
    let (mut browser, pending, form) = step_up(&app, "anhvn").await;
    let code = code_at(danang_sso::mfa::DEMO_TOTP_SECRET, app.clock.now()).unwrap();
    let passed = post_otp(&app, &mut browser, &form, &code).await;
    assert_eq!(passed.status, 303);
    let back = follow(&app, &mut browser, &passed).await;
    let tokens = vanban(&app).await.exchange(pending, &back).await;
    let claims = payload(&openidconnect::TokenResponse::id_token(&tokens).unwrap().to_string());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains(danang_sso::mfa::DEMO_TOTP_SECRET), "the README prints the demo secret");
}
