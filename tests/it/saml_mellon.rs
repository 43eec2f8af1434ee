//! Interoperability with the real mod_auth_mellon (tests/it/mellon_sp.rs sets it up, unmodified): sign-in from
//! a protected page through our form, what the app sees, SSO into an OIDC app, and single logout both ways with
//! mellon's default signing: started at mellon's `/mellon/logout`, and started by an OIDC app's `/logout`.

use openidconnect::TokenResponse;

use crate::browser::{Browser, PASSWORD};
use crate::listener::Listener;
use crate::mellon_sp::{Mellon, follow, submit, var};
use crate::rp::{Rp, payload};

/// `SigAlg` as mellon sends it by default, URL-encoded.
const RSA_SHA256: &str = "http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256";

/// The XML of an HTTP-Redirect binding URL's `SAMLRequest` (base64 of DEFLATE).
fn redirect_message(url: &str) -> String {
    use base64::Engine;
    let url = url::Url::parse(url).unwrap();
    let value = url.query_pairs().find(|(k, _)| k == "SAMLRequest").expect("a SAMLRequest").1;
    let deflated = base64::engine::general_purpose::STANDARD.decode(value.as_bytes()).unwrap();
    String::from_utf8(miniz_oxide::inflate::decompress_to_vec(&deflated).expect("DEFLATE")).unwrap()
}

