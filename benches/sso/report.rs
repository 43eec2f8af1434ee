//! The results: per operation and concurrency the median over the runs, set against the floors measured
//! in the same run; memory; and the targets, each with whether it holds. Printed as markdown and
//! written as JSON to `target/bench/sso.json` (and a copy named by the time of the run).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use crate::floors::{Directory, Signatures};
use crate::load::Measured;
use crate::memory::{MemoryStoreRss, RedisBytes};
use crate::ops::Op;
use crate::procfs::Machine;

/// The floors of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Floors {
    pub signatures: Signatures,
    pub directory: Directory,
}

impl Floors {
    /// The floor cost of `op` in CPU microseconds, and what was counted; `None` where nothing is counted.
    pub fn of(&self, op: Op) -> Option<(f64, &'static str)> {
        let (s, d) = (&self.signatures, &self.directory);
        match op {
            Op::Login => Some((2.0 * s.rs256_sign_us + d.client_cpu_us, "2 RS256 signatures + 1 search+bind")),
            Op::Refresh => Some((2.0 * s.rs256_sign_us, "2 RS256 signatures")),
            Op::ClientCredentials => Some((s.rs256_sign_us, "1 RS256 signature")),
            Op::Userinfo | Op::Introspect => Some((s.rs256_verify_us, "1 RS256 verification")),
            Op::Discovery | Op::Jwks => None,
        }
    }
}

/// One run: its floors and its phases.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub floors: Floors,
    pub phases: Vec<Measured>,
}

/// One line of the table: medians over the runs.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub measured: Measured,
    pub floor_us: Option<f64>,
    pub floor_counted: Option<&'static str>,
    /// Server CPU per operation divided by the floor (the median of each run's own ratio).
    pub cpu_over_floor: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub what: String,
    pub goal: String,
    pub measured: String,
    pub holds: bool,
}

/// Everything a `cargo bench` run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub date: String,
    pub command: String,
    pub quick: bool,
    pub machine: Machine,
    pub accounts: usize,
    pub slapd_load_seconds: f64,
    pub idle_rss: u64,
    pub rows: Vec<Row>,
    pub runs: Vec<Run>,
    pub redis: RedisBytes,
    /// Not measured when `--only` picked one operation.
    pub memory_store: Option<MemoryStoreRss>,
    pub targets: Vec<Target>,
    /// The hot-account scenario (issue 19), Redis store then memory store.
    pub hot: Vec<crate::hot::Hot>,
}

/// Medians over the runs, for each operation and concurrency in the order they ran.
pub fn rows(runs: &[Run]) -> Vec<Row> {
    let Some(first) = runs.first() else { return Vec::new() };
    first
        .phases
        .iter()
        .map(|phase| {
            let same: Vec<(&Measured, &Floors)> = runs
                .iter()
                .flat_map(|run| run.phases.iter().map(move |p| (p, &run.floors)))
                .filter(|(p, _)| p.op == phase.op && p.concurrency == phase.concurrency)
                .collect();
            let m = |f: fn(&Measured) -> f64| median(same.iter().map(|(p, _)| f(p)).collect());
            let floor = first.floors.of(phase.op);
            let ratios: Vec<f64> =
                same.iter().filter_map(|(p, floors)| floors.of(p.op).map(|(us, _)| p.server_cpu_us / us)).collect();
            Row {
                measured: Measured {
                    ops: m(|p| p.ops as f64) as u64,
                    errors: same.iter().map(|(p, _)| p.errors).sum(),
                    first_error: same.iter().find_map(|(p, _)| p.first_error.clone()),
                    seconds: m(|p| p.seconds),
                    per_second: m(|p| p.per_second),
                    p50_ms: m(|p| p.p50_ms),
                    p99_ms: m(|p| p.p99_ms),
                    max_ms: m(|p| p.max_ms),
                    server_cpu_us: m(|p| p.server_cpu_us),
                    slapd_cpu_us: m(|p| p.slapd_cpu_us),
                    redis_cpu_us: m(|p| p.redis_cpu_us),
                    bench_cpu_us: m(|p| p.bench_cpu_us),
                    server_cores: m(|p| p.server_cores),
                    server_peak_rss: m(|p| p.server_peak_rss as f64) as u64,
                    ..phase.clone()
                },
                floor_us: floor.map(|_| median(same.iter().filter_map(|(_, f)| f.of(phase.op)).map(|f| f.0).collect())),
                floor_counted: floor.map(|(_, what)| what),
                cpu_over_floor: (!ratios.is_empty()).then(|| median(ratios)),
            }
        })
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 }
}

