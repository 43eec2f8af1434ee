//! `[ldap] unit_filter`: directories that mark unit mailboxes their own way (`(employeeType=unit-mailbox)`, or a
//! branch of their own, `(ou:dn:=units)`). The server evaluates the filter, so any filter it understands works,
//! extensible matches included: one base search per account found, one extra search per full listing.

use std::collections::HashSet;

use ldap3::Scope;

use super::entry::Account;
use super::{LdapDirectory, Op, failed};
use crate::directory::{MailboxKind, Unavailable, User};

impl LdapDirectory {
    /// Marks `account` a unit's mailbox when its entry matches `unit_filter` (left as read when none is set).
    pub(super) async fn mark_unit(&self, account: &mut Account) -> Result<(), Unavailable> {
        let Some(filter) = &self.unit_filter else { return Ok(()) };
        let none = ["1.1".to_owned()];
        let op = Op::Search { base: &account.dn, scope: Scope::Base, filter, attributes: &none, size_limit: 0 };
        let reply = self.call(&self.search, op).await?;
        if reply.result.rc != 0 {
            return Err(failed("unit search", &reply.result));
        }
        account.user.kind = kind(!reply.entries.is_empty());
        Ok(())
    }

    /// The DNs of every account `unit_filter` marks, for a full listing (`None` when no filter is set).
    pub(super) async fn unit_dns(&self) -> Result<Option<HashSet<String>>, Unavailable> {
        let Some(unit_filter) = &self.unit_filter else { return Ok(None) };
        let filter = format!("(&{}{unit_filter})", self.schema.all_users_filter());
        let none = ["1.1".to_owned()];
        let reply =
            self.call(&self.search, Op::List { base: &self.base_dn, filter: &filter, attributes: &none }).await?;
        match reply.result.rc {
            0 => {}
            4 => tracing::warn!("the directory's size limit cut the unit mailbox list"),
            _ => return Err(failed("unit list", &reply.result)),
        }
        Ok(Some(reply.entries.into_iter().map(|e| e.dn).collect()))
    }
}

/// Applies a listing's unit DNs to one account of it.
pub(super) fn apply(units: Option<&HashSet<String>>, dn: &str, user: &mut User) {
    if let Some(units) = units {
        user.kind = kind(units.contains(dn));
    }
}

fn kind(is_unit: bool) -> MailboxKind {
    if is_unit { MailboxKind::Unit } else { MailboxKind::Personal }
}
