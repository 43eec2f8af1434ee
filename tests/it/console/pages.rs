//! The console's pages and actions through HTTP, as a browser uses them.

use danang_sso::calendar::Day;
use openidconnect::OAuth2TokenResponse;

use super::{hidden, staff_browser};
use crate::app::{TestApp, http, keys_dir, test_config};
use crate::browser::Browser;
use crate::cityrules::{TempDir, cli, path_str, stderr, stdout};
use crate::listener::Listener;
use crate::rp::Rp;

#[tokio::test]
async fn without_a_session_the_sign_in_form_then_back_to_the_page_asked_for() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let form = browser.get(&format!("{}/quan-tri/bao-cao?kind=dormant", app.url)).await;
    assert!(form.is_login_form(), "{}", form.body);
    assert_eq!(form.form_action().as_deref(), Some("/quan-tri/dang-nhap"));
    assert_eq!(hidden(&form, "next"), "/quan-tri/bao-cao?kind=dormant");

    let wrong = browser.sign_in(&app.url, &form, "haltt", "sai-mat-khau").await;
    assert!(wrong.is_login_form() && wrong.body.contains("không đúng"), "{}", wrong.body);
    let done = browser.sign_in(&app.url, &form, "haltt", crate::browser::PASSWORD).await;
    assert_eq!((done.status.as_u16(), done.location.as_deref()), (303, Some("/quan-tri/bao-cao?kind=dormant")));

    // A `next` pointing elsewhere is not followed.
    let mut other = Browser::new();
    let form = other.get(&format!("{}/quan-tri", app.url)).await;
    let mut fields = form.hidden_fields();
    fields.iter_mut().filter(|(k, _)| k == "next").for_each(|(_, v)| *v = "https://evil.example/".into());
    fields.extend([("username".into(), "haltt".into()), ("password".into(), crate::browser::PASSWORD.into())]);
    let done = other.post_form(&format!("{}/quan-tri/dang-nhap", app.url), &fields).await;
    assert_eq!(done.location.as_deref(), Some("/quan-tri"));
}

