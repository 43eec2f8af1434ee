//! The real binary, as systemd or a container runtime runs it: SIGTERM lets a request in flight finish and the
//! process exit 0; a request that never finishes cannot hold the exit past the grace; SIGHUP reloads the TLS
//! certificate files; logs are JSON lines when `[log] format = "json"`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::app::{http, keys_dir};
use crate::harness::{TempDir, TestCa, free_port};
use crate::https::trusting;

/// Bounds every wait, so a broken run fails instead of hanging; never reached when things work.
const DEADLINE: Duration = Duration::from_secs(20);

/// A client-credentials token request: cheap, and answered 200 with a token.
const TOKEN_BODY: &str = "grant_type=client_credentials&client_id=vanban-api&client_secret=vanban-api-secret";

/// `danang-sso serve` in a child process with a config file in a temp dir; killed on drop.
struct Service {
    child: Child,
    port: u16,
    url: String,
    /// Everything the process wrote to standard error, line by line.
    logs: Arc<Mutex<Vec<String>>>,
    dir: TempDir,
}

impl Service {
    /// Starts the binary with `extra` appended to the `[server]` section and waits until `/healthz` answers
    /// through `probe` (an HTTPS client when `https`).
    async fn start(dir: TempDir, https: bool, extra: &str, probe: &reqwest::Client) -> Service {
        let port = free_port();
        let scheme = if https { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{port}");
        let config = format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nissuer = \"{url}\"\n{extra}\n\n[keys]\ndir = {keys:?}\n\n\
             [log]\nformat = \"json\"\nlevel = \"info\"\n",
            keys = keys_dir().display().to_string(),
        );
        let config_file = dir.path().join("danang-sso.toml");
        std::fs::write(&config_file, config).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_danang-sso"))
            .args(["serve", "--config"])
            .arg(&config_file)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn danang-sso");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let mut service = Service { child, port, url, logs, dir };
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(r) = probe.get(format!("{}/healthz", service.url)).send().await
                && r.status() == 200
            {
                return service;
            }
            if let Some(status) = service.child.try_wait().unwrap() {
                panic!("danang-sso exited at start ({status}):\n{}", service.log_text());
            }
            assert!(Instant::now() < deadline, "danang-sso did not answer:\n{}", service.log_text());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn log_text(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Waits until a log line contains `needle`; returns that line.
    async fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(line) = self.logs.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            assert!(Instant::now() < deadline, "no log line with {needle:?}:\n{}", self.log_text());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends a signal with the `kill` command (`TERM`, `HUP`).
    fn signal(&self, name: &str) {
        let status = Command::new("kill").args(["-s", name, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -s {name} failed");
    }

    async fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "danang-sso did not exit:\n{}", self.log_text());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Opens a connection and sends a token request's head with `Expect: 100-continue`, then waits for the
    /// `100 Continue` that the server sends only once the handler reads the body: the request is in flight.
    async fn request_in_flight(&self) -> BufReader<TcpStream> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await.expect("connect");
        let head = format!(
            "POST /token HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            self.port,
            TOKEN_BODY.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut stream = BufReader::new(stream);
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        assert_eq!(line, "HTTP/1.1 100 Continue\r\n");
        line.clear();
        stream.read_line(&mut line).await.unwrap();
        assert_eq!(line, "\r\n");
        stream
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn sigterm_lets_the_request_in_flight_finish_and_exits_0() {
    let mut service = Service::start(TempDir::new("lifecycle"), false, "", &http()).await;
    let mut stream = service.request_in_flight().await;

    service.signal("TERM");
    service.wait_for_log("shutting down: finishing in-flight requests").await;
    stream.get_mut().write_all(TOKEN_BODY.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("the response, then the connection closes");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("\"access_token\""), "{response}");

    assert_eq!(service.wait_exit().await.code(), Some(0), "{}", service.log_text());
    service.wait_for_log("danang-sso stopped").await;
    for line in service.logs.lock().unwrap().iter() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(event["level"].is_string() && event["message"].is_string(), "{line}");
    }
}

#[tokio::test]
async fn sigterm_exits_after_the_grace_even_if_a_request_never_finishes() {
    // The request timeout is 30 s: only the 1 s grace can end this process within the test's deadline.
    let extra = "shutdown_grace_secs = 1";
    let mut service = Service::start(TempDir::new("lifecycle"), false, extra, &http()).await;
    let _stuck = service.request_in_flight().await;
    service.signal("TERM");
    assert_eq!(service.wait_exit().await.code(), Some(0), "{}", service.log_text());
    service.wait_for_log("requests still running after the shutdown grace").await;
}

/// Writes `ca`'s leaf certificate and key where the service's config points.
fn install(ca: &TestCa, dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&cert, &ca.cert_pem).unwrap();
    std::fs::write(&key, &ca.key_pem).unwrap();
    (cert, key)
}

#[tokio::test]
async fn sighup_reloads_the_certificate_files() {
    let (first, second) = (TestCa::new(), TestCa::new());
    let dir = TempDir::new("lifecycle-tls");
    let (cert, key) = install(&first, dir.path());
    let extra = format!("tls_cert_file = {:?}\ntls_key_file = {:?}", cert.display(), key.display());
    let service = Service::start(dir, true, &extra, &trusting(&first.ca_pem)).await;

    install(&second, service.dir.path());
    service.signal("HUP");
    service.wait_for_log("TLS certificate reloaded").await;
    let answer = trusting(&second.ca_pem).get(format!("{}/healthz", service.url)).send().await;
    assert_eq!(answer.expect("the second CA's certificate is served").status(), 200);
    let old = trusting(&first.ca_pem).get(format!("{}/healthz", service.url)).send().await;
    assert!(old.expect_err("refused").is_connect(), "the first certificate is gone");
}
