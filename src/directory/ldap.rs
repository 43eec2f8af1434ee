//! The city's real mail directory over LDAP (OpenLDAP, Zimbra, Active Directory, 389-DS), giving the
//! same answers as the embedded [`LdifDirectory`](super::ldif::LdifDirectory).
//!
//! Sign-in is search-then-bind. The account is found by the service account on a pooled *search*
//! connection, and its status (lock, disabled bit) read from that entry: a disabled account is
//! refused without a bind, an unknown one too. Only then is the password checked, by a bind as the
//! entry's DN on a *bind* connection: a second pool whose connections never search and never go
//! back to the search pool. Each user bind replaces the previous identity on that connection, so no
//! user's identity can leak into a search, and once both pools are warm a login opens no TCP or TLS
//! connection at all (two round trips on open connections). An unknown or disabled mailbox gets a decoy bind and
//! the time a real bind takes (`decoy`), so the clock does not tell which mailboxes exist. A sign-in runs the two
//! halves apart (`locate`, the search; `check`, the bind) so the throttle can count the account found between them.

mod connect;
mod decoy;
mod entry;
mod pool;
mod schema;
#[cfg(test)]
mod tests;
mod units;

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapResult, Scope, SearchOptions, SearchResult};

use super::{Directory, Located, Refusal, Unavailable, User};
use crate::clock::Clock;
use crate::config::LdapConfig;
pub use connect::ServerStats;
use connect::{Credentials, Servers};
use decoy::BindTimes;
use entry::{Account, RawEntry};
use pool::Pool;
use schema::Schema;

/// The account search this adapter makes — its filter and attributes for a config — for tools that must ask the
/// directory exactly what the service asks (the benchmark's LDAP floor).
pub struct AccountSearch(Schema);

impl AccountSearch {
    pub fn new(config: &LdapConfig) -> AccountSearch {
        AccountSearch(Schema::new(config))
    }

    /// The search filter for a mailbox (RFC 4515-escaped).
    pub fn filter(&self, mail: &str) -> String {
        self.0.user_filter(mail)
    }

    /// The attributes requested with it.
    pub fn attributes(&self) -> Vec<String> {
        self.0.attributes()
    }
}

/// Entries per page when listing every account (Simple Paged Results, RFC 2696).
const PAGE_SIZE: i32 = 500;

/// Active Directory's sub-codes of result 49 (`data 533` in the diagnostic text) that mean the
/// password may be right but the account cannot sign in: not permitted now or here, password
/// expired, disabled, account expired, must reset the password, locked out.
const AD_BLOCKED: [&str; 7] = ["data 530", "data 531", "data 532", "data 533", "data 701", "data 773", "data 775"];

/// A directory on one or more LDAP servers; see the module documentation for how sign-in works.
pub struct LdapDirectory {
    schema: Schema,
    /// What an account search asks for.
    attributes: Vec<String>,
    base_dn: String,
    servers: Servers,
    /// Service-account connections: every search.
    search: Pool,
    /// Connections only for users' binds.
    binds: Pool,
    /// Limit of each connect and each operation (`timeout_ms`).
    timeout: Duration,
    /// How long real password binds take now, and the DN of the decoy bind (see `decoy`).
    bind_times: BindTimes,
    decoy_dn: String,
    /// `[ldap] unit_filter`: what marks a unit's mailbox, when the directory has its own way (see `units`).
    unit_filter: Option<String>,
}

/// Why the directory could not be set up from `[ldap]` (a file, a filter, the TLS roots).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(String);

impl fmt::Debug for LdapDirectory {
    /// Servers only: the service account's password stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapDirectory").field("servers", &self.servers.stats()).finish_non_exhaustive()
    }
}

/// One operation, run on a pooled connection by [`LdapDirectory::call`].
enum Op<'a> {
    Search {
        base: &'a str,
        scope: Scope,
        filter: &'a str,
        attributes: &'a [String],
        size_limit: i32,
    },
    /// A paged subtree search (every account).
    List {
        base: &'a str,
        filter: &'a str,
        attributes: &'a [String],
    },
    Bind {
        dn: &'a str,
        password: &'a str,
    },
}

/// What [`Directory::locate`] found: the entry, or `None` for an unknown mailbox (decoy bind at the check).
struct Found(Option<Account>);

