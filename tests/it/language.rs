//! Vietnamese first (issue 16): an English-language browser gets Vietnamese pages unless the app asks
//! (`ui_locales=en`), the person picks English with the link on the page (remembered in a cookie), or the
//! operator sets `[ui] follow_browser_language`. The link returns only to a path on this service. Every sign-in,
//! second-factor and error page carries the help line and "forgot password" from `[ui]`, escaped.

use crate::app::{TestApp, test_config};
use crate::browser::{Browser, PASSWORD, Page};
use crate::rp::Rp;

const EN_WINDOWS: &str = "en-US,en;q=0.9";

fn english_browser() -> Browser {
    let mut browser = Browser::new();
    browser.accept_language = Some(EN_WINDOWS.into());
    browser
}

fn is_vietnamese(page: &Page) -> bool {
    page.body.contains(r#"<html lang="vi">"#)
}

fn is_english(page: &Page) -> bool {
    page.body.contains(r#"<html lang="en">"#)
}

/// The `href` of the element with `id`, unescaped.
fn href(page: &Page, id: &str) -> String {
    let at = page.body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {}", page.body));
    let rest = &page.body[at..];
    let from = rest.find("href=\"").unwrap() + 6;
    let to = rest[from..].find('"').unwrap();
    crate::harness::unescape(&rest[from..from + to])
}

/// Follows the language link on `page` and returns where it sent the browser, after checking it is a 303.
async fn pick_language(app: &TestApp, browser: &mut Browser, page: &Page) -> String {
    let link = href(page, "language-link");
    assert!(link.starts_with("/ngon-ngu?"), "{link}");
    let switched = browser.get(&format!("{}{link}", app.url)).await;
    assert_eq!(switched.status, 303, "{}", switched.body);
    switched.location.unwrap()
}

#[tokio::test]
async fn an_english_windows_browser_gets_vietnamese_by_default() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = english_browser();
    let page = browser.get(&portal.start(&[], &[]).url).await;
    assert!(page.is_login_form());
    assert!(is_vietnamese(&page) && page.body.contains("Đăng nhập để vào Cổng thông tin điện tử"), "{}", page.body);
    let account = browser.get(&format!("{}/tai-khoan/dang-nhap", app.url)).await;
    assert!(is_vietnamese(&account), "{}", account.body);
    let error = browser.get(&format!("{}/authorize?client_id=no-such-app", app.url)).await;
    assert_eq!(error.status, 400);
    assert!(is_vietnamese(&error) && error.body.contains("chưa được đăng ký"), "{}", error.body);
}

#[tokio::test]
async fn following_the_browser_is_the_operators_choice() {
    let mut config = test_config();
    config.ui.follow_browser_language = true;
    let app = TestApp::start_with(config).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let page = english_browser().get(&portal.start(&[], &[]).url).await;
    assert!(is_english(&page) && page.body.contains("Sign in to Cổng thông tin điện tử"), "{}", page.body);
    // The app's ui_locales still comes before the browser.
    let page = english_browser().get(&portal.start(&[], &[("ui_locales", "vi")]).url).await;
    assert!(is_vietnamese(&page), "{}", page.body);
    let mut config = test_config();
    config.ui.default_language = "en".into();
    let app = TestApp::start_with(config).await;
    let page = Browser::new().get(&Rp::demo(&app.url, "portal").await.start(&[], &[]).url).await;
    assert!(is_english(&page), "default_language = \"en\"");
}

#[tokio::test]
async fn ui_locales_en_wins_over_the_vietnamese_default() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    browser.accept_language = Some("vi-VN,vi;q=0.9".into());
    let page = browser.get(&portal.start(&[], &[("ui_locales", "en")]).url).await;
    assert!(is_english(&page) && page.body.contains("Sign in to"), "{}", page.body);
    // A wrong password re-shows the form in the language the app asked for.
    let again = browser.sign_in(&app.url, &page, "dungnv", "wrong").await;
    assert!(is_english(&again) && again.body.contains("Wrong mailbox or password."), "{}", again.body);
}

