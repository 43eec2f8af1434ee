//! The LDAP adapter against real slapd servers: TLS (LDAPS, StartTLS, an untrusted CA), failover
//! and back-off, timeouts, the connection pools, and accounts changing under a running service.
//! Connection counts come from `LdapDirectory::servers()`, so nothing here depends on timing.

use danang_sso::clock::Clock;
use danang_sso::directory::ldap::{LdapDirectory, ServerStats};
use danang_sso::directory::{Directory, Refusal};

use crate::browser::PASSWORD;
use crate::directory_suite::{demo_slapd, ldap_config, ldap_directory};
use crate::harness::{Slapd, TestCa, free_port};

const DUNG: &str = "dungnv@danang.gov.vn";

/// The stats of a directory's two servers.
fn two(dir: &LdapDirectory) -> (ServerStats, ServerStats) {
    let [first, second]: [ServerStats; 2] = dir.servers().try_into().expect("two servers");
    (first, second)
}

#[tokio::test]
async fn ldaps_and_starttls_need_the_directorys_ca() {
    let ca = TestCa::new();
    let slapd = Slapd::start_with_tls(&ca);
    slapd.load_ldif(danang_sso::config::DEMO_LDIF);
    let ca_file = ca.dir.join("ca.pem");
    let ldaps = slapd.ldaps_url().expect("an ldaps:// URL");

    let mut config = ldap_config(&slapd);
    config.urls = vec![ldaps.clone()];
    config.ca_file = Some(ca_file.clone());
    let dir = ldap_directory(&config);
    assert_eq!(dir.authenticate(DUNG, PASSWORD).await.unwrap().map(|u| u.mail).as_deref(), Ok(DUNG), "LDAPS");

    config.urls = vec![slapd.url.clone()];
    config.starttls = true;
    let dir = ldap_directory(&config);
    assert_eq!(dir.authenticate(DUNG, PASSWORD).await.unwrap().map(|u| u.mail).as_deref(), Ok(DUNG), "StartTLS");

    // Another CA, and the platform's trust store (which never holds a test CA): refused.
    let other = TestCa::new();
    for (url, starttls) in [(ldaps, false), (slapd.url.clone(), true)] {
        for ca_file in [Some(other.dir.join("ca.pem")), None] {
            config.urls = vec![url.clone()];
            config.starttls = starttls;
            config.ca_file = ca_file.clone();
            let Ok(dir) = LdapDirectory::new(&config, Clock::default()) else {
                assert!(ca_file.is_none(), "a readable CA file sets up");
                continue; // a machine without any platform CA refuses at set-up: refused all the same
            };
            let error = dir.authenticate(DUNG, PASSWORD).await.expect_err("an untrusted certificate is refused");
            assert!(error.0.contains("certificate") || error.0.contains("UnknownIssuer"), "{url} {ca_file:?}: {error}");
            assert!(dir.ping().await.is_err());
        }
    }
}

