//! Bridging a directory outage (`[directory] outage_grace_secs`): a person already signed in keeps their SSO
//! session and refresh tokens while the mail directory cannot be reached, for a while.
//!
//! Every good answer the directory gives about an account is remembered in the store (one record per account,
//! replaced each time, so O(1) whatever the account's history). While the directory is *unreachable* — never when
//! it answers that an account is locked, disabled or gone — a re-check uses that record if it is younger than the
//! grace. Password sign-ins never do: they need the directory to check the password. Once the directory answers
//! again, the next re-check asks it, as always.

use super::Provider;
use crate::audit::{Event, RequestContext};
use crate::directory::{Refusal, User};
use crate::error::Error;
use crate::store::{DirectoryCheck, StoreError};
use crate::telemetry::Metrics;

/// The grace and where its use is counted.
#[derive(Debug, Clone)]
pub struct OutageGrace {
    /// 0: no grace, an outage is a 503 for everyone.
    pub secs: u64,
    pub metrics: Metrics,
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

    /// Remembers a good directory answer (after a password check or a re-check), when the grace is on.
    pub(crate) async fn remember_directory_check(&self, account: &str, user: &User) -> Result<(), StoreError> {
        if self.outage.secs == 0 {
            return Ok(());
        }
        let check = DirectoryCheck { at: self.clock.now(), user: user.clone() };
        self.store.put_directory_check(account, &check, self.outage.secs).await
    }

    /// The directory said the account is locked, disabled or gone: no grace may bring it back.
    pub(crate) async fn forget_directory_check(&self, account: &str) -> Result<(), StoreError> {
        if self.outage.secs == 0 {
            return Ok(());
        }
        self.store.forget_directory_check(account).await
    }
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn a_check_covers_only_inside_the_grace() {
        assert!(covers(1000, 1000, 3600));
        assert!(covers(1000, 4599, 3600));
        assert!(!covers(1000, 4600, 3600), "an hour later it no longer does");
        assert!(!covers(1000, 1000, 0), "0 turns the grace off");
        assert!(!covers(2000, 1000, 3600), "a check from the future (a clock jump) is not trusted");
    }
}
