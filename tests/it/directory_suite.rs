//! One directory test suite, run against the embedded LDIF directory and against the LDAP adapter
//! talking to a real slapd loaded with the same `config/demo-directory.ldif`: both must give the
//! same answers. The service completes `dungnv` to `dungnv@danang.gov.vn` before asking, so the
//! directory always gets full addresses; it applies no domain policy of its own.

use danang_sso::clock::Clock;
use danang_sso::config::{DEMO_LDIF, LdapConfig};
use danang_sso::directory::ldap::LdapDirectory;
use danang_sso::directory::ldif::LdifDirectory;
use danang_sso::directory::{Directory, MailboxKind, Refusal, User};

use crate::browser::PASSWORD;
use crate::harness::Slapd;

/// Inputs that would widen or break a filter built by pasting text: they must find nothing.
const INJECTIONS: [&str; 6] = ["*)(uid=*", r"\00", "\0", "*", "dungnv@danang.gov.vn)(|(uid=*", "*@danang.gov.vn"];

/// A slapd holding the demo directory (entryUUIDs and the lock kept, memberOf filled in).
pub fn demo_slapd() -> Slapd {
    let slapd = Slapd::start();
    slapd.load_ldif(DEMO_LDIF);
    slapd
}

/// `[ldap]` for a harness slapd: its plain URL, its service account, the openldap preset.
pub fn ldap_config(slapd: &Slapd) -> LdapConfig {
    LdapConfig {
        urls: vec![slapd.url.clone()],
        bind_dn: Some(slapd.service_dn.clone()),
        bind_password: Some(slapd.service_password.clone()),
        base_dn: slapd.base_dn.clone(),
        ..LdapConfig::default()
    }
}

pub fn ldap_directory(config: &LdapConfig) -> LdapDirectory {
    LdapDirectory::new(config, Clock::default()).expect("the LDAP directory sets up")
}

fn ldif_directory() -> LdifDirectory {
    LdifDirectory::parse(DEMO_LDIF).expect("the demo directory parses")
}

async fn sign_in(dir: &dyn Directory, mail: &str, password: &str) -> Result<User, Refusal> {
    dir.authenticate(mail, password).await.expect("the directory answers")
}

async fn look_up(dir: &dyn Directory, mail: &str) -> Result<User, Refusal> {
    dir.lookup(mail).await.expect("the directory answers")
}

