//! The two fixes issue 18 makes on the way: the CLI uses the directory however it is configured (here: only
//! through `DANANG_SSO__…` environment variables, no config file), and `[ldap] unit_filter` recognises unit
//! mailboxes that a directory marks its own way (real slapd, `/danh-ba` and the directory's `kind`).

use std::process::Command;

use danang_sso::config::DirectoryKind;
use danang_sso::directory::{Directory, MailboxKind};

use crate::app::{TestApp, http, test_config};
use crate::cityrules::{stderr, stdout};
use crate::directory_suite::{demo_slapd, ldap_config, ldap_directory};

#[tokio::test]
async fn mailbox_name_finds_the_clash_in_a_directory_configured_only_by_environment() {
    let slapd = demo_slapd();
    let (url, dn, pw, base) =
        (slapd.url.clone(), slapd.service_dn.clone(), slapd.service_password.clone(), slapd.base_dn.clone());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_danang-sso"))
            .args(["mailbox-name", "Nguyễn Văn Dũng"])
            .env_clear()
            .env("DANANG_SSO__DIRECTORY__KIND", "ldap")
            .env("DANANG_SSO__LDAP__URLS", format!("[\"{url}\"]"))
            .env("DANANG_SSO__LDAP__BIND_DN", dn)
            .env("DANANG_SSO__LDAP__BIND_PASSWORD", pw)
            .env("DANANG_SSO__LDAP__BASE_DN", base)
            .output()
            .expect("run danang-sso")
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "dungnv2@danang.gov.vn\n", "dungnv and dungnv1 exist in the slapd: {}", stderr(&out));
    assert!(stderr(&out).contains("dungnv@danang.gov.vn is taken"), "{}", stderr(&out));
}

/// The mailboxes `/danh-ba` lists, in order.
async fn listed(app: &TestApp) -> Vec<String> {
    let body = http().get(format!("{}/danh-ba", app.url)).send().await.unwrap().text().await.unwrap();
    body.split("<a href=\"mailto:").skip(1).map(|rest| rest.split('"').next().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn unit_filter_recognises_units_marked_the_directorys_own_way() {
    let slapd = demo_slapd();
    // This directory marks unit mailboxes `employeeType: unit-mailbox`; skhdt is marked so, the other two demo
    // units keep `unit`, which now means nothing.
    slapd.modify(
        "dn: uid=skhdt,ou=people,dc=danang,dc=gov,dc=vn\nchangetype: modify\nreplace: employeeType\n\
         employeeType: unit-mailbox\n",
    );
    let mut ldap = ldap_config(&slapd);
    let before = ldap_directory(&ldap).lookup("skhdt@danang.gov.vn").await.unwrap().unwrap();
    assert_eq!(before.kind, MailboxKind::Personal, "without unit_filter only `unit` marks a unit");

    ldap.unit_filter = Some("(employeeType=unit-mailbox)".into());
    let dir = ldap_directory(&ldap);
    assert_eq!(dir.lookup("skhdt@danang.gov.vn").await.unwrap().unwrap().kind, MailboxKind::Unit);
    assert_eq!(dir.lookup("stttt@danang.gov.vn").await.unwrap().unwrap().kind, MailboxKind::Personal);
    assert_eq!(dir.lookup("dungnv@danang.gov.vn").await.unwrap().unwrap().kind, MailboxKind::Personal);

    let mut config = test_config();
    config.directory.kind = DirectoryKind::Ldap;
    config.ldap = ldap.clone();
    config.directory_page.enabled = Some(true);
    let app = TestApp::start_with(config.clone()).await;
    assert_eq!(listed(&app).await, ["skhdt@danang.gov.vn"], "/danh-ba lists the units the filter marks");

    // A directory that keeps units in a branch of their own: an extensible match on the DN.
    slapd.load_ldif(
        "dn: ou=units,dc=danang,dc=gov,dc=vn\nobjectClass: organizationalUnit\nou: units\n\n\
         dn: uid=syt,ou=units,dc=danang,dc=gov,dc=vn\nobjectClass: inetOrgPerson\nuid: syt\ncn: Sở Y tế\nsn: Sở Y tế\n\
         mail: syt@danang.gov.vn\nou: Sở Y tế\n",
    );
    config.ldap.unit_filter = Some("(ou:dn:=units)".into());
    let dir = ldap_directory(&config.ldap);
    assert_eq!(dir.lookup("syt@danang.gov.vn").await.unwrap().unwrap().kind, MailboxKind::Unit);
    assert_eq!(dir.lookup("skhdt@danang.gov.vn").await.unwrap().unwrap().kind, MailboxKind::Personal);
    let app = TestApp::start_with(config).await;
    assert_eq!(listed(&app).await, ["syt@danang.gov.vn"]);
}

#[test]
fn an_invalid_unit_filter_is_refused_at_start() {
    let mut ldap = danang_sso::config::LdapConfig {
        urls: vec!["ldap://127.0.0.1:1".into()],
        ..danang_sso::config::LdapConfig::default()
    };
    ldap.unit_filter = Some("(employeeType=unit".into());
    let error = danang_sso::directory::ldap::LdapDirectory::new(&ldap, danang_sso::clock::Clock::default())
        .expect_err("a broken filter");
    assert_eq!(error.to_string(), "ldap.unit_filter: not a valid LDAP filter: (employeeType=unit");
}
