//! Calls this service makes to apps: back-channel logout deliveries, with a bounded timeout and a few retries,
//! in the background, so a slow or unreachable app never holds up the person signing out.
//!
//! The work is bounded per app (client_id), because one ended session per sign-in (the session ceiling) or an
//! incident revocation of thousands of sessions must not turn into thousands of connections to an app that is
//! down: each app has a queue of its own ([`lane`]) and at most [`Limits::in_flight`] deliveries under way; an
//! app whose delivery used every attempt in vain is suspended for a cool-off (doubling up to a ceiling, reset
//! by a success), its tokens waiting meanwhile; tokens past their expiry, or pushed out of a full queue, are
//! dropped and counted. Other apps never wait for a failing one.

mod lane;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

pub use self::lane::Dropped;
use self::lane::{Finish, Lane, Pending, Report, Take};
use crate::oidc::logout::{LOGOUT_TOKEN_TTL_SECS, Notifier};
use crate::telemetry::Metrics;

const TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How much back-channel work one app may cause. The defaults are the production values.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deliveries under way to one app at once (connections, tasks).
    pub in_flight: usize,
    /// Tokens waiting for one app; past it the oldest is dropped.
    pub queue: usize,
    /// Attempts per token (each ended by the 5 s timeout at worst).
    pub attempts: u32,
    /// The wait before attempt n+1 is n times this.
    pub retry_backoff: Duration,
    /// The first suspension of a failing app; each next one doubles, up to `max_cool_off`.
    pub cool_off: Duration,
    pub max_cool_off: Duration,
    /// How long a queued token stays worth delivering: a logout token's own lifetime.
    pub token_ttl: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            in_flight: 4,
            queue: 10_000,
            attempts: 3,
            retry_backoff: Duration::from_millis(500),
            cool_off: Duration::from_secs(1),
            max_cool_off: Duration::from_secs(300),
            token_ttl: Duration::from_secs(LOGOUT_TOKEN_TTL_SECS),
        }
    }
}

pub struct HttpNotifier {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    limits: Limits,
    /// `danang_sso_backchannel_logout_total`: every token delivered or dropped, by client.
    metrics: Metrics,
    /// One lane per app that was ever sent a token (the registered clients: a bounded set).
    lanes: Mutex<HashMap<Arc<str>, Arc<Mutex<Lane>>>>,
    /// Workers under way; finished ones are reaped at each new one.
    tasks: Mutex<JoinSet<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl HttpNotifier {
    /// A client over rustls with the aws-lc-rs provider and the system's trusted roots, with the production limits,
    /// counting its deliveries in `metrics`.
    pub fn new(metrics: Metrics) -> Result<HttpNotifier, String> {
        HttpNotifier::with(Limits::default(), metrics)
    }

    /// Other limits (tests), with metrics of its own.
    pub fn with_limits(limits: Limits) -> Result<HttpNotifier, String> {
        HttpNotifier::with(limits, Metrics::new())
    }

    /// `limits`, counting in `metrics`.
    pub fn with(limits: Limits, metrics: Metrics) -> Result<HttpNotifier, String> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("danang-sso/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        let inner = Inner { http, limits, metrics, lanes: Mutex::default(), tasks: Mutex::default() };
        Ok(HttpNotifier { inner: Arc::new(inner) })
    }

    /// The logout tokens `client_id` never received (expired, pushed out of its queue, or given up on).
    pub fn dropped(&self, client_id: &str) -> Dropped {
        let lane = lock(&self.inner.lanes).get(client_id).cloned();
        lane.map_or_else(Dropped::default, |l| lock(&l).dropped())
    }
}

#[async_trait::async_trait]
impl Notifier for HttpNotifier {
    async fn drain(&self) {
        loop {
            let mut tasks = std::mem::take(&mut *lock(&self.inner.tasks));
            if tasks.is_empty() {
                break;
            }
            while tasks.join_next().await.is_some() {}
        }
        let lanes: Vec<_> = lock(&self.inner.lanes).iter().map(|(c, l)| (c.clone(), l.clone())).collect();
        for (client, lane) in lanes {
            let mut l = lock(&lane);
            self.inner.meter(&client, &mut l);
            log_dropped(&client, l.flush());
        }
    }

    fn deliver(&self, client_id: &str, uri: &str, logout_token: String) {
        let inner = &self.inner;
        let (client, lane) = inner.lane(client_id);
        let now = Instant::now();
        let pending = Pending { uri: uri.into(), token: logout_token, expires: now + inner.limits.token_ttl };
        let start = {
            let mut l = lock(&lane);
            let start = l.push(pending, now, &inner.limits);
            inner.report(&client, &lane, &mut l, now);
            start
        };
        if start {
            Inner::start(inner, &client, &lane, 1);
        }
    }
}

impl Inner {
    fn lane(&self, client_id: &str) -> (Arc<str>, Arc<Mutex<Lane>>) {
        let mut lanes = lock(&self.lanes);
        match lanes.get_key_value(client_id) {
            Some((c, l)) => (c.clone(), l.clone()),
            None => {
                let (c, l): (Arc<str>, _) = (client_id.into(), Arc::new(Mutex::new(Lane::new(&self.limits))));
                lanes.insert(c.clone(), l.clone());
                (c, l)
            }
        }
    }

