//! What SPs other than pysaml2's defaults ask for: transient NameIDs (lasso, SimpleSAMLphp), unsigned
//! LogoutRequests confirmed by the person (SimpleSAMLphp's default), and X.509 version 1 certificates
//! (`mellon_create_metadata`). Driven with the pysaml2 SP, set up the way those SPs behave.

use std::process::Command;

use reqwest::StatusCode;

use crate::browser::Browser;
use crate::harness::unescape;
use crate::saml::{app_with, send, sign_in};
use crate::saml_sp::Sp;

const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";

#[tokio::test]
async fn transient_name_ids_differ_per_sp_and_session_and_log_out() {
    let (a, b) = (Sp::new("transient-a"), Sp::new("transient-b"));
    let app = app_with(&[(&a, "Văn bản"), (&b, "Tiếp dân")], |_| {}).await;
    let mut browser = Browser::new();
    let flags = ["--name-id-format", "transient"];
    let (first, _) = sign_in(&app, &mut browser, &a, &flags).await;
    assert_eq!(first["name_id_format"], TRANSIENT);
    let name = first["name_id"].as_str().unwrap().to_owned();
    assert!(!name.contains("dungnv") && name.len() >= 40, "opaque: {name}");
    assert_eq!(first["attributes"]["mail"][0], "dungnv@danang.gov.vn", "the mailbox comes as an attribute");

    let (again, _) = sign_in(&app, &mut browser, &a, &flags).await;
    assert_eq!(again["name_id"], name.as_str(), "the same SP in the same session: the same NameID");
    let (other_sp, _) = sign_in(&app, &mut browser, &b, &flags).await;
    assert_ne!(other_sp["name_id"], name.as_str(), "another SP: another NameID");
    let mut second_browser = Browser::new();
    let (other_session, _) = sign_in(&app, &mut second_browser, &a, &flags).await;
    assert_ne!(other_session["name_id"], name.as_str(), "another session: another NameID");

    // The SP logs out with the transient NameID it was given; the other SP is told with its own.
    let sid = first["session_index"].as_str().unwrap();
    let request = a.ok("logout", &["--format", "transient", "--", name.as_str(), sid]);
    let page = send(&app, &mut browser, &request).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!browser.has_session());
    let frame = page.body.split("<iframe class=\"frontchannel\" src=\"").nth(1).expect("a frame for the other SP");
    let told = b.ok("logout-request", &[&unescape(frame.split('"').next().unwrap())]);
    assert_eq!(told["name_id"], other_sp["name_id"]);
    assert!(second_browser.has_session(), "the other session is untouched");
}

#[tokio::test]
async fn an_unsigned_logout_request_is_confirmed_by_the_person() {
    let sp = Sp::new("unsigned-slo");
    let app = app_with(&[(&sp, "Hộ tịch")], |_| {}).await;
    let mut browser = Browser::new();
    let (got, _) = sign_in(&app, &mut browser, &sp, &[]).await;
    let sid = got["session_index"].as_str().unwrap();

    // Declined: the SP hears so (never a dead end), and the session stays. (`--` because a session index may
    // begin with `-`.)
    let request = sp.ok("logout", &["--unsigned", "--", "dungnv@danang.gov.vn", sid]);
    let page = send(&app, &mut browser, &request).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Hộ tịch") && page.body.contains("Vẫn giữ đăng nhập"), "{}", page.body);
    let mut fields = page.hidden_fields();
    fields.push(("answer".into(), "decline".into()));
    let answer = browser.post_form(&format!("{}/saml/slo/confirm", app.url), &fields).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let refused = sp.refused("logout-response", &[answer.location.as_deref().unwrap()]);
    assert!(refused.contains("status:Responder") && refused.contains("RequestDenied"), "{refused}");
    assert!(browser.has_session());

    // Another browser posting this browser's form (no session cookie of its own): not the person's answer.
    let mut stranger = Browser::new();
    let mut forged = page.hidden_fields();
    forged.push(("answer".into(), "confirm".into()));
    let answer = stranger.post_form(&format!("{}/saml/slo/confirm", app.url), &forged).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(sp.refused("logout-response", &[answer.location.as_deref().unwrap()]).contains("RequestDenied"));

    // Confirmed: single logout runs and the SP gets a successful LogoutResponse.
    let request = sp.ok("logout", &["--unsigned", "--", "dungnv@danang.gov.vn", sid]);
    let page = send(&app, &mut browser, &request).await;
    let mut fields = page.hidden_fields();
    fields.push(("answer".into(), "confirm".into()));
    let done = browser.post_form(&format!("{}/saml/slo/confirm", app.url), &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(!browser.has_session());
    let answer = sp.ok("logout-response", &[done.location.as_deref().unwrap()]);
    assert_eq!(answer["status"], "urn:oasis:names:tc:SAML:2.0:status:Success");
    assert_eq!(answer["in_response_to"], request["id"]);
    app.wait_for_audit(1, |l| l["event"] == "logout" && l["client"] == sp.entity_id.as_str()).await;
}

#[tokio::test]
async fn an_sp_with_an_x509_version_1_certificate_registers_and_its_signed_requests_verify() {
    let sp = Sp::new("x509v1");
    // Replace pysaml2's certificate by a version 1 one for the same key, as `mellon_create_metadata` makes.
    let dir = &sp.dir;
    let openssl = |args: &[&str]| {
        let out =
            Command::new("openssl").args(args).current_dir(dir).output().expect("openssl (apt-get install openssl)");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    openssl(&["req", "-new", "-key", "sp.key", "-subj", "/CN=x509v1", "-out", "sp.csr"]);
    openssl(&["x509", "-req", "-in", "sp.csr", "-signkey", "sp.key", "-days", "365", "-out", "sp.crt"]);
    assert!(openssl(&["x509", "-in", "sp.crt", "-noout", "-text"]).contains("Version: 1 (0x0)"));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/saml/sp.py");
    let out = Command::new(crate::saml_sp::python()).arg(script).arg("metadata").arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let xml = String::from_utf8(out.stdout).unwrap();
    std::fs::write(dir.join("sp-metadata.xml"), &xml).unwrap();
    let entry = danang_sso::saml::sp::config_entry(xml.as_bytes(), Some("Một cửa".into())).expect("sp-add accepts it");
    assert!(entry.contains("BEGIN CERTIFICATE"), "{entry}");

    let app = app_with(&[(&sp, "Một cửa")], |c| {
        c.saml.service_providers[0].want_authn_requests_signed = Some(true);
    })
    .await;
    let mut browser = Browser::new();
    let (got, _) = sign_in(&app, &mut browser, &sp, &[]).await;
    assert_eq!(got["name_id"], "dungnv@danang.gov.vn");
    let unsigned = sp.authn(&["--unsigned"]);
    let page = send(&app, &mut browser, &unsigned).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "an unsigned request is still refused");
}
