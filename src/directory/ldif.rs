//! The embedded directory: accounts read from an LDIF file, answering exactly as OpenLDAP would.
//!
//! It exists so the service runs (demo, tests, a small deployment) without an LDAP server, and so
//! the same `config/demo-directory.ldif` can be loaded into a real slapd (`ldapadd -e relax`) and
//! give the same answers. It mirrors our "openldap" preset: `inetOrgPerson` accounts keyed by `mail`, the
//! stable id in `entryUUID`, `{ARGON2}` passwords, ppolicy's `pwdAccountLockedTime` for locks, and
//! `groupOfNames` groups resolved the way the memberOf overlay resolves them.

pub mod reader;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use async_trait::async_trait;

use super::{Directory, Located, MailboxKind, Refusal, Unavailable, User};
use reader::Entry;
pub use reader::LdifError;

/// Checked when the account does not exist (or cannot sign in), so that a refusal costs the same
/// time as a real check and timing does not tell which accounts exist. Same parameters as
/// slappasswd's argon2 default and the demo file (m=4096 KiB, t=3, p=1); hashes stored with other
/// parameters cost a different time, which is acceptable for the embedded directory. Nobody knows
/// its password, and a match against it is never accepted anyway.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=4096,t=3,p=1$ErhfHpr5Krr3COzkMjcsRQ$jXLEKUXRGYBUBYqFrloVTpkbqX6IkZ3hJKvDzgQngzU";

/// The accounts of an LDIF file, indexed by mailbox; cheap to query, immutable once loaded.
pub struct LdifDirectory {
    accounts: Vec<Account>,
    /// Every `mail` value, lower case, to its account's index in `accounts`.
    by_mail: HashMap<String, usize>,
    dummy: Arc<[PasswordHash]>,
}

/// One sign-in-capable entry.
struct Account {
    user: User,
    /// `pwdAccountLockedTime` present.
    locked: bool,
    /// The `{ARGON2}` values of `userPassword`; any one of them verifies (as slapd does).
    hashes: Arc<[PasswordHash]>,
}

impl fmt::Debug for LdifDirectory {
    /// Counts only: the entries hold password hashes, which do not belong in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdifDirectory").field("accounts", &self.accounts.len()).finish_non_exhaustive()
    }
}

impl LdifDirectory {
    /// Loads the directory from LDIF text (the embedded default, tests).
    pub fn parse(text: &str) -> Result<Self, LdifError> {
        Self::parse_bytes(text.as_bytes())
    }

    /// Loads the directory from LDIF bytes; unlike `&str`, these may fold a line inside a UTF-8 character.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, LdifError> {
        Self::from_entries(reader::parse(bytes)?)
    }

    /// Loads the directory from `[directory] ldif_path`; errors name the file and line.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, LdifError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| LdifError::Read { path: path.to_owned(), source })?;
        Self::parse_bytes(&bytes).map_err(|error| error.in_file(path.to_owned()))
    }

    /// Turns entries into accounts: skips what a login could never use, refuses what is ambiguous.
    fn from_entries(entries: Vec<Entry>) -> Result<Self, LdifError> {
        let mut seen_dns = HashSet::new();
        for entry in &entries {
            if !seen_dns.insert(normalize_dn(&entry.dn)) {
                return Err(LdifError::at(entry.line, format!("duplicate entry `{}`", entry.dn)));
            }
        }
        let groups_of = group_memberships(&entries);

        let mut accounts = Vec::new();
        let mut by_mail = HashMap::new();
        let mut seen_ids = HashSet::new();
        for entry in entries.iter().filter(|entry| has_object_class(entry, "inetOrgPerson")) {
            let Some(account) = account(entry, &groups_of) else {
                continue;
            };
            if !seen_ids.insert(account.user.id.clone()) {
                return Err(LdifError::at(entry.line, format!("duplicate entryUUID {}", account.user.id)));
            }
            for mail in entry.texts("mail").map(str::trim).filter(|mail| !mail.is_empty()) {
                if by_mail.insert(mail.to_lowercase(), accounts.len()).is_some() {
                    return Err(LdifError::at(entry.line, format!("mail {mail} belongs to two entries")));
                }
            }
            accounts.push(account);
        }
        let dummy = PasswordHash::new(DUMMY_HASH).expect("DUMMY_HASH is a valid PHC string");
        Ok(LdifDirectory { accounts, by_mail, dummy: Arc::from([dummy]) })
    }

    fn find(&self, mail: &str) -> Option<&Account> {
        let index = self.by_mail.get(&mail.trim().to_lowercase())?;
        self.accounts.get(*index)
    }
}

