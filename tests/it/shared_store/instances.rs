//! Two danang-sso instances on one Redis and one keys directory (as behind a load balancer): to a person and to
//! an app they are one service.

use danang_sso::clock::Clock;
use danang_sso::store::Store;
use openidconnect::{OAuth2TokenResponse, TokenResponse};

use super::{app_config, refresh, token};
use crate::app::TestApp;
use crate::browser::{Browser, PASSWORD};
use crate::harness::Redis;
use crate::rp::{Rp, payload};
use crate::store_suite::redis_store;

#[tokio::test]
async fn a_session_and_a_refresh_token_made_on_one_instance_work_on_the_other_until_the_session_ends() {
    let redis = Redis::start();
    let a = TestApp::start_with(app_config(&redis, "pair:")).await;
    let b = TestApp::start_with(app_config(&redis, "pair:")).await;
    let portal_a = Rp::demo(&a.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal_a.sign_in(&a.url, &mut browser, "dungnv", &["offline_access"]).await;
    let sid = payload(&tokens.id_token().unwrap().to_string())["sid"].as_str().unwrap().to_owned();

    // The session made on A gives a code on B, without the form; B's ID token verifies (same keys).
    let vanban_b = Rp::demo(&b.url, "vanban").await;
    let pending = vanban_b.start(&["profile"], &[]);
    let page = browser.get(&pending.url).await;
    assert_eq!(page.status, 303, "B knows the session: no form");
    let nonce = pending.nonce.clone();
    let on_b = vanban_b.exchange(pending, &page).await;
    on_b.id_token().unwrap().claims(&vanban_b.client.id_token_verifier(), &nonce).expect("B's ID token verifies");
    let on_b = payload(&on_b.id_token().unwrap().to_string());
    assert_eq!(on_b["sid"], sid.as_str(), "one SSO session across instances");
    assert_eq!(on_b["name"], "Nguyễn Văn Dũng");

    // A's refresh token is redeemed on B; the one B hands out works on A; the spent one is refused on A.
    let first = tokens.refresh_token().unwrap().secret().clone();
    let on_b = refresh(&b.url, "portal", &first).await;
    assert_eq!(on_b.status, 200, "{}", on_b.json);
    let second = on_b.json["refresh_token"].as_str().expect("a rotated refresh token").to_owned();
    let on_a = refresh(&a.url, "portal", &second).await;
    assert_eq!(on_a.status, 200, "{}", on_a.json);
    let third = on_a.json["refresh_token"].as_str().unwrap().to_owned();

    // The session ends (no logout endpoint yet: through the store, as A's logout will): B asks again.
    let store = redis_store(&redis, "pair:", Clock::default());
    let (_, grants) = store.end_session(&sid).await.unwrap().expect("the session was live");
    let mut clients: Vec<String> = grants.into_iter().map(|g| g.client_id).collect();
    clients.sort();
    assert_eq!(clients, ["portal", "vanban"], "both apps' grants are revoked with the session");
    let portal_b = Rp::demo(&b.url, "portal").await;
    let page = browser.get(&portal_b.start(&[], &[("prompt", "none")]).url).await;
    assert_eq!(page.redirect_param("error").as_deref(), Some("login_required"), "B sees the session ended");
    let refused = refresh(&b.url, "portal", &third).await;
    assert_eq!((refused.status.as_u16(), refused.json["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn a_code_redeemed_on_both_instances_at_once_works_once() {
    let redis = Redis::start();
    let a = TestApp::start_with(app_config(&redis, "race:")).await;
    let b = TestApp::start_with(app_config(&redis, "race:")).await;
    let portal = Rp::demo(&a.url, "portal").await;
    let mut browser = Browser::new();
    for round in 0..5 {
        let pending = portal.start(&[], &[]);
        let mut page = browser.get(&pending.url).await;
        if page.is_login_form() {
            page = browser.sign_in(&a.url, &page, "thangpd", PASSWORD).await;
        }
        let code = page.redirect_param("code").expect("a code from A");
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", portal.redirect.as_str()),
            ("code_verifier", pending.verifier.secret().as_str()),
        ];
        let (on_a, on_b) = tokio::join!(token(&a.url, "portal", &form), token(&b.url, "portal", &form));
        let mut statuses = [on_a.status.as_u16(), on_b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "round {round}: exactly one redemption wins ({} / {})", on_a.json, on_b.json);
        let loser = if on_a.status == 400 { on_a } else { on_b };
        assert_eq!(loser.json["error"], "invalid_grant");
    }
}
