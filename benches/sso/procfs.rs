//! What Linux says about a process, from `/proc`: CPU time, resident memory, and the machine itself.
//!
//! CPU time of a whole process comes from `/proc/PID/stat` (utime + stime of every thread, dead ones
//! included) in clock ticks of 10 ms (`USER_HZ` is 100 on Linux); over a phase of seconds that is
//! precise enough. One thread's CPU time comes from `/proc/thread-self/schedstat` in nanoseconds,
//! for the signature floors, which run on one thread.

use std::fs;

/// Linux reports process times in `USER_HZ` ticks, 100 per second whatever the kernel's HZ.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user + system) a process has used so far; 0 when it is gone.
pub fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, so 12 and 13 after the name (state is 3).
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / TICKS_PER_SECOND
}

/// CPU nanoseconds the calling thread has used so far.
pub fn thread_cpu_ns() -> u64 {
    let text = fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Resident memory of a process: (now, peak since start or the last [`reset_peak`]) in bytes.
pub fn rss(pid: u32) -> (u64, u64) {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |name: &str| {
        let line = status.lines().find_map(|l| l.strip_prefix(name)).unwrap_or_default();
        line.trim().trim_end_matches("kB").trim().parse::<u64>().unwrap_or(0) * 1024
    };
    (kib("VmRSS:"), kib("VmHWM:"))
}

/// Resets a process's peak resident memory (VmHWM) to its current size, so each phase has its own peak.
pub fn reset_peak(pid: u32) {
    // "5" resets the peak RSS (Documentation/filesystems/proc.rst, clear_refs); allowed on our own children.
    let _ = fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// The machine a run was made on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub kernel: String,
    /// The 1-minute load average when the run started: others' work on a shared machine.
    pub load_average: f64,
}

impl Machine {
    pub fn read() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim()))
            .unwrap_or("unknown")
            .to_owned();
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
        let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
        Machine {
            cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            cpu_model,
            kernel,
            load_average: load.split_whitespace().next().and_then(|l| l.parse().ok()).unwrap_or(0.0),
        }
    }
}
