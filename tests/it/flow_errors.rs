//! Every way an authorization or token request can go wrong, and what the provider answers.

use openidconnect::core::CoreErrorResponseType;
use openidconnect::{AuthorizationCode, OAuth2TokenResponse, PkceCodeVerifier, RequestTokenError};

use crate::app::TestApp;
use crate::browser::{Browser, PASSWORD};
use crate::flow::userinfo_status;
use crate::rp::Rp;

#[tokio::test]
async fn unregistered_redirects_and_unknown_clients_get_a_page_never_a_redirect() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let base = format!("{}/authorize?response_type=code&scope=openid&state=s", app.url);
    for query in [
        "&client_id=portal&redirect_uri=https%3A%2F%2Fevil.example%2Fcallback",
        "&client_id=portal&redirect_uri=http%3A%2F%2F127.0.0.1%3A8082%2Fcallback",
        "&client_id=portal&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback%2F",
        "&client_id=portal",
        "&client_id=nobody&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback",
        "&client_id=portal&client_id=vanban&redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Fcallback",
    ] {
        let page = browser.get(&format!("{base}{query}")).await;
        assert_eq!(page.status, 400, "{query}");
        assert!(page.location.is_none(), "never a redirect: {query}");
        assert!(page.body.contains(r#"lang="vi""#) && page.body.contains("Không thể tiếp tục"), "{}", page.body);
    }
}

#[tokio::test]
async fn wrong_password_unknown_and_locked_accounts_read_the_same() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut bodies = Vec::new();
    for (user, password) in [("dungnv", "sai-mat-khau"), ("khongco", PASSWORD), ("khoanm", PASSWORD), ("dungnv", "")] {
        let mut browser = Browser::new();
        let form = browser.get(&portal.start(&[], &[]).url).await;
        let page = browser.sign_in(&app.url, &form, user, password).await;
        assert!(page.is_login_form(), "the form comes back");
        assert!(page.body.contains("Hộp thư hoặc mật khẩu không đúng."), "{}", page.body);
        assert_eq!(page.username_value(), user, "the typed mailbox is kept");
        assert!(!browser.has_session());
        let without_noise = page.body.replace(&format!("value=\"{user}\""), "").replace(&form.hidden_fields()[4].1, "");
        bodies.push(without_noise);
    }
    // Apart from the typed mailbox and the per-request state, the pages are identical.
    let state_free: Vec<String> = bodies
        .iter()
        .map(|b| {
            b.lines()
                .filter(|l| {
                    !l.contains("name=\"state\"")
                        && !l.contains("name=\"csrf\"")
                        && !l.contains("name=\"nonce\"")
                        && !l.contains("code_challenge\"")
                        && !l.contains("id=\"language-link\"")
                })
                .collect()
        })
        .collect();
    assert!(state_free.windows(2).all(|w| w[0] == w[1]), "no difference reveals whether an account exists");
}

#[tokio::test]
async fn other_domains_are_refused_with_their_own_message() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let form = browser.get(&portal.start(&[], &[]).url).await;
    let page = browser.sign_in(&app.url, &form, "dungnv.danang@gmail.com", PASSWORD).await;
    assert!(page.is_login_form());
    assert!(page.body.contains("Chỉ tài khoản thư công vụ @danang.gov.vn"), "{}", page.body);
    assert!(!browser.has_session());
}

