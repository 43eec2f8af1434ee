//! `cargo bench --bench sso`: danang-sso under load with its real neighbours, in one run.
//!
//! 1. Starts a real slapd holding generated accounts (Vietnamese names, one `{SSHA}` hash made once by
//!    `slappasswd` and shared, loaded offline with `slapadd`) and a real Redis, both through the
//!    integration tests' harness.
//! 2. Measures the floors: signatures with aws-lc-rs, and search + bind pairs with ldap3 against that slapd.
//! 3. Starts the release binary (`directory.kind = "ldap"`, `store.kind = "redis"`) as a process of its
//!    own, so its CPU time and memory come from `/proc` apart from the load generator's.
//! 4. Drives each operation at 16, 64 and 256 simulated users over loopback (see `ops` and `load`).
//! 5. The hot-account scenario (`hot`): one mailbox signs in 20,000 times, on the Redis store and then on a
//!    second server with the memory store (same slapd); the last 2,000 sign-ins' rate against the first 2,000's.
//! 6. Reads Redis's bytes per session and per refresh family, then starts a second server with the memory
//!    store and signs in 100,000 times to read its resident memory (see `memory`).
//! 7. Prints a markdown table and writes JSON to `target/bench/` (see `report`).
//!
//! `-- --hot-store memory` (or `redis`) runs the hot-account scenario on that store only.
//! `-- --refusing-app` points the portal's back-channel logout URI at a closed port (an app that is down).
//! `-- --quick` is the smoke run for CI (about a minute; only that it runs is checked, never timings);
//! `-- --runs N` repeats the floors and the load phases N times against the same servers and reports
//! medians. For profiling, `-- --only login --users 64 --seconds 30` runs one operation (and skips the
//! memory store) while `perf record -g -p PID` watches the server, whose PID is printed at start.
//! Under `cargo test` (which runs bench targets without `--bench`) it does nothing.

// The integration tests' harness, shared as source; the bench uses only part of it.
#[allow(dead_code, unused_imports)]
#[path = "../../tests/it/harness/mod.rs"]
mod harness;

mod accounts;
mod apps;
mod client;
mod floors;
mod hot;
mod load;
mod memory;
mod ops;
mod procfs;
mod report;
mod server;
mod verify;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use load::{Pids, Timing};
use ops::{Op, Shared, Worker};

/// The key prefix of the server under load (the default).
const PREFIX: &str = "danang-sso:";

/// How big and how long: the full run, or the quick smoke run.
struct Plan {
    quick: bool,
    runs: usize,
    /// Only these operations (all unless `--only`).
    ops: Vec<Op>,
    /// Whether to measure the memory store (not with `--only`, except `--only memory`).
    memory_store: bool,
    accounts: usize,
    concurrencies: Vec<usize>,
    timing: Timing,
    /// Per signature kind; the directory floor takes twice as long.
    floor_time: Duration,
    sessions: u64,
    /// The hot-account scenario: sign-ins, the window its first and last rates are taken over, users
    /// (none with `--only` another operation; `--only hot` runs it alone).
    hot: Option<(u64, u64, usize)>,
    /// The stores the hot-account scenario runs on: both, or the one `--hot-store redis|memory` names.
    hot_stores: Vec<&'static str>,
    /// The app whose back-channel endpoint refuses connections (`--refusing-app`: the portal), if any.
    refusing_app: Option<&'static str>,
}

