//! Passkeys through the HTTP surface, with the software authenticator of `authenticator.rs` (a real P-256 key,
//! real CBOR, real signatures, as a browser would post them): adding one on `/tai-khoan/passkey`, the step-up on `/mfa`
//! with it, and the attacks — a replayed answer, a challenge carried to another session, a phishing origin, a
//! refused answer counted by the same throttle as wrong codes. Refusals assert the exact status and audit reason.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::json;

use danang_sso::http::account::passkey::PASSKEY_CSP;

use super::account::step_up;
use super::authenticator::{Authenticator, challenge_of, form_fields};
use super::*;
use crate::rp::payload;

/// Adds the authenticator's passkey to the signed-in account; returns the page after it.
async fn add_passkey(app: &TestApp, browser: &mut Browser, key: &Authenticator, name: &str) -> Page {
    let form = browser.get(&format!("{}/tai-khoan/passkey", app.url)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let mut fields = form_fields(&form, "passkey-register");
    fields.extend(key.register(&challenge_of(&fields)));
    fields.push(("name".into(), name.into()));
    browser.post_form(&format!("{}/tai-khoan/passkey", app.url), &fields).await
}

async fn post_assertion(app: &TestApp, browser: &mut Browser, fields: &[(String, String)]) -> Page {
    browser.post_form(&format!("{}/mfa/passkey", app.url), fields).await
}

#[tokio::test]
async fn a_passkey_added_on_the_account_page_passes_the_step_up_once_per_challenge() {
    let admin_port = crate::harness::free_port();
    let mut config = config_requiring_mfa_for_vanban();
    config.admin.listen = Some(format!("127.0.0.1:{admin_port}"));
    config.admin.token = Some(ADMIN_TOKEN.into());
    let app = TestApp::start_on_localhost(config).await;
    let mut browser = Browser::new();
    sign_in_to_account(&app, &mut browser, "haltt").await;
    let mut key = Authenticator::new(&app);
    let form = browser.get(&format!("{}/tai-khoan/passkey", app.url)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let mut fields = form_fields(&form, "passkey-register");
    fields.extend(key.register(&challenge_of(&fields)));
    fields.push(("name".into(), "Khóa USB".into()));
    let added = browser.post_form(&format!("{}/tai-khoan/passkey", app.url), &fields).await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(added.body.contains("id=\"recovery-codes\""), "the first factor comes with recovery codes");
    let account = browser.get(&format!("{}/tai-khoan", app.url)).await;
    assert!(account.body.contains("Khóa USB"), "{}", account.body);

    // Only the passkey pages run a script, exactly ours; the account page runs none.
    let csp_of = |path: &'static str| {
        let request = crate::app::http().get(format!("{}{path}", app.url)).header("cookie", browser.cookie_header());
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.headers()["content-security-policy"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(csp_of("/tai-khoan/passkey").await, PASSKEY_CSP);
    assert!(!csp_of("/tai-khoan").await.contains("script-src"));
    let script = crate::app::http().get(format!("{}/static/passkey.js", app.url)).send().await.unwrap();
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(script.text().await.unwrap().contains("navigator.credentials.get"));

    // The same registration answer again: its challenge is spent.
    let replayed = browser.post_form(&format!("{}/tai-khoan/passkey", app.url), &fields).await;
    assert_eq!(replayed.status, 400);
    app.wait_for_audit(1, |l| l["event"] == "mfa_failure" && l["reason"] == "passkey_wrong_challenge").await;

    let (mut other, pending, page) = step_up(&app, "haltt").await;
    // Without script the passkey form stays hidden (passkey.js shows it); the code form is there either way.
    let tag = &page.body[page.body.find("<form method=\"post\" action=\"/mfa/passkey\"").expect("the passkey form")..];
    assert!(tag[..tag.find('>').unwrap()].ends_with(" hidden"), "{}", &tag[..200]);
    assert!(page.body.contains("<script src=\"/static/passkey.js\" defer></script>"));
    let fields = form_fields(&page, "passkey-form");
    let challenge = challenge_of(&fields);
    let mut answer = fields.clone();
    answer.extend(key.assert(&challenge));
    let passed = post_assertion(&app, &mut other, &answer).await;
    assert_eq!(passed.status, 303, "{}", passed.body);
    let back = follow(&app, &mut other, &passed).await;
    let tokens = vanban(&app).await.exchange(pending, &back).await;
    let claims = payload(&openidconnect::TokenResponse::id_token(&tokens).unwrap().to_string());
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "mfa"]));
    assert_eq!(claims["acr"], "https://refeds.org/profile/mfa");

    // The very same answer, replayed: its challenge is spent.
    let replayed = post_assertion(&app, &mut other, &answer).await;
    assert_eq!(replayed.status, 403, "a replayed answer is refused");
    app.wait_for_audit(2, |l| l["event"] == "mfa_failure" && l["reason"] == "passkey_wrong_challenge").await;
    app.wait_for_audit(1, |l| l["event"] == "mfa_success" && l["reason"] == "passkey").await;

    // The IT centre sees the passkey by name (never its key), and a reset removes it with the rest.
    let admin = format!("http://127.0.0.1:{admin_port}/admin");
    let listed: serde_json::Value = crate::app::admin_get(format!("{admin}/mfa?account=haltt"), ADMIN_TOKEN).await;
    assert_eq!(listed["factors"], json!(["passkey", "recovery_codes"]));
    assert_eq!(listed["passkeys"][0]["name"], "Khóa USB");
    assert!(listed["passkeys"][0]["last_used"].is_u64(), "{listed}");
    assert!(!listed.to_string().contains(&B64.encode(&key.id)), "no credential id or key in the listing");
    let reset: serde_json::Value = crate::app::admin_post(
        format!("{admin}/mfa/reset"),
        ADMIN_TOKEN,
        json!({"account": "haltt@danang.gov.vn", "operator": "it-centre"}),
    )
    .await;
    assert_eq!(reset["removed"], json!(["passkey", "recovery_codes"]));
    let mut fresh = Browser::new();
    let pending = vanban(&app).await.start(&[], &[]);
    let form = fresh.get(&pending.url).await;
    let after = fresh.sign_in(&app.url, &form, "haltt", PASSWORD).await;
    assert!(after.location.as_deref().unwrap().starts_with("/tai-khoan/totp?"), "enrols again: {:?}", after.location);
}

