//! Starts danang-sso in-process on a free loopback port, exactly as `main` does, and stops it on drop.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use danang_sso::clock::Clock;
use danang_sso::config::{ClientConfig, Config};
use tokio::sync::oneshot;

pub struct TestApp {
    /// The issuer, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    pub clock: Clock,
    /// The audit trail of this instance (a file of its own unless the test chose otherwise).
    pub audit_path: Option<PathBuf>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestApp {
    /// The embedded defaults (demo directory, memory store, demo clients) plus the test's public client.
    pub async fn start() -> TestApp {
        TestApp::start_with(test_config()).await
    }

    pub async fn start_with(config: Config) -> TestApp {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
            .with_test_writer()
            .try_init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        TestApp::serve(listener, config).await
    }

    /// Like [`TestApp::start_with`], under `http://localhost:<port>`: WebAuthn takes no IP address as relying
    /// party id, so the passkey tests need a host name.
    pub async fn start_on_localhost(config: Config) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let url = format!("http://localhost:{port}");
        TestApp::serve_at(listener, config, url.clone(), url).await
    }

    /// Another instance behind the same `issuer` (the address people use, a load balancer's), listening on a port
    /// of its own; `url` is where the test reaches this instance directly.
    pub async fn start_behind(config: Config, issuer: &str) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        TestApp::serve_at(listener, config, url, issuer.to_owned()).await
    }

    /// Starts on `port` (a restarted instance keeps its issuer), once the previous server has let go of it.
    pub async fn start_on(port: u16, config: Config) -> TestApp {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                Ok(listener) => return TestApp::serve(listener, config).await,
                Err(e) if Instant::now() > deadline => panic!("port {port} stays taken: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    /// The port the app listens on.
    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("the app url ends with its port")
    }

    async fn serve(listener: tokio::net::TcpListener, config: Config) -> TestApp {
        let url = format!("http://{}", listener.local_addr().unwrap());
        TestApp::serve_at(listener, config, url.clone(), url).await
    }

    async fn serve_at(listener: tokio::net::TcpListener, mut config: Config, url: String, issuer: String) -> TestApp {
        config.server.issuer = issuer;
        if config.audit.output == "stdout" {
            let port = listener.local_addr().unwrap().port();
            let path = std::env::temp_dir().join(format!("danang-sso-audit-{}-{port}.jsonl", std::process::id()));
            let _ = std::fs::remove_file(&path);
            config.audit.output = "file".into();
            config.audit.path = Some(path);
        }
        let audit_path = config.audit.path.clone();
        let clock = Clock::default();
        let app = danang_sso::build_with_clock(config, clock.clone()).await.expect("the app builds");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(danang_sso::run(listener, app, async move {
            let _ = rx.await;
        }));
        TestApp { url, clock, audit_path, shutdown: Some(tx) }
    }
}

impl TestApp {
    /// Waits until the audit trail holds `n` lines matching `pred` (the writer is a background thread), then
    /// returns every line.
    pub async fn wait_for_audit(&self, n: usize, pred: impl Fn(&serde_json::Value) -> bool) -> Vec<serde_json::Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let lines = self.audit_lines();
            let found = lines.iter().filter(|l| pred(l)).count();
            if found >= n {
                return lines;
            }
            assert!(std::time::Instant::now() < deadline, "only {found} of {n} audit lines after 5 s: {lines:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Every audit line written so far, parsed.
    pub fn audit_lines(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.audit_path.as_ref().expect("an audit file")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).expect("each audit line is JSON")).collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(path) = &self.audit_path {
            let _ = std::fs::remove_file(path);
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// An HTTP client for tests: rustls with aws-lc-rs (the one provider in the tree), no redirects followed.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("an HTTP client")
}

/// The admin API's JSON answer to a GET of `url` as the operator holding `token`.
pub async fn admin_get(url: String, token: &str) -> serde_json::Value {
    http().get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// The admin API's JSON answer to `body` POSTed to `url` as the operator holding `token`.
pub async fn admin_post(url: String, token: &str, body: serde_json::Value) -> serde_json::Value {
    http().post(url).bearer_auth(token).json(&body).send().await.unwrap().json().await.unwrap()
}

/// One keys directory for the whole test binary: RSA key generation is done once.
pub fn keys_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("danang-sso-test-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        danang_sso::keys::KeySet::load_or_create(&dir, danang_sso::keys::Alg::RS256).expect("test keys");
        dir
    })
    .clone()
}

/// The test's public client (a single-page app): no secret, PKCE required.
pub const SPA_REDIRECT: &str = "http://127.0.0.1:9/spa/callback";

pub fn test_config() -> Config {
    let mut config = Config::load(None).expect("the embedded defaults load");
    config.keys.dir = keys_dir();
    config.clients.push(ClientConfig {
        client_id: "spa".into(),
        name: "Ứng dụng thử".into(),
        public: true,
        redirect_uris: vec![SPA_REDIRECT.into()],
        ..Default::default()
    });
    config
}
