//! Serving a built [`App`]: plain HTTP ([`run`], behind a reverse proxy or in tests) or HTTPS ([`run_tls`]),
//! `/metrics` alone on a second listener ([`run_metrics`]), and the tasks that run beside the server.
//!
//! Shutdown is graceful and bounded: when the shutdown future completes the listener closes, requests in
//! flight run to completion, idle keep-alive connections close, and after `[server] shutdown_grace_secs` the
//! server returns anyway, so a stuck client cannot hold a restart hostage.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::{Listener, ListenerExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::App;
use crate::http;
use crate::telemetry::Metrics;
use crate::tls::TlsCerts;

/// How long a client may take to finish its TLS handshake before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often histogram samples are folded into buckets when nobody scrapes `/metrics`.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// Serves `app` over plain HTTP on `listener` until `shutdown` completes, then lets in-flight requests finish
/// (for at most the app's shutdown grace).
pub async fn run(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve(listener, app, shutdown).await
}

/// Like [`run`], over HTTPS with the certificate `tls` holds now (and whatever [`TlsCerts::reload`] puts there
/// later).
pub async fn run_tls(
    listener: TcpListener,
    app: App,
    tls: Arc<TlsCerts>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve(TlsListener::new(listener, TlsAcceptor::from(tls.server_config()))?, app, shutdown).await
}

/// Serves only `/metrics` on `listener` (`[server] metrics_listen`), plain HTTP, until `shutdown` completes.
pub async fn run_metrics(
    listener: TcpListener,
    metrics: Metrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, http::metrics_router(metrics)).with_graceful_shutdown(shutdown).await
}

async fn serve<L>(listener: L, app: App, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()>
where
    L: Listener<Addr = SocketAddr>,
{
    let app = Arc::new(app);
    let grace = app.shutdown_grace;
    let admin = match &app.admin_listen {
        Some(addr) => Some(tokio::spawn(serve_admin(TcpListener::bind(addr).await?, app.clone()))),
        None => None,
    };
    let mut background =
        vec![tokio::spawn(reload_keys(app.clone())), tokio::spawn(metrics_upkeep(app.metrics.clone()))];
    // `tap_io` gives any listener axum's `ConnectInfo<SocketAddr>`, which handlers use for the client address.
    let listener = listener.tap_io(|_: &mut L::Io| {});
    let router = http::router(app.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (signalled, signal) = oneshot::channel::<()>();
    let shutdown = async move {
        shutdown.await;
        let _ = signalled.send(());
    };
    let served = axum::serve(listener, router).with_graceful_shutdown(shutdown).into_future();
    let result = tokio::select! {
        result = served => result,
        () = grace_expired(signal, grace) => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the shutdown grace; exiting");
            Ok(())
        }
    };
    background.extend(admin);
    for task in background {
        task.abort();
    }
    // Back-channel logouts already under way or queued still reach their apps (a suspended app's queue waits for
    // its cool-off or its tokens' expiry, the shutdown grace at most).
    let _ = tokio::time::timeout(grace, app.provider.notifier.drain()).await;
    result
}

/// The operators' API (`[admin] listen`) on its own listener, for as long as the main server runs.
async fn serve_admin(listener: TcpListener, app: Arc<App>) {
    tracing::info!(listen = ?listener.local_addr().ok(), "admin API listening");
    let service = http::admin::router(app).into_make_service_with_connect_info::<SocketAddr>();
    if let Err(e) = axum::serve(listener, service).await {
        tracing::error!(error = %e, "admin API stopped");
    }
}

/// Completes `grace` after the shutdown signal; never, if the server ends first.
async fn grace_expired(signal: oneshot::Receiver<()>, grace: Duration) {
    if signal.await.is_err() {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(grace).await;
}

/// Picks up keys added by `keys rotate` or removed by `keys prune` in other processes.
async fn reload_keys(app: Arc<App>) {
    let mut tick = tokio::time::interval(app.key_reload_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let app = app.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || app.provider.keys.reload()).await {
            tracing::error!(error = %e, "signing keys not reloaded");
        }
    }
}

async fn metrics_upkeep(metrics: Metrics) {
    let mut tick = tokio::time::interval(METRICS_UPKEEP);
    loop {
        tick.tick().await;
        metrics.run_upkeep();
    }
}

/// A listener that hands axum connections whose TLS handshake is complete. Handshakes run in their own tasks,
/// so a slow or silent client never holds up the next one.
struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    fn new(listener: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<TlsListener> {
        let local_addr = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = tokio::spawn(accept_loop(listener, acceptor, tx));
        Ok(TlsListener { ready, local_addr, acceptor })
    }
}

impl Drop for TlsListener {
    /// Closes the TCP listener: after shutdown starts, new connections are refused.
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop ended, which only happens when `self` is being dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local_addr)
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    while !ready.is_closed() {
        let (tcp, addr) = match listener.accept().await {
            Ok(connection) => connection,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, addr)).await;
                }
                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
            }
        });
    }
}
