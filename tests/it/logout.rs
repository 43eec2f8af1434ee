//! Signing out everywhere: RP-initiated logout, back-channel logout tokens checked against the JWKS,
//! the confirmation page, and front-channel frames.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use openidconnect::{OAuth2TokenResponse, TokenResponse};

use crate::app::{TestApp, http, test_config};
use crate::browser::Browser;
use crate::listener::Listener;
use crate::rp::{Rp, payload};

/// Demo config with portal's and vanban's back-channel URIs on `listener`, and tiepdan on a front-channel URI.
async fn app_with(portal_bc: &str, vanban_bc: &str, tiepdan_bc: Option<&str>) -> TestApp {
    let mut config = test_config();
    for c in &mut config.clients {
        match c.client_id.as_str() {
            "portal" => c.backchannel_logout_uri = Some(portal_bc.into()),
            "vanban" => c.backchannel_logout_uri = Some(vanban_bc.into()),
            "tiepdan" => {
                c.backchannel_logout_uri = tiepdan_bc.map(Into::into);
                c.frontchannel_logout_uri = Some("http://127.0.0.1:8083/frontchannel-logout".into());
            }
            _ => {}
        }
    }
    TestApp::start_with(config).await
}

/// Verifies a logout token as an app would: signature against the JWKS, iss, aud, typ, events, no nonce.
async fn verify_logout_token(issuer: &str, token: &str, audience: &str) -> serde_json::Value {
    let jwks: JwkSet = http().get(format!("{issuer}/jwks")).send().await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("kid in the JWKS");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    let claims: serde_json::Value = jsonwebtoken::decode(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("a valid logout token")
        .claims;
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    claims
}

#[tokio::test]
async fn logout_with_an_id_token_hint_ends_the_session_in_every_app() {
    let mut listener = Listener::start().await;
    let (p, v) = (format!("{}/bc/portal", listener.url), format!("{}/bc/vanban", listener.url));
    let app = app_with(&p, &v, None).await;
    let mut browser = Browser::new();
    let portal = Rp::demo(&app.url, "portal").await;
    let vanban = Rp::demo(&app.url, "vanban").await;
    let (pt, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &["offline_access"]).await;
    let (vt, _) = vanban.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let hint = pt.id_token().unwrap().to_string();
    let sid = payload(&hint)["sid"].as_str().unwrap().to_owned();

    let page = browser
        .get(&format!(
            "{}/logout?id_token_hint={hint}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2F&state=tam-biet",
            app.url
        ))
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("http://127.0.0.1:8081/?state=tam-biet"));
    assert!(!browser.has_session(), "the cookie is cleared");

    let mut got = vec![listener.next().await, listener.next().await];
    got.sort();
    assert_eq!(got[0].0, "portal");
    assert_eq!(got[1].0, "vanban");
    for (name, token) in &got {
        let claims = verify_logout_token(&app.url, token, name).await;
        assert_eq!(claims["sid"], sid.as_str());
        assert_eq!(claims["sub"], "b5638b9e-9d37-4dff-88f7-315bad2df2fa");
    }

    // The session and everything it gave are gone.
    let pending = portal.start(&[], &[("prompt", "none")]);
    assert_eq!(browser.get(&pending.url).await.redirect_param("error").as_deref(), Some("login_required"));
    let refresh = portal.client.exchange_refresh_token(pt.refresh_token().unwrap()).unwrap();
    assert!(refresh.request_async(&portal.http).await.is_err());
    let answer: serde_json::Value = http()
        .post(format!("{}/introspect", app.url))
        .basic_auth("vanban", Some("vanban-secret"))
        .form(&[("token", vt.access_token().secret())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, serde_json::json!({"active": false}));
}

#[tokio::test]
async fn logout_without_proof_asks_the_person_first() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let portal = Rp::demo(&app.url, "portal").await;
    portal.sign_in(&app.url, &mut browser, "huongtt", &[]).await;
    let url = format!("{}/logout?client_id=portal&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2F", app.url);
    let page = browser.get(&url).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Bạn có muốn đăng xuất"), "{}", page.body);
    let pending = portal.start(&[], &[("prompt", "none")]);
    assert!(browser.get(&pending.url).await.redirect_param("code").is_some(), "still signed in before confirming");

    // A forged confirmation (another site posting the form) does not sign anyone out.
    let mut forged = page.hidden_fields();
    forged.iter_mut().filter(|(k, _)| k == "confirm").for_each(|(_, v)| *v = "forged".into());
    let again = browser.post_form(&format!("{}/logout", app.url), &forged).await;
    assert!(again.body.contains("Bạn có muốn đăng xuất"));

    let done = browser.post_form(&format!("{}/logout", app.url), &page.hidden_fields()).await;
    assert_eq!(done.location.as_deref(), Some("http://127.0.0.1:8081/"));
    let pending = portal.start(&[], &[("prompt", "none")]);
    assert_eq!(browser.get(&pending.url).await.redirect_param("error").as_deref(), Some("login_required"));
}

