//! The token surface beyond the code flow: introspection, revocation, client credentials, form_post,
//! per-client signing algorithms, key rotation, and private_key_jwt client authentication.

use std::path::PathBuf;

use danang_sso::config::ClientConfig;
use danang_sso::keys::{Alg, KeySet};
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use serde_json::{Value, json};

use crate::app::{TestApp, http, keys_dir, test_config};
use crate::browser::Browser;
use crate::rp::{Rp, payload};

async fn post(app: &TestApp, path: &str, auth: (&str, &str), form: &[(&str, &str)]) -> (u16, Value) {
    let r = http().post(format!("{}{path}", app.url)).basic_auth(auth.0, Some(auth.1)).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn introspection_sees_own_tokens_and_revocation_ends_them() {
    let app = TestApp::start().await;
    let vanban = Rp::demo(&app.url, "vanban").await;
    let (tokens, _) = vanban.sign_in(&app.url, &mut Browser::new(), "huongtt", &["offline_access", "email"]).await;
    let access = tokens.access_token().secret().clone();
    let refresh = tokens.refresh_token().unwrap().secret().clone();

    let (_, own) = post(&app, "/introspect", ("vanban", "vanban-secret"), &[("token", &access)]).await;
    assert_eq!(own["active"], true);
    assert_eq!(own["client_id"], "vanban");
    assert_eq!(own["username"], "huongtt@danang.gov.vn");
    assert_eq!(own["scope"], "openid offline_access email");
    let (_, by_api) = post(&app, "/introspect", ("vanban-api", "vanban-api-secret"), &[("token", &access)]).await;
    assert_eq!(by_api["active"], true, "vanban-api is configured to introspect vanban's tokens");
    let (_, by_portal) = post(&app, "/introspect", ("portal", "portal-secret"), &[("token", &access)]).await;
    assert_eq!(by_portal, json!({"active": false}), "another client sees nothing");
    let (_, rt) = post(&app, "/introspect", ("vanban", "vanban-secret"), &[("token", &refresh)]).await;
    assert_eq!(rt["token_type"], "refresh_token");
    let (status, _) = post(&app, "/introspect", ("vanban", "wrong"), &[("token", &access)]).await;
    assert_eq!(status, 401);

    // portal may not revoke vanban's token: the answer is 200 all the same, and nothing changes.
    let (status, _) = post(&app, "/revoke", ("portal", "portal-secret"), &[("token", &refresh)]).await;
    assert_eq!(status, 200);
    assert_eq!(post(&app, "/introspect", ("vanban", "vanban-secret"), &[("token", &access)]).await.1["active"], true);
    let (status, _) = post(&app, "/revoke", ("vanban", "vanban-secret"), &[("token", &refresh)]).await;
    assert_eq!(status, 200);
    assert_eq!(post(&app, "/introspect", ("vanban", "vanban-secret"), &[("token", &access)]).await.1["active"], false);
    assert_eq!(post(&app, "/introspect", ("vanban", "vanban-secret"), &[("token", &refresh)]).await.1["active"], false);
    let (status, _) = post(&app, "/revoke", ("vanban", "vanban-secret"), &[("token", "garbage")]).await;
    assert_eq!(status, 200, "unknown tokens are not an error (RFC 7009)");
}

#[tokio::test]
async fn client_credentials_give_only_the_registered_scopes() {
    let app = TestApp::start().await;
    let (status, body) = post(
        &app,
        "/token",
        ("vanban-api", "vanban-api-secret"),
        &[("grant_type", "client_credentials"), ("scope", "vanban.read")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    let claims = payload(body["access_token"].as_str().unwrap());
    assert_eq!((claims["sub"].as_str(), claims["scope"].as_str()), (Some("vanban-api"), Some("vanban.read")));
    let (_, seen) = post(
        &app,
        "/introspect",
        ("vanban-api", "vanban-api-secret"),
        &[("token", body["access_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(seen["active"], true);
    for scope in ["vanban.write", "openid", "vanban.read profile"] {
        let (status, body) = post(
            &app,
            "/token",
            ("vanban-api", "vanban-api-secret"),
            &[("grant_type", "client_credentials"), ("scope", scope)],
        )
        .await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{scope}");
    }
    let (status, body) =
        post(&app, "/token", ("portal", "portal-secret"), &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")));
}

#[tokio::test]
async fn form_post_delivers_the_code_in_a_self_submitting_form() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    portal.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let pending = portal.start(&[], &[("response_mode", "form_post")]);
    let response = http().get(&pending.url).header("cookie", browser.cookie_header()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let body = response.text().await.unwrap();
    assert!(
        body.contains(r#"action="http:&#x2f;&#x2f;127.0.0.1:8081&#x2f;callback""#)
            || body.contains(r#"action="http://127.0.0.1:8081/callback""#),
        "{body}"
    );
    for field in ["code", "state", "iss"] {
        assert!(body.contains(&format!(r#"name="{field}""#)), "{field} in {body}");
    }
    assert!(body.contains(r#"<script src="/static/form_post.js"></script>"#));
    let script = http().get(format!("{}/static/form_post.js", app.url)).send().await.unwrap();
    assert_eq!(script.status(), 200);
}

#[tokio::test]
async fn a_client_can_ask_for_es256_id_tokens() {
    let mut config = test_config();
    config.clients.iter_mut().find(|c| c.client_id == "tiepdan").unwrap().id_token_signed_response_alg =
        Some("ES256".into());
    let app = TestApp::start_with(config).await;
    let tiepdan = Rp::demo(&app.url, "tiepdan").await;
    let (tokens, nonce) = tiepdan.sign_in(&app.url, &mut Browser::new(), "dungnv", &[]).await;
    let id_token = tokens.id_token().unwrap();
    let verifier = tiepdan.client.id_token_verifier().set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    id_token.claims(&verifier, &nonce).expect("an ES256 ID token that verifies against the JWKS");
    assert_eq!(jsonwebtoken::decode_header(id_token.to_string()).unwrap().alg, jsonwebtoken::Algorithm::ES256);
}

/// A keys directory of this test's own, starting from the shared keys (no RSA generation).
fn own_keys(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("danang-sso-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in std::fs::read_dir(keys_dir()).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
    }
    dir
}

#[tokio::test]
async fn rotation_signs_with_the_new_key_and_old_tokens_still_verify() {
    let dir = own_keys("rotation");
    let mut config = test_config();
    config.keys.dir = dir.clone();
    config.keys.reload_interval_secs = 1;
    let app = TestApp::start_with(config).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let (before, _) = portal.sign_in(&app.url, &mut Browser::new(), "dungnv", &[]).await;
    let old_kid = jsonwebtoken::decode_header(before.id_token().unwrap().to_string()).unwrap().kid.unwrap();

    danang_sso::keys::rotate(&dir).unwrap();
    let mut published = 0;
    for _ in 0..50 {
        let jwks: Value = http().get(format!("{}/jwks", app.url)).send().await.unwrap().json().await.unwrap();
        published = jwks["keys"].as_array().unwrap().len();
        if published == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(published, 6, "the running instance publishes old and new keys");

    let portal = Rp::demo(&app.url, "portal").await;
    let (after, nonce) = portal.sign_in(&app.url, &mut Browser::new(), "dungnv", &[]).await;
    let new_kid = jsonwebtoken::decode_header(after.id_token().unwrap().to_string()).unwrap().kid.unwrap();
    assert_ne!(old_kid, new_kid, "new tokens use the new key");
    after.id_token().unwrap().claims(&portal.client.id_token_verifier(), &nonce).unwrap();
    let old_access = before.access_token().secret();
    let status = http().get(format!("{}/userinfo", app.url)).bearer_auth(old_access).send().await.unwrap().status();
    assert_eq!(status, 200, "a token signed before the rotation still verifies");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn private_key_jwt_authenticates_once_per_assertion() {
    let client_keys = std::env::temp_dir().join(format!("danang-sso-kiosk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&client_keys);
    danang_sso::keys::generate(&client_keys, Alg::ES256, 1).unwrap();
    let kiosk = KeySet::load(&client_keys, Alg::ES256).unwrap();
    let jwks = String::from_utf8(kiosk.jwks_json().to_vec()).unwrap();
    let mut config = test_config();
    config.clients.push(ClientConfig {
        client_id: "kiosk".into(),
        jwks: Some(jwks),
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["tiepdan.read".into()],
        ..Default::default()
    });
    let app = TestApp::start_with(config).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let assertion = |aud: &str, jti: &str| {
        let claims = json!({"iss": "kiosk", "sub": "kiosk", "aud": aud, "exp": now + 60, "iat": now, "jti": jti});
        kiosk.sign("JWT", &claims, Some(Alg::ES256)).unwrap()
    };
    let token_url = format!("{}/token", app.url);
    let request = |jwt: String| {
        let url = token_url.clone();
        async move {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", jwt.as_str()),
            ];
            http().post(url).form(&form).send().await.unwrap().status().as_u16()
        }
    };
    let good = assertion(&token_url, "a-1");
    assert_eq!(request(good.clone()).await, 200);
    assert_eq!(request(good).await, 401, "an assertion works once");
    assert_eq!(request(assertion("https://elsewhere.example/token", "a-2")).await, 401, "wrong audience");
    let mut forged = assertion(&token_url, "a-3");
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    assert_eq!(request(forged).await, 401, "bad signature");
    std::fs::remove_dir_all(&client_keys).unwrap();
}
