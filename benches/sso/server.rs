//! The danang-sso release binary as a process of its own, so `/proc` gives its own CPU time and memory,
//! apart from the load generator's. Started from a config file in a private temp dir, stopped on drop. Its
//! clients are the demo ones, their back-channel logout endpoints answered by the bench (see `apps`).

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::apps::BackChannel;
use crate::client::Http;

/// Built by cargo alongside the bench, with the bench profile (release settings).
const BINARY: &str = env!("CARGO_BIN_EXE_danang-sso");
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running danang-sso; killed (and its files removed) on drop, also when the bench panics.
pub struct Server {
    pub addr: SocketAddr,
    pub pid: u32,
    /// The apps' back-channel logout endpoints this server's logout tokens go to.
    pub back_channel: BackChannel,
    child: Child,
    dir: PathBuf,
}

/// One load generator on one address stands for thousands of browsers, and the hot account for a whole office
/// signing in at once: every attempt is reserved before its password is checked, so with the default limits more
/// than 3 sign-ins of one mailbox (or 10 from one address) in flight at the same moment would wait. The limits
/// are raised so that the throttle's cost (its reservation scripts still run on every sign-in) is measured, not
/// its refusals; the attack suite tests those.
const THROTTLE: &str = "[throttle]\naccount_free_failures = 1000000000\naccount_max_failures = 1000000001\n\
                        ip_free_failures = 1000000000\nip_max_failures = 1000000001\n\n";

impl Server {
    /// Starts the binary with `sections` (TOML: `[directory]`, `[ldap]`, `[store]`, …) plus its own
    /// listen address, issuer, keys directory and audit file; waits until discovery answers.
    pub async fn start(name: &str, sections: &str) -> Server {
        Server::start_refusing(name, sections, None).await
    }

    /// Like [`Server::start`], with `refusing`'s back-channel logout URI at a port nothing listens on.
    pub async fn start_refusing(name: &str, sections: &str, refusing: Option<&str>) -> Server {
        let dir = std::env::temp_dir().join(format!("danang-sso-bench-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the server's temp dir");
        let port = crate::harness::free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let back_channel = BackChannel::start().await;
        let config = format!(
            "[server]\nlisten = \"{addr}\"\nissuer = \"http://{addr}\"\n\n[keys]\ndir = \"{keys}\"\n\n\
             [audit]\noutput = \"file\"\npath = \"{audit}\"\n\n{THROTTLE}{sections}\n\n{clients}",
            keys = dir.join("keys").display(),
            audit = dir.join("audit.jsonl").display(),
            clients = back_channel.clients(refusing),
        );
        let config_path = dir.join("config.toml");
        fs::write(&config_path, config).expect("write the server config");
        let log = fs::File::create(dir.join("server.log")).expect("create the server log");
        let child = Command::new(BINARY)
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BINARY}: {e}"));
        let mut server = Server { addr, pid: child.id(), back_channel, child, dir };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut http = Http::new(self.addr);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("danang-sso exited at start ({status}):\n{}", self.log());
            }
            if http.get("/.well-known/openid-configuration", &[]).await.is_ok_and(|r| r.status.is_success()) {
                return;
            }
            if Instant::now() > deadline {
                panic!("danang-sso did not answer within {READY_TIMEOUT:?}:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the server printed (warnings and errors only).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
