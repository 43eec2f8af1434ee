//! The hot-account scenario (issue 19): every sign-in by the same account, as a load test of one user, an
//! office sharing one unit mailbox, or an integration account would make. The spread-out login phases cannot
//! see a per-account index whose cost grows with the account's history; this can: the rate of the last
//! sign-ins is compared with the rate of the first ones, and Redis is asked what each command cost
//! (`INFO commandstats`) and how much CPU it spent (`INFO cpu`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::Serialize;

use crate::client::Http;
use crate::ops::{Shared, Worker};
use crate::procfs;

/// What one hot-account run found.
#[derive(Debug, Clone, Serialize)]
pub struct Hot {
    /// `redis` or `memory`.
    pub store: &'static str,
    pub sign_ins: u64,
    pub users: usize,
    /// How many sign-ins the first and last rates are taken over.
    pub window: u64,
    pub first_per_second: f64,
    pub last_per_second: f64,
    /// last ÷ first: 1.0 means the account's history costs nothing.
    pub last_over_first: f64,
    pub errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// CPU per sign-in, microseconds, over the whole run.
    pub server_cpu_us: f64,
    pub slapd_cpu_us: f64,
    /// From Redis's own `used_cpu_sys` + `used_cpu_user` (none for the memory store).
    pub redis_cpu_us: Option<f64>,
    /// CPU per sign-in (µs) of the server, slapd and Redis over the first and over the last `window` sign-ins.
    /// On a shared machine the rates swing with the neighbours; CPU per sign-in does not, so a cost that grows
    /// with the account's history shows here as last > first whatever else runs.
    pub cpu_first: Cpu,
    pub cpu_last: Cpu,
    /// The command with the highest `usec_per_call` in `INFO commandstats` over the run, and that figure.
    pub redis_slowest: Option<(String, f64)>,
    /// The account's live sessions afterwards (Redis: `ZCOUNT` of its index), against `max_per_account`.
    pub live_sessions: Option<u64>,
}

/// CPU per sign-in over one window, microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Cpu {
    pub server_us: f64,
    pub slapd_us: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_us: Option<f64>,
}

/// CPU seconds of the server, slapd and Redis at one moment.
#[derive(Debug, Clone, Copy, Default)]
struct Reading {
    server: f64,
    slapd: f64,
    redis: Option<f64>,
}

impl Reading {
    async fn take(pids: (u32, u32), redis: Option<&mut redis::aio::MultiplexedConnection>) -> Self {
        let (server, slapd) = (procfs::cpu_seconds(pids.0), procfs::cpu_seconds(pids.1));
        let redis = match redis {
            Some(con) => Some(redis_cpu_seconds(con).await),
            None => None,
        };
        Self { server, slapd, redis }
    }

    /// CPU per sign-in from `self` to `later` over `sign_ins`.
    fn per_sign_in(self, later: Self, sign_ins: u64) -> Cpu {
        let per = |from: f64, to: f64| (to - from) * 1e6 / sign_ins.max(1) as f64;
        Cpu {
            server_us: per(self.server, later.server),
            slapd_us: per(self.slapd, later.slapd),
            redis_us: self.redis.zip(later.redis).map(|(a, b)| per(a, b)),
        }
    }
}

/// Readings taken when the sign-ins completed so far reach the end of the first window and the start of the
/// last one, by whichever worker gets there.
struct Marks {
    completed: AtomicU64,
    at: [u64; 2],
    readings: std::sync::Mutex<[Option<Reading>; 2]>,
    pids: (u32, u32),
    redis: Option<redis::aio::MultiplexedConnection>,
}

impl Marks {
    async fn completed_one(&self) {
        let k = self.completed.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(i) = self.at.iter().position(|at| *at == k) {
            let reading = Reading::take(self.pids, self.redis.clone().as_mut()).await;
            self.readings.lock().expect("the marks")[i] = Some(reading);
        }
    }
}

