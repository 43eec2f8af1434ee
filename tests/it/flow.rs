//! The sign-in-once core end to end: an independent RP discovers, signs in with PKCE through the real form,
//! verifies the ID token against the JWKS, calls userinfo, refreshes, and walks into a second app without a form.
//! Each test's body is a `pub async fn …_on(&TestApp)`, so the same flow also runs against other directories
//! (ldap_app.rs runs it with `directory.kind = "ldap"`).

use openidconnect::core::{CoreErrorResponseType, CoreUserInfoClaims};
use openidconnect::{AccessTokenHash, OAuth2TokenResponse, TokenResponse};

use crate::app::TestApp;
use crate::browser::{Browser, PASSWORD};
use crate::flow_errors::token_error;
use crate::rp::{Rp, payload};

const ALL: &[&str] = &["profile", "email", "groups", "offline_access"];

#[tokio::test]
async fn sign_in_verify_userinfo_and_refresh() {
    sign_in_verify_userinfo_and_refresh_on(&TestApp::start().await).await;
}

pub async fn sign_in_verify_userinfo_and_refresh_on(app: &TestApp) {
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let pending = portal.start(ALL, &[]);
    let form = browser.get(&pending.url).await;
    assert!(form.is_login_form());
    assert!(form.body.contains("Đăng nhập để vào Cổng thông tin điện tử"), "names the app in Vietnamese");
    assert!(form.body.contains(r#"<html lang="vi">"#));
    let back = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    assert_eq!(back.status, 303);
    assert_eq!(back.redirect_param("iss").as_deref(), Some(app.url.as_str()), "RFC 9207 iss");
    assert!(browser.has_session());
    let nonce = pending.nonce.clone();
    let tokens = portal.exchange(pending, &back).await;

    // The ID token: signature (JWKS), issuer, audience, expiry and nonce checked by the RP library.
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = portal.client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).expect("a valid ID token");
    assert_eq!(claims.subject().as_str(), "b5638b9e-9d37-4dff-88f7-315bad2df2fa", "sub is the entryUUID");
    assert!(claims.auth_time().is_some());
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    let raw = payload(&id_token.to_string());
    assert_eq!(raw["name"], "Nguyễn Văn Dũng");
    assert_eq!(raw["amr"][0], "pwd");
    assert!(raw["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(payload(tokens.access_token().secret())["client_id"], "portal");

    // Userinfo through the RP library, and the city claims through raw JSON.
    let info: CoreUserInfoClaims = portal
        .client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&portal.http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("dungnv@danang.gov.vn"));
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("dungnv"));
    let raw = userinfo_json(&portal.http, &app.url, tokens.access_token().secret()).await;
    assert_eq!(raw["unit"], "Văn phòng UBND thành phố");
    assert_eq!(raw["mailbox_type"], "personal");
    assert!(raw["groups"].as_array().unwrap().iter().any(|g| g == "can-bo"));

    // Refresh rotates: the new token works once, the old one is refused and revokes the family.
    let first = tokens.refresh_token().expect("offline_access gives a refresh token").clone();
    let refreshed = portal.client.exchange_refresh_token(&first).unwrap().request_async(&portal.http).await.unwrap();
    let second = refreshed.refresh_token().unwrap().clone();
    assert_ne!(first.secret(), second.secret());
    assert_eq!(payload(&refreshed.id_token().unwrap().to_string())["sub"], claims.subject().as_str());
    let reuse = portal.client.exchange_refresh_token(&first).unwrap().request_async(&portal.http).await;
    assert_eq!(token_error(reuse), CoreErrorResponseType::InvalidGrant, "a spent refresh token is refused");
    let after_reuse = portal.client.exchange_refresh_token(&second).unwrap().request_async(&portal.http).await;
    assert_eq!(token_error(after_reuse), CoreErrorResponseType::InvalidGrant, "reuse revoked the whole family");
    let status = userinfo_status(&portal.http, &app.url, refreshed.access_token().secret()).await;
    assert_eq!(status, 401, "access tokens of a revoked family stop working");
}

#[tokio::test]
async fn a_second_app_gets_in_without_the_form_and_shares_the_session() {
    a_second_app_gets_in_without_the_form_and_shares_the_session_on(&TestApp::start().await).await;
}

pub async fn a_second_app_gets_in_without_the_form_and_shares_the_session_on(app: &TestApp) {
    let mut browser = Browser::new();
    let portal = Rp::demo(&app.url, "portal").await;
    let (first, _) = portal.sign_in(&app.url, &mut browser, "huongtt@danang.gov.vn", &["profile"]).await;
    let vanban = Rp::demo(&app.url, "vanban").await;
    let pending = vanban.start(&["profile"], &[]);
    let page = browser.get(&pending.url).await;
    assert_eq!(page.status, 303, "no form the second time");
    let nonce = pending.nonce.clone();
    let second = vanban.exchange(pending, &page).await;
    let claims = second.id_token().unwrap().claims(&vanban.client.id_token_verifier(), &nonce).unwrap();
    assert_eq!(claims.audiences()[0].as_str(), "vanban");
    let (a, b) = (payload(&first.id_token().unwrap().to_string()), payload(&second.id_token().unwrap().to_string()));
    assert_eq!(a["sid"], b["sid"], "one SSO session");
    assert_eq!(a["auth_time"], b["auth_time"], "no new password check");
    assert_eq!(b["name"], "Trần Thị Hương");
    assert!(second.refresh_token().is_none(), "no refresh token without offline_access");
}

#[tokio::test]
async fn prompt_none_answers_both_ways() {
    prompt_none_answers_both_ways_on(&TestApp::start().await).await;
}

pub async fn prompt_none_answers_both_ways_on(app: &TestApp) {
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let pending = portal.start(&[], &[("prompt", "none")]);
    let page = browser.get(&pending.url).await;
    assert_eq!(page.redirect_param("error").as_deref(), Some("login_required"));
    assert_eq!(page.redirect_param("state").as_deref(), Some(pending.state.secret().as_str()));
    assert!(page.location.unwrap().starts_with("http://127.0.0.1:8081/callback?"));

    portal.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let pending = portal.start(&[], &[("prompt", "none")]);
    let page = browser.get(&pending.url).await;
    assert!(page.redirect_param("code").is_some(), "a session answers prompt=none with a code");
    portal.exchange(pending, &page).await;
}

#[tokio::test]
async fn max_age_and_prompt_login_ask_for_the_password_again() {
    max_age_and_prompt_login_ask_for_the_password_again_on(&TestApp::start().await).await;
}

pub async fn max_age_and_prompt_login_ask_for_the_password_again_on(app: &TestApp) {
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (first, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let first = payload(&first.id_token().unwrap().to_string());

    let page = browser.get(&portal.start(&[], &[("max_age", "600")]).url).await;
    assert_eq!(page.status, 303, "a session younger than max_age is reused");
    app.clock.advance(601);
    let pending = portal.start(&[], &[("max_age", "600")]);
    let form = browser.get(&pending.url).await;
    assert!(form.is_login_form(), "max_age exceeded asks again");
    let nonce = pending.nonce.clone();
    let back = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    let again = portal.exchange(pending, &back).await;
    let again_claims = again.id_token().unwrap().claims(&portal.client.id_token_verifier(), &nonce).unwrap();
    let again = payload(&again.id_token().unwrap().to_string());
    assert!(again["auth_time"].as_u64() > first["auth_time"].as_u64(), "auth_time moves on a new password check");
    assert_eq!(again["sid"], first["sid"], "the same person keeps the session");
    assert!(again_claims.auth_time().is_some());

    let form = browser.get(&portal.start(&[], &[("prompt", "login")]).url).await;
    assert!(form.is_login_form(), "prompt=login always asks");
}

#[tokio::test]
async fn every_way_of_typing_the_mailbox_signs_in_and_names_are_nfc() {
    every_way_of_typing_the_mailbox_signs_in_and_names_are_nfc_on(&TestApp::start().await).await;
}

pub async fn every_way_of_typing_the_mailbox_signs_in_and_names_are_nfc_on(app: &TestApp) {
    let portal = Rp::demo(&app.url, "portal").await;
    for typed in ["dungnv", "dungnv@danang.gov.vn", " DungNV@Danang.gov.vn "] {
        let (tokens, _) = portal.sign_in(&app.url, &mut Browser::new(), typed, &["email"]).await;
        assert_eq!(payload(&tokens.id_token().unwrap().to_string())["email"], "dungnv@danang.gov.vn");
    }
    // dungnv1's name is stored decomposed (NFD) in the directory; tokens carry NFC.
    let (tokens, _) = portal.sign_in(&app.url, &mut Browser::new(), "dungnv1", &["profile"]).await;
    let name = payload(&tokens.id_token().unwrap().to_string())["name"].as_str().unwrap().to_owned();
    assert_eq!(name, "Nguyễn Văn Dũng");
    assert!(name.chars().all(|c| !('\u{300}'..='\u{36f}').contains(&c)), "no combining marks");
    // The unit mailbox says so.
    let (tokens, _) = portal.sign_in(&app.url, &mut Browser::new(), "skhdt", &["profile"]).await;
    assert_eq!(payload(&tokens.id_token().unwrap().to_string())["mailbox_type"], "unit");
}

#[tokio::test]
async fn a_public_client_uses_pkce_without_a_secret() {
    a_public_client_uses_pkce_without_a_secret_on(&TestApp::start().await).await;
}

pub async fn a_public_client_uses_pkce_without_a_secret_on(app: &TestApp) {
    let spa = Rp::new(&app.url, "spa", None, crate::app::SPA_REDIRECT).await;
    let (tokens, _) = spa.sign_in(&app.url, &mut Browser::new(), "anhvn", &["profile"]).await;
    assert_eq!(payload(&tokens.id_token().unwrap().to_string())["name"], "Võ Ngọc Ánh");
}

pub async fn userinfo_json(http: &reqwest::Client, issuer: &str, token: &str) -> serde_json::Value {
    let response = http.get(format!("{issuer}/userinfo")).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub async fn userinfo_status(http: &reqwest::Client, issuer: &str, token: &str) -> u16 {
    http.get(format!("{issuer}/userinfo")).bearer_auth(token).send().await.unwrap().status().as_u16()
}
