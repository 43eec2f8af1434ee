//! Redis Cluster (issue 15): two instances share a cluster of three masters and three replicas for single sign-on,
//! refresh, logout and incident revocation; then the master holding the most sessions is killed, its replica is
//! promoted, and the sessions and refresh tokens it held still work. A SAML SP's participation in a session is
//! recorded in the session's slot, so signing in to an SP and ending that session (logout, or the per-account
//! session cap) work on a cluster.

use std::time::{Duration, Instant};

use danang_sso::config::{Config, StoreKind};
use openidconnect::{OAuth2TokenResponse, RefreshToken};
use serde_json::{Value, json};

use crate::account_apps::{account_page, apps};
use crate::app::{TestApp, admin_post, test_config};
use crate::browser::Browser;
use crate::harness::{Cluster, free_port};
use crate::rp::Rp;
use crate::saml::{app_with, send, sign_in};
use crate::saml_logout::{frames, next_url};
use crate::saml_sp::Sp;
use crate::sentinel::attempt_refresh;

const PEOPLE: &[&str] = &["dungnv", "huongtt", "haltt", "thangpd", "anhvn", "dungnv1"];

/// `config` with its store on `cluster`.
fn on_cluster(config: &mut Config, cluster: &Cluster) {
    config.store.kind = StoreKind::Redis;
    // A few nodes are enough: the others are discovered.
    config.store.cluster_urls = cluster.urls[..3].to_vec();
    config.store.timeout_ms = 1000;
}

fn cluster_config(cluster: &Cluster, admin_port: Option<u16>) -> Config {
    let mut config = test_config();
    on_cluster(&mut config, cluster);
    if let Some(port) = admin_port {
        config.admin.listen = Some(format!("127.0.0.1:{port}"));
        config.admin.token = Some("operator-token-of-the-it-centre-2026".into());
    }
    config
}

