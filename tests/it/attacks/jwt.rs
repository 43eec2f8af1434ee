//! `alg: none` and HS256-keyed-with-the-public-key tokens at every endpoint that reads a JWT: access tokens
//! at `/userinfo`, `/introspect` and `/revoke`, the `id_token_hint` of `/logout`, and `private_key_jwt`
//! client assertions at `/token`. The algorithm is pinned by the key, never taken from the token.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

use super::support::{PORTAL, PORTAL_CALLBACK, code_for, post, redeem, urlencode, userinfo};
use crate::app::{TestApp, http, test_config};
use crate::browser::Browser;
use crate::rp::payload;

/// Re-signs `token`'s claims (with `changes`) under a forged header: `alg: none`, or HS256 keyed with `key`.
fn forge(token: &str, changes: &Value, alg: &str, key: &[u8]) -> String {
    let header: Value = serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    let mut claims = payload(token);
    for (k, v) in changes.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let forged_header = json!({"alg": alg, "typ": header["typ"], "kid": header["kid"]});
    let signing_input = format!("{}.{}", B64.encode(forged_header.to_string()), B64.encode(claims.to_string()));
    let signature = match alg {
        "none" => String::new(),
        _ => B64.encode(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), signing_input.as_bytes()).as_ref()),
    };
    format!("{signing_input}.{signature}")
}

/// The forgeries of `token`: `none`, and HS256 under the published key's JSON and its RSA modulus.
async fn forgeries(app_url: &str, token: &str, changes: &Value) -> Vec<String> {
    let jwks: Value = http().get(format!("{app_url}/jwks")).send().await.unwrap().json().await.unwrap();
    let mut out = vec![forge(token, changes, "none", b"")];
    for key in jwks["keys"].as_array().unwrap() {
        out.push(forge(token, changes, "HS256", key.to_string().as_bytes()));
        if let Some(n) = key["n"].as_str() {
            out.push(forge(token, changes, "HS256", &B64.decode(n).unwrap()));
        }
    }
    out
}

#[tokio::test]
async fn forged_access_tokens_are_refused_at_userinfo_introspection_and_revocation() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let code = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid email").await;
    let (_, tokens) = redeem(&app, PORTAL, &code, PORTAL_CALLBACK).await;
    let access = tokens["access_token"].as_str().unwrap();
    let changes = json!({"sub": "someone-else", "scope": "openid email profile groups"});
    for forged in forgeries(&app.url, access, &changes).await {
        assert_eq!(userinfo(&app, &forged).await, (401, Some(r#"Bearer error="invalid_token""#.into())), "{forged}");
        let (status, seen) = post(&app, "/introspect", Some(PORTAL), &[("token", &forged)]).await;
        assert_eq!((status, seen), (200, json!({"active": false})), "{forged}");
        assert_eq!(post(&app, "/revoke", Some(PORTAL), &[("token", &forged)]).await.0, 200);
    }
    assert_eq!(userinfo(&app, access).await.0, 200, "the real token is untouched by the forgeries' revocation");
}

#[tokio::test]
async fn a_forged_id_token_hint_signs_nobody_out() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let code = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid").await;
    let (_, tokens) = redeem(&app, PORTAL, &code, PORTAL_CALLBACK).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    for forged in forgeries(&app.url, id_token, &json!({})).await {
        let url = format!(
            "{}/logout?id_token_hint={forged}&post_logout_redirect_uri={}",
            app.url,
            urlencode("http://127.0.0.1:8081/")
        );
        let page = browser.get(&url).await;
        assert_eq!(page.status, 400, "{forged}: {}", page.body);
        assert!(page.location.is_none(), "no redirect on a forged hint");
        assert!(browser.has_session(), "still signed in");
    }
    let again = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid").await;
    assert!(!again.code.is_empty(), "the session lives on");
}

#[tokio::test]
async fn forged_client_assertions_are_refused() {
    use danang_sso::config::ClientConfig;
    use danang_sso::keys::{Alg, KeySet};
    let client_keys = std::env::temp_dir().join(format!("danang-sso-attack-kiosk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&client_keys);
    danang_sso::keys::generate(&client_keys, Alg::RS256, 1).unwrap();
    let kiosk = KeySet::load(&client_keys, Alg::RS256).unwrap();
    let jwks = String::from_utf8(kiosk.jwks_json().to_vec()).unwrap();
    let mut config = test_config();
    config.clients.push(ClientConfig {
        client_id: "kiosk".into(),
        jwks: Some(jwks.clone()),
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["tiepdan.read".into()],
        ..Default::default()
    });
    let app = TestApp::start_with(config).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let aud = format!("{}/token", app.url);
    let claims = json!({"iss": "kiosk", "sub": "kiosk", "aud": aud, "exp": now + 60, "iat": now, "jti": "j-1"});
    let genuine = kiosk.sign("JWT", &claims, Some(Alg::RS256)).unwrap();
    let published: Value = serde_json::from_str(&jwks).unwrap();
    let key = &published["keys"][0];
    let mut forged = vec![forge(&genuine, &json!({"jti": "j-2"}), "none", b"")];
    forged.push(forge(&genuine, &json!({"jti": "j-3"}), "HS256", key.to_string().as_bytes()));
    forged.push(forge(&genuine, &json!({"jti": "j-4"}), "HS256", &B64.decode(key["n"].as_str().unwrap()).unwrap()));
    for assertion in forged {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", "kiosk"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion.as_str()),
        ];
        let (status, body) = post(&app, "/token", None, &form).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{assertion}");
    }
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", genuine.as_str()),
    ];
    assert_eq!(post(&app, "/token", None, &form).await.0, 200, "the genuine assertion still works");
    std::fs::remove_dir_all(&client_keys).unwrap();
}
