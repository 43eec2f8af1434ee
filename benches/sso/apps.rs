//! The city apps' back-channel logout endpoints, answered by the bench process.
//!
//! Every session the ceiling ends in the hot-account phase sends a logout token to the apps that received tokens
//! in it. The demo clients' back-channel URIs (`127.0.0.1:8081`…) have nobody listening during a bench, so
//! each delivery failed three times with back-off and they piled up: the server burned a core for 30 s after
//! the Redis phase, measuring a dead app rather than the sign-in. A live city app answers at once; this
//! receiver does (200 to every POST, counted), and the bench server's clients point their URIs at it.
//! `--refusing-app` points the portal's (the app of every sign-in in the hot phase) at a closed port instead,
//! to measure what an app that is down costs the server (issue 19: bounded per app, `src/outbound/`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use tokio::task::JoinHandle;

/// A running receiver on a loopback port; stopped on drop.
pub struct BackChannel {
    /// `http://127.0.0.1:PORT`: logout tokens go to `{url}/{client_id}/backchannel-logout`.
    pub url: String,
    received: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl BackChannel {
    pub async fn start() -> BackChannel {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind the back-channel receiver");
        let url = format!("http://{}", listener.local_addr().expect("its local address"));
        let received = Arc::new(AtomicU64::new(0));
        let counter = received.clone();
        let app = Router::new().route(
            "/{client}/backchannel-logout",
            post(move || {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::Relaxed);
                    StatusCode::OK
                }
            }),
        );
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the back-channel receiver runs");
        });
        BackChannel { url, received, task }
    }

    /// The demo clients (`config/clients.toml`) with every back-channel logout URI pointed at this receiver,
    /// except `refusing`'s (`--refusing-app`): a loopback port nothing listens on, every connection refused.
    pub fn clients(&self, refusing: Option<&str>) -> String {
        let demo = danang_sso::config::DEMO_CLIENTS;
        let closed = format!("http://127.0.0.1:{}", crate::harness::free_port());
        let mut out = String::with_capacity(demo.len());
        for line in demo.lines() {
            match line.strip_prefix("backchannel_logout_uri = ") {
                Some(_) => {
                    let client = current_client(&out).expect("a back-channel URI belongs to a client");
                    let base = if refusing == Some(client) { &closed } else { &self.url };
                    out.push_str(&format!("backchannel_logout_uri = \"{base}/{client}/backchannel-logout\""));
                }
                None => out.push_str(line),
            }
            out.push('\n');
        }
        out
    }

    /// The logout tokens received so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

/// The `client_id` of the last `[[clients]]` table in `toml` so far.
fn current_client(toml: &str) -> Option<&str> {
    let line = toml.lines().rev().find(|l| l.starts_with("client_id = "))?;
    line.strip_prefix("client_id = ")?.trim().strip_prefix('"')?.strip_suffix('"')
}

impl Drop for BackChannel {
    fn drop(&mut self) {
        self.task.abort();
    }
}
