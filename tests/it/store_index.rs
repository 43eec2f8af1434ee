//! The per-account indexes cost the same however long one account's history (issue 19): a write to Redis runs
//! only commands that touch one member of an index, expired members leave on the next write, every key of one
//! account shares one Redis Cluster hash slot, and `[session] max_per_account` ends the oldest sessions.
//! Facts are read from Redis itself (`INFO commandstats`, `TYPE`, `ZCARD`, key names), never from timings.

use std::collections::BTreeMap;

use danang_sso::clock::Clock;
use danang_sso::store::memory::MemoryStore;
use danang_sso::store::{Store, account_tag, tagged};

use crate::app::TestApp;
use crate::browser::{Browser, PASSWORD};
use crate::harness::{Redis, Reply};
use crate::rp::Rp;
use crate::shared_store::{all_keys, app_config};
use crate::store_suite::{grant, redis_store, session, user};

const HOT: &str = "dungnv@danang.gov.vn";

/// `INFO commandstats` as command → calls.
fn command_calls(redis: &Redis) -> BTreeMap<String, u64> {
    let Reply::Bulk(Some(info)) = redis.command(&["INFO", "commandstats"]) else { panic!("INFO answers a bulk") };
    info.lines()
        .filter_map(|l| l.strip_prefix("cmdstat_"))
        .filter_map(|l| {
            let (name, stats) = l.split_once(':')?;
            let calls = stats.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
            Some((name.to_owned(), calls.trim().parse().ok()?))
        })
        .collect()
}

/// The issue's reproduction: with hundreds of live sessions and grants on one account, storing one more session
/// and one more grant ran `HGETALL` over the whole account index (and walked it in Lua). Now each write may
/// only run commands whose cost is O(log n) in the index: nothing that reads a whole hash, set or range.
#[tokio::test]
async fn a_write_does_not_read_the_whole_account_index() {
    let redis = Redis::start();
    let clock = Clock::default();
    let store = redis_store(&redis, "hot:", clock.clone());
    let later = clock.now() + 3600;
    let tag = account_tag(HOT);
    let sid = tagged(&tag, "first");
    for i in 0..300 {
        store.put_session(&session(&tagged(&tag, &format!("s{i}")), HOT, later + i)).await.unwrap();
        let mut g = grant(&tagged(&tag, &format!("g{i}")), Some(&sid), Some("r"), later + i);
        g.user = Some(user(HOT));
        store.put_grant(&g).await.unwrap();
    }
    assert_eq!(redis.command(&["CONFIG", "RESETSTAT"]), Reply::Status("OK".into()));
    store.put_session(&session(&tagged(&tag, "one-more"), HOT, later + 1000)).await.unwrap();
    let mut g = grant(&tagged(&tag, "g-more"), Some(&sid), Some("r"), later + 1000);
    g.user = Some(user(HOT));
    store.put_grant(&g).await.unwrap();

    let calls = command_calls(&redis);
    let allowed = ["evalsha", "eval", "set", "zadd", "zremrangebyscore", "ttl", "expire", "config|resetstat", "info"];
    let whole: Vec<_> = calls.keys().filter(|c| !allowed.contains(&c.as_str())).collect();
    assert!(whole.is_empty(), "a write ran commands that read a whole collection: {whole:?} (all: {calls:?})");
    assert_eq!(calls.get("zadd"), Some(&3), "one ZADD per index: account, session's grants, account's grants");
    let index = format!("hot:{{{tag}}}a:{HOT}");
    assert_eq!(redis.command(&["TYPE", &index]), Reply::Status("zset".into()));
    assert_eq!(redis.command(&["ZCARD", &index]), Reply::Integer(301));
}

/// Expired members leave an index at its next write (`ZREMRANGEBYSCORE -inf now`), so it holds live ones only.
#[tokio::test]
async fn expired_members_leave_the_index_on_the_next_write() {
    let redis = Redis::start();
    let clock = Clock::default();
    let store = redis_store(&redis, "exp:", clock.clone());
    let tag = account_tag(HOT);
    for i in 0..50 {
        store.put_session(&session(&tagged(&tag, &format!("short{i}")), HOT, clock.now() + 1)).await.unwrap();
    }
    clock.advance(2);
    store.put_session(&session(&tagged(&tag, "long"), HOT, clock.now() + 3600)).await.unwrap();
    assert_eq!(redis.command(&["ZCARD", &format!("exp:{{{tag}}}a:{HOT}")]), Reply::Integer(1));
    let live: Vec<String> = store.sessions_of(HOT).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(live, [tagged(&tag, "long")]);
}

