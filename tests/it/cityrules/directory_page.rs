//! The public directory page `/danh-ba`: search with and without diacritics, unit mailboxes only unless
//! configured, public (no cookie, the usual security headers), and a list cached so the directory is asked
//! once per refresh period (against a real slapd, with the clock moved past the period).

use danang_sso::config::DirectoryKind;

use super::super::directory_suite::{demo_slapd, ldap_config};
use crate::app::{TestApp, http, test_config};

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn get(app: &TestApp, query: &str) -> Page {
    let response = http().get(format!("{}/danh-ba{query}", app.url)).send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    Page { status, headers, body: response.text().await.unwrap() }
}

/// The mailboxes a page lists, in order.
fn listed(page: &Page) -> Vec<String> {
    page.body.split("<a href=\"mailto:").skip(1).map(|rest| rest.split('"').next().unwrap().to_owned()).collect()
}

const SKHDT: &str = "skhdt@danang.gov.vn";

#[tokio::test]
async fn the_search_finds_units_with_and_without_diacritics() {
    let app = TestApp::start().await;
    let all = get(&app, "").await;
    assert_eq!(all.status, 200);
    assert_eq!(listed(&all), [SKHDT, "stttt@danang.gov.vn", "vpubnd@danang.gov.vn"], "units only, by name");
    assert!(all.body.contains("<th scope=\"row\">Sở Kế hoạch và Đầu tư</th>"));
    assert!(all.body.contains("<td>UBND thành phố Đà Nẵng</td>"), "a top-level unit's parent");
    assert!(!all.body.contains("dungnv@"), "personal mailboxes are not listed by default");
    assert!(all.body.contains(r#"<html lang="vi">"#) && all.body.contains(r#"<form method="get" action="/danh-ba""#));

    for query in ["?q=ke+hoach", "?q=K%E1%BA%BF+ho%E1%BA%A1ch", "?q=K%E1%BA%BE%20HO%E1%BA%A0CH", "?q=dau%20tu"] {
        let page = get(&app, query).await;
        assert_eq!(listed(&page), [SKHDT], "{query}");
    }
    // "Kế hoạch" typed decomposed (NFD: e + U+0302 + U+0301, a + U+0323).
    assert_eq!(listed(&get(&app, "?q=Ke%CC%82%CC%81+hoa%CC%A3ch").await), [SKHDT]);
    let kept = get(&app, "?q=k%E1%BA%BF+ho%E1%BA%A1ch").await;
    assert!(kept.body.contains(r#"value="kế hoạch""#), "the box keeps what was typed");
    let none = get(&app, "?q=y+t%E1%BA%BF").await;
    assert!(listed(&none).is_empty() && none.body.contains("Không tìm thấy"));

    // Public: no cookie; the same security headers as every page.
    assert!(all.headers.get("set-cookie").is_none());
    assert!(all.headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    assert_eq!(all.headers["x-frame-options"], "DENY");
    assert_eq!(all.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn personal_mailboxes_are_listed_only_when_configured() {
    let mut config = test_config();
    config.directory_page.include_personal = true;
    let app = TestApp::start_with(config).await;
    let page = get(&app, "?q=dung").await;
    assert_eq!(listed(&page), ["dungnv1@danang.gov.vn", "dungnv@danang.gov.vn"], "no gmail.com namesake");
    assert!(page.body.contains("<td>Văn phòng UBND thành phố</td>"), "a person shows their unit");
    assert!(listed(&get(&app, "?q=khoa").await).is_empty(), "a locked account is not listed");
}

#[tokio::test]
async fn with_a_real_directory_the_page_is_off_unless_enabled_and_cached_when_on() {
    let slapd = demo_slapd();
    let mut config = test_config();
    config.directory.kind = DirectoryKind::Ldap;
    config.ldap = ldap_config(&slapd);
    let off = TestApp::start_with(config.clone()).await;
    assert_eq!(get(&off, "").await.status, 404);

    config.directory_page.enabled = Some(true);
    let app = TestApp::start_with(config).await;
    assert_eq!(listed(&get(&app, "").await).len(), 3);
    slapd.load_ldif(
        "dn: uid=ttxtdt,ou=people,dc=danang,dc=gov,dc=vn\nobjectClass: inetOrgPerson\nuid: ttxtdt\n\
         cn: Trung tâm Xúc tiến Đầu tư\nsn: Trung tâm Xúc tiến Đầu tư\nmail: ttxtdt@danang.gov.vn\n\
         ou: Sở Kế hoạch và Đầu tư\nemployeeType: unit\n",
    );
    assert_eq!(listed(&get(&app, "?q=xuc+tien").await).len(), 0, "served from memory, no search per request");
    app.clock.advance(301);
    let page = get(&app, "?q=xuc+tien").await;
    assert_eq!(listed(&page), ["ttxtdt@danang.gov.vn"], "read again after refresh_secs");
    assert!(page.body.contains("<td>Sở Kế hoạch và Đầu tư</td>"), "its parent is the unit its entry names");
    assert_eq!(listed(&get(&app, "?q=ke+hoach").await), [SKHDT, "ttxtdt@danang.gov.vn"], "found through its parent");
}
