//! Back-channel logout's retries and timeout, observed from the apps' side (issue 19): an endpoint that fails
//! twice gets the same logout token three times and keeps the third; one that never answers is given up on
//! after three attempts, each ended by the client's timeout (had an attempt waited forever, no second would come).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::routing::post;

use crate::app::{TestApp, test_config};
use crate::browser::Browser;
use crate::rp::Rp;

/// What each endpoint received: its name and the logout token, in order.
type Log = Arc<Mutex<Vec<(&'static str, String)>>>;

#[derive(serde::Deserialize)]
struct Body {
    logout_token: String,
}

async fn flaky(State(log): State<Log>, Form(b): Form<Body>) -> StatusCode {
    let mut log = log.lock().unwrap();
    log.push(("flaky", b.logout_token));
    match log.iter().filter(|(name, _)| *name == "flaky").count() {
        1 | 2 => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::OK,
    }
}

async fn hang(State(log): State<Log>, Form(b): Form<Body>) -> StatusCode {
    log.lock().unwrap().push(("hang", b.logout_token));
    std::future::pending::<()>().await;
    StatusCode::OK
}

fn attempts(log: &Log, name: &str) -> Vec<String> {
    log.lock().unwrap().iter().filter(|(n, _)| *n == name).map(|(_, t)| t.clone()).collect()
}

/// Waits (up to `limit`) until `name` has had `n` attempts.
async fn wait_for(log: &Log, name: &str, n: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    while attempts(log, name).len() < n {
        assert!(Instant::now() < deadline, "{name}: {} of {n} attempts", attempts(log, name).len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_failing_app_is_retried_and_a_hanging_one_times_out_three_times() {
    let log: Log = Arc::default();
    let router = axum::Router::new().route("/flaky", post(flaky)).route("/hang", post(hang)).with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut config = test_config();
    for c in &mut config.clients {
        match c.client_id.as_str() {
            "portal" => c.backchannel_logout_uri = Some(format!("{base}/flaky")),
            "vanban" => c.backchannel_logout_uri = Some(format!("{base}/hang")),
            _ => {}
        }
    }
    let app = TestApp::start_with(config).await;
    let mut browser = Browser::new();
    for client in ["portal", "vanban"] {
        Rp::demo(&app.url, client).await.sign_in(&app.url, &mut browser, "anhvn", &[]).await;
    }
    let page = browser.get(&format!("{}/logout?client_id=portal", app.url)).await;
    let done = browser.post_form(&format!("{}/logout", app.url), &page.hidden_fields()).await;
    assert_eq!(done.status, 200, "the person's logout does not wait for the apps");

    // Three attempts at 5 s timeouts with back-off between: well within a minute.
    wait_for(&log, "flaky", 3, Duration::from_secs(30)).await;
    wait_for(&log, "hang", 3, Duration::from_secs(60)).await;
    let flaky = attempts(&log, "flaky");
    assert!(flaky.iter().all(|t| *t == flaky[0]), "the same logout token is retried");
    let hung = attempts(&log, "hang");
    assert!(hung.iter().all(|t| *t == hung[0]), "the same logout token is retried");
    // Past the longest back-off and one more timeout: neither endpoint sees a fourth attempt.
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(attempts(&log, "flaky").len(), 3, "delivered on the third attempt: no more");
    assert_eq!(attempts(&log, "hang").len(), 3, "given up after three attempts");
}
