//! Restarting an instance loses nothing: sessions and refresh tokens live in Redis, keys in the keys directory.
//! Once in-process (a graceful stop), once as the real binary killed with SIGKILL.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use openidconnect::OAuth2TokenResponse;

use super::{app_config, refresh};
use crate::app::{TestApp, keys_dir};
use crate::browser::Browser;
use crate::harness::{Redis, free_port};
use crate::rp::Rp;

/// After a restart: the browser's session still gives a code without the form, and the refresh token still works.
async fn still_signed_in(issuer: &str, portal: &Rp, browser: &mut Browser, refresh_token: &str) {
    let pending = portal.start(&[], &[("prompt", "none")]);
    let page = browser.get(&pending.url).await;
    assert!(page.redirect_param("code").is_some(), "the session survived: {:?} {}", page.location, page.body);
    portal.exchange(pending, &page).await;
    let refreshed = refresh(issuer, "portal", refresh_token).await;
    assert_eq!(refreshed.status, 200, "the refresh token survived: {}", refreshed.json);
}

#[tokio::test]
async fn an_instance_stopped_and_started_again_keeps_sessions_and_refresh_tokens() {
    let redis = Redis::start();
    let app = TestApp::start_with(app_config(&redis, "again:")).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "huongtt", &["offline_access"]).await;
    let (url, port) = (app.url.clone(), app.port());
    drop(app);
    let app = TestApp::start_on(port, app_config(&redis, "again:")).await;
    assert_eq!(app.url, url, "the same issuer");
    still_signed_in(&app.url, &portal, &mut browser, tokens.refresh_token().unwrap().secret()).await;
}

#[tokio::test]
async fn an_instance_killed_with_sigkill_keeps_sessions_and_refresh_tokens() {
    let redis = Redis::start();
    let port = free_port();
    let mut server = Server::start(port, &redis).await;
    let portal = Rp::demo(&server.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&server.url, &mut browser, "anhvn", &["offline_access"]).await;
    server.kill();
    drop(server);
    let server = Server::start(port, &redis).await;
    still_signed_in(&server.url, &portal, &mut browser, tokens.refresh_token().unwrap().secret()).await;
}

/// The real `danang-sso` binary with a config file in a temp dir; SIGKILLed on drop.
struct Server {
    url: String,
    child: Option<Child>,
    dir: PathBuf,
}

impl Server {
    async fn start(port: u16, redis: &Redis) -> Server {
        let url = format!("http://127.0.0.1:{port}");
        let dir = std::env::temp_dir().join(format!("danang-sso-kill9-{}-{port}", std::process::id()));
        fs::create_dir_all(&dir).expect("a temp dir for the server");
        let config = format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nissuer = \"{url}\"\n\n\
             [keys]\ndir = {keys:?}\n\n\
             [store]\nkind = \"redis\"\nredis_url = \"{redis}\"\nkey_prefix = \"kill9:\"\n",
            keys = keys_dir().display().to_string(),
            redis = redis.url,
        );
        fs::write(dir.join("config.toml"), config).expect("write the config");
        let log = fs::File::create(dir.join("server.log")).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_danang-sso"))
            .arg("--config")
            .arg(dir.join("config.toml"))
            .env_clear()
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn danang-sso");
        let mut server = Server { url, child: Some(child), dir };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let discovery = format!("{}/.well-known/openid-configuration", self.url);
        loop {
            if crate::app::http().get(&discovery).send().await.is_ok_and(|r| r.status() == 200) {
                return;
            }
            let exited = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let log = fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
                panic!("danang-sso did not come up ({exited:?}); its output:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flushing, like a crashed machine.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
