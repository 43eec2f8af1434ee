//! The lane's rules on a clock of our own: no network, no sleeping.

use std::time::Duration;

use tokio::time::Instant;

use super::*;

fn limits() -> Limits {
    Limits { in_flight: 2, queue: 5, ..Limits::default() }
}

fn pending(token: &str, expires: Instant) -> Pending {
    Pending { uri: "http://127.0.0.1:9/bc".into(), token: token.into(), expires }
}

fn token(t: Take) -> String {
    match t {
        Take::Deliver(p) | Take::Probe(p) => p.token,
        Take::Wait(_) => panic!("a wait, not a token"),
        Take::Stop => panic!("a stop, not a token"),
    }
}

const SEC: Duration = Duration::from_secs(1);

#[test]
fn at_most_in_flight_workers_run_for_one_app() {
    let (l, t0) = (limits(), Instant::now());
    let mut lane = Lane::new(&l);
    let started: Vec<bool> = (0..4).map(|i| lane.push(pending(&format!("t{i}"), t0 + 120 * SEC), t0, &l)).collect();
    assert_eq!(started, [true, true, false, false]);
    assert_eq!(token(lane.take(t0, false)), "t0");
    assert_eq!(token(lane.take(t0, false)), "t1");
    assert!(matches!(lane.finish(true, false, t0, &l), Finish::Delivered { more: 0, resumed: false }));
    assert_eq!(token(lane.take(t0, false)), "t2");
    assert_eq!(token(lane.take(t0, false)), "t3");
    assert!(matches!(lane.take(t0, false), Take::Stop));
    // One of the two workers stopped: a new token starts one again, never a third.
    assert!(lane.push(pending("t4", t0 + 120 * SEC), t0, &l));
    assert!(!lane.push(pending("t5", t0 + 120 * SEC), t0, &l));
}

#[test]
fn a_full_queue_drops_its_oldest() {
    let (l, t0) = (limits(), Instant::now());
    let mut lane = Lane::new(&l);
    for i in 0..8 {
        lane.push(pending(&format!("t{i}"), t0 + 120 * SEC), t0, &l);
    }
    assert_eq!(lane.dropped(), Dropped { overflow: 3, ..Dropped::default() });
    let delivered: Vec<String> = (0..5).map(|_| token(lane.take(t0, false))).collect();
    assert_eq!(delivered, ["t3", "t4", "t5", "t6", "t7"]);
}

#[test]
fn an_expired_token_is_never_handed_out() {
    let (l, t0) = (limits(), Instant::now());
    let mut lane = Lane::new(&l);
    lane.push(pending("old", t0 + 120 * SEC), t0, &l);
    lane.push(pending("new", t0 + 130 * SEC), t0 + 10 * SEC, &l);
    assert_eq!(token(lane.take(t0 + 120 * SEC, false)), "new", "the one past its expiry is skipped");
    assert_eq!(lane.dropped(), Dropped { expired: 1, ..Dropped::default() });
    // Queuing also clears the expired ones ahead.
    lane.push(pending("a", t0 + 121 * SEC), t0 + 120 * SEC, &l);
    lane.push(pending("b", t0 + 300 * SEC), t0 + 200 * SEC, &l);
    assert_eq!(lane.dropped().expired, 2);
    assert_eq!(token(lane.take(t0 + 200 * SEC, false)), "b");
}

#[test]
fn a_failing_app_is_suspended_with_a_doubling_cool_off_that_a_success_resets() {
    let l = Limits { max_cool_off: 5 * SEC, ..limits() };
    let mut lane = Lane::new(&l);
    let mut now = Instant::now();
    let mut lengths = Vec::new();
    for _ in 0..5 {
        match lane.finish(false, true, now, &l) {
            Finish::Suspended(d) => lengths.push(d),
            other => panic!("{other:?}"),
        }
        now += 10 * SEC;
    }
    assert_eq!(lengths, [SEC, 2 * SEC, 4 * SEC, 5 * SEC, 5 * SEC]);
    assert_eq!(lane.finish(true, true, now, &l), Finish::Delivered { more: 0, resumed: true });
    assert_eq!(lane.finish(false, false, now, &l), Finish::Suspended(SEC));
    // Another delivery failing within that cool-off does not extend it (nor log it again).
    assert_eq!(lane.finish(false, false, now + SEC / 2, &l), Finish::Nothing);
    assert_eq!(lane.dropped().given_up, 7);
}

