//! SAML 2.0 sign-in with a real SP (pysaml2 + xmlsec1): both bindings, SSO from an OIDC sign-in, independent
//! signature checks with the `xmlsec1` command, tampered and wrapped responses, unregistered ACS URLs.

use danang_sso::config::Config;
use openidconnect::TokenResponse;
use serde_json::Value;

use crate::app::{TestApp, test_config};
use crate::browser::{Browser, PASSWORD, Page};
use crate::rp::{Rp, payload};
use crate::saml_sp::{Sp, form_post, response_xml, with_response, xmlsec1};

/// The demo config plus the given SPs, registered from their metadata files.
pub async fn app_with(sps: &[(&Sp, &str)], tune: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config();
    config.saml.service_providers = sps.iter().map(|(sp, name)| sp.config(name)).collect();
    tune(&mut config);
    let app = TestApp::start_with(config).await;
    for (sp, _) in sps {
        sp.trust(&app).await;
    }
    app
}

/// Carries an SP's message with the browser: GET for Redirect; for POST, the form and then the same-site 303.
pub async fn send(app: &TestApp, browser: &mut Browser, message: &Value) -> Page {
    let url = message["url"].as_str().unwrap();
    if message["method"] == "GET" {
        return browser.get(url).await;
    }
    let form = message["form"].as_object().unwrap();
    let fields: Vec<(String, String)> =
        form.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect();
    let page = browser.post_form(url, &fields).await;
    assert_eq!(page.status, 303, "a POSTed request is resumed by a GET: {}", page.body);
    let next = page.location.expect("a Location");
    assert!(next.starts_with("/saml/continue?"), "{next}");
    browser.get(&format!("{}{next}", app.url)).await
}

/// SP-initiated sign-in up to the Response the SP accepts; signs in with the form when it is shown.
pub async fn sign_in(app: &TestApp, browser: &mut Browser, sp: &Sp, flags: &[&str]) -> (Value, Vec<(String, String)>) {
    let request = sp.authn(flags);
    let mut page = send(app, browser, &request).await;
    if page.is_login_form() {
        page = browser.sign_in(&app.url, &page, "dungnv", PASSWORD).await;
    }
    let (action, fields) = form_post(&page);
    assert_eq!(action, sp.acs, "the Response goes to the registered ACS");
    let accepted = sp.response(request["id"].as_str().unwrap(), &fields).unwrap_or_else(|e| panic!("refused: {e}"));
    (accepted, fields)
}

