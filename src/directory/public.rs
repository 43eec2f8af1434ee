//! The city's public mail directory (`/danh-ba`): the unit mailboxes people and businesses write to, searchable
//! in Vietnamese with or without diacritics, kept in memory so a public page never costs a directory search.
//!
//! "Parent unit" comes from the directory: a unit mailbox's `unit` attribute (`ou`) names the body it belongs
//! to. A unit whose `unit` names itself (a department directly under the city, as in the demo directory) is a
//! top-level body: its parent is `[directory_page] root_unit`. A person's listing (only with `include_personal`)
//! shows their unit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{Directory, MailboxKind, Unavailable, User};
use crate::clock::Clock;
use crate::config::DirectoryPageConfig;
use crate::policy::Policy;
use crate::policy::mailbox::fold;

/// One line of the public directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The display name: "Sở Kế hoạch và Đầu tư".
    pub name: String,
    /// The mailbox: `skhdt@danang.gov.vn`.
    pub mail: String,
    /// The unit it belongs to (see the module's note).
    pub parent: String,
    /// A unit's or (with `include_personal`) a person's.
    pub kind: MailboxKind,
    /// Name, mailbox and parent folded (no diacritics, lower case): what a search matches.
    haystack: String,
}

/// The listings of `users`: unit mailboxes (and, if `include_personal`, people) of the allowed domains, sorted
/// by name as a Vietnamese reader looks for them (diacritics ignored).
pub fn listings(users: Vec<User>, policy: &Policy, include_personal: bool, root_unit: &str) -> Vec<Listing> {
    let mut out: Vec<Listing> = users
        .into_iter()
        .filter(|u| (include_personal || u.kind == MailboxKind::Unit) && policy.allows(&u.mail))
        .map(|u| {
            let own = u.unit.as_deref().filter(|unit| fold(unit) != fold(&u.name));
            let parent = match u.kind {
                MailboxKind::Unit => own.unwrap_or(root_unit).to_owned(),
                MailboxKind::Personal => u.unit.clone().unwrap_or_default(),
            };
            let haystack = format!("{} {} {}", fold(&u.name), u.mail, fold(&parent));
            Listing { name: u.name, mail: u.mail, parent, kind: u.kind, haystack }
        })
        .collect();
    out.sort_by_cached_key(|l| (fold(&l.name), l.mail.clone()));
    out
}

/// The listings matching `query`: every word of it, folded, appears in the name, the mailbox or the parent.
/// "ke hoach", "Kế hoạch" and "KẾ HOẠCH" find the same units; an empty query finds all.
pub fn search<'a>(all: &'a [Listing], query: &str) -> Vec<&'a Listing> {
    let words: Vec<String> = fold(query).split_whitespace().map(str::to_owned).collect();
    all.iter().filter(|l| words.iter().all(|w| l.haystack.contains(w.as_str()))).collect()
}

/// The page's source: the directory, asked at most once per `refresh_secs`.
pub struct PublicDirectory {
    directory: Arc<dyn Directory>,
    policy: Policy,
    config: DirectoryPageConfig,
    clock: Clock,
    /// When the listings were read, and the listings. Never held across an await.
    cache: Mutex<Option<(u64, Arc<Vec<Listing>>)>>,
    /// One request refreshes a stale list; the others serve the stale one meanwhile.
    refreshing: AtomicBool,
}

/// Clears the refreshing flag however the refresh ends (also when the request is dropped mid-way).
struct Refreshing<'a>(&'a AtomicBool);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl PublicDirectory {
    /// Nothing is read until the page is first asked for.
    pub fn new(directory: Arc<dyn Directory>, policy: Policy, config: DirectoryPageConfig, clock: Clock) -> Self {
        Self { directory, policy, config, clock, cache: Mutex::new(None), refreshing: AtomicBool::new(false) }
    }

