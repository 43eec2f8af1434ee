//! Tests of the embedded directory: small LDIF fixtures for each rule, then the demo file itself.

use super::*;

/// `Danang@2026` as argon2id, m=4096, t=3, p=1.
const HASH: &str =
    "{ARGON2}$argon2id$v=19$m=4096,t=3,p=1$rF5qeE9zjZBamwpzAfif7A$1TKvyKlv3hFfGg3Mu2QO1ec6R/SvfjMxzhclP5XE2R4";
/// `Danang@2026` as written by this machine's `slappasswd -o module-load=argon2 -h '{ARGON2}'`
/// (slapd 2.5.13): argon2**i**, not argon2id; slapd checks both, so must we.
const SLAPPASSWD_HASH: &str =
    "{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$kJC/ZbMeg0SPTE2KMs5Zjw$A5i5X3bERH+JOYnzcairMpLJuSb6de+SqXrLDlIR9Sg";
const PASSWORD: &str = "Danang@2026";

/// A stable, distinct entryUUID per fixture uid (its first six bytes in hex).
fn id(uid: &str) -> String {
    let hex: String = uid.bytes().take(6).map(|b| format!("{b:02x}")).collect();
    format!("00000000-0000-4000-8000-{hex:0>12}")
}

/// A minimal account `uid@danang.gov.vn` (cn = sn = uid), plus `extra` attribute lines.
fn person(uid: &str, extra: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,dc=danang,dc=gov,dc=vn\nobjectClass: inetOrgPerson\ncn: {uid}\nsn: {uid}\n\
         mail: {uid}@danang.gov.vn\nentryUUID: {}\n{extra}\n",
        id(uid)
    )
}

fn directory(entries: &[String]) -> LdifDirectory {
    LdifDirectory::parse(&entries.join("\n")).expect("fixture parses")
}

async fn sign_in(directory: &LdifDirectory, mail: &str, password: &str) -> Result<User, Refusal> {
    directory.authenticate(mail, password).await.expect("the embedded directory is always available")
}

#[tokio::test]
async fn authenticate_ok_wrong_empty_unknown_locked() {
    let dir = directory(&[
        person("a", &format!("userPassword: {HASH}")),
        person("bb", &format!("userPassword: {HASH}\npwdAccountLockedTime: 000001010000Z")),
    ]);
    let user = sign_in(&dir, "a@danang.gov.vn", PASSWORD).await.unwrap();
    assert_eq!(user.id, id("a"));
    assert_eq!(user.mail, "a@danang.gov.vn");
    assert_eq!(sign_in(&dir, "A@Danang.gov.vn", PASSWORD).await.map(|u| u.mail), Ok(user.mail));
    assert_eq!(sign_in(&dir, "a@danang.gov.vn", "danang@2026").await, Err(Refusal::WrongPassword));
    assert_eq!(sign_in(&dir, "a@danang.gov.vn", "").await, Err(Refusal::WrongPassword));
    assert_eq!(sign_in(&dir, "nobody@danang.gov.vn", PASSWORD).await, Err(Refusal::UnknownAccount));
    assert_eq!(sign_in(&dir, "nobody@danang.gov.vn", "").await, Err(Refusal::WrongPassword));
    assert_eq!(sign_in(&dir, "bb@danang.gov.vn", PASSWORD).await, Err(Refusal::Disabled));
    assert_eq!(dir.lookup("bb@danang.gov.vn").await.unwrap(), Err(Refusal::Disabled));
    assert_eq!(dir.lookup("x@danang.gov.vn").await.unwrap(), Err(Refusal::UnknownAccount));
    assert_eq!(dir.lookup("a@danang.gov.vn").await.unwrap().map(|u| u.name), Ok("a".to_owned()));
    let listed: Vec<String> = dir.list().await.unwrap().into_iter().map(|u| u.mail).collect();
    assert_eq!(listed, ["a@danang.gov.vn"], "locked accounts are not listed");
    assert!(dir.ping().await.is_ok());
}

