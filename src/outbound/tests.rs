//! The notifier against real HTTP endpoints on loopback: the work a failing app can cause is bounded, a
//! working app is not slowed by it, a recovered app gets its waiting tokens once each, and tokens past their
//! expiry or pushed out of a full queue are dropped and counted.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::routing::post;

use super::{Dropped, HttpNotifier, Limits};
use crate::oidc::logout::Notifier;

/// What an endpoint received: the token and the status it answered.
#[derive(Default)]
struct Endpoint {
    log: Mutex<Vec<(String, u16)>>,
    /// Requests answered 503 before it answers 200 (`usize::MAX`: always).
    failures: usize,
}

type Shared = Arc<Endpoint>;

#[derive(serde::Deserialize)]
struct Body {
    logout_token: String,
}

async fn answer(State(e): State<Shared>, Form(b): Form<Body>) -> StatusCode {
    let mut log = e.log.lock().unwrap();
    let status = if log.len() < e.failures { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    log.push((b.logout_token, status.as_u16()));
    status
}

/// An endpoint on 127.0.0.1:0 failing its first `failures` requests; its URL.
async fn endpoint(failures: usize) -> (Shared, String) {
    let e = Arc::new(Endpoint { log: Mutex::default(), failures });
    let router = axum::Router::new().route("/bc", post(answer)).with_state(e.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bc", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (e, url)
}

impl Endpoint {
    fn requests(&self) -> usize {
        self.log.lock().unwrap().len()
    }
    fn delivered(&self) -> Vec<String> {
        self.log.lock().unwrap().iter().filter(|(_, s)| *s == 200).map(|(t, _)| t.clone()).collect()
    }
    fn refused(&self, token: &str) -> usize {
        self.log.lock().unwrap().iter().filter(|(t, s)| t == token && *s != 200).count()
    }
}

/// Waits (up to `limit`) until `done` holds.
async fn until(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "still waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_refusing_app_costs_a_bounded_number_of_attempts_and_never_slows_another() {
    let (refusing, refusing_url) = endpoint(usize::MAX).await;
    let (working, working_url) = endpoint(0).await;
    // The production limits, but a cool-off that outlasts the test: everything seen is the first cool-off's.
    let notifier =
        HttpNotifier::with_limits(Limits { cool_off: Duration::from_secs(60), ..Limits::default() }).unwrap();
    for i in 0..40 {
        notifier.deliver("refusing", &refusing_url, format!("r{i}"));
        notifier.deliver("working", &working_url, format!("w{i}"));
    }
    until("the working app's 40 tokens", Duration::from_secs(20), || working.delivered().len() == 40).await;
    until("the refusing app's suspension", Duration::from_secs(20), || notifier.dropped("refusing").given_up > 0).await;
    // Past the retries' back-off (0.5 s + 1 s): deliveries under way had time for any further attempt.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let attempts = refusing.requests();
    assert!(attempts <= 4 * 3, "{attempts} attempts at a refusing app in its first cool-off");
    let dropped = notifier.dropped("refusing");
    assert!(dropped.given_up <= 4, "{dropped:?}: only deliveries under way are given up");
    assert_eq!(dropped.total(), dropped.given_up, "the others wait in the queue");
    assert_eq!(notifier.dropped("working"), Dropped::default());
}

#[tokio::test]
async fn an_app_that_drops_connections_is_attempted_a_bounded_number_of_times() {
    // Accepts and closes at once: every attempt is a connection error, counted here.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bc", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    let limits =
        Limits { cool_off: Duration::from_secs(60), retry_backoff: Duration::from_millis(100), ..Limits::default() };
    let notifier = HttpNotifier::with_limits(limits).unwrap();
    for i in 0..40 {
        notifier.deliver("closing", &url, format!("c{i}"));
    }
    until("the app's suspension", Duration::from_secs(20), || notifier.dropped("closing").given_up > 0).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let connections = accepted.load(Ordering::SeqCst);
    assert!(connections <= 4 * 3, "{connections} connections to a failing app in its first cool-off");
}

#[tokio::test]
async fn a_recovered_app_gets_each_waiting_token_once() {
    let (e, url) = endpoint(6).await;
    let limits = Limits {
        in_flight: 2,
        cool_off: Duration::from_millis(300),
        retry_backoff: Duration::from_millis(50),
        ..Limits::default()
    };
    let notifier = HttpNotifier::with_limits(limits).unwrap();
    let tokens: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
    for t in &tokens {
        notifier.deliver("app", &url, t.clone());
    }
    until("every token delivered or given up", Duration::from_secs(20), || {
        e.delivered().len() as u64 + notifier.dropped("app").given_up == 10
    })
    .await;
    tokio::time::timeout(Duration::from_secs(10), notifier.drain()).await.expect("drain finishes");
    let dropped = notifier.dropped("app");
    assert!((1..=2).contains(&dropped.given_up), "{dropped:?}: the deliveries under way when it failed");
    assert_eq!(dropped.total(), dropped.given_up, "{dropped:?}");
    let delivered = e.delivered();
    for t in &tokens {
        match delivered.iter().filter(|d| *d == t).count() {
            1 => {}
            0 => assert_eq!(e.refused(t), 3, "{t}: given up after its three attempts"),
            n => panic!("{t} delivered {n} times"),
        }
    }
}

#[tokio::test]
async fn tokens_past_their_expiry_are_not_delivered_and_drain_waits_no_longer() {
    let (e, url) = endpoint(3).await;
    let limits = Limits {
        in_flight: 1,
        cool_off: Duration::from_secs(60),
        retry_backoff: Duration::from_millis(20),
        token_ttl: Duration::from_millis(700),
        ..Limits::default()
    };
    let metrics = crate::telemetry::Metrics::new();
    let notifier = HttpNotifier::with(limits, metrics.clone()).unwrap();
    for i in 0..6 {
        notifier.deliver("app", &url, format!("t{i}"));
    }
    // The first token fails three times; the app is suspended for a minute; the others expire meanwhile, and
    // drain (the CLI's last step) returns once they have, not after the cool-off.
    tokio::time::timeout(Duration::from_secs(20), notifier.drain()).await.expect("drain ends with the tokens' expiry");
    assert_eq!(notifier.dropped("app"), Dropped { expired: 5, given_up: 1, overflow: 0 });
    assert_eq!(e.requests(), 3, "only the first token's attempts");
    // Operators see the same counts on /metrics, whatever the logs batched.
    let shown = metrics.render();
    for line in [
        r#"danang_sso_backchannel_logout_total{client="app",outcome="expired"} 5"#,
        r#"danang_sso_backchannel_logout_total{client="app",outcome="given_up"} 1"#,
    ] {
        assert!(shown.contains(line), "{line} missing from:\n{shown}");
    }
    assert!(!shown.contains(r#"outcome="delivered""#), "nothing was delivered");
    assert!(e.delivered().is_empty());
}

#[tokio::test]
async fn a_full_queue_drops_its_oldest_tokens() {
    let (e, url) = endpoint(3).await;
    let limits = Limits {
        in_flight: 1,
        queue: 3,
        cool_off: Duration::from_millis(200),
        retry_backoff: Duration::from_millis(20),
        ..Limits::default()
    };
    let metrics = crate::telemetry::Metrics::new();
    let notifier = HttpNotifier::with(limits, metrics.clone()).unwrap();
    // Queued before the worker runs (this test's runtime has one thread): ten tokens for a queue of three.
    for i in 0..10 {
        notifier.deliver("app", &url, format!("t{i}"));
    }
    tokio::time::timeout(Duration::from_secs(20), notifier.drain()).await.expect("drain finishes");
    assert_eq!(notifier.dropped("app"), Dropped { overflow: 7, given_up: 1, expired: 0 });
    assert_eq!(e.refused("t7"), 3, "the oldest left fails three times");
    assert_eq!(e.delivered(), ["t8", "t9"], "after the cool-off, the rest, once each");
    let shown = metrics.render();
    for line in [
        r#"danang_sso_backchannel_logout_total{client="app",outcome="queue_full"} 7"#,
        r#"danang_sso_backchannel_logout_total{client="app",outcome="given_up"} 1"#,
        r#"danang_sso_backchannel_logout_total{client="app",outcome="delivered"} 2"#,
    ] {
        assert!(shown.contains(line), "{line} missing from:\n{shown}");
    }
}
