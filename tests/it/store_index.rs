//! The per-account indexes cost the same however long one account's history (issue 19): a write to Redis runs
//! only commands that touch one member of an index, expired members leave on the next write, every key of one
//! account shares one Redis Cluster hash slot, and `[session] max_per_account` ends the oldest sessions.
//! Facts are read from Redis itself (`INFO commandstats`, `TYPE`, `ZCARD`, key names), never from timings.

use std::collections::BTreeMap;

use danang_sso::clock::Clock;
use danang_sso::store::memory::MemoryStore;
use danang_sso::store::{Store, account_tag, tagged};
use openidconnect::{OAuth2TokenResponse, TokenResponse};

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
    assert_eq!(all_keys(&redis), Vec::<String>::new(), "the grant's member left the account's grant index too");
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

/// At the ceiling, a new session and the end of the oldest are one script (one round trip): it runs only
/// commands on single members or on the ended sessions' own keys, whatever the account's history, and ends the
/// oldest with their grants (whose members leave the account's grant index too). The memory store ends the
/// same ones.
#[tokio::test]
async fn a_new_session_at_the_ceiling_ends_the_oldest_in_one_script() {
    let redis = Redis::start();
    let clock = Clock::default();
    let memory = MemoryStore::new(clock.clone());
    let shared = redis_store(&redis, "cap:", clock.clone());
    let tag = account_tag(HOT);
    let later = clock.now() + 3600;
    for (store, on_redis) in [(&memory as &dyn Store, false), (&shared, true)] {
        for i in 0..300 {
            let sid = tagged(&tag, &format!("s{i:03}"));
            store.put_session(&session(&sid, HOT, later + i)).await.unwrap();
            let mut g = grant(&tagged(&tag, &format!("g{i:03}")), Some(&sid), Some("r"), later + i);
            g.user = Some(user(HOT));
            store.put_grant(&g).await.unwrap();
        }
        // Another account's first sign-in loads the script (`NOSCRIPT`, `SCRIPT LOAD`) before counting starts.
        store.put_session_capped(&session("warm", "haltt@danang.gov.vn", later), 1, 60).await.unwrap();
        assert_eq!(redis.command(&["CONFIG", "RESETSTAT"]), Reply::Status("OK".into()));
        let newest = session(&tagged(&tag, "new"), HOT, later + 1000);
        // Settled by their grants (a day's `pending` makes none settled by age).
        let ended = store.put_session_capped(&newest, 299, 86_400).await.unwrap();
        let calls = command_calls(&redis);
        let ended: Vec<(String, Vec<String>)> =
            ended.into_iter().map(|(s, gs)| (s.id, gs.into_iter().map(|g| g.id).collect())).collect();
        let oldest = |i: u32| (tagged(&tag, &format!("s{i:03}")), vec![tagged(&tag, &format!("g{i:03}"))]);
        assert_eq!(ended, [oldest(0), oldest(1)], "301 live, 299 kept: the two oldest end with their grants");
        assert!(store.session(&newest.id).await.unwrap().is_some(), "the new session is stored");
        assert!(store.grant(&tagged(&tag, "g000")).await.unwrap().is_none(), "the ended session's grant is revoked");
        assert_eq!(store.sessions_beyond(HOT, 299).await.unwrap(), Vec::<String>::new());
        if !on_redis {
            continue;
        }
        assert_eq!(calls.get("evalsha"), Some(&1), "one round trip: {calls:?}");
        // Range reads: the two oldest members, then each ended session's own grant index; no index of the
        // account is read whole, and only single members leave it.
        let counts = ["zrange", "zrem", "zcard", "get", "del", "exists"].map(|c| calls.get(c).copied().unwrap_or(0));
        assert_eq!(counts, [3, 4, 1, 4, 4, 2], "ZRANGE, ZREM, ZCARD, GET, DEL, EXISTS: {calls:?}");
        let allowed = [
            "evalsha",
            "set",
            "zremrangebyscore",
            "zadd",
            "ttl",
            "expire",
            "zcard",
            "zrange",
            "get",
            "del",
            "zrem",
            "exists",
            "config|resetstat",
            "info",
        ];
        let other: Vec<_> = calls.keys().filter(|c| !allowed.contains(&c.as_str())).collect();
        assert!(other.is_empty(), "unexpected commands: {other:?} (all: {calls:?})");
        assert_eq!(redis.command(&["ZCARD", &format!("cap:{{{tag}}}a:{HOT}")]), Reply::Integer(299));
        assert_eq!(redis.command(&["ZCARD", &format!("cap:{{{tag}}}ag:{HOT}")]), Reply::Integer(298));
    }
}

/// A sign-in still under way (no app has received tokens in its session yet, and it is younger than a code's
/// lifetime) is never ended by the ceiling on Redis, however many sessions share its second; a settled one of
/// the same second is, so one account signing in over and over ends with at most `max_per_account` sessions.
#[tokio::test]
async fn a_sign_in_under_way_is_not_ended_by_the_ceiling() {
    let redis = Redis::start();
    let clock = Clock::default();
    sign_ins_under_way_survive_the_ceiling(&redis_store(&redis, "twin:", clock.clone()), &clock).await;
}

/// The memory store applies the same settled rule as the Redis script (its own `put_session_capped`, under one
/// lock): a bench run once lost a sign-in whose code was still being exchanged to the trait's default, which
/// spared only the sessions of the same second.
#[tokio::test]
async fn a_sign_in_under_way_is_not_ended_by_the_ceiling_in_memory() {
    let clock = Clock::default();
    sign_ins_under_way_survive_the_ceiling(&MemoryStore::new(clock.clone()), &clock).await;
}