#[tokio::test]
async fn only_argon2_passwords_verify() {
    let dir = directory(&[
        person("ssha", "userPassword: {SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
        person("plain", &format!("userPassword: {PASSWORD}")),
        person("nopass", ""),
        person("slapd", &format!("userPassword: {SLAPPASSWD_HASH}")),
        person("twohash", &format!("userPassword: {{SSHA}}x\nuserPassword: {}", HASH.replace("{ARGON2}", "{argon2}"))),
    ]);
    for mail in ["ssha@danang.gov.vn", "plain@danang.gov.vn", "nopass@danang.gov.vn"] {
        assert_eq!(sign_in(&dir, mail, PASSWORD).await, Err(Refusal::WrongPassword), "{mail}");
    }
    assert!(sign_in(&dir, "slapd@danang.gov.vn", PASSWORD).await.is_ok(), "slappasswd's argon2i");
    assert!(sign_in(&dir, "twohash@danang.gov.vn", PASSWORD).await.is_ok(), "any value, scheme in any case");
}

#[test]
fn the_dummy_hash_parses() {
    assert_eq!(PasswordHash::new(DUMMY_HASH).map(|hash| hash.algorithm.as_str().to_owned()), Ok("argon2id".into()));
}

#[tokio::test]
async fn groups_like_memberof() {
    let dir = directory(&[
        person("a", "displayName: Người A"),
        person("bb", ""),
        "dn: cn=z-last,ou=groups,dc=danang,dc=gov,dc=vn\nobjectClass: groupOfNames\ncn: z-last\n\
         member: UID=a, OU=People, dc=danang,  dc=gov,dc=vn\n"
            .into(),
        "dn: cn=a-first,ou=groups,dc=danang,dc=gov,dc=vn\nobjectClass: groupOfNames\ncn: a-first\n\
         member: uid=a,ou=people,dc=danang,dc=gov,dc=vn\nmember: uid=bb,ou=people,dc=danang,dc=gov,dc=vn\n"
            .into(),
    ]);
    let a = dir.lookup("a@danang.gov.vn").await.unwrap().unwrap();
    assert_eq!(a.groups, ["a-first", "z-last"]);
    assert_eq!(a.name, "Người A", "displayName wins over cn");
    assert_eq!(dir.lookup("bb@danang.gov.vn").await.unwrap().unwrap().groups, ["a-first"]);
}

#[test]
fn dns_compare_without_case_or_spaces() {
    assert_eq!(normalize_dn(" CN=Nhóm A , OU=Groups,DC=x "), "cn=nhóm a,ou=groups,dc=x");
    assert_eq!(normalize_dn("cn=a\\, b,dc=x"), "cn=a\\, b,dc=x");
    assert_eq!(normalize_dn("cn=a\\ ,dc=x"), "cn=a\\ ,dc=x");
}

#[tokio::test]
async fn text_is_nfc_and_units_are_units() {
    // "Sở Kế hoạch và Đầu tư" decomposed (NFD): base64 in displayName, plain in ou.
    let nfd = "U2/Mm8yJIEtlzILMgSBob2HMo2NoIHZhzIAgxJBhzILMgHUgdHXMmw==";
    let ou = "Sở Kế hoạch và Đầu tư".chars().flat_map(|c| match c {
        'ầ' => vec!['a', '\u{302}', '\u{300}'],
        other => vec![other],
    });
    let ou: String = ou.collect();
    assert_ne!(ou, "Sở Kế hoạch và Đầu tư");
    let dir = directory(&[person("skhdt", &format!("displayName:: {nfd}\nou: {ou}\nemployeeType: Unit"))]);
    let unit = dir.lookup("skhdt@danang.gov.vn").await.unwrap().unwrap();
    assert_eq!(unit.kind, MailboxKind::Unit);
    assert_eq!(unit.name, "Sở Kế hoạch và Đầu tư");
    assert_eq!(unit.unit.as_deref(), Some("Sở Kế hoạch và Đầu tư"));
    let dir = directory(&[person("p", "employeeType: person"), person("q", "")]);
    for mail in ["p@danang.gov.vn", "q@danang.gov.vn"] {
        assert_eq!(dir.lookup(mail).await.unwrap().unwrap().kind, MailboxKind::Personal);
    }
}

#[test]
fn unusable_entries_are_skipped_and_ambiguous_ones_refused() {
    let no_uuid = "dn: uid=x,ou=people,dc=x\nobjectClass: inetOrgPerson\ncn: x\nmail: x@danang.gov.vn\n".to_owned();
    let no_mail = "dn: uid=y,ou=people,dc=x\nobjectClass: inetOrgPerson\ncn: y\n".to_owned();
    let bad_uuid = format!("{no_uuid}entryUUID: not-a-uuid\n").replace("uid=x", "uid=z");
    let dir = directory(&[no_uuid, no_mail, bad_uuid, person("a", "")]);
    assert_eq!(dir.accounts.len(), 1);
    assert!(dir.find("x@danang.gov.vn").is_none());

    let twice = LdifDirectory::parse(&[person("a", ""), person("a", "")].join("\n"));
    assert!(matches!(twice, Err(LdifError::Syntax { line: 9, .. })), "{twice:?}");
    let same_mail = person("a", "").replace("uid=a,", "uid=other,").replace(&id("a"), &id("other"));
    let shared = LdifDirectory::parse(&[person("a", ""), same_mail].join("\n"));
    assert!(shared.unwrap_err().to_string().contains("two entries"));
}

#[test]
fn from_file_names_the_file() {
    let error = LdifDirectory::from_file("/nonexistent/demo.ldif").unwrap_err();
    assert!(matches!(error, LdifError::Read { .. }), "{error}");
    assert!(format!("{:?}", directory(&[person("a", &format!("userPassword: {HASH}"))])).contains("accounts: 1"));
}

/// The demo accounts as the README promises them:
/// mail | entryUUID | name | givenName | sn | unit | kind | groups.
const DEMO: &str = "\
dungnv@danang.gov.vn | b5638b9e-9d37-4dff-88f7-315bad2df2fa | Nguyễn Văn Dũng | Dũng | Nguyễn | Văn phòng UBND thành phố | personal | can-bo lanh-dao
dungnv1@danang.gov.vn | 3478c7b9-2e41-4014-9782-21c7c783359d | Nguyễn Văn Dũng | Dũng | Nguyễn | Sở Thông tin và Truyền thông | personal | can-bo van-thu
huongtt@danang.gov.vn | 87560757-f73e-454c-8b79-84ce72cb87d3 | Trần Thị Hương | Hương | Trần | Sở Kế hoạch và Đầu tư | personal | can-bo van-thu
haltt@danang.gov.vn | 32c1bd94-7794-45a5-801b-b0025f7c1601 | Lê Thị Thu Hà | Hà | Lê | Sở Tài chính | personal | can-bo lanh-dao quan-tri
thangpd@danang.gov.vn | 5826ba86-17c2-4547-bfca-fd7ff517880e | Phạm Đức Thắng | Thắng | Phạm | Sở Thông tin và Truyền thông | personal | can-bo lanh-dao
anhvn@danang.gov.vn | 9e84610b-72f2-4f5e-90d5-2308ad8c2483 | Võ Ngọc Ánh | Ánh | Võ | Sở Kế hoạch và Đầu tư | personal | can-bo
dungnv.danang@gmail.com | d73297c6-fce3-42b9-bf78-9517341fbad8 | Nguyễn Văn Dũng | Dũng | Nguyễn | | personal |
skhdt@danang.gov.vn | cf0af502-4eb8-421a-a6e5-bae570cf4bd6 | Sở Kế hoạch và Đầu tư | | Sở Kế hoạch và Đầu tư | Sở Kế hoạch và Đầu tư | unit |
stttt@danang.gov.vn | 25a69bb1-fbd9-4295-a80d-a4ede114979a | Sở Thông tin và Truyền thông | | Sở Thông tin và Truyền thông | Sở Thông tin và Truyền thông | unit |
vpubnd@danang.gov.vn | f1dda43d-172c-458d-9a4c-c06b47c091db | Văn phòng UBND thành phố | | Văn phòng UBND thành phố | Văn phòng UBND thành phố | unit |";

fn expected(row: &str) -> User {
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    let optional = |cell: &str| (!cell.is_empty()).then(|| cell.to_owned());
    User {
        mail: cells[0].into(),
        id: cells[1].into(),
        name: cells[2].into(),
        given_name: optional(cells[3]),
        family_name: optional(cells[4]),
        unit: optional(cells[5]),
        kind: if cells[6] == "unit" { MailboxKind::Unit } else { MailboxKind::Personal },
        groups: cells[7].split_whitespace().map(str::to_owned).collect(),
    }
}

#[tokio::test]
async fn the_demo_directory_signs_everyone_in() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo-directory.ldif");
    let dir = LdifDirectory::from_file(path).expect("the demo directory loads");
    for wanted in DEMO.lines().map(expected) {
        let outcome = sign_in(&dir, &wanted.mail, PASSWORD).await;
        assert_eq!(outcome, Ok(wanted.clone()), "{}", wanted.mail);
        assert_eq!(dir.lookup(&wanted.mail).await.unwrap(), Ok(wanted));
    }
    assert_eq!(sign_in(&dir, "khoanm@danang.gov.vn", PASSWORD).await, Err(Refusal::Disabled));
    assert_eq!(dir.lookup("khoanm@danang.gov.vn").await.unwrap(), Err(Refusal::Disabled));
    assert_eq!(sign_in(&dir, "dungnv@danang.gov.vn", "Danang@2025").await, Err(Refusal::WrongPassword));
    assert_eq!(dir.list().await.unwrap().len(), DEMO.lines().count(), "everyone but the locked account");
    let stored = std::fs::read_to_string(path).unwrap();
    assert!(stored.contains("\ncn:: "), "the demo keeps a decomposed (NFD) cn in base64");
}