/// The account an `inetOrgPerson` entry describes, or `None` (with a warning) if it cannot be one.
fn account(entry: &Entry, groups_of: &HashMap<String, Vec<String>>) -> Option<Account> {
    let dn = entry.dn.as_str();
    let Some(mail) = entry.first("mail").map(str::to_lowercase) else {
        tracing::warn!(dn, line = entry.line, "LDIF entry skipped: a person without `mail` cannot sign in");
        return None;
    };
    let Some(id) = entry.first("entryUUID").filter(|id| is_uuid(id)).map(str::to_ascii_lowercase) else {
        tracing::warn!(dn, line = entry.line, "LDIF entry skipped: no valid `entryUUID`, so no stable id (OIDC `sub`)");
        return None;
    };

    let mut hashes = Vec::new();
    let mut unusable = 0;
    for (attribute, value) in &entry.attributes {
        if attribute != "userpassword" {
            continue;
        }
        match value {
            reader::Value::Text(text) => match argon2_hash(text) {
                Some(hash) => hashes.push(hash),
                None => unusable += 1,
            },
            reader::Value::Binary(_) => unusable += 1,
        }
    }
    if unusable > 0 {
        // The DN only: the value may be a plain-text password.
        tracing::warn!(dn, unusable, "userPassword values not in {{ARGON2}} PHC form will never verify");
    }

    let mut groups = groups_of.get(&normalize_dn(dn)).cloned().unwrap_or_default();
    groups.sort();
    groups.dedup();
    let is_unit = entry.texts("employeeType").any(|kind| kind.trim().eq_ignore_ascii_case("unit"));
    let name = entry.first("displayName").or_else(|| entry.first("cn")).unwrap_or(&mail).to_owned();
    let user = User {
        id,
        name,
        given_name: entry.first("givenName").map(str::to_owned),
        family_name: entry.first("sn").map(str::to_owned),
        groups,
        unit: entry.first("ou").map(str::to_owned),
        kind: if is_unit { MailboxKind::Unit } else { MailboxKind::Personal },
        mail,
    };
    // Any value means locked. OpenLDAP (ppolicy, pwdLockout TRUE) reads `000001010000Z` as locked
    // for good and a timestamp as locked until pwdLockoutDuration has passed since it; we do not
    // model that duration, so for us every lock is permanent until the attribute is removed.
    let locked = entry.has("pwdAccountLockedTime");
    Some(Account { user, locked, hashes: hashes.into() })
}

/// Member DN (normalised) → cns of the `groupOfNames` listing it: what memberOf would report.
fn group_memberships(entries: &[Entry]) -> HashMap<String, Vec<String>> {
    let mut groups_of: HashMap<String, Vec<String>> = HashMap::new();
    for group in entries.iter().filter(|entry| has_object_class(entry, "groupOfNames")) {
        let Some(cn) = group.first("cn") else {
            tracing::warn!(dn = group.dn, line = group.line, "LDIF group without `cn` ignored");
            continue;
        };
        for member in group.texts("member") {
            groups_of.entry(normalize_dn(member)).or_default().push(cn.to_owned());
        }
    }
    groups_of
}

fn has_object_class(entry: &Entry, class: &str) -> bool {
    entry.texts("objectClass").any(|value| value.trim().eq_ignore_ascii_case(class))
}

/// A `userPassword` value slapd's argon2 module would check: `{ARGON2}` (any case) and a PHC string
/// for argon2i, argon2d or argon2id (slappasswd writes argon2i; we write argon2id).
fn argon2_hash(value: &str) -> Option<PasswordHash> {
    let scheme = value.get(..8)?;
    if !scheme.eq_ignore_ascii_case("{ARGON2}") {
        return None;
    }
    let hash = PasswordHash::new(value.get(8..)?).ok()?;
    matches!(hash.algorithm.as_str(), "argon2i" | "argon2d" | "argon2id").then_some(hash)
}

