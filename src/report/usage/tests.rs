//! The usage report's counting on a hand-written audit trail: what counts, what does not, the period's edges.

use super::*;
use crate::directory::ldif::LdifDirectory;

const TRAIL: &str = r#"{"time":"2026-02-28T16:59:59.999Z","instance":"a","event":"sign_in_success","account":"anhvn@danang.gov.vn","client":"portal"}
{"time":"2026-02-28T17:00:00.000Z","instance":"a","event":"sign_in_success","account":"dungnv@danang.gov.vn","client":"portal","sid":"s1"}
{"time":"2026-02-28T17:00:01.000Z","instance":"a","event":"token_issued","account":"dungnv@danang.gov.vn","client":"portal","grant_type":"authorization_code"}
{"time":"2026-03-01T03:00:00.000Z","instance":"a","event":"token_issued","account":"dungnv@danang.gov.vn","client":"vanban","grant_type":"authorization_code"}
{"time":"2026-03-01T03:00:05.000Z","instance":"a","event":"token_issued","account":"dungnv@danang.gov.vn","client":"vanban","grant_type":"refresh_token"}
{"time":"2026-03-01T03:10:00.000Z","instance":"a","event":"token_issued","client":"vanban-api","grant_type":"client_credentials"}
{"time":"2026-03-01T04:00:00.000Z","instance":"b","event":"sign_in_failure","account":"huongtt@danang.gov.vn","client":"tiepdan","reason":"wrong_password"}
{"time":"2026-03-01T04:00:09.000Z","instance":"b","event":"sign_in_success","account":"huongtt@danang.gov.vn","client":"tiepdan"}
{"time":"2026-03-01T04:00:10.000Z","instance":"b","event":"token_issued","account":"huongtt@danang.gov.vn","client":"tiepdan","grant_type":"authorization_code"}
{"time":"2026-03-02T01:00:00.000Z","instance":"b","event":"sign_in_success","account":"anhvn@danang.gov.vn","client":"tiepdan"}
{"time":"2026-03-02T01:00:01.000Z","instance":"b","event":"token_issued","account":"anhvn@danang.gov.vn","client":"tiepdan","grant_type":"authorization_code"}
{"time":"2026-03-02T02:00:00.000Z","instance":"b","event":"sign_in_success","account":"ghost@danang.gov.vn","client":"portal"}
{"time":"2026-03-31T16:59:59.000Z","instance":"b","event":"sign_in_success","account":"skhdt@danang.gov.vn","client":"portal"}
{"time":"2026-03-31T17:00:00.000Z","instance":"b","event":"sign_in_success","account":"skhdt@danang.gov.vn","client":"portal"}
{"time":"2026-03-02T05:00:00.000Z","instance":"b","event":"sign_in_success","acco
"#;

async fn report() -> UsageReport {
    let period = Period::parse("2026-03-01", "2026-03-31").unwrap();
    let mut activity = Activity::default();
    activity.read(TRAIL.as_bytes(), period).unwrap();
    let directory = LdifDirectory::parse(crate::config::DEMO_LDIF).unwrap();
    let users: Vec<User> =
        directory.list().await.unwrap().into_iter().filter(|u| u.mail.ends_with("@danang.gov.vn")).collect();
    let clients = Clients::new(&crate::config::Config::load(None).unwrap().clients).unwrap();
    summarize(&activity, &users, &clients, period)
}

fn row<'a>(rows: &'a [Row], name: &str) -> &'a Row {
    rows.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no row {name}: {rows:?}"))
}

fn counts(r: &Row) -> (u64, u64, usize, Option<usize>) {
    (r.sign_ins, r.app_entries, r.active_accounts, r.directory_accounts)
}

#[tokio::test]
async fn units_count_sign_ins_entries_and_distinct_accounts() {
    let r = report().await;
    assert_eq!(counts(row(&r.units, "Văn phòng UBND thành phố")), (1, 2, 1, Some(2)), "khoanm, locked, is not listed");
    assert_eq!(counts(row(&r.units, "Sở Kế hoạch và Đầu tư")), (3, 2, 3, Some(3)), "huongtt, anhvn, skhdt");
    assert_eq!(counts(row(&r.units, "Sở Tài chính")), (0, 0, 0, Some(1)), "unused units show too");
    assert_eq!(counts(row(&r.units, NOT_IN_DIRECTORY)), (1, 0, 1, Some(0)));
    assert_eq!(r.units.last().unwrap().name, NOT_IN_DIRECTORY, "the odd rows come last");
    assert_eq!(counts(&r.total), (5, 4, 5, Some(9)));
    assert_eq!(r.unreadable_lines, 1);
}

#[tokio::test]
async fn apps_count_who_asked_and_who_let_people_in() {
    let r = report().await;
    let portal = row(&r.apps, "Cổng thông tin điện tử");
    assert_eq!((portal.client_id.as_str(), counts(portal)), ("portal", (3, 1, 3, None)));
    assert_eq!(counts(row(&r.apps, "Quản lý văn bản điều hành")), (0, 1, 1, None), "single sign-on: no password");
    assert_eq!(counts(row(&r.apps, "Tiếp dân trực tuyến")), (2, 2, 2, None));
    assert!(r.apps.iter().all(|a| a.client_id != "vanban-api"), "a service client signs nobody in");
}

#[tokio::test]
async fn csv_and_html_carry_the_same_numbers() {
    let r = report().await;
    let csv = r.to_csv();
    assert!(csv.contains("unit,Sở Kế hoạch và Đầu tư,,3,2,3,3,2026-03-01,2026-03-31\r\n"), "{csv}");
    assert!(csv.contains("app,Tiếp dân trực tuyến,tiepdan,2,2,2,,2026-03-01,2026-03-31\r\n"), "{csv}");
    assert!(csv.ends_with("total,Tổng cộng,,5,4,5,9,2026-03-01,2026-03-31\r\n"), "{csv}");
    let html = r.to_html("https://sso.danang.gov.vn/static/report.css", 1_774_000_000);
    assert!(html.contains(r#"<html lang="vi">"#));
    assert!(html.contains(r#"<link rel="stylesheet" href="https://sso.danang.gov.vn/static/report.css">"#));
    assert!(html.contains("Từ ngày 01/03/2026 đến ngày 31/03/2026"));
    assert!(html.contains("<th scope=\"row\">Sở Kế hoạch và Đầu tư</th>"));
    assert!(!html.contains("style="), "no inline style: the CSP forbids it");
    assert!(html.contains("1 dòng nhật ký không đọc được"));
}

#[test]
fn a_period_must_be_two_dates_in_order() {
    assert!(Period::parse("2026-03-01", "2026-03-01").is_ok());
    assert!(Period::parse("2026-03-02", "2026-03-01").is_err());
    assert!(Period::parse("01/03/2026", "2026-03-31").is_err());
}