/// The targets against the medians.
pub fn targets(rows: &[Row], idle_rss: u64, redis: &RedisBytes, memory: Option<&MemoryStoreRss>) -> Vec<Target> {
    // The login target is at 64 users; a quick run has only its one concurrency.
    let at = |op: Op| {
        let of_op: Vec<&Row> = rows.iter().filter(|r| r.measured.op == op).collect();
        of_op.iter().find(|r| r.measured.concurrency == 64).or(of_op.first()).copied()
    };
    let best = |op: Op| rows.iter().filter(|r| r.measured.op == op).map(|r| r.measured.per_second).fold(0.0, f64::max);
    let mut out = Vec::new();
    let mut push = |what: String, goal: &str, measured: String, holds: bool| {
        out.push(Target { what, goal: goal.into(), measured, holds })
    };
    if let Some(login) = at(Op::Login) {
        let users = login.measured.concurrency;
        let rate = login.measured.per_second;
        let shown = format!("{}/s", thousands(rate as u64));
        push(format!("login flows at {users} users"), "≥ 1,200/s", shown, rate >= 1200.0);
        let p99 = login.measured.p99_ms;
        push(format!("login p99 at {users} users"), "< 50 ms", format!("{p99:.1} ms"), p99 < 50.0);
        if let Some(ratio) = login.cpu_over_floor {
            push("login server CPU ÷ floor".into(), "≤ 1.5", format!("{ratio:.2}"), ratio <= 1.5);
        }
    }
    for op in [Op::Refresh, Op::ClientCredentials] {
        if let Some(ratio) = at(op).and_then(|r| r.cpu_over_floor) {
            push(format!("{} server CPU ÷ floor", op.name()), "≤ 1.2", format!("{ratio:.2}"), ratio <= 1.2);
        }
    }
    for op in [Op::Discovery, Op::Jwks].into_iter().filter(|&op| rows.iter().any(|r| r.measured.op == op)) {
        let rate = best(op);
        let shown = format!("{}/s", thousands(rate as u64));
        push(format!("{} (best concurrency)", op.name()), "≥ 50,000/s", shown, rate >= 50_000.0);
    }
    let mb = |bytes: u64| bytes as f64 / 1e6;
    if idle_rss > 0 {
        let idle = mb(idle_rss);
        push("server RSS idle (LDAP + Redis)".into(), "< 50 MB", format!("{idle:.1} MB"), idle < 50.0);
    }
    if let Some(memory) = memory {
        let with = mb(memory.rss());
        let when = if memory.rss_after_codes_expired.is_some() { "codes expired" } else { "codes live" };
        push(
            format!("RSS with {} SSO sessions (memory store, {when})", thousands(memory.sessions)),
            "< 150 MB",
            format!("{with:.1} MB"),
            with < 150.0,
        );
    }
    let per_session = redis.per_session.max(redis.isolated_per_session);
    if per_session > 0.0 {
        push(
            "Redis per SSO session (the larger of MEMORY USAGE and used_memory growth)".into(),
            "< 600 B",
            format!("{per_session:.0} B"),
            per_session < 600.0,
        );
    }
    out
}

