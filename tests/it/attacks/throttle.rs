//! Password guessing in parallel: 200 simultaneous wrong passwords for one mailbox must not get more than
//! `account_free_failures` of them checked, because each attempt is reserved in the store *before* the password
//! goes to the directory (one Lua script in Redis, one critical section in memory). Counted where it matters:
//! slapd's own record of failed binds on the entry (ppolicy's `pwdFailureTime`), and the service's directory
//! metrics for the per-address limit. And the store's reservation contract, the same on memory and Redis.

use std::process::Command;

use danang_sso::clock::Clock;
use danang_sso::config::{Config, DirectoryKind, StoreKind};
use danang_sso::store::memory::MemoryStore;
use danang_sso::store::{Limit, Reservation, Store};
use futures_util::future::join_all;

use crate::app::{TestApp, http, test_config};
use crate::browser::{Browser, Page};
use crate::directory_suite::{demo_slapd, ldap_config};
use crate::harness::{Redis, Slapd};
use crate::rp::Rp;
use crate::store_suite::redis_store;

const ATTEMPTS: usize = 200;
const FREE: u64 = 3;

/// The service over `slapd`, 3 free failures per mailbox, the address limit out of the way.
fn config(slapd: &Slapd) -> Config {
    let mut config = test_config();
    config.directory.kind = DirectoryKind::Ldap;
    config.ldap = ldap_config(slapd);
    config.ldap.pool_size = 16;
    let t = &mut config.throttle;
    (t.account_free_failures, t.account_max_failures) = (FREE, 10);
    // The wait the 3rd failure starts outlasts the whole burst even on a slow, shared machine; the default 2 s
    // could end mid-burst and rightly admit a 4th attempt.
    t.base_delay_secs = 120;
    (t.ip_free_failures, t.ip_max_failures) = (10_000, 20_000);
    config
}

/// slapd records every failed bind on the entry (`pwdFailureTime`, one value each) once its policy counts them;
/// the limit is far above the attack so nothing locks.
fn count_failed_binds_in(slapd: &Slapd) {
    slapd.modify(
        "dn: cn=default,ou=policies,dc=danang,dc=gov,dc=vn\nchangetype: modify\nreplace: pwdMaxFailure\n\
         pwdMaxFailure: 100000\n-\nreplace: pwdMaxRecordedFailure\npwdMaxRecordedFailure: 100000\n",
    );
}

/// The failed binds slapd recorded for `uid`, read as the directory's administrator.
fn failed_binds(slapd: &Slapd, uid: &str) -> usize {
    let output = Command::new("ldapsearch")
        .env("LDAPNOINIT", "1")
        .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-H", &slapd.url, "-D", &slapd.admin_dn, "-w"])
        .arg(&slapd.admin_password)
        .args(["-b", &format!("uid={uid},ou=people,{}", slapd.base_dn), "-s", "base", "(objectClass=*)"])
        .arg("pwdFailureTime")
        .output()
        .expect("run ldapsearch (apt-get install ldap-utils)");
    assert!(output.status.success(), "ldapsearch: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().filter(|l| l.starts_with("pwdFailureTime:")).count()
}

/// `n` browsers, each holding a fresh sign-in form of the portal.
async fn forms(app: &TestApp, n: usize) -> Vec<(Browser, Page)> {
    let portal = Rp::demo(&app.url, "portal").await;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut browser = Browser::new();
        let form = browser.get(&portal.start(&[], &[]).url).await;
        out.push((browser, form));
    }
    out
}

/// Posts every form at once with `user` and a wrong password; the statuses.
async fn all_at_once(app: &TestApp, forms: Vec<(Browser, Page)>, user: impl Fn(usize) -> String) -> Vec<u16> {
    let posts = forms.into_iter().enumerate().map(|(i, (mut browser, form))| {
        let (issuer, user) = (app.url.clone(), user(i));
        tokio::spawn(async move { browser.sign_in(&issuer, &form, &user, "sai-mat-khau").await.status.as_u16() })
    });
    join_all(posts).await.into_iter().map(|r| r.expect("a sign-in task")).collect()
}

