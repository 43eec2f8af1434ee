//! SAML logout attacks (issue 14, hole 6): LogoutResponses that answer nothing we sent, or carry no signature,
//! must change nothing; a LogoutRequest from an SP that took no part in the session must not end it.

use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;

use crate::app::TestApp;
use crate::browser::Browser;
use crate::saml::{app_with, send, sign_in};
use crate::saml_sp::Sp;

const SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A LogoutResponse from `sp` to our SLO endpoint answering `in_response_to`, over HTTP-Redirect; signed with
/// the SP's own key when `signed`.
fn logout_response_url(app: &TestApp, sp: &Sp, in_response_to: &str, signed: bool) -> String {
    let now = danang_sso::saml::time::format(app.clock.now());
    let xml = format!(
        r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_attack{}" Version="2.0" IssueInstant="{now}" Destination="{}/saml/slo" InResponseTo="{in_response_to}"><saml:Issuer>{}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#,
        danang_sso::oidc::random_id().replace('-', "x"),
        app.url,
        sp.entity_id
    );
    let mut query = format!("SAMLResponse={}", enc(&danang_sso::saml::binding::encode_redirect(&xml)));
    if signed {
        query.push_str(&format!("&SigAlg={}", enc(SHA256)));
        let pem = std::fs::read_to_string(sp.dir.join("sp.key")).unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let kp = RsaKeyPair::from_pkcs8(&STANDARD.decode(b64).unwrap()).unwrap();
        let mut sig = vec![0; kp.public_modulus_len()];
        kp.sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), query.as_bytes(), &mut sig).unwrap();
        query.push_str(&format!("&Signature={}", enc(&STANDARD.encode(sig))));
    }
    format!("{}/saml/slo?{query}", app.url)
}

/// Whether the browser's SSO session still signs it in to `sp` without a form.
async fn still_signed_in(app: &TestApp, browser: &mut Browser, sp: &Sp) -> bool {
    let request = sp.authn(&["--passive"]);
    let page = send(app, browser, &request).await;
    !page.is_login_form() && page.body.contains("SAMLResponse") && {
        let (_, fields) = crate::saml_sp::form_post(&page);
        sp.response(request["id"].as_str().unwrap(), &fields).is_ok_and(|r| r["name_id"].is_string())
    }
}

/// The audit trail has `n` refusals of `sp`'s messages for `reason`, and no other refusal.
async fn refused_with(app: &TestApp, sp: &Sp, reason: &str, n: usize) {
    let refusal = |l: &serde_json::Value| {
        l["event"] == "saml_request_refused" && l["reason"] == reason && l["client"] == sp.entity_id.as_str()
    };
    app.wait_for_audit(n, refusal).await;
    let lines = app.audit_lines();
    let refused: Vec<_> = lines.iter().filter(|l| l["event"] == "saml_request_refused").collect();
    assert_eq!(refused.len(), n, "{refused:?}");
    assert!(refused.iter().all(|l| refusal(l)), "{refused:?}");
    assert!(!lines.iter().any(|l| l["event"] == "logout"), "no logout was recorded");
}

#[tokio::test]
async fn an_unsigned_logout_response_changes_nothing() {
    let sp = Sp::new("atk-unsigned-lr");
    let app = app_with(&[(&sp, "Văn bản")], |_| {}).await;
    let mut browser = Browser::new();
    sign_in(&app, &mut browser, &sp, &[]).await;

    let page = browser.get(&logout_response_url(&app, &sp, "_whatever", false)).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(browser.has_session(), "the session cookie is kept");
    assert!(still_signed_in(&app, &mut browser, &sp).await, "the session still signs in");
    refused_with(&app, &sp, "unsigned_response", 1).await;
}

#[tokio::test]
async fn a_signed_logout_response_to_a_request_we_never_sent_changes_nothing() {
    let sp = Sp::new("atk-unsolicited-lr");
    let app = app_with(&[(&sp, "Văn bản")], |_| {}).await;
    let mut browser = Browser::new();
    sign_in(&app, &mut browser, &sp, &[]).await;

    for in_response_to in ["_never-sent", "_forged.1795886563.AAAAAAAAAAAAAAAAAAAAAA"] {
        let page = browser.get(&logout_response_url(&app, &sp, in_response_to, true)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        assert!(browser.has_session(), "the session cookie is kept");
    }
    assert!(still_signed_in(&app, &mut browser, &sp).await, "the session still signs in");
    refused_with(&app, &sp, "unsolicited_response", 2).await;
}

#[tokio::test]
async fn a_logout_request_from_an_sp_outside_the_session_is_refused() {
    let (used, bystander) = (Sp::new("atk-slo-used"), Sp::new("atk-slo-bystander"));
    let app = app_with(&[(&used, "Văn bản"), (&bystander, "Tiếp dân")], |_| {}).await;
    let mut browser = Browser::new();
    let (got, _) = sign_in(&app, &mut browser, &used, &[]).await;
    let sid = got["session_index"].as_str().unwrap();

    // The bystander knows the mailbox (and even the session index, which SPs see): it still may not end the
    // session it never took part in.
    let request = bystander.ok("logout", &["dungnv@danang.gov.vn", sid]);
    let page = send(&app, &mut browser, &request).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "answered with a LogoutResponse: {}", page.body);
    let error = bystander.refused("logout-response", &[page.location.as_deref().unwrap()]);
    assert!(error.contains("status:Requester"), "{error}");
    assert!(browser.has_session());
    assert!(still_signed_in(&app, &mut browser, &used).await, "the session still signs in");
    refused_with(&app, &bystander, "not_a_participant", 1).await;
}