/// Where the run's Redis is, if the server under test uses one.
pub struct RedisSide<'a> {
    pub url: &'a str,
    pub prefix: &'a str,
}

/// Signs `mailbox` in `sign_ins` times with `users` simulated users (each a fresh browser every time), the
/// same whole login flow as the login phases; every answer is checked, and any failure fails the bench.
pub async fn run(
    store: &'static str,
    server: (std::net::SocketAddr, u32),
    slapd_pid: u32,
    redis: Option<RedisSide<'_>>,
    mailbox: &str,
    (sign_ins, window, users): (u64, u64, usize),
) -> Hot {
    let mut con = match &redis {
        Some(r) => Some(crate::memory::connect(r.url).await),
        None => None,
    };
    if let Some(con) = con.as_mut() {
        let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query_async(con).await.expect("CONFIG RESETSTAT");
    }
    let redis_cpu_before = match con.as_mut() {
        Some(con) => Some(redis_cpu_seconds(con).await),
        None => None,
    };
    let (server_before, slapd_before) = (procfs::cpu_seconds(server.1), procfs::cpu_seconds(slapd_pid));
    let start = Reading::take((server.1, slapd_pid), con.as_mut()).await;
    let window = window.min(sign_ins / 2).max(1);
    let marks = Arc::new(Marks {
        completed: AtomicU64::new(0),
        at: [window, sign_ins - window],
        readings: std::sync::Mutex::new([None, None]),
        pids: (server.1, slapd_pid),
        redis: con.clone(),
    });

    let shared = Shared::new(vec![mailbox.to_owned()]);
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..users)
        .map(|_| {
            let (shared, issued, marks) = (shared.clone(), issued.clone(), marks.clone());
            let mut worker = Worker { http: Http::new(server.0), tokens: None };
            tokio::spawn(async move {
                let (mut done, mut errors, mut first_error) = (Vec::new(), 0u64, None);
                while issued.fetch_add(1, Ordering::Relaxed) < sign_ins {
                    match worker.login(&shared).await {
                        Ok(()) => {
                            done.push(Instant::now());
                            marks.completed_one().await;
                        }
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
                (done, errors, first_error)
            })
        })
        .collect();
    let mut done = Vec::with_capacity(sign_ins as usize);
    let (mut errors, mut first_error) = (0, None);
    for task in tasks {
        let (times, e, first) = task.await.expect("a hot-account task panicked");
        done.extend(times);
        errors += e;
        first_error = first_error.or(first);
    }
    done.sort_unstable();
    let n = done.len() as u64;
    let (server_cpu, slapd_cpu) =
        (procfs::cpu_seconds(server.1) - server_before, procfs::cpu_seconds(slapd_pid) - slapd_before);
    let per = |seconds: f64| if n == 0 { 0.0 } else { seconds * 1e6 / n as f64 };

    let end = Reading::take((server.1, slapd_pid), con.as_mut()).await;
    let [first_end, last_start] = *marks.readings.lock().expect("the marks");
    let (cpu_first, cpu_last) = (
        first_end.map_or_else(Cpu::default, |r| start.per_sign_in(r, window)),
        last_start.map_or_else(Cpu::default, |r| r.per_sign_in(end, window)),
    );
    let window = window.min(n / 2).max(1);
    let rate = |from: Instant, to: Instant| window as f64 / to.duration_since(from).as_secs_f64().max(1e-9);
    let (first_per_second, last_per_second) = match n {
        0 => (0.0, 0.0),
        _ => (
            rate(started, done[window as usize - 1]),
            rate(done[(n - window - 1).min(n - 1) as usize], done[n as usize - 1]),
        ),
    };

    let (mut redis_cpu_us, mut redis_slowest, mut live_sessions) = (None, None, None);
    if let (Some(con), Some(side), Some(before)) = (con.as_mut(), redis.as_ref(), redis_cpu_before) {
        redis_cpu_us = Some(per(redis_cpu_seconds(con).await - before));
        redis_slowest = slowest_command(con).await;
        let tag = danang_sso::store::account_tag(mailbox);
        let index = format!("{}{{{tag}}}a:{mailbox}", side.prefix);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let live: u64 = redis::cmd("ZCOUNT")
            .arg(&index)
            .arg(format!("({now}"))
            .arg("+inf")
            .query_async(con)
            .await
            .expect("ZCOUNT of the account's sessions");
        live_sessions = Some(live);
    }
    Hot {
        store,
        sign_ins: n,
        users,
        window,
        first_per_second,
        last_per_second,
        last_over_first: if first_per_second > 0.0 { last_per_second / first_per_second } else { 0.0 },
        errors,
        first_error,
        server_cpu_us: per(server_cpu),
        slapd_cpu_us: per(slapd_cpu),
        redis_cpu_us,
        cpu_first,
        cpu_last,
        redis_slowest,
        live_sessions,
    }
}

/// Redis's own CPU seconds (system + user) from `INFO cpu`.
async fn redis_cpu_seconds(con: &mut redis::aio::MultiplexedConnection) -> f64 {
    let info: String = redis::cmd("INFO").arg("cpu").query_async(con).await.expect("INFO cpu");
    let field = |name: &str| {
        info.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse::<f64>().ok()).unwrap_or(0.0)
    };
    field("used_cpu_sys:") + field("used_cpu_user:")
}

