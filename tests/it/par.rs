//! Pushed authorization requests (RFC 9126) over HTTP: a certified client library (`openidconnect`, which has no
//! PAR support of its own, so its authorization request is pushed with a plain HTTP client and it does the rest)
//! signs in through `/par`; a `request_uri` works once and not after its lifetime; a client required to push
//! cannot use `/authorize` directly; pushes are refused with RFC 9126 JSON errors; with the Redis store a request
//! pushed on one instance is used on another.

use openidconnect::TokenResponse;
use reqwest::StatusCode;
use serde_json::Value;

use crate::app::{TestApp, test_config};
use crate::browser::{Browser, PASSWORD, Page};
use crate::harness::Redis;
use crate::rp::{Pending, Rp, payload};
use crate::shared_store::app_config;

const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
const REUSED_VI: &str = "Yêu cầu đăng nhập đã hết hạn hoặc đã được sử dụng. Vui lòng quay lại ứng dụng và thử lại.";

/// Pushes the authorization request `pending` carries (as `openidconnect` built it) to `issuer`'s `/par`,
/// authenticated as the demo client.
async fn push(issuer: &str, client_id: &str, secret: &str, pending: &Pending) -> (StatusCode, Value) {
    let url = url::Url::parse(&pending.url).unwrap();
    let fields: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    push_fields(issuer, client_id, secret, &fields).await
}

async fn push_fields(issuer: &str, client_id: &str, secret: &str, fields: &[(String, String)]) -> (StatusCode, Value) {
    let response = crate::app::http()
        .post(format!("{issuer}/par"))
        .basic_auth(client_id, Some(secret))
        .form(fields)
        .send()
        .await
        .expect("POST /par");
    let status = response.status();
    let cache = response.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
    if status == StatusCode::CREATED || status == StatusCode::BAD_REQUEST {
        assert_eq!(cache.as_deref(), Some("no-store"));
    }
    (status, response.json().await.expect("a JSON answer"))
}

fn authorize_url(issuer: &str, client_id: &str, request_uri: &str) -> String {
    let mut url = url::Url::parse(&format!("{issuer}/authorize")).unwrap();
    url.query_pairs_mut().append_pair("client_id", client_id).append_pair("request_uri", request_uri);
    url.into()
}

/// Pushes, checks the 201 answer, and returns the `request_uri`.
async fn pushed(issuer: &str, client_id: &str, pending: &Pending) -> String {
    let (status, json) = push(issuer, client_id, &format!("{client_id}-secret"), pending).await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    assert_eq!(json["expires_in"], 60);
    let request_uri = json["request_uri"].as_str().expect("a request_uri").to_owned();
    assert!(request_uri.starts_with(PREFIX), "{request_uri}");
    request_uri
}

/// Signs in on the form `page` and checks the app gets a code.
async fn sign_in_to_code(issuer: &str, browser: &mut Browser, page: &Page, rp: &Rp) -> Page {
    let done = browser.sign_in(issuer, page, "dungnv", PASSWORD).await;
    assert!(done.location.as_deref().is_some_and(|l| l.starts_with(&rp.redirect)), "{:?} {}", done.location, done.body);
    done
}