impl Plan {
    fn parse(args: &[String]) -> Result<Plan, String> {
        let quick = args.iter().any(|a| a == "--quick");
        let runs = match args.iter().position(|a| a == "--runs") {
            Some(i) => args.get(i + 1).and_then(|n| n.parse().ok()).filter(|&n| (1..=9).contains(&n)),
            None => Some(1),
        };
        let runs = runs.ok_or("--runs takes a number from 1 to 9")?;
        let value = |flag: &str| args.iter().position(|a| a == flag).map(|i| args.get(i + 1).cloned());
        let only = value("--only");
        let hot = match &only {
            None => true,
            Some(name) => name.as_deref() == Some("hot"),
        };
        let (ops, memory_store) = match only {
            None => (Op::ALL.to_vec(), true),
            Some(Some(name)) if name == "memory" => (Vec::new(), true),
            Some(Some(name)) if name == "hot" => (Vec::new(), false),
            Some(name) => {
                (vec![name.as_deref().and_then(Op::parse).ok_or("--only takes an operation's name or memory")?], false)
            }
        };
        let users = match value("--users") {
            None => None,
            Some(n) => {
                Some(n.and_then(|n| n.parse().ok()).filter(|&n| (1..=1024).contains(&n)).ok_or("--users: 1 to 1024")?)
            }
        };
        let seconds = match value("--seconds") {
            None => None,
            Some(n) => {
                Some(n.and_then(|n| n.parse().ok()).filter(|&n| (1..=600).contains(&n)).ok_or("--seconds: 1 to 600")?)
            }
        };
        let hot_stores = match value("--hot-store") {
            None => vec!["redis", "memory"],
            Some(Some(name)) if name == "redis" => vec!["redis"],
            Some(Some(name)) if name == "memory" => vec!["memory"],
            Some(_) => return Err("--hot-store takes redis or memory".into()),
        };
        let refusing_app = args.iter().any(|a| a == "--refusing-app").then_some("portal");
        let mut plan = if quick {
            Plan {
                quick,
                runs,
                ops: ops.clone(),
                memory_store,
                accounts: 2_000,
                concurrencies: vec![16],
                timing: Timing { warmup: Duration::from_millis(300), measure: Duration::from_secs(1) },
                floor_time: Duration::from_millis(300),
                sessions: 10_000,
                hot: hot.then_some((1_000, 200, 16)),
                hot_stores,
                refusing_app,
            }
        } else {
            Plan {
                quick,
                runs,
                ops: ops.clone(),
                memory_store,
                accounts: 20_000,
                concurrencies: vec![16, 64, 256],
                timing: Timing { warmup: Duration::from_secs(1), measure: Duration::from_secs(5) },
                floor_time: Duration::from_secs(1),
                sessions: 100_000,
                hot: hot.then_some((20_000, 2_000, 16)),
                hot_stores,
                refusing_app,
            }
        };
        if let Some(users) = users {
            plan.concurrencies = vec![users];
        }
        if let Some(seconds) = seconds {
            plan.timing.measure = Duration::from_secs(seconds);
        }
        Ok(plan)
    }

