//! Unit tests of the LDAP adapter's pure parts: presets, filters, status rules, entry reading.
//! The adapter itself is tested against a real slapd in `tests/it` (directory_suite.rs, ldap.rs).

use super::entry::{RawEntry, account, first_rdn_value, guid};
use super::schema::{Groups, Schema, Status};
use crate::config::{Config, DirectoryKind, LdapConfig, LdapPreset};
use crate::directory::MailboxKind;
use unicode_normalization::UnicodeNormalization;

fn schema(preset: LdapPreset) -> Schema {
    Schema::new(&LdapConfig { preset, ..LdapConfig::default() })
}

const UUID: &[u8] = b"B5638B9E-9D37-4DFF-88F7-315BAD2DF2FA";

#[test]
fn login_input_cannot_change_the_filter() {
    let s = schema(LdapPreset::Openldap);
    for (input, value) in [
        ("*)(uid=*", r"\2a\29\28uid=\2a"),
        (r"\00", r"\5c00"),
        ("\0", r"\00"),
        ("*", r"\2a"),
        ("dungnv@danang.gov.vn)(|(uid=*", r"dungnv@danang.gov.vn\29\28|\28uid=\2a"),
    ] {
        let filter = s.user_filter(input);
        assert_eq!(filter, format!("(&(objectClass=inetOrgPerson)(mail={value}))"), "{input}");
        assert!(ldap3::parse_filter(&filter).is_ok(), "{filter}");
    }
    assert_eq!(s.all_users_filter(), "(&(objectClass=inetOrgPerson)(mail=*))");
    let ad = schema(LdapPreset::ActiveDirectory);
    assert_eq!(ad.user_filter("a@b"), "(&(objectClass=user)(|(mail=a@b)(userPrincipalName=a@b)))");
    assert_eq!(
        ad.group_filter(r"CN=Lê\, Hà (Sở),DC=x", "a*"),
        Some(r"(&(objectClass=group)(member:1.2.840.113556.1.4.1941:=CN=Lê\5c, Hà \28Sở\29,DC=x))".into())
    );
}

#[test]
fn presets_choose_attributes_and_overrides_win() {
    let ad = schema(LdapPreset::ActiveDirectory);
    assert_eq!((ad.id.as_str(), ad.unit.as_str(), ad.status), ("objectGUID", "department", Status::UserAccountControl));
    assert!(ad.id_is_guid());
    assert!(matches!(ad.groups, Groups::Search { ref name, .. } if name == "cn"));
    let zimbra = schema(LdapPreset::Zimbra);
    assert_eq!((zimbra.id.as_str(), zimbra.status), ("zimbraId", Status::ZimbraNotActive));
    assert_eq!(zimbra.user_filter("x"), "(&(objectClass=zimbraAccount)(mail=x))");
    let mut config = LdapConfig { preset: LdapPreset::Zimbra, ..LdapConfig::default() };
    config.attributes.mail = Some("zimbraMailDeliveryAddress".into());
    let s = Schema::new(&config);
    assert_eq!(s.user_filter("x"), "(&(objectClass=zimbraAccount)(zimbraMailDeliveryAddress=x))", "the mail attribute");
    config.user_filter = Some("(uid={login})".into());
    assert_eq!(Schema::new(&config).user_filter("x"), "(uid=x)", "an explicit filter wins");
    let ds = schema(LdapPreset::Ds389);
    assert_eq!((ds.id.as_str(), ds.status), ("nsUniqueId", Status::NsAccountLock));
    let openldap = schema(LdapPreset::Openldap);
    assert_eq!(openldap.groups, Groups::Attribute("memberOf".into()));
    assert_eq!(
        openldap.attributes(),
        [
            "entryUUID",
            "mail",
            "displayName",
            "cn",
            "givenName",
            "sn",
            "ou",
            "employeeType",
            "memberOf",
            "pwdAccountLockedTime"
        ]
    );

    let mut config = LdapConfig { preset: LdapPreset::ActiveDirectory, ..LdapConfig::default() };
    config.attributes.groups = Some("memberOf".into());
    config.attributes.unit = Some("company".into());
    config.attributes.name = Some("name".into());
    let s = Schema::new(&config);
    assert_eq!(
        (s.groups.clone(), s.unit.as_str(), s.name.clone()),
        (Groups::Attribute("memberOf".into()), "company", vec!["name".to_owned()])
    );
    config.group_filter = Some("(&(objectClass=groupOfNames)(member={dn}))".into());
    config.attributes.group_name = Some("ou".into());
    let s = Schema::new(&config);
    assert!(matches!(s.groups, Groups::Search { ref name, .. } if name == "ou"), "group_filter wins");
}