#[tokio::test]
async fn a_certified_client_signs_in_through_a_pushed_request() {
    let app = TestApp::start().await;
    let meta: Value = crate::app::http()
        .get(format!("{}/.well-known/openid-configuration", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["pushed_authorization_request_endpoint"], format!("{}/par", app.url));
    assert_eq!(meta["require_pushed_authorization_requests"], false);

    let rp = Rp::demo(&app.url, "portal").await;
    let pending = rp.start(&["profile", "email"], &[("ui_locales", "en")]);
    let request_uri = pushed(&app.url, "portal", &pending).await;
    let mut browser = Browser::new();
    let form = browser.get(&authorize_url(&app.url, "portal", &request_uri)).await;
    assert!(form.is_login_form(), "{}", form.body);
    assert!(form.body.contains("Sign in to"), "the pushed ui_locales=en counts");
    let hidden: Vec<String> = form.hidden_fields().into_iter().map(|(k, _)| k).collect();
    assert!(hidden.contains(&"pushed_request".to_owned()), "{hidden:?}");
    assert!(!hidden.contains(&"redirect_uri".to_owned()), "the form carries the sealed request, not its parts");

    let done = sign_in_to_code(&app.url, &mut browser, &form, &rp).await;
    let nonce = pending.nonce.clone();
    let tokens = rp.exchange(pending, &done).await;
    let id_token = tokens.id_token().expect("an ID token");
    id_token.claims(&rp.client.id_token_verifier(), &nonce).expect("the ID token verifies with its nonce");
    let claims = payload(&id_token.to_string());
    assert_eq!(claims["email"], "dungnv@danang.gov.vn");

    // A sealed request is only ever taken from our own pages: sent to /authorize, it is not passed on.
    let mut smuggled = url::Url::parse(&rp.start(&[], &[]).url).unwrap();
    smuggled.query_pairs_mut().append_pair("pushed_request", "eyJhbGciOiJub25lIn0.e30.");
    let form = Browser::new().get(smuggled.as_str()).await;
    assert!(form.is_login_form());
    assert!(!form.hidden_fields().iter().any(|(k, _)| k == "pushed_request"), "{}", form.body);

    // A sealed request altered in the browser is refused.
    let pending = rp.start(&[], &[]);
    let request_uri = pushed(&app.url, "portal", &pending).await;
    let mut other = Browser::new();
    let form = other.get(&authorize_url(&app.url, "portal", &request_uri)).await;
    let mut fields = form.hidden_fields();
    for (k, v) in fields.iter_mut() {
        if k == "pushed_request" {
            v.replace_range(v.len() - 4.., "AAAA");
        }
    }
    fields.push(("username".into(), "dungnv".into()));
    fields.push(("password".into(), PASSWORD.into()));
    let refused = other.post_form(&format!("{}/login", app.url), &fields).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("Biểu mẫu đã hết hạn. Vui lòng quay lại ứng dụng và thử lại."), "{}", refused.body);
    assert!(!other.has_session());
}

#[tokio::test]
async fn a_request_uri_works_once_and_not_after_its_lifetime() {
    let app = TestApp::start().await;
    let rp = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let pending = rp.start(&[], &[]);
    let request_uri = pushed(&app.url, "portal", &pending).await;
    let url = authorize_url(&app.url, "portal", &request_uri);
    assert!(browser.get(&url).await.is_login_form());
    let reused = browser.get(&url).await;
    assert_eq!(reused.status, 400);
    assert_eq!(reused.location, None, "never redirected");
    assert!(reused.body.contains(REUSED_VI), "{}", reused.body);

    // Used by another client_id than the one that pushed it: refused (and spent).
    let request_uri = pushed(&app.url, "portal", &rp.start(&[], &[])).await;
    let wrong = browser.get(&authorize_url(&app.url, "vanban", &request_uri)).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains(REUSED_VI));

    // One second past its 60: refused.
    let request_uri = pushed(&app.url, "portal", &rp.start(&[], &[])).await;
    app.clock.advance(61);
    let expired = browser.get(&authorize_url(&app.url, "portal", &request_uri)).await;
    assert_eq!(expired.status, 400);
    assert!(expired.body.contains(REUSED_VI), "{}", expired.body);
    let unknown = browser.get(&authorize_url(&app.url, "portal", &format!("{PREFIX}never-pushed"))).await;
    assert_eq!(unknown.status, 400);
}

#[tokio::test]
async fn a_client_required_to_push_cannot_use_authorize_directly() {
    let mut config = test_config();
    config.clients.iter_mut().find(|c| c.client_id == "portal").unwrap().require_pushed_authorization_requests = true;
    let app = TestApp::start_with(config).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let pending = portal.start(&[], &[]);
    let direct = browser.get(&pending.url).await;
    assert_eq!(direct.status, 303);
    assert!(direct.location.as_deref().unwrap().starts_with("http://127.0.0.1:8081/callback?"));
    assert_eq!(direct.redirect_param("error").as_deref(), Some("invalid_request"));
    assert_eq!(
        direct.redirect_param("error_description").as_deref(),
        Some("this client must push its authorization requests to /par (RFC 9126)")
    );
    assert_eq!(direct.redirect_param("state").as_deref(), Some(pending.state.secret().as_str()));
    assert!(!browser.has_session(), "no form was shown");

    // Through /par it signs in; other clients still may come directly.
    let request_uri = pushed(&app.url, "portal", &pending).await;
    let form = browser.get(&authorize_url(&app.url, "portal", &request_uri)).await;
    let done = sign_in_to_code(&app.url, &mut browser, &form, &portal).await;
    portal.exchange(pending, &done).await;
    let vanban = Rp::demo(&app.url, "vanban").await;
    let page = browser.get(&vanban.start(&[], &[]).url).await;
    assert!(page.redirect_param("code").is_some(), "vanban is not required to push");
}