async fn sign_ins_under_way_survive_the_ceiling(store: &dyn Store, clock: &Clock) {
    let tag = account_tag(HOT);
    let later = clock.now() + 3600;
    let sid = |name: &str| tagged(&tag, name);
    let with_grant = |name: &str, at: u64| {
        let mut g = grant(&sid(&format!("g-{name}")), Some(&sid(name)), Some("r"), at);
        g.user = Some(user(HOT));
        g
    };
    store.put_session(&session(&sid("old"), HOT, later - 100)).await.unwrap();
    store.put_session(&session(&sid("twin-pending"), HOT, later + 10)).await.unwrap();
    store.put_session(&session(&sid("twin-settled"), HOT, later + 10)).await.unwrap();
    store.put_grant(&with_grant("twin-settled", later + 10)).await.unwrap();
    let ended = store.put_session_capped(&session(&sid("new"), HOT, later + 10), 1, 60).await.unwrap();
    let ended: Vec<(String, Vec<String>)> =
        ended.into_iter().map(|(s, gs)| (s.id, gs.into_iter().map(|g| g.id).collect())).collect();
    assert_eq!(
        ended,
        [(sid("old"), vec![]), (sid("twin-settled"), vec![sid("g-twin-settled")])],
        "settled by age, settled by its grant (returned with it)"
    );
    assert!(store.grant(&sid("g-twin-settled")).await.unwrap().is_none(), "the ended session's grant is revoked");
    let mut live: Vec<String> = store.sessions_of(HOT).await.unwrap().into_iter().map(|s| s.id).collect();
    live.sort();
    assert_eq!(live, [sid("new"), sid("twin-pending")], "two sign-ins under way pass the ceiling of 1");

    // `new` finishes (its code exchanged: a grant); the next sign-in ends it, and still not `twin-pending`.
    store.put_grant(&with_grant("new", later + 10)).await.unwrap();
    let ended = store.put_session_capped(&session(&sid("next"), HOT, later + 11), 1, 60).await.unwrap();
    let ended: Vec<String> = ended.into_iter().map(|(s, _)| s.id).collect();
    assert_eq!(ended, [sid("new")]);
    // A code's lifetime later `twin-pending` is settled by age (its sign-in can no longer finish) and ends;
    // `next`, a second younger and without a grant, is still under way.
    let ended = store.put_session_capped(&session(&sid("last"), HOT, later + 70), 1, 60).await.unwrap();
    let ended: Vec<String> = ended.into_iter().map(|(s, _)| s.id).collect();
    assert_eq!(ended, [sid("twin-pending")]);
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
        // A code's lifetime apart: no code is exchanged here, so a session is settled (may be ended by the
        // ceiling) only once its sign-in can no longer finish.
        app.clock.advance(61);
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

/// The ceiling's ending on Redis is an ending like any other: a new sign-in past `max_per_account` ends the
/// oldest settled session in the script that stores the new one, and the app that received tokens in it gets a
/// back-channel logout token naming it, its refresh token is revoked, and the audit trail says why.
#[tokio::test]
async fn a_session_ended_by_the_ceiling_is_audited_revoked_and_announced() {
    let redis = Redis::start();
    let mut listener = crate::listener::Listener::start().await;
    let mut config = app_config(&redis, "bc:");
    config.session.max_per_account = 1;
    for c in &mut config.clients {
        if c.client_id == "portal" {
            c.backchannel_logout_uri = Some(format!("{}/bc/portal", listener.url));
        }
    }
    let app = TestApp::start_with(config).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let (first, _) = portal.sign_in(&app.url, &mut Browser::new(), "dungnv", &["offline_access"]).await;
    let first_sid =
        crate::rp::payload(first.id_token().unwrap().to_string().as_str())["sid"].as_str().unwrap().to_owned();
    let (second, _) = portal.sign_in(&app.url, &mut Browser::new(), "dungnv", &["offline_access"]).await;
    let second_sid = crate::rp::payload(&second.id_token().unwrap().to_string())["sid"].as_str().unwrap().to_owned();

    let (name, token) = listener.next().await;
    assert_eq!(name, "portal");
    assert_eq!(crate::rp::payload(&token)["sid"], first_sid.as_str(), "the logout token names the ended session");
    let ended = app.wait_for_audit(1, |l| l["event"] == "session_ended").await;
    let ended: Vec<_> = ended.iter().filter(|l| l["event"] == "session_ended").collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(
        (ended[0]["sid"].as_str(), ended[0]["reason"].as_str()),
        (Some(first_sid.as_str()), Some("too_many_sessions"))
    );
    let refused = portal.client.exchange_refresh_token(first.refresh_token().unwrap()).unwrap();
    assert_eq!(
        crate::flow_errors::token_error(refused.request_async(&portal.http).await),
        openidconnect::core::CoreErrorResponseType::InvalidGrant,
        "the ended session's refresh token is revoked"
    );
    let store = redis_store(&redis, "bc:", Clock::default());
    let live: Vec<String> = store.sessions_of(HOT).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(live, [second_sid]);
    let refreshed = portal.client.exchange_refresh_token(second.refresh_token().unwrap()).unwrap();
    refreshed.request_async(&portal.http).await.expect("the live session's refresh token works");
}