#[test]
fn while_suspended_one_worker_waits_and_then_probes_alone() {
    let (l, t0) = (limits(), Instant::now());
    let mut lane = Lane::new(&l);
    for i in 0..4 {
        lane.push(pending(&format!("t{i}"), t0 + 120 * SEC), t0, &l);
    }
    let (a, b) = (token(lane.take(t0, false)), token(lane.take(t0, false)));
    assert_eq!((a.as_str(), b.as_str()), ("t0", "t1"));
    // The first worker's delivery fails: suspended. It waits for the cool-off's end.
    assert_eq!(lane.finish(false, false, t0, &l), Finish::Suspended(SEC));
    assert!(matches!(lane.take(t0, false), Take::Wait(at) if at == t0 + SEC));
    // The second, between two attempts, makes no more; its token waits first in line; the worker ends.
    assert!(!lane.may_retry(false));
    lane.requeue(pending("t1", t0 + 120 * SEC), &l);
    assert!(matches!(lane.take(t0, false), Take::Stop));
    assert!(!lane.push(pending("t4", t0 + 120 * SEC), t0, &l), "no new worker while suspended");
    // The cool-off ends: the sleeper probes with the oldest token; nobody else may start meanwhile.
    assert_eq!(token(lane.take(t0 + SEC, true)), "t1");
    assert!(lane.may_retry(true));
    assert!(!lane.push(pending("t5", t0 + 120 * SEC), t0 + SEC, &l));
    assert_eq!(lane.finish(true, true, t0 + SEC, &l), Finish::Delivered { more: 1, resumed: true });
    let rest: Vec<String> = (0..4).map(|_| token(lane.take(t0 + SEC, false))).collect();
    assert_eq!(rest, ["t2", "t3", "t4", "t5"]);
}

#[test]
fn a_suspended_app_with_no_worker_gets_one_to_wait_for_it() {
    let (l, t0) = (limits(), Instant::now());
    let mut lane = Lane::new(&l);
    lane.push(pending("t0", t0 + 120 * SEC), t0, &l);
    token(lane.take(t0, false));
    assert_eq!(lane.finish(false, false, t0, &l), Finish::Suspended(SEC));
    assert!(matches!(lane.take(t0, false), Take::Stop), "nothing queued: nobody waits");
    assert!(lane.push(pending("t1", t0 + 120 * SEC), t0, &l), "a token for a suspended app with no worker");
    assert!(matches!(lane.take(t0, false), Take::Wait(_)));
}

#[test]
fn a_waiting_worker_wakes_when_every_queued_token_has_expired() {
    let l = Limits { cool_off: 300 * SEC, ..limits() };
    let t0 = Instant::now();
    let mut lane = Lane::new(&l);
    lane.push(pending("t0", t0 + 120 * SEC), t0, &l);
    lane.push(pending("t1", t0 + 121 * SEC), t0 + SEC, &l);
    token(lane.take(t0, false));
    lane.finish(false, false, t0 + 2 * SEC, &l);
    match lane.take(t0 + 2 * SEC, false) {
        Take::Wait(at) => assert_eq!(at, t0 + 121 * SEC, "the newest token's expiry, not the 300 s cool-off"),
        _ => panic!("the worker waits"),
    }
    assert!(matches!(lane.take(t0 + 121 * SEC, true), Take::Stop));
    assert_eq!(lane.dropped(), Dropped { expired: 1, given_up: 1, overflow: 0 });
}

#[test]
fn dropped_tokens_are_reported_at_most_once_per_cool_off() {
    let l = Limits { queue: 1, ..limits() };
    let t0 = Instant::now();
    let mut lane = Lane::new(&l);
    lane.push(pending("a", t0 + 120 * SEC), t0, &l);
    assert_eq!(lane.report(t0, &l), Report::Nothing, "nothing dropped yet");
    lane.push(pending("b", t0 + 120 * SEC), t0, &l);
    assert_eq!(lane.report(t0, &l), Report::Now(Dropped { overflow: 1, ..Dropped::default() }));
    lane.push(pending("c", t0 + 120 * SEC), t0 + SEC / 4, &l);
    assert_eq!(lane.report(t0 + SEC / 4, &l), Report::Later(t0 + SEC));
    lane.push(pending("d", t0 + 120 * SEC), t0 + SEC / 2, &l);
    assert_eq!(lane.report(t0 + SEC / 2, &l), Report::Nothing, "a report is already due later");
    assert_eq!(lane.report_again(t0 + SEC, &l), Report::Now(Dropped { overflow: 2, ..Dropped::default() }));
    // While suspended, the cool-off in force sets the pace.
    token(lane.take(t0 + SEC, false));
    lane.finish(false, false, t0 + SEC, &l);
    lane.finish(false, true, t0 + 2 * SEC, &l);
    assert_eq!(lane.finish(false, true, t0 + 4 * SEC, &l), Finish::Suspended(4 * SEC));
    // Suspended for 4 s, reported 3 s ago: held back until 4 s after that report.
    assert_eq!(lane.report(t0 + 4 * SEC, &l), Report::Later(t0 + 5 * SEC));
    let (e, f) = (t0 + 4 * SEC + SEC / 4, t0 + 4 * SEC + SEC / 2);
    lane.push(pending("e", t0 + 120 * SEC), e, &l);
    lane.push(pending("f", t0 + 120 * SEC), f, &l);
    assert_eq!(lane.report(f, &l), Report::Nothing, "the report held back is due at 5 s");
    assert_eq!(lane.report_again(t0 + 5 * SEC, &l), Report::Now(Dropped { overflow: 1, expired: 0, given_up: 3 }));
    lane.push(pending("g", t0 + 120 * SEC), t0 + 6 * SEC, &l);
    assert_eq!(lane.report(t0 + 6 * SEC, &l), Report::Later(t0 + 9 * SEC));
    assert_eq!(lane.flush(), Dropped { overflow: 1, ..Dropped::default() });
}
