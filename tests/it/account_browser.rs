//! The account page in a real browser (Debian's chromium driven by `tests/browser/account.mjs`): dungnv's
//! session, signed into three city apps, with a second session from a phone; Vietnamese for an English-language
//! browser, English through the page's link. Its screenshot `target/e2e/account.png` is the README's picture
//! (`docs/account.png`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::app::TestApp;
use crate::browser::Browser;
use crate::browser_e2e::{CHROMIUM, Node, artifacts_dir, browser_tools};
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

    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).expect("create the artifacts directory");
    let log = artifacts.join("account-browser.log");
    let output = std::fs::File::create(&log).expect("create the browser log");
    let child = Command::new("node")
        .arg(root.join("tests/browser/account.mjs"))
        .current_dir(root)
        .env("ISSUER", &app.url)
        .env("CHROMIUM", CHROMIUM)
        .env("ARTIFACTS", &artifacts)
        .env("SESSION_COOKIE", &session)
        .stdin(Stdio::null())
        .stdout(output.try_clone().expect("share the log file"))
        .stderr(output)
        .spawn()
        .expect("start node");
    let mut node = Node(child);
    let status = loop {
        if let Some(status) = node.0.try_wait().expect("node's status") {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let transcript = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "the account browser test failed ({status}):\n{transcript}");
    assert!(artifacts.join("account.png").is_file(), "no screenshot account.png in {}", artifacts.display());
}
