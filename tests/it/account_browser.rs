//! The account page in a real browser (Debian's chromium driven by `tests/browser/account.mjs`): dungnv's
//! session, signed into three city apps, with a second session from a phone; Vietnamese for an English-language
//! browser, English through the page's link. Its screenshot `target/e2e/account.png` is the README's picture
//! (`docs/account.png`).

use std::path::Path;

use crate::app::TestApp;
use crate::browser::Browser;
use crate::browser_e2e::{browser_tools, run_browser_script};
use crate::rp::Rp;

const CHROME_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const PHONE: &str = "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_page_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Err(missing) = browser_tools(root) {
        panic!("the real-browser test needs {missing}: run `bash .ci/test`, which installs it");
    }
    let app = TestApp::start().await;
    let mut phone = Browser::new();
    phone.extra_headers.push(("user-agent".into(), PHONE.into()));
    Rp::demo(&app.url, "portal").await.sign_in(&app.url, &mut phone, "dungnv", &[]).await;
    let mut desk = Browser::new();
    desk.extra_headers.push(("user-agent".into(), CHROME_WINDOWS.into()));
    for client in ["portal", "vanban", "tiepdan"] {
        Rp::demo(&app.url, client).await.sign_in(&app.url, &mut desk, "dungnv", &[]).await;
    }
    let session = desk
        .cookie_header()
        .split("; ")
        .find_map(|c| c.strip_prefix("danang_sso="))
        .expect("the session cookie")
        .to_owned();

    let artifacts = run_browser_script("account", &app.url, &[("SESSION_COOKIE", &session)]).await;
    assert!(artifacts.join("account.png").is_file(), "no screenshot account.png in {}", artifacts.display());
}