    fn cached(&self) -> Option<(u64, Arc<Vec<Listing>>)> {
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Every listing, from memory while fresh. When the directory does not answer, the last list read is
    /// served (stale beats nothing for a public page); with none, the error.
    pub async fn all(&self) -> Result<Arc<Vec<Listing>>, Unavailable> {
        let now = self.clock.now();
        let cached = self.cached();
        if let Some((at, list)) = &cached {
            let fresh = now < at.saturating_add(self.config.refresh_secs);
            // Stale: the first request to get here refreshes (swap false → true); the others serve the stale list.
            if fresh || self.refreshing.swap(true, Ordering::AcqRel) {
                return Ok(list.clone());
            }
        }
        let _guard = Refreshing(&self.refreshing);
        match self.directory.list().await {
            Ok(users) => {
                let list = listings(users, &self.policy, self.config.include_personal, &self.config.root_unit);
                let list = Arc::new(list);
                *self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((now, list.clone()));
                Ok(list)
            }
            Err(e) => match cached {
                Some((_, list)) => {
                    tracing::warn!(error = %e, "directory page: serving the last list read");
                    Ok(list)
                }
                None => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::ldif::LdifDirectory;

    async fn demo(include_personal: bool) -> Vec<Listing> {
        let users = LdifDirectory::parse(crate::config::DEMO_LDIF).unwrap().list().await.unwrap();
        listings(users, &Policy::new(&["danang.gov.vn".into()]), include_personal, "UBND thành phố Đà Nẵng")
    }

    fn mails<'a>(found: impl IntoIterator<Item = &'a Listing>) -> Vec<&'a str> {
        found.into_iter().map(|l| l.mail.as_str()).collect()
    }

    #[tokio::test]
    async fn units_only_by_default_with_their_parent() {
        let all = demo(false).await;
        assert_eq!(mails(&all), ["skhdt@danang.gov.vn", "stttt@danang.gov.vn", "vpubnd@danang.gov.vn"]);
        assert!(all.iter().all(|l| l.parent == "UBND thành phố Đà Nẵng"), "top-level bodies: {all:?}");
        let people = demo(true).await;
        assert_eq!(people.len(), 9, "everyone of danang.gov.vn not locked");
        let dung = people.iter().find(|l| l.mail == "dungnv@danang.gov.vn").unwrap();
        assert_eq!(dung.parent, "Văn phòng UBND thành phố", "a person shows their unit");
    }

    #[test]
    fn a_unit_under_another_shows_it_as_parent() {
        let unit = User {
            id: "1".into(),
            mail: "ttxtdt@danang.gov.vn".into(),
            name: "Trung tâm Xúc tiến Đầu tư".into(),
            given_name: None,
            family_name: None,
            groups: Vec::new(),
            unit: Some("Sở Kế hoạch và Đầu tư".into()),
            kind: MailboxKind::Unit,
        };
        let all = listings(vec![unit], &Policy::new(&["danang.gov.vn".into()]), false, "UBND");
        assert_eq!(all[0].parent, "Sở Kế hoạch và Đầu tư");
        assert_eq!(mails(search(&all, "ke hoach")), ["ttxtdt@danang.gov.vn"], "the parent is searched too");
    }

    #[tokio::test]
    async fn search_works_with_and_without_diacritics() {
        let all = demo(false).await;
        for query in ["ke hoach", "Kế hoạch", "KẾ HOẠCH", "  hoạch   kế ", "dau tu", "skhdt", "Đầu Tư"]
        {
            assert_eq!(mails(search(&all, query)), ["skhdt@danang.gov.vn"], "{query:?}");
        }
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Kế hoạch").collect();
        assert_eq!(mails(search(&all, &nfd)), ["skhdt@danang.gov.vn"]);
        assert_eq!(search(&all, "").len(), 3);
        assert_eq!(mails(search(&all, "thong tin")), ["stttt@danang.gov.vn"]);
        assert!(search(&all, "y te").is_empty());
    }
}
