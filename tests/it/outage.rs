//! A directory outage, as a person lives it (issue 15): signed in, then slapd stops. Within
//! `[directory] outage_grace_secs` of the account's last successful check a second app gets in without the form
//! and refreshes keep working; a new password sign-in gets the Vietnamese 503 page; once slapd answers again the
//! next request asks it as before (a lock made meanwhile is seen at once).

use danang_sso::config::{Config, DirectoryKind};
use openidconnect::core::CoreTokenResponse;
use openidconnect::{OAuth2TokenResponse, RefreshToken, RequestTokenError, TokenResponse};

use crate::app::{TestApp, test_config};
use crate::browser::{Browser, PASSWORD};
use crate::directory_suite::{demo_slapd, ldap_config};
use crate::harness::Slapd;
use crate::rp::{Rp, payload};

fn ldap_app_config(slapd: &Slapd) -> Config {
    let mut config = test_config();
    config.directory.kind = DirectoryKind::Ldap;
    config.ldap = ldap_config(slapd);
    config.ldap.timeout_ms = 1000;
    config
}

/// The refresh through the RP library: the new tokens, or what went wrong.
async fn refresh(rp: &Rp, token: &RefreshToken) -> Result<CoreTokenResponse, String> {
    match rp.client.exchange_refresh_token(token).unwrap().request_async(&rp.http).await {
        Ok(tokens) => Ok(tokens),
        Err(RequestTokenError::ServerResponse(e)) => Err(e.error().to_string()),
        Err(RequestTokenError::Parse(_, body)) => Err(String::from_utf8_lossy(&body).into_owned()),
        Err(other) => Err(format!("{other:?}")),
    }
}

/// The raw refresh request, for the status code the RP library hides.
async fn refresh_status(app: &TestApp, rp: &str, token: &RefreshToken) -> (u16, serde_json::Value) {
    let response = crate::app::http()
        .post(format!("{}/token", app.url))
        .basic_auth(rp, Some(format!("{rp}-secret")))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token.secret())])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn a_signed_in_person_keeps_working_through_a_directory_outage_within_the_grace() {
    let mut slapd = demo_slapd();
    let app = TestApp::start_with(ldap_app_config(&slapd)).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &["offline_access"]).await;
    let token = tokens.refresh_token().expect("a refresh token").clone();

    slapd.stop();
    // A second app: the SSO session gives a code without the form, the code gives tokens.
    let vanban = Rp::demo(&app.url, "vanban").await;
    let pending = vanban.start(&["profile"], &[]);
    let page = browser.get(&pending.url).await;
    assert_eq!(page.status, 303, "a redirect to the app, not {}: {}", page.status, page.body);
    let second = vanban.exchange(pending, &page).await;
    assert_eq!(payload(&second.id_token().unwrap().to_string())["name"], "Nguyễn Văn Dũng", "the last known name");
    // The refresh works and rotates.
    let refreshed = refresh(&portal, &token).await.expect("the refresh works within the grace");
    let token = refreshed.refresh_token().expect("rotated").clone();
    // A password sign-in still needs the directory.
    let mut stranger = Browser::new();
    let form = stranger.get(&portal.start(&[], &[]).url).await;
    let page = stranger.sign_in(&app.url, &form, "anhvn", PASSWORD).await;
    assert_eq!(page.status, 503);
    assert!(page.body.contains("Hệ thống thư công vụ tạm thời không phản hồi"), "{}", page.body);
    assert!(!stranger.has_session());
    let graced = app.wait_for_audit(2, |l| l["event"] == "directory_outage_grace").await;
    let graced: Vec<_> = graced.iter().filter(|l| l["event"] == "directory_outage_grace").collect();
    assert!(graced.iter().all(|l| l["account"] == "dungnv@danang.gov.vn"), "{graced:?}");
    let metrics = crate::app::http().get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("danang_sso_directory_outage_grace_total"), "{metrics}");

    // Past the grace (an hour after the last successful check), the outage is a 503 again: nothing is spent.
    app.clock.advance(3601);
    let (status, body) = refresh_status(&app, "portal", &token).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("temporarily_unavailable")), "{body}");
    let page = browser.get(&vanban.start(&[], &[]).url).await;
    assert_eq!(page.status, 503, "{}", page.body);

    // The directory back: the next request asks it again, so a lock made meanwhile ends the grant.
    slapd.restart();
    slapd.modify(
        "dn: uid=dungnv,ou=people,dc=danang,dc=gov,dc=vn\nchangetype: modify\n\
         add: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n",
    );
    let (status, body) = refresh_status(&app, "portal", &token).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
}

#[tokio::test]
async fn the_grace_never_covers_an_account_the_directory_says_is_locked() {
    let mut slapd = demo_slapd();
    let app = TestApp::start_with(ldap_app_config(&slapd)).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "anhvn", &["offline_access"]).await;
    let token = tokens.refresh_token().expect("a refresh token").clone();
    slapd.modify(
        "dn: uid=anhvn,ou=people,dc=danang,dc=gov,dc=vn\nchangetype: modify\n\
         add: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n",
    );
    // The directory answers "locked": the grant ends, as without grace.
    let (status, body) = refresh_status(&app, "portal", &token).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    // Then an outage: the ended session and grant stay ended.
    slapd.stop();
    let (status, body) = refresh_status(&app, "portal", &token).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let vanban = Rp::demo(&app.url, "vanban").await;
    // The session was not ended by the refusal (only the grant was), but nothing vouches for it during the
    // outage any more: the directory's "locked" wiped the good answer the grace would have used.
    let page = browser.get(&vanban.start(&[], &[]).url).await;
    assert_eq!(page.status, 503, "location {:?}", page.location);
    assert!(app.audit_lines().iter().all(|l| l["event"] != "directory_outage_grace"));
}

#[tokio::test]
async fn with_the_grace_off_an_outage_is_a_503_for_everyone() {
    let mut slapd = demo_slapd();
    let mut config = ldap_app_config(&slapd);
    config.directory.outage_grace_secs = 0;
    let app = TestApp::start_with(config).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "dungnv", &["offline_access"]).await;
    let token = tokens.refresh_token().expect("a refresh token").clone();
    slapd.stop();
    let (status, body) = refresh_status(&app, "portal", &token).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("temporarily_unavailable")), "{body}");
    let vanban = Rp::demo(&app.url, "vanban").await;
    let page = browser.get(&vanban.start(&[], &[]).url).await;
    assert_eq!(page.status, 503, "{}", page.body);
    // Nothing was spent by the 503: the same refresh token works once the directory is back.
    slapd.restart();
    refresh(&portal, &token).await.expect("the refresh token survived the outage");
}
