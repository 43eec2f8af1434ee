//! A Redis Sentinel setup on loopback for the failover tests: one master, one replica and three sentinels
//! (`redis-server sentinel.conf --sentinel`, the binary Debian's `redis-sentinel` runs), each a child process of
//! the test, killed on drop. A killed master is replaced in about 4 s (`down-after-milliseconds 1000`).

use std::collections::HashMap;
use std::fs;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use super::redis::exchange;
use super::{Daemon, PORT_ATTEMPTS, PROBE_TIMEOUT, Redis, Reply, Startup, TempDir, binary, free_port};

/// The master's name in every sentinel's configuration (`[store] sentinel_master`).
pub const MASTER_NAME: &str = "danang-sso";

/// How long the set may take to be ready: the replica synced, every sentinel aware of it and of the others.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct SentinelSet {
    pub master: Redis,
    pub replica: Redis,
    /// `redis://127.0.0.1:PORT` of each sentinel (`[store] sentinel_urls`).
    pub sentinel_urls: Vec<String>,
    sentinel_ports: Vec<u16>,
    sentinels: Vec<Daemon>,
    /// Declared after `sentinels`, so they are dead before their files go.
    dir: TempDir,
}

impl SentinelSet {
    /// Starts the five processes and waits until a failover would work.
    pub fn start() -> SentinelSet {
        let master = Redis::start();
        let replica = Redis::start_with_args(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
        let mut set = SentinelSet {
            master,
            replica,
            sentinel_urls: Vec::new(),
            sentinel_ports: Vec::new(),
            sentinels: Vec::new(),
            dir: TempDir::new("sentinel"),
        };
        for i in 0..3 {
            set.spawn_sentinel(i);
        }
        set.wait_until_settled();
        set
    }

    fn spawn_sentinel(&mut self, i: usize) {
        let log = self.dir.path().join(format!("sentinel-{i}.log"));
        let mut daemon = Daemon::new("redis-server --sentinel", log);
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            // Sentinel rewrites its file as it learns the topology: one writable file each.
            let conf = self.dir.path().join(format!("sentinel-{i}.conf"));
            let master = self.master.port;
            fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\ndaemonize no\ndir {dir}\n\
                     sentinel monitor {MASTER_NAME} 127.0.0.1 {master} 2\n\
                     sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
                     sentinel failover-timeout {MASTER_NAME} 3000\n\
                     sentinel parallel-syncs {MASTER_NAME} 1\n",
                    dir = self.dir.path().display()
                ),
            )
            .expect("write a sentinel config");
            let mut command = Command::new(binary("redis-server"));
            command.arg(&conf).arg("--sentinel");
            let pong = Reply::Status("PONG".into());
            let probe = || exchange(port, None, &["PING"], PROBE_TIMEOUT).is_ok_and(|r| r == pong);
            if daemon.start(&mut command, probe) == Startup::Ready {
                self.sentinel_urls.push(format!("redis://127.0.0.1:{port}"));
                self.sentinel_ports.push(port);
                self.sentinels.push(daemon);
                return;
            }
        }
        panic!("redis sentinel: {PORT_ATTEMPTS} ports in a row were taken by other processes");
    }

    /// What sentinel `i` knows about the master (`SENTINEL MASTER`), as name → value.
    pub fn sentinel_view(&self, i: usize) -> HashMap<String, String> {
        let reply = exchange(self.sentinel_ports[i], None, &["SENTINEL", "MASTER", MASTER_NAME], PROBE_TIMEOUT);
        let Ok(Reply::Array(Some(items))) = reply else { return HashMap::new() };
        let text: Vec<String> = items
            .into_iter()
            .map(|item| match item {
                Reply::Bulk(Some(s)) | Reply::Status(s) => s,
                Reply::Integer(n) => n.to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        text.chunks(2).filter(|pair| pair.len() == 2).map(|pair| (pair[0].clone(), pair[1].clone())).collect()
    }

    /// The port the sentinels name as master now.
    pub fn master_port(&self) -> Option<u16> {
        self.sentinel_view(0).get("port").and_then(|p| p.parse().ok())
    }

    fn wait_until_settled(&self) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let synced = matches!(
                exchange(self.replica.port, None, &["INFO", "replication"], PROBE_TIMEOUT),
                Ok(Reply::Bulk(Some(info))) if info.contains("master_link_status:up")
            );
            let aware = (0..self.sentinel_ports.len()).all(|i| {
                let view = self.sentinel_view(i);
                view.get("num-slaves").map(String::as_str) == Some("1")
                    && view.get("num-other-sentinels").map(String::as_str) == Some("2")
            });
            if synced && aware {
                return;
            }
            assert!(Instant::now() < deadline, "the sentinel set did not settle within {SETTLE_TIMEOUT:?}");
            thread::sleep(Duration::from_millis(100));
        }
    }
}
