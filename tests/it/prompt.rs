//! `prompt` over HTTP: discovery lists only values that work; `select_account` shows "continue as … / use another
//! mailbox" (Vietnamese, English with ui_locales=en); `consent` shows the scopes an app marked `consent = true`
//! asks for, declining sends `access_denied`, agreeing is remembered while the session lives.

use danang_sso::config::ClientConfig;
use openidconnect::TokenResponse;
use serde_json::Value;

use crate::app::{TestApp, test_config};
use crate::browser::{Browser, PASSWORD, Page};
use crate::rp::{Rp, payload};

const NGOAI_REDIRECT: &str = "http://127.0.0.1:9/ngoai/callback";

/// The demo config plus `ngoai`, an app the city does not run itself: consent asked (secret "portal-secret").
fn config_with_consent_client() -> danang_sso::config::Config {
    let mut config = test_config();
    let portal_hash = config.clients.iter().find(|c| c.client_id == "portal").unwrap().client_secret_hash.clone();
    config.clients.push(ClientConfig {
        client_id: "ngoai".into(),
        name: "Ứng dụng đối tác".into(),
        client_secret_hash: portal_hash,
        redirect_uris: vec![NGOAI_REDIRECT.into()],
        consent: true,
        ..Default::default()
    });
    config
}

/// Posts the page's form with `choice`.
async fn choose(browser: &mut Browser, issuer: &str, page: &Page, choice: &str) -> Page {
    let mut fields = page.hidden_fields();
    fields.push(("choice".into(), choice.into()));
    let action = page.form_action().expect("a form");
    browser.post_form(&format!("{issuer}{action}"), &fields).await
}

fn is_consent_page(page: &Page) -> bool {
    page.status == 200 && page.body.contains("Cho phép ứng dụng truy cập")
}

