//! SAML `RequestedAuthnContext`, through the pysaml2 SP with real (signed and unsigned) AuthnRequests: the
//! REFEDS MFA class asks for two factors like `require_mfa` (Comparison exact or minimum); a class we cannot
//! earn is answered `NoAuthnContext` at the SP's ACS, never a dead end; the assertion carries the class used.

use super::*;
use crate::saml::{app_with, send};
use crate::saml_sp::{Sp, form_post, response_xml};

const REFEDS_MFA: &str = "https://refeds.org/profile/mfa";
const PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password";

/// A browser signed in with the password alone at `portal`.
async fn password_session(app: &TestApp, user: &str) -> Browser {
    let mut browser = Browser::new();
    Rp::demo(&app.url, "portal").await.sign_in(&app.url, &mut browser, user, &[]).await;
    browser
}

#[tokio::test]
async fn the_refeds_mfa_class_asks_for_the_second_factor_and_is_asserted() {
    let sp = Sp::new("hotich-acr");
    // The SP signs its requests, but may also send them unsigned (both are tried).
    let app =
        app_with(&[(&sp, "Hộ tịch")], |c| c.saml.service_providers[0].want_authn_requests_signed = Some(false)).await;
    let mut enrolling = Browser::new();
    sign_in_to_account(&app, &mut enrolling, "haltt").await;
    let (secret, _) = enrol_totp(&app, &mut enrolling).await;

    for (i, (comparison, signing)) in [("exact", None), ("minimum", Some("--unsigned"))].into_iter().enumerate() {
        let mut browser = password_session(&app, "haltt").await;
        let mut flags = vec!["--authn-context", REFEDS_MFA, "--comparison", comparison];
        flags.extend(signing);
        let request = sp.authn(&flags);
        let page = send(&app, &mut browser, &request).await;
        assert_eq!(page.status, 303, "{comparison}: {}", page.body);
        assert!(page.location.as_deref().unwrap().starts_with("/mfa?continue="), "{:?}", page.location);
        let form = follow(&app, &mut browser, &page).await;
        assert!(!form.body.contains(r#"name="password""#), "the step-up asks no password");
        // Each round a step later (a code is accepted once).
        app.clock.advance(30 * i as i64);
        let passed = post_otp(&app, &mut browser, &form, &next_code(&app, &secret, 1)).await;
        assert_eq!(passed.status, 303, "{}", passed.body);
        let answer = follow(&app, &mut browser, &passed).await;
        let (acs, fields) = form_post(&answer);
        assert_eq!(acs, sp.acs);
        let accepted = sp.response(request["id"].as_str().unwrap(), &fields).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(accepted["authn_context_class"], REFEDS_MFA, "{comparison}");
    }

    // Without RequestedAuthnContext (and no require_mfa), the password session is answered as before.
    let mut browser = password_session(&app, "haltt").await;
    let request = sp.authn(&[]);
    let (_, fields) = form_post(&send(&app, &mut browser, &request).await);
    let accepted = sp.response(request["id"].as_str().unwrap(), &fields).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(accepted["authn_context_class"], PASSWORD);
}

#[tokio::test]
async fn a_person_with_no_factor_enrols_first_when_the_sp_asks_for_mfa() {
    let sp = Sp::new("hotich-acr-enrol");
    let app = app_with(&[(&sp, "Hộ tịch")], |_| {}).await;
    let mut browser = Browser::new();
    let request = sp.authn(&["--authn-context", REFEDS_MFA]);
    let form = send(&app, &mut browser, &request).await;
    let after = browser.sign_in(&app.url, &form, "dungnv", PASSWORD_OF_DEMO).await;
    assert_eq!(after.status, 303, "{}", after.body);
    assert!(after.location.as_deref().unwrap().starts_with("/tai-khoan/totp?continue="), "{:?}", after.location);
}

const PASSWORD_OF_DEMO: &str = crate::browser::PASSWORD;

#[tokio::test]
async fn a_class_we_cannot_earn_gets_no_authn_context_at_the_acs() {
    let sp = Sp::new("hotich-smartcard");
    let smartcard = "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard";
    let app =
        app_with(&[(&sp, "Hộ tịch")], |c| c.saml.service_providers[0].want_authn_requests_signed = Some(false)).await;
    for (browser, signing) in [(Browser::new(), None), (password_session(&app, "dungnv").await, Some("--unsigned"))] {
        let mut browser = browser;
        let mut flags = vec!["--authn-context", smartcard];
        flags.extend(signing);
        let request = sp.authn(&flags);
        let page = send(&app, &mut browser, &request).await;
        // Back to the SP's ACS with a signed status, not a page of ours and not a sign-in form.
        let (acs, fields) = form_post(&page);
        assert_eq!(acs, sp.acs);
        let xml = response_xml(&fields);
        let status = r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext">"#;
        assert!(xml.contains(status), "{xml}");
        assert!(!xml.contains("<saml:Assertion"), "no assertion: {xml}");
        let refused = sp.response(request["id"].as_str().unwrap(), &fields).expect_err("pysaml2 reports the status");
        assert!(refused.to_string().contains("NoAuthnContext"), "{refused}");
    }
}
