//! Interoperability with an independent SP: Debian's SimpleSAMLphp 1.19, unmodified, configured as its
//! documentation shows and registered with `danang-sso saml sp-add` from the metadata it publishes itself. A browser
//! tab follows redirects, frames and auto-posted forms. With its defaults (transient NameIDs, unsigned logout
//! messages): sign-in, single sign-on into an OIDC app, its logout confirmed and declined by the person, and an OIDC
//! logout reaching it in a frame; with its signing switched on: signed requests, and both sides' logout signatures
//! checked. The README's "Registering a SimpleSAMLphp SP" is these steps.

use std::process::Command;

use danang_sso::config::Config;
use openidconnect::TokenResponse;
use serde_json::json;

use crate::app::{TestApp, test_config};
use crate::browser::PASSWORD;
use crate::following::{Landed, Tab};
use crate::harness::SimpleSamlPhp;
use crate::rp::{Rp, payload};

const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
const MAIL: &str = "urn:oid:0.9.2342.19200300.100.1.3";
/// The demo account anhvn's authenticator secret (the embedded defaults).
const DEMO_TOTP: &str = "DANANGSSODEMOTOTPANHVN2345674ABC";
/// What SimpleSAMLphp logs when a LogoutResponse carries our "stay signed in" status.
const DENIED: &str = "Unsuccessful logout. Status was: SimpleSAML\\Module\\saml\\Error: Responder/RequestDenied";

/// SimpleSAMLphp registered with a running IdP (with the `sp-add` notes), and trusting it.
async fn registered(sp: SimpleSamlPhp) -> (SimpleSamlPhp, TestApp, String) {
    let http = crate::app::http();
    let fetch = |url: String| {
        let http = http.clone();
        async move {
            let response = http.get(&url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
            assert!(response.status().is_success(), "GET {url}: {}", response.status());
            response.text().await.unwrap()
        }
    };
    // Its metadata, from its own metadata URL, registered by the operators' command.
    let metadata = fetch(sp.metadata_url()).await;
    let file = sp.dir().join("sp.xml");
    std::fs::write(&file, &metadata).unwrap();
    let toml = sp.dir().join("danang-sso.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_danang-sso"))
        .args(["saml", "sp-add", "--metadata"])
        .arg(&file)
        .args(["--name", "Tiếp dân", "--output"])
        .arg(&toml)
        .env_clear()
        .output()
        .expect("run danang-sso saml sp-add");
    let notes = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "sp-add refused SimpleSAMLphp's metadata: {notes}\n{metadata}");
    let added = Config::load(Some(&toml)).unwrap_or_else(|e| panic!("the entry sp-add wrote loads: {e}"));
    let mut config = test_config();
    config.saml.service_providers = added.saml.service_providers;
    let app = TestApp::start_with(config).await;

    // Our metadata, converted by SimpleSAMLphp's own converter into metadata/saml20-idp-remote.php.
    let idp = format!("{}/saml/metadata", app.url);
    let converted = sp.trust_idp(&idp, &fetch(idp.clone()).await);
    assert!(converted.contains(&format!("{}/saml/sso", app.url)), "{converted}");
    (sp, app, notes)
}

/// Whether the IdP session still signs an OIDC app in without the form (`prompt=none`).
async fn idp_session_alive(app: &TestApp, tab: &mut Tab) -> bool {
    let portal = Rp::demo(&app.url, "portal").await;
    let pending = portal.start(&[], &[("prompt", "none")]);
    let page = tab.browser.get(&pending.url).await;
    match page.redirect_param("error").as_deref() {
        Some("login_required") => false,
        None if page.redirect_param("code").is_some() => true,
        other => panic!("prompt=none answered {other:?}: {} {:?}", page.status, page.location),
    }
}

/// The app's sign-out link up to our confirmation page.
async fn logout_to_confirmation(sp: &SimpleSamlPhp, app: &TestApp, tab: &mut Tab) -> Landed {
    let confirm = tab.open(&sp.logout_url()).await;
    assert!(confirm.url.starts_with(&format!("{}/saml/slo?", app.url)), "{:?}", confirm.trail);
    assert!(
        confirm.page.body.contains("Ứng dụng Tiếp dân đề nghị đăng xuất")
            && confirm.page.body.contains("Vẫn giữ đăng nhập"),
        "the confirmation page: {} {}",
        confirm.page.status,
        confirm.page.body
    );
    confirm
}