const ADMIN_TOKEN: &str = "operator-token-of-the-it-centre-2026";

#[tokio::test]
async fn a_phishing_origin_another_sessions_challenge_and_another_accounts_key_are_refused() {
    let app = TestApp::start_on_localhost(config_requiring_mfa_for_vanban()).await;
    let (mut haltt, mut thang) = (Browser::new(), Browser::new());
    sign_in_to_account(&app, &mut haltt, "haltt").await;
    sign_in_to_account(&app, &mut thang, "thangpd").await;
    let mut key = Authenticator::new(&app);
    let mut thangs_key = Authenticator::new(&app);
    assert_eq!(add_passkey(&app, &mut haltt, &key, "laptop").await.status, 200);
    assert_eq!(add_passkey(&app, &mut thang, &thangs_key, "laptop").await.status, 200);

    let (mut victim, _, page) = step_up(&app, "haltt").await;
    // A look-alike site relays the challenge: the browser writes the look-alike's origin.
    key.origin = "http://localhost.evil.example".into();
    let mut phished = form_fields(&page, "passkey-form");
    phished.extend(key.assert(&challenge_of(&phished)));
    assert_eq!(post_assertion(&app, &mut victim, &phished).await.status, 403);
    app.wait_for_audit(1, |l| l["event"] == "mfa_failure" && l["reason"] == "passkey_wrong_origin").await;
    key.origin = app.url.clone();

    // A challenge handed to haltt's other browser, answered in this one: bound to the other session.
    let (_, _, elsewhere) = step_up(&app, "haltt").await;
    let page = browser_mfa_page(&app, &mut victim).await;
    let mut carried = form_fields(&page, "passkey-form");
    let theirs = challenge_of(&form_fields(&elsewhere, "passkey-form"));
    carried.retain(|(k, _)| k != "challenge");
    carried.push(("challenge".into(), theirs.clone()));
    carried.extend(key.assert(&theirs));
    assert_eq!(post_assertion(&app, &mut victim, &carried).await.status, 403);
    app.wait_for_audit(1, |l| l["event"] == "mfa_failure" && l["reason"] == "passkey_wrong_challenge").await;

    // thangpd's own valid passkey, on haltt's second-factor page.
    let page = browser_mfa_page(&app, &mut victim).await;
    let mut foreign = form_fields(&page, "passkey-form");
    foreign.extend(thangs_key.assert(&challenge_of(&foreign)));
    assert_eq!(post_assertion(&app, &mut victim, &foreign).await.status, 403);
    app.wait_for_audit(1, |l| {
        l["event"] == "mfa_failure"
            && l["reason"] == "passkey_unknown_credential"
            && l["account"] == "haltt@danang.gov.vn"
    })
    .await;
}