#[test]
fn status_rules() {
    let one = |status: Status, value: &str| status.disabled([value].into_iter());
    assert!(Status::PwdAccountLockedTime.disabled(["000001010000Z"].into_iter()));
    assert!(!Status::PwdAccountLockedTime.disabled(std::iter::empty()));
    assert!(!one(Status::ZimbraNotActive, "active") && !one(Status::ZimbraNotActive, " Active "));
    for status in ["locked", "lockout", "closed", "maintenance", "pending"] {
        assert!(one(Status::ZimbraNotActive, status), "{status}");
    }
    assert!(!one(Status::UserAccountControl, "512") && !one(Status::UserAccountControl, "66048"));
    assert!(one(Status::UserAccountControl, "514") && one(Status::UserAccountControl, "66050"));
    assert!(one(Status::UserAccountControl, "not a number"), "unreadable means disabled");
    assert!(one(Status::NsAccountLock, "TRUE") && !one(Status::NsAccountLock, "false"));
    assert!(!Status::NsAccountLock.disabled(std::iter::empty()));
}

#[test]
fn guids_and_group_names() {
    let bytes = [0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78];
    assert_eq!(guid(&bytes).as_deref(), Some("12345678-1234-5678-9abc-def012345678"));
    assert_eq!(guid(&bytes[..15]), None);

    assert_eq!(first_rdn_value("cn=can-bo,ou=groups,dc=danang,dc=gov,dc=vn").as_deref(), Some("can-bo"));
    assert_eq!(first_rdn_value("CN=Phòng\\, Ban ,OU=x").as_deref(), Some("Phòng, Ban"));
    assert_eq!(first_rdn_value("cn=Nguy\\C3\\AAn,dc=x").as_deref(), Some("Nguyên"));
    assert_eq!(first_rdn_value("cn=x\\ ,dc=y").as_deref(), Some("x "), "an escaped space is kept");
    assert_eq!(first_rdn_value("cn=a+uid=b,dc=x").as_deref(), Some("a"));
    assert_eq!(first_rdn_value("cn=Du\u{303}ng,dc=x").as_deref(), Some("Dũng"), "NFC");
    assert_eq!(first_rdn_value("cn=ab\\"), None);
    assert_eq!(first_rdn_value("cn=\\C3,dc=x"), None, "not UTF-8");
    assert_eq!(first_rdn_value("no-equals"), None);
    assert_eq!(first_rdn_value("cn=,dc=x"), None);
}

#[test]
fn entries_become_users_as_in_the_embedded_directory() {
    let s = schema(LdapPreset::Openldap);
    let decomposed: String = "Trần Thị Hương".nfd().collect();
    assert_ne!(decomposed, "Trần Thị Hương");
    let entry = RawEntry::new(
        "uid=huongtt,ou=people,dc=danang,dc=gov,dc=vn",
        &[
            ("entryUUID", UUID),
            ("mail", b"HuongTT@danang.gov.vn"),
            ("cn", decomposed.as_bytes()),
            ("memberOf", b"cn=van-thu,ou=groups,dc=danang,dc=gov,dc=vn"),
            ("MEMBEROF", b"cn=can-bo,ou=groups,dc=danang,dc=gov,dc=vn"),
            ("employeeType", b" Unit "),
            ("ou", "Sở Kế hoạch và Đầu tư".as_bytes()),
        ],
    );
    let a = account(&entry, &s).expect("an account");
    assert_eq!(a.user.id, "b5638b9e-9d37-4dff-88f7-315bad2df2fa");
    assert_eq!(a.user.mail, "huongtt@danang.gov.vn");
    assert_eq!(a.user.name, "Trần Thị Hương", "cn, NFC");
    assert_eq!(a.user.groups, ["can-bo", "van-thu"]);
    assert_eq!(
        (a.user.kind, a.user.unit.as_deref(), a.user.given_name.as_deref()),
        (MailboxKind::Unit, Some("Sở Kế hoạch và Đầu tư"), None)
    );
    assert!(!a.disabled);

    let shown = RawEntry::new(
        "uid=t,dc=x",
        &[("entryUUID", UUID), ("mail", b"t@x"), ("cn", b"Pham"), ("displayName", "Phạm".as_bytes())],
    );
    assert_eq!(account(&shown, &s).map(|a| a.user.name).as_deref(), Some("Phạm"), "displayName before cn");
    let bare = RawEntry::new("uid=b,dc=x", &[("entryUUID", UUID), ("mail", b"b@x")]);
    assert_eq!(account(&bare, &s).map(|a| a.user.name).as_deref(), Some("b@x"), "the mailbox when nameless");
    let locked = RawEntry::new(
        "uid=k,dc=x",
        &[("entryUUID", UUID), ("mail", b"k@x"), ("pwdAccountLockedTime", b"000001010000Z")],
    );
    assert!(account(&locked, &s).is_some_and(|a| a.disabled));
    assert!(account(&RawEntry::new("uid=n,dc=x", &[("mail", b"n@x")]), &s).is_none(), "no id");
    assert!(account(&RawEntry::new("uid=n,dc=x", &[("entryUUID", UUID)]), &s).is_none(), "no mail");
    let binary = RawEntry::new("uid=n,dc=x", &[("entryUUID", &[0xff, 0x01]), ("mail", b"n@x")]);
    assert_eq!(account(&binary, &s).map(|a| a.user.id).as_deref(), Some("ff01"), "binary ids as hex");

    let ad = schema(LdapPreset::ActiveDirectory);
    let bytes = [0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78];
    let entry = RawEntry::new("CN=x,DC=y", &[("objectGUID", &bytes), ("mail", b"x@y"), ("userAccountControl", b"514")]);
    let a = account(&entry, &ad).expect("an AD account");
    assert_eq!((a.user.id.as_str(), a.disabled), ("12345678-1234-5678-9abc-def012345678", true));
    assert!(a.user.groups.is_empty(), "AD groups come from the in-chain search");
}

