//! The console and second factors: a staff session made with the password alone goes through the step-up before
//! any console page (enrolment when there is no factor yet, else the second-factor form, then back to the page
//! asked for); and the "reset second factors" action, confirmed with a reason, makes the account enrol again.

use super::{hidden, staff_browser, staff_browser_with_secret};
use crate::app::TestApp;
use crate::browser::{Browser, PASSWORD};
use crate::mfa::{
    config_requiring_mfa_for_vanban, enrol_totp, follow, next_code, post_otp, sign_in_to_account, vanban,
};

#[tokio::test]
async fn haltt_with_the_password_alone_enrols_a_second_factor_before_the_overview() {
    let app = TestApp::start().await;
    let mut browser = Browser::new();
    let form = browser.get(&format!("{}/quan-tri/nhat-ky?event=mfa_enrolled", app.url)).await;
    assert!(form.is_login_form(), "{}", form.body);
    let signed_in = browser.sign_in(&app.url, &form, "haltt", PASSWORD).await;
    assert_eq!(signed_in.location.as_deref(), Some("/quan-tri/nhat-ky?event=mfa_enrolled"));

    // The password alone shows no console page: every one sends to the enrolment first.
    for path in ["/quan-tri", "/quan-tri/tai-khoan?mail=dungnv", "/quan-tri/nhat-ky?event=mfa_enrolled"] {
        let page = browser.get(&format!("{}{path}", app.url)).await;
        assert_eq!(page.status.as_u16(), 303, "{path}: {}", page.body);
        assert!(page.location.as_deref().unwrap().starts_with("/tai-khoan/totp?continue=%2Fquan-tri"), "{path}");
        assert!(!page.body.contains("Tổng quan"));
    }
    let posted =
        browser.post_form(&format!("{}/quan-tri/thao-tac", app.url), &[("action".into(), "end_all".into())]).await;
    assert_eq!(posted.status.as_u16(), 303, "no action either: {}", posted.body);

    // Enrolment with a code computed here, then the codes page leads back to the page asked for.
    let asked = browser.get(&format!("{}/quan-tri/nhat-ky?event=mfa_enrolled", app.url)).await;
    let enrol = follow(&app, &mut browser, &asked).await;
    assert_eq!(enrol.status.as_u16(), 200);
    let secret = crate::mfa::element_text(&enrol, "totp-secret");
    let mut fields = enrol.hidden_fields();
    fields.push(("otp".into(), danang_sso::mfa::totp::code_at(&secret, app.clock.now()).unwrap()));
    let codes = browser.post_form(&format!("{}/tai-khoan/totp", app.url), &fields).await;
    assert_eq!(codes.status.as_u16(), 200, "{}", codes.body);
    assert!(codes.body.contains(r#"href="/quan-tri/nhat-ky?event=mfa_enrolled" id="continue""#), "{}", codes.body);
    let overview = browser.get(&format!("{}/quan-tri", app.url)).await;
    assert_eq!(overview.status.as_u16(), 200);
    assert!(overview.body.contains("<h1>Tổng quan</h1>"), "{}", overview.body);
    assert!(!overview.body.contains("chưa có xác thực hai yếu tố"));

    // Another browser, password alone again: now the second-factor form (no enrolment, no password), then back.
    let mut other = Browser::new();
    let form = other.get(&format!("{}/quan-tri/tai-khoan", app.url)).await;
    other.sign_in(&app.url, &form, "haltt", PASSWORD).await;
    let step_up = other.get(&format!("{}/quan-tri/tai-khoan", app.url)).await;
    assert_eq!(step_up.location.as_deref(), Some("/mfa?continue=%2Fquan-tri%2Ftai-khoan"));
    let otp_form = follow(&app, &mut other, &step_up).await;
    assert!(otp_form.body.contains(r#"name="otp""#) && !otp_form.body.contains(r#"name="password""#));
    let wrong = post_otp(&app, &mut other, &otp_form, "000000").await;
    assert_eq!(wrong.status.as_u16(), 200, "a wrong code: the form again");
    assert_eq!(other.get(&format!("{}/quan-tri/tai-khoan", app.url)).await.status.as_u16(), 303);
    let passed = post_otp(&app, &mut other, &otp_form, &next_code(&app, &secret, 1)).await;
    assert_eq!((passed.status.as_u16(), passed.location.as_deref()), (303, Some("/quan-tri/tai-khoan")));
    let page = other.get(&format!("{}/quan-tri/tai-khoan", app.url)).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.body.contains("<h1>Tài khoản</h1>"));

    // Someone outside the console groups still gets the 403 page, not an enrolment.
    let mut outsider = Browser::new();
    let form = outsider.get(&format!("{}/quan-tri", app.url)).await;
    outsider.sign_in(&app.url, &form, "huongtt", PASSWORD).await;
    assert_eq!(outsider.get(&format!("{}/quan-tri", app.url)).await.status.as_u16(), 403);
}

#[tokio::test]
async fn resetting_second_factors_from_the_console_makes_the_next_sign_in_enrol_again() {
    let app = TestApp::start_with(config_requiring_mfa_for_vanban()).await;
    let mut dung = Browser::new();
    sign_in_to_account(&app, &mut dung, "dungnv").await;
    let (dung_secret, _) = enrol_totp(&app, &mut dung).await;

    let (mut staff, _) = staff_browser(&app, "haltt").await;
    let account = staff.get(&format!("{}/quan-tri/tai-khoan?mail=dungnv%40danang.gov.vn", app.url)).await;
    assert_eq!(account.status.as_u16(), 200);
    assert!(account.body.contains(r#"<td id="mfa-totp">đã đăng ký từ "#), "{}", account.body);
    assert!(account.body.contains(r#"<td id="mfa-recovery">10</td>"#), "{}", account.body);
    assert!(!account.body.contains(&dung_secret), "never the secret");
    assert!(account.body.contains(r#"id="reset-mfa""#));

    let confirm =
        staff.get(&format!("{}/quan-tri/thao-tac?action=reset_mfa&account=dungnv%40danang.gov.vn", app.url)).await;
    assert_eq!(confirm.status.as_u16(), 200);
    assert!(confirm.body.contains("Đặt lại xác thực hai yếu tố") && confirm.body.contains(r#"name="reason""#));
    let url = format!("{}/quan-tri/thao-tac", app.url);
    let reason = "Mất điện thoại, phiếu hỗ trợ #5120";
    let mut fields = confirm.hidden_fields();
    fields.push(("reason".into(), reason.into()));

    // Without the anti-forgery value: 403, nothing reset.
    let forged: Vec<(String, String)> = fields.iter().filter(|(k, _)| k != "csrf").cloned().collect();
    let refused = staff.post_form(&url, &forged).await;
    assert_eq!(refused.status.as_u16(), 403);
    assert!(refused.body.contains("Biểu mẫu đã hết hạn"));
    let still = staff.get(&format!("{}/quan-tri/tai-khoan?mail=dungnv%40danang.gov.vn", app.url)).await;
    assert!(still.body.contains(r#"<td id="mfa-recovery">10</td>"#), "nothing reset yet");
    // Without a reason: asked again.
    let no_reason: Vec<(String, String)> =
        fields.iter().map(|(k, v)| (k.clone(), if k == "reason" { " ".into() } else { v.clone() })).collect();
    assert_eq!(staff.post_form(&url, &no_reason).await.status.as_u16(), 400);
    assert!(!hidden(&confirm, "csrf").is_empty());

    let done = staff.post_form(&url, &fields).await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.body);
    let shown = staff.get(&format!("{}{}", app.url, done.location.unwrap())).await;
    assert!(shown.body.contains("Đã đặt lại xác thực hai yếu tố của dungnv@danang.gov.vn"), "{}", shown.body);
    assert!(shown.body.contains(r#"<td id="mfa-totp">chưa đăng ký</td>"#), "{}", shown.body);
    assert!(shown.body.contains(r#"<td id="mfa-recovery">0</td>"#));

    let line = app
        .wait_for_audit(1, |l| l["event"] == "mfa_reset")
        .await
        .into_iter()
        .find(|l| l["event"] == "mfa_reset")
        .expect("audited");
    assert_eq!(line["account"], "dungnv@danang.gov.vn");
    assert_eq!(line["operator"], "haltt@danang.gov.vn");
    assert_eq!(line["note"], reason);

    // dungnv's next sign-in to an app that needs two factors enrols again.
    let mut fresh = Browser::new();
    let pending = vanban(&app).await.start(&[], &[]);
    let form = fresh.get(&pending.url).await;
    let after = fresh.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    assert!(after.location.as_deref().unwrap().starts_with("/tai-khoan/totp?"), "enrols again: {:?}", after.location);
}

#[tokio::test]
async fn the_staff_members_own_session_carries_two_factors() {
    let app = TestApp::start().await;
    let (mut staff, overview, secret) = staff_browser_with_secret(&app, "haltt").await;
    assert!(overview.body.contains("<h1>Tổng quan</h1>"));
    let own = staff.get(&format!("{}/quan-tri/tai-khoan?mail=haltt%40danang.gov.vn", app.url)).await;
    assert!(own.body.contains("<td>pwd, otp, mfa</td>"), "{}", own.body);
    assert!(!own.body.contains(&secret), "never the secret");
}
