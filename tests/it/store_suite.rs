//! One store test suite, two adapters: the same checks run against the memory store and against a real
//! redis-server, so both keep the `Store` contract the same way (expiry, single-use codes under concurrency,
//! refresh rotation with reuse detection, sessions ending with their grants, the per-account index, counters,
//! last sign-in).

use std::time::Duration;

use danang_sso::clock::Clock;
use danang_sso::config::{StoreConfig, StoreKind};
use danang_sso::directory::{MailboxKind, User};
use danang_sso::store::memory::MemoryStore;
use danang_sso::store::redis::RedisStore;
use danang_sso::store::{AuthCode, Grant, Redemption, Rotation, SPENT_CODE_GRACE_SECS, Session, Store};
use futures_util::future::join_all;

use crate::harness::Redis;

/// How the suite lets time go by for a store.
pub enum Time {
    /// The memory store only reads the service clock: moving it is enough.
    Clock(Clock),
    /// Redis drops keys in real time, so time really passes; the store's clock is the real one.
    Real(Clock),
}

impl Time {
    fn clock(&self) -> &Clock {
        match self {
            Time::Clock(c) | Time::Real(c) => c,
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock().now()
    }

    /// Lets `secs` seconds pass (keep it short: Redis waits for real).
    pub(crate) async fn pass(&self, secs: u64) {
        match self {
            Time::Clock(c) => c.advance(secs as i64),
            Time::Real(_) => tokio::time::sleep(Duration::from_millis(secs * 1000 + 50)).await,
        }
    }

    /// Moves the service clock only, for periods too long to wait for: both stores must honour the service
    /// clock, not just their own expiry, for the answers they give.
    fn jump(&self, secs: u64) {
        self.clock().advance(secs as i64);
    }
}

#[tokio::test]
async fn the_memory_store_keeps_the_contract() {
    let clock = Clock::default();
    let store = MemoryStore::new(clock.clone());
    suite(&store, &Time::Clock(clock)).await;
}

#[tokio::test]
async fn the_redis_store_keeps_the_contract() {
    let redis = Redis::start();
    let clock = Clock::default();
    let store = redis_store(&redis, "suite:", clock.clone());
    suite(&store, &Time::Real(clock)).await;
}

/// The same over RESP3 (`?protocol=resp3`, which operators may choose): scripts must answer alike.
#[tokio::test]
async fn the_redis_store_keeps_the_contract_over_resp3() {
    let redis = Redis::start();
    let clock = Clock::default();
    let mut config = redis_config(&redis, "suite3:");
    config.redis_url = Some(format!("{}/?protocol=resp3", redis.url));
    let store = RedisStore::new(&config, clock.clone()).expect("a redis store");
    suite(&store, &Time::Real(clock)).await;
}

/// The store config for `redis` under `prefix`.
pub fn redis_config(redis: &Redis, prefix: &str) -> StoreConfig {
    StoreConfig {
        kind: StoreKind::Redis,
        redis_url: Some(redis.url.clone()),
        key_prefix: prefix.into(),
        timeout_ms: 2000,
        ca_file: None,
        ..StoreConfig::default()
    }
}

pub fn redis_store(redis: &Redis, prefix: &str, clock: Clock) -> RedisStore {
    RedisStore::new(&redis_config(redis, prefix), clock).expect("a redis store")
}

/// Every check, in an order where the clock jump (spent-code grace) comes last.
pub async fn suite(store: &dyn Store, time: &Time) {
    store.ping().await.expect("the store answers");
    sessions_and_the_account_index(store, time).await;
    codes_are_single_use_under_concurrency(store, time).await;
    refresh_rotation_and_reuse_revoke_the_family(store, time).await;
    ending_a_session_revokes_its_grants(store, time).await;
    last_sign_ins_are_kept(store).await;
    crate::store_par::pushed_requests_and_consents(store, time).await;
    crate::store_par::webauthn_challenges(store, time).await;
    expiry_and_counter_windows(store, time).await;
    a_spent_code_is_remembered_for_the_grace(store, time).await;
    an_accounts_grants_are_revoked_together(store, time).await;
    peeking_a_code_does_not_spend_it(store, time).await;
    a_grant_is_written_only_while_its_session_lives(store, time).await;
    a_sessions_metadata_is_kept(store, time).await;
    second_factor_records(store).await;
}

/// The token endpoint reads a code (to check who presents it) before spending it: reading changes nothing.
async fn peeking_a_code_does_not_spend_it(store: &dyn Store, time: &Time) {
    let c = code("grant-of-peek", "sid-p", time.now() + 60);
    store.put_code("peek-hash", &c).await.unwrap();
    for _ in 0..2 {
        assert_eq!(store.peek_code("peek-hash").await.unwrap(), Redemption::Fresh(Box::new(c.clone())));
    }
    assert_eq!(store.redeem_code("peek-hash").await.unwrap(), Redemption::Fresh(Box::new(c.clone())));
    let spent = Redemption::Spent { grant_id: "grant-of-peek".into() };
    assert_eq!(store.peek_code("peek-hash").await.unwrap(), spent, "a spent code reads as spent");
    assert_eq!(store.peek_code("never-issued").await.unwrap(), Redemption::Unknown);
    store.put_code("dead-peek", &code("g-dead-peek", "sid-p", time.now() + 1)).await.unwrap();
    time.jump(2);
    assert_eq!(store.peek_code("dead-peek").await.unwrap(), Redemption::Unknown, "expired by the service clock");
    time.clock().advance(-2);
}

/// A logout between the token endpoint's session check and its grant write must not leave a live grant.
async fn a_grant_is_written_only_while_its_session_lives(store: &dyn Store, time: &Time) {
    let later = time.now() + 3600;
    store.put_session(&session("guarded", "binhlt@danang.gov.vn", later)).await.unwrap();
    assert!(store.put_session_grant(&grant("while-live", Some("guarded"), Some("r1"), later)).await.unwrap());
    assert!(store.grant("while-live").await.unwrap().is_some());
    let (_, ended) = store.end_session("guarded").await.unwrap().expect("the session ends");
    assert_eq!(ended.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["while-live"]);
    assert!(!store.put_session_grant(&grant("after-logout", Some("guarded"), Some("r2"), later)).await.unwrap());
    assert_eq!(store.grant("after-logout").await.unwrap(), None, "nothing was written");
    assert!(!store.put_session_grant(&grant("no-such", Some("never-was"), None, later)).await.unwrap());
    assert!(store.put_session_grant(&grant("service", None, None, later)).await.unwrap(), "no session, no guard");
    assert!(store.grant("service").await.unwrap().is_some());
}

/// One sealed record per account, replaced whole and removed by a reset.
async fn second_factor_records(store: &dyn Store) {
    let a = "mfa-record@danang.gov.vn";
    assert_eq!(store.mfa_factors(a).await.unwrap(), None);
    store.put_mfa_factors(a, "sealed-1").await.unwrap();
    store.put_mfa_factors(a, "sealed-2").await.unwrap();
    assert_eq!(store.mfa_factors(a).await.unwrap().as_deref(), Some("sealed-2"));
    assert!(store.delete_mfa_factors(a).await.unwrap());
    assert!(!store.delete_mfa_factors(a).await.unwrap());
    assert_eq!(store.mfa_factors(a).await.unwrap(), None);
}

/// What `/tai-khoan` and `/quan-tri` show of a session (browser, address, started, last used, factors) survives
/// the store, and a touch rewrites it in place.
async fn a_sessions_metadata_is_kept(store: &dyn Store, time: &Time) {
    let now = time.now();
    let ua =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 ".repeat(3);
    let s = Session {
        amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
        ..session("meta-1", "meta@danang.gov.vn", now + 3600)
    }
    .with_origin(Some("203.0.113.7".parse().unwrap()), Some(&ua), now - 120);
    assert_eq!(s.user_agent.as_ref().unwrap().chars().count(), Session::USER_AGENT_MAX);
    store.put_session(&s).await.unwrap();
    let read = store.session("meta-1").await.unwrap().expect("stored");
    assert_eq!(read, s);
    assert_eq!((read.ip.as_deref(), read.started, read.last_used), (Some("203.0.113.7"), now - 120, now - 120));
    assert!(read.has_second_factor());
    let touched = read.touched(now).expect("two minutes old: written again");
    assert!(touched.touched(now + 59).is_none(), "at most once a minute");
    store.put_session(&touched).await.unwrap();
    let listed = store.sessions_of("meta@danang.gov.vn").await.unwrap();
    assert_eq!(
        listed.iter().map(|s| (s.id.as_str(), s.last_used, s.started)).collect::<Vec<_>>(),
        [("meta-1", now, now - 120)]
    );
    store.end_session("meta-1").await.unwrap();
}

/// Incident response: every grant of one account goes, with or without a live session; others stay.
async fn an_accounts_grants_are_revoked_together(store: &dyn Store, time: &Time) {
    let later = time.now() + 3600;
    let mut offline = grant("acct-offline", Some("gone-session"), Some("r1"), later);
    offline.user = Some(user("anhvn@danang.gov.vn"));
    let mut bound = grant("acct-bound", Some("acct-s"), Some("r2"), later);
    bound.user = Some(user("anhvn@danang.gov.vn"));
    let mut other = grant("acct-other", Some("acct-s2"), None, later);
    other.user = Some(user("haltt@danang.gov.vn"));
    let service = grant("acct-service", None, None, later);
    for g in [&offline, &bound, &other, &service] {
        store.put_grant(g).await.unwrap();
    }
    let mut revoked: Vec<String> =
        store.revoke_account_grants("anhvn@danang.gov.vn").await.unwrap().into_iter().map(|g| g.id).collect();
    revoked.sort();
    assert_eq!(revoked, ["acct-bound", "acct-offline"]);
    assert_eq!(store.grant("acct-offline").await.unwrap(), None);
    assert!(store.grant("acct-other").await.unwrap().is_some(), "another account's grant stays");
    assert!(store.grant("acct-service").await.unwrap().is_some(), "a service grant stays");
    assert!(store.revoke_account_grants("anhvn@danang.gov.vn").await.unwrap().is_empty());
}

pub fn user(mail: &str) -> User {
    User {
        id: format!("id-{mail}"),
        mail: mail.into(),
        name: "Nguyễn Văn Dũng".into(),
        given_name: Some("Dũng".into()),
        family_name: Some("Nguyễn".into()),
        groups: vec!["can-bo".into(), "lanh-dao".into()],
        unit: Some("Văn phòng UBND thành phố".into()),
        kind: MailboxKind::Personal,
    }
}

pub fn session(id: &str, account: &str, expires_at: u64) -> Session {
    Session {
        id: id.into(),
        account: account.into(),
        subject: format!("id-{account}"),
        auth_time: 1,
        expires_at,
        ..Session::default()
    }
}

pub fn code(grant_id: &str, sid: &str, expires_at: u64) -> AuthCode {
    AuthCode {
        client_id: "portal".into(),
        redirect_uri: "http://127.0.0.1:8081/callback".into(),
        scope: "openid profile offline_access".into(),
        nonce: Some("nonce".into()),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        sid: sid.into(),
        auth_time: 1,
        user: user("dungnv@danang.gov.vn"),
        grant_id: grant_id.into(),
        expires_at,
        amr: Vec::new(),
    }
}

pub fn grant(id: &str, sid: Option<&str>, refresh: Option<&str>, expires_at: u64) -> Grant {
    Grant {
        id: id.into(),
        client_id: "portal".into(),
        sid: sid.map(Into::into),
        scope: "openid offline_access".into(),
        auth_time: 1,
        user: sid.map(|_| user("dungnv@danang.gov.vn")),
        refresh_hash: refresh.map(Into::into),
        expires_at,
        amr: Vec::new(),
        issued_at: 1,
    }
}

fn ids(mut sessions: Vec<Session>) -> Vec<String> {
    sessions.sort_by(|a, b| a.id.cmp(&b.id));
    sessions.into_iter().map(|s| s.id).collect()
}

async fn sessions_and_the_account_index(store: &dyn Store, time: &Time) {
    let later = time.now() + 3600;
    let (a, b) = ("huongtt@danang.gov.vn", "thangpd@danang.gov.vn");
    for s in [session("idx-1", a, later), session("idx-2", a, later), session("idx-3", b, later)] {
        store.put_session(&s).await.unwrap();
    }
    assert_eq!(store.session("idx-1").await.unwrap(), Some(session("idx-1", a, later)));
    assert_eq!(ids(store.sessions_of(a).await.unwrap()), ["idx-1", "idx-2"]);
    assert_eq!(ids(store.sessions_of(b).await.unwrap()), ["idx-3"]);
    assert!(store.sessions_of("nobody@danang.gov.vn").await.unwrap().is_empty());

    // Writing a session again (a new password check) updates it in place.
    store.put_session(&Session { auth_time: 7, ..session("idx-1", a, later) }).await.unwrap();
    assert_eq!(store.session("idx-1").await.unwrap().unwrap().auth_time, 7);
    assert_eq!(store.sessions_of(a).await.unwrap().len(), 2);

    let (ended, grants) = store.end_session("idx-1").await.unwrap().expect("a live session ends");
    assert_eq!((ended.id.as_str(), ended.auth_time, grants.len()), ("idx-1", 7, 0));
    assert_eq!(store.session("idx-1").await.unwrap(), None);
    assert_eq!(ids(store.sessions_of(a).await.unwrap()), ["idx-2"]);
    assert!(store.end_session("idx-1").await.unwrap().is_none(), "ending twice finds nothing");

    // Already expired when written: never seen.
    store.put_session(&session("idx-dead", a, time.now() - 1)).await.unwrap();
    assert_eq!(store.session("idx-dead").await.unwrap(), None);
    assert_eq!(ids(store.sessions_of(a).await.unwrap()), ["idx-2"]);
}

async fn codes_are_single_use_under_concurrency(store: &dyn Store, time: &Time) {
    let c = code("grant-of-code", "sid-c", time.now() + 60);
    store.put_code("code-hash", &c).await.unwrap();
    let outcomes = join_all((0..16).map(|_| store.redeem_code("code-hash"))).await;
    let outcomes: Vec<Redemption> = outcomes.into_iter().map(Result::unwrap).collect();
    let fresh: Vec<&Redemption> = outcomes.iter().filter(|o| matches!(o, Redemption::Fresh(_))).collect();
    assert_eq!(fresh.len(), 1, "exactly one of 16 concurrent redemptions wins: {outcomes:?}");
    assert_eq!(fresh[0], &Redemption::Fresh(Box::new(c.clone())), "the winner gets the whole code back");
    let spent = Redemption::Spent { grant_id: "grant-of-code".into() };
    assert_eq!(outcomes.iter().filter(|o| **o == spent).count(), 15, "the others learn which grant to revoke");
    assert_eq!(store.redeem_code("code-hash").await.unwrap(), spent, "a later replay too");

    assert_eq!(store.redeem_code("never-issued").await.unwrap(), Redemption::Unknown);
    store.put_code("dead-code", &code("g-dead", "sid-c", time.now() - 1)).await.unwrap();
    assert_eq!(store.redeem_code("dead-code").await.unwrap(), Redemption::Unknown, "expired when written");
}

async fn refresh_rotation_and_reuse_revoke_the_family(store: &dyn Store, time: &Time) {
    let later = time.now() + 3600;
    let g = grant("fam", Some("sid-fam"), Some("r1"), later);
    store.put_grant(&g).await.unwrap();
    assert_eq!(store.grant("fam").await.unwrap(), Some(g.clone()));

    let renamed = User { name: "Nguyễn Văn Dũng (Phó Chánh Văn phòng)".into(), ..user("dungnv@danang.gov.vn") };
    let Rotation::Rotated(rotated) = store.rotate_refresh("fam", "r1", "r2", Some(&renamed)).await.unwrap() else {
        panic!("the current token rotates");
    };
    assert_eq!(rotated.refresh_hash.as_deref(), Some("r2"));
    assert_eq!(rotated.user.as_ref(), Some(&renamed), "the user snapshot is updated");
    assert_eq!(store.grant("fam").await.unwrap(), Some(rotated.clone()));
    let Rotation::Rotated(again) = store.rotate_refresh("fam", "r2", "r3", None).await.unwrap() else {
        panic!("the new token rotates in turn");
    };
    assert_eq!(again.user.as_ref(), Some(&renamed), "no user given keeps the snapshot");

    let Rotation::Reused(revoked) = store.rotate_refresh("fam", "r1", "r9", None).await.unwrap() else {
        panic!("a spent token is reuse");
    };
    assert_eq!(revoked.refresh_hash.as_deref(), Some("r3"));
    assert_eq!(store.grant("fam").await.unwrap(), None, "reuse revokes the family");
    assert_eq!(store.rotate_refresh("fam", "r3", "r4", None).await.unwrap(), Rotation::Unknown);

    // Two instances presenting the same token at once: one rotates, the other is reuse and revokes.
    store.put_grant(&grant("race", Some("sid-fam"), Some("t1"), later)).await.unwrap();
    let outcomes = join_all((0..2).map(|i| store.rotate_refresh("race", "t1", ["ta", "tb"][i], None))).await;
    let rotated = outcomes.iter().filter(|o| matches!(o, Ok(Rotation::Rotated(_)))).count();
    let reused = outcomes.iter().filter(|o| matches!(o, Ok(Rotation::Reused(_)))).count();
    assert_eq!((rotated, reused), (1, 1), "{outcomes:?}");
    assert_eq!(store.grant("race").await.unwrap(), None);

    // A service's own grant (no user, no session), then revoked.
    let service = grant("svc", None, Some("s1"), later);
    store.put_grant(&service).await.unwrap();
    let Rotation::Rotated(service) = store.rotate_refresh("svc", "s1", "s2", None).await.unwrap() else {
        panic!("a grant without a user rotates");
    };
    assert_eq!((service.user, service.sid), (None, None));
    assert!(store.revoke_grant("svc").await.unwrap().is_some());
    assert_eq!(store.revoke_grant("svc").await.unwrap(), None);
    assert_eq!(store.grant("svc").await.unwrap(), None);

    store.put_grant(&grant("no-refresh", Some("sid-fam"), None, later)).await.unwrap();
    let outcome = store.rotate_refresh("no-refresh", "x", "y", None).await.unwrap();
    assert!(matches!(outcome, Rotation::Reused(_)), "a grant without refresh tokens refuses any: {outcome:?}");
}

async fn ending_a_session_revokes_its_grants(store: &dyn Store, time: &Time) {
    let later = time.now() + 3600;
    store.put_session(&session("end-me", "anhvn@danang.gov.vn", later)).await.unwrap();
    store.put_session(&session("keep-me", "anhvn@danang.gov.vn", later)).await.unwrap();
    for (id, sid) in [("e1", "end-me"), ("e2", "end-me"), ("k1", "keep-me")] {
        store.put_grant(&grant(id, Some(sid), Some(&format!("r-{id}")), later)).await.unwrap();
    }
    store.revoke_grant("e2").await.unwrap();
    // The apps of a session (the account page lists them): its live grants, read without ending anything.
    let mut live: Vec<String> = store.session_grants("end-me").await.unwrap().into_iter().map(|g| g.id).collect();
    live.sort();
    assert_eq!(live, ["e1"]);
    assert_eq!(store.session_grants("end-me").await.unwrap()[0].issued_at, 1);
    assert!(store.session_grants("no-such-session").await.unwrap().is_empty());
    let (ended, grants) = store.end_session("end-me").await.unwrap().expect("the session ends");
    assert_eq!(ended.id, "end-me");
    let revoked: Vec<&str> = grants.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(revoked, ["e1"], "the live grants made in it, for their clients to be told");
    assert_eq!(store.grant("e1").await.unwrap(), None);
    assert!(store.session_grants("end-me").await.unwrap().is_empty());
    assert!(store.grant("k1").await.unwrap().is_some(), "another session's grant lives on");
    assert!(store.session("keep-me").await.unwrap().is_some());
    assert_eq!(ids(store.sessions_of("anhvn@danang.gov.vn").await.unwrap()), ["keep-me"]);
}

async fn last_sign_ins_are_kept(store: &dyn Store) {
    store.record_sign_in("dungnv@danang.gov.vn", 100).await.unwrap();
    store.record_sign_in("skhdt@danang.gov.vn", 200).await.unwrap();
    store.record_sign_in("dungnv@danang.gov.vn", 300).await.unwrap();
    let mut all = store.last_sign_ins().await.unwrap();
    all.sort();
    assert_eq!(all, [("dungnv@danang.gov.vn".to_owned(), 300), ("skhdt@danang.gov.vn".to_owned(), 200)]);
    assert_eq!(store.last_sign_in("dungnv@danang.gov.vn").await.unwrap(), Some(300));
    assert_eq!(store.last_sign_in("nobody@danang.gov.vn").await.unwrap(), None);
}

/// Short-lived entries of every kind, one wait, then all gone while long-lived ones stay.
async fn expiry_and_counter_windows(store: &dyn Store, time: &Time) {
    let (soon, later) = (time.now() + 2, time.now() + 3600);
    let account = "haltt@danang.gov.vn";
    store.put_session(&session("short", account, soon)).await.unwrap();
    store.put_session(&session("long", account, later)).await.unwrap();
    store.put_grant(&grant("short-g", Some("long"), Some("r"), soon)).await.unwrap();
    store.put_grant(&grant("long-g", Some("long"), Some("r"), later)).await.unwrap();
    store.put_code("short-c", &code("g", "long", soon)).await.unwrap();
    store.put_code("long-c", &code("g2", "long", later)).await.unwrap();
    for expected in 1..=3 {
        assert_eq!(store.hit("fails:haltt", 2).await.unwrap(), expected, "counts within the window");
    }
    let (n, left) = store.count("fails:haltt").await.unwrap();
    assert_eq!(n, 3);
    assert!((1..=2).contains(&left), "the window's end is reported: {left}");
    assert_eq!(store.hit("fails:reset-me", 60).await.unwrap(), 1);
    store.reset("fails:reset-me").await.unwrap();
    assert_eq!(store.count("fails:reset-me").await.unwrap().0, 0);
    assert_eq!(store.hit("fails:reset-me", 60).await.unwrap(), 1, "a reset starts over");
    assert_eq!(store.count("fails:never").await.unwrap().0, 0);
    assert!(store.session("short").await.unwrap().is_some(), "alive before its time");
    assert!(store.grant("short-g").await.unwrap().is_some());
    assert_eq!(ids(store.sessions_of(account).await.unwrap()), ["long", "short"]);

    time.pass(2).await;
    assert_eq!(store.session("short").await.unwrap(), None);
    assert_eq!(ids(store.sessions_of(account).await.unwrap()), ["long"]);
    assert_eq!(store.grant("short-g").await.unwrap(), None);
    assert_eq!(store.redeem_code("short-c").await.unwrap(), Redemption::Unknown);
    assert_eq!(store.count("fails:haltt").await.unwrap().0, 0, "the window closed");
    assert_eq!(store.hit("fails:haltt", 2).await.unwrap(), 1, "a new window starts");
    assert_eq!(store.count("fails:reset-me").await.unwrap().0, 1, "a longer window is still open");
    assert!(store.session("long").await.unwrap().is_some());
    assert!(store.grant("long-g").await.unwrap().is_some());
    assert!(matches!(store.redeem_code("long-c").await.unwrap(), Redemption::Fresh(_)));
    let (_, grants) = store.end_session("long").await.unwrap().expect("the long session ends");
    assert_eq!(grants.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["long-g"], "expired grants are not reported");
}

async fn a_spent_code_is_remembered_for_the_grace(store: &dyn Store, time: &Time) {
    let expires_at = time.now() + 60;
    store.put_code("graced", &code("g-graced", "sid", expires_at)).await.unwrap();
    assert!(matches!(store.redeem_code("graced").await.unwrap(), Redemption::Fresh(_)));
    // Margins of ten seconds either side, so a second ticking during the test changes nothing.
    time.jump(60 + SPENT_CODE_GRACE_SECS - 10);
    let spent = Redemption::Spent { grant_id: "g-graced".into() };
    assert_eq!(store.redeem_code("graced").await.unwrap(), spent, "a late replay still revokes its tokens");
    time.jump(20);
    assert_eq!(store.redeem_code("graced").await.unwrap(), Redemption::Unknown, "then it is forgotten");
}
