//! `/tai-khoan` lists the apps signed into in the current SSO session — OIDC clients and SAML service providers
//! that took part in it, by display name, with when — and only those of this browser's session.

use crate::app::TestApp;
use crate::browser::{Browser, Page};
use crate::rp::Rp;
use crate::saml::{app_with, send};
use crate::saml_sp::{Sp, form_post};

/// The rows of the `#apps` table: (name, when).
pub fn apps(page: &Page) -> Vec<(String, String)> {
    let Some(table) = page.body.split("<table id=\"apps\">").nth(1) else { return Vec::new() };
    let body = table.split("</table>").next().unwrap().split("<tbody>").nth(1).unwrap();
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let cells: Vec<String> =
                row.split("<td>").skip(1).map(|c| c.split("</td>").next().unwrap().trim().to_owned()).collect();
            (cells[0].clone(), cells[1].clone())
        })
        .collect()
}

pub async fn account_page(app: &TestApp, browser: &mut Browser) -> Page {
    let page = browser.get(&format!("{}/tai-khoan", app.url)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

#[tokio::test]
async fn the_account_page_lists_the_apps_of_this_session() {
    let sp = Sp::new("hotich-apps");
    let app = app_with(&[(&sp, "Hộ tịch điện tử")], |_| {}).await;
    let mut browser = Browser::new();
    Rp::demo(&app.url, "portal").await.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let page = account_page(&app, &mut browser).await;
    let listed = apps(&page);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].0, "Cổng thông tin điện tử");
    assert!(listed[0].1.starts_with("20"), "a date and time: {listed:?}");

    // Single sign-on to a second OIDC app and to a SAML SP: both join the list; portal again stays one line.
    Rp::demo(&app.url, "vanban").await.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    Rp::demo(&app.url, "portal").await.sign_in(&app.url, &mut browser, "dungnv", &[]).await;
    let request = sp.authn(&[]);
    let answer = send(&app, &mut browser, &request).await;
    let (_, fields) = form_post(&answer);
    sp.response(request["id"].as_str().unwrap(), &fields).unwrap_or_else(|e| panic!("the SP refused it: {e}"));
    let mut names: Vec<String> = apps(&account_page(&app, &mut browser).await).into_iter().map(|(n, _)| n).collect();
    names.sort();
    assert_eq!(names, ["Cổng thông tin điện tử", "Hộ tịch điện tử", "Quản lý văn bản điều hành"]);

    // Another browser of the same account has its own session: nothing signed into there yet.
    let mut other = Browser::new();
    crate::mfa::sign_in_to_account(&app, &mut other, "dungnv").await;
    let page = account_page(&app, &mut other).await;
    assert!(apps(&page).is_empty());
    assert!(page.body.contains("Chưa đăng nhập vào ứng dụng nào trong phiên này."), "{}", page.body);
}
