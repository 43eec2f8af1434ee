//! Real servers for the integration tests: each test starts its own slapd and redis-server on free
//! loopback ports in private temp dirs, and `Drop` stops them. No mocks, and no skipping: a missing
//! binary is a panic that says how to install it.
//!
//! Never keep a [`Slapd`] or [`Redis`] in a `static`: statics are not dropped, so the process would
//! outlive the test run.

mod apache;
mod ca;
mod cluster;
mod html;
mod ldif;
mod redis;
mod sentinel;
mod simplesamlphp;
mod slapd;

pub use apache::Apache;
pub use ca::TestCa;
pub use cluster::Cluster;
pub use html::unescape;
pub use redis::{Redis, Reply};
pub use sentinel::{MASTER_NAME, SentinelSet};
pub use simplesamlphp::SimpleSamlPhp;
pub use slapd::{Slapd, ssha_hash};

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use std::{env, process, thread};

/// What to tell someone whose machine lacks a server binary.
const INSTALL_HINT: &str = "install them with `sudo apt-get install slapd ldap-utils redis-server openssl`, \
     or run `bash .ci/test`, which installs what the tests need";

/// How long a server may take to answer after it is spawned (slapd usually needs about 40 ms).
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one readiness probe may wait for an answer: short, so a foreign listener on a port
/// that our server failed to bind delays the retry on another port only a little.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// How many fresh ports a start tries when another process grabs the picked one first.
const PORT_ATTEMPTS: usize = 5;

/// A loopback port nobody listens on now, never the same twice in this process: two servers
/// started by parallel tests cannot race for one port, and a stopped server keeps its port for
/// `restart`.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
        let port = listener.local_addr().expect("local address of a bound socket").port();
        if HANDED_OUT.lock().expect("port registry").insert(port) {
            return port;
        }
    }
}

/// The path of an installed program; also looks in the sbin dirs a non-root `PATH` often lacks.
fn binary(name: &str) -> PathBuf {
    installed(name).unwrap_or_else(|| panic!("`{name}` is not installed: the tests start real servers; {INSTALL_HINT}"))
}

/// Where `name` is installed, if it is: `PATH`, then the sbin dirs.
fn installed(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    let sbin = ["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from);
    env::split_paths(&path).chain(sbin).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

/// The first of `candidates` that exists (distributions put OpenLDAP files in different places).
fn first_existing(what: &str, candidates: &[&str]) -> PathBuf {
    let found = candidates.iter().map(PathBuf::from).find(|dir| dir.exists());
    found.unwrap_or_else(|| panic!("no {what} in {candidates:?}; {INSTALL_HINT}"))
}

/// Runs a helper tool to completion; panics with its output when it fails.
fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        panic!("{command:?} failed ({}):\n{stdout}{stderr}", output.status);
    }
    stdout
}

/// A private directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(kind: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = env::temp_dir().join(format!("danang-sso-{kind}-{}-{n}", process::id()));
        // A leftover from an earlier run whose process had the same id.
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap_or_else(|err| panic!("create {}: {err}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// How a spawned server ended its start.
#[derive(Debug, PartialEq, Eq)]
enum Startup {
    Ready,
    /// Another process listens on the port: the caller may pick another one.
    PortTaken,
}

/// One server process in the foreground, so its PID is ours; output goes to a log file, never to a
/// pipe nobody reads. Killed on drop, also when a test panics.
struct Daemon {
    name: &'static str,
    log: PathBuf,
    /// Where the current run's output starts in `log` (earlier runs stay there for diagnosis).
    log_start: u64,
    child: Option<Child>,
}

impl Daemon {
    fn new(name: &'static str, log: PathBuf) -> Daemon {
        Daemon { name, log, log_start: 0, child: None }
    }

    /// Spawns `command` and waits until `probe` says the server answers.
    fn start(&mut self, command: &mut Command, mut probe: impl FnMut() -> bool) -> Startup {
        self.stop();
        let log = File::options().create(true).append(true).open(&self.log).expect("open server log");
        self.log_start = log.metadata().expect("server log metadata").len();
        let stderr = log.try_clone().expect("clone server log handle");
        command.stdin(Stdio::null()).stdout(log).stderr(stderr);
        let child = command.spawn().unwrap_or_else(|err| panic!("cannot spawn {command:?}: {err}"));
        self.child = Some(child);

        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(startup) = self.check_alive() {
                return startup;
            }
            // Checked again after a successful probe: the answer must come from our own process.
            if probe() && self.check_alive().is_none() {
                return Startup::Ready;
            }
            if Instant::now() > deadline {
                self.stop();
                panic!("{} did not answer within {READY_TIMEOUT:?}; its output:\n{}", self.name, self.output());
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// `None` while the process runs; why it stopped otherwise (panics unless the port was taken).
    fn check_alive(&mut self) -> Option<Startup> {
        let child = self.child.as_mut()?;
        let status = child.try_wait().expect("poll server process")?;
        self.child = None;
        let output = self.output();
        if output.contains("Address already in use") || output.contains("errno=98") {
            return Some(Startup::PortTaken);
        }
        panic!("{} exited at start ({status}); its output:\n{output}", self.name);
    }

    /// The running process's id (for readers of `/proc`, such as the benchmark).
    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the server wrote since its last start.
    fn output(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let _ = file.seek(SeekFrom::Start(self.log_start));
            let mut bytes = Vec::new();
            let _ = file.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    }

    /// Kills the process (SIGKILL: both servers keep nothing in memory we need) and reaps it.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}