#[tokio::test]
async fn someone_outside_the_console_groups_gets_the_403_page_and_haltt_the_overview() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let form = browser.get(&format!("{}/quan-tri", app.url)).await;
    browser.sign_in(&app.url, &form, "huongtt", crate::browser::PASSWORD).await;
    let refused = browser.get(&format!("{}/quan-tri", app.url)).await;
    assert_eq!(refused.status.as_u16(), 403);
    assert!(refused.body.contains("Không có quyền truy cập") && refused.body.contains(r#"lang="vi""#));
    assert!(refused.body.contains("huongtt@danang.gov.vn"));
    for path in ["/quan-tri/tai-khoan?mail=dungnv", "/quan-tri/bao-cao", "/quan-tri/nhat-ky", "/quan-tri/ung-dung"] {
        assert_eq!(browser.get(&format!("{}{path}", app.url)).await.status.as_u16(), 403, "{path}");
    }

    let (mut staff, _) = staff_browser(&app, "haltt").await;
    app.wait_for_audit(2, |l| l["event"] == "sign_in_success").await;
    let overview = staff.get(&format!("{}/quan-tri", app.url)).await;
    assert_eq!(overview.status.as_u16(), 200);
    assert!(overview.body.contains("<h1>Tổng quan</h1>"), "{}", overview.body);
    assert!(overview.body.contains("Lê Thị Thu Hà &lt;haltt@danang.gov.vn&gt;"));
    assert!(overview.body.contains(r#"<td id="live-sessions">2</td>"#), "huongtt's and haltt's sessions");
    assert!(overview.body.contains("<td>ok</td>"), "the readiness checks");
    let counted = "Bảng điều khiển quản trị</th><td>2</td><td>2</td>";
    assert!(overview.body.contains(counted), "huongtt's and haltt's sign-ins today: {}", overview.body);
    assert!(!overview.body.contains("<script"));
}

#[tokio::test]
async fn the_console_is_off_when_disabled() {
    let mut config = test_config();
    config.console.enabled = false;
    let app = TestApp::start_with(config).await;
    assert_eq!(http().get(format!("{}/quan-tri", app.url)).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn ending_dungnvs_sessions_from_the_console_signs_him_out_everywhere_under_haltts_name() {
    let mut listener = Listener::start().await;
    let mut config = test_config();
    let portal_bc = format!("{}/bc/portal", listener.url);
    config.clients.iter_mut().filter(|c| c.client_id == "portal").for_each(|c| {
        c.backchannel_logout_uri = Some(portal_bc.clone());
    });
    let app = TestApp::start_with(config).await;
    let mut dung = Browser::new();
    let portal = Rp::demo(&app.url, "portal").await;
    let (tokens, _) = portal.sign_in(&app.url, &mut dung, "dungnv", &["offline_access"]).await;

    let (mut staff, _) = staff_browser(&app, "haltt").await;
    let account = staff.get(&format!("{}/quan-tri/tai-khoan?q=nguyen+van+dung", app.url)).await;
    assert!(account.body.contains("?mail=dungnv%40danang.gov.vn"), "found without diacritics: {}", account.body);
    let account = staff.get(&format!("{}/quan-tri/tai-khoan?mail=dungnv%40danang.gov.vn", app.url)).await;
    assert!(account.body.contains("Phiên đăng nhập đang mở (1)"), "{}", account.body);
    assert!(account.body.contains("<td>127.0.0.1</td>") && account.body.contains("<td>pwd</td>"), "session details");
    assert!(account.body.contains("Văn phòng UBND thành phố") && account.body.contains("can-bo, lanh-dao"));

    let confirm =
        staff.get(&format!("{}/quan-tri/thao-tac?action=end_all&account=dungnv%40danang.gov.vn", app.url)).await;
    assert_eq!(confirm.status.as_u16(), 200);
    assert!(confirm.body.contains(r#"name="reason""#) && !hidden(&confirm, "csrf").is_empty());
    let url = format!("{}/quan-tri/thao-tac", app.url);
    let reason = "Tài khoản bị chiếm đoạt, phiếu hỗ trợ #4711";
    let mut fields = confirm.hidden_fields();
    fields.push(("reason".into(), reason.into()));

    // Without the anti-forgery value (another site posting the form): refused, nothing ends.
    let forged: Vec<(String, String)> = fields.iter().filter(|(k, _)| k != "csrf").cloned().collect();
    let refused = staff.post_form(&url, &forged).await;
    assert_eq!(refused.status.as_u16(), 403);
    assert!(refused.body.contains("Biểu mẫu đã hết hạn"));
    let mut wrong = fields.clone();
    wrong.iter_mut().filter(|(k, _)| k == "csrf").for_each(|(_, v)| *v = "x".repeat(43));
    assert_eq!(staff.post_form(&url, &wrong).await.status.as_u16(), 403);
    // Without a reason: asked again.
    let no_reason: Vec<(String, String)> =
        fields.iter().map(|(k, v)| (k.clone(), if k == "reason" { "  ".into() } else { v.clone() })).collect();
    let again = staff.post_form(&url, &no_reason).await;
    assert_eq!(again.status.as_u16(), 400);
    assert!(again.body.contains("Vui lòng ghi lý do"));
    let still = portal.start(&[], &[("prompt", "none")]);
    assert!(dung.get(&still.url).await.redirect_param("code").is_some(), "nothing ended yet");

    let done = staff.post_form(&url, &fields).await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.body);
    assert!(done.location.as_deref().unwrap().starts_with("/quan-tri/tai-khoan?mail=dungnv%40danang.gov.vn&done="));
    let shown = staff.get(&format!("{}{}", app.url, done.location.unwrap())).await;
    assert!(shown.body.contains("Đã kết thúc 1 phiên"), "{}", shown.body);

    let (client, _token) = listener.next().await;
    assert_eq!(client, "portal", "the app's back-channel logout endpoint was called");
    let pending = portal.start(&[], &[("prompt", "none")]);
    assert_eq!(dung.get(&pending.url).await.redirect_param("error").as_deref(), Some("login_required"));
    let refresh = portal.client.exchange_refresh_token(tokens.refresh_token().unwrap()).unwrap();
    assert!(refresh.request_async(&portal.http).await.is_err(), "his refresh token is revoked");

    let action = |l: &serde_json::Value| l["event"] == "operator_action" && l["reason"] == "revoke_account";
    let lines = app.wait_for_audit(1, action).await;
    let line = lines.iter().find(|l| action(l)).unwrap();
    assert_eq!(line["operator"], "haltt@danang.gov.vn");
    assert_eq!(line["note"], reason);
    assert_eq!(line["account"], "dungnv@danang.gov.vn");
    let revoked = lines.iter().find(|l| l["event"] == "session_revoked").expect("a session_revoked line");
    assert_eq!((&revoked["operator"], &revoked["note"]), (&line["operator"], &line["note"]));

    // The audit search finds it, newest first.
    let search =
        staff.get(&format!("{}/quan-tri/nhat-ky?account=dungnv%40danang.gov.vn&event=operator_action", app.url)).await;
    assert!(search.body.contains(&format!("revoke_account: {reason}")), "{}", search.body);
}

#[tokio::test]
async fn the_reports_csv_from_the_console_equals_the_clis() {
    let tmp = TempDir::new("console-reports");
    let audit = tmp.0.join("audit.jsonl");
    let toml = format!(
        "[audit]\noutput = \"file\"\npath = \"{}\"\n\n[keys]\ndir = \"{}\"\n",
        path_str(&audit),
        path_str(&keys_dir())
    );
    let config_path = tmp.write("config.toml", &toml);
    let config = danang_sso::config::Config::load(Some(&config_path)).unwrap();
    let app = TestApp::start_with(config).await;
    let portal = Rp::demo(&app.url, "portal").await;
    portal.sign_in(&app.url, &mut Browser::new(), "dungnv", &[]).await;
    portal.sign_in(&app.url, &mut Browser::new(), "huongtt", &[]).await;
    let (mut staff, _) = staff_browser(&app, "haltt").await;
    app.wait_for_audit(3, |l| l["event"] == "sign_in_success").await;
    app.wait_for_audit(2, |l| l["event"] == "token_issued").await;

    let today = Day::of_unix(app.clock.now()).to_string();
    let csv = staff.get(&format!("{}/quan-tri/bao-cao?kind=usage&from={today}&to={today}&format=csv", app.url)).await;
    assert_eq!(csv.status.as_u16(), 200);
    let out = cli(&["--config", &path_str(&config_path), "report", "usage", "--from", &today, "--to", &today]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(csv.body, stdout(&out), "the same CSV as the CLI");
    assert!(csv.body.contains("Cổng thông tin"), "{}", csv.body);

    let table = staff.get(&format!("{}/quan-tri/bao-cao?kind=usage&from={today}&to={today}", app.url)).await;
    assert!(
        table.body.contains(r#"id="usage-table""#) && table.body.contains("Tổng cộng</th><td>3</td>"),
        "{}",
        table.body
    );
    let dormant =
        staff.get(&format!("{}/quan-tri/bao-cao?kind=dormant&never_seen_since=2026-01-01&format=csv", app.url)).await;
    assert!(dormant.body.starts_with("\u{feff}mail,name,unit,kind,last_sign_in,days_since,status"), "{}", dormant.body);
    assert!(!dormant.body.contains("dungnv@danang.gov.vn,"), "dungnv signed in today");
}

#[tokio::test]
async fn new_staff_names_check_the_directory_and_the_annex_upload_answers_csv() {
    let app = TestApp::start().await;
    let (mut staff, _) = staff_browser(&app, "haltt").await;
    let url = format!("{}/quan-tri/can-bo-moi", app.url);
    let csrf = hidden(&staff.get(&url).await, "csrf");
    assert_eq!(csrf.len(), 43);
    let fields = [("name".to_owned(), "Nguyễn Văn Dũng".to_owned()), ("csrf".into(), csrf.clone())];
    let page = staff.post_form(&url, &fields).await;
    assert!(page.body.contains("dungnv2@danang.gov.vn (trùng tên dungnv@danang.gov.vn)"), "{}", page.body);
    let unit = staff.post_form(&url, &[("unit".into(), "Sở Tài chính".into()), ("csrf".into(), csrf.clone())]).await;
    assert!(unit.body.contains(r#"id="proposal">stc@danang.gov.vn<"#), "{}", unit.body);
    let forged = staff.post_form(&url, &[("name".into(), "Nguyễn Văn Dũng".into())]).await;
    assert_eq!(forged.status.as_u16(), 403);

    let annex = "Họ và tên,Đơn vị\r\nNguyễn Văn Dũng,Sở Y tế\r\nTrần Thị Hương,\r\n";
    let boundary = "----danang-sso-test";
    let part = |name: &str, value: &str| {
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    };
    let body = format!(
        "{}{}--{boundary}\r\nContent-Disposition: form-data; name=\"annex\"; filename=\"annex.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{annex}\r\n--{boundary}--\r\n",
        part("csrf", &csrf),
        part("format", "csv")
    );
    let response = http()
        .post(format!("{url}/csv"))
        .header("cookie", staff.cookie_header())
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "\u{feff}full_name,unit,mailbox,note\r\nNguyễn Văn Dũng,Sở Y tế,dungnv2@danang.gov.vn,trùng tên dungnv@danang.gov.vn\r\n\
         Trần Thị Hương,,huongtt1@danang.gov.vn,trùng tên huongtt@danang.gov.vn\r\n"
    );
}

#[tokio::test]
async fn the_apps_page_lists_clients_and_service_providers_read_only() {
    let app = TestApp::start().await;
    let (mut staff, _) = staff_browser(&app, "haltt").await;
    let page = staff.get(&format!("{}/quan-tri/ung-dung", app.url)).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.body.contains("<code>portal</code>") && page.body.contains("http://127.0.0.1:8081/callback"));
    assert!(page.body.contains("authorization_code, refresh_token"), "{}", page.body);
    assert!(page.body.contains(&format!("{}/saml/metadata", app.url)));
    assert!(!page.body.contains("<form method=\"post\""), "read only");
}