/// The second-factor page again in the same browser (a fresh challenge).
async fn browser_mfa_page(app: &TestApp, browser: &mut Browser) -> Page {
    let page = browser.get(&format!("{}/mfa", app.url)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

#[tokio::test]
async fn refused_passkey_answers_count_with_wrong_codes_in_the_throttle() {
    let mut config = config_requiring_mfa_for_vanban();
    config.throttle.base_delay_secs = 600;
    let app = TestApp::start_on_localhost(config).await;
    let mut browser = Browser::new();
    sign_in_to_account(&app, &mut browser, "haltt").await;
    let mut key = Authenticator::new(&app);
    assert_eq!(add_passkey(&app, &mut browser, &key, "laptop").await.status, 200);
    let (mut other, _, mut page) = step_up(&app, "haltt").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let mut bad = form_fields(&page, "passkey-form");
        bad.extend(key.assert("not-the-challenge"));
        let answer = post_assertion(&app, &mut other, &bad).await;
        statuses.push(answer.status.as_u16());
        page = answer;
    }
    assert_eq!(statuses, [403, 403, 403, 429, 429], "free failures, then a wait");
    let mut right = form_fields(&page, "passkey-form");
    right.extend(key.assert(&challenge_of(&right)));
    assert_eq!(post_assertion(&app, &mut other, &right).await.status, 429, "no answer is checked while it runs");
    // The code form shares the count: a wrong code now waits too.
    let mut otp = form_fields(&page, "passkey-form");
    otp.retain(|(k, _)| k == "csrf" || k == "continue");
    otp.push(("otp".into(), "123456".into()));
    assert_eq!(other.post_form(&format!("{}/mfa", app.url), &otp).await.status, 429);
    app.wait_for_audit(1, |l| l["event"] == "mfa_failure" && l["reason"] == "throttled").await;
}

#[tokio::test]
async fn a_ceremony_started_on_one_instance_finishes_on_the_other_once() {
    let redis = crate::harness::Redis::start();
    let config = || {
        let mut config = config_requiring_mfa_for_vanban();
        config.store = crate::store_suite::redis_config(&redis, "passkey:");
        config
    };
    let a = TestApp::start_on_localhost(config()).await;
    let b = TestApp::start_behind(config(), &a.url).await;
    let mut browser = Browser::new();
    sign_in_to_account(&a, &mut browser, "haltt").await;
    let mut key = Authenticator::new(&a);

    // The page (and its challenge) from A, the answer to B.
    let form = browser.get(&format!("{}/tai-khoan/passkey", a.url)).await;
    let mut fields = form_fields(&form, "passkey-register");
    fields.extend(key.register(&challenge_of(&fields)));
    let added = browser.post_form(&format!("{}/tai-khoan/passkey", b.url), &fields).await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(added.body.contains("id=\"recovery-codes\""));

    let page = browser.get(&format!("{}/mfa", b.url)).await;
    let mut answer = form_fields(&page, "passkey-form");
    answer.extend(key.assert(&challenge_of(&answer)));
    let passed = post_assertion(&a, &mut browser, &answer).await;
    assert_eq!((passed.status.as_u16(), passed.location.as_deref()), (303, Some("/tai-khoan")));
    let again = browser.post_form(&format!("{}/mfa/passkey", b.url), &answer).await;
    assert_eq!(again.status, 403, "spent on A, refused on B");
    a.wait_for_audit(1, |l| l["event"] == "mfa_success" && l["reason"] == "passkey").await;
    b.wait_for_audit(1, |l| l["event"] == "mfa_failure" && l["reason"] == "passkey_wrong_challenge").await;

    // The IT centre's commands on the shared store: the passkey by name and use, then gone with the rest.
    let dir = std::env::temp_dir().join(format!("danang-sso-passkey-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "[keys]\ndir = {keys:?}\n\n[store]\nkind = \"redis\"\nredis_url = \"{url}\"\nkey_prefix = \"passkey:\"\n",
        keys = crate::app::keys_dir().display().to_string(),
        url = redis.url,
    );
    std::fs::write(dir.join("config.toml"), config).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_danang-sso"))
            .args(args)
            .arg("--config")
            .arg(dir.join("config.toml"))
            .env("USER", "it-centre")
            .output()
            .expect("run danang-sso");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let listed = run(&["mfa", "list", "--account", "haltt"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines[0], "haltt@danang.gov.vn\tpasskey,recovery_codes", "{listed}");
    let passkey: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!((passkey.len(), passkey[0], passkey[1]), (4, "passkey", "Khóa truy cập"), "{listed}");
    assert_ne!(passkey[3], "0", "last used: {listed}");
    let reset = run(&["mfa", "reset", "--account", "haltt"]);
    // The audit line goes to stdout too, written by its own thread: in either order.
    assert!(reset.lines().any(|l| l == "removed: passkey,recovery_codes"), "{reset}");
    assert!(reset.contains(r#""event":"mfa_reset""#) && reset.contains("cli:it-centre"), "audited: {reset}");
    assert_eq!(run(&["mfa", "list", "--account", "haltt"]).trim(), "haltt@danang.gov.vn\tnone");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_console_shows_a_persons_passkeys_and_its_reset_offer() {
    let app = TestApp::start_on_localhost(test_config()).await;
    let mut dung = Browser::new();
    sign_in_to_account(&app, &mut dung, "dungnv").await;
    let key = Authenticator::new(&app);
    let form = dung.get(&format!("{}/tai-khoan/passkey?ui_locales=en", app.url)).await;
    assert!(form.body.contains("lang=\"en\"") && form.body.contains("Add a passkey"), "{}", form.body);
    let mut fields = form_fields(&form, "passkey-register");
    fields.extend(key.register(&challenge_of(&fields)));
    fields.push(("name".into(), "Điện thoại".into()));
    assert_eq!(dung.post_form(&format!("{}/tai-khoan/passkey", app.url), &fields).await.status, 200);

    let (mut staff, _) = crate::console::staff_browser(&app, "haltt").await;
    let page = staff.get(&format!("{}/quan-tri/tai-khoan?mail=dungnv", app.url)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let shown = element_text(&page, "mfa-passkeys");
    assert!(shown.starts_with("Điện thoại (đăng ký ") && shown.ends_with("dùng gần nhất chưa dùng)"), "{shown}");
    assert!(page.body.contains("id=\"reset-mfa\""), "a passkey alone is something to reset");
    assert!(!page.body.contains(&B64.encode(&key.id)), "never the credential id");
}

#[tokio::test]
async fn removing_a_passkey_needs_a_fresh_sign_in_proved_with_it() {
    let app = TestApp::start_on_localhost(config_requiring_mfa_for_vanban()).await;
    let mut browser = Browser::new();
    sign_in_to_account(&app, &mut browser, "huongtt").await;
    let mut key = Authenticator::new(&app);
    let form = browser.get(&format!("{}/tai-khoan/passkey", app.url)).await;
    let mut fields = form_fields(&form, "passkey-register");
    fields.extend(key.register(&challenge_of(&fields)));
    assert_eq!(browser.post_form(&format!("{}/tai-khoan/passkey", app.url), &fields).await.status, 200);
    let remove = vec![("kind".to_owned(), format!("passkey:{}", B64.encode(&key.id)))];

    app.clock.advance(400);
    let page = browser.get(&format!("{}/tai-khoan", app.url)).await;
    let mut stale_form = vec![("csrf".to_owned(), crate::console::hidden(&page, "csrf"))];
    stale_form.extend(remove.clone());
    let stale = browser.post_form(&format!("{}/tai-khoan/yeu-to/go-bo", app.url), &stale_form).await;
    assert_eq!(stale.status, 303);
    assert!(stale.location.as_deref().unwrap().starts_with("/tai-khoan/dang-nhap?continue="), "{:?}", stale.location);

    // Password, then the passkey on /mfa, then back: now the removal goes through.
    let form = follow(&app, &mut browser, &stale).await;
    let after = browser.sign_in(&app.url, &form, "huongtt", PASSWORD).await;
    assert!(after.location.as_deref().unwrap().starts_with("/mfa?"), "{:?}", after.location);
    let mfa = follow(&app, &mut browser, &after).await;
    let mut answer = form_fields(&mfa, "passkey-form");
    answer.extend(key.assert(&challenge_of(&answer)));
    let passed = post_assertion(&app, &mut browser, &answer).await;
    assert_eq!(passed.status, 303, "{}", passed.body);
    let page = follow(&app, &mut browser, &passed).await;
    assert_eq!(page.status, 200);
    let mut fresh_form = vec![("csrf".to_owned(), crate::console::hidden(&page, "csrf"))];
    fresh_form.extend(remove);
    let done = browser.post_form(&format!("{}/tai-khoan/yeu-to/go-bo", app.url), &fresh_form).await;
    assert_eq!(done.location.as_deref(), Some("/tai-khoan?done=removed"));
    let page = browser.get(&format!("{}/tai-khoan?done=removed", app.url)).await;
    assert!(!page.body.contains("class=\"passkey\""), "the passkey is gone");
    assert!(!page.body.contains("id=\"passkey-form\""));
    app.wait_for_audit(1, |l| l["event"] == "mfa_removed" && l["reason"] == "passkey").await;
}
