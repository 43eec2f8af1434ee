//! Against the real slapd: LDAP filter and DN injection, the empty password, and mailboxes that only look like
//! a real one. Each comes back as the same refused sign-in form, and nobody is signed in.

use super::support::{PORTAL_CALLBACK, urlencode};
use crate::app::{TestApp, test_config};
use crate::browser::{Browser, PASSWORD};
use crate::directory_suite::{demo_slapd, ldap_config};

const BAD_CREDENTIALS: &str = "Hộp thư hoặc mật khẩu không đúng.";

/// Posts the sign-in form with `username` and `password`; returns the status and the alert's text.
async fn attempt(app: &TestApp, username: &str, password: &str) -> (u16, String) {
    let mut browser = Browser::new();
    let url = format!(
        "{}/authorize?response_type=code&client_id=portal&redirect_uri={}&scope=openid&state=st",
        app.url,
        urlencode(PORTAL_CALLBACK)
    );
    let form = browser.get(&url).await;
    let page = browser.sign_in(&app.url, &form, username, password).await;
    assert!(page.location.is_none() && !browser.has_session(), "{username:?} signed in: {:?}", page.location);
    assert!(page.is_login_form(), "the form comes back for {username:?}");
    assert!(!page.body.contains("<script"), "the typed mailbox is escaped: {username:?}");
    let alert = page.body.split("role=\"alert\"").nth(1).and_then(|r| r.split('>').nth(1)).unwrap_or("");
    let alert = alert.split('<').next().unwrap_or("").trim().to_owned();
    (page.status.as_u16(), alert)
}

#[tokio::test]
async fn filter_and_dn_injection_empty_passwords_and_look_alikes_sign_nobody_in() {
    let slapd = demo_slapd();
    let mut config = test_config();
    config.directory.kind = danang_sso::config::DirectoryKind::Ldap;
    config.ldap = ldap_config(&slapd);
    // Enough tries for every case below without the throttle answering first.
    config.throttle.account_free_failures = 1000;
    config.throttle.account_max_failures = 1000;
    config.throttle.ip_free_failures = 1000;
    config.throttle.ip_max_failures = 1000;
    let app = TestApp::start_with(config).await;
    for username in [
        "*",
        "*@danang.gov.vn",
        "dung*",
        "dungnv)(uid=*",
        "*)(|(uid=*",
        "dungnv)(|(objectClass=*)",
        "dungnv\\",
        "dungnv\\2a",
        "dungnv\u{0}",
        "uid=dungnv,ou=people,dc=danang,dc=gov,dc=vn",
        "dungnv,ou=people",
        "ｄｕｎｇｎｖ",
        "ｄｕｎｇｎｖ@danang.gov.vn",
        "<script>alert(1)</script>",
    ] {
        assert_eq!(attempt(&app, username, PASSWORD).await, (200, BAD_CREDENTIALS.into()), "{username:?}");
    }
    for username in ["dungnv@danang.gov.vn@evil.vn", "dungnv@danang.gov.vn.", "dungnv@danang.gov.vn.evil.vn"] {
        let (status, alert) = attempt(&app, username, PASSWORD).await;
        assert_eq!(status, 200, "{username:?}");
        assert!(alert == BAD_CREDENTIALS || alert.contains("danang.gov.vn"), "{username:?}: {alert}");
    }
    for password in ["", " ", "*"] {
        assert_eq!(attempt(&app, "dungnv", password).await, (200, BAD_CREDENTIALS.into()), "password {password:?}");
    }
    assert_eq!(attempt(&app, "khongco", "").await, (200, BAD_CREDENTIALS.into()), "unknown with empty password");
    let mut browser = Browser::new();
    let url = format!(
        "{}/authorize?response_type=code&client_id=portal&redirect_uri={}&scope=openid&state=st",
        app.url,
        urlencode(PORTAL_CALLBACK)
    );
    let form = browser.get(&url).await;
    let page = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    assert!(page.location.is_some_and(|l| l.starts_with(PORTAL_CALLBACK)), "the real mailbox still signs in");
}
