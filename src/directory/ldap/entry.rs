//! Entries as a server sends them, read without trusting them, and turned into a [`User`] exactly as
//! the embedded directory builds one (same fallbacks, same lower-casing, NFC everywhere).
//!
//! `ldap3`'s own `SearchEntry::construct` panics on malformed data and guesses text from binary;
//! here every value stays bytes until an attribute's meaning says how to read it.

use ldap3::ResultEntry;

use super::schema::{Groups, Schema};
use crate::directory::{MailboxKind, User, nfc};

/// One entry of a search result: its DN and every attribute's raw values.
#[derive(Debug, Clone, Default)]
pub(super) struct RawEntry {
    pub dn: String,
    /// Attribute names lower case, options (`;binary`, `;lang-vi`) removed.
    attributes: Vec<(String, Vec<Vec<u8>>)>,
}

impl RawEntry {
    /// Reads a SearchResultEntry (RFC 4511 §4.5.2); `None` for anything else or anything malformed.
    pub(super) fn parse(entry: ResultEntry) -> Option<RawEntry> {
        let mut parts = entry.0.match_id(4)?.expect_constructed()?.into_iter();
        let dn = String::from_utf8(parts.next()?.expect_primitive()?).ok()?;
        let mut attributes = Vec::new();
        for attribute in parts.next()?.expect_constructed()? {
            let mut pair = attribute.expect_constructed()?.into_iter();
            let name = String::from_utf8(pair.next()?.expect_primitive()?).ok()?;
            let name = name.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
            let values = pair.next()?.expect_constructed()?.into_iter().map(|v| v.expect_primitive());
            attributes.push((name, values.collect::<Option<Vec<_>>>()?));
        }
        Some(RawEntry { dn: nfc(&dn), attributes })
    }

    /// An entry built by hand, for unit tests.
    #[cfg(test)]
    pub(super) fn new(dn: &str, attributes: &[(&str, &[u8])]) -> RawEntry {
        let mut entry = RawEntry { dn: dn.to_owned(), attributes: Vec::new() };
        for (name, value) in attributes {
            entry.attributes.push((name.to_ascii_lowercase(), vec![value.to_vec()]));
        }
        entry
    }

    /// Every value of `name` (any case), as sent.
    pub(super) fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> + 'a {
        let name = name.to_ascii_lowercase();
        self.attributes.iter().filter(move |(n, _)| *n == name).flat_map(|(_, v)| v.iter().map(Vec::as_slice))
    }

    /// Every UTF-8 value of `name`, NFC-normalised; other values are skipped.
    pub(super) fn texts<'a>(&'a self, name: &str) -> impl Iterator<Item = String> + 'a {
        self.values(name).filter_map(|v| std::str::from_utf8(v).ok()).map(nfc)
    }

    pub(super) fn first(&self, name: &str) -> Option<String> {
        self.texts(name).next()
    }
}

/// An account found by a search: where to bind, who it is, and whether it may sign in.
#[derive(Debug, Clone)]
pub(super) struct Account {
    pub dn: String,
    pub user: User,
    pub disabled: bool,
}

/// The account an entry describes, or `None` (with a warning) if it cannot be one; groups from a
/// group search are added by the caller.
pub(super) fn account(entry: &RawEntry, schema: &Schema) -> Option<Account> {
    let dn = entry.dn.as_str();
    let Some(mail) = entry.first(&schema.mail).map(|mail| mail.trim().to_lowercase()) else {
        tracing::warn!(dn, attribute = schema.mail, "LDAP entry skipped: an account without a mailbox cannot sign in");
        return None;
    };
    let Some(id) = stable_id(entry, schema) else {
        tracing::warn!(dn, attribute = schema.id, "LDAP entry skipped: no stable id (OIDC `sub`)");
        return None;
    };
    let mut groups = match &schema.groups {
        Groups::Attribute(attribute) => entry.texts(attribute).filter_map(|dn| first_rdn_value(&dn)).collect(),
        Groups::Search { .. } => Vec::new(),
    };
    groups.sort();
    groups.dedup();
    let name = schema.name.iter().find_map(|attribute| entry.first(attribute)).unwrap_or_else(|| mail.clone());
    let is_unit = entry.texts(&schema.kind).any(|kind| kind.trim().eq_ignore_ascii_case("unit"));
    let status = entry.values(schema.status.attribute()).map(|v| std::str::from_utf8(v).unwrap_or("\u{fffd}"));
    let disabled = schema.status.disabled(status);
    let user = User {
        id,
        name,
        given_name: entry.first(&schema.given_name),
        family_name: entry.first(&schema.family_name),
        groups,
        unit: entry.first(&schema.unit),
        kind: if is_unit { MailboxKind::Unit } else { MailboxKind::Personal },
        mail,
    };
    Some(Account { dn: dn.to_owned(), user, disabled })
}

/// The id attribute as text: a GUID in its usual string form for `objectGUID`, lower-case text
/// otherwise (`entryUUID`, `zimbraId`, `nsUniqueId`), lower-case hex for any other binary value.
fn stable_id(entry: &RawEntry, schema: &Schema) -> Option<String> {
    let value = entry.values(&schema.id).next()?;
    if schema.id_is_guid() {
        return guid(value);
    }
    let id = match std::str::from_utf8(value) {
        Ok(text) => text.trim().to_lowercase(),
        Err(_) => value.iter().map(|b| format!("{b:02x}")).collect(),
    };
    (!id.is_empty()).then_some(id)
}

/// Formats a 16-byte Microsoft GUID: the first three fields are little-endian on the wire
/// (`objectGUID` bytes `78 56 34 12 34 12 78 56 …` read `12345678-1234-5678-…`).
pub(super) fn guid(bytes: &[u8]) -> Option<String> {
    let b: &[u8; 16] = bytes.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    ))
}

/// The value of a DN's first RDN (`can-bo` from `cn=can-bo,ou=groups,…`), RFC 4514 escapes undone,
/// NFC-normalised. For a multi-valued RDN, the first value.
pub(super) fn first_rdn_value(dn: &str) -> Option<String> {
    let (_, rest) = dn.split_once('=')?;
    let mut bytes = Vec::new();
    // Bytes up to here are significant: trailing unescaped spaces after it are dropped.
    let mut kept = 0;
    let mut input = rest.trim_start().bytes();
    while let Some(byte) = input.next() {
        match byte {
            b',' | b'+' => break,
            b'\\' => {
                let first = input.next()?;
                if let Some(high) = hex(first) {
                    let low = hex(input.next()?)?;
                    bytes.push(high << 4 | low);
                } else {
                    bytes.push(first);
                }
                kept = bytes.len();
            }
            _ => {
                bytes.push(byte);
                if byte != b' ' {
                    kept = bytes.len();
                }
            }
        }
    }
    bytes.truncate(kept);
    let value: String = nfc(&String::from_utf8(bytes).ok()?);
    (!value.is_empty()).then_some(value)
}

fn hex(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).and_then(|d| u8::try_from(d).ok())
}
