//! A throwaway `redis-server` (no persistence), so the Redis store is tested against the real server,
//! plus a tiny RESP client for tests that look at what the store wrote.

use super::{Daemon, PORT_ATTEMPTS, PROBE_TIMEOUT, Startup, TempDir, TestCa, binary};
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

/// How long [`Redis::command`] waits for an answer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// One redis-server child process with its own port and dir.
pub struct Redis {
    /// `redis://127.0.0.1:PORT`, or `redis://:PASSWORD@127.0.0.1:PORT` (password percent-encoded).
    pub url: String,
    pub port: u16,
    password: Option<String>,
    /// The TLS port, when started with [`Redis::start_with_tls`].
    tls_port: Option<u16>,
    /// More redis-server arguments (`--replicaof …`, `--cluster-enabled yes`), kept for [`Redis::restart`].
    extra_args: Vec<String>,
    daemon: Daemon,
    /// Declared after `daemon`, so the process is dead before its files go.
    dir: TempDir,
}

/// A RESP reply, as [`Redis::command`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`, `+PONG`.
    Status(String),
    /// `-NOAUTH …`, `-WRONGTYPE …`.
    Error(String),
    Integer(i64),
    /// A bulk string; `None` for nil (`GET` of a missing key).
    Bulk(Option<String>),
    /// `None` for a nil array.
    Array(Option<Vec<Reply>>),
}

impl Redis {
    /// Starts a redis-server on a free port.
    pub fn start() -> Redis {
        Redis::launch(None, None, &[])
    }

    /// Starts a redis-server with more arguments (a replica, a cluster node).
    pub fn start_with_args(args: &[&str]) -> Redis {
        Redis::launch(None, None, args)
    }

    /// Starts a redis-server that requires `AUTH pw` (`requirepass`); the url carries the password.
    pub fn start_with_password(pw: &str) -> Redis {
        Redis::launch(Some(pw), None, &[])
    }

    /// Also serves TLS on a second port with `ca`'s leaf certificate (the files are copied, so `ca` may be
    /// dropped); clients need no certificate of their own. [`Redis::url`] stays the plain port.
    pub fn start_with_tls(ca: &TestCa) -> Redis {
        Redis::launch(None, Some(ca), &[])
    }

    /// `rediss://127.0.0.1:PORT` when started with TLS.
    pub fn tls_url(&self) -> Option<String> {
        self.tls_port.map(|port| format!("rediss://127.0.0.1:{port}"))
    }