/// What the server answered.
struct Reply {
    entries: Vec<RawEntry>,
    result: LdapResult,
}

impl LdapDirectory {
    /// Prepares the directory: reads `bind_password_file` and `ca_file`, checks the filters. Connects lazily,
    /// so the service starts (and answers 503) while no server is up, and recovers without a restart.
    pub fn new(config: &LdapConfig, clock: Clock) -> Result<LdapDirectory, SetupError> {
        let schema = Schema::new(config);
        let unit_filter = config.unit_filter.iter().map(|f| ("ldap.unit_filter", f.clone()));
        for (key, filter) in schema.sample_filters().into_iter().chain(unit_filter) {
            if ldap3::parse_filter(&filter).is_err() {
                return Err(SetupError(format!("{key}: not a valid LDAP filter: {filter}")));
            }
        }
        let login = match &config.bind_dn {
            Some(dn) => Some(Credentials { dn: dn.clone(), password: service_password(config)? }),
            None => None,
        };
        let uses_tls = config.starttls || config.urls.iter().any(|url| url.to_ascii_lowercase().starts_with("ldaps:"));
        let tls =
            if uses_tls { Some(connect::tls_config(config.ca_file.as_deref()).map_err(SetupError)?) } else { None };
        if !uses_tls {
            if config.ca_file.is_some() {
                tracing::warn!("ldap.ca_file is set but no URL uses TLS (ldaps:// or starttls = true)");
            }
            tracing::warn!("LDAP without TLS: passwords cross the network in clear text");
        }
        let timeout = Duration::from_millis(config.timeout_ms.max(1));
        let servers = Servers::new(&config.urls, tls, config.starttls, timeout, clock, config.retry_after_secs);
        Ok(LdapDirectory {
            attributes: schema.attributes(),
            schema,
            base_dn: config.base_dn.clone(),
            servers,
            search: Pool::new("search", config.pool_size, login),
            binds: Pool::new("bind", config.pool_size, None),
            timeout,
            bind_times: BindTimes::default(),
            decoy_dn: decoy::decoy_dn(&config.base_dn),
            unit_filter: config.unit_filter.clone(),
        })
    }

    /// Per-server connection counters and state, in failover order (for operators and tests).
    pub fn servers(&self) -> Vec<ServerStats> {
        self.servers.stats()
    }

    /// Runs `op` on a connection from `pool`. A connection that fails is closed; if it was a reused
    /// one (perhaps closed by a server restart) the operation is tried once more on a new connection,
    /// and a new connection that fails marks its server down, so the retry goes to the next server.
    async fn call(&self, pool: &Pool, op: Op<'_>) -> Result<Reply, Unavailable> {
        let mut error = String::new();
        for _ in 0..2 {
            let mut lease = pool.get(&self.servers, self.timeout).await?;
            let outcome = match op {
                // Long: bounded per answer (each page, each entry) rather than as a whole.
                Op::List { .. } => run(lease.ldap(), &op, self.timeout).await,
                _ => tokio::time::timeout(self.timeout, run(lease.ldap(), &op, self.timeout))
                    .await
                    .unwrap_or_else(|_| Err(format!("no answer within {:?}", self.timeout))),
            };
            match outcome {
                Ok(reply) => {
                    lease.release();
                    return Ok(reply);
                }
                Err(failure) if lease.reused => {
                    tracing::debug!(error = failure, "a pooled LDAP connection failed; trying a new one");
                    error = failure;
                }
                Err(failure) => {
                    self.servers.mark_down(lease.server(), &failure);
                    error = failure;
                }
            }
        }
        Err(Unavailable(error))
    }

    /// The one account whose mailbox is `mail`, with its groups; `None` when there is none, or more than one.
    async fn find(&self, mail: &str) -> Result<Option<Account>, Unavailable> {
        let mail = super::nfc(mail.trim()).to_lowercase();
        let filter = self.schema.user_filter(&mail);
        let (base, attributes) = (self.base_dn.as_str(), self.attributes.as_slice());
        let op = Op::Search { base, scope: Scope::Subtree, filter: &filter, attributes, size_limit: 2 };
        let reply = self.call(&self.search, op).await?;
        // 4: sizeLimitExceeded, more entries than the two asked for.
        if !matches!(reply.result.rc, 0 | 4) {
            return Err(failed("account search", &reply.result));
        }
        let [entry] = reply.entries.as_slice() else {
            if !reply.entries.is_empty() {
                tracing::warn!(filter, "a mailbox matches several directory entries: refused");
            }
            return Ok(None);
        };
        let Some(mut account) = entry::account(entry, &self.schema) else { return Ok(None) };
        if !account.disabled {
            self.add_groups(&mut account).await?;
            self.mark_unit(&mut account).await?;
        }
        Ok(Some(account))
    }

