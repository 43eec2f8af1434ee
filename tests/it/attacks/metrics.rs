//! Reading `/metrics` to learn which mailboxes exist: post a guess, see which counter moved. No label may tell an
//! unknown mailbox, a wrong password and a disabled account apart; the audit trail keeps the detail.

use crate::app::{TestApp, http};
use crate::browser::{Browser, Page};
use crate::rp::Rp;

async fn attempt(app: &TestApp, user: &str) -> Page {
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let form = browser.get(&portal.start(&[], &[]).url).await;
    browser.sign_in(&app.url, &form, user, "sai").await
}

#[tokio::test]
async fn sign_in_metrics_say_bad_credentials_for_unknown_wrong_and_disabled_alike() {
    let app = TestApp::start().await;
    // khoanm is locked in the demo directory; khongtontai does not exist; dungnv exists.
    for user in ["khongtontai", "dungnv", "khoanm"] {
        assert_eq!(attempt(&app, user).await.status, 200);
    }
    let text = http().get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    for reason in ["unknown_account", "wrong_password", "account_disabled", "empty_password"] {
        assert!(!text.contains(reason), "/metrics names `{reason}`:\n{text}");
    }
    let line = text
        .lines()
        .find(|l| l.starts_with("danang_sso_sign_ins_total{") && l.contains("reason=\"bad_credentials\""))
        .unwrap_or_else(|| panic!("no bad_credentials line:\n{text}"));
    assert!(line.ends_with(" 3"), "all three counted together: {line}");
    let audit = app.wait_for_audit(3, |l| l["event"] == "sign_in_failure").await;
    let reasons: Vec<&str> =
        audit.iter().filter(|l| l["event"] == "sign_in_failure").filter_map(|l| l["reason"].as_str()).collect();
    assert_eq!(reasons, ["unknown_account", "wrong_password", "account_disabled"], "the detail stays in the audit");
}
