//! Makes a directory export loadable into a fresh slapd with `ldapadd -e relax`: drops the entries
//! the harness already made and the attributes only slapd itself may write, and adds groups last.

/// Entries every harness slapd starts with (see `slapd-base.ldif`), normalised as by [`normalize_dn`].
const PRESET_ENTRIES: [&str; 6] = [
    "dc=danang,dc=gov,dc=vn",
    "ou=people,dc=danang,dc=gov,dc=vn",
    "ou=groups,dc=danang,dc=gov,dc=vn",
    "ou=policies,dc=danang,dc=gov,dc=vn",
    "cn=default,ou=policies,dc=danang,dc=gov,dc=vn",
    "cn=sso,dc=danang,dc=gov,dc=vn",
];

/// Operational attributes slapd computes and refuses even under the relax control. `memberOf` is
/// recomputed by the overlay from the groups. `entryUUID`, timestamps and `pwd*` are kept.
const COMPUTED_ATTRIBUTES: [&str; 7] =
    ["memberof", "entrycsn", "entrydn", "structuralobjectclass", "subschemasubentry", "hassubordinates", "contextcsn"];

/// The LDIF without preset entries and computed attributes, records with `member` moved to the
/// end: the memberof overlay fills in `memberOf` only for members that exist when a group is added.
pub(super) fn for_ldapadd(ldif: &str) -> String {
    let (mut entries, mut groups) = (String::new(), String::new());
    let mut record = Vec::new();
    // A blank line ends a record; the extra one at the end flushes the last.
    for line in ldif.lines().chain([""]) {
        if !line.trim().is_empty() {
            record.push(line);
        } else if !record.is_empty() {
            let is_group = record.iter().any(|line| attribute_name(line) == "member");
            push_record(if is_group { &mut groups } else { &mut entries }, &record);
            record.clear();
        }
    }
    entries + &groups
}

fn push_record(out: &mut String, record: &[&str]) {
    if is_preset(record) {
        return;
    }
    let mut dropping = false;
    for line in record {
        // A line starting with a space continues the previous one (RFC 2849 folding).
        if !line.starts_with(' ') {
            dropping = COMPUTED_ATTRIBUTES.contains(&attribute_name(line).as_str());
        }
        if !dropping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push('\n');
}

/// Whether the record's `dn:` line names an entry the harness made.
fn is_preset(record: &[&str]) -> bool {
    let dn = record.iter().find_map(|line| line.strip_prefix("dn:"));
    dn.is_some_and(|dn| PRESET_ENTRIES.contains(&normalize_dn(dn).as_str()))
}

/// `memberof` for `memberOf: …`, `memberOf;x-opt: …` and `memberOf:: …`.
fn attribute_name(line: &str) -> String {
    let name = line.split([':', ';']).next().unwrap_or_default();
    name.trim().to_ascii_lowercase()
}

/// Lower case, without the blanks LDIF writers put around `,` and `=`.
fn normalize_dn(dn: &str) -> String {
    let parts = dn.trim().split(',').map(|rdn| rdn.split('=').map(str::trim).collect::<Vec<_>>().join("="));
    parts.collect::<Vec<_>>().join(",").to_ascii_lowercase()
}

#[test]
fn folded_computed_attributes_go_whole_and_groups_go_last() {
    let export = "dn: cn=staff,ou=groups,dc=danang,dc=gov,dc=vn\r
member: uid=an,ou=people,dc=danang,dc=gov,dc=vn\r
\r
dn: uid=an,ou=people,dc=danang,dc=gov,dc=vn\r
memberOf: cn=staff,ou=groups,dc=danang,\r
 dc=gov,dc=vn\r
uid: an\r
\r
dn: OU=People, DC=danang, DC=gov, DC=vn\r
ou: people\r
";
    let expected = "dn: uid=an,ou=people,dc=danang,dc=gov,dc=vn
uid: an

dn: cn=staff,ou=groups,dc=danang,dc=gov,dc=vn
member: uid=an,ou=people,dc=danang,dc=gov,dc=vn

";
    assert_eq!(for_ldapadd(export), expected);
}
