//! A Redis Cluster on loopback for the store tests: six `redis-server --cluster-enabled yes` made into three
//! masters with a replica each by `redis-cli --cluster create … --cluster-replicas 1`, killed on drop.

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use super::redis::exchange;
use super::{PROBE_TIMEOUT, Redis, Reply, binary, run};

/// How long the cluster may take to agree that every slot is served and every replica has synced.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Cluster {
    pub nodes: Vec<Redis>,
    /// `redis://127.0.0.1:PORT` of every node (`[store] cluster_urls`).
    pub urls: Vec<String>,
}

/// One line of `CLUSTER NODES`, as far as the tests need it.
#[derive(Debug)]
pub struct NodeView {
    pub port: u16,
    pub master: bool,
    pub failed: bool,
}

fn text(reply: std::io::Result<Reply>) -> String {
    match reply {
        Ok(Reply::Bulk(Some(s)) | Reply::Status(s)) => s,
        _ => String::new(),
    }
}

impl Cluster {
    /// Starts six nodes, creates the cluster and waits until it serves every slot with synced replicas.
    pub fn start() -> Cluster {
        let args =
            ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000"];
        let nodes: Vec<Redis> = (0..6).map(|_| Redis::start_with_args(&args)).collect();
        let mut create = Command::new(binary("redis-cli"));
        create.args(["--cluster", "create"]);
        create.args(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)));
        create.args(["--cluster-replicas", "1", "--cluster-yes"]);
        run(&mut create);
        let urls = nodes.iter().map(|n| n.url.clone()).collect();
        let cluster = Cluster { nodes, urls };
        cluster.wait_until(|c| c.settled(), "the cluster to settle");
        cluster
    }

    /// `CLUSTER NODES` as seen from a live node.
    pub fn view(&self) -> Vec<NodeView> {
        let answer = self.nodes.iter().find_map(|n| {
            let t = text(exchange(n.port, None, &["CLUSTER", "NODES"], PROBE_TIMEOUT));
            (!t.is_empty()).then_some(t)
        });
        let answer = answer.unwrap_or_default();
        answer
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split(' ').collect();
                let port = fields.get(1)?.split(['@', ',']).next()?.rsplit(':').next()?.parse().ok()?;
                let flags = fields.get(2)?;
                Some(NodeView { port, master: flags.contains("master"), failed: flags.contains("fail") })
            })
            .collect()
    }

    /// Every slot served, three live masters, and each replica caught up with its master.
    fn settled(&self) -> bool {
        let ok =
            self.nodes.iter().filter(|n| n.pid().is_some()).all(|n| {
                text(exchange(n.port, None, &["CLUSTER", "INFO"], PROBE_TIMEOUT)).contains("cluster_state:ok")
            });
        ok && self.view().iter().filter(|v| v.master && !v.failed).count() == 3 && self.replicated()
    }

    /// Whether every live replica has applied everything its master has written.
    pub fn replicated(&self) -> bool {
        let info = |port: u16| text(exchange(port, None, &["INFO", "replication"], PROBE_TIMEOUT));
        let field = |info: &str, name: &str| {
            info.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned())).unwrap_or_default()
        };
        self.nodes.iter().filter(|n| n.pid().is_some()).all(|n| {
            let mine = info(n.port);
            if field(&mine, "role:") != "slave" {
                return true;
            }
            let Ok(master) = field(&mine, "master_port:").parse::<u16>() else { return false };
            field(&mine, "master_link_status:") == "up"
                && field(&mine, "slave_repl_offset:") == field(&info(master), "master_repl_offset:")
        })
    }

    /// Waits (up to 30 s) until `done`; panics naming `what` otherwise.
    pub fn wait_until(&self, done: impl Fn(&Cluster) -> bool, what: &str) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        while !done(self) {
            assert!(Instant::now() < deadline, "waited {SETTLE_TIMEOUT:?} for {what}");
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn live_masters(&self) -> Vec<u16> {
        self.view().iter().filter(|v| v.master && !v.failed).map(|v| v.port).collect()
    }

    /// The keys matching `pattern` on the node at `port`.
    fn keys_on(port: u16, pattern: &str) -> Vec<String> {
        match exchange(port, None, &["KEYS", pattern], PROBE_TIMEOUT) {
            Ok(Reply::Array(Some(keys))) => {
                keys.into_iter().filter_map(|k| if let Reply::Bulk(k) = k { k } else { None }).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The keys matching `pattern` on every live master: all of the cluster's, sorted.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let mut keys: Vec<String> = self.live_masters().into_iter().flat_map(|p| Self::keys_on(p, pattern)).collect();
        keys.sort();
        keys
    }

    /// The index in `nodes` of the live master holding the most keys matching `pattern`, and their number.
    pub fn busiest_master(&self, pattern: &str) -> (usize, usize) {
        let masters = self.live_masters();
        let (index, keys) = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| masters.contains(&n.port))
            .map(|(i, n)| (i, Self::keys_on(n.port, pattern).len()))
            .max_by_key(|(_, keys)| *keys)
            .expect("a live master");
        (index, keys)
    }
}
