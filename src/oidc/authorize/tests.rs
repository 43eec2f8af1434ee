//! The authorization endpoint's pure parts: request validation and the session decision, without HTTP.

use super::*;
use crate::config::ClientConfig;
use crate::oidc::clients::Clients;
use crate::oidc::request::{AuthorizeError, AuthorizeParams, validate};

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn clients() -> Clients {
    Clients::new(&[
        ClientConfig {
            client_id: "portal".into(),
            client_secret_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into()),
            redirect_uris: vec!["https://portal.danang.gov.vn/callback".into()],
            ..Default::default()
        },
        ClientConfig {
            client_id: "spa".into(),
            public: true,
            redirect_uris: vec!["https://spa.danang.gov.vn/cb".into()],
            scopes: vec!["openid".into(), "profile".into()],
            ..Default::default()
        },
    ])
    .unwrap()
}

fn params(client: &str, redirect: &str) -> AuthorizeParams {
    AuthorizeParams {
        client_id: Some(client.into()),
        redirect_uri: Some(redirect.into()),
        response_type: Some("code".into()),
        scope: Some("openid profile email".into()),
        state: Some("st".into()),
        ..Default::default()
    }
}

fn portal() -> AuthorizeParams {
    params("portal", "https://portal.danang.gov.vn/callback")
}

fn redirect_error(p: &AuthorizeParams) -> RedirectError {
    match validate(p, &clients()) {
        Err(AuthorizeError::Redirect(r)) => r,
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

#[test]
fn unknown_client_and_unregistered_redirect_are_pages_never_redirects() {
    let cases = [
        params("nobody", "https://portal.danang.gov.vn/callback"),
        params("portal", "https://evil.example/callback"),
        params("portal", "https://portal.danang.gov.vn/callback/"),
        params("portal", "https://portal.danang.gov.vn/callback?x=1"),
        AuthorizeParams { redirect_uri: None, ..portal() },
    ];
    for p in cases {
        assert!(matches!(validate(&p, &clients()), Err(AuthorizeError::Page(_))), "{p:?}");
    }
}

#[test]
fn protocol_errors_go_back_to_the_registered_uri_with_state() {
    let e = redirect_error(&AuthorizeParams { response_type: Some("token".into()), ..portal() });
    assert_eq!((e.error, e.state.as_deref()), ("unsupported_response_type", Some("st")));
    assert_eq!(e.redirect_uri, "https://portal.danang.gov.vn/callback");
    assert_eq!(redirect_error(&AuthorizeParams { scope: Some("profile".into()), ..portal() }).error, "invalid_scope");
    let plain = AuthorizeParams {
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("plain".into()),
        ..portal()
    };
    assert_eq!(redirect_error(&plain).error, "invalid_request");
    let no_method = AuthorizeParams { code_challenge: Some(CHALLENGE.into()), ..portal() };
    assert_eq!(redirect_error(&no_method).error, "invalid_request");
    assert_eq!(
        redirect_error(&AuthorizeParams { prompt: Some("none login".into()), ..portal() }).error,
        "invalid_request"
    );
    assert_eq!(redirect_error(&AuthorizeParams { max_age: Some("soon".into()), ..portal() }).error, "invalid_request");
    assert_eq!(
        redirect_error(&AuthorizeParams { request: Some("x.y.z".into()), ..portal() }).error,
        "request_not_supported"
    );
}

#[test]
fn public_clients_must_use_pkce_and_get_only_their_scopes() {
    let spa = params("spa", "https://spa.danang.gov.vn/cb");
    assert_eq!(redirect_error(&spa).error, "invalid_request");
    let with_pkce = AuthorizeParams {
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        scope: Some("openid profile email groups bogus".into()),
        ..spa
    };
    let req = validate(&with_pkce, &clients()).unwrap();
    assert_eq!(req.scope, ["openid", "profile"]);
    assert_eq!(req.code_challenge.as_deref(), Some(CHALLENGE));
}

fn session(auth_time: u64) -> Session {
    Session {
        id: "sid".into(),
        account: "dungnv@danang.gov.vn".into(),
        subject: "u".into(),
        auth_time,
        expires_at: 9e9 as u64,
        ..Session::default()
    }
}

#[test]
fn the_session_decides_whether_to_ask_for_the_password() {
    let base = validate(&portal(), &clients()).unwrap();
    let with = |prompt: Prompt, max_age: Option<u64>| AuthRequest { prompt, max_age, ..base.clone() };
    let now = 10_000;
    let s = session(now - 100);
    assert_eq!(decide(&with(Prompt::Default, None), Some(&s), now), Decision::Reuse);
    assert_eq!(decide(&with(Prompt::Default, None), None, now), Decision::AskPassword);
    assert_eq!(decide(&with(Prompt::None, None), Some(&s), now), Decision::Reuse);
    assert_eq!(decide(&with(Prompt::None, None), None, now), Decision::LoginRequired);
    assert_eq!(decide(&with(Prompt::Login, None), Some(&s), now), Decision::AskPassword);
    assert_eq!(decide(&with(Prompt::Default, Some(100)), Some(&s), now), Decision::Reuse);
    assert_eq!(decide(&with(Prompt::Default, Some(99)), Some(&s), now), Decision::AskPassword);
    assert_eq!(decide(&with(Prompt::None, Some(99)), Some(&s), now), Decision::LoginRequired);
}
