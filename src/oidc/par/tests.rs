//! The pure parts of pushed requests, prompt values and consent: what is refused at push time and why, which
//! clients must push, and when the consent page is due.

use std::sync::Arc;

use super::*;
use crate::config::ClientConfig;
use crate::oidc::consent::{Record, must_ask};
use crate::oidc::request::{AuthorizeError, Prompt, validate};

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn clients() -> Clients {
    Clients::new(&[
        ClientConfig {
            client_id: "portal".into(),
            redirect_uris: vec!["https://portal.danang.gov.vn/callback".into()],
            public: true,
            ..Default::default()
        },
        ClientConfig {
            client_id: "strict".into(),
            redirect_uris: vec!["https://strict.danang.gov.vn/cb".into()],
            public: true,
            consent: true,
            require_pushed_authorization_requests: true,
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
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        ..Default::default()
    }
}

fn strict() -> AuthorizeParams {
    params("strict", "https://strict.danang.gov.vn/cb")
}

fn client(id: &str) -> Arc<Client> {
    clients().get(id).unwrap().clone()
}

#[test]
fn a_valid_push_is_checked_as_authorize_would_and_marked_pushed() {
    let mut p = AuthorizeParams { client_id: None, ..strict() };
    let req = check_push(&mut p, &client("strict"), &clients()).unwrap();
    assert!(req.pushed);
    assert_eq!(p.client_id.as_deref(), Some("strict"), "the authenticated client is filled in");
    assert_eq!(req.scope, ["openid", "profile", "email"]);
}

#[test]
fn pushes_are_refused_with_the_authorize_error_codes() {
    let refuse =
        |mut p: AuthorizeParams, as_client: &str| check_push(&mut p, &client(as_client), &clients()).unwrap_err();
    let e = refuse(AuthorizeParams { redirect_uri: Some("https://evil.example/cb".into()), ..strict() }, "strict");
    assert_eq!(e.error, "invalid_request");
    assert_eq!(e.description, "redirect_uri is not registered for this client");
    let e = refuse(AuthorizeParams { scope: Some("profile".into()), ..strict() }, "strict");
    assert_eq!((e.error, e.description.as_str()), ("invalid_scope", "scope must include openid"));
    let e = refuse(AuthorizeParams { response_type: Some("token".into()), ..strict() }, "strict");
    assert_eq!(e.error, "unsupported_response_type");
    let e = refuse(AuthorizeParams { code_challenge: None, code_challenge_method: None, ..strict() }, "strict");
    assert_eq!((e.error, e.description.as_str()), ("invalid_request", "public clients must use PKCE (S256)"));
    let e = refuse(AuthorizeParams { request_uri: Some(format!("{REQUEST_URI_PREFIX}x")), ..strict() }, "strict");
    assert_eq!((e.error, e.description.as_str()), ("invalid_request", "request_uri must not be pushed"));
    let e = refuse(strict(), "portal");
    assert_eq!(
        (e.error, e.description.as_str()),
        ("invalid_request", "client_id does not match the authenticated client")
    );
}

#[test]
fn a_client_required_to_push_cannot_come_to_authorize_directly() {
    match validate(&strict(), &clients()) {
        Err(AuthorizeError::Redirect(r)) => {
            assert_eq!(r.error, "invalid_request");
            assert_eq!(r.description, "this client must push its authorization requests to /par (RFC 9126)");
            assert_eq!(r.redirect_uri, "https://strict.danang.gov.vn/cb");
        }
        other => panic!("expected a redirect error, got {other:?}"),
    }
    assert!(validate_as(&strict(), &clients(), true).is_ok());
    // Others may do either.
    assert!(validate(&params("portal", "https://portal.danang.gov.vn/callback"), &clients()).is_ok());
}

#[test]
fn prompt_values_are_parsed_together() {
    let with = |prompt: &str| {
        let p = AuthorizeParams {
            prompt: Some(prompt.into()),
            ..params("portal", "https://portal.danang.gov.vn/callback")
        };
        validate(&p, &clients())
    };
    let r = with("select_account consent").unwrap();
    assert_eq!((r.prompt, r.select_account, r.consent), (Prompt::Default, true, true));
    let r = with("login select_account").unwrap();
    assert_eq!((r.prompt, r.select_account, r.consent), (Prompt::Login, true, false));
    let r = with("none").unwrap();
    assert_eq!((r.prompt, r.select_account, r.consent), (Prompt::None, false, false));
    match with("none select_account") {
        Err(AuthorizeError::Redirect(r)) => assert_eq!(r.error, "invalid_request"),
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

#[test]
fn discovery_advertises_par_and_only_implemented_prompt_values() {
    let doc: serde_json::Value =
        serde_json::from_slice(&crate::oidc::discovery::document("https://sso.x", true)).unwrap();
    assert_eq!(doc["pushed_authorization_request_endpoint"], "https://sso.x/par");
    assert_eq!(doc["require_pushed_authorization_requests"], true);
    assert_eq!(doc["prompt_values_supported"], serde_json::json!(["none", "login", "consent", "select_account"]));
}

#[test]
fn consent_is_asked_unless_remembered_for_the_scopes_in_a_live_session() {
    let strict_req = validate_as(&strict(), &clients(), true).unwrap();
    let record = |scope: &[&str]| Record { scope: scope.iter().map(|s| s.to_string()).collect(), sid: "s1".into() };
    assert!(must_ask(&strict_req, None, false), "never given");
    assert!(!must_ask(&strict_req, Some(&record(&["openid", "profile", "email"])), true), "given in a live session");
    assert!(must_ask(&strict_req, Some(&record(&["openid", "profile", "email"])), false), "its session ended");
    assert!(must_ask(&strict_req, Some(&record(&["openid", "profile"])), true), "a new scope asks again");
    let explicit = crate::oidc::request::AuthRequest { consent: true, ..strict_req.clone() };
    assert!(must_ask(&explicit, Some(&record(&["openid", "profile", "email"])), true), "prompt=consent always asks");
    let portal = validate(&params("portal", "https://portal.danang.gov.vn/callback"), &clients()).unwrap();
    assert!(!must_ask(&portal, None, false), "a client without consent = true is not asked");
    let portal_explicit = crate::oidc::request::AuthRequest { consent: true, ..portal };
    assert!(must_ask(&portal_explicit, None, false), "unless the app sends prompt=consent");
}
