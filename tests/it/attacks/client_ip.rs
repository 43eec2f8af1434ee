//! Choosing one's own client address: behind a trusted proxy the address is the nearest untrusted hop of
//! `X-Forwarded-For`, read right to left over every header line; a hop the proxy wrote as `ip:port` or
//! `[v6]:port` is that address, anything unparsable stops the walk, and the client's own left part never wins.
//! IPv6 clients are counted per /64. Plus a property test: the parser never panics, whatever the headers.

use std::net::IpAddr;

use danang_sso::config::Config;
use danang_sso::http::context::client_ip;
use ipnet::IpNet;
use proptest::prelude::*;

use crate::app::{TestApp, test_config};
use crate::browser::{Browser, Page};
use crate::rp::Rp;

/// The proxy on 127.0.0.1 is trusted; 59 free failures per address, locked at the 60th.
fn behind_a_proxy() -> Config {
    let mut config = test_config();
    config.server.trusted_proxies = vec!["127.0.0.1".into()];
    let t = &mut config.throttle;
    (t.ip_free_failures, t.ip_max_failures, t.lockout_secs) = (59, 60, 900);
    (t.account_free_failures, t.account_max_failures) = (100, 200);
    config
}

/// A wrong password for a mailbox of its own, with these `X-Forwarded-For` lines.
async fn attempt(app: &TestApp, user: &str, forwarded: &[String]) -> Page {
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    browser.extra_headers = forwarded.iter().map(|line| ("x-forwarded-for".to_owned(), line.clone())).collect();
    let form = browser.get(&portal.start(&[], &[]).url).await;
    browser.sign_in(&app.url, &form, user, "sai").await
}

/// Sixty failures whose spoofed left part changes every time, with the real address appended by the proxy.
async fn sixty_failures_lock_the_real_address(forwarded: impl Fn(usize) -> Vec<String>) {
    let app = TestApp::start_with(behind_a_proxy()).await;
    for i in 0..60 {
        let page = attempt(&app, &format!("khach{i}"), &forwarded(i)).await;
        assert_eq!(page.status, 200, "failure {i} is an ordinary refusal");
        app.clock.advance(3); // past the one short wait, at the 59th failure
    }
    let page = attempt(&app, "khach-moi", &forwarded(99)).await;
    assert_eq!(page.status, 429, "the real address is locked, whatever the client wrote before it");
    assert!(page.body.contains("Vui lòng đợi 15 phút"), "{}", page.body);
    let other = attempt(&app, "khach-moi", &["203.0.113.8".into()]).await;
    assert_eq!(other.status, 200, "another real address is not locked");
}

#[tokio::test]
async fn a_spoofed_left_part_before_ip_and_port_from_the_proxy_ends_in_the_ips_429() {
    sixty_failures_lock_the_real_address(|i| vec![format!("198.51.{}.{}, 203.0.113.7:5555", i / 250, i % 250 + 1)])
        .await;
}

#[tokio::test]
async fn a_second_header_line_cannot_hide_the_line_the_proxy_appended() {
    sixty_failures_lock_the_real_address(|i| vec![format!("198.51.100.{}", i % 250 + 1), "[2001:db8::7]:443".into()])
        .await;
}

#[tokio::test]
async fn an_ipv6_client_is_counted_per_64_whatever_its_interface_id() {
    sixty_failures_lock_the_real_address(|i| vec![format!("2001:db8:7:7:{i:x}::1")]).await;
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn the_walk_stops_at_the_first_untrusted_or_unparsable_hop_and_never_takes_the_left_most() {
    let trusted = [net("10.0.0.0/8"), net("127.0.0.1/32")];
    let peer = Some(ip("10.0.0.1"));
    let cases: [(&[&str], &str); 8] = [
        (&["1.2.3.4"], "1.2.3.4"),
        (&["6.6.6.6, 1.2.3.4:5555"], "1.2.3.4"),
        (&["6.6.6.6", "[2001:db8::1]:443"], "2001:db8::1"),
        (&["6.6.6.6, 1.2.3.4, 10.9.9.9"], "1.2.3.4"),
        // The proxy wrote something we cannot read: its own address stands, not the client's claim.
        (&["6.6.6.6, unknown"], "10.0.0.1"),
        (&["6.6.6.6, 10.1.1.1, garbage"], "10.0.0.1"),
        (&["6.6.6.6, garbage, 10.1.1.1"], "10.1.1.1"),
        (&["10.2.2.2, 10.3.3.3"], "10.2.2.2"),
    ];
    for (lines, expected) in cases {
        assert_eq!(client_ip(peer, lines.iter().copied(), &trusted), Some(ip(expected)), "{lines:?}");
    }
    assert_eq!(client_ip(Some(ip("203.0.113.1")), ["1.2.3.4"], &trusted), Some(ip("203.0.113.1")));
    assert_eq!(client_ip(peer, std::iter::empty::<&str>(), &trusted), peer);
    assert_eq!(client_ip(Some(ip("::ffff:10.0.0.1")), ["1.2.3.4"], &trusted), Some(ip("1.2.3.4")));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any header lines, any bytes in them: an answer, never a panic, and never an address nobody sent.
    #[test]
    fn forwarded_for_never_panics(lines in proptest::collection::vec(".{0,80}", 0..4), v6 in any::<bool>()) {
        let trusted = [net("10.0.0.0/8"), net("::1/128")];
        let peer = if v6 { ip("::1") } else { ip("10.0.0.1") };
        let found = client_ip(Some(peer), lines.iter().map(String::as_str), &trusted);
        prop_assert!(found.is_some());
    }

    #[test]
    fn forwarded_for_never_panics_on_hop_like_text(
        hops in proptest::collection::vec("(\\[?[0-9a-f:.]{0,40}\\]?(:[0-9]{0,6})?|unknown| ,)", 0..8),
    ) {
        let line = hops.join(",");
        let found = client_ip(Some(ip("127.0.0.1")), [line.as_str()], &[net("127.0.0.0/8")]);
        prop_assert!(found.is_some());
    }
}