    /// Starts `n` workers for an app (the lane has counted them already).
    fn start(inner: &Arc<Inner>, client: &Arc<str>, lane: &Arc<Mutex<Lane>>, n: usize) {
        let mut tasks = lock(&inner.tasks);
        while tasks.try_join_next().is_some() {}
        for _ in 0..n {
            tasks.spawn(work(inner.clone(), client.clone(), lane.clone()));
        }
    }

    /// Counts the app's newly dropped tokens in the metrics.
    fn meter(&self, client: &str, l: &mut Lane) {
        let d = l.take_unmetered();
        self.metrics.backchannel_logout(client, "expired", d.expired);
        self.metrics.backchannel_logout(client, "queue_full", d.overflow);
        self.metrics.backchannel_logout(client, "given_up", d.given_up);
    }

    /// Meters the app's dropped tokens, and logs them if one report per cool-off allows it now; otherwise a task
    /// comes back later.
    fn report(&self, client: &Arc<str>, lane: &Arc<Mutex<Lane>>, l: &mut Lane, now: Instant) {
        self.meter(client, l);
        match l.report(now, &self.limits) {
            Report::Now(dropped) => log_dropped(client, dropped),
            Report::Later(at) => {
                let (client, lane, limits) = (client.clone(), lane.clone(), self.limits.clone());
                tokio::spawn(async move {
                    let mut at = at;
                    loop {
                        tokio::time::sleep_until(at).await;
                        match lock(&lane).report_again(Instant::now(), &limits) {
                            Report::Now(dropped) => return log_dropped(&client, dropped),
                            Report::Later(next) => at = next,
                            Report::Nothing => return,
                        }
                    }
                });
            }
            Report::Nothing => {}
        }
    }
}

/// One worker: takes the app's tokens one by one until its lane says stop.
async fn work(inner: Arc<Inner>, client: Arc<str>, lane: Arc<Mutex<Lane>>) {
    let mut woke = false;
    loop {
        let now = Instant::now();
        let next = {
            let mut l = lock(&lane);
            let next = l.take(now, woke);
            inner.report(&client, &lane, &mut l, now);
            next
        };
        woke = false;
        match next {
            Take::Deliver(p) => send(&inner, &client, &lane, p, false).await,
            Take::Probe(p) => send(&inner, &client, &lane, p, true).await,
            Take::Wait(until) => {
                tokio::time::sleep_until(until).await;
                woke = true;
            }
            Take::Stop => return,
        }
    }
}

/// One token's attempts. Stops early if the token expires, or if the app was suspended meanwhile (the token
/// then waits in the queue again).
async fn send(inner: &Arc<Inner>, client: &Arc<str>, lane: &Arc<Mutex<Lane>>, p: Pending, probe: bool) {
    let limits = &inner.limits;
    let mut last = String::new();
    for attempt in 1..=limits.attempts {
        if attempt > 1 {
            tokio::time::sleep(limits.retry_backoff * (attempt - 1)).await;
            let now = Instant::now();
            let mut l = lock(lane);
            if p.expires <= now {
                l.expired();
                return inner.report(client, lane, &mut l, now);
            }
            if !l.may_retry(probe) {
                l.requeue(p, limits);
                return inner.report(client, lane, &mut l, now);
            }
        }
        match inner.http.post(&*p.uri).form(&[("logout_token", p.token.as_str())]).send().await {
            Ok(r) if r.status().is_success() => {
                tracing::debug!(client = %client, "back-channel logout delivered");
                inner.metrics.backchannel_logout(client, "delivered", 1);
                let finish = lock(lane).finish(true, probe, Instant::now(), limits);
                if let Finish::Delivered { more, resumed } = finish {
                    if resumed {
                        tracing::info!(client = %client, "back-channel logout endpoint answers again: deliveries resume");
                    }
                    Inner::start(inner, client, lane, more);
                }
                return;
            }
            Ok(r) => {
                tracing::debug!(client = %client, status = %r.status(), attempt, "back-channel logout refused");
                last = format!("status {}", r.status());
            }
            Err(e) => {
                tracing::debug!(client = %client, error = %e, attempt, "back-channel logout failed");
                last = e.to_string();
            }
        }
    }
    let now = Instant::now();
    let mut l = lock(lane);
    if let Finish::Suspended(cool_off) = l.finish(false, probe, now, limits) {
        tracing::warn!(
            client = %client,
            attempts = limits.attempts,
            last_error = %last,
            cool_off_secs = cool_off.as_secs_f64(),
            "back-channel logout endpoint failing: no deliveries to this app until the cool-off ends; its tokens wait"
        );
    }
    inner.report(client, lane, &mut l, now);
}

fn log_dropped(client: &str, d: Dropped) {
    if d.total() > 0 {
        tracing::error!(
            client = %client,
            expired = d.expired,
            queue_full = d.overflow,
            given_up = d.given_up,
            "back-channel logout tokens dropped: the app was not told of these sessions' end"
        );
    }
}

#[cfg(test)]
mod tests;