async fn two_hundred_wrong_passwords_check_at_most_the_free_ones(config: Config, slapd: &Slapd) {
    count_failed_binds_in(slapd);
    let app = TestApp::start_with(config).await;
    let forms = forms(&app, ATTEMPTS).await;
    let statuses = all_at_once(&app, forms, |_| "dungnv".into()).await;
    let checked = failed_binds(slapd, "dungnv");
    assert!(
        (1..=FREE as usize).contains(&checked),
        "{checked} passwords reached the directory, at most {FREE} may (account_free_failures)"
    );
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "only refusals: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), checked, "each checked password is a 200 refusal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_parallel_wrong_passwords_check_at_most_the_free_failures_memory_store() {
    let slapd = demo_slapd();
    two_hundred_wrong_passwords_check_at_most_the_free_ones(config(&slapd), &slapd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_parallel_wrong_passwords_check_at_most_the_free_failures_redis_store() {
    let slapd = demo_slapd();
    let redis = Redis::start();
    let mut config = config(&slapd);
    config.store.kind = StoreKind::Redis;
    config.store.redis_url = Some(redis.url.clone());
    config.store.key_prefix = "attack-throttle:".into();
    two_hundred_wrong_passwords_check_at_most_the_free_ones(config, &slapd).await;
}

/// The directory's own count of password checks, from `/metrics`.
async fn authentications(app: &TestApp) -> u64 {
    let text = http().get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| {
            l.starts_with("danang_sso_directory_") && l.contains("_count{") && l.contains("op=\"authenticate\"")
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_parallel_guesses_from_one_address_over_many_mailboxes_check_at_most_its_free_failures() {
    let mut config = test_config();
    (config.throttle.ip_free_failures, config.throttle.ip_max_failures) = (5, 50);
    // As for the mailbox: the wait the 5th failure starts must outlast the burst on a slow, shared machine (with
    // the default 2 s a loaded run rightly admitted a 6th attempt).
    config.throttle.base_delay_secs = 120;
    let app = TestApp::start_with(config).await;
    let forms = forms(&app, ATTEMPTS).await;
    let before = authentications(&app).await;
    let statuses = all_at_once(&app, forms, |i| format!("khach{i}")).await;
    let checked = authentications(&app).await - before;
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "only refusals: {statuses:?}");
    assert!((1..=5).contains(&checked), "{checked} passwords checked from one address, at most 5 may");
}

/// `Store::reserve` and `release` on one store: the schedule, giving back, clearing, the window, and 50
/// simultaneous reservations of which exactly the free ones are granted. Both stores read the service clock.
async fn reservations_keep_the_contract(store: &dyn Store, clock: &Clock) {
    use Reservation::{Granted, Refused};
    let limit = Limit { window_secs: 100, free: 2, max: 4, base_delay_secs: 5, lockout_secs: 50 };
    let burst = join_all((0..50).map(|_| store.reserve("contract:burst", &limit))).await;
    let granted: Vec<u64> = burst
        .into_iter()
        .filter_map(|r| match r.expect("the store answers") {
            Granted { count, .. } => Some(count),
            Refused { wait } => {
                assert_eq!(wait, 5);
                None
            }
        })
        .collect();
    assert_eq!(granted.len(), 2, "exactly the free reservations of 50 at once: {granted:?}");

    let key = "contract:one";
    let reserve = || async { store.reserve(key, &limit).await.expect("the store answers") };
    assert_eq!(reserve().await, Granted { count: 1, wait: 0 });
    assert_eq!(reserve().await, Granted { count: 2, wait: 5 });
    assert_eq!(reserve().await, Refused { wait: 5 });
    store.release(key, 2, false).await.unwrap();
    assert_eq!(reserve().await, Granted { count: 2, wait: 5 }, "giving back the attempt lifts the wait it started");
    clock.advance(6);
    assert_eq!(reserve().await, Granted { count: 3, wait: 10 });
    clock.advance(11);
    assert_eq!(reserve().await, Granted { count: 4, wait: 50 }, "the maximum locks out");
    clock.advance(20);
    assert_eq!(reserve().await, Refused { wait: 30 });
    store.release(key, 0, true).await.unwrap();
    assert_eq!(reserve().await, Granted { count: 1, wait: 0 }, "clearing forgets attempts and wait");
    clock.advance(101);
    assert_eq!(reserve().await, Granted { count: 1, wait: 0 }, "a new window starts counting again");
}

#[tokio::test]
async fn the_memory_store_reserves_attempts_atomically() {
    let clock = Clock::default();
    reservations_keep_the_contract(&MemoryStore::new(clock.clone()), &clock).await;
}

#[tokio::test]
async fn the_redis_store_reserves_attempts_atomically() {
    let redis = Redis::start();
    let clock = Clock::default();
    reservations_keep_the_contract(&redis_store(&redis, "attack-contract:", clock.clone()), &clock).await;
}

/// One account reachable by two typed names: slapd's entry for `dungnv` gets a second `mail` value, which the
/// OpenLDAP preset's filter (`mail={login}`) matches as well. Wrong passwords alternating between the two names
/// must count against the one account the directory found, not give each name its own free tries.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_alternating_between_an_alias_and_the_mailbox_check_at_most_the_free_ones_in_total() {
    let slapd = demo_slapd();
    slapd.modify(&format!(
        "dn: uid=dungnv,ou=people,{}\nchangetype: modify\nadd: mail\nmail: dung.nguyen@danang.gov.vn\n",
        slapd.base_dn
    ));
    count_failed_binds_in(&slapd);
    let app = TestApp::start_with(config(&slapd)).await;
    let forms = forms(&app, ATTEMPTS).await;
    let names = ["dungnv", "dung.nguyen"];
    let statuses = all_at_once(&app, forms, |i| names[i % 2].into()).await;
    let checked = failed_binds(&slapd, "dungnv");
    assert!(
        (1..=FREE as usize).contains(&checked),
        "{checked} passwords reached the directory through two names, at most {FREE} may in total"
    );
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "only refusals: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), checked, "each checked password is a 200 refusal");
}
