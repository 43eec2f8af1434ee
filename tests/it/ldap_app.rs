//! The whole service with `directory.kind = "ldap"` over a real slapd: the core OIDC flow, the
//! 503 page while the directory is down (and recovery without a restart), and an account locked
//! in the directory losing its refresh token and its SSO session.

use danang_sso::config::{Config, DirectoryKind};
use openidconnect::core::CoreErrorResponseType;
use openidconnect::{OAuth2TokenResponse, RequestTokenError, TokenResponse};

use crate::app::{TestApp, test_config};
use crate::browser::{Browser, PASSWORD};
use crate::directory_suite::{demo_slapd, ldap_config};
use crate::flow;
use crate::harness::Slapd;
use crate::rp::{Rp, payload};

fn ldap_app_config(slapd: &Slapd) -> Config {
    let mut config = test_config();
    config.directory.kind = DirectoryKind::Ldap;
    config.ldap = ldap_config(slapd);
    config
}

#[tokio::test]
async fn the_core_flow_passes_with_the_ldap_directory() {
    let slapd = demo_slapd();
    let app = || TestApp::start_with(ldap_app_config(&slapd));
    flow::sign_in_verify_userinfo_and_refresh_on(&app().await).await;
    flow::a_second_app_gets_in_without_the_form_and_shares_the_session_on(&app().await).await;
    flow::prompt_none_answers_both_ways_on(&app().await).await;
    flow::max_age_and_prompt_login_ask_for_the_password_again_on(&app().await).await;
    flow::every_way_of_typing_the_mailbox_signs_in_and_names_are_nfc_on(&app().await).await;
    flow::a_public_client_uses_pkce_without_a_secret_on(&app().await).await;
}

#[tokio::test]
async fn directory_down_gives_the_vietnamese_503_and_sign_in_returns_after_restart() {
    let mut slapd = demo_slapd();
    let app = TestApp::start_with(ldap_app_config(&slapd)).await;
    let portal = Rp::demo(&app.url, "portal").await;
    portal.sign_in(&app.url, &mut Browser::new(), "dungnv", &[]).await;

    slapd.stop();
    for _ in 0..2 {
        let mut browser = Browser::new();
        let form = browser.get(&portal.start(&[], &[]).url).await;
        let page = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
        assert_eq!(page.status, 503);
        assert!(page.body.contains("Hệ thống thư công vụ tạm thời không phản hồi"), "{}", page.body);
        assert!(page.body.contains(r#"name="password""#), "the form stays, to try again");
        assert!(!browser.has_session());
    }

    slapd.restart();
    let (tokens, _) = portal.sign_in(&app.url, &mut Browser::new(), "dungnv", &["profile"]).await;
    assert_eq!(payload(&tokens.id_token().unwrap().to_string())["name"], "Nguyễn Văn Dũng", "the same app, no restart");
}

#[tokio::test]
async fn an_account_locked_in_the_directory_loses_its_refresh_and_its_session() {
    let slapd = demo_slapd();
    let app = TestApp::start_with(ldap_app_config(&slapd)).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut browser, "anhvn", &["offline_access"]).await;
    let refresh = tokens.refresh_token().expect("a refresh token");
    let refreshed = portal.client.exchange_refresh_token(refresh).unwrap().request_async(&portal.http).await;
    let refresh = refreshed.expect("refresh works before the lock").refresh_token().expect("rotated").clone();

    slapd.modify(
        "dn: uid=anhvn,ou=people,dc=danang,dc=gov,dc=vn\nchangetype: modify\n\
         add: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n",
    );
    match portal.client.exchange_refresh_token(&refresh).unwrap().request_async(&portal.http).await {
        Err(RequestTokenError::ServerResponse(e)) => assert_eq!(e.error(), &CoreErrorResponseType::InvalidGrant),
        other => panic!("expected invalid_grant, got {:?}", other.map(|t| t.access_token().secret().len())),
    }

    // The SSO session gives no code to another app: the account is checked again, the form comes back.
    let vanban = Rp::demo(&app.url, "vanban").await;
    let page = browser.get(&vanban.start(&[], &[]).url).await;
    assert!(page.is_login_form(), "status {} location {:?}", page.status, page.location);
    let page = browser.get(&vanban.start(&[], &[("prompt", "none")]).url).await;
    assert_eq!(page.redirect_param("error").as_deref(), Some("login_required"));
}