#[tokio::test]
async fn the_link_remembers_english_and_comes_back_to_the_same_page() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = english_browser();
    let pending = portal.start(&[], &[("login_hint", "dungnv")]);
    let page = browser.get(&pending.url).await;
    assert!(is_vietnamese(&page));
    assert_eq!(page.body.matches("id=\"language-link\"").count(), 1);
    let back = pick_language(&app, &mut browser, &page).await;
    // Back to the very request the app made, every parameter kept.
    let asked = url::Url::parse(&pending.url).unwrap();
    let returned = url::Url::parse(&format!("{}{back}", app.url)).unwrap();
    assert_eq!(returned.path(), "/authorize");
    let mut a: Vec<_> = asked.query_pairs().collect();
    let mut r: Vec<_> = returned.query_pairs().collect();
    a.sort();
    r.sort();
    assert_eq!(a, r);
    assert!(browser.cookie_header().contains("danang_sso_lang=en"), "{}", browser.cookie_header());

    let english = browser.get(returned.as_str()).await;
    assert!(is_english(&english) && english.body.contains("Sign in to"), "{}", english.body);
    assert_eq!(english.username_value(), "dungnv");
    // The pick holds on the next pages too (even over an app's ui_locales=vi), and signs in as usual.
    let account = browser.get(&format!("{}/tai-khoan/dang-nhap", app.url)).await;
    assert!(is_english(&account), "{}", account.body);
    let other = browser.get(&portal.start(&[], &[("ui_locales", "vi")]).url).await;
    assert!(is_english(&other), "the person's own pick comes first");
    let done = browser.sign_in(&app.url, &english, "dungnv", PASSWORD).await;
    assert!(done.redirect_param("code").is_some(), "{:?} {}", done.location, done.body);

    // And back to Vietnamese the same way.
    let back = pick_language(&app, &mut browser, &account).await;
    assert_eq!(back, "/tai-khoan/dang-nhap?continue=%2Ftai-khoan");
    let page = browser.get(&format!("{}{back}", app.url)).await;
    assert!(is_vietnamese(&page), "{}", page.body);
}

#[tokio::test]
async fn the_link_on_a_pushed_request_continues_through_a_fresh_request_uri() {
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    // A live session, and a pushed request with prompt=login: the form must come back after the link too.
    let mut browser = Browser::new();
    portal.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let pending = portal.start(&[], &[("prompt", "login")]);
    let url = url::Url::parse(&pending.url).unwrap();
    let fields: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let pushed: serde_json::Value = crate::app::http()
        .post(format!("{}/par", app.url))
        .basic_auth("portal", Some("portal-secret"))
        .form(&fields)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut start = url::Url::parse(&format!("{}/authorize", app.url)).unwrap();
    start
        .query_pairs_mut()
        .append_pair("client_id", "portal")
        .append_pair("request_uri", pushed["request_uri"].as_str().unwrap());
    let page = browser.get(start.as_str()).await;
    assert!(is_vietnamese(&page) && page.is_login_form());
    let back = pick_language(&app, &mut browser, &page).await;
    let prefix = "/authorize?client_id=portal&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A";
    assert!(back.starts_with(prefix), "{back}");
    let english = browser.get(&format!("{}{back}", app.url)).await;
    assert!(is_english(&english) && english.is_login_form(), "prompt=login still asks: {}", english.body);
    let done = browser.sign_in(&app.url, &english, "dungnv", PASSWORD).await;
    portal.exchange(pending, &done).await;
    // The fresh request_uri is single-use like any other.
    let again = browser.get(&format!("{}{back}", app.url)).await;
    assert_eq!(again.status, 400);
}

