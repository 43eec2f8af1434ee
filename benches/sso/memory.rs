//! Memory: what the Redis store keeps per SSO session and per refresh family, and the resident memory of
//! a server holding 100,000 SSO sessions in the in-memory store.
//!
//! Redis is read two ways. After the login phases, `MEMORY USAGE` of the keys the server really wrote,
//! summed by kind (a session is `s:` plus its share of `a:`; a refresh family `g:` + `sg:` + `ag:`), and
//! `used_memory` growth per login flow (everything a sign-in leaves, Redis's own tables included). Then, as
//! `tests/it/shared_store/keys.rs` does, `used_memory` growth over 1,000 sessions and 1,000 families written
//! through the store itself, each in its own account.
//!
//! The 100,000 sessions are made through the real sign-in form (`POST /login`), at high concurrency, and the
//! memory is read twice: at once, while the 100,000 codes those sign-ins handed out still live (a minute),
//! and, except with `--quick`, a minute later, after the store's sweep dropped them, which is the steady state
//! of a morning's sign-ins spread over more than a minute. Two
//! honest shortcuts, neither of which changes what a session holds: the form is posted without first getting
//! it (the anti-forgery check only needs the same value in the cookie and the form, so we pick one), and the
//! embedded directory's copy of the accounts has a cheap argon2 hash (8 KiB, one pass) instead of the
//! city's, so 100,000 password checks take seconds rather than minutes of CPU.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
use danang_sso::clock::Clock;
use danang_sso::config::{StoreConfig, StoreKind};
use danang_sso::oidc::{random_id, random_token, secret_hash};
use danang_sso::store::redis::RedisStore;
use danang_sso::store::{Grant, Session, Store};
use hyper::header::COOKIE;
use serde::Serialize;
use url::form_urlencoded;

use crate::accounts::{self, Account, PASSWORD};
use crate::client::Http;
use crate::procfs;
use crate::server::Server;

/// Keys of each kind whose `MEMORY USAGE` is read (the rest are counted, and take the average).
const SAMPLE_PER_KIND: usize = 2_000;
/// Sessions and families written through the store for the isolated measurement, after a few to warm up.
const ISOLATED: usize = 1_000;
const WARM_UP: usize = 20;
/// Users posting the sign-in form at once while the 100,000 sessions are made.
const SESSION_MAKERS: usize = 64;
/// The most the session making may take.
const SESSION_TIME_LIMIT: Duration = Duration::from_secs(600);

/// Bytes in Redis.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RedisBytes {
    pub sessions: u64,
    /// `MEMORY USAGE` of `s:` and `a:` keys per session.
    pub per_session: f64,
    pub families: u64,
    /// `MEMORY USAGE` of `g:`, `sg:` and `ag:` keys per refresh family.
    pub per_family: f64,
    /// `MEMORY USAGE` of `c:` keys per spent code (gone 11 minutes after issue).
    pub per_spent_code: f64,
    /// `used_memory` growth per login flow: session, code, family, last sign-in, Redis's tables.
    pub used_memory_per_login: f64,
    /// `used_memory` growth per session over [`ISOLATED`] sessions written through the store.
    pub isolated_per_session: f64,
    /// `used_memory` growth per family over [`ISOLATED`] families written through the store.
    pub isolated_per_family: f64,
}

/// A multiplexed connection to the bench's Redis.
pub async fn connect(url: &str) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url).expect("a Redis URL");
    client.get_multiplexed_async_connection().await.expect("connect to Redis")
}

pub async fn used_memory(con: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO").arg("memory").query_async(con).await.expect("INFO memory");
    let line = info.lines().find_map(|l| l.strip_prefix("used_memory:")).unwrap_or("0");
    line.trim().parse().unwrap_or(0)
}

