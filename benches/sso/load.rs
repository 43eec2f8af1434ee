//! Drives one operation at one concurrency for a fixed time and measures it: a warm-up, then a window in
//! which every completed operation's latency is kept and the CPU time of every process involved is read
//! from `/proc` at both ends. Each simulated user runs its operations one after another on its own
//! connection, so the concurrency is the number of users, as in a closed-loop test.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::ops::{Op, Shared, Worker};
use crate::procfs;

/// A hard bound on one user's operations in one phase, besides the time bound.
const MAX_OPS_PER_USER: u64 = 10_000_000;

/// The processes whose CPU time a phase reads.
#[derive(Debug, Clone, Copy)]
pub struct Pids {
    pub server: u32,
    pub slapd: u32,
    pub redis: u32,
}

/// How long a phase runs.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub warmup: Duration,
    pub measure: Duration,
}

/// One phase's numbers. CPU figures are microseconds per completed operation.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub op: Op,
    pub concurrency: usize,
    pub ops: u64,
    pub errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub server_cpu_us: f64,
    pub slapd_cpu_us: f64,
    pub redis_cpu_us: f64,
    /// The load generator itself (this process), which shares the cores with the others.
    pub bench_cpu_us: f64,
    /// Server cores busy on average during the window.
    pub server_cores: f64,
    pub server_peak_rss: u64,
}

/// CPU seconds of each process at one moment.
struct Sample {
    at: Instant,
    server: f64,
    slapd: f64,
    redis: f64,
    bench: f64,
}

impl Sample {
    fn take(pids: Pids) -> Sample {
        Sample {
            at: Instant::now(),
            server: procfs::cpu_seconds(pids.server),
            slapd: procfs::cpu_seconds(pids.slapd),
            redis: procfs::cpu_seconds(pids.redis),
            bench: procfs::cpu_seconds(std::process::id()),
        }
    }
}

/// What one user did within the window.
#[derive(Default)]
struct Tally {
    micros: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs `op` with one task per worker (the concurrency is `workers.len()`); gives the workers back.
pub async fn phase(
    op: Op,
    workers: Vec<Worker>,
    shared: &Arc<Shared>,
    pids: Pids,
    timing: Timing,
) -> (Measured, Vec<Worker>) {
    let concurrency = workers.len();
    let from = Instant::now() + timing.warmup;
    let until = from + timing.measure;
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|mut worker| {
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                for _ in 0..MAX_OPS_PER_USER {
                    let start = Instant::now();
                    if start >= until {
                        break;
                    }
                    let outcome = worker.run(op, &shared).await;
                    let end = Instant::now();
                    // Only operations that ended inside the window count, for throughput as for CPU.
                    if end < from || end > until {
                        continue;
                    }
                    match outcome {
                        Ok(()) => tally.micros.push(end.duration_since(start).as_micros().min(u32::MAX as u128) as u32),
                        Err(e) => {
                            tally.errors += 1;
                            tally.first_error.get_or_insert(e);
                        }
                    }
                }
                (worker, tally)
            })
        })
        .collect();

    tokio::time::sleep_until(from.into()).await;
    procfs::reset_peak(pids.server);
    let before = Sample::take(pids);
    tokio::time::sleep_until(until.into()).await;
    let after = Sample::take(pids);
    let (_, peak) = procfs::rss(pids.server);

    let mut workers = Vec::with_capacity(concurrency);
    let mut micros = Vec::new();
    let (mut errors, mut first_error) = (0, None);
    for task in tasks {
        let (worker, tally) = task.await.expect("a load task panicked");
        workers.push(worker);
        micros.extend(tally.micros);
        errors += tally.errors;
        first_error = first_error.or(tally.first_error);
    }
    micros.sort_unstable();
    let ops = micros.len() as u64;
    let seconds = after.at.duration_since(before.at).as_secs_f64();
    let per_op = |a: f64, b: f64| if ops == 0 { 0.0 } else { (a - b) * 1e6 / ops as f64 };
    let quantile = |q: f64| {
        let i = ((micros.len() as f64 * q) as usize).min(micros.len().saturating_sub(1));
        micros.get(i).map_or(0.0, |&us| f64::from(us) / 1000.0)
    };
    let measured = Measured {
        op,
        concurrency,
        ops,
        errors,
        first_error,
        seconds,
        per_second: ops as f64 / seconds,
        p50_ms: quantile(0.50),
        p99_ms: quantile(0.99),
        max_ms: micros.last().map_or(0.0, |&us| f64::from(us) / 1000.0),
        server_cpu_us: per_op(after.server, before.server),
        slapd_cpu_us: per_op(after.slapd, before.slapd),
        redis_cpu_us: per_op(after.redis, before.redis),
        bench_cpu_us: per_op(after.bench, before.bench),
        server_cores: (after.server - before.server) / seconds,
        server_peak_rss: peak,
    };
    (measured, workers)
}
