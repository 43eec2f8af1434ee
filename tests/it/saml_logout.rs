//! SAML Single Logout across protocols, with the pysaml2 SP: an SP's LogoutRequest (both bindings) ends the SSO
//! session, OIDC apps get back-channel logout tokens, other SAML SPs get signed LogoutRequests in frames, the
//! initiator gets a signed LogoutResponse; OIDC's `/logout` logs SAML SPs out too.

use openidconnect::TokenResponse;

use crate::browser::{Browser, Page};
use crate::harness::unescape;
use crate::listener::Listener;
use crate::rp::{Rp, payload};
use crate::saml::{app_with, send, sign_in};
use crate::saml_sp::Sp;

/// The front-channel frames of the signed-out page.
pub fn frames(page: &Page) -> Vec<String> {
    page.body
        .split("<iframe class=\"frontchannel\" src=\"")
        .skip(1)
        .map(|rest| unescape(rest.split('"').next().unwrap()))
        .collect()
}

/// Where the signed-out page sends the browser next (its refresh target, or the redirect).
pub fn next_url(page: &Page) -> String {
    match &page.location {
        Some(l) => l.clone(),
        None => unescape(page.body.split("url=").nth(1).expect("a refresh").split('"').next().unwrap()),
    }
}

#[tokio::test]
async fn a_logout_from_the_saml_sp_ends_the_session_in_every_app() {
    let mut listener = Listener::start().await;
    let bc = format!("{}/bc/portal", listener.url);
    let (vanban, tiepdan) = (Sp::new("vanban-slo"), Sp::new("tiepdan-slo"));
    let app = app_with(&[(&vanban, "Văn bản"), (&tiepdan, "Tiếp dân")], |c| {
        c.clients
            .iter_mut()
            .filter(|c| c.client_id == "portal")
            .for_each(|c| c.backchannel_logout_uri = Some(bc.clone()));
    })
    .await;
    let mut browser = Browser::new();
    let portal = Rp::demo(&app.url, "portal").await;
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let sid = payload(&tokens.id_token().unwrap().to_string())["sid"].as_str().unwrap().to_owned();
    let (got, _) = sign_in(&app, &mut browser, &vanban, &[]).await;
    sign_in(&app, &mut browser, &tiepdan, &[]).await;

    let request = vanban.ok("logout", &[got["name_id"].as_str().unwrap(), &sid]);
    let page = send(&app, &mut browser, &request).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!browser.has_session(), "the SSO cookie is cleared");

    // The other SAML SP: a LogoutRequest signed by us, checked by pysaml2 against our metadata.
    let frames = frames(&page);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert!(frames[0].starts_with(&tiepdan.slo));
    let told = tiepdan.ok("logout-request", &[&frames[0]]);
    assert_eq!(told["name_id"], "dungnv@danang.gov.vn");
    assert_eq!(told["session_indexes"], serde_json::json!([sid]));
    assert_eq!(told["issuer"], format!("{}/saml/metadata", app.url));

    // The initiator: a signed LogoutResponse with its RelayState.
    let answer = vanban.ok("logout-response", &[&next_url(&page)]);
    assert_eq!(answer["status"], "urn:oasis:names:tc:SAML:2.0:status:Success");
    assert_eq!(answer["in_response_to"], request["id"]);
    assert_eq!(answer["relay_state"], "ve-trang-chu");

    // The OIDC app: a back-channel logout token for the same session.
    let (name, token) = listener.next().await;
    assert_eq!(name, "portal");
    assert_eq!(payload(&token)["sid"], sid.as_str());

    let pending = portal.start(&[], &[("prompt", "none")]);
    assert_eq!(browser.get(&pending.url).await.redirect_param("error").as_deref(), Some("login_required"));
    app.wait_for_audit(1, |l| l["event"] == "logout" && l["client"] == vanban.entity_id.as_str()).await;
}

#[tokio::test]
async fn oidc_logout_sends_the_saml_sp_a_logout_request() {
    let sp = Sp::new("hotich");
    let app = app_with(&[(&sp, "Hộ tịch")], |_| {}).await;
    let mut browser = Browser::new();
    let portal = Rp::demo(&app.url, "portal").await;
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let hint = tokens.id_token().unwrap().to_string();
    let sid = payload(&hint)["sid"].as_str().unwrap().to_owned();
    sign_in(&app, &mut browser, &sp, &[]).await;

    let url =
        format!("{}/logout?id_token_hint={hint}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2F", app.url);
    let page = browser.get(&url).await;
    assert_eq!(page.status, 200, "a page with the SP's frame, not a bare redirect");
    let frames = frames(&page);
    assert_eq!(frames.len(), 1);
    let told = sp.ok("logout-request", &[&frames[0]]);
    assert_eq!(
        (told["name_id"].as_str(), told["session_indexes"][0].as_str()),
        (Some("dungnv@danang.gov.vn"), Some(sid.as_str()))
    );
    assert_eq!(next_url(&page), "http://127.0.0.1:8081/");
}

#[tokio::test]
async fn a_logout_over_the_post_binding_and_one_naming_someone_else() {
    let sp = Sp::new("dat-dai");
    let app = app_with(&[(&sp, "Đất đai")], |_| {}).await;
    let mut browser = Browser::new();
    let (got, _) = sign_in(&app, &mut browser, &sp, &[]).await;
    let sid = got["session_index"].as_str().unwrap();

    // Signed by the SP, but about another person: answered Requester/UnknownPrincipal, the session stays.
    let other = sp.ok("logout", &["huongtt@danang.gov.vn", sid]);
    let page = send(&app, &mut browser, &other).await;
    let error = sp.refused("logout-response", &[&next_url(&page)]);
    assert!(error.contains("status:Requester") && error.contains("UnknownPrincipal"), "{error}");
    assert!(browser.has_session());

    // The XML-signed POST binding (xmlsec1 signed it; we check it), resumed by a same-site GET.
    let request = sp.ok("logout", &["dungnv@danang.gov.vn", sid, "--binding", "post"]);
    let page = send(&app, &mut browser, &request).await;
    assert_eq!(page.status, 303, "no other participant: straight back to the SP");
    let answer = sp.ok("logout-response", &[&next_url(&page)]);
    assert_eq!(answer["status"], "urn:oasis:names:tc:SAML:2.0:status:Success");
    assert!(!browser.has_session());
    let request = sp.authn(&["--passive"]);
    let page = send(&app, &mut browser, &request).await;
    assert!(!page.is_login_form(), "IsPassive after logout: a NoPassive answer, no form");
}