/// Redis Cluster runs a script only when its keys share a hash slot: every key of one account carries the
/// account's tag, and ending a session (a script over the session, its grant index and its grants) still works.
#[tokio::test]
async fn every_key_of_one_account_shares_one_hash_tag() {
    let redis = Redis::start();
    let clock = Clock::default();
    let store = redis_store(&redis, "slot:", clock.clone());
    let later = clock.now() + 3600;
    let tag = account_tag(HOT);
    let sid = tagged(&tag, "s");
    store.put_session(&session(&sid, HOT, later)).await.unwrap();
    let mut g = grant(&tagged(&tag, "g"), Some(&sid), Some("r"), later);
    g.user = Some(user(HOT));
    store.put_grant(&g).await.unwrap();

    let keys = all_keys(&redis);
    assert_eq!(keys.len(), 5, "session, account index, grant, session's grants, account's grants: {keys:?}");
    for key in &keys {
        assert!(key.starts_with(&format!("slot:{{{tag}}}")), "{key} carries the account's hash tag {{{tag}}}");
    }
    let (ended, grants) = store.end_session(&sid).await.unwrap().expect("the session ends");
    assert_eq!((ended.id, grants.len()), (sid, 1));
    assert_eq!(all_keys(&redis).len(), 1, "only the account's grant index is left (its member is gone next write)");
}

/// `sessions_beyond` names the sessions past a ceiling, soonest-expiring first, on both stores.
#[tokio::test]
async fn the_sessions_beyond_a_ceiling_are_the_oldest() {
    let redis = Redis::start();
    let clock = Clock::default();
    let memory = MemoryStore::new(clock.clone());
    let shared = redis_store(&redis, "ceil:", clock.clone());
    for store in [&memory as &dyn Store, &shared] {
        let now = clock.now();
        store.put_session(&session("gone", HOT, now)).await.unwrap();
        for (id, at) in [("c", now + 30), ("a", now + 10), ("d", now + 40), ("b", now + 20)] {
            store.put_session(&session(id, HOT, at)).await.unwrap();
        }
        store.put_session(&session("other", "haltt@danang.gov.vn", now + 5)).await.unwrap();
        assert_eq!(store.sessions_beyond(HOT, 2).await.unwrap(), ["a", "b"]);
        assert_eq!(store.sessions_beyond(HOT, 4).await.unwrap(), Vec::<String>::new());
        assert_eq!(store.sessions_beyond(HOT, 0).await.unwrap(), ["a", "b", "c", "d"]);
        store.end_session("a").await.unwrap();
        assert_eq!(store.sessions_beyond(HOT, 2).await.unwrap(), ["b"]);
    }
}

/// One account signing in over and over (ten browsers) keeps at most `max_per_account` live sessions: the
/// oldest end, audited with reason `too_many_sessions`, and the newest stay.
#[tokio::test]
async fn an_account_keeps_at_most_max_per_account_sessions() {
    let redis = Redis::start();
    let mut config = app_config(&redis, "many:");
    config.session.max_per_account = 3;
    let app = TestApp::start_with(config).await;
    let portal = Rp::demo(&app.url, "portal").await;
    for _ in 0..10 {
        // A second apart, so "oldest" is well defined (sessions expiring in the same second tie).
        app.clock.advance(1);
        let mut browser = Browser::new();
        let pending = portal.start(&["profile"], &[]);
        let form = browser.get(&pending.url).await;
        let back = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
        assert_eq!(back.status, 303);
    }
    let lines = app.wait_for_audit(7, |l| l["event"] == "session_ended").await;
    let started: Vec<&str> =
        lines.iter().filter(|l| l["event"] == "sign_in_success").map(|l| l["sid"].as_str().unwrap()).collect();
    let ended: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"] == "session_ended")
        .inspect(|l| assert_eq!((l["reason"].as_str(), l["account"].as_str()), (Some("too_many_sessions"), Some(HOT))))
        .map(|l| l["sid"].as_str().unwrap())
        .collect();
    assert_eq!(started.len(), 10);
    assert_eq!(ended.len(), 7);

    let store = redis_store(&redis, "many:", Clock::default());
    let mut live: Vec<String> = store.sessions_of(HOT).await.unwrap().into_iter().map(|s| s.id).collect();
    let mut newest: Vec<String> = started[7..].iter().map(|s| s.to_string()).collect();
    live.sort();
    newest.sort();
    assert_eq!(live, newest, "the three newest sessions stay");
    for sid in ended {
        assert!(store.session(sid).await.unwrap().is_none(), "{sid} ended");
    }
}