    /// Fills in the groups of an account when they come from a group search (Active Directory's
    /// nested groups, `group_filter`); a `memberOf`-style attribute was read with the entry.
    async fn add_groups(&self, account: &mut Account) -> Result<(), Unavailable> {
        let (Some(filter), schema::Groups::Search { name, .. }) =
            (self.schema.group_filter(&account.dn, &account.user.mail), &self.schema.groups)
        else {
            return Ok(());
        };
        let attributes = [name.clone()];
        let op = Op::Search {
            base: &self.base_dn,
            scope: Scope::Subtree,
            filter: &filter,
            attributes: &attributes,
            size_limit: 0,
        };
        let reply = self.call(&self.search, op).await?;
        if reply.result.rc != 0 {
            return Err(failed("group search", &reply.result));
        }
        let mut groups: Vec<String> = reply.entries.iter().filter_map(|group| group.first(name)).collect();
        groups.sort();
        groups.dedup();
        account.user.groups = groups;
        Ok(())
    }
}

#[async_trait]
impl Directory for LdapDirectory {
    async fn authenticate(&self, mail: &str, password: &str) -> Result<Result<User, Refusal>, Unavailable> {
        // An empty simple bind is an anonymous bind, which "succeeds": never send one.
        if password.is_empty() {
            return Ok(Err(Refusal::WrongPassword));
        }
        let located = self.locate(mail).await?;
        self.check(located, password).await
    }

    /// The account search of a sign-in, on its own: the entry found (with its DN, status and groups) waits in the
    /// [`Located`] for the bind, so the two halves cost the search and the bind `authenticate` costs.
    async fn locate(&self, mail: &str) -> Result<Located, Unavailable> {
        let account = self.find(mail).await?;
        let canonical = account.as_ref().filter(|account| !account.disabled).map(|account| account.user.mail.clone());
        Ok(Located::new(canonical, Found(account)))
    }

    async fn check(&self, located: Located, password: &str) -> Result<Result<User, Refusal>, Unavailable> {
        if password.is_empty() {
            return Ok(Err(Refusal::WrongPassword));
        }
        let Some(Found(found)) = located.found::<Found>() else {
            return Err(Unavailable("a located account from another directory".into()));
        };
        let account = match found {
            Some(account) if !account.disabled => account,
            // As the embedded directory: a locked account is refused whatever the password, without its own bind;
            // like an unknown one, it takes a decoy bind's time all the same.
            other => {
                let refusal = if other.is_some() { Refusal::Disabled } else { Refusal::UnknownAccount };
                let started = Instant::now();
                self.call(&self.binds, Op::Bind { dn: &self.decoy_dn, password }).await?;
                self.bind_times.pad(started).await;
                return Ok(Err(refusal));
            }
        };
        let started = Instant::now();
        let reply = self.call(&self.binds, Op::Bind { dn: &account.dn, password }).await?;
        self.bind_times.record(started.elapsed());
        let result = &reply.result;
        Ok(match result.rc {
            0 => Ok(account.user),
            49 if AD_BLOCKED.iter().any(|code| result.text.contains(code)) => Err(Refusal::Disabled),
            49 => Err(Refusal::WrongPassword),
            // unwillingToPerform: 389-DS's answer for an inactivated account, AD's for some states.
            53 => Err(Refusal::Disabled),
            _ => return Err(failed("bind", result)),
        })
    }

    async fn lookup(&self, mail: &str) -> Result<Result<User, Refusal>, Unavailable> {
        Ok(match self.find(mail).await? {
            None => Err(Refusal::UnknownAccount),
            Some(account) if account.disabled => Err(Refusal::Disabled),
            Some(account) => Ok(account.user),
        })
    }