/// Everything the rest of the service relies on, asked of one directory.
async fn suite(dir: &dyn Directory) {
    let dung = sign_in(dir, "dungnv@danang.gov.vn", PASSWORD).await.expect("dungnv signs in");
    assert_eq!(dung.id, "b5638b9e-9d37-4dff-88f7-315bad2df2fa", "the entryUUID");
    assert_eq!(
        (dung.name.as_str(), dung.given_name.as_deref(), dung.family_name.as_deref()),
        ("Nguyễn Văn Dũng", Some("Dũng"), Some("Nguyễn"))
    );
    assert_eq!((dung.unit.as_deref(), dung.kind), (Some("Văn phòng UBND thành phố"), MailboxKind::Personal));
    assert_eq!(dung.groups, ["can-bo", "lanh-dao"]);
    assert_eq!(look_up(dir, "dungnv@danang.gov.vn").await, Ok(dung.clone()), "lookup says the same");

    // Mixed case in the directory and in the input; a member DN written with spaces still counts.
    let huong = sign_in(dir, "HuongTT@Danang.gov.vn", PASSWORD).await.expect("huongtt signs in");
    assert_eq!(
        (huong.mail.as_str(), huong.groups.as_slice()),
        ("huongtt@danang.gov.vn", &["can-bo".to_owned(), "van-thu".to_owned()][..])
    );
    let thang = look_up(dir, "thangpd@danang.gov.vn").await.expect("thangpd");
    assert_eq!(thang.name, "Phạm Đức Thắng", "displayName before cn");

    // Stored decomposed (NFD, base64 in the LDIF): served composed.
    let dung1 = sign_in(dir, "dungnv1@danang.gov.vn", PASSWORD).await.expect("dungnv1 signs in");
    assert_eq!((dung1.name.as_str(), dung1.given_name.as_deref()), ("Nguyễn Văn Dũng", Some("Dũng")));
    assert!(unicode_normalization::is_nfc(&dung1.name) && dung1.name.chars().count() == 15);
    assert_ne!(dung1.id, dung.id, "a namesake is another person");

    let unit = sign_in(dir, "skhdt@danang.gov.vn", PASSWORD).await.expect("a unit mailbox signs in");
    assert_eq!((unit.kind, unit.given_name.as_deref(), unit.groups.len()), (MailboxKind::Unit, None, 0));
    assert_eq!(unit.name, "Sở Kế hoạch và Đầu tư");

    // Refusals.
    assert_eq!(sign_in(dir, "dungnv@danang.gov.vn", "danang@2026").await, Err(Refusal::WrongPassword));
    assert_eq!(sign_in(dir, "dungnv@danang.gov.vn", "").await, Err(Refusal::WrongPassword));
    assert_eq!(sign_in(dir, "khongco@danang.gov.vn", "").await, Err(Refusal::WrongPassword));
    assert_eq!(sign_in(dir, "khongco@danang.gov.vn", PASSWORD).await, Err(Refusal::UnknownAccount));
    assert_eq!(look_up(dir, "khongco@danang.gov.vn").await, Err(Refusal::UnknownAccount));
    // Locked: refused even with the right password, and at every re-check.
    assert_eq!(sign_in(dir, "khoanm@danang.gov.vn", PASSWORD).await, Err(Refusal::Disabled));
    assert_eq!(sign_in(dir, "khoanm@danang.gov.vn", "sai").await, Err(Refusal::Disabled));
    assert_eq!(look_up(dir, "khoanm@danang.gov.vn").await, Err(Refusal::Disabled));

    // Another domain: the directory knows the account; refusing it is the policy's job.
    let gmail = sign_in(dir, "dungnv.danang@gmail.com", PASSWORD).await.expect("the directory does not apply policy");
    assert_eq!((gmail.id.as_str(), gmail.unit), ("d73297c6-fce3-42b9-bf78-9517341fbad8", None));

    for input in INJECTIONS {
        assert_eq!(sign_in(dir, input, PASSWORD).await, Err(Refusal::UnknownAccount), "{input:?}");
        assert_eq!(look_up(dir, input).await, Err(Refusal::UnknownAccount), "{input:?}");
    }
    assert_eq!(look_up(dir, "dungnv@danang.gov.vn").await, Ok(dung), "nothing broke");

    let mut listed: Vec<String> = dir.list().await.expect("list").into_iter().map(|u| u.mail).collect();
    listed.sort();
    let expected = [
        "anhvn@danang.gov.vn",
        "dungnv.danang@gmail.com",
        "dungnv1@danang.gov.vn",
        "dungnv@danang.gov.vn",
        "haltt@danang.gov.vn",
        "huongtt@danang.gov.vn",
        "skhdt@danang.gov.vn",
        "stttt@danang.gov.vn",
        "thangpd@danang.gov.vn",
        "vpubnd@danang.gov.vn",
    ];
    assert_eq!(listed, expected, "every account but the locked one");
    dir.ping().await.expect("ping");
}

#[tokio::test]
async fn the_ldif_directory_passes_the_suite() {
    suite(&ldif_directory()).await;
}

#[tokio::test]
async fn the_ldap_directory_passes_the_suite_against_slapd() {
    let slapd = demo_slapd();
    suite(&ldap_directory(&ldap_config(&slapd))).await;
}

/// Beyond the suite's spot checks: every account, every answer, field for field.
#[tokio::test]
async fn ldap_and_ldif_give_identical_answers() {
    let slapd = demo_slapd();
    let (ldap, ldif) = (ldap_directory(&ldap_config(&slapd)), ldif_directory());
    let by_mail = |mut users: Vec<User>| {
        users.sort_by(|a, b| a.mail.cmp(&b.mail));
        users
    };
    let everyone = by_mail(ldif.list().await.unwrap());
    assert_eq!(by_mail(ldap.list().await.expect("ldap list")), everyone);
    let mut mails: Vec<&str> = everyone.iter().map(|u| u.mail.as_str()).collect();
    mails.extend(["khoanm@danang.gov.vn", "KHOANM@danang.gov.vn", " anhvn@danang.gov.vn ", "nobody@danang.gov.vn"]);
    mails.extend(INJECTIONS);
    for mail in mails {
        assert_eq!(look_up(&ldap, mail).await, look_up(&ldif, mail).await, "lookup {mail:?}");
        for password in [PASSWORD, "Danang@2025", ""] {
            let (a, b) = (sign_in(&ldap, mail, password).await, sign_in(&ldif, mail, password).await);
            assert_eq!(a, b, "authenticate {mail:?} with {password:?}");
        }
    }
}