#[tokio::test]
async fn the_link_never_leaves_this_service() {
    let app = TestApp::start().await;
    for target in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "///evil.example",
        "javascript:alert(1)",
        "evil.example",
    ] {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("lang", "en").append_pair("return", target);
        let mut browser = Browser::new();
        let page = browser.get(&format!("{}/ngon-ngu?{}", app.url, query.finish())).await;
        assert_eq!((page.status.as_u16(), page.location.as_deref()), (303, Some("/tai-khoan")), "{target}");
    }
    // A path here is where it goes; an unknown language sets nothing.
    let mut browser = Browser::new();
    let page = browser.get(&format!("{}/ngon-ngu?lang=fr&return=%2Ftai-khoan%2Fdang-nhap", app.url)).await;
    assert_eq!(page.location.as_deref(), Some("/tai-khoan/dang-nhap"));
    assert!(!browser.cookie_header().contains("danang_sso_lang"));
    // A made-up sealed request goes nowhere but the account page.
    let page = browser
        .get(&format!("{}/ngon-ngu?lang=en&client_id=portal&pushed_request=eyJhbGciOiJub25lIn0.e30.", app.url))
        .await;
    assert_eq!((page.status.as_u16(), page.location.as_deref()), (303, Some("/tai-khoan")));
}

#[tokio::test]
async fn the_help_line_and_forgot_password_are_on_every_sign_in_second_factor_and_error_page() {
    let mut config = test_config();
    config.ui.support_contact = "Trung tâm <b>CNTT</b> & \"hỗ trợ\": admin@danang.gov.vn".into();
    config.ui.password_reset_url = Some("https://matkhau.danang.gov.vn/quen?a=1&b=2".into());
    let app = TestApp::start_with(config).await;
    let check = |page: &Page, what: &str| {
        assert!(page.body.contains("id=\"help-contact\""), "{what}: {}", page.body);
        let contact = page.body.split("id=\"help-contact\">").nth(1).unwrap().split("</p>").next().unwrap().to_owned();
        assert!(!contact.contains("<b>"), "{what}: escaped: {contact}");
        assert!(contact.contains("admin@danang.gov.vn") && contact.contains("CNTT"), "{what}: {contact}");
        assert_eq!(href(page, "forgot-password"), "https://matkhau.danang.gov.vn/quen?a=1&b=2", "{what}");
    };
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let form = browser.get(&portal.start(&[], &[]).url).await;
    check(&form, "OIDC sign-in");
    let wrong = browser.sign_in(&app.url, &form, "dungnv", "wrong").await;
    check(&wrong, "sign-in after a wrong password");
    check(&browser.get(&format!("{}/tai-khoan/dang-nhap", app.url)).await, "account sign-in");
    let error = browser.get(&format!("{}/authorize?client_id=no-such-app", app.url)).await;
    assert_eq!(error.status, 400);
    check(&error, "error page");
    assert!(!error.body.contains("id=\"language-link\""), "the failed request is not echoed into the page");
    let form = browser.get(&portal.start(&[], &[]).url).await;
    browser.sign_in(&app.url, &form, "anhvn", PASSWORD).await;
    let mfa = browser.get(&format!("{}/mfa", app.url)).await;
    check(&mfa, "second factor");
    let enrol = browser.get(&format!("{}/tai-khoan/totp", app.url)).await;
    assert_eq!(enrol.status, 303, "anhvn has a factor already: a fresh sign-in first");

    // Without a reset URL, "forgot password" points at the help line.
    let app = TestApp::start().await;
    let page = Browser::new().get(&format!("{}/tai-khoan/dang-nhap", app.url)).await;
    assert_eq!(href(&page, "forgot-password"), "#help-contact");
    assert!(page.body.contains("admin@danang.gov.vn"));
    let mut enrolling = Browser::new();
    crate::mfa::sign_in_to_account(&app, &mut enrolling, "haltt").await;
    let enrol = enrolling.get(&format!("{}/tai-khoan/totp", app.url)).await;
    assert_eq!(enrol.status, 200);
    assert!(
        enrol.body.contains("id=\"help-contact\"") && enrol.body.contains("id=\"language-link\""),
        "enrolment page"
    );
}