    fn command(args: &[String]) -> String {
        let flags: Vec<&str> = args.iter().map(String::as_str).filter(|a| *a != "--bench").collect();
        match flags.is_empty() {
            true => "cargo bench --bench sso".into(),
            false => format!("cargo bench --bench sso -- {}", flags.join(" ")),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("benches/sso: run it with `cargo bench --bench sso [-- --quick]`; nothing to do under `cargo test`");
        return ExitCode::SUCCESS;
    }
    let plan = match Plan::parse(&args) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("benches/sso: {e}");
            return ExitCode::from(2);
        }
    };
    // Two workers, like the machine's cores: the load generator is one more process competing for them.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let report = runtime.expect("a Tokio runtime").block_on(bench(&plan, Plan::command(&args)));
    println!("\n{}", report::markdown(&report));
    println!("{}", hot::markdown(&report.hot));
    match report::save(&report) {
        Ok(path) => println!("JSON: {}", path.display()),
        Err(e) => eprintln!("benches/sso: JSON not written: {e}"),
    }
    let memory_errors = report.memory_store.as_ref().map_or(0, |m| m.errors);
    let hot_errors = report.hot.iter().map(|h| h.errors).sum::<u64>();
    let errors = report.rows.iter().map(|r| r.measured.errors).sum::<u64>() + memory_errors + hot_errors;
    if errors > 0 {
        eprintln!("benches/sso: {errors} operations failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

async fn bench(plan: &Plan, command: String) -> report::Report {
    let machine = procfs::Machine::read();
    let accounts = accounts::generate(plan.accounts);
    let loaded = match plan.ops.is_empty() && plan.hot.is_none() {
        true => UnderLoad::default(),
        false => under_load(plan, &accounts).await,
    };
    let memory_store = match plan.memory_store {
        true => {
            eprintln!("memory store: {} sign-ins", report::thousands(plan.sessions));
            Some(memory::memory_store_rss(&accounts, plan.sessions, !plan.quick).await)
        }
        false => None,
    };
    let rows = report::rows(&loaded.runs);
    let mut targets = report::targets(&rows, loaded.idle_rss, &loaded.redis, memory_store.as_ref());
    targets.extend(hot_targets(&loaded.hot));
    report::Report {
        date: utc_now(),
        command,
        quick: plan.quick,
        machine,
        accounts: accounts.len(),
        slapd_load_seconds: loaded.slapd_load_seconds,
        idle_rss: loaded.idle_rss,
        rows,
        runs: loaded.runs,
        redis: loaded.redis,
        memory_store,
        targets,
        hot: loaded.hot,
    }
}

/// The hot-account scenario's targets (issue 19).
fn hot_targets(runs: &[hot::Hot]) -> Vec<report::Target> {
    let mut out = Vec::new();
    for h in runs {
        out.push(report::Target {
            what: format!("hot account, {} store: last {} sign-ins' rate ÷ first {}'s", h.store, h.window, h.window),
            goal: "≥ 0.90".into(),
            measured: format!("{:.2} ({:.0} → {:.0}/s)", h.last_over_first, h.first_per_second, h.last_per_second),
            holds: h.last_over_first >= 0.9,
        });
        if h.cpu_first.server_us > 0.0 {
            // The rates swing with a shared machine's neighbours; the server's CPU per sign-in does not.
            let ratio = h.cpu_last.server_us / h.cpu_first.server_us;
            out.push(report::Target {
                what: format!("hot account, {} store: server CPU per sign-in, last window ÷ first", h.store),
                goal: "≤ 1.10".into(),
                measured: format!("{ratio:.2} ({:.0} → {:.0} µs)", h.cpu_first.server_us, h.cpu_last.server_us),
                holds: ratio <= 1.10,
            });
        }
        if let Some((command, us)) = &h.redis_slowest {
            out.push(report::Target {
                what: "hot account: Redis's slowest command per call".into(),
                goal: "< 50 µs".into(),
                measured: format!("{us:.1} µs ({command})"),
                holds: *us < 50.0,
            });
        }
        if let Some(live) = h.live_sessions {
            out.push(report::Target {
                what: format!("hot account: live sessions after {} sign-ins", report::thousands(h.sign_ins)),
                goal: "≤ 100 (max_per_account)".into(),
                measured: live.to_string(),
                holds: live <= 100,
            });
        }
    }
    out
}

/// What the server with slapd and Redis showed.
#[derive(Default)]
struct UnderLoad {
    slapd_load_seconds: f64,
    idle_rss: u64,
    runs: Vec<report::Run>,
    redis: memory::RedisBytes,
    hot: Vec<hot::Hot>,
}

/// Starts slapd, Redis and the server; measures the floors and every operation at every concurrency.
async fn under_load(plan: &Plan, accounts: &[accounts::Account]) -> UnderLoad {
    let started = Instant::now();
    let hash = harness::ssha_hash(accounts::PASSWORD);
    let slapd = harness::Slapd::start_preloaded(&accounts::ldif(accounts, &hash));
    // The groups through the running server, so the memberOf overlay fills every account's memberOf.
    slapd.load_ldif(&accounts::groups_ldif(accounts, &slapd.base_dn));
    let slapd_load_seconds = started.elapsed().as_secs_f64();
    let redis = harness::Redis::start();
    eprintln!("slapd with {} accounts ready in {slapd_load_seconds:.1} s; redis ready", accounts.len());

    let sections = format!(
        "[directory]\nkind = \"ldap\"\n\n[ldap]\nurls = [\"{}\"]\nbind_dn = \"{}\"\nbind_password = \"{}\"\n\
         base_dn = \"{}\"\n\n[store]\nkind = \"redis\"\nredis_url = \"{}\"\nkey_prefix = \"{PREFIX}\"\n",
        slapd.url, slapd.service_dn, slapd.service_password, slapd.base_dn, redis.url
    );
    let server = server::Server::start_refusing("ldap-redis", &sections, plan.refusing_app).await;
    if let Some(app) = plan.refusing_app {
        eprintln!("{app}'s back-channel logout URI: a closed port (--refusing-app)");
    }
    eprintln!("danang-sso serving on {} as PID {}", server.addr, server.pid);
    let pids =
        Pids { server: server.pid, slapd: slapd.pid().expect("slapd runs"), redis: redis.pid().expect("redis runs") };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (idle_rss, _) = procfs::rss(server.pid);
    let mut redis_con = memory::connect(&redis.url).await;
    let baseline = memory::used_memory(&mut redis_con).await;

    // Every user signs in once, so refresh, userinfo and introspection have tokens from the start; and each
    // client authenticates once, so its secret's argon2 check (then cached) is out of the way.
    let shared = Shared::new(accounts.iter().map(|a| a.mail.clone()).collect());
    let most = plan.concurrencies.iter().copied().max().unwrap_or(1);
    let mut workers: Vec<Worker> =
        (0..most).map(|_| Worker { http: client::Http::new(server.addr), tokens: None }).collect();
    let prepared = futures_util::future::join_all(workers.iter_mut().map(|w| w.login(&shared))).await;
    if let Some(Err(e)) = prepared.into_iter().find(Result::is_err) {
        panic!("a first sign-in failed: {e}\nserver log:\n{}", server.log());
    }
    for op in [Op::ClientCredentials, Op::Introspect] {
        workers[0].run(op, &shared).await.unwrap_or_else(|e| panic!("a first {}: {e}", op.name()));
    }

    let slapd_floor = floors::Slapd {
        url: &slapd.url,
        base_dn: &slapd.base_dn,
        service_dn: &slapd.service_dn,
        service_password: &slapd.service_password,
        pid: pids.slapd,
    };
    let mut runs = Vec::new();
    let mut redis_bytes = memory::RedisBytes::default();
    let runs_wanted = if plan.ops.is_empty() { 0 } else { plan.runs };
    for run in 0..runs_wanted {
        eprintln!("run {} of {}: floors", run + 1, plan.runs);
        let floors = report::Floors {
            signatures: floors::signatures(plan.floor_time),
            directory: floors::directory(&slapd_floor, accounts, plan.floor_time * 2).await,
        };
        let mut phases = Vec::new();
        for &op in &plan.ops {
            for &users in &plan.concurrencies {
                let (measured, back) =
                    load::phase(op, workers.drain(..users).collect(), &shared, pids, plan.timing).await;
                workers.splice(0..0, back);
                eprintln!(
                    "  {:<18} {users:>3} users: {:>8.0}/s  p99 {:>7.2} ms  server {:>6.0} µs/op  errors {}",
                    op.name(),
                    measured.per_second,
                    measured.p99_ms,
                    measured.server_cpu_us,
                    measured.errors
                );
                phases.push(measured);
            }
            // Right after the sign-ins, every grant in Redis is a login's refresh family.
            if run == 0 && op == Op::Login {
                redis_bytes = memory::redis_bytes(&mut redis_con, PREFIX, baseline).await;
            }
        }
        runs.push(report::Run { floors, phases });
    }
    let mut hots = Vec::new();
    if let Some(shape) = plan.hot {
        let mailbox = &accounts[accounts.len() / 2].mail;
        if plan.hot_stores.contains(&"redis") {
            eprintln!("hot account: {} sign-ins of {mailbox}, redis store", shape.0);
            let side = hot::RedisSide { url: &redis.url, prefix: PREFIX };
            let before = server.back_channel.received();
            let h = hot::run("redis", (server.addr, server.pid), pids.slapd, Some(side), mailbox, shape).await;
            eprintln!("  {:.0} → {:.0}/s, {} errors", h.first_per_second, h.last_per_second, h.errors);
            eprintln!("  back-channel logout tokens received by the apps: {}", server.back_channel.received() - before);
            hots.push(h);
        }
        if plan.hot_stores.contains(&"memory") {
            let memory_sections = format!(
                "[directory]\nkind = \"ldap\"\n\n[ldap]\nurls = [\"{}\"]\nbind_dn = \"{}\"\nbind_password = \"{}\"\n\
                 base_dn = \"{}\"\n",
                slapd.url, slapd.service_dn, slapd.service_password, slapd.base_dn
            );
            let memory_server =
                server::Server::start_refusing("ldap-memory", &memory_sections, plan.refusing_app).await;
            eprintln!("hot account: {} sign-ins of {mailbox}, memory store (PID {})", shape.0, memory_server.pid);
            let h = hot::run("memory", (memory_server.addr, memory_server.pid), pids.slapd, None, mailbox, shape).await;
            eprintln!("  {:.0} → {:.0}/s, {} errors", h.first_per_second, h.last_per_second, h.errors);
            eprintln!("  back-channel logout tokens received by the apps: {}", memory_server.back_channel.received());
            hots.push(h);
        }
    }
    drop(server);
    // On a Redis of its own: growth in a full one includes its tables doubling, megabytes at a time.
    memory::isolated(&harness::Redis::start().url, accounts, &mut redis_bytes).await;
    UnderLoad { slapd_load_seconds, idle_rss, runs, redis: redis_bytes, hot: hots }
}

/// `2026-05-04 09:30 UTC`.
fn utc_now() -> String {
    let described = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::now_utc().format(described).unwrap_or_default()
}
