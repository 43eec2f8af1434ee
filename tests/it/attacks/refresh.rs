//! Refresh tokens: the grant id is public (the access token's `jti` names it), so a guessed secret must change
//! nothing; only a secret the family really issued, coming back after it was spent, revokes the family.

use serde_json::Value;

use super::support::{PORTAL, PORTAL_CALLBACK, VANBAN, code_for, post, redeem, refusal, userinfo};
use crate::app::{SPA_REDIRECT, TestApp};
use crate::browser::Browser;

async fn refresh(app: &TestApp, auth: Option<(&str, &str)>, extra: &[(&str, &str)], token: &str) -> (u16, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    form.extend_from_slice(extra);
    post(app, "/token", auth, &form).await
}

/// Hole 7: a public client's grant id with a made-up secret used to revoke the family, signing the person out
/// of the app. Now: `invalid_grant`, and the real refresh token still works.
#[tokio::test]
async fn a_guessed_refresh_secret_for_a_known_grant_changes_nothing() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let code = code_for(&app, &mut browser, "spa", SPA_REDIRECT, "openid offline_access").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "spa"),
        ("code", code.code.as_str()),
        ("redirect_uri", SPA_REDIRECT),
        ("code_verifier", code.verifier.as_str()),
    ];
    let (status, tokens) = post(&app, "/token", None, &form).await;
    assert_eq!(status, 200, "{tokens}");
    let real = tokens["refresh_token"].as_str().expect("a refresh token").to_owned();
    let grant_id = real.split('.').next().unwrap();
    let spa = [("client_id", "spa")];
    for forged in [
        format!("{grant_id}.{}", "A".repeat(43)),
        format!("{grant_id}.0.{}", "A".repeat(43)),
        format!("{grant_id}.1.{}", real.rsplit('.').next().unwrap()),
        format!("{grant_id}.0"),
        format!("{grant_id}."),
        format!("{grant_id}.99999999999999999999999.x"),
    ] {
        let answer = refresh(&app, None, &spa, &forged).await;
        assert_eq!(refusal(&answer), (400, Some("invalid_grant")), "{forged}: {}", answer.1);
    }
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, access).await.0, 200, "the access token lives on");
    let answer = refresh(&app, None, &spa, &real).await;
    assert_eq!(answer.0, 200, "the real refresh token still works: {}", answer.1);
}

/// A spent refresh token that comes back is true reuse: the whole family goes (RFC 9700 §4.14.2).
#[tokio::test]
async fn a_spent_refresh_token_revokes_the_family() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let code = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid offline_access").await;
    let (status, first) = redeem(&app, PORTAL, &code, PORTAL_CALLBACK).await;
    assert_eq!(status, 200, "{first}");
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = refresh(&app, Some(PORTAL), &[], &rt1).await;
    assert_eq!(status, 200, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2, "refresh tokens rotate");
    let access = second["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, access).await.0, 200);

    assert_eq!(refusal(&refresh(&app, Some(PORTAL), &[], &rt1).await), (400, Some("invalid_grant")), "reuse");
    assert_eq!(refusal(&refresh(&app, Some(PORTAL), &[], &rt2).await), (400, Some("invalid_grant")), "family gone");
    assert_eq!(userinfo(&app, access).await, (401, Some(r#"Bearer error="invalid_token""#.into())));
    app.wait_for_audit(1, |l| l["event"] == "refresh_reuse_detected").await;
}

/// Another client presenting portal's refresh token gets nothing, and portal's family is untouched.
#[tokio::test]
async fn another_clients_refresh_token_is_refused_and_left_alone() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let code = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid offline_access").await;
    let (_, tokens) = redeem(&app, PORTAL, &code, PORTAL_CALLBACK).await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(refusal(&refresh(&app, Some(VANBAN), &[], rt).await), (400, Some("invalid_grant")));
    assert_eq!(refusal(&refresh(&app, Some(("portal", "wrong")), &[], rt).await), (401, Some("invalid_client")));
    assert_eq!(refusal(&refresh(&app, None, &[("client_id", "portal")], rt).await), (401, Some("invalid_client")));
    let widened = refresh(&app, Some(PORTAL), &[("scope", "openid offline_access groups")], rt).await;
    assert_eq!(refusal(&widened), (400, Some("invalid_scope")), "a refresh never widens the grant");
    assert_eq!(refresh(&app, Some(PORTAL), &[], rt).await.0, 200, "portal's token survived all of that");
}

/// Introspection of another client's refresh token tells nothing (RFC 7662 §2.2), and changes nothing.
#[tokio::test]
async fn introspecting_another_clients_refresh_token_reveals_nothing() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let code = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid offline_access").await;
    let (_, tokens) = redeem(&app, PORTAL, &code, PORTAL_CALLBACK).await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    let (status, seen) = post(&app, "/introspect", Some(VANBAN), &[("token", rt)]).await;
    assert_eq!((status, seen), (200, serde_json::json!({"active": false})));
    let forged = format!("{}.0.{}", rt.split('.').next().unwrap(), "A".repeat(43));
    let (status, seen) = post(&app, "/introspect", Some(PORTAL), &[("token", &forged)]).await;
    assert_eq!((status, seen), (200, serde_json::json!({"active": false})));
    assert_eq!(refresh(&app, Some(PORTAL), &[], rt).await.0, 200);
}