#[tokio::test]
async fn simplesamlphp_signs_in_single_signs_on_and_logs_out_with_its_defaults() {
    let (sp, app, notes) = registered(SimpleSamlPhp::start()).await;
    assert!(notes.contains("note: an unsigned LogoutRequest (SimpleSAMLphp's default)"), "{notes}");
    assert!(!notes.contains("warning:"), "nothing SimpleSAMLphp asks for is refused: {notes}");

    // The protected page sends the browser to us; the person signs in on our form.
    let mut tab = Tab::new();
    let form = tab.open(&sp.app_url()).await;
    assert!(form.url.starts_with(&format!("{}/saml/sso?SAMLRequest=", app.url)), "{:?}", form.trail);
    assert!(form.page.is_login_form(), "{} {}", form.page.status, form.page.body);
    assert!(form.page.body.contains("Đăng nhập để vào Tiếp dân"), "{}", form.page.body);
    let landed = tab.submit(&form, &[("username", "dungnv"), ("password", PASSWORD)]).await;
    assert_eq!(landed.url, sp.app_url(), "back on the protected page: {:?}", landed.trail);
    assert!(landed.trail.iter().any(|u| u.contains("/simplesaml/module.php/saml/sp/saml2-acs.php/default-sp")));
    let got = landed.json();
    assert_eq!(got["name_id_format"], TRANSIENT, "{got}");
    let name_id = got["name_id"].as_str().unwrap().to_owned();
    assert!(!name_id.contains("dungnv") && name_id.len() >= 40, "opaque: {name_id}");
    assert_eq!(got["idp"], format!("{}/saml/metadata", app.url));
    let attributes = &got["attributes"];
    assert_eq!(attributes[MAIL], json!(["dungnv@danang.gov.vn"]), "{got}");
    assert_eq!(attributes["urn:oid:2.16.840.1.113730.3.1.241"], json!(["Nguyễn Văn Dũng"]));
    assert_eq!(attributes["urn:oid:2.5.4.42"], json!(["Dũng"]));
    assert_eq!(attributes["urn:oid:2.5.4.4"], json!(["Nguyễn"]));
    assert_eq!(attributes["urn:oid:1.3.6.1.4.1.5923.1.5.1.1"], json!(["can-bo", "lanh-dao"]));
    assert_eq!(attributes["urn:oid:2.5.4.11"], json!(["Văn phòng UBND thành phố"]));
    assert_eq!(attributes.as_object().unwrap().len(), 6, "{attributes}");

    // Single sign-on: an OIDC app in the same browser signs in without the form, in the same session.
    let portal = Rp::demo(&app.url, "portal").await;
    let pending = portal.start(&["email"], &[]);
    let page = tab.browser.get(&pending.url).await;
    assert!(page.location.as_deref().is_some_and(|l| l.starts_with(&portal.redirect)), "no form: {}", page.body);
    let tokens = portal.exchange(pending, &page).await;
    let id_token = payload(&tokens.id_token().unwrap().to_string());
    assert_eq!(id_token["email"], "dungnv@danang.gov.vn");
    assert_eq!(id_token["sid"], got["session_index"], "one SSO session for both protocols");

    // Its logout (unsigned, its default) reaches our confirmation page; "stay signed in": SimpleSAMLphp gets a
    // LogoutResponse with a non-success status, and our session survives.
    let confirm = logout_to_confirmation(&sp, &app, &mut tab).await;
    let declined = tab.submit(&confirm, &[("answer", "decline")]).await;
    assert!(declined.trail.iter().any(|u| u.contains("/saml/sp/saml2-logout.php/default-sp")), "{:?}", declined.trail);
    assert_eq!(declined.url, sp.status_url(), "{:?}", declined.trail);
    assert_eq!(declined.json(), json!({"authenticated": false}), "SimpleSAMLphp ends its own session before asking");
    assert_eq!(sp.logs().matches(DENIED).count(), 1, "SimpleSAMLphp read the status: {}", sp.logs());
    assert!(idp_session_alive(&app, &mut tab).await, "declined: the IdP session survives");
    app.wait_for_audit(1, |l| l["event"] == "saml_logout_declined" && l["client"] == sp.metadata_url().as_str()).await;
    let again = tab.open(&sp.app_url()).await;
    assert!(!again.page.is_login_form(), "the IdP session signs the app in again without the form");
    assert_eq!(again.json()["name_id"], name_id.as_str(), "the same SP in the same session: the same NameID");

    // Confirmed: single logout runs, the OIDC app's session ends with it, and SimpleSAMLphp accepts our
    // LogoutResponse and finishes its own logout.
    let confirm = logout_to_confirmation(&sp, &app, &mut tab).await;
    let done = tab.submit(&confirm, &[("answer", "confirm")]).await;
    assert_eq!(done.url, sp.status_url(), "SimpleSAMLphp completed its logout: {:?}\n{}", done.trail, done.page.body);
    assert_eq!(done.json(), json!({"authenticated": false}));
    assert!(!tab.browser.has_session(), "our session cookie is cleared");
    assert!(!idp_session_alive(&app, &mut tab).await, "confirmed: the IdP session is gone");
    app.wait_for_audit(1, |l| l["event"] == "logout" && l["client"] == sp.metadata_url().as_str()).await;
    let back = tab.open(&sp.app_url()).await;
    assert!(back.page.is_login_form(), "signed out everywhere: the form again, {:?}", back.trail);
    assert_eq!(sp.logs().matches("Unsuccessful logout").count(), 1, "the confirmed logout succeeded: {}", sp.logs());
}

