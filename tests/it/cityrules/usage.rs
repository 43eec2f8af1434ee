//! The usage report's totals: several accounts sign in to several apps (with passwords and through single
//! sign-on), with a refresh, a service token and a wrong password mixed in; the admin API's CSV is compared
//! exactly, the printable page checked, and the real binary reading the same audit file gives the same bytes.

use danang_sso::calendar::Day;
use openidconnect::OAuth2TokenResponse;

use super::{TempDir, admin_get, cli, path_str, stderr, stdout, with_admin};
use crate::app::{TestApp, http, test_config};
use crate::browser::Browser;
use crate::rp::Rp;

/// What happened, counted by hand: sign-ins 5, app entries 8, active accounts 4.
async fn a_morning_at_the_city(app: &TestApp) {
    let (portal, vanban, tiepdan) =
        (Rp::demo(&app.url, "portal").await, Rp::demo(&app.url, "vanban").await, Rp::demo(&app.url, "tiepdan").await);
    // dungnv: one password sign-in (portal), then two more apps through single sign-on, and a refresh.
    let mut dung = Browser::new();
    let (tokens, _) = portal.sign_in(&app.url, &mut dung, "dungnv", &["offline_access"]).await;
    let refresh = portal.client.exchange_refresh_token(tokens.refresh_token().unwrap()).unwrap();
    refresh.request_async(&portal.http).await.expect("a refresh (not an app entry)");
    vanban.sign_in(&app.url, &mut dung, "dungnv", &[]).await;
    tiepdan.sign_in(&app.url, &mut dung, "dungnv", &[]).await;
    // huongtt: a password sign-in asked by tiepdan, then the portal through single sign-on.
    let mut huong = Browser::new();
    tiepdan.sign_in(&app.url, &mut huong, "huongtt", &[]).await;
    portal.sign_in(&app.url, &mut huong, "huongtt", &[]).await;
    // anhvn: the portal twice, from two browsers (two password sign-ins).
    portal.sign_in(&app.url, &mut Browser::new(), "anhvn", &[]).await;
    portal.sign_in(&app.url, &mut Browser::new(), "anhvn", &[]).await;
    // The unit mailbox of Sở Kế hoạch và Đầu tư, into document management.
    vanban.sign_in(&app.url, &mut Browser::new(), "skhdt", &[]).await;
    // Not counted: a wrong password, a service token.
    let mut stranger = Browser::new();
    let form = stranger.get(&portal.start(&[], &[]).url).await;
    assert_eq!(stranger.sign_in(&app.url, &form, "haltt", "sai-mat-khau").await.status, 200);
    let service = http()
        .post(format!("{}/token", app.url))
        .basic_auth("vanban-api", Some("vanban-api-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "vanban.read")])
        .send()
        .await
        .unwrap();
    assert_eq!(service.status(), 200);
    app.wait_for_audit(10, |l| l["event"] == "token_issued").await;
    app.wait_for_audit(5, |l| l["event"] == "sign_in_success").await;
}

fn expected(from: Day, to: Day) -> String {
    let rows = [
        "section,name,client_id,sign_ins,app_entries,active_accounts,directory_accounts,from,to",
        "unit,Sở Kế hoạch và Đầu tư,,4,5,3,3,F,T",
        "unit,Sở Tài chính,,0,0,0,1,F,T",
        "unit,Sở Thông tin và Truyền thông,,0,0,0,3,F,T",
        "unit,Văn phòng UBND thành phố,,1,3,1,2,F,T",
        "app,Cổng thông tin điện tử,portal,3,4,3,,F,T",
        "app,Một cửa điện tử,mot-cua,0,0,0,,F,T",
        "app,Quản lý văn bản điều hành,vanban,1,2,2,,F,T",
        "app,Tiếp dân trực tuyến,tiepdan,1,2,2,,F,T",
        "app,Ứng dụng thử,spa,0,0,0,,F,T",
        "total,Tổng cộng,,5,8,4,9,F,T",
    ];
    let text: String = rows.iter().map(|r| format!("{r}\r\n")).collect();
    format!("\u{feff}{}", text.replace(",F,T", &format!(",{from},{to}")))
}

#[tokio::test]
async fn the_usage_report_counts_exactly_what_happened() {
    let (config, admin) = with_admin(test_config());
    let app = TestApp::start_with(config).await;
    a_morning_at_the_city(&app).await;
    // The audit trail is stamped with the real time; a period around today holds the whole test.
    let today = Day::of_unix(app.clock.now());
    let (from, to) = (Day(today.0 - 1), Day(today.0 + 1));

    let csv = admin_get(&format!("{admin}/reports/usage?from={from}&to={to}")).await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(csv.body, expected(from, to));

    let later = (Day(today.0 + 2), Day(today.0 + 3));
    let empty = admin_get(&format!("{admin}/reports/usage?from={}&to={}", later.0, later.1)).await;
    assert!(empty.body.ends_with(&format!("total,Tổng cộng,,0,0,0,9,{},{}\r\n", later.0, later.1)), "{}", empty.body);

    let html = admin_get(&format!("{admin}/reports/usage?from={from}&to={to}&format=html")).await;
    assert_eq!(html.status, 200);
    assert_eq!(html.headers["content-type"], "text/html; charset=utf-8");
    let csp = html.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains(&format!("style-src {}", app.url)) && !csp.contains("unsafe-inline"), "{csp}");
    let page = html.body.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(page.contains(r#"<html lang="vi">"#));
    assert!(page.contains(&format!(r#"<link rel="stylesheet" href="{}/static/report.css">"#, app.url)));
    assert!(page.contains(&format!("Từ ngày {} đến ngày {}", from.vi(), to.vi())));
    let khdt = r#"<th scope="row">Sở Kế hoạch và Đầu tư</th> <td class="n">3</td> <td class="n">3</td><td class="n">4</td><td class="n">5</td>"#;
    assert!(page.contains(khdt), "{page}");
    let portal = r#"<th scope="row">Cổng thông tin điện tử</th><td><code>portal</code></td> <td class="n">3</td><td class="n">3</td><td class="n">4</td>"#;
    assert!(page.contains(portal), "{page}");
    assert!(page.contains(r#"<td class="n">4</td><td class="n">5</td><td class="n">8</td></tr> </tfoot>"#), "{page}");
    assert!(!page.contains("style="));
    let css = http().get(format!("{}/static/report.css", app.url)).send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains("@media print"));

    assert_eq!(admin_get(&format!("{admin}/reports/usage?from={to}&to={from}")).await.status, 400);
    assert_eq!(admin_get(&format!("{admin}/reports/usage?from={from}&to={to}&format=pdf")).await.status, 400);

    // The binary, reading the same audit file with the same directory and apps, writes the same bytes.
    let tmp = TempDir::new("usage-cli");
    let clients = concat!(env!("CARGO_MANIFEST_DIR"), "/config/clients.toml");
    let audit = path_str(app.audit_path.as_ref().unwrap());
    let config = tmp.write(
        "config.toml",
        &format!(
            "clients_file = {clients:?}\n\n[audit]\noutput = \"file\"\npath = {audit:?}\n\n[[clients]]\n\
             client_id = \"spa\"\nname = \"Ứng dụng thử\"\npublic = true\nredirect_uris = [\"http://127.0.0.1:9/spa/callback\"]\n"
        ),
    );
    let config = path_str(&config);
    let (from, to) = (from.to_string(), to.to_string());
    let out = cli(&["--config", &config, "report", "usage", "--from", &from, "--to", &to]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), csv.body);
    let out = cli(&["--config", &config, "report", "usage", "--from", &from, "--to", &to, "--format", "html"]).await;
    assert!(stdout(&out).contains("http://127.0.0.1:8080/static/report.css"), "the configured issuer's stylesheet");

    let out = cli(&["report", "usage", "--from", &from, "--to", &to]).await;
    assert_eq!(out.status.code(), Some(2), "audit to stdout: nothing to read");
    assert!(stderr(&out).contains("audit trail file"), "{}", stderr(&out));
}