#[tokio::test]
async fn failover_skips_a_closed_port_and_retries_it_only_after_the_back_off() {
    let slapd = demo_slapd();
    let clock = Clock::default();
    let mut config = ldap_config(&slapd);
    config.urls = vec![format!("ldap://127.0.0.1:{}", free_port()), slapd.url.clone()];
    config.pool_size = 4;
    config.retry_after_secs = 30;
    let dir = LdapDirectory::new(&config, clock.clone()).expect("set up");

    assert!(dir.authenticate(DUNG, PASSWORD).await.unwrap().is_ok(), "the second server answers");
    let (closed, open) = two(&dir);
    assert_eq!((closed.attempts, closed.failures, closed.connects, closed.down), (1, 1, 0, true));
    assert_eq!(open.connects, 2, "one search and one bind connection");

    // Two more search connections are opened while the back-off runs: neither tries the closed port.
    let (a, b, c) =
        tokio::join!(dir.lookup(DUNG), dir.lookup("haltt@danang.gov.vn"), dir.lookup("anhvn@danang.gov.vn"));
    assert!(a.unwrap().is_ok() && b.unwrap().is_ok() && c.unwrap().is_ok());
    let (closed, open) = two(&dir);
    assert_eq!((closed.attempts, open.connects), (1, 4));

    // Warm pools: sign-ins open no connection at all.
    for _ in 0..10 {
        assert!(dir.authenticate(DUNG, PASSWORD).await.unwrap().is_ok());
    }
    assert_eq!(two(&dir).1.connects, 4, "no TCP connection per login");

    // After the back-off, the next new connection tries the closed port again (and skips it again).
    clock.advance(31);
    assert!(!two(&dir).0.down);
    let (a, b, c, d) = tokio::join!(dir.lookup(DUNG), dir.lookup(DUNG), dir.lookup(DUNG), dir.lookup(DUNG));
    assert!([a, b, c, d].into_iter().all(|r| r.unwrap().is_ok()));
    let (closed, open) = two(&dir);
    assert_eq!((closed.attempts, closed.failures, open.connects), (2, 2, 5));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_the_next_one_serves() {
    let slapd = demo_slapd();
    // Accepted by the kernel's backlog, never answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut config = ldap_config(&slapd);
    config.urls = vec![format!("ldap://{}", silent.local_addr().unwrap()), slapd.url.clone()];
    config.timeout_ms = 300;
    let dir = ldap_directory(&config);
    assert!(dir.lookup(DUNG).await.unwrap().is_ok());
    let (silent_stats, open) = two(&dir);
    assert_eq!((silent_stats.failures, silent_stats.down, open.connects), (1, true, 1));

    // Only the silent one left: a clean Unavailable after the timeout, no hang, no panic.
    config.urls.truncate(1);
    let error = ldap_directory(&config).lookup(DUNG).await.expect_err("nobody answers");
    assert!(error.0.contains("no directory server answered"), "{error}");
}

#[tokio::test]
async fn a_users_bind_never_leaks_into_the_next_search() {
    let slapd = demo_slapd();
    let mut config = ldap_config(&slapd);
    config.pool_size = 1;
    let dir = ldap_directory(&config);
    // Users may read only their own entry here: a search made as dungnv would not find huongtt.
    assert!(dir.authenticate(DUNG, PASSWORD).await.unwrap().is_ok());
    assert_eq!(dir.lookup("huongtt@danang.gov.vn").await.unwrap().map(|u| u.name).as_deref(), Ok("Trần Thị Hương"));
    assert_eq!(dir.authenticate("haltt@danang.gov.vn", "sai").await.unwrap(), Err(Refusal::WrongPassword));
    assert!(dir.lookup("haltt@danang.gov.vn").await.unwrap().is_ok(), "a failed bind changes nothing either");
    assert!(dir.authenticate("haltt@danang.gov.vn", PASSWORD).await.unwrap().is_ok());
    assert_eq!(dir.servers()[0].connects, 2, "one connection per pool, reused");
}

#[tokio::test]
async fn removed_and_locked_accounts_are_refused_at_the_next_lookup() {
    let slapd = demo_slapd();
    let dir = ldap_directory(&ldap_config(&slapd));
    assert!(dir.lookup("anhvn@danang.gov.vn").await.unwrap().is_ok());
    slapd.modify("dn: uid=anhvn,ou=people,dc=danang,dc=gov,dc=vn\nchangetype: delete\n");
    assert_eq!(dir.lookup("anhvn@danang.gov.vn").await.unwrap(), Err(Refusal::UnknownAccount));
    assert_eq!(dir.authenticate("anhvn@danang.gov.vn", PASSWORD).await.unwrap(), Err(Refusal::UnknownAccount));

    let haltt = "dn: uid=haltt,ou=people,dc=danang,dc=gov,dc=vn\nchangetype: modify\n";
    slapd.modify(&format!("{haltt}add: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n"));
    assert_eq!(dir.lookup("haltt@danang.gov.vn").await.unwrap(), Err(Refusal::Disabled));
    assert_eq!(dir.authenticate("haltt@danang.gov.vn", PASSWORD).await.unwrap(), Err(Refusal::Disabled));
    slapd.modify(&format!("{haltt}delete: pwdAccountLockedTime\n"));
    assert!(dir.authenticate("haltt@danang.gov.vn", PASSWORD).await.unwrap().is_ok(), "unlocked");
}

#[tokio::test]
async fn the_service_password_comes_from_a_file_and_a_wrong_one_is_unavailable() {
    let slapd = demo_slapd();
    let file = std::env::temp_dir().join(format!("danang-sso-ldap-password-{}", free_port()));
    std::fs::write(&file, format!("{}\n", slapd.service_password)).expect("write the password file");
    let mut config = ldap_config(&slapd);
    config.bind_password = None;
    config.bind_password_file = Some(file.clone());
    let dir = ldap_directory(&config);
    let _ = std::fs::remove_file(&file);
    assert!(dir.authenticate(DUNG, PASSWORD).await.unwrap().is_ok(), "read once at start, newline trimmed");

    config.bind_password_file = None;
    config.bind_password = Some("not-the-password".into());
    let error = ldap_directory(&config).lookup(DUNG).await.expect_err("the service account cannot bind");
    assert!(error.0.contains("service account") && !error.0.contains("not-the-password"), "{error}");
}

#[tokio::test]
async fn a_stopped_slapd_is_unavailable_and_its_restart_is_picked_up() {
    let mut slapd = demo_slapd();
    let dir = ldap_directory(&ldap_config(&slapd));
    assert!(dir.authenticate(DUNG, PASSWORD).await.unwrap().is_ok());
    slapd.stop();
    assert!(dir.authenticate(DUNG, PASSWORD).await.is_err(), "pooled connections to a dead server are not trusted");
    assert!(dir.lookup(DUNG).await.is_err() && dir.ping().await.is_err() && dir.list().await.is_err());
    slapd.restart();
    // Within the back-off, but every server is down: they are tried anyway.
    assert!(dir.authenticate(DUNG, PASSWORD).await.unwrap().is_ok(), "back without a new directory");
    dir.ping().await.expect("ping after restart");
}