    /// redis-server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.daemon.pid()
    }

    /// Kills the server; its port stays reserved for [`Redis::restart`].
    pub fn stop(&mut self) {
        self.daemon.stop();
    }

    /// Starts the server again on the same port (stops it first if it runs). Nothing is persisted,
    /// so it comes back empty, like a Redis that lost its data.
    pub fn restart(&mut self) {
        if self.spawn() == Startup::PortTaken {
            panic!("redis-server cannot restart: another process took port {}", self.port);
        }
    }

    /// Starts the server again on the same port, empty, as a replica of the server on `master` (how an operator
    /// brings back a failed master once Sentinel has promoted its replica).
    pub fn restart_as_replica_of(&mut self, master: u16) {
        self.extra_args = vec!["--replicaof".into(), "127.0.0.1".into(), master.to_string()];
        self.restart();
    }

    /// Sends one command on a new connection (after `AUTH` when the server has a password).
    pub fn command(&self, args: &[&str]) -> Reply {
        let reply = exchange(self.port, self.password.as_deref(), args, COMMAND_TIMEOUT);
        reply.unwrap_or_else(|err| panic!("redis {args:?} on port {}: {err}", self.port))
    }

    fn launch(password: Option<&str>, ca: Option<&TestCa>, args: &[&str]) -> Redis {
        let dir = TempDir::new("redis");
        if let Some(ca) = ca {
            for name in ["ca.pem", "cert.pem", "key.pem"] {
                fs::copy(ca.dir.join(name), dir.path().join(name)).expect("copy a TLS file for redis-server");
            }
        }
        let mut redis = Redis {
            url: String::new(),
            port: 0,
            password: password.map(str::to_owned),
            tls_port: None,
            extra_args: args.iter().map(|a| a.to_string()).collect(),
            daemon: Daemon::new("redis-server", dir.path().join("redis.log")),
            dir,
        };
        for _ in 0..PORT_ATTEMPTS {
            redis.port = super::free_port();
            redis.tls_port = ca.map(|_| super::free_port());
            let credentials = password.map(|pw| format!(":{}@", percent_encode(pw))).unwrap_or_default();
            redis.url = format!("redis://{credentials}127.0.0.1:{}", redis.port);
            if redis.spawn() == Startup::Ready {
                return redis;
            }
        }
        panic!("redis-server: {PORT_ATTEMPTS} ports in a row were taken by other processes");
    }

    fn spawn(&mut self) -> Startup {
        let mut command = Command::new(binary("redis-server"));
        let port = self.port.to_string();
        // In the foreground, loopback only, nothing written to disk.
        command.args(["--port", &port, "--bind", "127.0.0.1"]);
        command.args(["--save", "", "--appendonly", "no", "--dir"]).arg(self.dir.path());
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        command.args(&self.extra_args);
        if let Some(tls_port) = self.tls_port {
            command.args(["--tls-port", &tls_port.to_string(), "--tls-auth-clients", "no"]);
            command.arg("--tls-cert-file").arg(self.dir.path().join("cert.pem"));
            command.arg("--tls-key-file").arg(self.dir.path().join("key.pem"));
            command.arg("--tls-ca-cert-file").arg(self.dir.path().join("ca.pem"));
        }
        let pong = Reply::Status("PONG".into());
        let password = self.password.as_deref();
        self.daemon
            .start(&mut command, || exchange(self.port, password, &["PING"], PROBE_TIMEOUT).is_ok_and(|r| r == pong))
    }
}

/// One command on a new connection, after `AUTH` when there is a password.
pub(super) fn exchange(port: u16, password: Option<&str>, args: &[&str], timeout: Duration) -> io::Result<Reply> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&address, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    let mut reader = BufReader::new(stream);
    if let Some(password) = password {
        send(reader.get_mut(), &["AUTH", password])?;
        let reply = read_reply(&mut reader)?;
        if reply != Reply::Status("OK".into()) {
            return Err(io::Error::other(format!("AUTH answered {reply:?}")));
        }
    }
    send(reader.get_mut(), args)?;
    read_reply(&mut reader)
}

/// Writes a command as a RESP array of bulk strings.
fn send(stream: &mut TcpStream, args: &[&str]) -> io::Result<()> {
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request += &format!("${}\r\n{arg}\r\n", arg.len());
    }
    stream.write_all(request.as_bytes())
}

fn read_reply(reader: &mut impl BufRead) -> io::Result<Reply> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let line = line.trim_end_matches("\r\n");
    let (kind, rest) = line.split_at_checked(1).ok_or_else(|| io::Error::other("empty RESP line"))?;
    let number = || rest.parse::<i64>().map_err(|_| io::Error::other(format!("bad RESP line {line:?}")));
    Ok(match kind {
        "+" => Reply::Status(rest.into()),
        "-" => Reply::Error(rest.into()),
        ":" => Reply::Integer(number()?),
        "$" => match usize::try_from(number()?) {
            Err(_) => Reply::Bulk(None),
            Ok(len) => {
                let mut bytes = vec![0; len + 2];
                reader.read_exact(&mut bytes)?;
                bytes.truncate(len);
                Reply::Bulk(Some(String::from_utf8_lossy(&bytes).into_owned()))
            }
        },
        "*" => match usize::try_from(number()?) {
            Err(_) => Reply::Array(None),
            Ok(len) => Reply::Array(Some((0..len).map(|_| read_reply(reader)).collect::<io::Result<_>>()?)),
        },
        _ => return Err(io::Error::other(format!("unknown RESP line {line:?}"))),
    })
}

/// For the url's userinfo: everything but unreserved characters as `%XX`.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded += &format!("%{byte:02X}");
        }
    }
    encoded
}
