//! The IT centre's console (`/quan-tri`) end to end, on a real listener: the sign-in form without a session, the
//! 403 page for someone not in `[console] groups`, the overview for `haltt`, an incident handled from the console
//! (dungnv's sessions ended: back-channel logout reaches the app, `prompt=none` answers `login_required`, the audit
//! line names haltt and her reason), the anti-forgery value required, and the reports' CSV equal to the CLI's;
//! the console's two-factor step-up and its "reset second factors" action (`mfa.rs`).

mod browser;
mod fixes;
mod mfa;
mod pages;

use crate::app::TestApp;
use crate::browser::{Browser, PASSWORD, Page};

/// A browser signed in to the console as `user` (through the console's own sign-in form), who then enrols an
/// authenticator app (the console needs two factors) and lands on the overview.
pub async fn staff_browser(app: &TestApp, user: &str) -> (Browser, Page) {
    let (browser, page, _) = staff_browser_with_secret(app, user).await;
    (browser, page)
}

/// [`staff_browser`], also returning the TOTP secret enrolled on the way.
pub async fn staff_browser_with_secret(app: &TestApp, user: &str) -> (Browser, Page, String) {
    let mut browser = Browser::new();
    let form = browser.get(&format!("{}/quan-tri", app.url)).await;
    assert!(form.is_login_form(), "{} {}", form.status, form.body);
    let signed_in = browser.sign_in(&app.url, &form, user, PASSWORD).await;
    assert_eq!((signed_in.status.as_u16(), signed_in.location.as_deref()), (303, Some("/quan-tri")));
    let step_up = browser.get(&format!("{}/quan-tri", app.url)).await;
    assert_eq!(step_up.status.as_u16(), 303, "{}", step_up.body);
    assert_eq!(step_up.location.as_deref(), Some("/tai-khoan/totp?continue=%2Fquan-tri"), "enrolment first");
    let (secret, _codes) = crate::mfa::enrol_totp(app, &mut browser).await;
    let page = browser.get(&format!("{}/quan-tri", app.url)).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    (browser, page, secret)
}

/// The value of the hidden field `name` of `page`'s forms.
pub fn hidden(page: &Page, name: &str) -> String {
    page.hidden_fields().into_iter().find(|(k, _)| k == name).map(|(_, v)| v).unwrap_or_default()
}
