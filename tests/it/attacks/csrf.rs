//! Login CSRF: the sign-in form's anti-forgery value is bound to the browser's cookie with an HMAC under the
//! server's key (hole 5), so neither a made-up value nor another browser's form signs anyone in.

use super::support::{PORTAL_CALLBACK, urlencode};
use crate::app::TestApp;
use crate::browser::{Browser, PASSWORD};

fn authorize_url(app: &TestApp) -> String {
    format!(
        "{}/authorize?response_type=code&client_id=portal&redirect_uri={}&scope=openid&state=st",
        app.url,
        urlencode(PORTAL_CALLBACK)
    )
}

fn with_csrf(fields: Vec<(String, String)>, csrf: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        fields.into_iter().map(|(k, v)| if k == "csrf" { (k, csrf.to_owned()) } else { (k, v) }).collect();
    out.push(("username".into(), "dungnv".into()));
    out.push(("password".into(), PASSWORD.into()));
    out
}

fn assert_refused(page: &crate::browser::Page, browser: &Browser) {
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("Biểu mẫu đăng nhập đã hết hạn"), "{}", page.body);
    assert!(page.location.is_none() && !browser.has_session());
}

/// Double submit alone accepted any 43-character value present in both cookie and form, which a sibling site
/// can plant. The value must now be one the server made.
#[tokio::test]
async fn a_made_up_anti_forgery_value_is_refused() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let form = browser.get(&authorize_url(&app)).await;
    let made_up = "A".repeat(43);
    let mut planted = Browser::new();
    planted.extra_headers.push(("cookie".into(), format!("danang_sso_csrf={made_up}")));
    let page = planted.post_form(&format!("{}/login", app.url), &with_csrf(form.hidden_fields(), &made_up)).await;
    assert_refused(&page, &planted);
}

/// The attacker loads the form in their own browser and makes the victim's browser post it (with the
/// attacker's mailbox): the victim's browser has no matching cookie.
#[tokio::test]
async fn login_csrf_from_a_second_browser_is_refused() {
    let app = TestApp::start().await;
    let mut attacker = Browser::new();
    let form = attacker.get(&authorize_url(&app)).await;
    let attackers_value = form.hidden_fields().into_iter().find(|(k, _)| k == "csrf").unwrap().1;
    let posted = with_csrf(form.hidden_fields(), &attackers_value);

    let mut fresh = Browser::new();
    let page = fresh.post_form(&format!("{}/login", app.url), &posted).await;
    assert_refused(&page, &fresh);

    let mut victim = Browser::new();
    victim.get(&authorize_url(&app)).await;
    let page = victim.post_form(&format!("{}/login", app.url), &posted).await;
    assert_refused(&page, &victim);

    let missing = with_csrf(form.hidden_fields(), "");
    let page = attacker.post_form(&format!("{}/login", app.url), &missing).await;
    assert_refused(&page, &attacker);

    let page = attacker.post_form(&format!("{}/login", app.url), &posted).await;
    assert!(page.location.as_deref().is_some_and(|l| l.starts_with(PORTAL_CALLBACK)), "its own browser signs in");
}