#[tokio::test]
async fn what_slapd_writes_reads_the_same() {
    let root = env!("CARGO_MANIFEST_DIR");
    let ours = LdifDirectory::from_file(format!("{root}/config/demo-directory.ldif")).unwrap();
    let dumped = format!("{root}/src/directory/ldif/testdata/demo-slapcat.ldif");
    let slapcat = LdifDirectory::from_file(dumped).unwrap();
    assert_eq!(
        slapcat.list().await.unwrap(),
        ours.list().await.unwrap(),
        "changed the demo directory? load it into slapd and slapcat the fixture again"
    );
    let locked = slapcat.lookup("khoanm@danang.gov.vn").await.unwrap();
    assert_eq!(locked, Err(Refusal::Disabled));
    assert!(sign_in(&slapcat, "dungnv1@danang.gov.vn", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn locate_names_the_canonical_mailbox_of_an_alias_and_check_answers_as_authenticate() {
    let dir = directory(&[
        person("a", &format!("userPassword: {HASH}\nmail: alias.a@danang.gov.vn")),
        person("bb", &format!("userPassword: {HASH}\npwdAccountLockedTime: 000001010000Z")),
    ]);
    let located = dir.locate("Alias.A@danang.gov.vn").await.unwrap();
    assert_eq!(located.account.as_deref(), Some("a@danang.gov.vn"), "the alias is the account's first mailbox");
    assert_eq!(dir.check(located, PASSWORD).await.unwrap().map(|u| u.mail).as_deref(), Ok("a@danang.gov.vn"));
    let located = dir.locate("alias.a@danang.gov.vn").await.unwrap();
    assert_eq!(dir.check(located, "sai").await.unwrap(), Err(Refusal::WrongPassword));
    for (mail, refusal) in [("nobody@danang.gov.vn", Refusal::UnknownAccount), ("bb@danang.gov.vn", Refusal::Disabled)]
    {
        let located = dir.locate(mail).await.unwrap();
        assert_eq!(located.account, None, "{mail}: nothing to count beyond the typed name");
        assert_eq!(dir.check(located, PASSWORD).await.unwrap(), Err(refusal));
    }
}