#[tokio::test]
async fn the_global_setting_requires_every_client_to_push_and_is_in_discovery() {
    let mut config = test_config();
    config.oidc.require_pushed_authorization_requests = true;
    let app = TestApp::start_with(config).await;
    let meta: Value = crate::app::http()
        .get(format!("{}/.well-known/openid-configuration", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["require_pushed_authorization_requests"], true);
    let vanban = Rp::demo(&app.url, "vanban").await;
    let direct = Browser::new().get(&vanban.start(&[], &[]).url).await;
    assert_eq!(direct.redirect_param("error").as_deref(), Some("invalid_request"));
}

#[tokio::test]
async fn pushes_are_refused_with_rfc_9126_errors() {
    let app = TestApp::start().await;
    let rp = Rp::demo(&app.url, "portal").await;
    let pending = rp.start(&[], &[]);
    let (status, json) = push(&app.url, "portal", "wrong-secret", &pending).await;
    assert_eq!((status, json["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));

    let base: Vec<(String, String)> =
        url::Url::parse(&pending.url).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let with = |key: &str, value: &str| -> Vec<(String, String)> {
        base.iter().map(|(k, v)| (k.clone(), if k == key { value.to_owned() } else { v.clone() })).collect()
    };
    let cases = [
        (
            with("redirect_uri", "https://evil.example/cb"),
            "invalid_request",
            "redirect_uri is not registered for this client",
        ),
        (with("scope", "profile"), "invalid_scope", "scope must include openid"),
        (with("response_type", "token"), "unsupported_response_type", "only response_type=code is supported"),
        (with("client_id", "vanban"), "invalid_request", "client_id does not match the Authorization header"),
    ];
    for (fields, error, description) in cases {
        let (status, json) = push_fields(&app.url, "portal", "portal-secret", &fields).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
        assert_eq!(json["error"], error);
        assert_eq!(json["error_description"], description);
    }
    let mut nested = base.clone();
    nested.push(("request_uri".into(), format!("{PREFIX}x")));
    let (status, json) = push_fields(&app.url, "portal", "portal-secret", &nested).await;
    assert_eq!((status, json["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
}

#[tokio::test]
async fn with_the_redis_store_a_request_pushed_on_one_instance_is_used_on_another_once() {
    let redis = Redis::start();
    let a = TestApp::start_with(app_config(&redis, "par:")).await;
    let b = TestApp::start_with(app_config(&redis, "par:")).await;
    let rp_a = Rp::demo(&a.url, "portal").await;
    let rp_b = Rp::demo(&b.url, "portal").await;
    let pending = rp_a.start(&["profile"], &[]);
    let request_uri = pushed(&a.url, "portal", &pending).await;
    let mut browser = Browser::new();
    let form = browser.get(&authorize_url(&b.url, "portal", &request_uri)).await;
    assert!(form.is_login_form(), "B finds the request A stored: {}", form.body);
    let done = sign_in_to_code(&b.url, &mut browser, &form, &rp_b).await;
    let nonce = pending.nonce.clone();
    let tokens = rp_b.exchange(pending, &done).await;
    tokens.id_token().unwrap().claims(&rp_b.client.id_token_verifier(), &nonce).expect("B's ID token verifies");
    let again = browser.get(&authorize_url(&a.url, "portal", &request_uri)).await;
    assert_eq!(again.status, 400, "spent on B means spent on A");
    assert!(again.body.contains(REUSED_VI));
}