#[tokio::test]
async fn discovery_lists_only_prompt_values_that_work() {
    let app = TestApp::start().await;
    let meta: Value = crate::app::http()
        .get(format!("{}/.well-known/openid-configuration", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Each of these is exercised over HTTP: none and login by the flow tests, select_account and consent below.
    assert_eq!(meta["prompt_values_supported"], serde_json::json!(["none", "login", "consent", "select_account"]));
}

#[tokio::test]
async fn select_account_continues_as_the_sessions_person_or_signs_in_another() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (first, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let dung = payload(&first.id_token().unwrap().to_string())["sub"].clone();

    let vanban = Rp::demo(&app.url, "vanban").await;
    let pending = vanban.start(&[], &[("prompt", "select_account")]);
    let page = browser.get(&pending.url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Tiếp tục với tư cách Nguyễn Văn Dũng"), "{}", page.body);
    assert!(page.body.contains("Dùng hộp thư khác"));
    assert!(page.body.contains("dungnv@danang.gov.vn"));

    // A forged choice (no anti-forgery value) decides nothing: the page comes again.
    let mut forged: Vec<(String, String)> = page.hidden_fields().into_iter().filter(|(k, _)| k != "csrf").collect();
    forged.push(("choice".into(), "continue".into()));
    let again = browser.post_form(&format!("{}/authorize/select-account", app.url), &forged).await;
    assert_eq!(again.location, None);
    assert!(again.body.contains("Tiếp tục với tư cách Nguyễn Văn Dũng"));

    let done = choose(&mut browser, &app.url, &page, "continue").await;
    let nonce = pending.nonce.clone();
    let tokens = vanban.exchange(pending, &done).await;
    let claims = tokens.id_token().unwrap().claims(&vanban.client.id_token_verifier(), &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), dung.as_str().unwrap(), "continued as the session's person");

    // "Use another mailbox": the sign-in form; signing in as another person gives that person's code.
    let pending = vanban.start(&[], &[("prompt", "select_account")]);
    let page = browser.get(&pending.url).await;
    let form = choose(&mut browser, &app.url, &page, "other").await;
    assert!(form.is_login_form(), "{}", form.body);
    let done = browser.sign_in(&app.url, &form, "haltt", PASSWORD).await;
    let tokens = vanban.exchange(pending, &done).await;
    let ha = payload(&tokens.id_token().unwrap().to_string());
    assert_ne!(ha["sub"], dung, "another person");

    // In English with ui_locales=en; and without a session, straight to the sign-in form.
    let page = browser.get(&vanban.start(&[], &[("prompt", "select_account"), ("ui_locales", "en")]).url).await;
    assert!(page.body.contains("Continue as Lê Thị Thu Hà"), "{}", page.body);
    assert!(page.body.contains("Use another mailbox"));
    let fresh = Browser::new().get(&vanban.start(&[], &[("prompt", "select_account")]).url).await;
    assert!(fresh.is_login_form());
}

#[tokio::test]
async fn consent_is_asked_declined_given_and_remembered_while_the_session_lives() {
    let app = TestApp::start_with(config_with_consent_client()).await;
    let ngoai = Rp::new(&app.url, "ngoai", Some("portal-secret"), NGOAI_REDIRECT).await;
    let mut browser = Browser::new();

    // After the password, the scopes the app asks for; declining sends access_denied with the state.
    let pending = ngoai.start(&["profile", "email"], &[]);
    let form = browser.get(&pending.url).await;
    let page = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    assert!(is_consent_page(&page), "{} {}", page.status, page.body);
    assert!(page.body.contains("Ứng dụng Ứng dụng đối tác đề nghị được biết các thông tin sau về Nguyễn Văn Dũng"));
    for scope in ["openid", "profile", "email"] {
        assert!(page.body.contains(&format!(r#"data-scope="{scope}""#)), "{scope} listed");
    }
    assert!(!page.body.contains(r#"data-scope="groups""#), "only what is asked for");
    assert!(browser.has_session(), "signed in, even before agreeing");
    let declined = choose(&mut browser, &app.url, &page, "decline").await;
    assert!(declined.location.as_deref().unwrap().starts_with(NGOAI_REDIRECT));
    assert_eq!(declined.redirect_param("error").as_deref(), Some("access_denied"));
    assert_eq!(declined.redirect_param("state").as_deref(), Some(pending.state.secret().as_str()));
    assert_eq!(declined.redirect_param("code"), None);

    // Declined is not remembered: asked again; prompt=none answers consent_required.
    let none = browser.get(&ngoai.start(&["profile", "email"], &[("prompt", "none")]).url).await;
    assert_eq!(none.redirect_param("error").as_deref(), Some("consent_required"));
    let pending = ngoai.start(&["profile", "email"], &[]);
    let page = browser.get(&pending.url).await;
    assert!(is_consent_page(&page), "asked again in the session");

    // A forged agreement decides nothing.
    let mut forged: Vec<(String, String)> = page.hidden_fields().into_iter().filter(|(k, _)| k != "csrf").collect();
    forged.push(("choice".into(), "accept".into()));
    let again = browser.post_form(&format!("{}/authorize/consent", app.url), &forged).await;
    assert!(is_consent_page(&again), "{}", again.body);

    let agreed = choose(&mut browser, &app.url, &page, "accept").await;
    let nonce = pending.nonce.clone();
    let tokens = ngoai.exchange(pending, &agreed).await;
    tokens.id_token().unwrap().claims(&ngoai.client.id_token_verifier(), &nonce).expect("the ID token verifies");

    // Remembered: no page, also for prompt=none; a new scope or prompt=consent asks again.
    let page = browser.get(&ngoai.start(&["profile"], &[]).url).await;
    assert!(page.redirect_param("code").is_some(), "remembered: {} {}", page.status, page.body);
    let page = browser.get(&ngoai.start(&["email"], &[("prompt", "none")]).url).await;
    assert!(page.redirect_param("code").is_some());
    let pending = ngoai.start(&["groups"], &[]);
    let page = browser.get(&pending.url).await;
    assert!(is_consent_page(&page), "a new scope");
    let agreed = choose(&mut browser, &app.url, &page, "accept").await;
    assert!(agreed.redirect_param("code").is_some());
    let page = browser.get(&ngoai.start(&["profile", "email", "groups"], &[]).url).await;
    assert!(page.redirect_param("code").is_some(), "scopes agreed to in this session add up: {}", page.body);
    assert!(is_consent_page(&browser.get(&ngoai.start(&[], &[("prompt", "consent")]).url).await), "prompt=consent");

    // English with ui_locales=en.
    let page = browser.get(&ngoai.start(&["groups"], &[("prompt", "consent"), ("ui_locales", "en")]).url).await;
    assert!(page.body.contains("Allow the application access"), "{}", page.body);
    assert!(page.body.contains("The groups you belong to"));

    // Signing out forgets it: the next sign-in asks again.
    let logout = browser.get(&format!("{}/logout", app.url)).await;
    browser.post_form(&format!("{}/logout", app.url), &logout.hidden_fields()).await;
    let form = browser.get(&ngoai.start(&["profile"], &[]).url).await;
    assert!(form.is_login_form());
    let page = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    assert!(is_consent_page(&page), "asked again after signing out");
    app.wait_for_audit(1, |e| e["event"] == "consent_declined" && e["client"] == "ngoai").await;
    app.wait_for_audit(1, |e| e["event"] == "consent_given" && e["client"] == "ngoai").await;
}

#[tokio::test]
async fn apps_without_consent_get_no_consent_page() {
    let app = TestApp::start_with(config_with_consent_client()).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &["groups"]).await;
    assert!(tokens.id_token().is_some(), "first-party apps go straight back");
}