/// The protected page, our form, and back: what the app shows.
async fn sign_in(sp: &SimpleSamlPhp, app: &TestApp, tab: &mut Tab) -> serde_json::Value {
    let form = tab.open(&sp.app_url()).await;
    assert!(form.page.is_login_form(), "{:?} {} {}", form.trail, form.page.status, form.page.body);
    let landed = tab.submit(&form, &[("username", "dungnv"), ("password", PASSWORD)]).await;
    assert_eq!(landed.url, sp.app_url(), "back on the protected page: {:?}", landed.trail);
    assert!(landed.json()["idp"] == format!("{}/saml/metadata", app.url));
    landed.json()
}

/// An OIDC app signs in by single sign-on and returns its ID token.
async fn oidc_sso(app: &TestApp, tab: &mut Tab) -> String {
    let portal = Rp::demo(&app.url, "portal").await;
    let pending = portal.start(&[], &[]);
    let page = tab.browser.get(&pending.url).await;
    assert!(page.location.as_deref().is_some_and(|l| l.starts_with(&portal.redirect)), "no form: {}", page.body);
    portal.exchange(pending, &page).await.id_token().unwrap().to_string()
}

/// The OIDC app's logout (`/logout` with `id_token_hint`): the signed-out page loads the SAML SP's frame, then
/// sends the browser back to the app (not running here, so not requested).
async fn oidc_logout(app: &TestApp, tab: &mut Tab, id_token: &str) -> Landed {
    const PORTAL: &str = "http://127.0.0.1:8081/";
    tab.stop_at.push(PORTAL.into());
    let url = format!(
        "{}/logout?id_token_hint={id_token}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2F",
        app.url
    );
    let out = tab.open(&url).await;
    assert_eq!(out.left_for.as_deref(), Some(PORTAL), "{:?} {}", out.trail, out.page.body);
    out
}

#[tokio::test]
async fn an_oidc_logout_signs_simplesamlphp_out_in_its_frame() {
    let (sp, app, _) = registered(SimpleSamlPhp::start()).await;
    let mut tab = Tab::new();
    let got = sign_in(&sp, &app, &mut tab).await;
    let id_token = oidc_sso(&app, &mut tab).await;

    // The OIDC app's logout: the signed-out page's frame carries our signed LogoutRequest to SimpleSAMLphp, which
    // ends its session (it finds the session by its cookie, the NameID and SessionIndex it was given).
    let out = oidc_logout(&app, &mut tab, &id_token).await;
    assert!(
        out.trail.iter().any(|u| u.starts_with(&format!(
            "{}/simplesaml/module.php/saml/sp/saml2-logout.php/default-sp?SAMLRequest=",
            sp.url
        ))),
        "{:?}",
        out.trail
    );
    assert_eq!(tab.open(&sp.status_url()).await.json(), json!({"authenticated": false}), "{}", sp.logs());
    assert!(!idp_session_alive(&app, &mut tab).await);
    assert!(sp.logs().contains(&format!("module/saml2/sp/logout: Request from {}/saml/metadata", app.url)));

    // Its answer is unsigned (its default): we accept only signed LogoutResponses, so the hidden frame ends on our
    // refusal page, which changes nothing (the session is already over).
    let slo = format!("{}/saml/slo?SAMLResponse=", app.url);
    assert!(
        matches!(&out.frames[..], [(url, status)] if url.starts_with(&slo) && status.as_u16() == 400),
        "{:?}",
        out.frames
    );
    let audit = app.wait_for_audit(1, |l| l["event"] == "saml_request_refused").await;
    let refused = audit.iter().find(|l| l["event"] == "saml_request_refused").unwrap();
    assert_eq!(
        (refused["reason"].as_str(), refused["client"].as_str()),
        (Some("unsigned_response"), Some(sp.metadata_url().as_str()))
    );

    // Signing in again is the form again, and a new transient NameID.
    let again = tab.open(&sp.app_url()).await;
    assert!(again.page.is_login_form(), "{:?}", again.trail);
    let landed = tab.submit(&again, &[("username", "dungnv"), ("password", PASSWORD)]).await;
    assert_ne!(landed.json()["name_id"], got["name_id"], "another SSO session: another transient NameID");
}

