//! The production shape (issue 19): the service on a real slapd *and* a real Redis together, through sign-in,
//! single sign-on, refresh, logout and incident revocation; and the LDAP `group_filter` path (groups found by a
//! search of group entries, as Active Directory or a directory without the memberOf overlay needs) against slapd.

use danang_sso::clock::Clock;
use danang_sso::config::{Config, DirectoryKind};
use danang_sso::directory::Directory;
use danang_sso::store::Store;
use openidconnect::core::CoreErrorResponseType;
use openidconnect::{OAuth2TokenResponse, RequestTokenError, TokenResponse};
use serde_json::{Value, json};

use crate::app::{TestApp, admin_post};
use crate::browser::{Browser, PASSWORD};
use crate::directory_suite::{demo_slapd, ldap_config, ldap_directory};
use crate::flow;
use crate::harness::{Redis, Slapd};
use crate::rp::{Rp, payload};
use crate::shared_store::app_config;
use crate::store_suite::redis_store;

const ACCOUNT: &str = "dungnv@danang.gov.vn";

fn production_config(slapd: &Slapd, redis: &Redis, admin_port: u16) -> Config {
    let mut config = app_config(redis, "prod:");
    config.directory.kind = DirectoryKind::Ldap;
    config.ldap = ldap_config(slapd);
    config.admin.listen = Some(format!("127.0.0.1:{admin_port}"));
    config.admin.token = Some("operator-token-of-the-it-centre-2026".into());
    config
}

#[tokio::test]
async fn slapd_and_redis_together_sign_in_sso_refresh_logout_and_incident_revocation() {
    let (slapd, redis) = (demo_slapd(), Redis::start());
    let admin_port = crate::harness::free_port();
    let app = TestApp::start_with(production_config(&slapd, &redis, admin_port)).await;
    let store = redis_store(&redis, "prod:", Clock::default());

    // Sign-in (ID token checked against the JWKS, userinfo, refresh with reuse detection) and SSO into a second app.
    flow::sign_in_verify_userinfo_and_refresh_on(&app).await;
    flow::a_second_app_gets_in_without_the_form_and_shares_the_session_on(&app).await;

    // Logout: RP-initiated, confirmed; the session is gone from Redis and the browser must sign in again.
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &["offline_access"]).await;
    let sid = payload(&tokens.id_token().unwrap().to_string())["sid"].as_str().unwrap().to_owned();
    assert!(store.session(&sid).await.unwrap().is_some(), "the session is in Redis");
    let page = browser.get(&format!("{}/logout?client_id=portal", app.url)).await;
    let done = browser.post_form(&format!("{}/logout", app.url), &page.hidden_fields()).await;
    assert_eq!(done.status, 200);
    assert!(store.session(&sid).await.unwrap().is_none(), "logout ended the session in Redis");
    let page = browser.get(&portal.start(&[], &[("prompt", "none")]).url).await;
    assert_eq!(page.redirect_param("error").as_deref(), Some("login_required"));
    match portal
        .client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&portal.http)
        .await
    {
        Err(RequestTokenError::ServerResponse(e)) => assert_eq!(e.error(), &CoreErrorResponseType::InvalidGrant),
        other => panic!("a refresh after logout must be invalid_grant, got ok = {}", other.is_ok()),
    }

    // Incident revocation: two browsers signed in, one offline grant; the admin API ends all of it.
    let mut first = Browser::new();
    let (offline, _) = portal.sign_in(&app.url, &mut first, "dungnv", &["offline_access"]).await;
    let mut second = Browser::new();
    Rp::demo(&app.url, "vanban").await.sign_in(&app.url, &mut second, "dungnv", &[]).await;
    let live = store.sessions_of(ACCOUNT).await.unwrap().len();
    assert!(live >= 2, "both browsers' sessions are in Redis ({live})");
    let admin = format!("http://127.0.0.1:{admin_port}/admin");
    let done: Value = admin_post(
        format!("{admin}/sessions/revoke"),
        "operator-token-of-the-it-centre-2026",
        json!({"account": ACCOUNT, "operator": "it-centre"}),
    )
    .await;
    assert_eq!(done["sessions"].as_u64(), Some(live as u64), "{done}");
    assert!(store.sessions_of(ACCOUNT).await.unwrap().is_empty(), "no session of the account is left in Redis");
    for browser in [&mut first, &mut second] {
        let page = browser.get(&portal.start(&[], &[("prompt", "none")]).url).await;
        assert_eq!(page.redirect_param("error").as_deref(), Some("login_required"));
    }
    let refused = portal.client.exchange_refresh_token(offline.refresh_token().unwrap()).unwrap();
    assert!(
        matches!(refused.request_async(&portal.http).await, Err(RequestTokenError::ServerResponse(ref e))
            if e.error() == &CoreErrorResponseType::InvalidGrant),
        "the offline grant is revoked too"
    );
    app.wait_for_audit(1, |l| l["event"] == "session_revoked" && l["account"] == ACCOUNT).await;
}

/// `group_filter`: groups come from a search of group entries by the account's DN (Active Directory style, or a
/// directory without memberOf), not from a `memberOf` attribute. The filter here keeps one of dungnv's two groups,
/// so the answer can only have come from the search.
#[tokio::test]
async fn group_filter_finds_groups_by_searching_group_entries() {
    let slapd = demo_slapd();
    let memberof = ldap_directory(&ldap_config(&slapd));
    let user = memberof.authenticate(ACCOUNT, PASSWORD).await.unwrap().expect("dungnv signs in");
    assert_eq!(user.groups, ["can-bo", "lanh-dao"], "memberOf, as filled in by the overlay");

    let mut by_dn = ldap_config(&slapd);
    by_dn.group_filter = Some("(&(objectClass=groupOfNames)(member={dn})(cn=lanh-*))".into());
    let user = ldap_directory(&by_dn).authenticate(ACCOUNT, PASSWORD).await.unwrap().expect("dungnv signs in");
    assert_eq!(user.groups, ["lanh-dao"], "from the group search by DN");

    let mut no_match = ldap_config(&slapd);
    no_match.group_filter = Some("(&(objectClass=groupOfNames)(member={dn})(cn=quan-tri-he-thong))".into());
    let user = ldap_directory(&no_match).authenticate(ACCOUNT, PASSWORD).await.unwrap().expect("dungnv signs in");
    assert!(user.groups.is_empty(), "no group entry matches: no groups, even though memberOf has two");

    // Through the running service with the Redis store: the ID token carries the searched groups.
    let redis = Redis::start();
    let mut config = production_config(&slapd, &redis, crate::harness::free_port());
    config.ldap.group_filter = by_dn.group_filter.clone();
    let app = TestApp::start_with(config).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let (tokens, _) = portal.sign_in(&app.url, &mut Browser::new(), "dungnv", &["groups"]).await;
    assert_eq!(payload(&tokens.id_token().unwrap().to_string())["groups"], json!(["lanh-dao"]));
    assert_eq!(redis_store(&redis, "prod:", Clock::default()).sessions_of(ACCOUNT).await.unwrap().len(), 1);
}
