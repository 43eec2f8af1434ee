//! `/metrics` moving after a real sign-in, and `[server] metrics_listen` moving `/metrics` off the main port.

use openidconnect::OAuth2TokenResponse;

use crate::app::{TestApp, http, test_config};
use crate::browser::Browser;
use crate::rp::Rp;

async fn metrics_text(url: &str) -> String {
    let response = http().get(url).send().await.expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    response.text().await.unwrap()
}

/// The value of the sample `name{labels}` (labels exactly as rendered), or 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    let prefix = format!("{series} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).map_or(0.0, |v| v.parse().expect("a number"))
}

#[tokio::test]
async fn metrics_move_after_a_sign_in() {
    let app = TestApp::start().await;
    let metrics = format!("{}/metrics", app.url);
    let before = metrics_text(&metrics).await;
    let success = r#"danang_sso_sign_ins_total{result="success",reason="none"}"#;
    let refused = r#"danang_sso_sign_ins_total{result="refused",reason="bad_credentials"}"#;
    let issued = r#"danang_sso_tokens_issued_total{grant_type="authorization_code",client="portal"}"#;
    let refreshed = r#"danang_sso_tokens_issued_total{grant_type="refresh_token",client="portal"}"#;
    let token_requests = r#"danang_sso_http_request_duration_seconds_count{route="/token",method="POST",status="200"}"#;
    let binds = r#"danang_sso_directory_operation_duration_seconds_count{op="authenticate",outcome="ok"}"#;
    let sessions = r#"danang_sso_store_operation_duration_seconds_count{op="put_session",outcome="ok"}"#;
    for series in [success, refused, issued, refreshed, token_requests, binds, sessions] {
        assert_eq!(sample(&before, series), 0.0, "{series} before any sign-in");
    }

    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let form = browser.get(&portal.start(&[], &[]).url).await;
    let again = browser.sign_in(&app.url, &form, "dungnv", "not the password").await;
    assert!(again.is_login_form(), "a wrong password shows the form again");
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &["offline_access"]).await;
    let refresh = tokens.refresh_token().expect("a refresh token");
    portal.client.exchange_refresh_token(refresh).unwrap().request_async(&portal.http).await.expect("refresh");

    let after = metrics_text(&metrics).await;
    assert_eq!(sample(&after, success), 1.0, "{after}");
    assert_eq!(sample(&after, refused), 1.0);
    assert_eq!(sample(&after, issued), 1.0);
    assert_eq!(sample(&after, refreshed), 1.0);
    assert_eq!(sample(&after, token_requests), 2.0, "the request histogram counts both token requests");
    let bucket =
        r#"danang_sso_http_request_duration_seconds_bucket{route="/token",method="POST",status="200",le="+Inf"}"#;
    assert_eq!(sample(&after, bucket), 2.0, "as a real histogram with buckets");
    assert_eq!(sample(&after, binds), 2.0, "two password checks reached the directory");
    assert_eq!(sample(&after, sessions), 1.0, "one session started");
    let authorize = r#"danang_sso_http_request_duration_seconds_count{route="/authorize",method="GET",status="200"}"#;
    assert_eq!(sample(&after, authorize), 2.0, "routes are labelled by pattern, without the query");
    assert!(after.contains("# TYPE danang_sso_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn metrics_listen_serves_metrics_apart_from_the_main_port() {
    let mut config = test_config();
    config.server.metrics_listen = Some("127.0.0.1:0".into());
    let app = danang_sso::build(config).await.expect("the app builds");
    let metrics = app.metrics.clone();
    let (main, side) = (bind().await, bind().await);
    let (main_url, side_url) = (url_of(&main), url_of(&side));
    let (_stop, stopped) = tokio::sync::watch::channel(());
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<()>| async move {
        let _ = rx.changed().await;
    };
    tokio::spawn(danang_sso::run(main, app, until_stopped(stopped.clone())));
    tokio::spawn(danang_sso::run_metrics(side, metrics, until_stopped(stopped)));

    assert_eq!(http().get(format!("{main_url}/healthz")).send().await.unwrap().status(), 200);
    let on_main = http().get(format!("{main_url}/metrics")).send().await.unwrap();
    assert_eq!(on_main.status(), 404, "not on the main listener when metrics_listen is set");
    let text = metrics_text(&format!("{side_url}/metrics")).await;
    let healthz = r#"danang_sso_http_request_duration_seconds_count{route="/healthz",method="GET",status="200"}"#;
    assert_eq!(sample(&text, healthz), 1.0, "the side listener shows the main listener's requests: {text}");
}

async fn bind() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port")
}

fn url_of(listener: &tokio::net::TcpListener) -> String {
    format!("http://{}", listener.local_addr().unwrap())
}
