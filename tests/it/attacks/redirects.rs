//! Open redirects: an unregistered or look-alike `redirect_uri` gets a page, never a redirect, and a
//! `post_logout_redirect_uri` is followed only when registered for the app that asks.

use super::support::{PORTAL, PORTAL_CALLBACK, code_for, redeem, urlencode};
use crate::app::TestApp;
use crate::browser::Browser;

#[tokio::test]
async fn look_alike_redirect_uris_get_a_page_never_a_redirect() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    for redirect in [
        "https://evil.example/callback",
        "http://127.0.0.1:8081/callback/",
        "http://127.0.0.1:8081/callback?next=https://evil.example",
        "http://127.0.0.1:8081/callback#x",
        "http://127.0.0.1:8081/callback/../evil",
        "http://127.0.0.1:8081/Callback",
        "HTTP://127.0.0.1:8081/callback",
        "http://127.0.0.1:8081@evil.example/callback",
        "http://evil.example@127.0.0.1:8081/callback",
        "http://127.0.0.1:80812/callback",
        "http://127.0.0.1:8081/callback%2F..%2Fevil",
        "http://127.0.0.1:8082/callback",
        "//evil.example/callback",
        "http://127.0.0.1:8081/callback ",
        "javascript:alert(1)",
    ] {
        let url = format!(
            "{}/authorize?response_type=code&client_id=portal&scope=openid&state=s&redirect_uri={}",
            app.url,
            urlencode(redirect)
        );
        let page = browser.get(&url).await;
        assert_eq!(page.status, 400, "{redirect}");
        assert!(page.location.is_none(), "never a redirect: {redirect}");
        assert!(!page.body.contains("evil.example"), "not even a link: {redirect}");
    }
}

#[tokio::test]
async fn post_logout_redirects_go_only_to_the_asking_apps_registered_uris() {
    let app = TestApp::start().await;
    for target in [
        "https://evil.example/",
        "http://127.0.0.1:8081/x",
        "http://127.0.0.1:8081",
        "http://127.0.0.1:8082/",
        "http://127.0.0.1:8081@evil.example/",
    ] {
        let mut browser = Browser::new();
        let code = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid").await;
        let (_, tokens) = redeem(&app, PORTAL, &code, PORTAL_CALLBACK).await;
        let hint = tokens["id_token"].as_str().unwrap();
        let url = format!("{}/logout?id_token_hint={hint}&post_logout_redirect_uri={}", app.url, urlencode(target));
        let page = browser.get(&url).await;
        assert_eq!(page.status, 200, "{target}");
        assert!(page.location.is_none(), "not followed: {target}");
        assert!(!page.body.contains("evil.example"), "{target}");
        assert!(!browser.has_session(), "the logout itself happened");
    }
    let mut browser = Browser::new();
    browser.get(&format!("{}/logout?post_logout_redirect_uri={}", app.url, urlencode("https://evil.example/"))).await;
    let page = browser
        .get(&format!(
            "{}/logout?client_id=portal&post_logout_redirect_uri={}",
            app.url,
            urlencode("https://evil.example/")
        ))
        .await;
    assert!(page.location.is_none(), "without a session, still no open redirect");
}
