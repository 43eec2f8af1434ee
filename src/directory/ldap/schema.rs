//! What a directory's entries look like, per `preset`: the account filter, which attribute holds
//! what, how groups are found and what marks an account disabled.
//!
//! The four presets differ only in data, so they live here as data; every attribute can be
//! overridden under `[ldap.attributes]`, the filters with `user_filter` and `group_filter`.

use crate::config::{LdapConfig, LdapPreset};

/// How an account's groups are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Groups {
    /// An attribute of the account listing group DNs (`memberOf`); a group's name is its DN's first RDN value.
    Attribute(String),
    /// A subtree search under `base_dn` with this filter (`{dn}` and `{login}` placeholders); a group's
    /// name is its `name` attribute. Active Directory's nested groups come this way (`member:1.2.840.113556.1.4.1941:=`).
    Search { filter: String, name: String },
}

/// The rule that says an account may not sign in, whatever its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// OpenLDAP ppolicy: any `pwdAccountLockedTime` value (as the embedded directory reads it).
    PwdAccountLockedTime,
    /// Zimbra: `zimbraAccountStatus` present and not `active` (locked, lockout, closed, maintenance, pending).
    ZimbraNotActive,
    /// Active Directory: the ACCOUNTDISABLE bit (0x2) of `userAccountControl`.
    UserAccountControl,
    /// 389-DS: `nsAccountLock: true`.
    NsAccountLock,
}

impl Status {
    /// The attribute the rule reads; requested by name, as some are operational.
    pub(super) fn attribute(self) -> &'static str {
        match self {
            Status::PwdAccountLockedTime => "pwdAccountLockedTime",
            Status::ZimbraNotActive => "zimbraAccountStatus",
            Status::UserAccountControl => "userAccountControl",
            Status::NsAccountLock => "nsAccountLock",
        }
    }

    /// Whether these values of [`Status::attribute`] mean "disabled".
    pub(super) fn disabled<'a>(self, mut values: impl Iterator<Item = &'a str>) -> bool {
        match self {
            Status::PwdAccountLockedTime => values.next().is_some(),
            Status::ZimbraNotActive => values.any(|v| !v.trim().eq_ignore_ascii_case("active")),
            // An unreadable value is treated as disabled: the directory said something we cannot check.
            Status::UserAccountControl => {
                values.any(|v| v.trim().parse::<i64>().map_or(true, |flags| flags & 0x2 != 0))
            }
            Status::NsAccountLock => values.any(|v| v.trim().eq_ignore_ascii_case("true")),
        }
    }
}

/// The preset's choices with the configured overrides applied.
#[derive(Debug, Clone)]
pub(super) struct Schema {
    /// Account search filter with a `{login}` placeholder.
    pub user_filter: String,
    /// The stable id (OIDC `sub`).
    pub id: String,
    pub mail: String,
    /// Display name attributes, first present wins; the mailbox when none is.
    pub name: Vec<String>,
    pub given_name: String,
    pub family_name: String,
    pub unit: String,
    /// An attribute whose value `unit` marks a unit's mailbox.
    pub kind: String,
    pub groups: Groups,
    pub status: Status,
}

impl Schema {
    pub(super) fn new(config: &LdapConfig) -> Schema {
        let preset = config.preset;
        let a = &config.attributes;
        let pick = |set: &Option<String>, default: &str| set.clone().unwrap_or_else(|| default.to_owned());
        let mail = pick(&a.mail, "mail");
        // Default filters look the mailbox up in the (possibly overridden) mail attribute.
        let (filter, id, unit, status) = match preset {
            LdapPreset::Openldap => (
                format!("(&(objectClass=inetOrgPerson)({mail}={{login}}))"),
                "entryUUID",
                "ou",
                Status::PwdAccountLockedTime,
            ),
            LdapPreset::Zimbra => {
                (format!("(&(objectClass=zimbraAccount)({mail}={{login}}))"), "zimbraId", "ou", Status::ZimbraNotActive)
            }
            LdapPreset::ActiveDirectory => (
                format!("(&(objectClass=user)(|({mail}={{login}})(userPrincipalName={{login}})))"),
                "objectGUID",
                "department",
                Status::UserAccountControl,
            ),
            LdapPreset::Ds389 => {
                (format!("(&(objectClass=inetOrgPerson)({mail}={{login}}))"), "nsUniqueId", "ou", Status::NsAccountLock)
            }
        };
        let group_name = pick(&a.group_name, "cn");
        let groups = match (&config.group_filter, &a.groups, preset) {
            (Some(filter), _, _) => Groups::Search { filter: filter.clone(), name: group_name },
            (None, Some(attribute), _) => Groups::Attribute(attribute.clone()),
            (None, None, LdapPreset::ActiveDirectory) => Groups::Search {
                filter: "(&(objectClass=group)(member:1.2.840.113556.1.4.1941:={dn}))".into(),
                name: group_name,
            },
            (None, None, _) => Groups::Attribute("memberOf".into()),
        };
        Schema {
            user_filter: config.user_filter.clone().unwrap_or(filter),
            id: pick(&a.id, id),
            mail,
            name: match &a.name {
                Some(name) => vec![name.clone()],
                None => vec!["displayName".into(), "cn".into()],
            },
            given_name: pick(&a.given_name, "givenName"),
            family_name: pick(&a.family_name, "sn"),
            unit: pick(&a.unit, unit),
            kind: pick(&a.kind, "employeeType"),
            groups,
            status,
        }
    }

    /// The filter finding the account of `mail`, escaped per RFC 4515 so input can never change its shape.
    pub(super) fn user_filter(&self, mail: &str) -> String {
        self.user_filter.replace("{login}", &ldap3::ldap_escape(mail))
    }

    /// The filter finding every account: `{login}` becomes `*`, an equality turned presence test.
    pub(super) fn all_users_filter(&self) -> String {
        self.user_filter.replace("{login}", "*")
    }

    /// The group search for an account, when groups come from a search.
    pub(super) fn group_filter(&self, dn: &str, mail: &str) -> Option<String> {
        match &self.groups {
            Groups::Search { filter, .. } => {
                Some(filter.replace("{dn}", &ldap3::ldap_escape(dn)).replace("{login}", &ldap3::ldap_escape(mail)))
            }
            Groups::Attribute(_) => None,
        }
    }

    /// Whether the id attribute holds a binary GUID (Active Directory's `objectGUID`) rather than text.
    pub(super) fn id_is_guid(&self) -> bool {
        self.id.eq_ignore_ascii_case("objectGUID") || self.id.eq_ignore_ascii_case("mS-DS-ConsistencyGuid")
    }

    /// Every attribute an account search asks for, operational ones by name.
    pub(super) fn attributes(&self) -> Vec<String> {
        let mut out = vec![self.id.clone(), self.mail.clone()];
        out.extend(self.name.iter().cloned());
        out.extend([self.given_name.clone(), self.family_name.clone(), self.unit.clone(), self.kind.clone()]);
        if let Groups::Attribute(attribute) = &self.groups {
            out.push(attribute.clone());
        }
        out.push(self.status.attribute().to_owned());
        let mut seen = std::collections::HashSet::new();
        out.retain(|a| seen.insert(a.to_ascii_lowercase()));
        out
    }

    /// Every filter this schema can send, with placeholders filled in, for a syntax check at start.
    pub(super) fn sample_filters(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("ldap.user_filter", self.user_filter("x"))];
        if let Some(filter) = self.group_filter("cn=x", "x") {
            out.push(("ldap.group_filter", filter));
        }
        out
    }
}
