//! Bridging a directory outage (`[directory] outage_grace_secs`): a person already signed in keeps their SSO
//! session and refresh tokens while the mail directory cannot be reached, for a while.
//!
//! Every good answer the directory gives about an account is remembered in the store (one record per account,
//! replaced each time, so O(1) whatever the account's history). While the directory is *unreachable* — never when
//! it answers that an account is locked, disabled or gone — a re-check uses that record if it is younger than the
//! grace. Password sign-ins never do: they need the directory to check the password. Once the directory answers
//! again, the next re-check asks it, as always.
//!
//! An instance does not write the same answer again within a twentieth of the grace (at most five minutes) of
//! writing it: the record may be that much older than the last good answer, and SSO reuse and refresh save a
//! store write each. A changed answer is written at once; a refusal forgets it at once.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use super::Provider;
use crate::audit::{Event, RequestContext};
use crate::directory::{MailboxKind, Refusal, User};
use crate::error::Error;
use crate::store::{DirectoryCheck, StoreError};
use crate::telemetry::Metrics;

/// The grace and where its use is counted.
#[derive(Debug, Clone)]
pub struct OutageGrace {
    /// 0: no grace, an outage is a 503 for everyone.
    pub secs: u64,
    pub metrics: Metrics,
    /// What this instance last wrote, so an unchanged answer is not written again at every request.
    written: Arc<Mutex<Written>>,
}

impl OutageGrace {
    pub fn new(secs: u64, metrics: Metrics) -> OutageGrace {
        OutageGrace { secs, metrics, written: Arc::default() }
    }

    /// How long an unchanged answer's record stands before it is written again: a twentieth of the grace, at
    /// most five minutes. The grace a record gives is thereby at most that much shorter than the grace.
    pub fn rewrite_after(&self) -> u64 {
        (self.secs / 20).clamp(1, 300)
    }

    /// Whether `user`, answered at `now`, must be written: not when this instance wrote the same answer less
    /// than [`OutageGrace::rewrite_after`] ago. Forgets what is older than that (so it holds only the accounts
    /// active lately) at most once per that period.
    fn should_write(&self, account: &str, user: &User, now: u64) -> bool {
        let every = self.rewrite_after();
        let print = fingerprint(user);
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if now.saturating_sub(written.swept_at) >= every {
            written.by_account.retain(|_, (at, _)| now.saturating_sub(*at) < every);
            written.swept_at = now;
        }
        !matches!(written.by_account.get(account), Some(&(at, p)) if p == print && now.saturating_sub(at) < every)
    }

    fn wrote(&self, account: &str, user: &User, now: u64) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        written.by_account.insert(account.to_owned(), (now, fingerprint(user)));
    }

    fn forgot(&self, account: &str) {
        self.written.lock().unwrap_or_else(|e| e.into_inner()).by_account.remove(account);
    }
}

/// Per account: when this instance last wrote its record, and the fingerprint of the answer written.
#[derive(Debug, Default)]
struct Written {
    by_account: HashMap<String, (u64, u64)>,
    swept_at: u64,
}

/// A fingerprint of everything the record keeps of an answer (in-process only, never stored).
fn fingerprint(user: &User) -> u64 {
    let mut h = DefaultHasher::new();
    (&user.id, &user.mail, &user.name, &user.given_name, &user.family_name, &user.groups, &user.unit).hash(&mut h);
    (user.kind == MailboxKind::Unit).hash(&mut h);
    h.finish()
}

/// Whether a good directory answer given at `checked_at` still covers a request at `now` (pure).
pub fn covers(checked_at: u64, now: u64, grace_secs: u64) -> bool {
    grace_secs > 0 && checked_at <= now && now - checked_at < grace_secs
}

impl Provider {
    /// The directory's answer about `account`; while it cannot be reached, its last good answer when that is
    /// younger than the grace (audited as `event`, counted as `kind`: `sso` or `refresh`). Otherwise the outage
    /// is the caller's 503.
    pub(crate) async fn lookup_with_grace(
        &self,
        account: &str,
        kind: &'static str,
        event: Event,
        ctx: &RequestContext,
    ) -> Result<Result<User, Refusal>, Error> {
        let unavailable = match self.directory.lookup(account).await {
            Ok(Ok(user)) => {
                self.remember_directory_check(account, &user).await?;
                return Ok(Ok(user));
            }
            Ok(Err(refusal)) => {
                self.forget_directory_check(account).await?;
                return Ok(Err(refusal));
            }
            Err(unavailable) => unavailable,
        };
        let check = match self.outage.secs {
            0 => None,
            _ => self.store.directory_check(account).await?,
        };
        match check {
            Some(check) if covers(check.at, self.clock.now(), self.outage.secs) => {
                tracing::warn!(error = %unavailable, kind, "directory unreachable; served on the outage grace");
                self.audit.record(ctx, Event { event: "directory_outage_grace", ..event }.account(account));
                self.outage.metrics.directory_outage_grace(kind);
                Ok(Ok(check.user))
            }
            _ => Err(unavailable.into()),
        }
    }

