//! Dormant mailboxes: the city withdraws a mailbox not used for six months and re-opens it only when the
//! unit's chief of office (Chánh Văn phòng) asks.
//!
//! Pure: whether an account is dormant depends only on the time now, its last recorded sign-in and the
//! configuration. The login flow asks only after the password proved right, so the answer never tells a
//! stranger anything about an account.

use crate::calendar::Day;

const DAY_SECS: u64 = 86_400;

/// `[policy] dormant_after_days` and `dormant_never_seen_since`, checked and ready.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dormancy {
    /// Dormant after this many days without a sign-in; `None` turns the policy off.
    pub after_days: Option<u64>,
    /// When danang-sso began recording sign-ins (or the policy took effect): an account with no record at
    /// all has not signed in since then. `None`: accounts never seen are never dormant.
    pub never_seen_since: Option<Day>,
}

impl Dormancy {
    /// The policy from config values; `0` days means off, like an absent key.
    pub fn new(after_days: Option<u64>, never_seen_since: Option<Day>) -> Dormancy {
        Dormancy { after_days: after_days.filter(|d| *d > 0), never_seen_since }
    }

    /// Whether sign-in must be refused at `now` for an account whose last sign-in was `last`.
    ///
    /// An account last seen more than `after_days` ago is dormant. An account never seen is dormant only when
    /// `never_seen_since` is set and lies more than `after_days` in the past: before that, its owner may simply
    /// not have needed to sign in since recording began, and refusing would lock out people who never had a
    /// chance to count as active.
    pub fn is_dormant(&self, now: u64, last: Option<u64>) -> bool {
        let Some(days) = self.after_days else { return false };
        let seen = match (last, self.never_seen_since) {
            (Some(at), _) => at,
            (None, Some(since)) => since.start_unix(),
            (None, None) => return false,
        };
        now.saturating_sub(seen) > days * DAY_SECS
    }
}

/// Whole days from `at` to `now` (0 when `at` is in the future).
pub fn days_between(at: u64, now: u64) -> u64 {
    now.saturating_sub(at) / DAY_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn off_by_default_and_with_zero_days() {
        for policy in [Dormancy::default(), Dormancy::new(Some(0), Day::parse("2020-01-01"))] {
            assert!(!policy.is_dormant(NOW, Some(0)));
            assert!(!policy.is_dormant(NOW, None));
        }
    }

    #[test]
    fn an_account_last_seen_too_long_ago_is_dormant() {
        let policy = Dormancy::new(Some(180), None);
        assert!(!policy.is_dormant(NOW, Some(NOW)));
        assert!(!policy.is_dormant(NOW, Some(NOW - 180 * DAY_SECS)), "exactly 180 days is not yet dormant");
        assert!(policy.is_dormant(NOW, Some(NOW - 180 * DAY_SECS - 1)));
        assert!(policy.is_dormant(NOW, Some(NOW - 181 * DAY_SECS)));
        assert!(!policy.is_dormant(NOW, Some(NOW + 10)), "a clock skewed between instances is not dormancy");
    }

    #[test]
    fn never_seen_counts_only_from_a_stated_date_older_than_the_period() {
        assert!(!Dormancy::new(Some(180), None).is_dormant(NOW, None), "never seen, no date: not dormant");
        let today = Day::of_unix(NOW);
        let recent = Dormancy::new(Some(180), Some(Day(today.0 - 100)));
        assert!(!recent.is_dormant(NOW, None), "recording began 100 days ago: too early to tell");
        let old = Dormancy::new(Some(180), Some(Day(today.0 - 200)));
        assert!(old.is_dormant(NOW, None));
        assert!(!old.is_dormant(NOW, Some(NOW - DAY_SECS)), "a recorded sign-in wins over the date");
    }

    #[test]
    fn days_are_whole_and_never_negative() {
        assert_eq!(days_between(NOW - 181 * DAY_SECS - 5, NOW), 181);
        assert_eq!(days_between(NOW + 5, NOW), 0);
    }
}