    /// Accounts that can sign in now; disabled ones are left out, as `lookup` refuses them. Paged,
    /// so a server's size limit per page does not cut the list; a limit on the whole search does
    /// (logged). With a group search, one more search per account.
    async fn list(&self) -> Result<Vec<User>, Unavailable> {
        let filter = self.schema.all_users_filter();
        let op = Op::List { base: &self.base_dn, filter: &filter, attributes: &self.attributes };
        let reply = self.call(&self.search, op).await?;
        match reply.result.rc {
            0 => {}
            4 => tracing::warn!(listed = reply.entries.len(), "the directory's size limit cut the account list"),
            _ => return Err(failed("account list", &reply.result)),
        }
        let units = self.unit_dns().await?;
        let mut users = Vec::new();
        for entry in &reply.entries {
            let Some(mut account) = entry::account(entry, &self.schema).filter(|account| !account.disabled) else {
                continue;
            };
            self.add_groups(&mut account).await?;
            units::apply(units.as_ref(), &account.dn, &mut account.user);
            users.push(account.user);
        }
        Ok(users)
    }

    /// A base search of `base_dn` as the service account on a pooled connection: the server answers,
    /// the account binds, the base exists.
    async fn ping(&self) -> Result<(), Unavailable> {
        let none = ["1.1".to_owned()];
        let op = Op::Search {
            base: &self.base_dn,
            scope: Scope::Base,
            filter: "(objectClass=*)",
            attributes: &none,
            size_limit: 0,
        };
        let reply = self.call(&self.search, op).await?;
        if reply.result.rc != 0 {
            return Err(failed("ping", &reply.result));
        }
        Ok(())
    }
}

/// Runs one operation; `Err` means the connection or the server failed (and the connection must go).
async fn run(ldap: &mut Ldap, op: &Op<'_>, timeout: Duration) -> Result<Reply, String> {
    let reply = match *op {
        Op::Search { base, scope, filter, attributes, size_limit } => {
            let SearchResult(entries, result) = ldap
                .with_search_options(SearchOptions::new().sizelimit(size_limit))
                .search(base, scope, filter, attributes)
                .await
                .map_err(|e| e.to_string())?;
            Reply { entries: entries.into_iter().filter_map(RawEntry::parse).collect(), result }
        }
        Op::List { base, filter, attributes } => {
            let adapters: Vec<Box<dyn Adapter<'_, String, Vec<String>>>> =
                vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(PAGE_SIZE))];
            let mut stream = ldap
                .with_timeout(timeout)
                .streaming_search_with(adapters, base, Scope::Subtree, filter, attributes.to_vec())
                .await
                .map_err(|e| e.to_string())?;
            let mut entries = Vec::new();
            while let Some(entry) = stream.next().await.map_err(|e| e.to_string())? {
                entries.extend(RawEntry::parse(entry));
            }
            Reply { entries, result: stream.finish().await }
        }
        Op::Bind { dn, password } => {
            let result = ldap.simple_bind(dn, password).await.map_err(|e| e.to_string())?;
            Reply { entries: Vec::new(), result }
        }
    };
    server_trouble(&reply.result)?;
    Ok(reply)
}

/// busy (51) and unavailable (52) say the server cannot serve now: fail over like a dead connection.
fn server_trouble(result: &LdapResult) -> Result<(), String> {
    match result.rc {
        51 | 52 => Err(format!("server busy or unavailable (result {}: {})", result.rc, result.text)),
        _ => Ok(()),
    }
}

fn failed(what: &str, result: &LdapResult) -> Unavailable {
    Unavailable(format!("{what} failed (result {}: {})", result.rc, result.text))
}

/// The service account's password: `bind_password`, or `bind_password_file` read once, without the trailing newline.
fn service_password(config: &LdapConfig) -> Result<String, SetupError> {
    match (&config.bind_password, &config.bind_password_file) {
        (Some(password), _) => Ok(password.clone()),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|text| text.trim_end_matches(['\r', '\n']).to_owned())
            .map_err(|e| SetupError(format!("ldap.bind_password_file {}: {e}", path.display()))),
        (None, None) => Err(SetupError("ldap.bind_dn is set without bind_password or bind_password_file".into())),
    }
}