/// The command with the highest `usec_per_call` since the last `CONFIG RESETSTAT` (the bench's own `INFO` and
/// `CONFIG` left out).
async fn slowest_command(con: &mut redis::aio::MultiplexedConnection) -> Option<(String, f64)> {
    let info: String = redis::cmd("INFO").arg("commandstats").query_async(con).await.expect("INFO commandstats");
    info.lines()
        .filter_map(|l| l.strip_prefix("cmdstat_"))
        .filter_map(|l| {
            let (name, stats) = l.split_once(':')?;
            let per_call = stats.split(',').find_map(|kv| kv.strip_prefix("usec_per_call="))?;
            Some((name.to_owned(), per_call.trim().parse::<f64>().ok()?))
        })
        .filter(|(name, _)| !name.starts_with("info") && !name.starts_with("config"))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The scenario's markdown table.
pub fn markdown(runs: &[Hot]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if runs.is_empty() {
        return s;
    }
    s += "| hot account (one mailbox, every sign-in) | sign-ins | users | first → last (/s) | last ÷ first | \
          server µs | slapd µs | Redis µs | CPU µs per sign-in, first → last window (server, slapd, Redis) | \
          Redis slowest command | live sessions after |\n\
          |---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|\n";
    for h in runs {
        let redis_cpu = h.redis_cpu_us.map_or("–".into(), |us| format!("{us:.0}"));
        let slowest = h.redis_slowest.as_ref().map_or("–".into(), |(c, us)| format!("`{c}` {us:.1} µs/call"));
        let live = h.live_sessions.map_or("–".into(), |n| n.to_string());
        let (f, l) = (h.cpu_first, h.cpu_last);
        let redis_window = f.redis_us.zip(l.redis_us).map_or(String::new(), |(a, b)| format!(", {a:.0} → {b:.0}"));
        let windows =
            format!("{:.0} → {:.0}, {:.0} → {:.0}{redis_window}", f.server_us, l.server_us, f.slapd_us, l.slapd_us);
        let _ = writeln!(
            s,
            "| {} store | {} | {} | {:.0} → {:.0} (each over {}) | {:.2} | {:.0} | {:.0} | {redis_cpu} | {windows} | {slowest} | {live} |",
            h.store,
            h.sign_ins,
            h.users,
            h.first_per_second,
            h.last_per_second,
            h.window,
            h.last_over_first,
            h.server_cpu_us,
            h.slapd_cpu_us,
        );
    }
    s
}
