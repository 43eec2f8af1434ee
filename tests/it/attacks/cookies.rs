//! Cookie tossing (hole 5): any `*.danang.gov.vn` app is same-site and can set `danang_sso` or
//! `danang_sso_csrf` for the whole domain. Under https the cookies are `__Host-` prefixed (Secure, Path=/, no
//! Domain), which a sibling cannot set, and the unprefixed names are ignored.

use tokio::sync::oneshot;

use super::support::{PORTAL_CALLBACK, urlencode};
use crate::app::{TestApp, test_config};
use crate::browser::{Browser, PASSWORD};

/// The service behind a TLS-terminating proxy: issuer https, served here over plain HTTP on loopback.
struct BehindProxy {
    url: String,
    _stop: oneshot::Sender<()>,
}

async fn behind_proxy() -> BehindProxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = test_config();
    config.server.issuer = "https://sso.danang.gov.vn".into();
    let app = danang_sso::build(config).await.expect("the app builds");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(danang_sso::run(listener, app, async move {
        let _ = stopped.await;
    }));
    BehindProxy { url, _stop: stop }
}

fn authorize_url(base: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id=portal&redirect_uri={}&scope=openid&state=st",
        urlencode(PORTAL_CALLBACK)
    )
}

/// The `Set-Cookie` values of a response.
async fn set_cookies(url: &str, cookie: &str) -> (u16, Vec<String>) {
    let r = crate::app::http().get(url).header("cookie", cookie).send().await.unwrap();
    let all = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    (r.status().as_u16(), all)
}

fn assert_host_only(cookie: &str) {
    let attrs: Vec<&str> = cookie.split("; ").skip(1).collect();
    for attr in ["Secure", "Path=/", "HttpOnly"] {
        assert!(attrs.contains(&attr), "{attr} in {cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "no Domain: {cookie}");
}

#[tokio::test]
async fn under_https_both_cookies_carry_the_host_prefix() {
    let app = behind_proxy().await;
    let (status, cookies) = set_cookies(&authorize_url(&app.url), "").await;
    assert_eq!(status, 200);
    let csrf = cookies.iter().find(|c| c.starts_with("__Host-danang_sso_csrf=")).expect("the prefixed csrf cookie");
    assert_host_only(csrf);
    assert!(csrf.contains("SameSite=Strict"), "{csrf}");

    let mut browser = Browser::new();
    let form = browser.get(&authorize_url(&app.url)).await;
    let page = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    assert!(page.location.as_deref().is_some_and(|l| l.starts_with(PORTAL_CALLBACK)), "{:?}", page.location);
    let session = browser.cookie_header();
    assert!(session.contains("__Host-danang_sso="), "{session}");
    assert!(!session.split("; ").any(|c| c.starts_with("danang_sso=")), "{session}");
}

#[tokio::test]
async fn under_plain_http_the_demo_names_stay() {
    let app = TestApp::start().await;
    let (_, cookies) = set_cookies(&authorize_url(&app.url), "").await;
    assert!(cookies.iter().any(|c| c.starts_with("danang_sso_csrf=") && !c.contains("Secure")), "{cookies:?}");
}

/// A sibling site tosses its own session cookie (`danang_sso=<the attacker's session>`) at the victim: under
/// https it is not the session cookie, so the victim is not signed in as the attacker.
#[tokio::test]
async fn a_tossed_session_cookie_is_ignored_under_https() {
    let app = behind_proxy().await;
    let mut attacker = Browser::new();
    let form = attacker.get(&authorize_url(&app.url)).await;
    attacker.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    let secret =
        attacker.cookie_header().split("; ").find_map(|c| c.strip_prefix("__Host-danang_sso=").map(String::from));
    let secret = secret.expect("the attacker's own session");

    let r = crate::app::http()
        .get(authorize_url(&app.url))
        .header("cookie", format!("danang_sso={secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the sign-in form, not a code for the attacker's account");
    assert!(r.text().await.unwrap().contains(r#"name="password""#));
}

/// A sibling site tosses an anti-forgery cookie and posts the matching value: refused under https.
#[tokio::test]
async fn a_tossed_anti_forgery_cookie_is_ignored_under_https() {
    let app = behind_proxy().await;
    let mut browser = Browser::new();
    let form = browser.get(&authorize_url(&app.url)).await;
    let mut fields: Vec<(String, String)> =
        form.hidden_fields().into_iter().map(|(k, v)| if k == "csrf" { (k, "A".repeat(43)) } else { (k, v) }).collect();
    fields.push(("username".into(), "dungnv".into()));
    fields.push(("password".into(), PASSWORD.into()));
    let mut sibling = Browser::new();
    sibling.extra_headers.push(("cookie".into(), format!("danang_sso_csrf={}", "A".repeat(43))));
    let page = sibling.post_form(&format!("{}/login", app.url), &fields).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("Biểu mẫu đăng nhập đã hết hạn"), "{}", page.body);
    assert!(page.location.is_none());
}