#[tokio::test]
async fn english_on_request_and_login_hint_prefills() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let page = browser.get(&portal.start(&[], &[("ui_locales", "en"), ("login_hint", "huongtt")]).url).await;
    assert!(page.body.contains(r#"<html lang="en">"#) && page.body.contains("Sign in to Cổng thông tin điện tử"));
    assert_eq!(page.username_value(), "huongtt");
    // An English-language browser alone does not make the page English (see tests/it/language.rs).
    browser.accept_language = Some("en-US,en;q=0.9".into());
    let page = browser.get(&portal.start(&[], &[]).url).await;
    assert!(page.body.contains(r#"<html lang="vi">"#));
}

#[tokio::test]
async fn codes_are_single_use_and_a_replay_revokes_what_they_gave() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let pending = portal.start(&["offline_access"], &[]);
    let form = browser.get(&pending.url).await;
    let back = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    let code = back.redirect_param("code").unwrap();
    let verifier = pending.verifier.secret().clone();
    let tokens = portal.exchange(pending, &back).await;
    assert_eq!(userinfo_status(&portal.http, &app.url, tokens.access_token().secret()).await, 200);

    let replay = portal
        .client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&portal.http)
        .await;
    assert_eq!(token_error(replay), CoreErrorResponseType::InvalidGrant);
    assert_eq!(userinfo_status(&portal.http, &app.url, tokens.access_token().secret()).await, 401);
    let refresh = portal.client.exchange_refresh_token(tokens.refresh_token().unwrap()).unwrap();
    let refused = refresh.request_async(&portal.http).await;
    assert_eq!(token_error(refused), CoreErrorResponseType::InvalidGrant, "the refresh token went with the replay");
}

#[tokio::test]
async fn pkce_mismatch_wrong_secret_and_wrong_client_are_refused() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();

    let pending = portal.start(&[], &[]);
    let form = browser.get(&pending.url).await;
    let back = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    let wrong = PkceCodeVerifier::new("x".repeat(50));
    let result = portal
        .client
        .exchange_code(AuthorizationCode::new(back.redirect_param("code").unwrap()))
        .unwrap()
        .set_pkce_verifier(wrong)
        .request_async(&portal.http)
        .await;
    assert_eq!(token_error(result), CoreErrorResponseType::InvalidGrant);

    // The right code and verifier, but the wrong secret: 401 invalid_client.
    let pending = portal.start(&[], &[]);
    let back = browser.get(&pending.url).await;
    let impostor = Rp::new(&app.url, "portal", Some("not-the-secret"), "http://127.0.0.1:8081/callback").await;
    let result = impostor
        .client
        .exchange_code(AuthorizationCode::new(back.redirect_param("code").unwrap()))
        .unwrap()
        .set_pkce_verifier(pending.verifier)
        .request_async(&impostor.http)
        .await;
    assert_eq!(token_error(result), CoreErrorResponseType::InvalidClient);

    // A code issued to portal, redeemed by vanban with vanban's own valid secret.
    let pending = portal.start(&[], &[]);
    let back = browser.get(&pending.url).await;
    let vanban = Rp::demo(&app.url, "vanban").await;
    let result = vanban
        .client
        .exchange_code(AuthorizationCode::new(back.redirect_param("code").unwrap()))
        .unwrap()
        .set_pkce_verifier(pending.verifier)
        .request_async(&vanban.http)
        .await;
    assert_eq!(token_error(result), CoreErrorResponseType::InvalidGrant);
}

#[tokio::test]
async fn token_endpoint_errors_are_json_and_never_cached() {
    let app = TestApp::start().await;
    let http = crate::app::http();
    let url = format!("{}/token", app.url);
    let r = http.post(&url).form(&[("grant_type", "authorization_code"), ("code", "nope")]).send().await.unwrap();
    assert_eq!(r.status(), 401, "no client authentication");
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let r = http
        .post(&url)
        .basic_auth("portal", Some("portal-secret"))
        .form(&[("grant_type", "password"), ("username", "dungnv")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");
    let r = http
        .post(&url)
        .basic_auth("portal", Some("portal-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "forged"),
            ("redirect_uri", "http://127.0.0.1:8081/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    let r = http.get(format!("{}/userinfo", app.url)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
}

pub fn token_error<T, E>(
    result: Result<T, RequestTokenError<E, openidconnect::StandardErrorResponse<CoreErrorResponseType>>>,
) -> CoreErrorResponseType
where
    E: std::error::Error + 'static,
{
    match result {
        Err(RequestTokenError::ServerResponse(e)) => e.error().clone(),
        Err(other) => panic!("expected an OAuth error response, got {other:?}"),
        Ok(_) => panic!("expected an error"),
    }
}