/// Reads what the server wrote under `prefix`; `baseline` is `used_memory` before the first sign-in.
pub async fn redis_bytes(con: &mut redis::aio::MultiplexedConnection, prefix: &str, baseline: u64) -> RedisBytes {
    let mut kinds: std::collections::BTreeMap<String, (u64, Vec<String>)> = Default::default();
    let mut cursor = 0u64;
    for _ in 0..1_000_000 {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(con)
            .await
            .expect("SCAN");
        for key in keys {
            // `{tag}s:…`: the hash tag that keeps an account's keys in one Cluster slot is not part of the kind.
            let rest = &key[prefix.len()..];
            let rest = rest.strip_prefix('{').and_then(|r| r.split_once('}')).map_or(rest, |(_, after)| after);
            let kind = rest.split(':').next().unwrap_or_default().to_owned();
            let entry = kinds.entry(kind).or_default();
            entry.0 += 1;
            if entry.1.len() < SAMPLE_PER_KIND {
                entry.1.push(key);
            }
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    let mut bytes = std::collections::BTreeMap::new();
    let mut counts = std::collections::BTreeMap::new();
    for kind in ["s", "a", "g", "sg", "ag", "c"] {
        let (count, sample) = kinds.get(kind).cloned().unwrap_or_default();
        let mut pipe = redis::pipe();
        for key in &sample {
            pipe.cmd("MEMORY").arg("USAGE").arg(key).arg("SAMPLES").arg(0);
        }
        let sizes: Vec<Option<u64>> =
            if sample.is_empty() { Vec::new() } else { pipe.query_async(con).await.expect("MEMORY USAGE") };
        let average = sizes.iter().flatten().sum::<u64>() as f64 / sample.len().max(1) as f64;
        bytes.insert(kind, average * count as f64);
        counts.insert(kind, count);
    }
    let (sessions, families, codes) = (counts["s"], counts["g"], counts["c"]);
    let per = |sum: f64, n: u64| sum / n.max(1) as f64;
    RedisBytes {
        sessions,
        per_session: per(bytes["s"] + bytes["a"], sessions),
        families,
        per_family: per(bytes["g"] + bytes["sg"] + bytes["ag"], families),
        per_spent_code: per(bytes["c"], codes),
        used_memory_per_login: per(used_memory(con).await.saturating_sub(baseline) as f64, sessions),
        ..RedisBytes::default()
    }
}

/// `used_memory` growth per session and per family written through the store, each in its own account
/// (as `tests/it/shared_store/keys.rs` measures), under a prefix of its own.
pub async fn isolated(url: &str, accounts: &[Account], bytes: &mut RedisBytes) {
    let mut con = connect(url).await;
    let config = StoreConfig {
        kind: StoreKind::Redis,
        redis_url: Some(url.to_owned()),
        key_prefix: "bench-isolated:".into(),
        ..StoreConfig::default()
    };
    let store = RedisStore::new(&config, Clock::default()).expect("a Redis store");
    let now = Clock::default().now();
    // First connect and load the scripts (a client's buffers, the script cache: tens of KB not per session).
    for account in accounts.iter().rev().take(WARM_UP) {
        let user = account.user();
        let id = secret_hash(&random_token());
        let session = Session {
            id,
            account: user.mail,
            subject: user.id,
            auth_time: now,
            expires_at: now + 36_000,
            ..Session::default()
        };
        store.put_session(&session).await.expect("put a session");
    }
    let accounts = &accounts[..ISOLATED.min(accounts.len() - WARM_UP)];
    let sids: Vec<String> = accounts.iter().map(|_| secret_hash(&random_token())).collect();
    let before = used_memory(&mut con).await;
    for (sid, account) in sids.iter().zip(accounts) {
        let user = account.user();
        let session = Session {
            id: sid.clone(),
            account: user.mail,
            subject: user.id,
            auth_time: now,
            expires_at: now + 36_000,
            ..Session::default()
        };
        store.put_session(&session).await.expect("put a session");
    }
    bytes.isolated_per_session = (used_memory(&mut con).await.saturating_sub(before)) as f64 / accounts.len() as f64;
    let before = used_memory(&mut con).await;
    for (sid, account) in sids.iter().zip(accounts) {
        let grant = Grant {
            id: random_id(),
            client_id: "portal".into(),
            sid: Some(sid.clone()),
            scope: "openid profile email offline_access".into(),
            auth_time: now,
            user: Some(account.user()),
            refresh_hash: Some(secret_hash(&random_token())),
            expires_at: now + 2_592_000,
            amr: Vec::new(),
            issued_at: now,
        };
        store.put_grant(&grant).await.expect("put a grant");
    }
    bytes.isolated_per_family = (used_memory(&mut con).await.saturating_sub(before)) as f64 / accounts.len() as f64;
}

/// The in-memory store's resident memory.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryStoreRss {
    pub accounts: usize,
    pub sessions: u64,
    pub errors: u64,
    pub seconds: f64,
    /// After start, with the embedded directory loaded, before any sign-in.
    pub idle_rss: u64,
    /// At once, with every sign-in's code still live.
    pub rss_with_sessions: u64,
    /// After the codes expired and the store swept them (`None` with `--quick`, which does not wait).
    pub rss_after_codes_expired: Option<u64>,
    pub peak_rss: u64,
    /// Growth over idle per session: after the codes expired when measured, else with them.
    pub per_session: f64,
}

impl MemoryStoreRss {
    /// The steady state when measured, else the pessimistic figure.
    pub fn rss(&self) -> u64 {
        self.rss_after_codes_expired.unwrap_or(self.rss_with_sessions)
    }
}

/// How long after the last sign-in its code is certainly expired and the store's next sweep is due.
const CODES_GONE: Duration = Duration::from_secs(62);

/// Starts a server with the memory store and the embedded directory holding `accounts`, signs in
/// `sessions` times, and reads its memory (again once the codes are gone, when `settle`).
pub async fn memory_store_rss(accounts: &[Account], sessions: u64, settle: bool) -> MemoryStoreRss {
    let cheap = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8, 1, 1, None).expect("argon2 params"));
    let hash = cheap.hash_password(PASSWORD.as_bytes()).expect("hash the password");
    let dir = std::env::temp_dir().join(format!("danang-sso-bench-ldif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the LDIF dir");
    let ldif_path = dir.join("accounts.ldif");
    std::fs::write(&ldif_path, accounts::ldif(accounts, &format!("{{ARGON2}}{hash}"))).expect("write the LDIF");
    let server = Server::start(
        "memory",
        &format!(
            "[directory]\nkind = \"ldif\"\nldif_path = \"{}\"\n\n[store]\nkind = \"memory\"\n",
            ldif_path.display()
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (idle_rss, _) = procfs::rss(server.pid);

    let started = Instant::now();
    let deadline = started + SESSION_TIME_LIMIT;
    let made = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mailboxes: Arc<Vec<String>> = Arc::new(accounts.iter().map(|a| a.mail.clone()).collect());
    let tasks: Vec<_> = (0..SESSION_MAKERS)
        .map(|_| {
            let (made, errors, mailboxes) = (made.clone(), errors.clone(), mailboxes.clone());
            let mut http = Http::new(server.addr);
            tokio::spawn(async move {
                for _ in 0..sessions {
                    let n = made.fetch_add(1, Ordering::Relaxed);
                    if n >= sessions || Instant::now() > deadline {
                        break;
                    }
                    let mailbox = &mailboxes[n as usize % mailboxes.len()];
                    if sign_in(&mut http, mailbox).await.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a session maker panicked");
    }
    let seconds = started.elapsed().as_secs_f64();
    let made = made.load(Ordering::Relaxed).min(sessions);
    let errors = errors.load(Ordering::Relaxed);
    let (rss_with_sessions, peak_rss) = procfs::rss(server.pid);
    let mut rss_after_codes_expired = None;
    if settle {
        eprintln!("memory store: waiting {CODES_GONE:?} for the codes to expire");
        tokio::time::sleep(CODES_GONE).await;
        // A write runs the sweep (at most once a minute), which drops the expired codes.
        let mut http = Http::new(server.addr);
        sign_in(&mut http, &mailboxes[0]).await.expect("a sign-in after the wait");
        tokio::time::sleep(Duration::from_secs(2)).await;
        rss_after_codes_expired = Some(procfs::rss(server.pid).0);
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    MemoryStoreRss {
        accounts: accounts.len(),
        sessions: made - errors,
        errors,
        seconds,
        idle_rss,
        rss_with_sessions,
        rss_after_codes_expired,
        peak_rss,
        per_session: rss_after_codes_expired.unwrap_or(rss_with_sessions).saturating_sub(idle_rss) as f64
            / (made - errors).max(1) as f64,
    }
}

/// One fresh browser signing in: the form posted with a matching anti-forgery value; a new session each time.
async fn sign_in(http: &mut Http, mailbox: &str) -> Result<(), String> {
    // The form first: its anti-forgery value is bound to the cookie it sets (a made-up pair is refused).
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", "portal"),
            ("redirect_uri", "http://127.0.0.1:8081/callback"),
            ("response_type", "code"),
            ("scope", "openid profile email"),
            ("state", "s"),
        ])
        .finish();
    let form = http.get(&format!("/authorize?{query}"), &[]).await?;
    let csrf =
        crate::ops::cookie(&form, crate::ops::CSRF_COOKIE).ok_or("the sign-in form set no anti-forgery cookie")?;
    let page = std::str::from_utf8(&form.body).map_err(|e| e.to_string())?;
    let mut fields = crate::ops::hidden_fields(page);
    fields.push(("username".into(), mailbox.into()));
    fields.push(("password".into(), PASSWORD.into()));
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    let cookie = format!("{}={csrf}", crate::ops::CSRF_COOKIE);
    let reply = http.post_form("/login", &[(COOKIE, &cookie)], body).await?;
    if reply.status.is_redirection() { Ok(()) } else { Err(format!("{} {}", reply.status, reply.text())) }
}
