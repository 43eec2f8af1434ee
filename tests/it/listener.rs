//! A relying party's back-channel logout endpoint for tests: records every logout token it receives.
//! Paths under `/slow/` hold their answer until the test releases them, to prove delivery never blocks a person.

use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::routing::post;
use tokio::sync::{Notify, mpsc};

pub struct Listener {
    pub url: String,
    received: mpsc::UnboundedReceiver<(String, String)>,
    release: Arc<Notify>,
}

#[derive(Clone)]
struct Shared {
    sent: mpsc::UnboundedSender<(String, String)>,
    release: Arc<Notify>,
}

#[derive(serde::Deserialize)]
struct Body {
    logout_token: String,
}

async fn fast(State(s): State<Shared>, Path(name): Path<String>, Form(b): Form<Body>) -> &'static str {
    let _ = s.sent.send((name, b.logout_token));
    "ok"
}

async fn slow(State(s): State<Shared>, Path(name): Path<String>, Form(b): Form<Body>) -> &'static str {
    let _ = s.sent.send((format!("slow/{name}"), b.logout_token));
    s.release.notified().await;
    "ok"
}

impl Listener {
    pub async fn start() -> Listener {
        let (sent, received) = mpsc::unbounded_channel();
        let release = Arc::new(Notify::new());
        let shared = Shared { sent, release: release.clone() };
        let router =
            axum::Router::new().route("/bc/{name}", post(fast)).route("/slow/{name}", post(slow)).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Listener { url, received, release }
    }

    /// The next logout token received, as (path name, token); panics after 10 s.
    pub async fn next(&mut self) -> (String, String) {
        tokio::time::timeout(std::time::Duration::from_secs(10), self.received.recv())
            .await
            .expect("a logout token within 10 s")
            .expect("listener alive")
    }

    /// Lets the held `/slow/` requests answer.
    pub fn release(&self) {
        self.release.notify_waiters();
    }
}
