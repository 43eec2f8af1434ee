//! A client that must push its requests (RFC 9126) and needs two factors: after the second factor the browser
//! goes on with the *pushed* request — through a fresh internal `request_uri` — never with plain parameters,
//! which such a client would have refused ("must push"), whether the factor came right after the password or as
//! the step-up of a session made with the password alone.

use serde_json::json;

use super::*;
use crate::rp::{Pending, payload};

const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// `vanban` needs two factors and must push.
fn config() -> Config {
    let mut config = config_requiring_mfa_for_vanban();
    config.clients.iter_mut().find(|c| c.client_id == "vanban").unwrap().require_pushed_authorization_requests = true;
    config
}

/// Pushes `pending`'s request as `vanban` and returns the `/authorize` URL the browser is sent to.
async fn pushed_url(app: &TestApp, pending: &Pending) -> String {
    let url = url::Url::parse(&pending.url).unwrap();
    let fields: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let response = crate::app::http()
        .post(format!("{}/par", app.url))
        .basic_auth("vanban", Some("vanban-secret"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let json: serde_json::Value = response.json().await.unwrap();
    let request_uri = json["request_uri"].as_str().unwrap();
    let mut to = url::Url::parse(&format!("{}/authorize", app.url)).unwrap();
    to.query_pairs_mut().append_pair("client_id", "vanban").append_pair("request_uri", request_uri);
    to.into()
}

/// Where the second factor sends the browser on: `/authorize` with `client_id` and a fresh `request_uri` only.
fn assert_continues_pushed(passed: &Page) {
    assert_eq!(passed.status, 303, "{}", passed.body);
    let to = passed.location.as_deref().unwrap();
    let url = url::Url::parse(&format!("http://x{to}")).unwrap();
    assert_eq!(url.path(), "/authorize");
    let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(keys, ["client_id", "request_uri"], "{to}");
    assert!(url.query_pairs().any(|(k, v)| k == "request_uri" && v.starts_with(PREFIX)), "{to}");
}

async fn code_with_two_factors(app: &TestApp, browser: &mut Browser, passed: &Page, pending: Pending) {
    assert_continues_pushed(passed);
    let back = follow(app, browser, passed).await;
    assert!(back.redirect_param("code").is_some(), "{:?} {}", back.location, back.body);
    let tokens = vanban(app).await.exchange(pending, &back).await;
    let claims = payload(&openidconnect::TokenResponse::id_token(&tokens).unwrap().to_string());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    // The continuation is single-use like any request_uri.
    let again = follow(app, browser, passed).await;
    assert_eq!(again.status, 400, "{}", again.body);
}

#[tokio::test]
async fn a_pushed_request_survives_the_second_factor_after_the_password() {
    let app = TestApp::start_with(config()).await;
    let mut enrolling = Browser::new();
    sign_in_to_account(&app, &mut enrolling, "haltt").await;
    let (secret, _) = enrol_totp(&app, &mut enrolling).await;

    let mut browser = Browser::new();
    let pending = vanban(&app).await.start(&[], &[]);
    let form = browser.get(&pushed_url(&app, &pending).await).await;
    assert!(form.is_login_form(), "{}", form.body);
    let after = browser.sign_in(&app.url, &form, "haltt", PASSWORD).await;
    assert!(after.location.as_deref().unwrap().starts_with("/mfa?continue="), "{:?}", after.location);
    let otp_form = follow(&app, &mut browser, &after).await;
    let passed = post_otp(&app, &mut browser, &otp_form, &next_code(&app, &secret, 1)).await;
    code_with_two_factors(&app, &mut browser, &passed, pending).await;
}

#[tokio::test]
async fn a_pushed_request_survives_the_step_up() {
    let app = TestApp::start_with(config()).await;
    let mut browser = Browser::new();
    sign_in_to_account(&app, &mut browser, "haltt").await;
    let (secret, _) = enrol_totp(&app, &mut browser).await;

    let mut other = Browser::new();
    Rp::demo(&app.url, "portal").await.sign_in(&app.url, &mut other, "haltt", &[]).await;
    let pending = vanban(&app).await.start(&[], &[]);
    let page = other.get(&pushed_url(&app, &pending).await).await;
    assert!(page.location.as_deref().unwrap().starts_with("/mfa?continue="), "{:?}", page.location);
    let otp_form = follow(&app, &mut other, &page).await;
    assert!(!otp_form.body.contains(r#"name="password""#), "the step-up asks no password");
    let passed = post_otp(&app, &mut other, &otp_form, &next_code(&app, &secret, 1)).await;
    code_with_two_factors(&app, &mut other, &passed, pending).await;
}
