//! The whole story in a real browser: the provider and the three demo city apps in-process, Debian's chromium
//! driven by playwright-core (`tests/browser/e2e.mjs`): sign in once, walk into another app, sign out everywhere;
//! a wrong password; the sign-in page with the keyboard alone. Screenshots go to `target/e2e/`.

#[path = "../../examples/city-apps/mod.rs"]
mod city_apps;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::net::TcpListener;

use crate::app::{TestApp, test_config};
use city_apps::CITY_APPS;

pub const CHROMIUM: &str = "/usr/bin/chromium";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_city_apps_one_sign_in_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Err(missing) = browser_tools(root) {
        panic!("the real-browser test needs {missing}: run `bash .ci/test`, which installs it");
    }

    // The apps' ports come first: the provider must know their redirect URIs before it starts.
    let mut listeners = Vec::new();
    for _ in CITY_APPS {
        listeners.push(TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port"));
    }
    let mut config = test_config();
    for (app, listener) in CITY_APPS.iter().zip(&listeners) {
        let port = listener.local_addr().expect("a bound port").port();
        let client = config.clients.iter_mut().find(|c| c.client_id == app.client_id).expect("a demo client");
        let at_port = |uri: &String| uri.replace(&format!("127.0.0.1:{}/", app.port), &format!("127.0.0.1:{port}/"));
        client.redirect_uris = client.redirect_uris.iter().map(at_port).collect();
        client.post_logout_redirect_uris = client.post_logout_redirect_uris.iter().map(at_port).collect();
        client.backchannel_logout_uri = client.backchannel_logout_uri.as_ref().map(at_port);
    }
    let provider = TestApp::start_with(config).await;
    let listeners: [TcpListener; 3] = listeners.try_into().expect("three listeners");
    let apps = city_apps::start(&provider.url, listeners).await.expect("the city apps start");

    let urls = [("PORTAL_URL", &*apps.urls[0]), ("VANBAN_URL", &*apps.urls[1]), ("TIEPDAN_URL", &*apps.urls[2])];
    let artifacts = run_browser_script("e2e", &provider.url, &urls).await;
    for shot in ["login.png", "portal.png"] {
        assert!(artifacts.join(shot).is_file(), "no screenshot {shot} in {}", artifacts.display());
    }
    drop(apps);
}

/// What the browser test needs besides Rust: chromium, node and playwright-core (`npm ci` in tests/browser).
pub fn browser_tools(root: &Path) -> Result<(), String> {
    if !Path::new(CHROMIUM).is_file() {
        return Err(format!("Debian's chromium at {CHROMIUM}"));
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|out| out.status.success()) {
        return Err("Node.js (`node` on the PATH)".into());
    }
    if !root.join("tests/browser/node_modules/playwright-core/package.json").is_file() {
        return Err("playwright-core (`npm ci` in tests/browser)".into());
    }
    Ok(())
}

/// Runs `tests/browser/<script>.mjs` in node against `issuer`, with chromium and the artifacts directory in its
/// environment besides `env`, and waits for it while the servers run on this runtime's threads (the script's
/// own steps time out if a page never comes); fails the test with the script's transcript if the script fails.
/// Returns the artifacts directory, where the screenshots are.
pub async fn run_browser_script(script: &str, issuer: &str, env: &[(&str, &str)]) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).expect("create the artifacts directory");
    let log = artifacts.join(format!("{script}-browser.log"));
    let output = std::fs::File::create(&log).expect("create the browser log");
    let child = Command::new("node")
        .arg(root.join(format!("tests/browser/{script}.mjs")))
        .current_dir(root)
        .env("ISSUER", issuer)
        .env("CHROMIUM", CHROMIUM)
        .env("ARTIFACTS", &artifacts)
        .envs(env.iter().copied())
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
    assert!(status.success(), "the browser script {script}.mjs failed ({status}):\n{transcript}");
    artifacts
}

/// `target/e2e`, beside the test binaries' own `target/tmp`.
pub fn artifacts_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("e2e")
}

/// The node process; if the test ends early it is stopped, and with it the browser.
pub struct Node(pub Child);

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            // SIGTERM lets playwright close chromium before node exits; SIGKILL if that takes too long.
            let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
            for _ in 0..50 {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
