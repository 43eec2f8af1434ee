//! Back-channel logout's work is bounded per app (issue 19): one account signing in over and over past
//! `[session] max_per_account` ends a session at every sign-in, and each ending sends a logout token to the apps
//! of that session. An app whose endpoint answers 503 to everything gets a few deliveries under way and then a
//! cool-off (doubling), not three attempts per ended session; an app that works receives every token meanwhile.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::routing::post;
use danang_sso::outbound::Limits;

use crate::app::{TestApp, test_config};
use crate::browser::Browser;
use crate::rp::Rp;

/// What each endpoint received: its name and the logout token, in order.
type Log = Arc<Mutex<Vec<(&'static str, String)>>>;

#[derive(serde::Deserialize)]
struct Body {
    logout_token: String,
}

async fn refusing(State(log): State<Log>, Form(b): Form<Body>) -> StatusCode {
    log.lock().unwrap().push(("refusing", b.logout_token));
    StatusCode::SERVICE_UNAVAILABLE
}

async fn working(State(log): State<Log>, Form(b): Form<Body>) -> StatusCode {
    log.lock().unwrap().push(("working", b.logout_token));
    StatusCode::OK
}

fn received(log: &Log, name: &str) -> Vec<String> {
    log.lock().unwrap().iter().filter(|(n, _)| *n == name).map(|(_, t)| t.clone()).collect()
}

/// The most attempts the production limits allow at an app that always fails, `elapsed` after its first ended
/// session: every delivery under way, then one probe per cool-off that has had time to pass (the cool-offs
/// follow one another and double). Anything slower (a loaded machine) only makes fewer.
fn most_attempts(elapsed: Duration) -> usize {
    let limits = Limits::default();
    let (mut probes, mut waited, mut cool_off) = (0, Duration::ZERO, limits.cool_off);
    while waited + cool_off <= elapsed {
        waited += cool_off;
        cool_off = (cool_off * 2).min(limits.max_cool_off);
        probes += 1;
    }
    (limits.in_flight + probes) * limits.attempts as usize
}

#[tokio::test]
async fn a_hot_account_with_a_refusing_app_costs_it_few_attempts_and_the_working_app_gets_every_token() {
    let log: Log = Arc::default();
    let router =
        axum::Router::new().route("/refusing", post(refusing)).route("/working", post(working)).with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut config = test_config();
    config.session.max_per_account = 1;
    for c in &mut config.clients {
        match c.client_id.as_str() {
            "portal" => c.backchannel_logout_uri = Some(format!("{base}/refusing")),
            "vanban" => c.backchannel_logout_uri = Some(format!("{base}/working")),
            _ => {}
        }
    }
    let app = TestApp::start_with(config).await;
    let (portal, vanban) = (Rp::demo(&app.url, "portal").await, Rp::demo(&app.url, "vanban").await);
    // 41 sign-ins of one mailbox, each a fresh browser into both apps: each ends the one before (40 endings).
    let start = Instant::now();
    for _ in 0..41 {
        let mut browser = Browser::new();
        portal.sign_in(&app.url, &mut browser, "anhvn", &[]).await;
        vanban.sign_in(&app.url, &mut browser, "anhvn", &[]).await;
    }

    let deadline = Instant::now() + Duration::from_secs(60);
    while received(&log, "working").len() < 40 {
        assert!(Instant::now() < deadline, "the working app got {} of 40 tokens", received(&log, "working").len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let working = received(&log, "working");
    let mut distinct = working.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 40, "one token per ended session, each delivered once");

    let (attempts, elapsed) = (received(&log, "refusing").len(), start.elapsed());
    let most = most_attempts(elapsed);
    assert!(attempts >= 1, "the refusing app was tried");
    assert!(attempts <= most, "{attempts} attempts at the refusing app in {elapsed:?} (at most {most}), for 40 tokens");

    // The service's own /metrics counts what each app received; the refusing app's tokens are not "delivered".
    let metrics = crate::app::http().get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    let delivered = r#"danang_sso_backchannel_logout_total{client="vanban",outcome="delivered"} 40"#;
    assert!(metrics.contains(delivered), "{delivered} missing from:\n{metrics}");
    assert!(!metrics.contains(r#"client="portal",outcome="delivered""#), "{metrics}");
}
