//! Dormant accounts with a clock the tests move: the report (admin API, and the CLI on a shared Redis), the
//! policy refusing sign-in with the Vietnamese message only after the right password, and re-activation.

use danang_sso::calendar::Day;
use danang_sso::clock::Clock;
use danang_sso::store::Store;
use serde_json::json;

use super::{ADMIN_TOKEN, TempDir, admin_get, cli, path_str, stderr, stdout, with_admin};
use crate::app::{TestApp, http, keys_dir, test_config};
use crate::browser::{Browser, PASSWORD};
use crate::harness::Redis;
use crate::rp::Rp;
use crate::store_suite::redis_store;

const DAY: i64 = 86_400;
const DUNG: &str = "dungnv@danang.gov.vn";

/// The CSV rows (header left out, line ends trimmed).
fn rows(csv: &str) -> Vec<String> {
    csv.lines().skip(1).map(|l| l.trim_end().to_owned()).collect()
}

#[tokio::test]
async fn an_account_unused_for_181_days_is_reported_dormant() {
    let (config, admin) = with_admin(test_config());
    let app = TestApp::start_with(config).await;
    let portal = Rp::demo(&app.url, "portal").await;
    let dung_day = Day::of_unix(app.clock.now());
    portal.sign_in(&app.url, &mut Browser::new(), "dungnv", &[]).await;
    portal.sign_in(&app.url, &mut Browser::new(), "huongtt", &[]).await;
    app.clock.advance(30 * DAY);
    let huong_day = Day::of_unix(app.clock.now());
    portal.sign_in(&app.url, &mut Browser::new(), "huongtt", &[]).await;
    app.clock.advance(151 * DAY);

    let report = admin_get(&format!("{admin}/reports/dormant?days=180")).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.headers["content-type"], "text/csv; charset=utf-8");
    assert!(report.body.starts_with("\u{feff}mail,name,unit,kind,last_sign_in,days_since,status\r\n"));
    assert_eq!(
        rows(&report.body),
        [format!("{DUNG},Nguyễn Văn Dũng,Văn phòng UBND thành phố,personal,{dung_day},181,inactive")],
        "huongtt signed in 151 days ago; the others were never seen and no date was given"
    );

    let report = admin_get(&format!("{admin}/reports/dormant?days=150&never_seen_since=2026-01-01")).await;
    let rows = rows(&report.body);
    assert!(rows.contains(&format!(
        "huongtt@danang.gov.vn,Trần Thị Hương,Sở Kế hoạch và Đầu tư,personal,{huong_day},151,inactive"
    )));
    assert!(rows.contains(&"anhvn@danang.gov.vn,Võ Ngọc Ánh,Sở Kế hoạch và Đầu tư,personal,,,never_seen".to_owned()));
    assert!(rows.iter().all(|r| !r.contains("gmail.com") && !r.contains("khoanm")), "other domains, locked: {rows:?}");
    assert_eq!(rows.len(), 9, "every account of danang.gov.vn: {rows:?}");

    let denied = http().get(format!("{admin}/reports/dormant")).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    let bad = admin_get(&format!("{admin}/reports/dormant?never_seen_since=01-01-2026")).await;
    assert_eq!(bad.status, 400);

    // The CLI cannot see into a running server's memory: it says so, and where to look instead.
    let out = cli(&["report", "dormant", "--days", "180"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/admin/reports/dormant"), "{}", stderr(&out));
}

/// Signs `user` in to the portal in a fresh browser with `password`; the page that comes back.
async fn attempt(app: &TestApp, user: &str, password: &str) -> (crate::browser::Page, bool) {
    let portal = Rp::demo(&app.url, "portal").await;
    let mut browser = Browser::new();
    let form = browser.get(&portal.start(&[], &[]).url).await;
    let page = browser.sign_in(&app.url, &form, user, password).await;
    let signed_in = browser.has_session();
    (page, signed_in)
}

const DORMANT_MESSAGE: &str = "Vui lòng đề nghị Chánh Văn phòng cơ quan, đơn vị của bạn gửi yêu cầu kích hoạt lại";

#[tokio::test]
async fn the_policy_refuses_a_dormant_account_only_after_the_right_password() {
    let (mut config, admin) = with_admin(test_config());
    config.policy.dormant_after_days = Some(180);
    let app = TestApp::start_with(config).await;
    let (page, signed_in) = attempt(&app, "dungnv", PASSWORD).await;
    assert!(signed_in && page.status == 303, "never seen and no date: not dormant");
    app.clock.advance(181 * DAY);

    let (wrong, signed_in) = attempt(&app, "dungnv", "Danang@2025").await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("Hộp thư hoặc mật khẩu không đúng."), "{}", wrong.body);
    assert!(!wrong.body.contains("Chánh Văn phòng") && !signed_in, "a stranger learns nothing about dormancy");

    let (page, signed_in) = attempt(&app, "dungnv", PASSWORD).await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains(DORMANT_MESSAGE), "{}", page.body);
    assert!(page.body.contains("không được sử dụng quá 180 ngày"));
    assert!(!signed_in && page.location.is_none(), "no session, no code");
    app.wait_for_audit(1, |l| l["event"] == "sign_in_failure" && l["reason"] == "dormant").await;
    let lines = app.audit_lines();
    let refused = lines.iter().find(|l| l["reason"] == "dormant").unwrap();
    assert_eq!((&refused["account"], &refused["client"]), (&json!(DUNG), &json!("portal")));
    assert!(lines.iter().any(|l| l["reason"] == "wrong_password" && l["account"] == DUNG));

    let (_, signed_in) = attempt(&app, "huongtt", PASSWORD).await;
    assert!(signed_in, "an account never seen is not dormant without dormant_never_seen_since");

    // The unit's chief of office asked: the IT centre re-opens the mailbox.
    let done = http()
        .post(format!("{admin}/accounts/reactivate"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"account": "dungnv", "operator": "it-centre"}))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let (_, signed_in) = attempt(&app, "dungnv", PASSWORD).await;
    assert!(signed_in, "re-activated");
    app.wait_for_audit(1, |l| l["event"] == "operator_action" && l["reason"] == "reactivate_account").await;
    let unknown = http()
        .post(format!("{admin}/accounts/reactivate"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"account": "khongco"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
}

#[tokio::test]
async fn accounts_never_seen_are_dormant_once_the_stated_date_is_older_than_the_period() {
    let mut config = test_config();
    config.policy.dormant_after_days = Some(180);
    let clock = Clock::default();
    config.policy.dormant_never_seen_since = Some(Day(Day::of_unix(clock.now()).0 - 10).to_string());
    let app = TestApp::start_with(config).await;
    assert!(attempt(&app, "anhvn", PASSWORD).await.1, "recording began 10 days ago: too early to tell");
    app.clock.advance(200 * DAY);
    let (page, signed_in) = attempt(&app, "huongtt", PASSWORD).await;
    assert!(!signed_in && page.body.contains(DORMANT_MESSAGE), "never seen in 210 days");
    assert!(!attempt(&app, "anhvn", PASSWORD).await.1, "last seen 200 days ago");
}

#[tokio::test]
async fn the_cli_reports_and_reactivates_on_a_shared_redis() {
    let redis = Redis::start();
    let clock = Clock::default();
    let store = redis_store(&redis, "dormant-cli:", clock.clone());
    let now = clock.now();
    store.record_sign_in(DUNG, now - 200 * 86_400).await.unwrap();
    store.record_sign_in("huongtt@danang.gov.vn", now - 5 * 86_400).await.unwrap();

    let tmp = TempDir::new("dormant-cli");
    let audit = tmp.0.join("audit.jsonl");
    let config = tmp.write(
        "config.toml",
        &format!(
            "[store]\nkind = \"redis\"\nredis_url = \"{url}\"\nkey_prefix = \"dormant-cli:\"\n\n[keys]\ndir = {keys:?}\n\n\
             [audit]\noutput = \"file\"\npath = {audit:?}\n",
            url = redis.url,
            keys = path_str(&keys_dir()),
            audit = path_str(&audit),
        ),
    );
    let config = path_str(&config);
    let out = cli(&["--config", &config, "report", "dormant", "--days", "180"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let day = Day::of_unix(now - 200 * 86_400);
    assert_eq!(
        rows(&stdout(&out)),
        [format!("{DUNG},Nguyễn Văn Dũng,Văn phòng UBND thành phố,personal,{day},200,inactive")]
    );

    let out = cli(&["--config", &config, "report", "dormant", "--never-seen-since", "2026-01-01"]).await;
    assert_eq!(rows(&stdout(&out)).len(), 8, "dungnv and the 7 never seen; not huongtt: {}", stdout(&out));

    let out = cli(&["--config", &config, "accounts", "reactivate", "--account", "dungnv", "--operator", "lan"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(rows(&stdout(&cli(&["--config", &config, "report", "dormant"]).await)).is_empty());
    let trail = std::fs::read_to_string(&audit).unwrap();
    assert!(trail.contains(r#""operator":"cli:lan""#) && trail.contains(r#""reason":"reactivate_account""#), "{trail}");
}