#[tokio::test]
async fn mod_auth_mellon_signs_in_walks_into_an_oidc_app_and_logs_out_everywhere() {
    let mut listener = Listener::start().await;
    let backchannel = format!("{}/bc/portal", listener.url);
    let (mellon, app) = Mellon::start(|config| {
        config.clients.iter_mut().filter(|c| c.client_id == "portal").for_each(|c| {
            c.backchannel_logout_uri = Some(backchannel.clone());
        });
    })
    .await;
    let apache = &mellon.apache;

    // What the IdP's administrator got from `sp-add` with mellon's metadata, unmodified.
    assert_eq!(mellon.entry.entity_id, mellon.sp.entity_id);
    assert_eq!(mellon.entry.acs_urls, [format!("{}/mellon/postResponse", apache.url)]);
    assert_eq!(mellon.entry.slo_url, Some(format!("{}/mellon/logout", apache.url)));
    assert_eq!(mellon.entry.want_authn_requests_signed, Some(true), "its metadata says AuthnRequestsSigned");
    assert_eq!(mellon.entry.name_id_format.as_deref(), Some("emailAddress"));
    assert!(mellon.entry.certificate.as_deref().is_some_and(|c| c.contains("BEGIN CERTIFICATE")));
    assert!(mellon.notes.contains("lists no NameIDFormat"), "{}", mellon.notes);
    assert!(!mellon.notes.contains("warning:"), "nothing the IdP would refuse: {}", mellon.notes);

    // The protected page sends the browser to mellon's login, which sends a signed AuthnRequest to us.
    let mut browser = Browser::new();
    let protected = &mellon.protected;
    let (visited, form) = follow(&mut browser, protected).await;
    assert!(visited[1].starts_with(&format!("{}/mellon/login?ReturnTo=", apache.url)), "{visited:?}");
    let sso = visited.last().unwrap();
    assert!(sso.starts_with(&format!("{}/saml/sso?SAMLRequest=", app.url)), "{visited:?}");
    assert!(sso.contains(&format!("&SigAlg={RSA_SHA256}&Signature=")), "mellon signs its AuthnRequest: {sso}");
    assert!(redirect_message(sso).contains("AssertionConsumerServiceURL"), "{}", redirect_message(sso));
    assert!(form.is_login_form(), "our sign-in form: {} {}", form.status, form.body);
    assert!(form.body.contains("Văn bản (mellon)"), "the form names the app");

    // The form, posted as a person would (with its anti-forgery value), then the Response to mellon's ACS.
    let posted = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    let (visited, page) = submit(&mut browser, &posted).await;
    assert_eq!(visited[0], format!("{}/mellon/postResponse", apache.url));
    assert_eq!(visited.last().unwrap(), protected, "mellon returns to the page asked for");
    assert_eq!(page.status, 200, "{}", page.body);
    // What the app sees (Apache's CGI environment makes every `:` and `.` of a SAML name `_`).
    let sees = |name: &str| var(&page, name).unwrap_or_else(|| panic!("no {name}: {}", page.body));
    assert_eq!(sees("REMOTE_USER"), "dungnv@danang.gov.vn", "sp-add's MellonUser advice works");
    let name_id = sees("MELLON_NAME_ID");
    assert!(name_id.len() >= 40 && !name_id.contains("dungnv"), "a transient NameID: {name_id}");
    assert_eq!(sees("MELLON_urn_oid_0_9_2342_19200300_100_1_3"), "dungnv@danang.gov.vn");
    assert_eq!(sees("MELLON_urn_oid_2_16_840_1_113730_3_1_241"), "Nguyễn Văn Dũng");
    assert_eq!(sees("MELLON_urn_oid_2_5_4_42"), "Dũng");
    assert_eq!(sees("MELLON_urn_oid_2_5_4_4"), "Nguyễn");
    assert_eq!(sees("MELLON_urn_oid_2_5_4_11"), "Văn phòng UBND thành phố");
    assert_eq!(
        (sees("MELLON_urn_oid_1_3_6_1_4_1_5923_1_5_1_1_0"), sees("MELLON_urn_oid_1_3_6_1_4_1_5923_1_5_1_1_1")),
        ("can-bo", "lanh-dao"),
        "one variable per group"
    );
    let (_, short) = follow(&mut browser, &format!("{}/short", apache.url)).await;
    assert_eq!(var(&short, "MELLON_mail"), Some("dungnv@danang.gov.vn"), "{}", short.body);
    assert_eq!(var(&short, "MELLON_displayName"), Some("Nguyễn Văn Dũng"), "{}", short.body);

    // The same browser walks into an OIDC app without the form, in the same SSO session.
    let portal = Rp::demo(&app.url, "portal").await;
    let pending = portal.start(&[], &[]);
    let redirect = browser.get(&pending.url).await;
    assert_eq!(redirect.status, 303, "no form for the OIDC app: {}", redirect.body);
    let tokens = portal.exchange(pending, &redirect).await;
    let sid = payload(&tokens.id_token().unwrap().to_string())["sid"].as_str().unwrap().to_owned();

    // Single logout from mellon's own endpoint: a signed LogoutRequest to us, then our LogoutResponse back.
    let logout = format!("{}/mellon/logout?ReturnTo=/signed-out", apache.url);
    let (visited, _) = follow(&mut browser, &logout).await;
    let slo = visited.iter().find(|u| u.starts_with(&format!("{}/saml/slo?SAMLRequest=", app.url)));
    let slo = slo.unwrap_or_else(|| panic!("a LogoutRequest to us: {visited:?}"));
    assert!(slo.contains(&format!("&SigAlg={RSA_SHA256}&Signature=")), "signed by mellon: {slo}");
    let request = redirect_message(slo);
    assert!(request.contains(&format!(">{name_id}</saml:NameID>")), "the transient NameID: {request}");
    assert!(request.contains(&format!(">{sid}</samlp:SessionIndex>")), "the session's sid: {request}");
    assert!(
        visited.iter().any(|u| u.starts_with(&format!("{}/mellon/logout?SAMLResponse=", apache.url))),
        "our LogoutResponse goes back to mellon: {visited:?}"
    );
    assert_eq!(visited.last().unwrap(), &format!("{}/signed-out", apache.url), "mellon's ReturnTo: {visited:?}");
    assert!(!browser.has_session(), "our session cookie is cleared");

    // The OIDC app hears of it on its back channel, and our session is gone.
    let (name, token) = listener.next().await;
    assert_eq!(name, "portal");
    assert_eq!(payload(&token)["sid"], sid.as_str());
    let pending = portal.start(&[], &[("prompt", "none")]);
    assert_eq!(browser.get(&pending.url).await.redirect_param("error").as_deref(), Some("login_required"));
    app.wait_for_audit(1, |l| l["event"] == "logout" && l["client"] == mellon.sp.entity_id.as_str()).await;

    // The protected page asks for a sign-in again.
    let (visited, page) = follow(&mut browser, protected).await;
    assert!(visited.last().unwrap().starts_with(&format!("{}/saml/sso?", app.url)), "{visited:?}");
    assert!(page.is_login_form(), "{}", page.body);
}