/// How many signatures SimpleSAMLphp has checked so far (it logs each one it verifies).
fn verified(sp: &SimpleSamlPhp) -> usize {
    sp.logs().matches("Validation with key #0 succeeded.").count()
}

#[tokio::test]
async fn simplesamlphp_with_signing_switched_on_logs_out_without_asking() {
    // Its signed AuthnRequests, signed logout messages, and checks of ours (`validate.logout`).
    // And a NameIDPolicy asking for the mailbox.
    let options = "'sign.authnrequest' => true, 'sign.logout' => true, 'validate.logout' => true,
        'NameIDPolicy' => ['Format' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', 'AllowCreate' => true],";
    let (sp, app, notes) = registered(SimpleSamlPhp::start_with(options)).await;
    assert!(!notes.contains("warning:"), "{notes}");
    let toml = std::fs::read_to_string(sp.dir().join("danang-sso.toml")).unwrap();
    assert!(toml.contains("want_authn_requests_signed = true"), "its metadata says AuthnRequestsSigned: {toml}");
    let mut tab = Tab::new();
    let got = sign_in(&sp, &app, &mut tab).await;
    assert_eq!(got["name_id"], "dungnv@danang.gov.vn");
    assert_eq!(got["name_id_format"], "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
    assert_eq!(verified(&sp), 2, "our Response and Assertion signatures: {}", sp.logs());

    // Its signed LogoutRequest ends the session at once (no confirmation page); it checks our signed answer.
    let out = tab.open(&sp.logout_url()).await;
    assert_eq!(out.url, sp.status_url(), "{:?} {}", out.trail, out.page.body);
    assert_eq!(out.json(), json!({"authenticated": false}));
    assert_eq!(verified(&sp), 3, "our LogoutResponse's signature: {}", sp.logs());
    assert!(!sp.logs().contains("Unsuccessful logout"), "{}", sp.logs());
    assert!(!idp_session_alive(&app, &mut tab).await);

    // The OIDC app's logout: it checks our signed LogoutRequest, and we accept its signed answer in the frame.
    sign_in(&sp, &app, &mut tab).await;
    let id_token = oidc_sso(&app, &mut tab).await;
    let out = oidc_logout(&app, &mut tab, &id_token).await;
    assert_eq!(tab.open(&sp.status_url()).await.json(), json!({"authenticated": false}), "{}", sp.logs());
    assert_eq!(verified(&sp), 6, "our LogoutRequest's signature: {}", sp.logs());
    let slo = format!("{}/saml/slo?SAMLResponse=", app.url);
    assert!(
        matches!(&out.frames[..], [(url, status)] if url.starts_with(&slo) && status.as_u16() == 200),
        "{:?}",
        out.frames
    );
    assert!(!app.audit_lines().iter().any(|l| l["event"] == "saml_request_refused"), "{:?}", app.audit_lines());
}

#[tokio::test]
async fn simplesamlphp_passive_and_forced_sign_in() {
    let (sp, app, _) = registered(SimpleSamlPhp::start()).await;
    let mut tab = Tab::new();

    // IsPassive without a session: no form; SimpleSAMLphp hands the app our NoPassive status.
    let passive = tab.open(&sp.login_url("passive")).await;
    assert!(
        passive.url.starts_with(&format!("{}/app/error.php?", sp.url)),
        "{:?} {}",
        passive.trail,
        passive.page.body
    );
    let error = passive.json();
    assert_eq!(error["error"], "SimpleSAML\\Module\\saml\\Error\\NoPassive", "{error}");
    assert_eq!(error["status"], "urn:oasis:names:tc:SAML:2.0:status:Responder");
    assert_eq!(error["sub_status"], "urn:oasis:names:tc:SAML:2.0:status:NoPassive");

    // With an SSO session (an OIDC app signed in first): IsPassive signs the app in without the form.
    let portal = Rp::demo(&app.url, "portal").await;
    let (tokens, _) = portal.sign_in(&app.url, &mut tab.browser, "dungnv", &[]).await;
    let sid = payload(&tokens.id_token().unwrap().to_string())["sid"].clone();
    let landed = tab.open(&sp.login_url("passive")).await;
    assert_eq!(landed.url, sp.app_url(), "{:?} {}", landed.trail, landed.page.body);
    assert_eq!(landed.json()["session_index"], sid);

    // ForceAuthn: the form despite the session, and the same SSO session after it.
    let form = tab.open(&sp.login_url("force")).await;
    assert!(form.page.is_login_form(), "{:?} {}", form.trail, form.page.body);
    let landed = tab.submit(&form, &[("username", "dungnv"), ("password", PASSWORD)]).await;
    assert_eq!(landed.url, sp.app_url(), "{:?}", landed.trail);
    assert_eq!(landed.json()["attributes"][MAIL], json!(["dungnv@danang.gov.vn"]));
}

#[tokio::test]
async fn simplesamlphp_asking_for_two_factors_gets_the_second_factor_step() {
    // SimpleSAMLphp's `saml:AuthnContextClassRef` login option: a RequestedAuthnContext naming the REFEDS MFA
    // profile. The demo account anhvn has an authenticator app.
    let (sp, app, _) = registered(SimpleSamlPhp::start()).await;
    let mut tab = Tab::new();
    let form = tab.open(&sp.login_url("mfa")).await;
    assert!(form.page.is_login_form(), "{:?} {}", form.trail, form.page.body);
    let second = tab.submit(&form, &[("username", "anhvn"), ("password", PASSWORD)]).await;
    assert!(
        second.url.starts_with(&format!("{}/mfa?", app.url)),
        "the password alone does not answer a request for two factors: {:?}\n{}",
        second.trail,
        second.page.body
    );
    let code = danang_sso::mfa::totp::code_at(DEMO_TOTP, app.clock.now()).unwrap();
    let landed = tab.submit(&second, &[("otp", &code)]).await;
    assert_eq!(landed.url, sp.app_url(), "{:?} {}", landed.trail, landed.page.body);
    let got = landed.json();
    assert_eq!(got["authn_context"], danang_sso::mfa::ACR_MFA, "{got}");
    assert_eq!(got["attributes"][MAIL], json!(["anhvn@danang.gov.vn"]));

    // A session made with the password alone (an OIDC app): passively, no assertion (NoPassive); otherwise the
    // second factor only, never the password again.
    let mut other = Tab::new();
    Rp::demo(&app.url, "portal").await.sign_in(&app.url, &mut other.browser, "anhvn", &[]).await;
    let passive = other.open(&sp.login_url("passive&mfa")).await;
    assert!(
        passive.url.starts_with(&format!("{}/app/error.php?", sp.url)),
        "{:?} {}",
        passive.trail,
        passive.page.body
    );
    assert_eq!(passive.json()["sub_status"], "urn:oasis:names:tc:SAML:2.0:status:NoPassive");
    let step_up = other.open(&sp.login_url("mfa")).await;
    assert!(step_up.url.starts_with(&format!("{}/mfa?", app.url)), "{:?} {}", step_up.trail, step_up.page.body);
    assert!(!step_up.page.is_login_form(), "no password asked again");
    // The next 30-second step: a code is accepted once, and the one above is spent.
    let code = danang_sso::mfa::totp::code_at(DEMO_TOTP, app.clock.now() + 30).unwrap();
    let landed = other.submit(&step_up, &[("otp", &code)]).await;
    assert_eq!(landed.url, sp.app_url(), "{:?} {}", landed.trail, landed.page.body);
    assert_eq!(landed.json()["authn_context"], danang_sso::mfa::ACR_MFA);
}