#[tokio::test]
async fn an_unregistered_post_logout_redirect_is_not_followed() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let portal = Rp::demo(&app.url, "portal").await;
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let hint = tokens.id_token().unwrap().to_string();
    let page = browser
        .get(&format!("{}/logout?id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F", app.url))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.location.is_none());
    assert!(page.body.contains("Bạn đã đăng xuất") && !page.body.contains("evil.example"));
    let bad = browser.get(&format!("{}/logout?id_token_hint=not.a.token", app.url)).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn slow_and_unreachable_apps_never_hold_up_the_logout() {
    let mut listener = Listener::start().await;
    let closed = format!("http://127.0.0.1:{}/bc", crate::harness::free_port());
    let slow = format!("{}/slow/portal", listener.url);
    let fast = format!("{}/bc/tiepdan", listener.url);
    let app = app_with(&slow, &closed, Some(&fast)).await;
    let mut browser = Browser::new();
    for client in ["portal", "vanban", "tiepdan"] {
        Rp::demo(&app.url, client).await.sign_in(&app.url, &mut browser, "anhvn", &[]).await;
    }
    let page = browser.get(&format!("{}/logout?client_id=portal", app.url)).await;
    let done = browser.post_form(&format!("{}/logout", app.url), &page.hidden_fields()).await;
    assert_eq!(done.status, 200, "answered while the slow app still holds its request");
    let mut names = vec![listener.next().await.0, listener.next().await.0];
    names.sort();
    assert_eq!(names, ["slow/portal", "tiepdan"]);
    listener.release();
}

#[tokio::test]
async fn front_channel_apps_get_a_frame_with_iss_and_sid() {
    let listener = Listener::start().await;
    let bc = format!("{}/bc/x", listener.url);
    let app = app_with(&bc, &bc, None).await;
    let mut browser = Browser::new();
    let tiepdan = Rp::demo(&app.url, "tiepdan").await;
    let (tokens, _) = tiepdan.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let hint = tokens.id_token().unwrap().to_string();
    let sid = payload(&hint)["sid"].as_str().unwrap().to_owned();
    let response = http()
        .get(format!(
            "{}/logout?id_token_hint={hint}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8083%2F",
            app.url
        ))
        .header("cookie", browser.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-src http://127.0.0.1:8083"), "{csp}");
    let body = response.text().await.unwrap();
    let iss = url::form_urlencoded::byte_serialize(app.url.as_bytes()).collect::<String>();
    let sid = url::form_urlencoded::byte_serialize(sid.as_bytes()).collect::<String>();
    let frame = format!("http://127.0.0.1:8083/frontchannel-logout?iss={iss}&#38;sid={sid}");
    assert!(body.contains(&frame), "{body}");
    assert!(body.contains(r#"http-equiv="refresh""#) && body.contains("http://127.0.0.1:8083/"));
}
