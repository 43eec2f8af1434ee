//! HTTPS served by the service itself (`[server] tls_cert_file`, `tls_key_file`): the independent RP signs in
//! over TLS with a test CA, and a reloaded certificate reaches new connections while open ones keep going.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use danang_sso::tls::TlsCerts;
use openidconnect::TokenResponse;
use tokio::sync::oneshot;

use crate::app::test_config;
use crate::browser::Browser;
use crate::harness::{TempDir, TestCa};
use crate::rp::Rp;

/// An HTTP client that trusts only the CA in `ca_pem` and follows no redirects.
pub fn trusting(ca_pem: &str) -> reqwest::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("a PEM CA certificate");
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTPS client")
}

/// The service over HTTPS on a free loopback port; stops when dropped.
struct HttpsApp {
    url: String,
    certs: Arc<TlsCerts>,
    _stop: oneshot::Sender<()>,
}

async fn start_https(cert_file: &Path, key_file: &Path) -> HttpsApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let url = format!("https://{}", listener.local_addr().unwrap());
    let mut config = test_config();
    config.server.issuer = url.clone();
    config.server.tls_cert_file = Some(cert_file.into());
    config.server.tls_key_file = Some(key_file.into());
    let app = danang_sso::build(config).await.expect("the app builds with TLS files");
    let certs = TlsCerts::load(cert_file, key_file).expect("the test certificate loads");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(danang_sso::run_tls(listener, app, certs.clone(), async move {
        let _ = stopped.await;
    }));
    HttpsApp { url, certs, _stop: stop }
}

/// Copies a CA's leaf certificate and key to `dir` as the files the service is configured with.
fn install(ca: &TestCa, dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&cert, &ca.cert_pem).unwrap();
    std::fs::write(&key, &ca.key_pem).unwrap();
    (cert, key)
}

async fn healthz(http: &reqwest::Client, url: &str) -> Result<reqwest::StatusCode, reqwest::Error> {
    http.get(format!("{url}/healthz")).send().await.map(|r| r.status())
}

#[tokio::test]
async fn the_openidconnect_rp_signs_in_over_https_trusting_a_test_ca() {
    let ca = TestCa::new();
    let app = start_https(&ca.dir.join("cert.pem"), &ca.dir.join("key.pem")).await;
    let http = trusting(&ca.ca_pem);
    let redirect = "http://127.0.0.1:8081/callback";
    let portal = Rp::with_http(&app.url, "portal", Some("portal-secret"), redirect, http.clone()).await;
    let mut browser = Browser::with_http(http.clone());
    let (tokens, nonce) = portal.sign_in(&app.url, &mut browser, "dungnv", &["profile"]).await;
    let claims = tokens.id_token().expect("an ID token").claims(&portal.client.id_token_verifier(), &nonce);
    assert_eq!(claims.expect("a valid ID token").issuer().as_str(), app.url, "the issuer is the https URL");

    let page = http.get(format!("{}/healthz", app.url)).send().await.unwrap();
    assert!(page.headers().contains_key("strict-transport-security"), "HSTS over HTTPS");
    let stranger = healthz(&trusting(&TestCa::new().ca_pem), &app.url).await;
    assert!(
        stranger.expect_err("refused").is_connect(),
        "a client that does not trust the test CA refuses the certificate"
    );
}

#[tokio::test]
async fn a_reloaded_certificate_reaches_new_connections_and_open_ones_stay() {
    let (first, second) = (TestCa::new(), TestCa::new());
    let files = TempDir::new("tls-reload");
    let (cert, key) = install(&first, files.path());
    let app = start_https(&cert, &key).await;
    let open = trusting(&first.ca_pem);
    assert_eq!(healthz(&open, &app.url).await.unwrap(), 200);
    assert!(
        healthz(&trusting(&second.ca_pem), &app.url).await.expect_err("refused").is_connect(),
        "the second CA's certificate is not served yet"
    );

    install(&second, files.path());
    app.certs.reload().expect("the new certificate loads");
    assert_eq!(healthz(&trusting(&second.ca_pem), &app.url).await.unwrap(), 200, "new connections get the new one");
    assert!(healthz(&trusting(&first.ca_pem), &app.url).await.expect_err("refused").is_connect(), "not the old one");
    assert_eq!(healthz(&open, &app.url).await.unwrap(), 200, "the connection opened before the reload still works");

    std::fs::write(&cert, "not a certificate").unwrap();
    let err = app.certs.reload().expect_err("a broken file is refused");
    assert!(err.to_string().starts_with("server.tls_cert_file: "), "{err}");
    assert_eq!(healthz(&trusting(&second.ca_pem), &app.url).await.unwrap(), 200, "the last good certificate stays");

    install(&second, files.path());
    std::fs::write(&key, &first.key_pem).unwrap();
    let err = app.certs.reload().expect_err("a key of another certificate is refused");
    assert!(err.to_string().contains("does not match the certificate"), "{err}");
}
