//! A SAML SP registered with `require_mfa`: a session made with the password alone is asked only for the second
//! factor, and the assertion the SP accepts carries the REFEDS MFA `AuthnContextClassRef`.

use super::*;
use crate::saml::{app_with, send};
use crate::saml_sp::{Sp, form_post, response_xml};

#[tokio::test]
async fn an_sp_with_require_mfa_gets_the_refeds_mfa_class() {
    let sp = Sp::new("hotich");
    let app = app_with(&[(&sp, "Hộ tịch")], |c| {
        for s in &mut c.saml.service_providers {
            s.require_mfa = true;
        }
    })
    .await;
    let mut enrolling = Browser::new();
    sign_in_to_account(&app, &mut enrolling, "haltt").await;
    let (secret, _) = enrol_totp(&app, &mut enrolling).await;

    let mut browser = Browser::new();
    Rp::demo(&app.url, "portal").await.sign_in(&app.url, &mut browser, "haltt", &[]).await;
    // IsPassive cannot show the second-factor page: NoPassive, never an assertion from the password alone.
    let passive = sp.authn(&["--passive"]);
    let page = send(&app, &mut browser, &passive).await;
    let (_, fields) = form_post(&page);
    let refused = sp.response(passive["id"].as_str().unwrap(), &fields).expect_err("no assertion");
    assert!(refused["error"].as_str().unwrap().contains("NoPassive"), "{refused}");
    let request = sp.authn(&[]);
    let page = send(&app, &mut browser, &request).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.location.as_deref().unwrap().starts_with("/mfa?continue="), "{:?}", page.location);
    let form = follow(&app, &mut browser, &page).await;
    assert!(!form.body.contains(r#"name="password""#), "the step-up asks no password");
    let passed = post_otp(&app, &mut browser, &form, &next_code(&app, &secret, 1)).await;
    assert_eq!(passed.status, 303);
    let answer = follow(&app, &mut browser, &passed).await;
    let (_, fields) = form_post(&answer);
    let xml = response_xml(&fields);
    assert!(
        xml.contains("<saml:AuthnContextClassRef>https://refeds.org/profile/mfa</saml:AuthnContextClassRef>"),
        "{xml}"
    );
    sp.response(request["id"].as_str().unwrap(), &fields).unwrap_or_else(|e| panic!("the SP refused it: {e}"));
}