/// The textual form of entryUUID (RFC 4530): 8-4-4-4-12 hex digits.
fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A DN for comparison: lower case, no spaces around `,` `+` `=` (escaped spaces kept), as
/// `cn=A, ou=B` and `CN=a,OU=b` name the same entry.
fn normalize_dn(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    let mut escaped = false;
    let mut skip_spaces = true;
    for c in dn.trim().chars().flat_map(char::to_lowercase) {
        if escaped {
            escaped = false;
            out.push(c);
            skip_spaces = false;
        } else if c == '\\' {
            escaped = true;
            out.push(c);
        } else if matches!(c, ',' | '+' | '=') {
            while out.ends_with(' ') && !out.ends_with("\\ ") {
                out.pop();
            }
            out.push(c);
            skip_spaces = true;
        } else if c != ' ' || !skip_spaces {
            out.push(c);
            skip_spaces = false;
        }
    }
    out
}

/// What [`Directory::locate`] found: the account's place in the file, `None` for an unknown mailbox.
struct Found(Option<usize>);

/// Checks `password` against `hashes`; CPU-heavy, so run on the blocking pool.
fn verify(password: &[u8], hashes: &[PasswordHash]) -> bool {
    let argon2 = Argon2::default();
    let mut matched = false;
    // Every value is tried (no short cut), so the time does not say which one matched.
    for hash in hashes {
        matched |= argon2.verify_password(password, hash).is_ok();
    }
    matched
}

#[async_trait]
impl Directory for LdifDirectory {
    async fn authenticate(&self, mail: &str, password: &str) -> Result<Result<User, Refusal>, Unavailable> {
        let located = self.locate(mail).await?;
        self.check(located, password).await
    }

    /// The account of a mailbox (any of its `mail` values), by its place in the file.
    async fn locate(&self, mail: &str) -> Result<Located, Unavailable> {
        let index = self.by_mail.get(&mail.trim().to_lowercase()).copied();
        let canonical = index
            .and_then(|index| self.accounts.get(index))
            .filter(|account| !account.locked)
            .map(|account| account.user.mail.clone());
        Ok(Located::new(canonical, Found(index)))
    }

    /// Every check costs one Argon2 verification: an unknown or locked mailbox is checked against a dummy hash.
    async fn check(&self, located: Located, password: &str) -> Result<Result<User, Refusal>, Unavailable> {
        if password.is_empty() {
            return Ok(Err(Refusal::WrongPassword));
        }
        let Some(Found(index)) = located.found::<Found>() else {
            return Err(Unavailable("a located account from another directory".into()));
        };
        let account = index.and_then(|index| self.accounts.get(index));
        let real = account.filter(|account| !account.locked && !account.hashes.is_empty());
        let hashes = real.map_or_else(|| self.dummy.clone(), |account| account.hashes.clone());
        let password = password.to_owned();
        let matched = tokio::task::spawn_blocking(move || verify(password.as_bytes(), &hashes))
            .await
            .map_err(|error| Unavailable(format!("password check did not finish: {error}")))?;
        Ok(match (account, real) {
            (None, _) => Err(Refusal::UnknownAccount),
            (Some(account), _) if account.locked => Err(Refusal::Disabled),
            (Some(account), Some(_)) if matched => Ok(account.user.clone()),
            (Some(_), _) => Err(Refusal::WrongPassword),
        })
    }

    async fn lookup(&self, mail: &str) -> Result<Result<User, Refusal>, Unavailable> {
        Ok(match self.find(mail) {
            None => Err(Refusal::UnknownAccount),
            Some(account) if account.locked => Err(Refusal::Disabled),
            Some(account) => Ok(account.user.clone()),
        })
    }

    /// Accounts that can sign in now, in file order; locked ones are left out, as `lookup` refuses them.
    async fn list(&self) -> Result<Vec<User>, Unavailable> {
        Ok(self.accounts.iter().filter(|account| !account.locked).map(|account| account.user.clone()).collect())
    }

    /// The file was read at start; there is nothing that can go away.
    async fn ping(&self) -> Result<(), Unavailable> {
        Ok(())
    }
}
