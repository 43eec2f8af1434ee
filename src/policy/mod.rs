//! The city's rules for who may sign in, applied before the directory is ever asked.
//!
//! Only mailboxes of the allowed domains (`@danang.gov.vn`) may use the shared city apps. A civil servant may
//! type `dungnv`, `dungnv@danang.gov.vn` or ` DungNV@Danang.gov.vn `: all mean the same mailbox.
//! The city's other rules live beside this one: [`mailbox`] naming, [`dormancy`], [`throttle`].

pub mod dormancy;
pub mod mailbox;
pub mod throttle;

use unicode_normalization::UnicodeNormalization;

/// Why a typed login was refused before asking the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Nothing typed, or not a mailbox at all. Shown like a wrong password: it reveals nothing.
    Malformed,
    /// A mailbox of a domain the city does not allow. Shown with its own message: it is policy, not a secret.
    DomainNotAllowed,
}

/// The rules applied to every sign-in: allowed domains, login normalisation, dormancy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Lower-case domains; the first completes a bare local part.
    domains: Vec<String>,
    /// Off unless `[policy] dormant_after_days` is set.
    pub dormancy: dormancy::Dormancy,
}

impl Policy {
    pub fn new(allowed_domains: &[String]) -> Self {
        Self {
            domains: allowed_domains.iter().map(|d| d.trim().to_lowercase()).collect(),
            dormancy: dormancy::Dormancy::default(),
        }
    }

    /// The same policy refusing dormant accounts as `dormancy` says.
    pub fn with_dormancy(self, dormancy: dormancy::Dormancy) -> Self {
        Self { dormancy, ..self }
    }

    pub fn allowed_domains(&self) -> &[String] {
        &self.domains
    }

    /// The canonical mailbox (`dungnv@danang.gov.vn`) for what a person typed.
    pub fn normalize_login(&self, typed: &str) -> Result<String, LoginRefusal> {
        let typed: String = typed.trim().nfc().collect::<String>().to_lowercase();
        let (local, domain) = match typed.rsplit_once('@') {
            Some((local, domain)) => (local, domain),
            None => (typed.as_str(), self.domains.first().map(String::as_str).unwrap_or_default()),
        };
        if !is_local_part(local) || !is_domain(domain) {
            return Err(LoginRefusal::Malformed);
        }
        if !self.domains.iter().any(|d| d == domain) {
            return Err(LoginRefusal::DomainNotAllowed);
        }
        Ok(format!("{local}@{domain}"))
    }

    /// Whether a mailbox from the directory belongs to an allowed domain (checked again on every re-check).
    pub fn allows(&self, mail: &str) -> bool {
        mail.rsplit_once('@').is_some_and(|(_, d)| self.domains.iter().any(|a| a.eq_ignore_ascii_case(d)))
    }
}

/// Mailbox names in the city directory are ASCII letters, digits and `. _ - +`.
fn is_local_part(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
}

fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::new(&["danang.gov.vn".into()])
    }

    #[test]
    fn every_way_of_typing_a_mailbox_means_the_same_one() {
        for typed in ["dungnv", "dungnv@danang.gov.vn", " DungNV@Danang.gov.vn ", "DUNGNV"] {
            assert_eq!(policy().normalize_login(typed), Ok("dungnv@danang.gov.vn".into()), "{typed:?}");
        }
        assert_eq!(policy().normalize_login("dungnv1"), Ok("dungnv1@danang.gov.vn".into()));
    }

    #[test]
    fn other_domains_are_refused_before_the_directory() {
        assert_eq!(policy().normalize_login("dungnv@gmail.com"), Err(LoginRefusal::DomainNotAllowed));
        assert_eq!(policy().normalize_login("a@danang.gov.vn.evil.com"), Err(LoginRefusal::DomainNotAllowed));
        assert_eq!(policy().normalize_login("a@sub.danang.gov.vn"), Err(LoginRefusal::DomainNotAllowed));
    }

    #[test]
    fn junk_and_filter_injection_are_malformed() {
        for typed in ["", "   ", "*)(uid=*", "a\0b", "dũng", "a b@danang.gov.vn", "@danang.gov.vn", "a@", "a@@b"] {
            assert_eq!(policy().normalize_login(typed), Err(LoginRefusal::Malformed), "{typed:?}");
        }
    }

    #[test]
    fn directory_mail_is_checked_against_the_domains() {
        assert!(policy().allows("dungnv@DANANG.gov.vn"));
        assert!(!policy().allows("dungnv.danang@gmail.com"));
    }
}