    /// Remembers a good directory answer (after a password check or a re-check), when the grace is on; an answer
    /// this instance wrote unchanged lately is not written again (see [`OutageGrace::rewrite_after`]): one store
    /// write less on nearly every SSO reuse and refresh.
    pub(crate) async fn remember_directory_check(&self, account: &str, user: &User) -> Result<(), StoreError> {
        let now = self.clock.now();
        if self.outage.secs == 0 || !self.outage.should_write(account, user, now) {
            return Ok(());
        }
        let check = DirectoryCheck { at: now, user: user.clone() };
        self.store.put_directory_check(account, &check, self.outage.secs).await?;
        self.outage.wrote(account, user, now);
        Ok(())
    }

    /// The directory said the account is locked, disabled or gone: no grace may bring it back.
    pub(crate) async fn forget_directory_check(&self, account: &str) -> Result<(), StoreError> {
        if self.outage.secs == 0 {
            return Ok(());
        }
        self.outage.forgot(account);
        self.store.forget_directory_check(account).await
    }
}

#[cfg(test)]
mod tests {
    use super::{OutageGrace, covers};
    use crate::directory::{MailboxKind, User};
    use crate::telemetry::Metrics;

    fn user(groups: &[&str]) -> User {
        User {
            id: "id-1".into(),
            mail: "dungnv@danang.gov.vn".into(),
            name: "Nguyễn Văn Dũng".into(),
            given_name: None,
            family_name: None,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            unit: None,
            kind: MailboxKind::Personal,
        }
    }

    #[test]
    fn an_unchanged_answer_is_written_again_only_after_a_twentieth_of_the_grace() {
        let grace = OutageGrace::new(3600, Metrics::new());
        assert_eq!(grace.rewrite_after(), 180);
        let (mail, u) = ("dungnv@danang.gov.vn", user(&["can-bo"]));
        assert!(grace.should_write(mail, &u, 1000), "never written: write");
        grace.wrote(mail, &u, 1000);
        assert!(!grace.should_write(mail, &u, 1000));
        assert!(!grace.should_write(mail, &u, 1179), "unchanged, 179 s later: not again");
        assert!(grace.should_write(mail, &user(&["can-bo", "lanh-dao"]), 1001), "a changed answer: at once");
        assert!(grace.should_write(mail, &u, 1180), "180 s later: again");
        assert!(grace.should_write("haltt@danang.gov.vn", &u, 1001), "another account: its own record");
        grace.forgot(mail);
        assert!(grace.should_write(mail, &u, 1001), "forgotten (a refusal): the next answer is written");
    }

    #[test]
    fn what_was_written_is_forgotten_once_it_no_longer_matters() {
        let grace = OutageGrace::new(100, Metrics::new());
        assert_eq!(grace.rewrite_after(), 5);
        let u = user(&[]);
        for i in 0..50 {
            grace.wrote(&format!("a{i}@danang.gov.vn"), &u, 1000);
        }
        assert!(!grace.should_write("a1@danang.gov.vn", &u, 1004));
        assert!(grace.should_write("a1@danang.gov.vn", &u, 1005), "5 s later: again");
        assert_eq!(grace.written.lock().unwrap().by_account.len(), 50, "swept at most once per 5 s (last: 1004)");
        assert!(grace.should_write("a1@danang.gov.vn", &u, 1009));
        assert_eq!(grace.written.lock().unwrap().by_account.len(), 0, "swept: all older than 5 s");
        assert_eq!(OutageGrace::new(86_400, Metrics::new()).rewrite_after(), 300, "at most five minutes");
    }

    #[test]
    fn a_check_covers_only_inside_the_grace() {
        assert!(covers(1000, 1000, 3600));
        assert!(covers(1000, 4599, 3600));
        assert!(!covers(1000, 4600, 3600), "an hour later it no longer does");
        assert!(!covers(1000, 1000, 0), "0 turns the grace off");
        assert!(!covers(2000, 1000, 3600), "a check from the future (a clock jump) is not trusted");
    }
}