/// `12345` → `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The report as markdown, for the terminal and the README.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let _ = writeln!(s, "### danang-sso benchmark, {}\n", r.date);
    let _ = writeln!(
        s,
        "Machine: {} × {} (Linux {}), load average {:.2} at the start (the cores are shared). Command: `{}`; \
         {} run(s), medians shown. {} directory accounts (slapd, SSHA; loaded in {:.1} s).\n",
        m.cpus,
        m.cpu_model,
        m.kernel,
        m.load_average,
        r.command,
        r.runs.len(),
        thousands(r.accounts as u64),
        r.slapd_load_seconds
    );
    if let Some(run) = r.runs.first() {
        let (sig, dir) = (&run.floors.signatures, &run.floors.directory);
        s += "| floor (same run, one core) | CPU per call | per second per core |\n|---|---:|---:|\n";
        for (what, us) in [
            ("RS256 sign (aws-lc-rs RSA-2048 PKCS#1 SHA-256)", sig.rs256_sign_us),
            ("ES256 sign (P-256)", sig.es256_sign_us),
            ("EdDSA sign (Ed25519)", sig.eddsa_sign_us),
            ("RS256 verify", sig.rs256_verify_us),
        ] {
            let _ = writeln!(s, "| {what} | {us:.1} µs | {} |", thousands((1e6 / us) as u64));
        }
        let _ = writeln!(
            s,
            "| search + bind (ldap3 → slapd, {} at once, {} pairs/s) | client {:.0} µs, slapd {:.0} µs | {} (client) |\n",
            dir.concurrency,
            thousands(dir.pairs_per_second as u64),
            dir.client_cpu_us,
            dir.slapd_cpu_us,
            thousands((1e6 / dir.client_cpu_us.max(0.001)) as u64)
        );
    }
    s += "| operation | users | per s | p50 ms | p99 ms | max ms | server CPU µs/op | floor µs (counted) | CPU ÷ floor \
          | slapd µs/op | Redis µs/op | load gen µs/op | server peak RSS | errors |\n";
    s += "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n";
    for row in &r.rows {
        let p = &row.measured;
        let floor = match (row.floor_us, row.floor_counted) {
            (Some(us), Some(what)) => format!("{us:.0} ({what})"),
            _ => "—".into(),
        };
        let ratio = row.cpu_over_floor.map_or("—".into(), |x| format!("{x:.2}"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.2} | {:.2} | {:.1} | {:.0} | {floor} | {ratio} | {:.0} | {:.0} | {:.0} | {:.1} MB | {} |",
            p.op.name(),
            p.concurrency,
            thousands(p.per_second as u64),
            p.p50_ms,
            p.p99_ms,
            p.max_ms,
            p.server_cpu_us,
            p.slapd_cpu_us,
            p.redis_cpu_us,
            p.bench_cpu_us,
            p.server_peak_rss as f64 / 1e6,
            p.errors
        );
    }
    let redis = &r.redis;
    let _ = writeln!(
        s,
        "\n| memory | measured |\n|---|---:|\n\
         | server RSS idle (LDAP directory, Redis store) | {:.1} MB |\n\
         | Redis per SSO session: MEMORY USAGE of `s:` + `a:` ({} sessions) | {:.0} B |\n\
         | Redis per SSO session: used_memory growth over 1,000 | {:.0} B |\n\
         | Redis per refresh family: MEMORY USAGE of `g:` + `sg:` + `ag:` ({} families) | {:.0} B |\n\
         | Redis per refresh family: used_memory growth over 1,000 | {:.0} B |\n\
         | Redis per spent code (`c:`, kept 11 min) | {:.0} B |\n\
         | Redis used_memory growth per login flow (all of the above and the last sign-in) | {:.0} B |",
        r.idle_rss as f64 / 1e6,
        thousands(redis.sessions),
        redis.per_session,
        redis.isolated_per_session,
        thousands(redis.families),
        redis.per_family,
        redis.isolated_per_family,
        redis.per_spent_code,
        redis.used_memory_per_login,
    );
    if let Some(mem) = &r.memory_store {
        let _ = writeln!(
            s,
            "| memory store: RSS idle ({} accounts in the embedded directory) | {:.1} MB |\n\
             | memory store: RSS with {} SSO sessions and their live codes (made in {:.1} s, {} errors) | {:.1} MB |",
            thousands(mem.accounts as u64),
            mem.idle_rss as f64 / 1e6,
            thousands(mem.sessions),
            mem.seconds,
            mem.errors,
            mem.rss_with_sessions as f64 / 1e6,
        );
        if let Some(after) = mem.rss_after_codes_expired {
            let _ = writeln!(
                s,
                "| memory store: RSS with {} SSO sessions, a minute later (codes expired and swept) | {:.1} MB |",
                thousands(mem.sessions),
                after as f64 / 1e6
            );
        }
        let _ = writeln!(
            s,
            "| memory store: growth per SSO session | {:.0} B (peak RSS {:.1} MB) |",
            mem.per_session,
            mem.peak_rss as f64 / 1e6
        );
    }
    s += "\n| target | goal | measured | holds |\n|---|---|---:|---|\n";
    for t in &r.targets {
        let _ =
            writeln!(s, "| {} | {} | {} | {} |", t.what, t.goal, t.measured, if t.holds { "yes" } else { "**no**" });
    }
    if let Some(error) = r.rows.iter().find_map(|row| row.measured.first_error.as_ref()) {
        let _ = writeln!(s, "\nFirst error: {error}");
    }
    s
}

/// Writes the JSON next to the build output; returns where.
pub fn save(r: &Report) -> std::io::Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("bench");
    std::fs::create_dir_all(&dir)?;
    let json = serde_json::to_vec_pretty(r).map_err(std::io::Error::other)?;
    let stamp = r.date.replace([':', ' '], "-");
    std::fs::write(dir.join(format!("sso-{stamp}.json")), &json)?;
    let latest = dir.join("sso.json");
    std::fs::write(&latest, &json)?;
    Ok(latest)
}
