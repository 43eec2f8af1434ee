//! The dormant-accounts report: directory accounts with no sign-in for a number of days, and (from a stated
//! date) accounts never seen at all, for the IT centre to withdraw as the city's rules say.
//!
//! "Never seen" can only count from when danang-sso began recording sign-ins: an account with no record has
//! not signed in *through danang-sso* since then. So never-seen accounts are listed only when that date is
//! given (`--never-seen-since`, or `[policy] dormant_never_seen_since`).

use std::collections::HashMap;

use crate::calendar::Day;
use crate::csv;
use crate::directory::{MailboxKind, User};
use crate::oidc::Provider;
use crate::policy::dormancy::days_between;
use crate::report::ReportError;

/// One dormant account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DormantAccount {
    pub mail: String,
    pub name: String,
    pub unit: String,
    pub kind: MailboxKind,
    /// The day of the last sign-in (Vietnam time); `None` for an account never seen.
    pub last_sign_in: Option<Day>,
    /// Whole days since the last sign-in; `None` for an account never seen.
    pub days_since: Option<u64>,
}

/// Six months, as the city's rules say: the report's period when neither the request nor the policy sets one.
pub const DEFAULT_DAYS: u64 = 180;

/// What to list.
#[derive(Debug, Clone, Copy)]
pub struct Criteria {
    /// Accounts whose last sign-in is more than this many days before `now`.
    pub days: u64,
    /// Also accounts with no sign-in recorded at all, recording having begun on this day.
    pub never_seen_since: Option<Day>,
}

/// The dormant accounts among `users`, sorted by unit then mailbox.
pub fn dormant(users: &[User], last: &HashMap<String, u64>, now: u64, criteria: Criteria) -> Vec<DormantAccount> {
    let mut out: Vec<DormantAccount> = users
        .iter()
        .filter_map(|user| {
            let at = last.get(&user.mail).copied();
            let listed = match at {
                Some(at) => now.saturating_sub(at) > criteria.days * 86_400,
                None => criteria.never_seen_since.is_some(),
            };
            listed.then(|| DormantAccount {
                mail: user.mail.clone(),
                name: user.name.clone(),
                unit: user.unit.clone().unwrap_or_default(),
                kind: user.kind,
                last_sign_in: at.map(Day::of_unix),
                days_since: at.map(|at| days_between(at, now)),
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.unit, &a.mail).cmp(&(&b.unit, &b.mail)));
    out
}

/// Asks the directory (every account of the allowed domains) and the store (last sign-ins).
pub async fn run(provider: &Provider, criteria: Criteria) -> Result<Vec<DormantAccount>, ReportError> {
    let users: Vec<User> =
        provider.directory.list().await?.into_iter().filter(|u| provider.policy.allows(&u.mail)).collect();
    let last: HashMap<String, u64> =
        provider.store.last_sign_ins().await?.into_iter().map(|(a, at)| (a.to_lowercase(), at)).collect();
    Ok(dormant(&users, &last, provider.clock.now(), criteria))
}

/// `mail,name,unit,kind,last_sign_in,days_since,status` (status: `inactive` or `never_seen`).
pub fn to_csv(accounts: &[DormantAccount]) -> String {
    let mut w = csv::Writer::for_excel();
    w.record(["mail", "name", "unit", "kind", "last_sign_in", "days_since", "status"]);
    for a in accounts {
        let kind = match a.kind {
            MailboxKind::Personal => "personal",
            MailboxKind::Unit => "unit",
        };
        let status = if a.last_sign_in.is_some() { "inactive" } else { "never_seen" };
        let last = a.last_sign_in.map(|d| d.to_string()).unwrap_or_default();
        let days = a.days_since.map(|d| d.to_string()).unwrap_or_default();
        w.record([a.mail.as_str(), &a.name, &a.unit, kind, &last, &days, status]);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;
    const DAY: u64 = 86_400;

    fn user(mail: &str, unit: &str) -> User {
        User {
            id: mail.into(),
            mail: mail.into(),
            name: mail.into(),
            given_name: None,
            family_name: None,
            groups: Vec::new(),
            unit: Some(unit.into()),
            kind: MailboxKind::Personal,
        }
    }

    #[test]
    fn lists_the_long_unseen_and_with_a_date_the_never_seen() {
        let users = [user("a@x", "Sở B"), user("b@x", "Sở A"), user("c@x", "Sở A"), user("d@x", "Sở A")];
        let last = HashMap::from([
            ("a@x".to_owned(), NOW - 181 * DAY),
            ("b@x".to_owned(), NOW - 200 * DAY),
            ("c@x".to_owned(), NOW - 10 * DAY),
        ]);
        let found = dormant(&users, &last, NOW, Criteria { days: 180, never_seen_since: None });
        let mails: Vec<&str> = found.iter().map(|a| a.mail.as_str()).collect();
        assert_eq!(mails, ["b@x", "a@x"], "sorted by unit; c is active, d never seen");
        assert_eq!((found[1].days_since, found[1].last_sign_in), (Some(181), Some(Day::of_unix(NOW - 181 * DAY))));

        let since = Day::parse("2026-01-01");
        let found = dormant(&users, &last, NOW, Criteria { days: 180, never_seen_since: since });
        let mails: Vec<&str> = found.iter().map(|a| a.mail.as_str()).collect();
        assert_eq!(mails, ["b@x", "d@x", "a@x"]);
        let csv = to_csv(&found);
        assert!(csv.starts_with("\u{feff}mail,name,unit,kind,last_sign_in,days_since,status\r\n"), "{csv}");
        assert!(csv.contains("d@x,d@x,Sở A,personal,,,never_seen\r\n"), "{csv}");
        let b = Day::of_unix(NOW - 200 * DAY);
        assert!(csv.contains(&format!("b@x,b@x,Sở A,personal,{b},200,inactive\r\n")), "{csv}");
    }
}
