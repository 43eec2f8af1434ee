//! Oversized bodies and headers, and clickjacking: every page refuses to be framed.

use super::support::{PORTAL, PORTAL_CALLBACK, code_for, redeem, urlencode};
use crate::app::{TestApp, http};
use crate::browser::Browser;

#[tokio::test]
async fn oversized_bodies_and_headers_are_refused() {
    let app = TestApp::start().await;
    let big = format!("username={}&password=x", "a".repeat(100 * 1024));
    for path in ["/token", "/login", "/introspect", "/revoke", "/logout", "/authorize"] {
        let r = http()
            .post(format!("{}{path}", app.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{path}");
    }
    let r = http().get(format!("{}/healthz", app.url)).header("x-padding", "a".repeat(200 * 1024)).send().await;
    match r {
        Ok(r) => assert_eq!(r.status(), 431, "an oversized header"),
        Err(e) => panic!("an oversized header must get an answer, not a dropped connection: {e}"),
    }
    let r = http().get(format!("{}/healthz", app.url)).send().await.unwrap();
    assert_eq!(r.status(), 200, "the server is fine afterwards");
}

fn assert_unframeable(h: &reqwest::header::HeaderMap, what: &str) {
    assert_eq!(h.get("x-frame-options").map(|v| v.to_str().unwrap()), Some("DENY"), "{what}");
    let csp = h.get("content-security-policy").map(|v| v.to_str().unwrap()).unwrap_or("");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
}

#[tokio::test]
async fn no_page_can_be_framed() {
    let app = TestApp::start().await;
    let login = format!(
        "{}/authorize?response_type=code&client_id=portal&redirect_uri={}&scope=openid&state=st",
        app.url,
        urlencode(PORTAL_CALLBACK)
    );
    let error = format!("{}/authorize?client_id=nobody", app.url);
    let logout = format!("{}/logout", app.url);
    for (what, url) in [("sign-in form", login), ("error page", error), ("logout page", logout)] {
        let r = http().get(&url).send().await.unwrap();
        assert_unframeable(r.headers(), what);
    }
    let mut browser = Browser::new();
    let code = code_for(&app, &mut browser, "portal", PORTAL_CALLBACK, "openid").await;
    let (status, _) = redeem(&app, PORTAL, &code, PORTAL_CALLBACK).await;
    assert_eq!(status, 200);
    let form_post = format!(
        "{}/authorize?response_type=code&client_id=portal&redirect_uri={}&scope=openid&state=st&response_mode=form_post",
        app.url,
        urlencode(PORTAL_CALLBACK)
    );
    let r = http().get(&form_post).header("cookie", browser.cookie_header()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_unframeable(r.headers(), "form_post page");
}