#[tokio::test]
async fn an_oidc_apps_logout_reaches_mellon_through_its_frame() {
    let (mellon, app) = Mellon::start(|_| {}).await;
    let mut browser = Browser::new();
    let portal = Rp::demo(&app.url, "portal").await;
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let page = mellon.sign_in(&app, &mut browser).await;
    assert_eq!(var(&page, "REMOTE_USER"), Some("dungnv@danang.gov.vn"), "SSO from the OIDC sign-in");

    // The OIDC app signs the person out; the signed-out page frames a LogoutRequest signed by us to mellon.
    let hint = tokens.id_token().unwrap().to_string();
    let page = browser.get(&format!("{}/logout?id_token_hint={hint}", app.url)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let frame = page.body.split("<iframe class=\"frontchannel\" src=\"").nth(1).expect("a frame for mellon");
    let frame = frame.split('"').next().unwrap().replace("&amp;", "&").replace("&#38;", "&");
    assert!(frame.starts_with(&format!("{}/mellon/logout?SAMLRequest=", mellon.apache.url)), "{frame}");

    // lasso checks our signature and ends mellon's session; mellon answers us with a LogoutResponse.
    let answer = browser.get(&frame).await;
    let location = answer.location.as_deref().unwrap_or_else(|| panic!("{} {}", answer.status, answer.body));
    assert!(location.starts_with(&format!("{}/saml/slo?SAMLResponse=", app.url)), "{location}");
    let accepted = browser.get(location).await;
    assert_eq!(accepted.status, 200, "our signature-checked acceptance, in the frame: {}", accepted.body);
    assert!(accepted.body.contains("Bạn đã đăng xuất"), "{}", accepted.body);
    let (visited, page) = follow(&mut browser, &mellon.protected).await;
    assert!(visited.last().unwrap().starts_with(&format!("{}/saml/sso?", app.url)), "{visited:?}");
    assert!(page.is_login_form(), "mellon's session ended too: {}", page.body);
}

#[tokio::test]
async fn mellons_passive_sign_in_with_and_without_a_session() {
    let (mellon, app) = Mellon::start(|_| {}).await;
    let public = format!("{}/public", mellon.apache.url);
    let mut browser = Browser::new();

    // IsPassive without an SSO session: no form; our NoPassive answer (Responder/NoPassive, as lasso's own IdP
    // answers) is a sign-in that did not succeed for mellon, which sends the person to MellonNoSuccessErrorPage.
    let (visited, page) = follow(&mut browser, &mellon.login_url(&public, "&IsPassive=true")).await;
    assert!(visited.last().unwrap().starts_with(&format!("{}/saml/sso?", app.url)), "{visited:?}");
    assert!(!page.is_login_form());
    let (visited, page) = submit(&mut browser, &page).await;
    assert_eq!(visited.last(), Some(&public), "{visited:?}");
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(var(&page, "REMOTE_USER"), Some(""), "not signed in: {}", page.body);

    // Signed in to an OIDC app (so an SSO session, but no mellon session yet): the passive sign-in gets the
    // assertion without the form. (mellon 0.18 has no way to ask for ForceAuthn.)
    let portal = Rp::demo(&app.url, "portal").await;
    portal.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let (_, posted) = follow(&mut browser, &mellon.login_url(&public, "&IsPassive=true")).await;
    assert!(!posted.is_login_form());
    let (_, page) = submit(&mut browser, &posted).await;
    assert_eq!(var(&page, "REMOTE_USER"), Some("dungnv@danang.gov.vn"), "{}", page.body);
}
