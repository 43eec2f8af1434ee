//! One incident through the console in a real browser (Debian's chromium driven by `tests/browser/console.mjs`):
//! haltt signs in, finds dungnv by his name without diacritics, ends his sessions with a reason, and finds the
//! action in the audit search. Screenshots go to `target/e2e/` (`console.png` is the README's picture).

use std::path::Path;

use crate::app::TestApp;
use crate::browser::Browser;
use crate::browser_e2e::{browser_tools, run_browser_script};
use crate::rp::Rp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_handled_through_the_console_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Err(missing) = browser_tools(root) {
        panic!("the real-browser test needs {missing}: run `bash .ci/test`, which installs it");
    }
    let app = TestApp::start().await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut dung = Browser::new();
    let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
    dung.extra_headers.push(("user-agent".into(), firefox.into()));
    portal.sign_in(&app.url, &mut dung, "dungnv", &[]).await;

    let artifacts = run_browser_script("console", &app.url, &[]).await;
    assert!(artifacts.join("console.png").is_file(), "no screenshot console.png in {}", artifacts.display());

    let pending = portal.start(&[], &[("prompt", "none")]);
    assert_eq!(dung.get(&pending.url).await.redirect_param("error").as_deref(), Some("login_required"));
}