/// `xmlsec1 --verify` of the Response's or the Assertion's signature with our published certificate.
fn xmlsec1_verifies(sp: &Sp, xml: &str, element: &str) -> bool {
    let metadata = std::fs::read_to_string(sp.dir.join("idp.xml")).unwrap();
    let b64 = metadata.split("<ds:X509Certificate>").nth(1).unwrap().split('<').next().unwrap();
    let cert = sp.dir.join("idp.crt");
    std::fs::write(&cert, format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n")).unwrap();
    let file = sp.dir.join(format!("check-{}.xml", danang_sso::oidc::random_id()));
    std::fs::write(&file, xml).unwrap();
    let ns = if element == "Response" { "protocol" } else { "assertion" };
    let status = xmlsec1()
        .args(["--verify", "--pubkey-cert-pem"])
        .arg(&cert)
        .arg("--id-attr:ID")
        .arg(format!("urn:oasis:names:tc:SAML:2.0:{ns}:{element}"))
        .args(["--node-xpath", &format!("//*[local-name()='{element}']/*[local-name()='Signature']")])
        .arg(&file)
        .output()
        .unwrap();
    status.status.success()
}

#[tokio::test]
async fn sp_initiated_sign_in_over_the_redirect_binding() {
    let sp = Sp::new("vanban");
    let app = app_with(&[(&sp, "Quản lý văn bản")], |_| {}).await;
    let mut browser = Browser::new();
    let request = sp.authn(&["--relay-state", "/van-ban/42"]);
    let form = send(&app, &mut browser, &request).await;
    assert!(form.is_login_form() && form.body.contains("Đăng nhập để vào Quản lý văn bản"), "{}", form.body);
    let page = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    let (action, fields) = form_post(&page);
    assert_eq!(action, sp.acs);
    let got = sp.response(request["id"].as_str().unwrap(), &fields).expect("pysaml2 accepts the response");
    assert_eq!(got["issuer"], format!("{}/saml/metadata", app.url));
    assert_eq!(got["in_response_to"], request["id"]);
    assert_eq!(got["name_id"], "dungnv@danang.gov.vn");
    assert_eq!(got["name_id_format"], "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
    assert_eq!(got["audience"][0], sp.entity_id.as_str());
    assert_eq!(got["relay_state"], "/van-ban/42");
    let attrs = &got["attributes"];
    assert_eq!(attrs["displayName"][0], "Nguyễn Văn Dũng");
    assert_eq!((attrs["givenName"][0].as_str(), attrs["sn"][0].as_str()), (Some("Dũng"), Some("Nguyễn")));
    assert_eq!(attrs["mail"][0], "dungnv@danang.gov.vn");
    assert_eq!(attrs["isMemberOf"], serde_json::json!(["can-bo", "lanh-dao"]));
    assert_eq!(attrs["ou"][0], "Văn phòng UBND thành phố");

    // The same signatures, checked by the xmlsec1 command on its own.
    let xml = response_xml(&fields);
    assert!(xmlsec1_verifies(&sp, &xml, "Response"), "xmlsec1 verifies the Response signature");
    assert!(xmlsec1_verifies(&sp, &xml, "Assertion"), "xmlsec1 verifies the Assertion signature");

    // Single sign-on: the next request is answered without the form.
    let (again, _) = sign_in(&app, &mut browser, &sp, &[]).await;
    assert_eq!(again["session_index"], got["session_index"], "same SSO session");

    let audit = app.wait_for_audit(2, |l| l["event"] == "saml_assertion_issued").await;
    let issued: Vec<_> = audit.iter().filter(|l| l["event"] == "saml_assertion_issued").collect();
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[0]["client"], sp.entity_id.as_str());
    assert_eq!(issued[0]["sid"], got["session_index"]);
    let signed_in = audit.iter().find(|l| l["event"] == "sign_in_success").unwrap();
    assert_eq!(signed_in["client"], sp.entity_id.as_str());
}

#[tokio::test]
async fn sp_initiated_sign_in_over_the_post_binding_with_force_and_passive() {
    let sp = Sp::new("tiepdan");
    let app = app_with(&[(&sp, "Tiếp dân trực tuyến")], |_| {}).await;

    // IsPassive without a session: a NoPassive status, no form.
    let mut browser = Browser::new();
    let request = sp.authn(&["--binding", "post", "--passive"]);
    let page = send(&app, &mut browser, &request).await;
    let (_, fields) = form_post(&page);
    let refused = sp.response(request["id"].as_str().unwrap(), &fields).expect_err("no assertion");
    assert!(refused["error"].as_str().unwrap().contains("NoPassive"), "{refused}");

    // The request is signed inside the XML (by xmlsec1, through pysaml2), and that signature is checked.
    let (got, _) = sign_in(&app, &mut browser, &sp, &["--binding", "post"]).await;
    assert_eq!(got["name_id"], "dungnv@danang.gov.vn");
    let request = sp.authn(&["--binding", "post"]);
    let mut form: Vec<(String, String)> =
        request["form"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect();
    for (k, v) in &mut form {
        if k == "SAMLRequest" {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD;
            let xml = String::from_utf8(b64.decode(&*v).unwrap()).unwrap();
            assert!(xml.contains("<ds:Signature") || xml.contains(":Signature"), "a signed request: {xml}");
            *v = b64.encode(xml.replacen("Version=\"2.0\"", "Version=\"2.0\" IsPassive=\"false\"", 1));
        }
    }
    let tampered = browser.post_form(request["url"].as_str().unwrap(), &form).await;
    assert_eq!(tampered.status, 400, "a request altered after signing is refused: {}", tampered.body);
    app.wait_for_audit(1, |l| l["event"] == "saml_request_refused" && l["reason"] == "bad_signature").await;

    // ForceAuthn: the form again, despite the session.
    let request = sp.authn(&["--binding", "post", "--force"]);
    let page = send(&app, &mut browser, &request).await;
    assert!(page.is_login_form(), "ForceAuthn asks for the password");
}

#[tokio::test]
async fn an_oidc_sign_in_carries_over_to_the_saml_sp() {
    let sp = Sp::new("congdvc");
    let app = app_with(&[(&sp, "Cổng dịch vụ công")], |_| {}).await;
    let mut browser = Browser::new();
    let portal = Rp::demo(&app.url, "portal").await;
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &["profile"]).await;
    let sid = payload(&tokens.id_token().unwrap().to_string())["sid"].as_str().unwrap().to_owned();

    let request = sp.authn(&[]);
    let page = send(&app, &mut browser, &request).await;
    assert!(!page.is_login_form(), "no password asked again");
    let (_, fields) = form_post(&page);
    let got = sp.response(request["id"].as_str().unwrap(), &fields).unwrap();
    assert_eq!(got["session_index"], sid.as_str(), "the SessionIndex is the OIDC sid of the same session");
    assert_eq!(got["attributes"]["displayName"][0], "Nguyễn Văn Dũng");
}

#[tokio::test]
async fn tampered_and_wrapped_responses_are_refused_by_the_sp() {
    let sp = Sp::new("hoso");
    let app = app_with(&[(&sp, "Hồ sơ")], |_| {}).await;
    let mut browser = Browser::new();
    let request = sp.authn(&[]);
    let form = send(&app, &mut browser, &request).await;
    let page = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    let (_, fields) = form_post(&page);
    let id = request["id"].as_str().unwrap();
    let xml = response_xml(&fields);

    let tampered = xml.replace("Nguyễn Văn Dũng", "Nguyễn Văn Dung");
    assert_ne!(tampered, xml);
    assert!(sp.response(id, &with_response(&fields, &tampered)).is_err(), "an altered attribute is refused");
    assert!(!xmlsec1_verifies(&sp, &tampered, "Assertion"), "xmlsec1 refuses it too");

    // Signature wrapping: a forged assertion for another person goes first, the signed one follows untouched.
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let signed = &xml[start..end];
    let sig_start = signed.find("<ds:Signature").unwrap();
    let sig_end = signed.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let forged = format!("{}{}", &signed[..sig_start], &signed[sig_end..])
        .replace("dungnv@danang.gov.vn", "huongtt@danang.gov.vn")
        .replacen("ID=\"_", "ID=\"_forged", 1);
    let wrapped = format!("{}{forged}{signed}{}", &xml[..start], &xml[end..]);
    assert!(sp.response(id, &with_response(&fields, &wrapped)).is_err(), "a wrapped response is refused");
    // The same forged assertion taking the signed one's ID, the signed one hidden inside it.
    let same_id = format!("{}{}", &signed[..sig_start], &signed[sig_end..]).replace("dungnv@", "huongtt@");
    let hidden = same_id.replacen("</saml:Issuer>", &format!("</saml:Issuer>{signed}"), 1);
    let wrapped = format!("{}{hidden}{}", &xml[..start], &xml[end..]);
    assert!(sp.response(id, &with_response(&fields, &wrapped)).is_err(), "a wrapped response is refused");
    // The untouched response still passes (the refusals above are about the changes).
    assert!(sp.response(id, &fields).is_ok());
}

#[tokio::test]
async fn an_unregistered_acs_url_or_unsigned_request_is_refused_with_a_page() {
    let sp = Sp::new("thue");
    let stranger = Sp::new("la");
    let app = app_with(&[(&sp, "Thuế")], |_| {}).await;
    stranger.trust(&app).await;
    let mut browser = Browser::new();

    let request = sp.authn(&["--acs", "https://evil.example/acs"]);
    let page = send(&app, &mut browser, &request).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("Địa chỉ chuyển về của ứng dụng không khớp"), "{}", page.body);
    assert!(!page.body.contains("evil.example") && !page.body.contains("<form"), "never a POST to it");

    // The metadata says AuthnRequestsSigned: an unsigned request is refused.
    let page = send(&app, &mut browser, &sp.authn(&["--unsigned"])).await;
    assert_eq!(page.status, 400);
    let page = send(&app, &mut browser, &stranger.authn(&[])).await;
    assert!(page.body.contains("chưa được đăng ký"), "an unknown SP: {}", page.body);

    let reasons: Vec<String> = app
        .wait_for_audit(3, |l| l["event"] == "saml_request_refused")
        .await
        .iter()
        .filter(|l| l["event"] == "saml_request_refused")
        .map(|l| l["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons, ["unregistered_acs_url", "unsigned_request", "unknown_service_provider"]);
}

#[tokio::test]
async fn sp_add_registers_a_real_sp_from_its_metadata() {
    let sp = Sp::new("sp-add");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_danang-sso"))
        .args(["saml", "sp-add", "--name", "Lưu trữ", "--metadata"])
        .arg(sp.dir.join("sp-metadata.xml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let entry = String::from_utf8(out.stdout).unwrap();
    assert!(entry.starts_with("[[saml.service_providers]]") && entry.contains(&sp.acs), "{entry}");
    // What the SP will get, on stderr (stdout stays TOML): pysaml2's metadata asks for emailAddress, signs.
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(notes.contains("note: NameID emailAddress") && notes.contains("note: attributes mail"), "{notes}");
    assert!(!notes.contains("warning:"), "{notes}");
    let parsed: Config =
        figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(&entry))
            .extract()
            .unwrap();
    let mut config = test_config();
    config.saml.service_providers = parsed.saml.service_providers;
    let app = TestApp::start_with(config).await;
    sp.trust(&app).await;
    let mut browser = Browser::new();
    let (got, _) = sign_in(&app, &mut browser, &sp, &[]).await;
    assert_eq!(got["name_id"], "dungnv@danang.gov.vn");
}