/// Whether `browser`'s session gets `rp` a code without the form (prompt=none).
async fn sso_code(browser: &mut Browser, rp: &Rp) -> Result<(), String> {
    let page = browser.get(&rp.start(&[], &[("prompt", "none")]).url).await;
    match page.redirect_param("code") {
        Some(_) => Ok(()),
        None => Err(format!("{} {:?} error={:?}", page.status, page.location, page.redirect_param("error"))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_a_cluster_and_its_sessions_survive_a_master_failover() {
    let mut cluster = Cluster::start();
    let admin_port = free_port();
    let a = TestApp::start_with(cluster_config(&cluster, Some(admin_port))).await;
    let b = TestApp::start_with(cluster_config(&cluster, None)).await;
    let portal_a = Rp::demo(&a.url, "portal").await;
    let vanban_b = Rp::demo(&b.url, "vanban").await;

    // Signed in on A; single sign-on into another app on B; the refresh token rotates on B.
    let mut people: Vec<(&str, Browser, RefreshToken)> = Vec::new();
    for user in PEOPLE {
        let mut browser = Browser::new();
        let (tokens, _) = portal_a.sign_in(&a.url, &mut browser, user, &["offline_access"]).await;
        sso_code(&mut browser, &vanban_b).await.unwrap_or_else(|e| panic!("{user}: SSO on the other instance: {e}"));
        let (status, token) = attempt_refresh(&b.url, tokens.refresh_token().unwrap()).await;
        assert_eq!(status, 200, "{user}: the refresh on the other instance");
        people.push((user, browser, token.unwrap()));
    }

    // Logout on B ends the session and its grant for A too.
    let (_, mut browser, token) = people.remove(0);
    let page = browser.get(&format!("{}/logout?client_id=vanban", b.url)).await;
    let done = browser.post_form(&format!("{}/logout", b.url), &page.hidden_fields()).await;
    assert_eq!(done.status, 200);
    assert_eq!(sso_code(&mut browser, &portal_a).await.map_err(|e| e.contains("login_required")), Err(true));
    assert_eq!(attempt_refresh(&a.url, &token).await.0, 400, "the grant ended with its session");

    // Incident revocation through A's admin API: every session and grant of the account, on both instances.
    let (user, mut browser, token) = people.remove(0);
    let done: Value = admin_post(
        format!("http://127.0.0.1:{admin_port}/admin/sessions/revoke"),
        "operator-token-of-the-it-centre-2026",
        json!({"account": format!("{user}@danang.gov.vn"), "operator": "it-centre"}),
    )
    .await;
    assert_eq!(done["sessions"].as_u64(), Some(1), "{done}");
    assert_eq!(sso_code(&mut browser, &vanban_b).await.map_err(|e| e.contains("login_required")), Err(true));
    assert_eq!(attempt_refresh(&b.url, &token).await.0, 400, "the revoked grant");

    // A master dies: the one holding the most sessions. Its replica (synced first) takes over.
    cluster.wait_until(Cluster::replicated, "the replicas to catch up");
    let (victim, sessions) = cluster.busiest_master("*}s:*");
    assert!(sessions > 0, "some session lives on the master to be killed");
    let victim_port = cluster.nodes[victim].port;
    cluster.nodes[victim].stop();
    let killed = Instant::now();
    let (_, first, _) = people.first_mut().unwrap();
    while let Err(e) = sso_code(first, &vanban_b).await {
        assert!(killed.elapsed() < Duration::from_secs(15), "SSO still fails 15 s after the kill: {e}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (user, browser, token) in &mut people {
        let until = Instant::now() + Duration::from_secs(15);
        let mut outcome = sso_code(browser, &vanban_b).await;
        while outcome.is_err() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(200)).await;
            outcome = sso_code(browser, &vanban_b).await;
        }
        outcome.unwrap_or_else(|e| panic!("{user}'s session after the failover: {e}"));
        let (status, _) = attempt_refresh(&a.url, token).await;
        assert_eq!(status, 200, "{user}'s refresh token after the failover");
    }
    let view = cluster.view();
    assert!(view.iter().any(|v| v.port == victim_port && v.failed), "the killed master is marked failed: {view:?}");
    assert_eq!(view.iter().filter(|v| v.master && !v.failed).count(), 3, "a replica was promoted: {view:?}");
}

/// Whether `browser`'s session is over: the app's prompt=none request is answered `login_required`.
async fn signed_out(browser: &mut Browser, rp: &Rp) -> bool {
    sso_code(browser, rp).await.is_err_and(|e| e.contains("login_required"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saml_sign_in_and_single_logout_on_a_cluster() {
    let cluster = Cluster::start();
    let (vanban, tiepdan) = (Sp::new("vanban-cluster"), Sp::new("tiepdan-cluster"));
    let app = app_with(&[(&vanban, "Văn bản"), (&tiepdan, "Tiếp dân")], |c| {
        on_cluster(c, &cluster);
        c.session.max_per_account = 1;
    })
    .await;
    let portal = Rp::demo(&app.url, "portal").await;

    // An OIDC app and two SAML SPs in one session: every record of it lives in the session's slot.
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &["offline_access"]).await;
    let (got, _) = sign_in(&app, &mut browser, &vanban, &[]).await;
    sign_in(&app, &mut browser, &tiepdan, &[]).await;
    let sid = got["session_index"].as_str().unwrap().to_owned();
    let slot = format!("{{{}}}", danang_sso::store::tag_of(&sid));
    let participants = cluster.keys("*}g:*saml-*");
    assert_eq!(participants.len(), 2, "one participant record per SP: {participants:?}");
    let grants = cluster.keys("*}g:*");
    assert!(grants.iter().all(|k| k.contains(&slot)), "every grant in the session's slot {slot}: {grants:?}");
    // The account page reads the session's grants (one MGET in that slot).
    let mut names: Vec<String> = apps(&account_page(&app, &mut browser).await).into_iter().map(|(n, _)| n).collect();
    names.sort();
    assert_eq!(names, ["Cổng thông tin điện tử", "Tiếp dân", "Văn bản"]);

    // The SP's LogoutRequest ends the session cleanly: the other SP is told, the initiator answered, nothing left.
    let request = vanban.ok("logout", &[got["name_id"].as_str().unwrap(), &sid]);
    let page = send(&app, &mut browser, &request).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let frames = frames(&page);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(tiepdan.ok("logout-request", &[&frames[0]])["session_indexes"], json!([sid]));
    let answer = vanban.ok("logout-response", &[&next_url(&page)]);
    assert_eq!(answer["status"], "urn:oasis:names:tc:SAML:2.0:status:Success");
    assert!(signed_out(&mut browser, &portal).await, "the session ended");
    assert_eq!(cluster.keys("*}g:*"), Vec::<String>::new(), "the session's grants and participants are gone");
    assert_eq!(attempt_refresh(&app.url, tokens.refresh_token().unwrap()).await.0, 400);

    // The session cap (one per account) ends an older session with a participant when the person signs in again.
    let mut older = Browser::new();
    sign_in(&app, &mut older, &vanban, &[]).await;
    let mut newer = Browser::new();
    sign_in(&app, &mut newer, &vanban, &[]).await;
    assert!(signed_out(&mut older, &portal).await, "the older session ended under the cap");
    sso_code(&mut newer, &portal).await.expect("the newer session lives");
    let participants = cluster.keys("*}g:*saml-*");
    assert_eq!(participants.len(), 1, "only the newer session's participant is left: {participants:?}");
}