#[test]
fn malformed_result_entries_are_skipped_not_panicked_on() {
    use ldap3::asn1::{PL, StructureTag, TagClass};
    let tag = |id, payload| StructureTag { class: TagClass::Application, id, payload };
    let not_an_entry = ldap3::ResultEntry::new(tag(19, PL::C(Vec::new())));
    assert!(RawEntry::parse(not_an_entry).is_none());
    let no_attributes = ldap3::ResultEntry::new(tag(4, PL::C(vec![tag(4, PL::P(b"cn=x".to_vec()))])));
    assert!(RawEntry::parse(no_attributes).is_none());
    let bad_dn = ldap3::ResultEntry::new(tag(4, PL::C(vec![tag(4, PL::P(vec![0xff])), tag(16, PL::C(Vec::new()))])));
    assert!(RawEntry::parse(bad_dn).is_none());
    let empty =
        ldap3::ResultEntry::new(tag(4, PL::C(vec![tag(4, PL::P(b"cn=x".to_vec())), tag(16, PL::C(Vec::new()))])));
    assert_eq!(RawEntry::parse(empty).map(|e| e.dn).as_deref(), Some("cn=x"));
}

#[test]
fn ldap_config_problems_name_their_keys() {
    let mut config = Config::default();
    config.directory.kind = DirectoryKind::Ldap;
    config.ldap.urls = vec!["http://dir:389".into(), "ldaps://dir.danang.gov.vn".into()];
    config.ldap.bind_dn = Some("cn=sso".into());
    config.ldap.user_filter = Some("(mail=x)".into());
    config.ldap.pool_size = 0;
    let keys: Vec<String> = config.problems().into_iter().map(|p| p.key).collect();
    assert_eq!(keys, ["ldap.urls", "ldap.bind_password", "ldap.user_filter", "ldap.pool_size"]);
}

#[test]
fn setup_refuses_bad_filters_and_unreadable_files() {
    let clock = crate::clock::Clock::default();
    let bad = LdapConfig { user_filter: Some("(mail={login}".into()), ..LdapConfig::default() };
    let error = super::LdapDirectory::new(&bad, clock.clone()).expect_err("unbalanced filter");
    assert!(error.to_string().starts_with("ldap.user_filter"), "{error}");
    let missing = LdapConfig {
        bind_dn: Some("cn=sso".into()),
        bind_password_file: Some("/nonexistent/sso-password".into()),
        ..LdapConfig::default()
    };
    let error = super::LdapDirectory::new(&missing, clock.clone()).expect_err("no password file");
    assert!(error.to_string().contains("ldap.bind_password_file"), "{error}");
    let tls = LdapConfig {
        urls: vec!["ldaps://127.0.0.1:1".into()],
        ca_file: Some("/nonexistent/ca.pem".into()),
        ..LdapConfig::default()
    };
    assert!(super::LdapDirectory::new(&tls, clock).is_err(), "unreadable ca_file");
}
