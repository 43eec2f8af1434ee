//! Authorization codes: replay, PKCE downgrade and missing verifier, a code presented by another client.
//! Who presents a code is checked before it is spent, so a leaked code cannot be burnt by someone else.

use super::support::{PORTAL, PORTAL_CALLBACK, VANBAN, code_for, post, redeem, refusal, urlencode, userinfo};
use crate::app::{SPA_REDIRECT, TestApp};
use crate::browser::Browser;

/// Hole 7: another client (or a wrong redirect_uri or verifier) used to spend the code before being refused,
/// so the real client's exchange then failed. Now the refusal leaves the code for its client.
#[tokio::test]
async fn a_leaked_code_cannot_be_burnt_by_another_client() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let code = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid").await;
    assert_eq!(refusal(&redeem(&app, VANBAN, &code, PORTAL_CALLBACK).await), (400, Some("invalid_grant")));
    let elsewhere = redeem(&app, PORTAL, &code, "http://127.0.0.1:8081/callback/").await;
    assert_eq!(refusal(&elsewhere), (400, Some("invalid_grant")), "look-alike redirect_uri");
    let wrong_verifier = [
        ("grant_type", "authorization_code"),
        ("code", code.code.as_str()),
        ("redirect_uri", PORTAL_CALLBACK),
        ("code_verifier", "a-verifier-of-the-attackers-own-making-that-is-long-enough"),
    ];
    let answer = post(&app, "/token", Some(PORTAL), &wrong_verifier).await;
    assert_eq!(refusal(&answer), (400, Some("invalid_grant")));
    let (status, tokens) = redeem(&app, PORTAL, &code, PORTAL_CALLBACK).await;
    assert_eq!(status, 200, "the code was still there for portal: {tokens}");
}

/// A replayed code is refused and takes the tokens it produced with it (RFC 6749 §4.1.2).
#[tokio::test]
async fn a_replayed_code_revokes_its_tokens() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let code = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid").await;
    let (status, tokens) = redeem(&app, PORTAL, &code, PORTAL_CALLBACK).await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, access).await.0, 200);
    assert_eq!(refusal(&redeem(&app, PORTAL, &code, PORTAL_CALLBACK).await), (400, Some("invalid_grant")));
    assert_eq!(userinfo(&app, access).await.0, 401, "the replay revoked the first exchange's tokens");
    app.wait_for_audit(1, |l| l["event"] == "code_replay_detected").await;
    let unknown = [("grant_type", "authorization_code"), ("code", "never-issued"), ("redirect_uri", PORTAL_CALLBACK)];
    assert_eq!(refusal(&post(&app, "/token", Some(PORTAL), &unknown).await), (400, Some("invalid_grant")));
}

/// PKCE: `plain` and a missing challenge are refused for a public client; a missing or wrong verifier too.
#[tokio::test]
async fn pkce_cannot_be_downgraded_or_skipped() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let base = format!(
        "{}/authorize?response_type=code&client_id=spa&redirect_uri={}&scope=openid&state=st",
        app.url,
        urlencode(SPA_REDIRECT)
    );
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    for extra in [
        String::new(),
        format!("&code_challenge={challenge}&code_challenge_method=plain"),
        format!("&code_challenge={challenge}"),
        "&code_challenge=short&code_challenge_method=S256".into(),
    ] {
        let page = browser.get(&format!("{base}{extra}")).await;
        assert_eq!(page.status, 303, "{extra}: {}", page.body);
        assert_eq!(page.redirect_param("error").as_deref(), Some("invalid_request"), "{extra}");
        assert!(page.location.as_deref().unwrap().starts_with(SPA_REDIRECT), "to the registered uri only");
    }
    let code = code_for(&app, &mut browser, "spa", SPA_REDIRECT, "openid").await;
    for verifier in [None, Some("x".repeat(43)), Some(challenge.to_owned())] {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("code", code.code.as_str()),
            ("redirect_uri", SPA_REDIRECT),
        ];
        if let Some(v) = verifier.as_deref() {
            form.push(("code_verifier", v));
        }
        assert_eq!(refusal(&post(&app, "/token", None, &form).await), (400, Some("invalid_grant")), "{verifier:?}");
    }
    let mut confidential = Browser::new();
    let no_pkce = format!(
        "{}/authorize?response_type=code&client_id=portal&redirect_uri={}&scope=openid&state=st",
        app.url,
        urlencode(PORTAL_CALLBACK)
    );
    let form = confidential.get(&no_pkce).await;
    let page = confidential.sign_in(&app.url, &form, "dungnv", crate::browser::PASSWORD).await;
    let code = page.redirect_param("code").expect("a confidential client may skip PKCE");
    let injected = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", PORTAL_CALLBACK),
        ("code_verifier", "a-verifier-for-a-code-that-had-no-challenge-at-all"),
    ];
    let answer = post(&app, "/token", Some(PORTAL), &injected).await;
    assert_eq!(refusal(&answer), (400, Some("invalid_grant")), "a verifier for a code without a challenge");
}

/// The race of hole 7: a logout that ends the session before the code is exchanged leaves no live grant.
#[tokio::test]
async fn a_code_of_an_ended_session_gives_no_tokens() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let code = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid offline_access").await;
    let page = browser.get(&format!("{}/logout", app.url)).await;
    let fields = page.hidden_fields();
    let done = browser.post_form(&format!("{}/logout", app.url), &fields).await;
    assert!(!browser.has_session(), "signed out: {} {}", done.status, done.body);
    assert_eq!(refusal(&redeem(&app, PORTAL, &code, PORTAL_CALLBACK).await), (400, Some("invalid_grant")));
}

/// The race of hole 7 with the real Redis store: a logout and the code exchange sent together, many times.
/// Whichever lands first, no refresh token outlives the session (the grant write is guarded by the session
/// inside the store, and a logout revokes the grants already written).
#[tokio::test]
async fn a_logout_racing_the_code_exchange_leaves_no_live_refresh_token() {
    let redis = crate::harness::Redis::start();
    let app = TestApp::start_with(crate::shared_store::app_config(&redis, "race:")).await;
    let mut issued = 0;
    for _ in 0..20 {
        let mut browser = Browser::new();
        let code = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid offline_access").await;
        let confirm = browser.get(&format!("{}/logout", app.url)).await.hidden_fields();
        let logout_url = format!("{}/logout", app.url);
        let (exchange, _) = tokio::join!(redeem(&app, PORTAL, &code, PORTAL_CALLBACK), async {
            browser.post_form(&logout_url, &confirm).await
        });
        assert!(!browser.has_session(), "the logout happened");
        match exchange.0 {
            200 => {
                issued += 1;
                let rt = exchange.1["refresh_token"].as_str().unwrap();
                let again =
                    post(&app, "/token", Some(PORTAL), &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await;
                assert_eq!(refusal(&again), (400, Some("invalid_grant")), "a refresh token outlived the logout");
            }
            _ => assert_eq!(refusal(&exchange), (400, Some("invalid_grant"))),
        }
    }
    eprintln!("{issued} of 20 exchanges won the race against the logout");
}
